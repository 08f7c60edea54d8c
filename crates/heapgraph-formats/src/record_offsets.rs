//! Where each object's record starts in its dump, in 4 bytes per object when the dump allows.
//!
//! Reports read an object's details (a string's text, an array's length) from its record in the dump, so a
//! format keeps one record offset per object. As `u64` that is 8 bytes per object: 163 MB on a 20M-object
//! Java heap, more than any graph array but the edges. A dump shorter than 4 GiB, as most are (20M Java
//! objects take 1.7 GB), has every offset below `u32::MAX`, and keeps them in half the memory.

use heapgraph_graph::{Column, SavedDetails};
use rayon::prelude::*;

/// One record offset per object, in node order.
pub enum RecordOffsets {
    /// Every offset fits in 4 bytes.
    Narrow(Column<u32>),
    Wide(Column<u64>),
}

impl RecordOffsets {
    /// The offsets `offset_of(0..len)` of records in a dump of `dump_len` bytes (every offset is below it).
    pub fn new(
        dump_len: u64,
        len: usize,
        offset_of: impl Fn(usize) -> u64 + Sync + Send,
    ) -> RecordOffsets {
        let nodes = (0..len).into_par_iter();
        if dump_len <= u32::MAX as u64 {
            RecordOffsets::Narrow(
                nodes
                    .map(|i| offset_of(i) as u32)
                    .collect::<Vec<_>>()
                    .into(),
            )
        } else {
            RecordOffsets::Wide(nodes.map(offset_of).collect::<Vec<_>>().into())
        }
    }

    pub fn len(&self) -> usize {
        match self {
            RecordOffsets::Narrow(c) => c.len(),
            RecordOffsets::Wide(c) => c.len(),
        }
    }

    /// The offset of object `i`'s record, if there is an object `i`.
    pub fn get(&self, i: usize) -> Option<u64> {
        match self {
            RecordOffsets::Narrow(c) => c.get(i).map(|&at| at as u64),
            RecordOffsets::Wide(c) => c.get(i).copied(),
        }
    }

    /// The offset of object `i`'s record, for `i` known to be an object (indexing like a slice).
    pub fn at(&self, i: usize) -> u64 {
        match self {
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

    /// Adds the offsets to what an index file keeps for the format's details.
    pub fn save(&self, saved: &mut SavedDetails) {
        match self {
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

    #[test]
    fn narrow_below_4_gib_and_wide_above_read_the_same_and_survive_saving() {
        let values = [7u64, 3, 4_000_000_000, 12];
        for (dump_len, narrow) in [(4_294_967_295u64, true), (5_000_000_000, false)] {
            let offsets = RecordOffsets::new(dump_len, values.len(), |i| values[i]);
            assert_eq!(matches!(offsets, RecordOffsets::Narrow(_)), narrow);
            assert_eq!(offsets.len(), 4);
            assert_eq!(offsets.get(2), Some(4_000_000_000));
            assert_eq!(offsets.get(4), None);
            assert_eq!(offsets.at(3), 12);
            assert_eq!(offsets.span(0..2), (3, 7));
            assert_eq!(offsets.span(1..1), (u64::MAX, 0));
            let mut saved = SavedDetails::default();
            offsets.save(&mut saved);
            let back = RecordOffsets::reopen(&mut saved).unwrap();
            assert_eq!(
                (0..4).map(|i| back.get(i)).collect::<Vec<_>>(),
                values.map(Some)
            );
            assert!(RecordOffsets::reopen(&mut saved).is_none());
        }
    }
}
