//! One bit per node (or per dominator-tree vertex, or per string of a dump's table), for the flags
//! whole-heap passes keep about every object: a byte per flag would cost 20 MB on a 20M-object heap at
//! the analyses' peak, the bits 2.5 MB.

use crate::NodeId;
use rayon::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};

/// A set of nodes of a graph (or of vertices numbered like them), one bit each.
pub struct NodeBits(Vec<u64>);

impl NodeBits {
    /// The empty set, for a graph of `node_count` nodes.
    pub fn new(node_count: usize) -> NodeBits {
        NodeBits(vec![0; node_count.div_ceil(64)])
    }

    pub fn insert(&mut self, node: NodeId) {
        self.0[node as usize / 64] |= 1 << (node % 64);
    }

    #[inline]
    pub fn contains(&self, node: NodeId) -> bool {
        self.0[node as usize / 64] & (1 << (node % 64)) != 0
    }

    /// The bits 64 at a time: word `w` holds nodes `64 w ..`, the lowest in its lowest bit.
    pub fn words(&self) -> &[u64] {
        &self.0
    }

    /// The set of the nodes `0..node_count` for which `member` holds, asked on every core.
    pub fn from_fn(node_count: usize, member: impl Fn(NodeId) -> bool + Sync) -> NodeBits {
        NodeBits(
            (0..node_count.div_ceil(64))
                .into_par_iter()
                .map(|w| {
                    let first = w * 64;
                    (first..node_count.min(first + 64)).fold(0, |word, node| {
                        word | (member(node as NodeId) as u64) << (node - first)
                    })
                })
                .collect(),
        )
    }
}

/// A [`NodeBits`] that many threads fill at once.
pub struct SharedNodeBits(Vec<AtomicU64>);

impl SharedNodeBits {
    pub fn new(node_count: usize) -> SharedNodeBits {
        SharedNodeBits(
            (0..node_count.div_ceil(64))
                .map(|_| AtomicU64::new(0))
                .collect(),
        )
    }

    /// Adds `node`. The word is read first: a node millions of edges point at (a type, an interned
    /// string) then stays shared in every core's cache instead of bouncing between them.
    #[inline]
    pub fn insert(&self, node: NodeId) {
        let word = &self.0[node as usize / 64];
        let bit = 1 << (node % 64);
        if word.load(Ordering::Relaxed) & bit == 0 {
            word.fetch_or(bit, Ordering::Relaxed);
        }
    }

    pub fn into_bits(self) -> NodeBits {
        NodeBits(self.0.into_iter().map(AtomicU64::into_inner).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_exactly_the_nodes_put_in() {
        let mut bits = NodeBits::new(130);
        for node in [0, 63, 64, 129] {
            bits.insert(node);
        }
        let members: Vec<NodeId> = (0..130).filter(|&n| bits.contains(n)).collect();
        assert_eq!(members, vec![0, 63, 64, 129]);

        let shared = SharedNodeBits::new(1000);
        (0..1000u32)
            .into_par_iter()
            .filter(|n| n % 7 == 3)
            .for_each(|n| shared.insert(n));
        let bits = shared.into_bits();
        assert!((0..1000u32).all(|n| bits.contains(n) == (n % 7 == 3)));

        let bits = NodeBits::from_fn(130, |n| n % 5 == 1 || n == 129);
        assert!((0..130u32).all(|n| bits.contains(n) == (n % 5 == 1 || n == 129)));
        assert_eq!(bits.words().len(), 3);
    }
}
