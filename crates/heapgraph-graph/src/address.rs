//! Address-to-node lookup over the sorted address array, without a hash table.
//!
//! Loading a dump resolves every edge's target address to a node id: tens of millions of lookups. A plain
//! binary search over 80 MB of addresses misses the cache at every step; instead a small directory of
//! 64 KiB address buckets (which stays in cache) narrows each search to the few objects of one bucket.

use crate::NodeId;

/// Log2 of the bucket size: 64 KiB of address space per bucket.
const BUCKET_SHIFT: u32 = 16;

#[derive(Debug, Default, Clone)]
pub struct AddressIndex {
    /// One entry per non-empty bucket: (bucket key, index of its first address), ascending.
    directory: Vec<(u64, u32)>,
}

impl AddressIndex {
    /// Builds the directory for `addresses`, which must be strictly ascending.
    pub fn new(addresses: &[u64]) -> AddressIndex {
        let mut directory = Vec::new();
        let mut last_key = None;
        for (i, &addr) in addresses.iter().enumerate() {
            let key = addr >> BUCKET_SHIFT;
            if last_key != Some(key) {
                directory.push((key, i as u32));
                last_key = Some(key);
            }
        }
        directory.shrink_to_fit();
        AddressIndex { directory }
    }

    /// The node whose address is `addr`, if any. `addresses` must be the array the index was built from.
    #[inline]
    pub fn find(&self, addresses: &[u64], addr: u64) -> Option<NodeId> {
        let key = addr >> BUCKET_SHIFT;
        let slot = self.directory.partition_point(|&(k, _)| k < key);
        let &(k, start) = self.directory.get(slot)?;
        if k != key {
            return None;
        }
        let end = self
            .directory
            .get(slot + 1)
            .map_or(addresses.len(), |&(_, s)| s as usize);
        let bucket = &addresses[start as usize..end];
        bucket
            .binary_search(&addr)
            .ok()
            .map(|i| start + i as NodeId)
    }

    pub fn heap_bytes(&self) -> usize {
        self.directory.capacity() * std::mem::size_of::<(u64, u32)>()
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
}
