//! Address-to-node lookup over the sorted address array, without a hash table.
//!
//! Loading a dump resolves every edge's target address to a node id: tens of millions of lookups, which
//! dominate the load of a big dump. A plain binary search over 160 MB of addresses misses the cache at
//! every step. Instead a directory of address buckets narrows each search to the few objects of one bucket:
//!
//! - Dense, when the addresses span a range not much larger than their count (a JVM heap is one
//!   contiguous reservation; V8 node ids are small integers): one slot per bucket, so finding the bucket is
//!   one array read, and buckets are small enough (about two objects each) that the search within is one
//!   cache line. This halves pass 2 of a 20M-object HPROF dump.
//! - Sparse, when they do not (CPython objects sit in arenas spread over the whole address space): one
//!   entry per non-empty 64 KiB bucket, found by binary search over a directory small enough for the cache.

use crate::column::Column;
use crate::NodeId;

/// Log2 of the sparse directory's bucket size: 64 KiB of address space per bucket.
const SPARSE_SHIFT: u32 = 16;

/// The dense directory may hold this many slots per address (4 bytes each): a bounded cost for the speed.
const DENSE_SLOTS_PER_ADDRESS: u64 = 1;

#[derive(Debug, Clone)]
pub struct AddressIndex {
    directory: Directory,
}

/// An address index's directory, as an index file keeps it.
#[derive(Debug, Clone)]
pub enum Directory {
    /// `starts[k]` is the index of the first address at or above `base + (k << shift)`; one more slot
    /// than buckets, so bucket `k` is `starts[k]..starts[k + 1]`.
    Dense {
        base: u64,
        shift: u32,
        starts: Column<u32>,
    },
    /// One entry per non-empty bucket: its key (address >> 16) and the index of its first address, both
    /// ascending.
    Sparse {
        keys: Column<u64>,
        starts: Column<u32>,
    },
}

impl Default for AddressIndex {
    fn default() -> AddressIndex {
        AddressIndex::new(&[])
    }
}

impl AddressIndex {
    /// Builds the directory for `addresses`, which must be strictly ascending.
    pub fn new(addresses: &[u64]) -> AddressIndex {
        let directory = match dense_shift(addresses) {
            Some(shift) => dense(addresses, shift),
            None => sparse(addresses),
        };
        AddressIndex { directory }
    }

    /// An index whose directory was built earlier (by [`AddressIndex::directory`]). A directory that does not
    /// belong to the addresses it is used with finds wrong nodes or none, but never reads out of bounds.
    pub fn from_directory(directory: Directory) -> AddressIndex {
        AddressIndex { directory }
    }

    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    /// The node whose address is `addr`, if any. `addresses` must be the array the index was built from.
    #[inline]
    pub fn find(&self, addresses: &[u64], addr: u64) -> Option<NodeId> {
        let (start, end) = match &self.directory {
            Directory::Dense {
                base,
                shift,
                starts,
            } => {
                let key = usize::try_from(addr.checked_sub(*base)?.checked_shr(*shift)?).ok()?;
                (*starts.get(key)?, *starts.get(key + 1)? as usize)
            }
            Directory::Sparse { keys, starts } => {
                let key = addr >> SPARSE_SHIFT;
                let slot = keys.partition_point(|&k| k < key);
                if keys.get(slot) != Some(&key) {
                    return None;
                }
                let end = starts
                    .get(slot + 1)
                    .map_or(addresses.len(), |&s| s as usize);
                (*starts.get(slot)?, end)
            }
        };
        let bucket = addresses.get(start as usize..end)?;
        bucket
            .binary_search(&addr)
            .ok()
            .map(|i| start + i as NodeId)
    }

    pub fn heap_bytes(&self) -> usize {
        match &self.directory {
            Directory::Dense { starts, .. } => starts.heap_bytes(),
            Directory::Sparse { keys, starts } => keys.heap_bytes() + starts.heap_bytes(),
        }
    }
}

/// The smallest bucket size (as a shift, up to the sparse one's) whose dense directory stays within
/// budget, or `None` if even 64 KiB buckets would take too many slots.
fn dense_shift(addresses: &[u64]) -> Option<u32> {
    let (&first, &last) = (addresses.first()?, addresses.last()?);
    let span = last - first;
    let budget = (addresses.len() as u64).saturating_mul(DENSE_SLOTS_PER_ADDRESS);
    (0..=SPARSE_SHIFT).find(|&shift| (span >> shift) < budget)
}

fn dense(addresses: &[u64], shift: u32) -> Directory {
    let base = addresses[0];
    let buckets = ((addresses[addresses.len() - 1] - base) >> shift) as usize + 1;
    let mut starts = Vec::with_capacity(buckets + 1);
    for (i, &addr) in addresses.iter().enumerate() {
        let key = ((addr - base) >> shift) as usize;
        starts.resize(starts.len().max(key + 1), i as u32);
    }
    starts.resize(buckets + 1, addresses.len() as u32);
    Directory::Dense {
        base,
        shift,
        starts: starts.into(),
    }
}

fn sparse(addresses: &[u64]) -> Directory {
    let (mut keys, mut starts) = (Vec::new(), Vec::new());
    for (i, &addr) in addresses.iter().enumerate() {
        let key = addr >> SPARSE_SHIFT;
        if keys.last() != Some(&key) {
            keys.push(key);
            starts.push(i as u32);
        }
    }
    keys.shrink_to_fit();
    starts.shrink_to_fit();
    Directory::Sparse {
        keys: keys.into(),
        starts: starts.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_address_and_nothing_else() {
        let mut addrs: Vec<u64> = (0..5000u64)
            .map(|i| 0x7f00_0000_0000 + i * i * 48 + (i % 7) * 16)
            .collect();
        addrs.sort_unstable();
        addrs.dedup();
        let index = AddressIndex::new(&addrs);
        for (i, &a) in addrs.iter().enumerate() {
            assert_eq!(index.find(&addrs, a), Some(i as NodeId));
            if addrs.binary_search(&(a + 8)).is_err() {
                assert_eq!(index.find(&addrs, a + 8), None);
            }
        }
        assert_eq!(index.find(&addrs, 0), None);
        assert_eq!(index.find(&addrs, u64::MAX), None);
        assert_eq!(AddressIndex::new(&[]).find(&[], 5), None);
    }

    /// Both directory kinds, on addresses packed like a JVM heap and spread like CPython arenas.
    #[test]
    fn dense_and_sparse_directories_agree_with_binary_search() {
        let packed: Vec<u64> = (0..20_000u64)
            .map(|i| 0x6_0000_0000 + i * 24 + (i % 3) * 8)
            .collect();
        let spread: Vec<u64> = (0..20_000u64)
            .map(|i| 0x5500_0000_0000 + (i % 50) * 0x10_0000_0000 + i * 48)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        for (addrs, dense) in [(&packed, true), (&spread, false)] {
            let index = AddressIndex::new(addrs);
            assert_eq!(matches!(index.directory, Directory::Dense { .. }), dense);
            let probes = addrs.iter().flat_map(|&a| [a, a + 1, a.wrapping_sub(8)]);
            for a in probes.chain([0, u64::MAX, addrs[0] - 1, addrs[addrs.len() - 1] + 1]) {
                let expected = addrs.binary_search(&a).ok().map(|i| i as NodeId);
                assert_eq!(index.find(addrs, a), expected, "{a:#x}");
            }
        }
        let one = [42u64];
        assert_eq!(AddressIndex::new(&one).find(&one, 42), Some(0));
        assert_eq!(AddressIndex::new(&one).find(&one, 43), None);
    }
}
