//! Pass 1's objects in address order, without one list of them all.
//!
//! HotSpot writes the objects of a heap dump segment in ascending address order, and the address ranges
//! of different segments barely overlap. So each segment's list is sorted on its own while it is still in
//! cache (a check when it is in order already; [`SegmentLists`] keeps the lists of consecutive segments in
//! one array, which the allocator maps and unmaps whole), and the lists are merged into a sequence of slices of
//! them: a merge that takes from one list all it can before another's next object comes, so lists that do
//! not overlap give one slice each. The numbering reads the objects through these slices: copying them
//! into one list and sorting that took fresh memory of 16 bytes per object, and the kernel's zeroing of it
//! was a third of pass 1's time on a 20M-object dump. Dumps whose lists interleave object by object
//! (Android's are not in address order) would make a slice of every few objects: those are copied into
//! one list and sorted as a whole.

use super::scan::ObjectEntry;
use heapgraph_graph::HUGE;
use rayon::prelude::*;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::ops::Range;

/// Log2 of the indices per entry of [`SortedRuns::slice_of_block`].
const BLOCK_SHIFT: u32 = 10;

/// Below this many objects per slice on average, the lists are sorted as one instead.
const MIN_AVERAGE_SLICE: usize = 64;

/// The objects of consecutive segments in one array, each segment's list sorted by address.
#[derive(Default)]
pub struct SegmentLists {
    objects: Vec<ObjectEntry>,
    /// Where each segment's list ends in `objects` (segments without objects have none).
    ends: Vec<usize>,
}

impl SegmentLists {
    /// Empty lists with room for as many objects as a block on huge pages holds: a part's objects go
    /// on huge pages from the first, and grow without copies (glibc moves a mapped block's pages).
    pub fn with_room() -> SegmentLists {
        SegmentLists {
            objects: Vec::with_capacity(HUGE / std::mem::size_of::<ObjectEntry>()),
            ends: Vec::new(),
        }
    }

    /// Adds an object to the current segment's list.
    pub fn push(&mut self, object: ObjectEntry) {
        self.objects.push(object);
    }

    /// Ends the current segment's list, sorting it: while it is still in cache, and HotSpot writes it
    /// in order, so that is mostly a check.
    pub fn end_segment(&mut self) {
        let list = &mut self.objects[self.ends.last().copied().unwrap_or(0)..];
        if list.is_empty() {
            return;
        }
        if !list.is_sorted_by_key(|o| o.address) {
            list.sort_unstable_by_key(|o| o.address);
        }
        self.ends.push(self.objects.len());
    }

    /// Each segment's list, as a range of `objects`.
    fn lists(&self) -> impl Iterator<Item = Range<usize>> + '_ {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts.zip(&self.ends).map(|(start, &end)| start..end)
    }

    /// Splits the objects into those `keep` picks, in lists as sorted as these, and the others.
    pub fn partition(
        self,
        keep: impl Fn(&ObjectEntry) -> bool,
        others: &mut Vec<ObjectEntry>,
    ) -> SegmentLists {
        let mut kept = SegmentLists::default();
        for list in self.lists() {
            for o in &self.objects[list] {
                match keep(o) {
                    true => kept.push(*o),
                    false => others.push(*o),
                }
            }
            kept.end_segment();
        }
        kept
    }
}

/// Objects sorted by address, as slices of sorted lists laid end to end.
pub struct SortedRuns {
    parts: Vec<SegmentLists>,
    /// The slices in order: which part, and where in its objects.
    slices: Vec<Slice>,
    /// The index of each slice's first object, and the total after the last.
    starts: Vec<usize>,
    /// For each block of `1 << BLOCK_SHIFT` indices, the slice holding the block's first: finding the
    /// slice of an index is one read and a short walk, not a search.
    slice_of_block: Vec<u32>,
}

#[derive(Clone, Copy)]
struct Slice {
    part: u32,
    start: usize,
}

impl SortedRuns {
    /// The objects of `parts` in address order.
    pub fn new(mut parts: Vec<SegmentLists>) -> SortedRuns {
        let lists: Vec<(u32, Range<usize>)> = (parts.iter().enumerate())
            .flat_map(|(k, part)| part.lists().map(move |list| (k as u32, list)))
            .collect();
        let len = lists.iter().map(|(_, list)| list.len()).sum();
        let mut slices = merge(&parts, &lists);
        if slices.len() > 1 && slices.len() * MIN_AVERAGE_SLICE > len {
            let mut objects: Vec<ObjectEntry> = (parts.iter())
                .flat_map(|part| part.objects.iter().copied())
                .collect();
            objects.par_sort_unstable_by_key(|o| o.address);
            parts = vec![SegmentLists {
                objects,
                ends: vec![len],
            }];
            slices = vec![(Slice { part: 0, start: 0 }, len)];
        }
        let mut starts = Vec::with_capacity(slices.len() + 1);
        starts.push(0);
        for (_, slice_len) in &slices {
            starts.push(starts[starts.len() - 1] + slice_len);
        }
        let mut slice_of_block = Vec::with_capacity(len.div_ceil(1 << BLOCK_SHIFT));
        let mut k = 0;
        for first in (0..len).step_by(1 << BLOCK_SHIFT) {
            while starts[k + 1] <= first {
                k += 1;
            }
            slice_of_block.push(k as u32);
        }
        SortedRuns {
            parts,
            slices: slices.into_iter().map(|(slice, _)| slice).collect(),
            starts,
            slice_of_block,
        }
    }

    pub fn len(&self) -> usize {
        self.starts[self.slices.len()]
    }

    /// The object at index `i` in address order; `i` must be below [`SortedRuns::len`].
    #[inline]
    pub fn get(&self, i: usize) -> &ObjectEntry {
        let mut k = self.slice_of_block[i >> BLOCK_SHIFT] as usize;
        while self.starts[k + 1] <= i {
            k += 1;
        }
        let slice = self.slices[k];
        &self.parts[slice.part as usize].objects[slice.start + (i - self.starts[k])]
    }

    /// The first two neighbours in address order with the same address, if any: a dump holding an
    /// object twice.
    pub fn duplicate(&self) -> Option<(&ObjectEntry, &ObjectEntry)> {
        let in_order = (self.slices.iter().zip(self.starts.windows(2))).flat_map(|(s, ends)| {
            &self.parts[s.part as usize].objects[s.start..s.start + (ends[1] - ends[0])]
        });
        let mut previous: Option<&ObjectEntry> = None;
        in_order.into_iter().find_map(|o| {
            let pair = previous.filter(|p| p.address == o.address).map(|p| (p, o));
            previous = Some(o);
            pair
        })
    }
}

/// Merges the sorted `lists` (ranges of `parts`' objects) into slices of them, with their lengths, in
/// address order: the list with the lowest next object gives every object up to the next object of any
/// other list.
fn merge(parts: &[SegmentLists], lists: &[(u32, Range<usize>)]) -> Vec<(Slice, usize)> {
    let objects = |k: usize| &parts[lists[k].0 as usize].objects[lists[k].1.clone()];
    let mut next = vec![0usize; lists.len()];
    let mut heads: BinaryHeap<Reverse<(u64, usize)>> = (0..lists.len())
        .map(|k| Reverse((objects(k)[0].address, k)))
        .collect();
    let mut slices = Vec::with_capacity(lists.len());
    while let Some(Reverse((_, k))) = heads.pop() {
        let list = objects(k);
        let start = next[k];
        let end = match heads.peek() {
            // At least the head itself: an address in two lists comes out twice in a row.
            Some(&Reverse((other, _))) => {
                start + list[start..].partition_point(|o| o.address <= other)
            }
            None => list.len(),
        };
        let slice = Slice {
            part: lists[k].0,
            start: lists[k].1.start + start,
        };
        slices.push((slice, end - start));
        next[k] = end;
        if end < list.len() {
            heads.push(Reverse((list[end].address, k)));
        }
    }
    slices
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lists as segments, the first two in one part and each other in its own.
    fn runs(lists: &[Vec<u64>]) -> Vec<SegmentLists> {
        let mut parts = vec![SegmentLists::default()];
        for (k, list) in lists.iter().enumerate() {
            if k >= 2 {
                parts.push(SegmentLists::default());
            }
            let part = parts.last_mut().unwrap();
            for &address in list {
                part.push(ObjectEntry {
                    address,
                    offset: address * 10,
                });
            }
            part.end_segment();
        }
        parts
    }

    /// The objects of `lists` in order, checked against sorting them all: every index finds its object,
    /// with its own offset.
    fn sorted(lists: &[Vec<u64>]) -> SortedRuns {
        let sorted = SortedRuns::new(runs(lists));
        let mut all = lists.concat();
        all.sort_unstable();
        assert_eq!(sorted.len(), all.len());
        for (i, &address) in all.iter().enumerate() {
            assert_eq!(sorted.get(i).address, address, "index {i} of {lists:?}");
            assert_eq!(sorted.get(i).offset, address * 10);
        }
        sorted
    }

    /// `len` addresses from `first`, `step` apart.
    fn spaced(first: u64, len: u64, step: u64) -> Vec<u64> {
        (0..len).map(|k| first + k * step).collect()
    }

    /// Small lists, unsorted ones and lists that interleave object by object are sorted as one.
    #[test]
    fn lists_that_interleave_are_sorted_as_one() {
        let cases = [
            vec![vec![5, 6, 7], vec![1, 2], vec![], vec![10, 20]],
            vec![vec![9, 5, 1], vec![2, 3], vec![10, 4], vec![11]],
            vec![spaced(0, 1000, 2), spaced(1, 1000, 2)],
            vec![],
        ];
        for lists in &cases {
            let sorted = sorted(lists);
            assert!(sorted.slices.len() <= 1, "{lists:?}");
            assert!(sorted.duplicate().is_none());
        }
    }

    /// Long lists, in any order and overlapping at their ends, are read where they lie, in slices.
    #[test]
    fn long_lists_are_read_in_slices() {
        // 300 lists of every length from 0 up, given from the highest addresses down.
        let apart: Vec<Vec<u64>> = (0..300u64)
            .rev()
            .map(|k| spaced(k * 10_000, (k * 37) % 2500, 1))
            .collect();
        // The last 500 even addresses of one list interleave with the first 500 odd ones of another: a
        // slice before, one per object there, one after; and a list apart from both.
        let overlapping = vec![
            spaced(300_000, 50_000, 1),
            spaced(98_999, 50_000, 2),
            spaced(0, 50_000, 2),
        ];
        for (lists, slices) in [(apart, 299), (overlapping, 1 + 1000 + 1 + 1)] {
            let sorted = sorted(&lists);
            assert_eq!(sorted.slices.len(), slices);
            assert!(sorted.duplicate().is_none());
        }
    }

    /// An address in two lists, or twice in one, is found, whichever way the lists are read.
    #[test]
    fn an_address_seen_twice_is_found() {
        let cases = [
            vec![vec![1, 4], vec![4, 5]],
            vec![vec![1, 3, 5], vec![2, 3]],
            vec![vec![7, 1, 7]],
            vec![spaced(0, 50_000, 1), spaced(49_999, 50_000, 1)],
            vec![
                spaced(50_000, 50_000, 1),
                spaced(0, 50_000, 1),
                vec![70_000],
            ],
        ];
        for lists in &cases {
            let sorted = SortedRuns::new(runs(lists));
            let (a, b) = sorted.duplicate().expect("duplicate found");
            assert_eq!(a.address, b.address, "{lists:?}");
        }
    }
}
