//! The record layer of the `.hgd` format: tags, lengths, and the fixed OBJECT header.
//!
//! Every read is bounds-checked against the record's own length, which is itself checked against the bytes
//! left in the file, so no field can make the reader look outside the file or allocate what the file
//! cannot justify.

pub const MAGIC: [u8; 8] = [0x89, b'H', b'G', b'D', b'\r', b'\n', 0x1a, b'\n'];
pub const VERSION: u32 = 1;
pub const HEADER_LEN: usize = 16;

pub const TAG_META: u8 = 0x01;
pub const TAG_STRING: u8 = 0x02;
pub const TAG_TYPE: u8 = 0x03;
pub const TAG_OBJECT: u8 = 0x04;
pub const TAG_ROOT: u8 = 0x05;
pub const TAG_END: u8 = 0x06;
pub const TAG_FACT: u8 = 0x07;
pub const TAG_TRACE: u8 = 0x08;
pub const TAG_ALLOCATED: u8 = 0x09;

/// Bytes before a record's payload: tag u8 + length u32.
pub const RECORD_PREFIX: usize = 5;
pub const OBJECT_HEADER: usize = 40;
pub const EDGE_LEN: usize = 12;

pub const FLAG_GC_TRACKED: u8 = 1;
pub const FLAG_LEN: u8 = 2;
pub const FLAG_VALUE: u8 = 4;
pub const FLAG_NAME: u8 = 8;
const KNOWN_FLAGS: u8 = FLAG_GC_TRACKED | FLAG_LEN | FLAG_VALUE | FLAG_NAME;

pub(crate) use crate::error::{err, FormatError};

#[inline]
pub fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

#[inline]
pub fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

#[inline]
pub fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// One record: its tag, where it starts in the file, and its payload.
#[derive(Clone, Copy)]
pub struct Record<'a> {
    pub tag: u8,
    /// Offset of the record's tag byte in the file.
    pub offset: usize,
    pub payload: &'a [u8],
}

/// Checks the file header and returns the offset of the first record.
pub fn check_header(data: &[u8]) -> Result<usize, FormatError> {
    if !data.starts_with(&MAGIC) {
        return err(
            0,
            "not a heapgraph Python dump: the 16-byte header is missing or wrong",
        );
    }
    if data.len() < HEADER_LEN {
        return err(
            0,
            "truncated: the 16-byte header is incomplete; the dump was cut short (was the dumper killed \
             or the disk full?)",
        );
    }
    let version = u32_at(data, 8);
    if version != VERSION {
        return err(
            8,
            format!(
                "dump format version {version}, but this heapgraph reads version {VERSION}; \
                 use a heapgraph release that matches the dumper that wrote it"
            ),
        );
    }
    if u32_at(data, 12) != 0 {
        return err(12, "header flags must be 0");
    }
    Ok(HEADER_LEN)
}

/// The record starting at `offset`, or an error if it runs past the end of the file.
#[inline]
pub fn record_at(data: &[u8], offset: usize) -> Result<Record<'_>, FormatError> {
    // Offsets come from the reader's own scan, or from an index file that may be forged.
    if offset > data.len() {
        return err(
            offset,
            "no record here: the offset is past the end of the file",
        );
    }
    if data.len() - offset < RECORD_PREFIX {
        return err(
            offset,
            format!(
                "truncated: a record starts here but only {} bytes remain; the dump was cut short \
                 (was the dumper killed or the disk full?)",
                data.len() - offset
            ),
        );
    }
    let tag = data[offset];
    let len = u32_at(data, offset + 1) as usize;
    let start = offset + RECORD_PREFIX;
    if data.len() - start < len {
        return err(
            offset,
            format!(
                "truncated: record (tag {tag:#04x}) says it has {len} bytes but only {} remain; the dump \
                 was cut short (was the dumper killed or the disk full?)",
                data.len() - start
            ),
        );
    }
    Ok(Record {
        tag,
        offset,
        payload: &data[start..start + len],
    })
}

/// The fixed part of an OBJECT record.
#[derive(Clone, Copy, Debug)]
pub struct ObjectHeader {
    pub address: u64,
    pub type_address: u64,
    pub size: u64,
    pub refcount: u64,
    pub edges: u32,
    pub flags: u8,
}

impl ObjectHeader {
    /// Parses and checks the header, and that the payload length matches the edges and optional fields.
    #[inline]
    pub fn parse(rec: &Record<'_>) -> Result<ObjectHeader, FormatError> {
        let p = rec.payload;
        if p.len() < OBJECT_HEADER {
            return err(
                rec.offset,
                format!(
                    "OBJECT record of {} bytes is shorter than its {OBJECT_HEADER}-byte header",
                    p.len()
                ),
            );
        }
        let header = ObjectHeader {
            address: u64_at(p, 0),
            type_address: u64_at(p, 8),
            size: u64_at(p, 16),
            refcount: u64_at(p, 24),
            edges: u32_at(p, 32),
            flags: p[36],
        };
        if header.flags & !KNOWN_FLAGS != 0 || p[37..40] != [0, 0, 0] {
            return err(
                rec.offset,
                format!("OBJECT record has unknown flag bits {:#04x}", header.flags),
            );
        }
        let tail = header.tail_start();
        if tail > p.len() {
            return err(
                rec.offset,
                format!(
                    "OBJECT record claims {} edges, which need {tail} bytes, but has {}",
                    header.edges,
                    p.len()
                ),
            );
        }
        let optional = header.optional_len(&p[tail..]).ok_or(()).or_else(|_| {
            err(
                rec.offset,
                "OBJECT record's optional fields (len, value, name) run past its end",
            )
        })?;
        if tail + optional != p.len() {
            return err(
                rec.offset,
                format!(
                    "OBJECT record is {} bytes, but its header and fields add up to {}",
                    p.len(),
                    tail + optional
                ),
            );
        }
        Ok(header)
    }

    /// Where the optional fields start in the payload.
    #[inline]
    pub fn tail_start(&self) -> usize {
        OBJECT_HEADER + EDGE_LEN * self.edges as usize
    }

    /// Bytes taken by the optional fields in `tail`, or `None` if they run past it.
    fn optional_len(&self, tail: &[u8]) -> Option<usize> {
        let mut at = 0;
        if self.flags & FLAG_LEN != 0 {
            at += 8;
        }
        if self.flags & FLAG_VALUE != 0 {
            let n = tail.get(at..at + 2).map(|b| u16_at(b, 0) as usize)?;
            at += 2 + n;
        }
        if self.flags & FLAG_NAME != 0 {
            at += 4;
        }
        (at <= tail.len()).then_some(at)
    }
}

/// The optional fields of an OBJECT record (already length-checked by [`ObjectHeader::parse`]).
pub struct ObjectTail<'a> {
    pub length: Option<u64>,
    pub value: Option<&'a [u8]>,
    pub name: Option<u32>,
}

impl<'a> ObjectTail<'a> {
    pub fn parse(header: &ObjectHeader, payload: &'a [u8]) -> ObjectTail<'a> {
        let mut at = header.tail_start();
        let mut tail = ObjectTail {
            length: None,
            value: None,
            name: None,
        };
        if header.flags & FLAG_LEN != 0 {
            tail.length = Some(u64_at(payload, at));
            at += 8;
        }
        if header.flags & FLAG_VALUE != 0 {
            let n = u16_at(payload, at) as usize;
            tail.value = Some(&payload[at + 2..at + 2 + n]);
            at += 2 + n;
        }
        if header.flags & FLAG_NAME != 0 {
            tail.name = Some(u32_at(payload, at));
        }
        tail
    }
}
