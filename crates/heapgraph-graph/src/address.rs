//! Node addresses in 2 bytes each, and the address-to-node lookup, without a hash table.
//!
//! Addresses are ascending by node id, so they are kept as a directory of address buckets plus each
//! node's offset within its bucket (16 bits): 2 bytes per object instead of 8, 122 MB less on a
//! 20M-object Java heap. The same directory finds a node by address, which loading a dump does tens of
//! millions of times (every reference's target): a plain binary search over all addresses would miss the
//! cache at every step, the directory narrows each search to the few objects of one bucket:
//!
//! - Dense, when the addresses span a range not much larger than their count (a JVM heap is one
//!   contiguous reservation; V8 node ids are small integers): one slot per bucket, so finding the bucket is
//!   one array read, and buckets are small enough (a few objects each) that the search within is one
//!   cache line. This halved pass 2 of a 20M-object HPROF dump.
//! - Sparse, when they do not (CPython objects sit in arenas spread over the whole address space): one
//!   entry per non-empty 64 KiB bucket, found by binary search over a directory small enough for the cache.
//!
//! A node's address is its bucket's start plus its offset; finding the bucket of a node is a binary search
//! over the directory, which reports (a few hundred addresses) do not notice, and [`Addresses::iter_from`]
//! decodes a run of nodes without one.

use crate::column::Column;
use crate::graph::GraphError;
use crate::NodeId;
use rayon::prelude::*;

/// Log2 of the sparse directory's bucket size: 64 KiB of address space per bucket. Also the largest
/// dense bucket, so that every offset within a bucket fits the 16 bits kept per node.
const SPARSE_SHIFT: u32 = 16;

/// The dense directory may hold one slot (4 bytes) per this many addresses: a bounded cost for the speed.
/// A bucket then holds a few objects, whose 2-byte offsets share one cache line.
const ADDRESSES_PER_DENSE_SLOT: u64 = 4;

/// Every node's address, ascending, as a bucket directory and 16-bit offsets (see the module docs).
#[derive(Debug, Clone)]
pub struct Addresses {
    directory: Directory,
    /// Node -> its address's offset within its bucket.
    low: Column<u16>,
}

/// An address directory, as an index file keeps it.
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
    /// strictly ascending.
    Sparse {
        keys: Column<u64>,
        starts: Column<u32>,
    },
}

impl Default for Addresses {
    fn default() -> Addresses {
        Addresses::new(&[]).expect("no addresses are in order")
    }
}

impl Addresses {
    /// Packs `addresses`, which must be strictly ascending.
    pub fn new(addresses: &[u64]) -> Result<Addresses, GraphError> {
        Addresses::from_fn(addresses.len(), |i| addresses[i])
    }

    /// Packs the `len` addresses `address(0)`, `address(1)`, ..., which must be strictly ascending: a
    /// reader packs its objects' addresses from where they lie, without a list of them (163 MB on a
    /// 20M-object heap).
    ///
    /// Each address is read once, in order, and checked as it is packed: a reader's addresses can be
    /// slow to read (through a merge of sorted lists, or a permutation).
    pub fn from_fn(len: usize, address: impl Fn(usize) -> u64) -> Result<Addresses, GraphError> {
        let (directory, low) = match dense_shift(len, &address) {
            Some(shift) => dense(len, &address, shift),
            None => sparse(len, &address),
        }
        .ok_or_else(|| GraphError::Order("addresses are not strictly ascending".into()))?;
        Ok(Addresses {
            directory,
            low: low.into(),
        })
    }

    /// Addresses as [`Addresses::saved`] gave them (an index file's), checked so that no lookup can
    /// index out of bounds and every address comes out strictly ascending.
    pub fn from_saved(directory: Directory, low: Column<u16>) -> Result<Addresses, String> {
        let n = low.len();
        let bad = |what: &str| Err(format!("its address directory {what}"));
        let (starts, shift) = match &directory {
            Directory::Dense {
                base,
                shift,
                starts,
            } => {
                let buckets = starts.len().saturating_sub(1) as u64;
                if *shift > SPARSE_SHIFT
                    || starts.first() != Some(&0)
                    || starts.last().map(|&s| s as usize) != Some(n)
                    || buckets
                        .checked_shl(*shift)
                        .and_then(|span| base.checked_add(span))
                        .is_none()
                {
                    return bad("does not cover its nodes");
                }
                (&starts[..], *shift)
            }
            Directory::Sparse { keys, starts } => {
                if keys.len() != starts.len()
                    || (n > 0 && starts.first() != Some(&0))
                    || starts.last().is_some_and(|&s| s as usize >= n)
                    || keys.windows(2).any(|w| w[0] >= w[1])
                    || keys.last().is_some_and(|&k| k > u64::MAX >> SPARSE_SHIFT)
                {
                    return bad("does not cover its nodes");
                }
                (&starts[..], SPARSE_SHIFT)
            }
        };
        if starts.windows(2).any(|w| w[0] > w[1]) {
            return bad("is not ascending");
        }
        let addresses = Addresses { directory, low };
        let in_order = (0..addresses.bucket_count())
            .into_par_iter()
            .with_min_len(1 << 10)
            .all(|k| {
                let bucket = &addresses.low[addresses.bucket(k)];
                bucket.windows(2).all(|w| w[0] < w[1])
                    && bucket.last().is_none_or(|&l| (l as u64) < 1 << shift)
            });
        if !in_order {
            return bad("holds addresses out of order");
        }
        Ok(addresses)
    }

    /// The directory and the per-node offsets, for an index file to keep.
    pub fn saved(&self) -> (&Directory, &Column<u16>) {
        (&self.directory, &self.low)
    }

    pub fn len(&self) -> usize {
        self.low.len()
    }

    pub fn is_empty(&self) -> bool {
        self.low.is_empty()
    }

    /// The address of `node`.
    pub fn get(&self, node: NodeId) -> u64 {
        let k = self.bucket_of(node as usize);
        self.bucket_start(k) + self.low[node as usize] as u64
    }

    /// The addresses of nodes `first..`, in order: one directory search, then a walk.
    pub fn iter_from(&self, first: usize) -> impl Iterator<Item = u64> + '_ {
        let mut k = if first < self.len() {
            self.bucket_of(first)
        } else {
            0
        };
        (first..self.len()).map(move |i| {
            while self.bucket(k).end <= i {
                k += 1;
            }
            self.bucket_start(k) + self.low[i] as u64
        })
    }

    /// The node whose address is `addr`, if the dump has one.
    #[inline]
    pub fn find(&self, addr: u64) -> Option<NodeId> {
        let (k, offset) = match &self.directory {
            Directory::Dense { base, shift, .. } => {
                let delta = addr.checked_sub(*base)?;
                let k = usize::try_from(delta >> shift).ok()?;
                if k >= self.bucket_count() {
                    return None;
                }
                (k, delta & ((1 << shift) - 1))
            }
            Directory::Sparse { keys, .. } => {
                let key = addr >> SPARSE_SHIFT;
                let k = keys.partition_point(|&x| x < key);
                if keys.get(k) != Some(&key) {
                    return None;
                }
                (k, addr & ((1 << SPARSE_SHIFT) - 1))
            }
        };
        let bucket = self.bucket(k);
        let start = bucket.start;
        self.low[bucket]
            .binary_search(&(offset as u16))
            .ok()
            .map(|i| (start + i) as NodeId)
    }

    pub fn heap_bytes(&self) -> usize {
        self.low.heap_bytes()
            + match &self.directory {
                Directory::Dense { starts, .. } => starts.heap_bytes(),
                Directory::Sparse { keys, starts } => keys.heap_bytes() + starts.heap_bytes(),
            }
    }

    fn bucket_count(&self) -> usize {
        match &self.directory {
            Directory::Dense { starts, .. } => starts.len().saturating_sub(1),
            Directory::Sparse { starts, .. } => starts.len(),
        }
    }

    /// The nodes of bucket `k` (which must exist).
    fn bucket(&self, k: usize) -> std::ops::Range<usize> {
        match &self.directory {
            Directory::Dense { starts, .. } => starts[k] as usize..starts[k + 1] as usize,
            Directory::Sparse { starts, .. } => {
                starts[k] as usize..starts.get(k + 1).map_or(self.len(), |&s| s as usize)
            }
        }
    }

    /// The lowest address of bucket `k`.
    fn bucket_start(&self, k: usize) -> u64 {
        match &self.directory {
            Directory::Dense { base, shift, .. } => base + ((k as u64) << shift),
            Directory::Sparse { keys, .. } => keys[k] << SPARSE_SHIFT,
        }
    }

    /// The bucket holding `node` (< len): the last one starting at or before it.
    fn bucket_of(&self, node: usize) -> usize {
        let starts = match &self.directory {
            Directory::Dense { starts, .. } | Directory::Sparse { starts, .. } => starts,
        };
        starts.partition_point(|&s| s as usize <= node) - 1
    }
}

/// The smallest bucket size (as a shift, up to the sparse one's) whose dense directory stays within
/// budget, or `None` if even 64 KiB buckets would take too many slots.
fn dense_shift(len: usize, address: &impl Fn(usize) -> u64) -> Option<u32> {
    // Addresses out of order fail the packing that follows; the sparse one needs no span.
    let span = address(len.checked_sub(1)?).checked_sub(address(0))?;
    let budget = (len as u64 / ADDRESSES_PER_DENSE_SLOT).max(1);
    (0..=SPARSE_SHIFT).find(|&shift| (span >> shift) < budget)
}

/// The dense directory of `len` addresses whose first is the lowest and last the highest (see
/// [`dense_shift`]), or `None` if they are not strictly ascending.
fn dense(len: usize, address: &impl Fn(usize) -> u64, shift: u32) -> Option<(Directory, Vec<u16>)> {
    let (base, last) = (address(0), address(len - 1));
    let buckets = ((last - base) >> shift) as usize + 1;
    let mut starts = Vec::with_capacity(buckets + 1);
    let mask = (1u64 << shift) - 1;
    let mut low = Vec::with_capacity(len);
    let mut previous = None;
    for i in 0..len {
        let addr = address(i);
        // Past the last address or not above the one before: out of order (and a bucket past the end).
        if previous.is_some_and(|p| addr <= p) || addr > last {
            return None;
        }
        previous = Some(addr);
        let delta = addr - base;
        let key = (delta >> shift) as usize;
        starts.resize(starts.len().max(key + 1), i as u32);
        low.push((delta & mask) as u16);
    }
    starts.resize(buckets + 1, len as u32);
    let directory = Directory::Dense {
        base,
        shift,
        starts: starts.into(),
    };
    Some((directory, low))
}

/// The sparse directory of `len` addresses, or `None` if they are not strictly ascending.
fn sparse(len: usize, address: &impl Fn(usize) -> u64) -> Option<(Directory, Vec<u16>)> {
    let (mut keys, mut starts) = (Vec::new(), Vec::new());
    let mut low = Vec::with_capacity(len);
    let mut previous = None;
    for i in 0..len {
        let addr = address(i);
        if previous.is_some_and(|p| addr <= p) {
            return None;
        }
        previous = Some(addr);
        let key = addr >> SPARSE_SHIFT;
        if keys.last() != Some(&key) {
            keys.push(key);
            starts.push(i as u32);
        }
        low.push(addr as u16);
    }
    keys.shrink_to_fit();
    starts.shrink_to_fit();
    let directory = Directory::Sparse {
        keys: keys.into(),
        starts: starts.into(),
    };
    Some((directory, low))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every address comes back by node, by a walk from any node, and finds its node; nothing else is
    /// found.
    fn check(addrs: &[u64]) -> Addresses {
        let packed = Addresses::new(addrs).unwrap();
        assert_eq!(packed.len(), addrs.len());
        for (i, &a) in addrs.iter().enumerate() {
            assert_eq!(packed.get(i as NodeId), a);
            assert_eq!(packed.find(a), Some(i as NodeId), "{a:#x}");
        }
        for first in [
            0,
            addrs.len() / 3,
            addrs.len().saturating_sub(1),
            addrs.len(),
        ] {
            assert!(packed
                .iter_from(first)
                .eq(addrs[first.min(addrs.len())..].iter().copied()));
        }
        let probes = addrs
            .iter()
            .flat_map(|&a| [a.wrapping_add(1), a.wrapping_sub(8), a.wrapping_add(8)]);
        for a in probes.chain([0, 1, u64::MAX]) {
            let expected = addrs.binary_search(&a).ok().map(|i| i as NodeId);
            assert_eq!(packed.find(a), expected, "{a:#x}");
        }
        packed
    }

    /// Both directory kinds, on addresses packed like a JVM heap and spread like CPython arenas.
    #[test]
    fn dense_and_sparse_directories_give_back_every_address() {
        let packed: Vec<u64> = (0..20_000u64)
            .map(|i| 0x6_0000_0000 + i * 24 + (i % 3) * 8)
            .collect();
        let spread: Vec<u64> = (0..20_000u64)
            .map(|i| 0x5500_0000_0000 + (i % 50) * 0x10_0000_0000 + i * 48)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut squares: Vec<u64> = (0..5000u64)
            .map(|i| 0x7f00_0000_0000 + i * i * 48 + (i % 7) * 16)
            .collect();
        squares.sort_unstable();
        squares.dedup();
        for (addrs, dense) in [(&packed, true), (&spread, false)] {
            let index = check(addrs);
            assert_eq!(matches!(index.directory, Directory::Dense { .. }), dense);
        }
        check(&squares);
        check(&[42]);
        check(&[0, u64::MAX]);
        check(&[]);
        assert!(Addresses::new(&[5, 5]).is_err());
        assert!(Addresses::new(&[6, 5]).is_err());
        // Out of order inside, dense and sparse, and an address past the last one (a dense
        // directory would grow to its bucket).
        for bad in [
            &[1, 100, 50, 200][..],
            &[1, 1 << 60, 3],
            &[0, 1 << 40, 1 << 20, 1 << 50],
            &[1 << 40, 1 << 40],
        ] {
            assert!(Addresses::new(bad).is_err(), "{bad:?}");
        }
    }

    /// A saved directory comes back as it was; one that would read out of bounds or give addresses out of
    /// order is refused.
    #[test]
    fn saved_addresses_are_checked() {
        let addrs: Vec<u64> = (0..1000u64).map(|i| 0x1000 + i * 40).collect();
        let spread: Vec<u64> = (0..1000u64).map(|i| i << 20).collect();
        for addrs in [&addrs, &spread] {
            let packed = Addresses::new(addrs).unwrap();
            let (directory, low) = packed.saved();
            let back = Addresses::from_saved(directory.clone(), low.clone()).unwrap();
            assert!(back.iter_from(0).eq(addrs.iter().copied()));
            let short = low[..low.len() - 1].to_vec();
            assert!(Addresses::from_saved(directory.clone(), short.into()).is_err());
        }
        // Nodes 0 and 1 share the first 64-byte bucket: swapped, they are out of order.
        let packed = Addresses::new(&addrs).unwrap();
        let (directory, low) = packed.saved();
        let mut swapped = low.to_vec();
        swapped.swap(0, 1);
        assert!(Addresses::from_saved(directory.clone(), swapped.into()).is_err());
        let starts: Column<u32> = vec![0, 2, 1, 3].into();
        let forged = [
            Directory::Dense {
                base: 0,
                shift: 4,
                starts: starts.clone(),
            },
            Directory::Dense {
                base: u64::MAX - 8,
                shift: 4,
                starts: vec![0, 3].into(),
            },
            Directory::Dense {
                base: 0,
                shift: 17,
                starts: vec![0, 3].into(),
            },
            Directory::Sparse {
                keys: vec![1, 1].into(),
                starts: vec![0, 1].into(),
            },
            Directory::Sparse {
                keys: vec![].into(),
                starts: vec![].into(),
            },
        ];
        for directory in forged {
            let low: Column<u16> = vec![1, 2, 3].into();
            assert!(Addresses::from_saved(directory, low).is_err());
        }
    }
}
