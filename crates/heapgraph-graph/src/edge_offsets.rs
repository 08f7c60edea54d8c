//! Where each node's references start in the forward CSR, in about 2 bytes per node.
//!
//! The offsets ascend, and most objects have a handful of references, so the offsets of a block of 64
//! consecutive nodes nearly always lie within 64K of each other and pack as [`PackedPositions`]: 2.1 bytes
//! per node where the plain array takes 4 (41 MB less on a 20M-object heap, at every phase of every
//! command). The packing's block bases double as the sample [`EdgeOffsets::source_of`] searches first.
//!
//! Offsets an index file maps in place stay as they are: packing them would cost every reopening a pass
//! over them, and mapped pages are the kernel's to drop.

use crate::column::Column;
use crate::packed::PackedPositions;
use crate::prefetch::prefetch;
use crate::NodeId;
use rayon::prelude::*;
use std::ops::Range;
use std::sync::OnceLock;

/// Offsets per entry of a mapped array's sample.
const SAMPLE: usize = 64;

/// `offsets[n]..offsets[n + 1]` is node `n`'s range of edges; one offset more than nodes.
pub enum EdgeOffsets {
    /// As a dump was read: see the module docs.
    Packed(PackedPositions),
    /// Mapped from an index file, with every [`SAMPLE`]-th offset copied out on first use by
    /// [`EdgeOffsets::source_of`].
    Flat {
        offsets: Column<u32>,
        sample: OnceLock<Vec<u32>>,
    },
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
        EdgeOffsets::Packed(PackedPositions::new(offsets.len(), |i| offsets[i] as u64))
    }

    /// Number of offsets: one more than nodes.
    pub fn len(&self) -> usize {
        match self {
            EdgeOffsets::Packed(p) => p.len(),
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
            EdgeOffsets::Packed(p) => p.get(i) as u32,
            EdgeOffsets::Flat { offsets, .. } => offsets[i],
        }
    }

    /// Starts loading offset `i`'s cache line, for a walk that will read it a few steps later.
    #[inline]
    pub fn prefetch(&self, i: usize) {
        match self {
            EdgeOffsets::Packed(p) => p.prefetch(i),
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
        match self {
            EdgeOffsets::Packed(p) => p.last_at_or_below(edge as u64) as NodeId,
            EdgeOffsets::Flat { offsets, sample } => {
                let sample =
                    sample.get_or_init(|| offsets.iter().step_by(SAMPLE).copied().collect());
                let block = sample.partition_point(|&o| o as usize <= edge).max(1) - 1;
                let first = block * SAMPLE;
                let stretch = &offsets[first..(first + SAMPLE).min(offsets.len())];
                (first + stretch.partition_point(|&o| o as usize <= edge).max(1) - 1) as NodeId
            }
        }
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
            EdgeOffsets::Packed(p) => p.heap_bytes(),
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
        assert_eq!(p.wide_len(), 64, "block 1 alone is wide");
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
