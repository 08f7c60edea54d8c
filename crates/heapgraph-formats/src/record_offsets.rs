//! Where each object's record starts in its dump, in about 2 bytes per object.
//!
//! Reports read an object's details (a string's text, an array's length, its references' labels) from its
//! record in the dump, so a format keeps one record offset per object. As `u64` that is 8 bytes per object:
//! 163 MB on a 20M-object Java heap. Objects are numbered by address, and HotSpot writes them in nearly
//! the same order (619 turns back among 20M on such a dump), so the records of 64 consecutive objects lie
//! within a few KiB of each other: one base per block of 64 and a 2-byte distance from it per object
//! takes 2.1 bytes per object. The rare block spread wider (a large array among its objects, the file
//! order turning back) keeps its offsets whole. An index file keeps them unpacked, as 4 bytes per object
//! when the dump is under 4 GiB, else 8, and maps them back as they are.

use heapgraph_graph::{Column, SavedDetails};
use rayon::prelude::*;

/// Objects per block of [`Packed`] offsets.
const BLOCK: usize = 64;

/// Marks a block base that is an index into [`Packed::wide`] (no dump is 2⁶³ bytes long).
const WIDE: u64 = 1 << 63;

/// One record offset per object, in node order.
pub enum RecordOffsets {
    /// As a dump was read: see [`Packed`].
    Packed(Packed),
    /// From an index file of a dump under 4 GiB.
    Narrow(Column<u32>),
    /// From an index file of a larger dump.
    Wide(Column<u64>),
}

/// Offsets in blocks of [`BLOCK`] objects: a base per block and each object's distance from it, or, for a
/// block spread over more than 64 KiB, the block's offsets whole.
pub struct Packed {
    /// Per block: its smallest offset, or [`WIDE`] | where its offsets start in `wide`.
    bases: Vec<u64>,
    /// Per object: its offset minus its block's base (unused in wide blocks).
    deltas: Vec<u16>,
    wide: Vec<u64>,
    /// The dump's length, which says how an index file keeps the offsets.
    dump_len: u64,
}

impl RecordOffsets {
    /// The offsets `offset_of(0..len)` of records in a dump of `dump_len` bytes (every offset is below it).
    pub fn new(
        dump_len: u64,
        len: usize,
        offset_of: impl Fn(usize) -> u64 + Sync + Send,
    ) -> RecordOffsets {
        let mut deltas = vec![0u16; len];
        // Per block: Ok(base), or Err(its offsets) when they spread too far for 2-byte distances.
        let blocks: Vec<Result<u64, Vec<u64>>> = deltas
            .par_chunks_mut(BLOCK)
            .enumerate()
            .map(|(b, deltas)| {
                let first = b * BLOCK;
                let mut offsets = [0u64; BLOCK];
                for (k, at) in offsets[..deltas.len()].iter_mut().enumerate() {
                    *at = offset_of(first + k);
                }
                let offsets = &offsets[..deltas.len()];
                let base = offsets.iter().copied().min().unwrap_or(0);
                let top = offsets.iter().copied().max().unwrap_or(0);
                if top - base > u16::MAX as u64 {
                    return Err(offsets.to_vec());
                }
                for (d, &at) in deltas.iter_mut().zip(offsets) {
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
                Err(offsets) => {
                    let at = WIDE | wide.len() as u64;
                    wide.extend(offsets);
                    at
                }
            })
            .collect();
        RecordOffsets::Packed(Packed {
            bases,
            deltas,
            wide,
            dump_len,
        })
    }

    pub fn len(&self) -> usize {
        match self {
            RecordOffsets::Packed(p) => p.deltas.len(),
            RecordOffsets::Narrow(c) => c.len(),
            RecordOffsets::Wide(c) => c.len(),
        }
    }

    /// The offset of object `i`'s record, if there is an object `i`.
    pub fn get(&self, i: usize) -> Option<u64> {
        (i < self.len()).then(|| self.at(i))
    }

    /// The offset of object `i`'s record, for `i` known to be an object (indexing like a slice).
    pub fn at(&self, i: usize) -> u64 {
        match self {
            RecordOffsets::Packed(p) => match p.bases[i / BLOCK] {
                base if base & WIDE != 0 => p.wide[(base & !WIDE) as usize + i % BLOCK],
                base => base + p.deltas[i] as u64,
            },
            RecordOffsets::Narrow(c) => c[i] as u64,
            RecordOffsets::Wide(c) => c[i],
        }
    }

    /// The smallest and the largest offset of objects `range` (`(u64::MAX, 0)` for none).
    pub fn span(&self, range: std::ops::Range<usize>) -> (u64, u64) {
        range
            .filter_map(|i| self.get(i))
            .fold((u64::MAX, 0), |(lo, hi), at| (lo.min(at), hi.max(at)))
    }

    /// Adds the offsets to what an index file keeps for the format's details: 4 bytes each when the dump
    /// is under 4 GiB, else 8.
    pub fn save(&self, saved: &mut SavedDetails) {
        match self {
            RecordOffsets::Packed(p) => {
                let all = (0..self.len()).into_par_iter().map(|i| self.at(i));
                if p.dump_len <= u32::MAX as u64 {
                    saved
                        .u32s
                        .push(all.map(|at| at as u32).collect::<Vec<_>>().into());
                } else {
                    saved.u64s.push(all.collect::<Vec<_>>().into());
                }
            }
            RecordOffsets::Narrow(c) => saved.u32s.push(c.clone()),
            RecordOffsets::Wide(c) => saved.u64s.push(c.clone()),
        }
    }

    /// The offsets [`RecordOffsets::save`] added to `saved` (whose other arrays of the same width the
    /// format must take first: this takes the last one).
    pub fn reopen(saved: &mut SavedDetails) -> Option<RecordOffsets> {
        match saved.u32s.pop() {
            Some(c) => Some(RecordOffsets::Narrow(c)),
            None => saved.u64s.pop().map(RecordOffsets::Wide),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Packed offsets read back exactly, in close blocks, in a block spread wide, after the file order
    /// turns back, and in a last short block; saved, they come back as 4 bytes each below 4 GiB, else 8.
    #[test]
    fn packed_offsets_read_back_and_survive_saving() {
        let mut values: Vec<u64> = (0..1000u64).map(|i| 100 + i * 40).collect();
        values[70] = 3_000_000; // block 1 spreads wide
        values.swap(200, 201); // the file order turns back
        values[999] = 4_000_000_000;
        for (dump_len, narrow) in [(4_294_967_295u64, true), (5_000_000_000, false)] {
            let offsets = RecordOffsets::new(dump_len, values.len(), |i| values[i]);
            assert_eq!(offsets.len(), values.len());
            for (i, &v) in values.iter().enumerate() {
                assert_eq!(offsets.get(i), Some(v), "{i}");
            }
            assert_eq!(offsets.get(values.len()), None);
            assert_eq!(offsets.span(0..2), (100, 140));
            assert_eq!(offsets.span(1..1), (u64::MAX, 0));
            let RecordOffsets::Packed(p) = &offsets else {
                panic!("a read dump's offsets are packed")
            };
            // Block 1 and the last, short block (objects 960..1000) are wide.
            assert_eq!(p.wide.len(), BLOCK + values.len() - 15 * BLOCK);
            let mut saved = SavedDetails::default();
            offsets.save(&mut saved);
            assert_eq!(
                (saved.u32s.len(), saved.u64s.len()),
                (narrow as usize, !narrow as usize)
            );
            let back = RecordOffsets::reopen(&mut saved).unwrap();
            assert!((0..values.len()).all(|i| back.get(i) == Some(values[i])));
            assert!(RecordOffsets::reopen(&mut saved).is_none());
        }
        assert_eq!(RecordOffsets::new(10, 0, |_| 0).len(), 0);
    }
}
