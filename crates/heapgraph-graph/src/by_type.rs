//! Values that most objects of a type share, kept once per type plus one bit per node.
//!
//! Two per-object columns mostly repeat what the object's type already says: a Java object's first
//! reference goes to its class, and an instance's shallow size is its class's. [`SharedByType`] keeps,
//! per type, the value of its lowest-numbered node that has one, and a bit per node set when the node's
//! value is its type's and is not stored. The stored values of the other nodes are then numbered by how
//! many nodes before them had their value left out: the bits' rank, a count per 64 nodes beside the
//! bits themselves (one cache line holds both), then a popcount. 0.25 bytes per node.

use crate::column::{Column, Plain};
use crate::types::NodeTypes;
use crate::NodeId;
use rayon::prelude::*;
use std::sync::atomic::{AtomicU32, Ordering};

/// Marks "no shared value" for a type.
pub(crate) const NONE: u32 = u32::MAX;

/// Per type a shared value, and per node whether it has it: what an index file keeps of a column that
/// [`SharedByType`] shrinks.
pub struct SharedValues {
    /// Per type, its shared value, or `u32::MAX` for none.
    pub by_type: Column<u32>,
    /// One bit per node (node `n` is bit `n % 64` of word `n / 64`), set when its value is its type's.
    pub bits: Column<u64>,
}

/// See the module docs.
pub(crate) struct SharedByType {
    by_type: Column<u32>,
    words: Vec<RankedWord>,
    nodes: usize,
}

/// 64 nodes' bits and the bits set in the words before them.
#[derive(Copy, Clone)]
#[repr(C, align(16))]
struct RankedWord {
    bits: u64,
    before: u32,
}

impl SharedByType {
    /// Per type of `types`, `value(node)` of its lowest node for which that is `Some` (the value must not
    /// be [`NONE`]); a node's bit is set when its own value is its type's.
    pub(crate) fn new(
        types: &NodeTypes,
        type_count: usize,
        value: impl Fn(usize) -> Option<u32> + Sync,
    ) -> SharedByType {
        let lowest: Vec<AtomicU32> = (0..type_count).map(|_| AtomicU32::new(NONE)).collect();
        let nodes = types.len();
        (0..nodes.div_ceil(CHUNK))
            .into_par_iter()
            .for_each(|chunk| {
                for node in chunk * CHUNK..((chunk + 1) * CHUNK).min(nodes) {
                    let slot = &lowest[types.get(node as NodeId) as usize];
                    // Read first: a type's slot is settled early and then only read, by every core.
                    if (node as u32) < slot.load(Ordering::Relaxed) && value(node).is_some() {
                        slot.fetch_min(node as u32, Ordering::Relaxed);
                    }
                }
            });
        let by_type: Vec<u32> = lowest
            .into_iter()
            .map(|node| match node.into_inner() {
                NONE => NONE,
                node => value(node as usize).unwrap_or(NONE),
            })
            .collect();
        let bits: Vec<u64> = (0..nodes.div_ceil(64))
            .into_par_iter()
            .map(|w| {
                (w * 64..(w * 64 + 64).min(nodes)).fold(0u64, |word, node| {
                    let shared = by_type[types.get(node as NodeId) as usize];
                    let same = shared != NONE && value(node) == Some(shared);
                    word | (same as u64) << (node % 64)
                })
            })
            .collect();
        SharedByType::with_bits(by_type.into(), &bits, nodes)
    }

    /// Shared values as [`SharedByType::saved`] gave them (an index file's), checked against the graph's
    /// types: one per type, a bit per node and none past the last. A node marked although its type has
    /// no shared value reads [`NONE`] as its value: callers for whom that would index out of bounds
    /// check for it ([`SharedByType::any_marked`]), in the pass over the marked nodes they make anyway.
    pub(crate) fn from_saved(
        saved: SharedValues,
        types: &NodeTypes,
        type_count: usize,
    ) -> Result<SharedByType, String> {
        let SharedValues { by_type, bits } = saved;
        let nodes = types.len();
        if by_type.len() != type_count || bits.len() != nodes.div_ceil(64) {
            return Err(format!(
                "{} shared values for {type_count} types, {} words of bits for {nodes} nodes",
                by_type.len(),
                bits.len()
            ));
        }
        if nodes % 64 != 0 && bits.last().is_some_and(|&last| last >> (nodes % 64) != 0) {
            return Err("a shared value bit is set past the last node".into());
        }
        Ok(SharedByType::with_bits(by_type, &bits, nodes))
    }

    fn with_bits(by_type: Column<u32>, bits: &[u64], nodes: usize) -> SharedByType {
        let mut count = 0u32;
        let words = bits
            .iter()
            .map(|&bits| {
                let before = count;
                count += bits.count_ones();
                RankedWord { bits, before }
            })
            .collect();
        SharedByType {
            by_type,
            words,
            nodes,
        }
    }

    /// What an index file keeps.
    pub(crate) fn saved(&self) -> SharedValues {
        SharedValues {
            by_type: self.by_type.clone(),
            bits: self.words.iter().map(|w| w.bits).collect::<Vec<_>>().into(),
        }
    }

    /// Whether `test` holds for some node whose bit is set (a parallel scan).
    pub(crate) fn any_marked(&self, test: impl Fn(usize) -> bool + Sync) -> bool {
        self.words
            .par_iter()
            .enumerate()
            .any(|(w, word)| set_bits(word.bits).any(|b| test(w * 64 + b)))
    }

    /// How many nodes have their bit set.
    pub(crate) fn count(&self) -> usize {
        self.words
            .last()
            .map_or(0, |w| w.before as usize + w.bits.count_ones() as usize)
    }

    /// How many nodes before `node` have their bit set, and whether `node` has.
    #[inline]
    pub(crate) fn rank(&self, node: usize) -> (usize, bool) {
        let RankedWord { bits, before } = self.words[node / 64];
        let below = bits & ((1u64 << (node % 64)) - 1);
        (
            before as usize + below.count_ones() as usize,
            bits >> (node % 64) & 1 != 0,
        )
    }

    /// Whether `node`'s bit is set.
    #[inline]
    pub(crate) fn is_set(&self, node: usize) -> bool {
        self.words[node / 64].bits >> (node % 64) & 1 != 0
    }

    /// The shared value of type `ty`.
    #[inline]
    pub(crate) fn of_type(&self, ty: u32) -> u32 {
        self.by_type[ty as usize]
    }

    /// Starts loading the bits and rank that hold `node`'s.
    #[inline]
    pub(crate) fn prefetch(&self, node: usize) {
        crate::prefetch::prefetch(&self.words[node / 64]);
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.by_type.heap_bytes() + self.words.capacity() * std::mem::size_of::<RankedWord>()
    }
}

/// Nodes per task of the parallel passes.
const CHUNK: usize = 1 << 14;

/// The positions of the set bits of `word`, ascending.
fn set_bits(word: u64) -> impl Iterator<Item = usize> {
    let mut rest = word;
    std::iter::from_fn(move || {
        (rest != 0).then(|| {
            let b = rest.trailing_zeros() as usize;
            rest &= rest - 1;
            b
        })
    })
}

/// Removes from `values` the entry of every node whose bit is set in `shared`, keeping the others in
/// order; node `n`'s entries start at `start(n)` (ascending, `start(nodes)` the end) and a marked node's
/// first one goes. Chunks of nodes close their gaps in parallel, each within its own stretch, then the
/// stretches are moved down in order; the vector is then shrunk to fit.
pub(crate) fn remove_marked<T: Plain>(
    values: &mut Vec<T>,
    shared: &SharedByType,
    start: impl Fn(usize) -> usize + Sync,
) {
    let words_per_chunk = CHUNK / 64;
    let mut stretches = Vec::new();
    let mut rest = &mut values[..];
    let mut at = 0;
    for (c, words) in shared.words.chunks(words_per_chunk).enumerate() {
        let end = start(((c + 1) * CHUNK).min(shared.nodes));
        let (stretch, tail) = rest.split_at_mut(end - at);
        stretches.push((c * CHUNK, at, words, stretch));
        rest = tail;
        at = end;
    }
    let kept: Vec<(usize, usize)> = stretches
        .into_par_iter()
        .map(|(first, base, words, stretch)| {
            let mut kept = 0;
            let mut from = 0;
            for (w, word) in words.iter().enumerate() {
                for b in set_bits(word.bits) {
                    let gone = start(first + w * 64 + b) - base;
                    for p in from..gone {
                        stretch[kept] = stretch[p];
                        kept += 1;
                    }
                    from = gone + 1;
                }
            }
            for p in from..stretch.len() {
                stretch[kept] = stretch[p];
                kept += 1;
            }
            (base, kept)
        })
        .collect();
    let mut len = 0;
    for (base, kept) in kept {
        values.copy_within(base..base + kept, len);
        len += kept;
    }
    values.truncate(len);
    values.shrink_to_fit();
}
