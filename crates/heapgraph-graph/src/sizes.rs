//! Shallow sizes in 2 bytes per object, or none for an object whose size is its type's.
//!
//! Almost every object is smaller than 64 KiB; the rare bigger one (a big `bytes`, a large array or hash
//! table) is kept in a side table, so that the common case costs a quarter of a `u64` array (41 MB less
//! than 4-byte slots on a 20M-object heap). And most objects are the size of every other object of
//! their type (an instance of a Java class, a Python object without a `__dict__` of its own): the graph
//! keeps that size once per type ([`NodeSizes`]), and 2 bytes only for the others (a quarter of the
//! objects of a 20M-object Java heap: 31 MB of sizes fewer for 5 MB of bits, 26 MB less in all).

use crate::by_type::{remove_marked, SharedByType, SharedValues};
use crate::narrow::{NarrowValues, NarrowWriter, Slot};
use crate::types::NodeTypes;
use crate::NodeId;
use std::ops::Range;

/// Every node's shallow size, in 2 bytes each but for the rare oversized one.
pub type ShallowSizes = NarrowValues<u16>;

/// Every node's size written from many threads in any order, each node's once: what a reader that
/// decodes objects in parallel fills. [`NarrowWriter::finish`] gives the [`ShallowSizes`].
pub type SizesWriter = NarrowWriter<u16>;

/// The graph's shallow sizes: per type a size most of its objects have, and a [`ShallowSizes`] of the
/// other objects' sizes, numbered by their rank among them.
pub(crate) struct NodeSizes {
    shared: SharedByType,
    varied: ShallowSizes,
}

impl NodeSizes {
    /// Sizes as a format gave them, one per node (checked by the graph).
    pub(crate) fn new(mut sizes: ShallowSizes, types: &NodeTypes, type_count: usize) -> NodeSizes {
        let shared = SharedByType::new(types, type_count, |node| {
            let slot = sizes.small[node];
            (slot != u16::BIG).then_some(slot as u32)
        });
        remove_marked(sizes.small.to_mut(), &shared, |node| node);
        // An oversized slot is never its type's, so its node keeps an entry: renumber it.
        sizes.big = sizes
            .big
            .into_iter()
            .map(|(node, size)| (node - shared.rank(node as usize).0 as NodeId, size))
            .collect();
        NodeSizes {
            shared,
            varied: sizes,
        }
    }

    /// Sizes as [`NodeSizes::saved`] gave them (an index file's): there must be a stored size for every
    /// node whose bit is not set.
    pub(crate) fn from_saved(
        varied: ShallowSizes,
        saved: SharedValues,
        types: &NodeTypes,
        type_count: usize,
    ) -> Result<NodeSizes, String> {
        let shared = SharedByType::from_saved(saved, types, type_count)?;
        if varied.len() + shared.count() != types.len() {
            return Err(format!(
                "{} stored shallow sizes and {} of their type's for {} nodes",
                varied.len(),
                shared.count(),
                types.len()
            ));
        }
        Ok(NodeSizes { shared, varied })
    }

    /// The sizes stored, and what an index file keeps beside them.
    pub(crate) fn saved(&self) -> (&ShallowSizes, SharedValues) {
        (&self.varied, self.shared.saved())
    }

    #[inline]
    pub(crate) fn get(&self, node: NodeId, types: &NodeTypes) -> u64 {
        match self.shared.rank(node as usize) {
            (_, true) => self.shared.of_type(types.get(node)) as u64,
            (rank, false) => self.varied.get(node as usize - rank),
        }
    }

    /// Calls `f(node, size)` for the nodes `nodes`, in order, reading the bits and stored sizes as it
    /// goes instead of ranking each node.
    #[inline]
    pub(crate) fn for_each(
        &self,
        nodes: Range<usize>,
        types: &NodeTypes,
        mut f: impl FnMut(NodeId, u64),
    ) {
        let Some(first) = nodes.clone().next() else {
            return;
        };
        let mut at = first - self.shared.rank(first).0;
        for node in nodes {
            let node = node as NodeId;
            if self.shared.is_set(node as usize) {
                f(node, self.shared.of_type(types.get(node)) as u64);
            } else {
                f(node, self.varied.get(at));
                at += 1;
            }
        }
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.shared.heap_bytes() + self.varied.heap_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_sizes_survive() {
        let sizes: ShallowSizes = [56, 10 << 32, u16::MAX as u64, u16::MAX as u64 - 1]
            .into_iter()
            .collect();
        let written = SizesWriter::new(4);
        for (node, size) in [(3, u16::MAX as u64 - 1), (1, 10 << 32), (0, 56)] {
            written.set(node, size);
        }
        written.set(2, u16::MAX as u64);
        let written = written.finish();
        for s in [&sizes, &written] {
            assert_eq!(s.get(0), 56);
            assert_eq!(s.get(1), 10 << 32);
            assert_eq!(s.get(2), u16::MAX as u64);
            assert_eq!(s.get(3), u16::MAX as u64 - 1);
            assert_eq!(s.big_entries(), [(1, 10 << 32), (2, u16::MAX as u64)]);
        }
    }

    /// Sizes kept once per type read back node by node and by a sweep from any node, oversized ones
    /// included, and so does a saved copy; a saved copy with a size too few is refused.
    #[test]
    fn sizes_shared_by_type_read_back() {
        let nodes = 1000usize;
        // Type `n % 3`; type 0 always 16 bytes, type 1 mostly 24, type 2 (arrays) all different, some
        // oversized.
        let size = |n: usize| match n % 3 {
            0 => 16,
            1 if n % 7 != 0 => 24,
            _ if n % 11 == 0 => 70_000 + n as u64,
            _ => 32 + n as u64,
        };
        let types = NodeTypes::new((0..nodes as u32).map(|n| n % 3).collect(), 3);
        let all = (0..nodes).map(size).collect();
        let sizes = NodeSizes::new(all, &types, 3);
        assert!(sizes.varied.len() < nodes / 2, "shared sizes left out");
        let reads_back = |s: &NodeSizes| {
            assert!((0..nodes).all(|n| s.get(n as NodeId, &types) == size(n)));
            for start in [0, 1, 500, 999] {
                let mut swept = Vec::new();
                s.for_each(start..nodes, &types, |n, z| swept.push((n as usize, z)));
                assert!(swept.into_iter().eq((start..nodes).map(|n| (n, size(n)))));
            }
        };
        reads_back(&sizes);
        let (varied, shared) = sizes.saved();
        let reopened = NodeSizes::from_saved(varied.clone(), shared, &types, 3).unwrap();
        reads_back(&reopened);
        let (varied, shared) = sizes.saved();
        let mut short = varied.dense().to_vec();
        short.pop();
        let short = ShallowSizes::from_saved(short.into(), varied.big_entries());
        assert!(NodeSizes::from_saved(short, shared, &types, 3).is_err());
    }
}
