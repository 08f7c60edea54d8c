//! Bounds-checked big-endian reads over the mapped dump.
//!
//! Every read checks the bytes left before touching them and reports the file offset it failed at, so a
//! truncated or corrupt dump is an error that names where, never a panic or an out-of-bounds read.

use crate::error::{err, FormatError};

/// A position in the mapped file with the dump's identifier size.
#[derive(Clone, Copy)]
pub struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
    id_size: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(data: &'a [u8], pos: usize, id_size: usize) -> Cursor<'a> {
        Cursor { data, pos, id_size }
    }

    pub fn pos(&self) -> usize {
        self.pos
    }

    pub fn id_size(&self) -> usize {
        self.id_size
    }

    /// The next `n` bytes, or an error saying what was cut short.
    #[inline]
    pub fn bytes(&mut self, n: usize, what: &str) -> Result<&'a [u8], FormatError> {
        let left = self.data.len().saturating_sub(self.pos);
        if n > left {
            return self.truncated(n, what);
        }
        let out = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    /// The error for a read of `n` bytes past the end: out of line, so that the reads above stay small
    /// enough to inline into the parsers' loops.
    #[cold]
    #[inline(never)]
    fn truncated<T>(&self, n: usize, what: &str) -> Result<T, FormatError> {
        let left = self.data.len().saturating_sub(self.pos);
        err(
            self.pos,
            format!("truncated: {what} needs {n} bytes but only {left} remain"),
        )
    }

    #[inline]
    pub fn u1(&mut self, what: &str) -> Result<u8, FormatError> {
        Ok(self.bytes(1, what)?[0])
    }

    #[inline]
    pub fn u2(&mut self, what: &str) -> Result<u16, FormatError> {
        Ok(u16::from_be_bytes(
            self.bytes(2, what)?.try_into().expect("2 bytes"),
        ))
    }

    #[inline]
    pub fn u4(&mut self, what: &str) -> Result<u32, FormatError> {
        Ok(u32::from_be_bytes(
            self.bytes(4, what)?.try_into().expect("4 bytes"),
        ))
    }

    #[inline]
    pub fn u8(&mut self, what: &str) -> Result<u64, FormatError> {
        Ok(u64::from_be_bytes(
            self.bytes(8, what)?.try_into().expect("8 bytes"),
        ))
    }

    /// An identifier (object address, string id): 4 or 8 bytes as the header says.
    #[inline]
    pub fn id(&mut self, what: &str) -> Result<u64, FormatError> {
        let b = self.bytes(self.id_size, what)?;
        Ok(read_id(b, 0, self.id_size))
    }
}

/// The identifier at `at` of `b` (which the caller has bounds-checked).
#[inline]
pub fn read_id(b: &[u8], at: usize, id_size: usize) -> u64 {
    if id_size == 8 {
        u64::from_be_bytes(b[at..at + 8].try_into().expect("8 bytes"))
    } else {
        u32::from_be_bytes(b[at..at + 4].try_into().expect("4 bytes")) as u64
    }
}
