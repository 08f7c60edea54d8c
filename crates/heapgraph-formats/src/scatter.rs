//! Parallel writes to disjoint, data-dependent positions of one array.
//!
//! Pass 2 walks the file in chunks on several threads; each object's fields go to the slot of its node id,
//! which the address numbering decides. Every node id belongs to exactly one OBJECT record (the numbering
//! is a bijection, checked before pass 2), so no two threads ever write the same slot. Slices cannot
//! express "disjoint but interleaved", hence this small unsafe wrapper.

use std::marker::PhantomData;

pub struct Scatter<'a, T> {
    ptr: *mut T,
    len: usize,
    _slice: PhantomData<&'a mut [T]>,
}

// SAFETY: `Scatter` only hands out writes to distinct indices (the caller's contract on `write`), so sharing
// it across threads is as safe as splitting the slice.
unsafe impl<T: Send> Sync for Scatter<'_, T> {}

impl<'a, T: Copy> Scatter<'a, T> {
    pub fn new(slice: &'a mut [T]) -> Scatter<'a, T> {
        Scatter {
            ptr: slice.as_mut_ptr(),
            len: slice.len(),
            _slice: PhantomData,
        }
    }

    /// Writes `value` at `index`.
    ///
    /// # Safety
    /// No other thread may write or read `index` while the `Scatter` is alive.
    #[inline]
    pub unsafe fn write(&self, index: usize, value: T) {
        assert!(
            index < self.len,
            "scatter index {index} out of bounds {}",
            self.len
        );
        // SAFETY: in bounds (checked above); exclusive per the caller's contract.
        unsafe { self.ptr.add(index).write(value) }
    }
}

/// `slice` cut into consecutive pieces of `lengths` (which must add up to at most its length), for
/// threads to fill a piece each: where parallel chunks of a pass lay their results end to end.
pub fn split_by_lengths<T>(
    mut slice: &mut [T],
    lengths: impl IntoIterator<Item = usize>,
) -> Vec<&mut [T]> {
    lengths
        .into_iter()
        .map(|len| {
            let (piece, rest) = std::mem::take(&mut slice).split_at_mut(len);
            slice = rest;
            piece
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::split_by_lengths;

    #[test]
    fn pieces_are_consecutive_and_leave_the_rest() {
        let mut values = [0u8; 10];
        let pieces = split_by_lengths(&mut values, [3, 0, 4]);
        assert_eq!(
            pieces.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [3, 0, 4]
        );
        for (i, piece) in pieces.into_iter().enumerate() {
            piece.fill(i as u8 + 1);
        }
        assert_eq!(values, [1, 1, 1, 3, 3, 3, 3, 0, 0, 0]);
    }
}
