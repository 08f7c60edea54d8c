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
//! out, so the bits carry a rank (a count per 64 nodes, then a popcount): 0.19 bytes per node.

use crate::column::Column;
use crate::edge_offsets::EdgeOffsets;
use crate::types::NodeTypes;
use crate::NodeId;
use rayon::prelude::*;
use std::ops::Range;
use std::sync::atomic::{AtomicU32, Ordering};

/// Marks "no shared first target" in the per-type table and in a cursor.
const NONE: NodeId = NodeId::MAX;

/// Targets by edge position; see the module docs.
pub struct Targets {
    stored: Column<NodeId>,
    shared: SharedFirst,
}

/// Which nodes' first reference is their type's shared one, and where the others' references are stored.
struct SharedFirst {
    /// Per type, its shared first target, or [`NONE`].
    by_type: Column<NodeId>,
    /// Per 64 nodes, their bits and rank, side by side: a walk that finds a node's references reads
    /// both, so they share a cache line.
    words: Vec<RankedWord>,
}

/// 64 nodes' bits (set when the node's first reference is its type's shared one, and is not stored),
/// with the bits set in the words before.
#[derive(Copy, Clone)]
#[repr(C, align(16))]
struct RankedWord {
    bits: u64,
    before: u32,
}

/// What an index file keeps of the shared first targets beside the stored ones.
pub struct SharedFirstTargets {
    /// Per type, its shared first target, or [`NodeId::MAX`].
    pub by_type: Column<NodeId>,
    /// One bit per node: its first reference is its type's shared one, and is not stored.
    pub bits: Column<u64>,
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
        let nodes = types.len();
        let by_type = first_targets(&all, offsets, types, type_count);
        let bits: Vec<u64> = (0..nodes.div_ceil(64))
            .into_par_iter()
            .map(|w| {
                (w * 64..(w * 64 + 64).min(nodes)).fold(0u64, |word, node| {
                    let edges = offsets.range(node);
                    let shared = by_type[types.get(node as NodeId) as usize];
                    let elided = !edges.is_empty() && all[edges.start] == shared;
                    word | (elided as u64) << (node % 64)
                })
            })
            .collect();
        let targets = all.to_mut();
        let mut kept = 0;
        let mut from = 0;
        for node in set_bits(&bits) {
            let first = offsets.get(node) as usize;
            for p in from..first {
                targets[kept] = targets[p];
                kept += 1;
            }
            from = first + 1;
        }
        let len = targets.len();
        targets.copy_within(from..len, kept);
        targets.truncate(kept + len - from);
        targets.shrink_to_fit();
        let shared = SharedFirst::new(by_type.into(), &bits);
        Targets {
            stored: all,
            shared,
        }
    }

    /// Targets as [`Targets::saved`] gave them (an index file's), checked against the graph's offsets
    /// and types: the stored targets must be exactly the positions the bits do not take out, and every
    /// node whose bit is set must have references and a type with a shared first target. (The stored
    /// targets themselves are checked by the graph.)
    pub(crate) fn from_saved(
        stored: Column<NodeId>,
        saved: SharedFirstTargets,
        offsets: &EdgeOffsets,
        types: &NodeTypes,
        type_count: usize,
    ) -> Result<Targets, String> {
        let SharedFirstTargets { by_type, bits } = saved;
        let nodes = types.len();
        if by_type.len() != type_count || bits.len() != nodes.div_ceil(64) {
            return Err(format!(
                "{} shared first targets for {type_count} types, {} words of bits for {nodes} nodes",
                by_type.len(),
                bits.len()
            ));
        }
        if let Some(&last) = bits.last() {
            if nodes % 64 != 0 && last >> (nodes % 64) != 0 {
                return Err("a shared first target bit is set past the last node".into());
            }
        }
        if by_type.iter().any(|&t| t != NONE && t as usize >= nodes) {
            return Err("a shared first target is a node that does not exist".into());
        }
        let bad = bits.par_iter().enumerate().any(|(w, &word)| {
            set_bits(&[word]).any(|b| {
                let node = w * 64 + b;
                offsets.range(node).is_empty()
                    || by_type[types.get(node as NodeId) as usize] == NONE
            })
        });
        if bad {
            return Err(
                "a node without references or shared target has its first one left out".into(),
            );
        }
        let shared = SharedFirst::new(by_type, &bits);
        let elided = shared
            .words
            .last()
            .map_or(0, |w| w.before as usize + w.bits.count_ones() as usize);
        let edges = offsets.get(nodes) as usize;
        if stored.len() + elided != edges {
            return Err(format!(
                "{} stored targets and {elided} shared ones for {edges} references",
                stored.len()
            ));
        }
        Ok(Targets { stored, shared })
    }

    /// The stored targets and what an index file keeps beside them.
    pub fn saved(&self) -> (&Column<NodeId>, SharedFirstTargets) {
        let shared = SharedFirstTargets {
            by_type: self.shared.by_type.clone(),
            bits: self
                .shared
                .words
                .iter()
                .map(|w| w.bits)
                .collect::<Vec<_>>()
                .into(),
        };
        (&self.stored, shared)
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
        let (rank, elided) = self.shared.rank(node);
        EdgeCursor {
            pos: range.start as u32,
            end: range.end as u32,
            shift: rank + elided as u32,
            shared: if elided {
                self.shared.by_type[types.get(node) as usize]
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
        let (rank, _) = self.shared.rank(nodes.start as NodeId);
        let mut start = offsets.get(nodes.start) as usize;
        let mut at = start - rank as usize;
        for node in nodes {
            let end = offsets.get(node + 1) as usize;
            let mut pos = start;
            if self.shared.words[node / 64].bits >> (node % 64) & 1 != 0 {
                f(
                    node as NodeId,
                    pos,
                    self.shared.by_type[types.get(node as NodeId) as usize],
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
        let (rank, _) = self.shared.rank(node);
        if let Some(t) = self.stored.get(first - rank as usize) {
            crate::prefetch::prefetch(t);
        }
    }

    /// Starts loading the word of bits that holds `node`'s.
    #[inline]
    pub(crate) fn prefetch_bits(&self, node: NodeId) {
        crate::prefetch::prefetch(&self.shared.words[node as usize / 64]);
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.stored.heap_bytes()
            + self.shared.by_type.heap_bytes()
            + self.shared.words.capacity() * std::mem::size_of::<RankedWord>()
    }
}

impl SharedFirst {
    fn new(by_type: Column<NodeId>, bits: &[u64]) -> SharedFirst {
        let mut count = 0u32;
        let words = bits
            .iter()
            .map(|&bits| {
                let before = count;
                count += bits.count_ones();
                RankedWord { bits, before }
            })
            .collect();
        SharedFirst { by_type, words }
    }

    /// How many nodes before `node` have their first reference left out, and whether `node` has.
    #[inline]
    fn rank(&self, node: NodeId) -> (u32, bool) {
        let (w, b) = (node as usize / 64, node % 64);
        let RankedWord { bits, before } = self.words[w];
        let below = bits & ((1u64 << b) - 1);
        (before + below.count_ones(), bits >> b & 1 != 0)
    }
}

/// Per type, the first reference of its lowest node that has references, or [`NONE`].
fn first_targets(
    all: &[NodeId],
    offsets: &EdgeOffsets,
    types: &NodeTypes,
    type_count: usize,
) -> Vec<NodeId> {
    let lowest: Vec<AtomicU32> = (0..type_count).map(|_| AtomicU32::new(NONE)).collect();
    const CHUNK: usize = 1 << 14;
    let nodes = types.len();
    (0..nodes.div_ceil(CHUNK))
        .into_par_iter()
        .for_each(|chunk| {
            for node in chunk * CHUNK..((chunk + 1) * CHUNK).min(nodes) {
                if offsets.range(node).is_empty() {
                    continue;
                }
                let slot = &lowest[types.get(node as NodeId) as usize];
                // Read first: a type's slot is settled early and then only read, by every core.
                if (node as NodeId) < slot.load(Ordering::Relaxed) {
                    slot.fetch_min(node as NodeId, Ordering::Relaxed);
                }
            }
        });
    lowest
        .into_iter()
        .map(|node| match node.into_inner() {
            NONE => NONE,
            node => all[offsets.get(node as usize) as usize],
        })
        .collect()
}

/// The positions of the set bits, ascending.
fn set_bits(words: &[u64]) -> impl Iterator<Item = usize> + Send + '_ {
    words.iter().enumerate().flat_map(|(w, &word)| {
        let mut rest = word;
        std::iter::from_fn(move || {
            (rest != 0).then(|| {
                let b = rest.trailing_zeros() as usize;
                rest &= rest - 1;
                w * 64 + b
            })
        })
    })
}

/// One node's references in order, as (position, target), in 16 bytes: what a depth-first walk keeps on
/// its stack for every node on the current path. [`EdgeCursor::next`] reads the stored targets it is
/// given ([`crate::Graph::stored_targets`]).
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
            let shared = SharedFirstTargets {
                by_type: by_type.into(),
                bits: bits.into(),
            };
            Targets::from_saved(stored.into(), shared, &packed, &types, 3).err()
        };
        assert_eq!(forge(&|_, _, _| {}), None);
        let cases: [&Forgery<'_>; 5] = [
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
