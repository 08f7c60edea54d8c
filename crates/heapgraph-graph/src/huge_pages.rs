//! The process's allocator: the system's, with the big arrays on transparent huge pages.
//!
//! A load and its analyses make arrays of tens to hundreds of megabytes, phase after phase (a column per
//! object, an edge array, the dominator tree's working arrays), and the kernel maps each page of a fresh
//! array on first touch. With 4 KiB pages that is a page fault per 4 KiB written: on a 10M-object Python
//! dump 340,000 of them, a fifth of `top`'s CPU time. Linux backs a mapping with 2 MiB pages when asked
//! (`MADV_HUGEPAGE`) where transparent huge pages are enabled for `madvise` (Debian's and Ubuntu's
//! default; under `always` they already are, under `never` the request does nothing): 512 times fewer
//! faults.
//!
//! Only blocks of at least [`HUGE`] bytes are advised. glibc maps every block that big on its own (32
//! MiB is the highest its mmap threshold goes) and unmaps it on free, so the advice ends with the block;
//! smaller blocks come from arenas that outlive them, where a huge page half in use would stay resident.
//! A block's first and last partial 2 MiB stay on small pages.

use std::alloc::{GlobalAlloc, Layout, System};

/// Blocks this big or bigger go on huge pages.
pub const HUGE: usize = 32 << 20;

/// The system allocator, advising the kernel to back blocks of [`HUGE`] bytes or more with huge pages.
/// The `heapgraph` binary makes it the global allocator.
pub struct HugePageAlloc;

// SAFETY: every call is the system allocator's; the advice only changes how the kernel backs the
// block's pages, never their contents or the block's bounds.
unsafe impl GlobalAlloc for HugePageAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        advised(System.alloc(layout), layout.size())
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        advised(System.alloc_zeroed(layout), layout.size())
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        System.dealloc(block, layout)
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        advised(System.realloc(block, layout, new_size), new_size)
    }
}

/// Asks for huge pages under the whole 2 MiB pages of a block of `size` bytes at `block`, if it is big
/// enough; returns `block`. A refusal (an old kernel, huge pages compiled out) changes nothing.
fn advised(block: *mut u8, size: usize) -> *mut u8 {
    #[cfg(target_os = "linux")]
    if size >= HUGE && !block.is_null() {
        const PAGE: usize = 2 << 20;
        let start = (block as usize).next_multiple_of(PAGE);
        let end = (block as usize + size) / PAGE * PAGE;
        // SAFETY: the range lies inside the block just allocated, which nothing else uses yet;
        // MADV_HUGEPAGE keeps the contents of pages already there.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = size;
    block
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A big block lies in a mapping the kernel marks `hg` (huge pages advised), and what was written
    /// to it survives growing it.
    #[cfg(target_os = "linux")]
    #[test]
    fn big_blocks_are_advised_and_keep_their_contents() {
        let alloc = HugePageAlloc;
        let layout = Layout::from_size_align(HUGE + (4 << 20), 64).unwrap();
        unsafe {
            let block = alloc.alloc_zeroed(layout);
            assert!(!block.is_null());
            block.add(HUGE).write(7);
            assert!(advised_at(block as usize + (4 << 20)), "not advised");
            let grown = alloc.realloc(block, layout, 2 * HUGE);
            assert!(!grown.is_null());
            assert_eq!(grown.add(HUGE).read(), 7);
            assert!(
                advised_at(grown as usize + (4 << 20)),
                "not advised after growing"
            );
            alloc.dealloc(grown, Layout::from_size_align(2 * HUGE, 64).unwrap());
        }
        let small = Layout::from_size_align(1 << 20, 64).unwrap();
        unsafe {
            let block = alloc.alloc(small);
            assert!(!advised_at(block as usize), "a small block is advised");
            alloc.dealloc(block, small);
        }
    }

    /// Whether the mapping holding `address` has huge pages advised (`hg` in its `VmFlags`).
    #[cfg(target_os = "linux")]
    fn advised_at(address: usize) -> bool {
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let mut inside = false;
        for line in smaps.lines() {
            if let Some((range, _)) = line.split_once(' ') {
                if let Some((lo, hi)) = range.split_once('-') {
                    if let (Ok(lo), Ok(hi)) =
                        (usize::from_str_radix(lo, 16), usize::from_str_radix(hi, 16))
                    {
                        inside = (lo..hi).contains(&address);
                        continue;
                    }
                }
            }
            if inside {
                if let Some(flags) = line.strip_prefix("VmFlags:") {
                    return flags.split_whitespace().any(|f| f == "hg");
                }
            }
        }
        false
    }
}
