//! The index file's header and section table (docs/formats.md, "Index files").
//!
//! A fixed header names the file's kind, version, byte order and the dump it belongs to; a table lists
//! every section (a named array of one element size) with its place and checksum; a checksum of the
//! header and table closes it. The names are the structures' own (the graph's and each analysis's
//! columns): this crate frames them and never reads a name's meaning. Sections start at 64-byte boundaries, so every array can be read in place from
//! the mapped file whatever its element type.

use crate::error::IndexError;
use crate::identity::DumpIdentity;
use heapgraph_graph::MAX_NAME;

pub const MAGIC: [u8; 8] = *b"HGINDEX\0";
/// Bumped whenever the layout or the meaning of a section changes: older files are rebuilt.
pub const VERSION: u32 = 12;
/// Written in the machine's byte order: a file from a machine of the other order reads as foreign.
const BYTE_ORDER: u32 = 0x0102_0304;
/// Where every section starts: a multiple of this.
pub const ALIGN: u64 = 64;

/// Magic, version, byte order, the dump's identity (3 x u64), the section count and a reserved word.
pub(crate) const FIXED: usize = 8 + 4 + 4 + 24 + 4 + 4;
/// Name (NUL-padded), element size, a reserved word, offset, element count, checksum.
pub(crate) const ENTRY: usize = MAX_NAME + 4 + 4 + 8 + 8 + 8;

/// One array in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    pub name: String,
    pub elem_size: u32,
    pub offset: u64,
    pub count: u64,
    pub checksum: u64,
}

impl Section {
    pub fn byte_len(&self) -> u64 {
        self.count.saturating_mul(self.elem_size as u64)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub identity: DumpIdentity,
    pub sections: Vec<Section>,
}

impl Header {
    /// Bytes the header takes with `sections` entries, its closing checksum included.
    pub fn encoded_len(sections: usize) -> u64 {
        (FIXED + sections * ENTRY + 8) as u64
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Header::encoded_len(self.sections.len()) as usize);
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&VERSION.to_ne_bytes());
        out.extend_from_slice(&BYTE_ORDER.to_ne_bytes());
        for word in [
            self.identity.size,
            self.identity.modified_ns,
            self.identity.head_checksum,
        ] {
            out.extend_from_slice(&word.to_ne_bytes());
        }
        out.extend_from_slice(&(self.sections.len() as u32).to_ne_bytes());
        out.extend_from_slice(&0u32.to_ne_bytes());
        for s in &self.sections {
            let mut name = [0u8; MAX_NAME];
            name[..s.name.len()].copy_from_slice(s.name.as_bytes());
            out.extend_from_slice(&name);
            out.extend_from_slice(&s.elem_size.to_ne_bytes());
            out.extend_from_slice(&0u32.to_ne_bytes());
            for word in [s.offset, s.count, s.checksum] {
                out.extend_from_slice(&word.to_ne_bytes());
            }
        }
        let sum = crate::checksum::checksum(&out);
        out.extend_from_slice(&sum.to_ne_bytes());
        out
    }

    /// Reads the header at the start of `file`, checking everything it can without reading the sections:
    /// kind, version, byte order, its own checksum, and that every section lies inside the file, aligned.
    pub fn decode(file: &[u8]) -> Result<Header, IndexError> {
        let mut r = Reader { file, at: 0 };
        if r.bytes(8)? != MAGIC {
            return Err(IndexError::NotAnIndex);
        }
        let version = r.u32()?;
        if version != VERSION {
            return Err(IndexError::stale(format!(
                "offset 8: index format version {version}, this heapgraph writes version {VERSION}"
            )));
        }
        if r.u32()? != BYTE_ORDER {
            return Err(IndexError::stale(
                "offset 12: written on a machine of the other byte order",
            ));
        }
        let identity = DumpIdentity {
            size: r.u64()?,
            modified_ns: r.u64()?,
            head_checksum: r.u64()?,
        };
        let count = r.u32()? as usize;
        r.u32()?;
        // The table must fit in the file before anything is sized by its count.
        let table_end = Header::encoded_len(count);
        if table_end > file.len() as u64 {
            return Err(IndexError::corrupt(format!(
                "offset 40: {count} sections need a {table_end}-byte header, the file has {} bytes",
                file.len()
            )));
        }
        let mut sections = Vec::with_capacity(count);
        for _ in 0..count {
            let at = r.at;
            let name = r.bytes(MAX_NAME)?;
            let name = std::str::from_utf8(name)
                .ok()
                .map(|n| n.trim_end_matches('\0'))
                .filter(|n| !n.is_empty() && !n.contains('\0'))
                .ok_or_else(|| {
                    IndexError::corrupt(format!("offset {at}: a section's name is not text"))
                })?
                .to_string();
            let elem_size = r.u32()?;
            r.u32()?;
            sections.push(Section {
                name,
                elem_size,
                offset: r.u64()?,
                count: r.u64()?,
                checksum: r.u64()?,
            });
        }
        let expected = crate::checksum::checksum(&file[..r.at]);
        let at = r.at;
        if r.u64()? != expected {
            return Err(IndexError::corrupt(format!(
                "offset {at}: the header's checksum does not match its contents"
            )));
        }
        for s in &sections {
            let end = s.offset.checked_add(s.byte_len());
            if s.elem_size == 0
                || s.offset % ALIGN != 0
                || s.offset < table_end
                || end.is_none_or(|end| end > file.len() as u64)
            {
                return Err(IndexError::corrupt(format!(
                    "section {} ({} x {} bytes at offset {}) does not lie inside the {}-byte file",
                    s.name,
                    s.count,
                    s.elem_size,
                    s.offset,
                    file.len()
                )));
            }
        }
        Ok(Header { identity, sections })
    }
}

struct Reader<'a> {
    file: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn bytes(&mut self, n: usize) -> Result<&[u8], IndexError> {
        let slice = self.file.get(self.at..self.at + n).ok_or_else(|| {
            IndexError::corrupt(format!(
                "offset {}: the file ends inside the header ({} bytes)",
                self.at,
                self.file.len()
            ))
        })?;
        self.at += n;
        Ok(slice)
    }

    fn u32(&mut self) -> Result<u32, IndexError> {
        Ok(u32::from_ne_bytes(
            self.bytes(4)?.try_into().expect("4 bytes"),
        ))
    }

    fn u64(&mut self) -> Result<u64, IndexError> {
        Ok(u64::from_ne_bytes(
            self.bytes(8)?.try_into().expect("8 bytes"),
        ))
    }
}
