//! Faulting a block's pages in ahead of its use, on a core that would otherwise wait.
//!
//! The kernel zeroes a fresh page when it is first written, in the thread that writes it. On the virtual
//! machines this project is measured on (the host takes freed pages back, virtio-balloon free page
//! reporting) that costs a fault into the hypervisor as well: profiled on a 20M-object HPROF dump, 55% of
//! the single-threaded dominator DFS was the kernel zeroing the 400 MB of arrays it fills as it goes,
//! while the second core sat idle. Handing those pages to the second core first takes that off the
//! search's path.

/// The pages under a block of memory, to be faulted in from another thread.
#[derive(Clone, Copy, Debug)]
pub struct BlockPages {
    start: usize,
    len: usize,
}

impl BlockPages {
    /// The pages under `values`' whole allocation, its spare capacity included.
    pub fn of<T>(values: &Vec<T>) -> BlockPages {
        BlockPages {
            start: values.as_ptr() as usize,
            len: values.capacity() * std::mem::size_of::<T>(),
        }
    }

    /// Makes every page of the block present and writable, as a write to each would, without writing
    /// (`MADV_POPULATE_WRITE`): the contents stay as they are, so the block's owner may use it meanwhile.
    /// The owner must keep the block allocated until this returns. Does nothing where the kernel
    /// cannot (Linux before 5.14, other systems): the pages then fault in where they are first written.
    pub fn fault_in(self) {
        #[cfg(target_os = "linux")]
        {
            const PAGE: usize = 4096;
            let start = self.start.next_multiple_of(PAGE);
            let end = (self.start + self.len) / PAGE * PAGE;
            if start < end {
                // SAFETY: the range lies in an allocation its owner keeps alive; populating changes no
                // byte of it, only which of its pages the kernel has mapped.
                unsafe {
                    libc::madvise(
                        start as *mut libc::c_void,
                        end - start,
                        libc::MADV_POPULATE_WRITE,
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pages of a block nothing has written are in memory afterwards, and what was written stays.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_blocks_pages_are_in_memory_with_their_contents() {
        const PAGE: usize = 4096;
        // Over glibc's highest mmap threshold (32 MiB), so mapped on its own: the pages no one wrote are
        // not in memory yet.
        let mut values: Vec<u8> = Vec::with_capacity(40 << 20);
        values.extend(std::iter::repeat_n(7, PAGE + 1));
        let resident = |values: &Vec<u8>| {
            let start = (values.as_ptr() as usize + (1 << 20)).next_multiple_of(PAGE);
            let pages = 32;
            let mut flags = vec![0u8; pages];
            let ok = unsafe {
                libc::mincore(start as *mut libc::c_void, pages * PAGE, flags.as_mut_ptr())
            };
            assert_eq!(ok, 0);
            flags.iter().filter(|&&f| f & 1 != 0).count()
        };
        assert_eq!(resident(&values), 0);
        BlockPages::of(&values).fault_in();
        assert_eq!(resident(&values), 32);
        assert!(values.iter().all(|&v| v == 7));
        assert_eq!(values.len(), PAGE + 1);
    }
}
