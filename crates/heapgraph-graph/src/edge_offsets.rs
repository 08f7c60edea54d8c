//! Where each node's references start in the forward CSR, in about 2 bytes per node.
//!
//! The offsets ascend, and most objects have a handful of references, so the 64 offsets of a block of
//! consecutive nodes nearly always lie within 64K of the block's first: one 4-byte first offset per
//! block and a 2-byte distance from it per node take 2.1 bytes per node where the plain array takes 4
//! (41 MB less on a 20M-object heap, at every phase of every command). A block spread wider (a large
//! array among its objects) keeps its offsets whole. The per-block first offsets double as the sample
//! [`EdgeOffsets::source_of`] searches before one block.
//!
//! Offsets an index file maps in place stay as they are: packing them would cost every reopening a pass
//! over them, and mapped pages are the kernel's to drop.

use crate::column::Column;
use crate::prefetch::prefetch;
use crate::NodeId;
use rayon::prelude::*;
use std::ops::Range;
use std::sync::OnceLock;

/// Offsets per block.
const BLOCK: usize = 64;

/// Marks a block whose offsets are distances from its first, not whole in [`Packed::wide`].
const NARROW: u32 = u32::MAX;

/// `offsets[n]..offsets[n + 1]` is node `n`'s range of edges; one offset more than nodes.
pub enum EdgeOffsets {
    /// As a dump was read: see the module docs.
    Packed(Packed),
    /// Mapped from an index file, with every [`BLOCK`]-th offset copied out on first use by
    /// [`EdgeOffsets::source_of`].
    Flat {
        offsets: Column<u32>,
        sample: OnceLock<Vec<u32>>,
    },
}

/// Offsets in blocks of [`BLOCK`]: see the module docs.
pub struct Packed {
    /// Per block: its first offset, and where its offsets start in `wide`, or [`NARROW`].
    blocks: Vec<(u32, u32)>,
    /// Per offset: its distance from its block's first (0 in wide blocks).
    deltas: Vec<u16>,
    wide: Vec<u32>,
}

impl EdgeOffsets {
    /// Offsets as a format or an index file gave them (checked ascending by the graph): packed when
    /// they are in memory, kept in place when mapped.
    pub fn new(offsets: Column<u32>) -> EdgeOffsets {
        if offsets.is_mapped() {
            return EdgeOffsets::Flat {
                offsets,
                sample: OnceLock::new(),
            };
        }
        let mut deltas = vec![0u16; offsets.len()];
        let blocks: Vec<Result<u32, &[u32]>> = deltas
            .par_chunks_mut(BLOCK)
            .zip(offsets.par_chunks(BLOCK))
            .map(|(deltas, offsets)| {
                let first = offsets[0];
                if offsets[offsets.len() - 1] - first > u16::MAX as u32 {
                    return Err(offsets);
                }
                for (d, &o) in deltas.iter_mut().zip(offsets) {
                    *d = (o - first) as u16;
                }
                Ok(first)
            })
            .collect();
        let mut wide = Vec::new();
        let blocks = blocks
            .into_iter()
            .map(|block| match block {
                Ok(first) => (first, NARROW),
                Err(offsets) => {
                    let at = wide.len() as u32;
                    wide.extend_from_slice(offsets);
                    (offsets[0], at)
                }
            })
            .collect();
        EdgeOffsets::Packed(Packed {
            blocks,
            deltas,
            wide,
        })
    }

    /// Number of offsets: one more than nodes.
    pub fn len(&self) -> usize {
        match self {
            EdgeOffsets::Packed(p) => p.deltas.len(),
            EdgeOffsets::Flat { offsets, .. } => offsets.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Offset `i` (indexing like a slice).
    #[inline]
    pub fn get(&self, i: usize) -> u32 {
        match self {
            EdgeOffsets::Packed(p) => match p.blocks[i / BLOCK] {
                (first, NARROW) => first + p.deltas[i] as u32,
                (_, at) => p.wide[at as usize + i % BLOCK],
            },
            EdgeOffsets::Flat { offsets, .. } => offsets[i],
        }
    }

    /// Starts loading offset `i`'s cache line, for a walk that will read it a few steps later.
    #[inline]
    pub fn prefetch(&self, i: usize) {
        match self {
            EdgeOffsets::Packed(p) => prefetch(&p.deltas[i]),
            EdgeOffsets::Flat { offsets, .. } => prefetch(&offsets[i]),
        }
    }

    /// Node `node`'s edges: positions in the targets (and labels, and weak bits).
    #[inline]
    pub fn range(&self, node: usize) -> Range<usize> {
        self.get(node) as usize..self.get(node + 1) as usize
    }

    /// The node whose edges include position `edge` (below the last offset): the last node whose edges
    /// start at or before it (nodes without edges start where the next one does, and come before it).
    pub fn source_of(&self, edge: usize) -> NodeId {
        let nodes = self.len() - 1;
        let block = match self {
            EdgeOffsets::Packed(p) => p
                .blocks
                .partition_point(|&(first, _)| first as usize <= edge),
            EdgeOffsets::Flat { offsets, sample } => sample
                .get_or_init(|| offsets.iter().step_by(BLOCK).copied().collect())
                .partition_point(|&o| o as usize <= edge),
        }
        .max(1)
            - 1;
        let first = block * BLOCK;
        let stretch = first..(first + BLOCK).min(nodes);
        let within = stretch
            .clone()
            .map(|i| self.get(i))
            .take_while(|&o| o as usize <= edge)
            .count();
        (first + within.max(1) - 1) as NodeId
    }

    /// Every offset, as an index file keeps them.
    pub fn to_column(&self) -> Column<u32> {
        match self {
            EdgeOffsets::Packed(_) => (0..self.len())
                .into_par_iter()
                .map(|i| self.get(i))
                .collect::<Vec<_>>()
                .into(),
            EdgeOffsets::Flat { offsets, .. } => offsets.clone(),
        }
    }

    pub fn heap_bytes(&self) -> usize {
        match self {
            EdgeOffsets::Packed(p) => {
                std::mem::size_of_val(p.blocks.as_slice())
                    + std::mem::size_of_val(p.deltas.as_slice())
                    + std::mem::size_of_val(p.wide.as_slice())
            }
            EdgeOffsets::Flat { offsets, .. } => offsets.heap_bytes(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Packed offsets read back exactly in narrow blocks, in a block spread wide and in a last short
    /// block, and find every edge's source as a plain search does, nodes without edges included.
    #[test]
    fn packed_offsets_read_back_and_find_sources() {
        let mut degrees: Vec<u32> = (0..1000u32).map(|i| i % 5).collect();
        degrees[70] = 100_000; // block 1 spreads wide
        let mut offsets = vec![0u32];
        for d in &degrees {
            offsets.push(offsets.last().unwrap() + d);
        }
        let packed = EdgeOffsets::new(offsets.clone().into());
        let EdgeOffsets::Packed(p) = &packed else {
            panic!("offsets in memory are packed")
        };
        assert_eq!(p.wide.len(), BLOCK, "block 1 alone is wide");
        assert_eq!(packed.len(), offsets.len());
        assert!((0..offsets.len()).all(|i| packed.get(i) == offsets[i]));
        let edges = *offsets.last().unwrap() as usize;
        for edge in (0..edges).step_by(7).chain([edges - 1]) {
            let expected = offsets.partition_point(|&o| o as usize <= edge) - 1;
            assert_eq!(packed.source_of(edge), expected as NodeId, "edge {edge}");
            assert!(packed.range(expected).contains(&edge));
        }
        assert_eq!(packed.to_column().to_vec(), offsets);
    }
}
