//! Positions (in a file, in an array) that mostly grow from one node to the next, in about 2 bytes each.
//!
//! Nodes are numbered by address, and what belongs to consecutive nodes usually lies close together:
//! their records in the dump, their runs of edges in the CSR. So the 64 positions of a block of
//! consecutive nodes nearly always lie within 64K of the block's smallest: one 8-byte base per block and a
//! 2-byte distance from it per node take 2.1 bytes per node where a `u64` takes 8 and a `u32` 4. The rare
//! block spread wider (a large array among its objects, the file order turning back) keeps its positions
//! whole.

use crate::prefetch::prefetch;
use rayon::prelude::*;

/// Positions per block.
const BLOCK: usize = 64;

/// Marks a block base that is an index into [`PackedPositions::wide`] (no position reaches 2⁶³).
const WIDE: u64 = 1 << 63;

/// See the module docs.
pub struct PackedPositions {
    /// Per block: its smallest position, or [`WIDE`] | where its positions start in `wide`.
    bases: Vec<u64>,
    /// Per position: its distance from its block's base (unused in wide blocks).
    deltas: Vec<u16>,
    wide: Vec<u64>,
}

impl PackedPositions {
    /// Packs `position_of(0..len)`.
    pub fn new(len: usize, position_of: impl Fn(usize) -> u64 + Sync + Send) -> PackedPositions {
        let mut deltas = vec![0u16; len];
        // Per block: Ok(base), or Err(its positions) when they spread too far for 2-byte distances.
        let blocks: Vec<Result<u64, Vec<u64>>> = deltas
            .par_chunks_mut(BLOCK)
            .enumerate()
            .map(|(b, deltas)| {
                let mut positions = [0u64; BLOCK];
                let positions = &mut positions[..deltas.len()];
                for (k, at) in positions.iter_mut().enumerate() {
                    *at = position_of(b * BLOCK + k);
                }
                let base = positions.iter().copied().min().unwrap_or(0);
                let top = positions.iter().copied().max().unwrap_or(0);
                if top - base > u16::MAX as u64 {
                    return Err(positions.to_vec());
                }
                for (d, &at) in deltas.iter_mut().zip(positions.iter()) {
                    *d = (at - base) as u16;
                }
                Ok(base)
            })
            .collect();
        let mut wide = Vec::new();
        let bases = blocks
            .into_iter()
            .map(|block| match block {
                Ok(base) => base,
                Err(positions) => {
                    let at = WIDE | wide.len() as u64;
                    wide.extend(positions);
                    at
                }
            })
            .collect();
        PackedPositions {
            bases,
            deltas,
            wide,
        }
    }

    pub fn len(&self) -> usize {
        self.deltas.len()
    }

    pub fn is_empty(&self) -> bool {
        self.deltas.is_empty()
    }

    /// Position `i` (indexing like a slice).
    #[inline]
    pub fn get(&self, i: usize) -> u64 {
        match self.bases[i / BLOCK] {
            base if base & WIDE != 0 => self.wide[(base & !WIDE) as usize + i % BLOCK],
            base => base + self.deltas[i] as u64,
        }
    }

    /// Starts loading position `i`'s cache line, for a walk that will read it a few steps later.
    #[inline]
    pub fn prefetch(&self, i: usize) {
        prefetch(&self.deltas[i]);
    }

    /// For ascending positions: the last `i` whose position is at or below `at` (0 if none is), found
    /// through the block bases (small enough for the cache) and then one block.
    pub fn last_at_or_below(&self, at: u64) -> usize {
        let smallest = |base: &u64| match *base {
            base if base & WIDE != 0 => self.wide[(base & !WIDE) as usize],
            base => base,
        };
        let block = self.bases.partition_point(|b| smallest(b) <= at).max(1) - 1;
        let first = block * BLOCK;
        let within = (first..(first + BLOCK).min(self.len()))
            .take_while(|&i| self.get(i) <= at)
            .count();
        first + within.max(1) - 1
    }

    pub fn heap_bytes(&self) -> usize {
        std::mem::size_of_val(self.bases.as_slice())
            + std::mem::size_of_val(self.deltas.as_slice())
            + std::mem::size_of_val(self.wide.as_slice())
    }

    /// How many positions are kept whole, in blocks spread too wide (for the tests' checks of which
    /// blocks are).
    #[cfg(test)]
    pub(crate) fn wide_len(&self) -> usize {
        self.wide.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Positions read back exactly in close blocks, in a block spread wide, after the order turns back,
    /// and in a last short block.
    #[test]
    fn positions_read_back() {
        let mut values: Vec<u64> = (0..1000u64).map(|i| 100 + i * 40).collect();
        values[70] = 3_000_000; // block 1 spreads wide
        values.swap(200, 201); // the order turns back
        values[999] = 40_000_000_000;
        let packed = PackedPositions::new(values.len(), |i| values[i]);
        assert_eq!(packed.len(), values.len());
        assert!((0..values.len()).all(|i| packed.get(i) == values[i]));
        // Block 1 and the last, short block (positions 960..1000) are wide.
        assert_eq!(packed.wide_len(), BLOCK + values.len() - 15 * BLOCK);
        assert!(PackedPositions::new(0, |_| 0).is_empty());
    }

    /// For ascending positions, the search agrees with a plain one, repeated positions included.
    #[test]
    fn finds_the_last_position_at_or_below() {
        let mut values: Vec<u64> = (0..500u64).map(|i| i / 3 * 7).collect();
        values[300..].iter_mut().for_each(|v| *v += 1 << 20); // a wide block where the jump is
        let packed = PackedPositions::new(values.len(), |i| values[i]);
        for at in (0..values[499] + 3).step_by(5) {
            let expected = values.partition_point(|&v| v <= at).max(1) - 1;
            assert_eq!(packed.last_at_or_below(at), expected, "at {at}");
        }
    }
}
