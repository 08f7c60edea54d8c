//! Values in a narrow slot each, the rare one too big for its slot in a side table: shallow sizes in 2
//! bytes per object, retained sizes in 4 bytes per dominator-tree vertex.

use crate::column::{Column, Plain};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU16, AtomicU32, Ordering};
use std::sync::{Mutex, PoisonError};

/// An unsigned integer a [`NarrowValues`] keeps its values in; its largest value marks one in the side
/// table.
pub trait Slot: Plain + Eq {
    /// The mark of a value in the side table.
    const BIG: Self;
    /// The atomic integer of the same width, for slots many threads write ([`NarrowWriter`]).
    type Atomic: Send + Sync;
    fn atomic(self) -> Self::Atomic;
    fn store(atomic: &Self::Atomic, slot: Self);
    fn unwrap(atomic: Self::Atomic) -> Self;
    fn widen(self) -> u64;
    /// `value`, below [`Slot::BIG`].
    fn narrow(value: u64) -> Self;

    /// The slot of `value`: the value itself, or the mark of one in the side table.
    #[inline]
    fn of(value: u64) -> Self {
        if value >= Self::BIG.widen() {
            Self::BIG
        } else {
            Self::narrow(value)
        }
    }
}

/// The [`Slot`] of an unsigned integer type and its atomic twin.
macro_rules! slot {
    ($int:ty, $atomic:ty) => {
        impl Slot for $int {
            const BIG: $int = <$int>::MAX;
            type Atomic = $atomic;
            fn atomic(self) -> $atomic {
                <$atomic>::new(self)
            }
            #[inline]
            fn store(atomic: &$atomic, slot: $int) {
                atomic.store(slot, Ordering::Relaxed)
            }
            fn unwrap(atomic: $atomic) -> $int {
                atomic.into_inner()
            }
            #[inline]
            fn widen(self) -> u64 {
                self as u64
            }
            #[inline]
            fn narrow(value: u64) -> $int {
                value as $int
            }
        }
    };
}

slot!(u16, AtomicU16);
slot!(u32, AtomicU32);

/// A `u64` per index in a slot of `S` each; a value that does not fit lives in a side table, its slot
/// holding [`Slot::BIG`].
#[derive(Debug, Default, Clone)]
pub struct NarrowValues<S: Slot> {
    pub(crate) small: Column<S>,
    pub(crate) big: HashMap<u32, u64>,
}

impl<S: Slot> NarrowValues<S> {
    /// Values as [`NarrowValues::dense`] and [`NarrowValues::big_entries`] gave them (an index file's).
    pub fn from_saved(small: Column<S>, big: impl IntoIterator<Item = (u32, u64)>) -> Self {
        NarrowValues {
            small,
            big: big.into_iter().collect(),
        }
    }

    /// The slot of every index; [`Slot::BIG`] marks a value in the side table.
    pub fn dense(&self) -> &Column<S> {
        &self.small
    }

    /// The values too big for a slot, by index.
    pub fn big_entries(&self) -> Vec<(u32, u64)> {
        let mut big: Vec<(u32, u64)> = self.big.iter().map(|(&i, &v)| (i, v)).collect();
        big.sort_unstable();
        big
    }

    /// A filler that starts from these values.
    pub fn to_filler(&self) -> NarrowFiller<S> {
        NarrowFiller {
            small: self.small.to_vec(),
            big: self.big.clone(),
        }
    }

    #[inline]
    pub fn get(&self, index: usize) -> u64 {
        match self.small[index] {
            // A slot marked big always has its entry, unless an index file was forged: read it as the mark.
            slot if slot == S::BIG => self
                .big
                .get(&(index as u32))
                .copied()
                .unwrap_or(S::BIG.widen()),
            slot => slot.widen(),
        }
    }

    pub fn len(&self) -> usize {
        self.small.len()
    }

    pub fn is_empty(&self) -> bool {
        self.small.is_empty()
    }

    pub fn heap_bytes(&self) -> usize {
        self.small.heap_bytes() + self.big.capacity() * 16
    }
}

/// Every index's value, in index order.
impl<S: Slot> FromIterator<u64> for NarrowValues<S> {
    fn from_iter<I: IntoIterator<Item = u64>>(values: I) -> Self {
        let mut big = HashMap::new();
        let small: Vec<S> = values
            .into_iter()
            .enumerate()
            .map(|(index, value)| {
                let slot = S::of(value);
                if slot == S::BIG {
                    big.insert(index as u32, value);
                }
                slot
            })
            .collect();
        NarrowValues {
            small: small.into(),
            big,
        }
    }
}

/// A [`NarrowValues`] written from many threads in any order, each index once: what a reader that
/// decodes objects in parallel fills. [`NarrowWriter::finish`] gives the values.
pub struct NarrowWriter<S: Slot> {
    /// Relaxed stores: each slot has one writer, and `finish` takes the writer by value.
    slots: Vec<S::Atomic>,
    /// The rare values too big for a slot.
    big: Mutex<Vec<(u32, u64)>>,
}

impl<S: Slot> NarrowWriter<S> {
    /// `len` zeros.
    pub fn new(len: usize) -> Self {
        NarrowWriter {
            slots: (0..len).map(|_| S::narrow(0).atomic()).collect(),
            big: Mutex::default(),
        }
    }

    #[inline]
    pub fn set(&self, index: usize, value: u64) {
        let slot = S::of(value);
        if slot == S::BIG {
            let mut big = self.big.lock().unwrap_or_else(PoisonError::into_inner);
            big.push((index as u32, value));
        }
        S::store(&self.slots[index], slot);
    }

    pub fn finish(self) -> NarrowValues<S> {
        let small: Vec<S> = self.slots.into_iter().map(S::unwrap).collect();
        let big = self
            .big
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        NarrowValues::from_saved(small.into(), big)
    }
}

/// A [`NarrowValues`] being filled in place, its values read and written in any order (sums up a tree).
pub struct NarrowFiller<S: Slot> {
    small: Vec<S>,
    big: HashMap<u32, u64>,
}

impl<S: Slot> NarrowFiller<S> {
    /// A filler holding `small`'s slots and the side table's values `big` (by index), as
    /// [`NarrowValues::from_saved`] takes them: for a caller that fills the slots itself.
    pub fn from_parts(small: Vec<S>, big: impl IntoIterator<Item = (u32, u64)>) -> Self {
        NarrowFiller {
            small,
            big: big.into_iter().collect(),
        }
    }

    /// `len` zeros.
    pub fn zeros(len: usize) -> Self {
        NarrowFiller {
            small: vec![S::narrow(0); len],
            big: HashMap::new(),
        }
    }

    #[inline]
    pub fn get(&self, index: usize) -> u64 {
        match self.small[index] {
            slot if slot == S::BIG => self.big[&(index as u32)],
            slot => slot.widen(),
        }
    }

    #[inline]
    pub fn set(&mut self, index: usize, value: u64) {
        let slot = S::of(value);
        if slot == S::BIG {
            self.big.insert(index as u32, value);
        } else if self.small[index] == S::BIG {
            self.big.remove(&(index as u32));
        }
        self.small[index] = slot;
    }

    pub fn finish(self) -> NarrowValues<S> {
        NarrowValues {
            small: self.small.into(),
            big: self.big,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filler_reads_back_what_it_was_last_given() {
        let mut filler = NarrowFiller::<u32>::zeros(3);
        filler.set(0, 5 << 32);
        filler.set(1, 5 << 32);
        filler.set(1, 7);
        filler.set(2, u32::MAX as u64 - 1);
        assert_eq!(filler.get(0), 5 << 32);
        assert_eq!(filler.get(1), 7);
        let values = filler.finish();
        assert_eq!(values.get(0), 5 << 32);
        assert_eq!(values.get(1), 7);
        assert_eq!(values.get(2), u32::MAX as u64 - 1);
        assert_eq!(values.big_entries(), [(0, 5 << 32)]);
    }
}
