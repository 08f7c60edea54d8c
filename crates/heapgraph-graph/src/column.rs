//! Arrays that are either built in memory or read in place from a memory-mapped index file.
//!
//! A command that finds a fresh index next to its dump answers from the index's arrays without copying
//! them: a 10M-object graph and its analyses are about 700 MB, and reading them into owned vectors would
//! cost more than the question. [`Column`] is a slice either way, so nothing that reads the graph or the
//! analyses knows where its arrays live; the kernel pages a mapped column in as it is touched and may
//! drop it again, which is also what lets an index larger than RAM still work.

use std::ops::Deref;
use std::sync::Arc;

/// Types whose values are plain bytes: any bit pattern is a value, no padding, no pointers. Columns of
/// them can be read in place from a file.
///
/// # Safety
/// Implementors must be `Copy`, have no padding and no invalid bit patterns.
pub unsafe trait Plain: Copy + Send + Sync + 'static {}

// SAFETY: primitive integers: no padding, every bit pattern valid.
unsafe impl Plain for u8 {}
// SAFETY: as above.
unsafe impl Plain for u16 {}
// SAFETY: as above.
unsafe impl Plain for u32 {}
// SAFETY: as above.
unsafe impl Plain for u64 {}

/// The bytes of plain values, in this machine's byte order.
pub fn plain_bytes<T: Plain>(values: &[T]) -> &[u8] {
    // SAFETY: `T: Plain` has no padding, so every byte of the slice is initialised.
    unsafe { std::slice::from_raw_parts(values.as_ptr().cast(), std::mem::size_of_val(values)) }
}

/// Bytes that stay put for as long as any column reads them: a memory-mapped file.
pub type Backing = Arc<dyn AsRef<[u8]> + Send + Sync>;

/// A read-only array of `T`: owned, or borrowed from a [`Backing`] it keeps alive.
pub struct Column<T: Plain> {
    repr: Repr<T>,
}

enum Repr<T: Plain> {
    /// Shared, so that handing a column to an index writer (or cloning it) copies nothing.
    Owned(Arc<Vec<T>>),
    Mapped {
        _backing: Backing,
        ptr: *const T,
        len: usize,
    },
}

// SAFETY: a mapped column is an immutable view of bytes its `Arc` keeps alive, and `T: Send + Sync`.
unsafe impl<T: Plain> Send for Column<T> {}
// SAFETY: as above: nothing mutates a mapped column.
unsafe impl<T: Plain> Sync for Column<T> {}

/// Why bytes cannot be read in place as a column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnError(pub String);

impl<T: Plain> Column<T> {
    /// The `len` values of `T` at `offset` in `backing`. Fails if that range is outside the bytes or
    /// not aligned for `T` (the index writer aligns every array, so either means a damaged file).
    pub fn mapped(backing: &Backing, offset: usize, len: usize) -> Result<Column<T>, ColumnError> {
        let bytes: &[u8] = (**backing).as_ref();
        let size = std::mem::size_of::<T>();
        let end = len
            .checked_mul(size)
            .and_then(|n| n.checked_add(offset))
            .filter(|&end| end <= bytes.len())
            .ok_or_else(|| {
                ColumnError(format!(
                    "{len} values of {size} bytes at offset {offset} run past the end ({} bytes)",
                    bytes.len()
                ))
            })?;
        let ptr = bytes[offset..end].as_ptr();
        if ptr.align_offset(std::mem::align_of::<T>()) != 0 {
            return Err(ColumnError(format!(
                "array at offset {offset} is not aligned to {} bytes",
                std::mem::align_of::<T>()
            )));
        }
        Ok(Column {
            repr: Repr::Mapped {
                _backing: Arc::clone(backing),
                ptr: ptr.cast(),
                len,
            },
        })
    }

    /// The values as bytes, in this machine's byte order: what the index writer stores.
    pub fn as_bytes(&self) -> &[u8] {
        plain_bytes(self)
    }

    /// The values as an owned vector of this column's own, copying them first if they are mapped or
    /// shared with a clone (copy on write).
    pub fn to_mut(&mut self) -> &mut Vec<T> {
        if let Repr::Mapped { .. } = self.repr {
            self.repr = Repr::Owned(Arc::new(self.to_vec()));
        }
        match &mut self.repr {
            Repr::Owned(values) => Arc::make_mut(values),
            Repr::Mapped { .. } => unreachable!("just made owned"),
        }
    }

    /// Whether the values live in a mapped file rather than in memory of their own.
    pub fn is_mapped(&self) -> bool {
        matches!(self.repr, Repr::Mapped { .. })
    }

    /// Heap bytes the column holds: 0 for a mapped one, whose pages belong to the kernel's cache.
    pub fn heap_bytes(&self) -> usize {
        match &self.repr {
            Repr::Owned(values) => values.capacity() * std::mem::size_of::<T>(),
            Repr::Mapped { .. } => 0,
        }
    }
}

impl<T: Plain> Deref for Column<T> {
    type Target = [T];

    #[inline]
    fn deref(&self) -> &[T] {
        match &self.repr {
            Repr::Owned(values) => values,
            // SAFETY: `mapped` checked that the range lies within the backing bytes and is aligned;
            // the backing stays alive and unchanged as long as `self`, and any bit pattern is a `T`.
            Repr::Mapped { ptr, len, .. } => unsafe { std::slice::from_raw_parts(*ptr, *len) },
        }
    }
}

impl<T: Plain> From<Vec<T>> for Column<T> {
    fn from(values: Vec<T>) -> Column<T> {
        Column {
            repr: Repr::Owned(Arc::new(values)),
        }
    }
}

impl<T: Plain> FromIterator<T> for Column<T> {
    fn from_iter<I: IntoIterator<Item = T>>(values: I) -> Column<T> {
        values.into_iter().collect::<Vec<T>>().into()
    }
}

impl<T: Plain> Default for Column<T> {
    fn default() -> Column<T> {
        Vec::new().into()
    }
}

impl<T: Plain> Clone for Column<T> {
    fn clone(&self) -> Column<T> {
        match &self.repr {
            Repr::Owned(values) => Column {
                repr: Repr::Owned(Arc::clone(values)),
            },
            Repr::Mapped { _backing, ptr, len } => Column {
                repr: Repr::Mapped {
                    _backing: Arc::clone(_backing),
                    ptr: *ptr,
                    len: *len,
                },
            },
        }
    }
}

impl<T: Plain + std::fmt::Debug> std::fmt::Debug for Column<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let values: &[T] = self;
        f.debug_list().entries(values.iter().take(8)).finish()?;
        write!(f, " ({} values)", values.len())
    }
}

impl<T: Plain + PartialEq> PartialEq for Column<T> {
    fn eq(&self, other: &Column<T>) -> bool {
        **self == **other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes kept in a `u64` buffer, so that they are 8-aligned like a mapped file's.
    struct WordsBytes(Column<u64>);

    impl WordsBytes {
        fn new(words: &[u64]) -> WordsBytes {
            WordsBytes(Column::from(words.to_vec()))
        }
    }

    impl AsRef<[u8]> for WordsBytes {
        fn as_ref(&self) -> &[u8] {
            self.0.as_bytes()
        }
    }

    #[test]
    fn mapped_columns_read_in_place_and_check_their_range() {
        let words: Vec<u64> = (0..8u64).map(|i| i * 0x0101_0101).collect();
        let backing: Backing = Arc::new(WordsBytes::new(&words));
        let col = Column::<u64>::mapped(&backing, 8, 3).unwrap();
        assert!(col.is_mapped());
        assert_eq!(&*col, &words[1..4]);
        assert_eq!(col.heap_bytes(), 0);
        let mut copy = col.clone();
        copy.to_mut()[0] = 7;
        assert!(!copy.is_mapped());
        assert_eq!(copy[0], 7);
        assert_eq!(col[0], words[1]);
        assert!(Column::<u64>::mapped(&backing, 4, 1).is_err(), "misaligned");
        assert!(
            Column::<u32>::mapped(&backing, 60, 2).is_err(),
            "past the end"
        );
        assert!(Column::<u32>::mapped(&backing, usize::MAX, 2).is_err());
        assert!(Column::<u64>::mapped(&backing, 8, usize::MAX).is_err());
        assert_eq!(Column::<u32>::mapped(&backing, 64, 0).unwrap().len(), 0);
    }
}
