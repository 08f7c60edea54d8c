//! The targets of the forward CSR, with the reference that a type's objects share kept once per type.
//!
//! Every object of a Java heap starts its references with one to its class: 20.4M of the 46M references
//! of a 20M-object dump, 82 MB of targets that tell nothing the object's type does not. So each type
//! names a *shared first target* (the first reference of its first node that has any), one bit per node
//! says whether the node's first reference goes there, and those references are not stored.
//!
//! Edge positions do not change: weak bits, labels and the edge a path keeps still count every
//! reference. Only where a position's target is read from changes, and [`EdgeCursor`] hides that. The
//! stored target of a node's first kept reference comes after the references the nodes before it left
//! out: the rank of [`SharedByType`]'s bits.

use crate::by_type::{remove_marked, SharedByType, SharedValues};
use crate::column::Column;
use crate::edge_offsets::EdgeOffsets;
use crate::types::NodeTypes;
use crate::NodeId;
use std::ops::Range;

/// Marks "no shared first target" in a cursor.
const NONE: NodeId = NodeId::MAX;

/// Targets by edge position; see the module docs.
pub struct Targets {
    stored: Column<NodeId>,
    /// Per type its shared first target, and per node whether its first reference goes there.
    shared: SharedByType,
}

impl Targets {
    /// The targets of every position, as a format gave them (checked by the graph): the shared first
    /// references are taken out in place, so this needs no second array.
    pub(crate) fn new(
        mut all: Column<NodeId>,
        offsets: &EdgeOffsets,
        types: &NodeTypes,
        type_count: usize,
    ) -> Targets {
        let shared = SharedByType::new(types, type_count, |node| {
            let edges = offsets.range(node);
            (!edges.is_empty()).then(|| all[edges.start])
        });
        remove_marked(all.to_mut(), &shared, |node| offsets.get(node) as usize);
        Targets {
            stored: all,
            shared,
        }
    }

    /// Targets as [`Targets::saved`] gave them (an index file's), checked against the graph's offsets
    /// and types: the stored targets must be exactly the positions the bits do not take out, and every
    /// node whose bit is set must have references, and every shared target must be a node. (The stored
    /// targets themselves are checked by the graph.)
    pub(crate) fn from_saved(
        stored: Column<NodeId>,
        saved: SharedValues,
        offsets: &EdgeOffsets,
        types: &NodeTypes,
        type_count: usize,
    ) -> Result<Targets, String> {
        if saved
            .by_type
            .iter()
            .any(|&t| t != NONE && t as usize >= types.len())
        {
            return Err("a shared first target is a node that does not exist".into());
        }
        let shared = SharedByType::from_saved(saved, types, type_count)?;
        let bad = |node: usize| {
            offsets.range(node).is_empty() || shared.of_type(types.get(node as NodeId)) == NONE
        };
        if shared.any_marked(bad) {
            return Err(
                "a node without references, or of a type without a shared first target, has its \
                 first one left out"
                    .into(),
            );
        }
        let edges = offsets.get(types.len()) as usize;
        if stored.len() + shared.count() != edges {
            return Err(format!(
                "{} stored targets and {} shared ones for {edges} references",
                stored.len(),
                shared.count()
            ));
        }
        Ok(Targets { stored, shared })
    }

    /// The stored targets and what an index file keeps beside them.
    pub fn saved(&self) -> (&Column<NodeId>, SharedValues) {
        (&self.stored, self.shared.saved())
    }

    /// The targets that are stored: every position's but the shared first ones.
    pub(crate) fn stored(&self) -> &[NodeId] {
        &self.stored
    }

    /// A cursor over the references of `node`, whose positions are `range`.
    #[inline]
    pub(crate) fn cursor(
        &self,
        node: NodeId,
        range: Range<usize>,
        types: &NodeTypes,
    ) -> EdgeCursor {
        let (rank, elided) = self.shared.rank(node as usize);
        EdgeCursor {
            pos: range.start as u32,
            end: range.end as u32,
            shift: (rank + elided as usize) as u32,
            shared: if elided {
                self.shared.of_type(types.get(node))
            } else {
                NONE
            },
        }
    }

    /// Calls `f(node, position, target)` for every reference of the nodes `nodes`, in order. A walk
    /// over consecutive nodes reads the bits and stored targets as it goes instead of ranking each node.
    #[inline]
    pub(crate) fn for_each(
        &self,
        nodes: Range<usize>,
        offsets: &EdgeOffsets,
        types: &NodeTypes,
        mut f: impl FnMut(NodeId, usize, NodeId),
    ) {
        if nodes.is_empty() {
            return;
        }
        let (rank, _) = self.shared.rank(nodes.start);
        let mut start = offsets.get(nodes.start) as usize;
        let mut at = start - rank;
        for node in nodes {
            let end = offsets.get(node + 1) as usize;
            let mut pos = start;
            if self.shared.is_set(node) {
                f(
                    node as NodeId,
                    pos,
                    self.shared.of_type(types.get(node as NodeId)),
                );
                pos += 1;
            }
            let kept = end - pos;
            for (i, &t) in self.stored[at..at + kept].iter().enumerate() {
                f(node as NodeId, pos + i, t);
            }
            at += kept;
            start = end;
        }
    }

    /// Starts loading the first stored target of `node`, whose references start at position `first`:
    /// that is where a walk reads next once it reaches the node.
    #[inline]
    pub(crate) fn prefetch_first(&self, node: NodeId, first: usize) {
        let (rank, _) = self.shared.rank(node as usize);
        if let Some(t) = self.stored.get(first - rank) {
            crate::prefetch::prefetch(t);
        }
    }

    /// Starts loading the word of bits that holds `node`'s.
    #[inline]
    pub(crate) fn prefetch_bits(&self, node: NodeId) {
        self.shared.prefetch(node as usize);
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.stored.heap_bytes() + self.shared.heap_bytes()
    }
}

/// One node's references in order, as (position, target), in 16 bytes: what a depth-first walk keeps on
/// its stack for every node on the current path. [`EdgeCursor::next`] reads the stored targets it is
/// given ([`crate::RawGraph::stored_targets`]).
#[derive(Copy, Clone, Debug)]
pub struct EdgeCursor {
    pos: u32,
    end: u32,
    /// Stored index = position - `shift`, for every position after a shared first one.
    shift: u32,
    /// The shared first target, until the cursor has passed it; [`NONE`] otherwise.
    shared: NodeId,
}

impl EdgeCursor {
    /// The next reference, as (position, target).
    #[inline]
    pub fn next(&mut self, stored: &[NodeId]) -> Option<(usize, NodeId)> {
        if self.pos == self.end {
            return None;
        }
        let pos = self.pos;
        self.pos += 1;
        if self.shared != NONE {
            return Some((pos as usize, std::mem::replace(&mut self.shared, NONE)));
        }
        Some((pos as usize, stored[(pos - self.shift) as usize]))
    }

    /// References not yet passed.
    pub fn len(&self) -> usize {
        (self.end - self.pos) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.pos == self.end
    }
}

/// One node's references as an iterator of (position, target).
#[derive(Clone)]
pub struct NodeEdges<'a> {
    pub(crate) cursor: EdgeCursor,
    pub(crate) stored: &'a [NodeId],
}

impl Iterator for NodeEdges<'_> {
    type Item = (usize, NodeId);

    #[inline]
    fn next(&mut self) -> Option<(usize, NodeId)> {
        self.cursor.next(self.stored)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.cursor.len(), Some(self.cursor.len()))
    }
}

impl ExactSizeIterator for NodeEdges<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    /// A graph's worth of CSR: `nodes` nodes of 3 types whose first references mostly go to their
    /// type's node (0, 1 or 2), some not, some nodes without references; fixed-seed xorshift.
    fn csr(nodes: usize, seed: u64) -> (Vec<u32>, Vec<NodeId>, NodeTypes) {
        let mut x = seed | 1;
        let mut next = move |m: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % m
        };
        let (mut offsets, mut targets, mut types) = (vec![0u32], Vec::new(), Vec::new());
        for _ in 0..nodes {
            let ty = next(3) as u32;
            types.push(ty);
            let degree = next(5);
            for k in 0..degree {
                let shared = k == 0 && next(10) != 0;
                targets.push(if shared {
                    ty
                } else {
                    next(nodes as u64) as NodeId
                });
            }
            offsets.push(targets.len() as u32);
        }
        (offsets, targets, NodeTypes::new(types, 3))
    }

    /// Every node's references read back as stored, by cursor and by a walk over any run of nodes, and
    /// a saved copy reopens to the same.
    #[test]
    fn shared_first_targets_read_back() {
        for (nodes, seed) in [(0, 1), (1, 2), (64, 3), (1000, 4), (5000, 5)] {
            let (offsets, all, types) = csr(nodes, seed);
            let packed = EdgeOffsets::new(offsets.clone().into());
            let targets = Targets::new(all.clone().into(), &packed, &types, 3);
            let expect = |node: usize| {
                (offsets[node] as usize..offsets[node + 1] as usize).map(|p| (p, all[p]))
            };
            let reads_back = |t: &Targets| {
                (0..nodes).all(|n| {
                    let cursor = t.cursor(n as NodeId, packed.range(n), &types);
                    let stored = t.stored();
                    NodeEdges { cursor, stored }.eq(expect(n))
                })
            };
            assert!(reads_back(&targets));
            if nodes > 100 {
                assert!(
                    targets.stored().len() < all.len() * 9 / 10,
                    "shared ones left out"
                );
            }
            for start in [0, nodes / 3, nodes.saturating_sub(1)] {
                let mut walked = Vec::new();
                targets.for_each(start..nodes, &packed, &types, |n, p, t| {
                    walked.push((n, p, t))
                });
                let mut expected = Vec::new();
                for n in start..nodes {
                    expected.extend(expect(n).map(|(p, t)| (n as NodeId, p, t)));
                }
                assert_eq!(walked, expected, "walk from {start}");
            }
            let (stored, shared) = targets.saved();
            let reopened = Targets::from_saved(stored.clone(), shared, &packed, &types, 3).unwrap();
            assert!(reads_back(&reopened));
        }
    }

    /// Saved targets whose bits disagree with the references are refused, not read out of bounds.
    #[test]
    fn forged_shared_first_targets_are_refused() {
        let (offsets, all, types) = csr(1000, 7);
        let packed = EdgeOffsets::new(offsets.clone().into());
        let targets = Targets::new(all.into(), &packed, &types, 3);
        let without_edges = (0..1000).find(|&n| offsets[n] == offsets[n + 1]).unwrap();
        /// Changes the saved (bits, shared first targets, stored targets).
        type Forgery<'a> = dyn Fn(&mut Vec<u64>, &mut Vec<NodeId>, &mut Vec<NodeId>) + 'a;
        let forge = |edit: &Forgery<'_>| {
            let (stored, shared) = targets.saved();
            let (mut bits, mut by_type, mut stored) = (
                shared.bits.to_vec(),
                shared.by_type.to_vec(),
                stored.to_vec(),
            );
            edit(&mut bits, &mut by_type, &mut stored);
            let shared = SharedValues {
                by_type: by_type.into(),
                bits: bits.into(),
            };
            Targets::from_saved(stored.into(), shared, &packed, &types, 3).err()
        };
        assert_eq!(forge(&|_, _, _| {}), None);
        let cases: [&Forgery<'_>; 6] = [
            &|_, by_type, _| by_type[0] = NodeId::MAX,
            &|bits, _, _| bits[without_edges / 64] |= 1 << (without_edges % 64),
            &|bits, _, _| *bits.last_mut().unwrap() |= 1 << 63,
            &|_, _, stored| stored.truncate(stored.len() - 1),
            &|_, by_type, _| by_type[1] = 5000,
            &|bits, _, _| bits.truncate(bits.len() - 1),
        ];
        for (i, case) in cases.iter().enumerate() {
            assert!(forge(case).is_some(), "forgery {i} accepted");
        }
    }
}
