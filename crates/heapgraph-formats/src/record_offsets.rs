//! Where each object's record starts in its dump, in about 2 bytes per object.
//!
//! Reports read an object's details (a string's text, an array's length, its references' labels) from its
//! record in the dump, so a format keeps one record offset per object. As `u64` that is 8 bytes per object:
//! 163 MB on a 20M-object Java heap. Objects are numbered by address, and HotSpot writes them in nearly
//! the same order (619 turns back among 20M on such a dump), so the offsets pack as
//! [`PackedPositions`]: 2.1 bytes per object. An index file keeps them unpacked, as 4 bytes per object
//! when the dump is under 4 GiB, else 8, and maps them back as they are.

use heapgraph_graph::{Column, PackedPositions, SavedDetails};
use rayon::prelude::*;

/// One record offset per object, in node order.
pub enum RecordOffsets {
    /// As a dump was read, with the dump's length, which says how an index file keeps them.
    Packed(PackedPositions, u64),
    /// From an index file of a dump under 4 GiB.
    Narrow(Column<u32>),
    /// From an index file of a larger dump.
    Wide(Column<u64>),
}

impl RecordOffsets {
    /// The offsets `offset_of(0..len)` of records in a dump of `dump_len` bytes (every offset is below it).
    pub fn new(
        dump_len: u64,
        len: usize,
        offset_of: impl Fn(usize) -> u64 + Sync + Send,
    ) -> RecordOffsets {
        RecordOffsets::Packed(PackedPositions::new(len, offset_of), dump_len)
    }

    pub fn len(&self) -> usize {
        match self {
            RecordOffsets::Packed(p, _) => p.len(),
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
            RecordOffsets::Packed(p, _) => p.get(i),
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
            RecordOffsets::Packed(_, dump_len) => {
                let all = (0..self.len()).into_par_iter().map(|i| self.at(i));
                if *dump_len <= u32::MAX as u64 {
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

    /// Offsets read back as a read dump packed them; saved, they come back as 4 bytes each below 4 GiB,
    /// else 8. (The packing's own cases are `PackedPositions`' tests.)
    #[test]
    fn packed_offsets_read_back_and_survive_saving() {
        let values: Vec<u64> = (0..1000u64)
            .map(|i| 100 + i * 40 + (i / 999) * 3_999_000_000)
            .collect();
        for (dump_len, narrow) in [(4_294_967_295u64, true), (5_000_000_000, false)] {
            let offsets = RecordOffsets::new(dump_len, values.len(), |i| values[i]);
            assert_eq!(offsets.len(), values.len());
            for (i, &v) in values.iter().enumerate() {
                assert_eq!(offsets.get(i), Some(v), "{i}");
            }
            assert_eq!(offsets.get(values.len()), None);
            assert_eq!(offsets.span(0..2), (100, 140));
            assert_eq!(offsets.span(1..1), (u64::MAX, 0));
            assert!(matches!(offsets, RecordOffsets::Packed(..)));
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
