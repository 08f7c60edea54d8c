//! Pass 1: one sequential walk over every record, reading only what is needed to number the objects.
//!
//! It validates every record's framing, interns strings and types, and collects per object just its
//! address, edge count and position in the file (16 bytes), so that objects can be numbered in address
//! order before any edge is read.

use super::record::*;
use super::sites::SiteRecords;
use hashbrown::HashMap;
use heapgraph_graph::{StrId, StringInterner, TypeId, TypeInfo};

/// Objects per pass-2 chunk: small enough to balance threads, large enough to amortize a task.
pub const CHUNK_OBJECTS: u32 = 1 << 16;

/// One object as pass 1 sees it.
#[derive(Clone, Copy)]
#[repr(C)]
pub struct ObjectEntry {
    pub address: u64,
    pub edges: u32,
    /// The object's position among OBJECT records in file order.
    pub file_index: u32,
}

/// A ROOT record, not yet resolved to a node.
pub struct RawRoot {
    pub address: u64,
    pub kind: u8,
    pub name: StrId,
    pub offset: usize,
}

/// The counts the END record promises.
pub struct EndRecord {
    pub objects: u64,
    pub edges: u64,
    pub roots: u64,
    pub duration_ns: u64,
    pub rss_bytes: u64,
}

pub struct Scan {
    pub meta: serde_json::Map<String, serde_json::Value>,
    pub objects: Vec<ObjectEntry>,
    /// Where pass 2 may start a chunk: (file offset, file index of its first object).
    pub chunks: Vec<(usize, u32)>,
    pub end_offset: usize,
    pub interner: StringInterner,
    /// File string id -> graph string id.
    pub file_strings: Vec<StrId>,
    /// File string id -> offset of its STRING record, for reading names lazily.
    pub string_offsets: Vec<u64>,
    pub type_ids: HashMap<u64, TypeId>,
    pub type_table: Vec<TypeInfo>,
    pub roots: Vec<RawRoot>,
    /// FACT records: (address, fact code), not yet resolved to nodes.
    pub facts: Vec<(u64, u8)>,
    /// TRACE and ALLOCATED records, not yet resolved to nodes.
    pub sites: SiteRecords,
    pub total_edges: u64,
    pub end: EndRecord,
}

/// Runs pass 1 over the whole file; `walked` is told each byte range it has finished with.
pub fn scan(data: &[u8], walked: &dyn Fn(usize, usize)) -> Result<Scan, FormatError> {
    let mut offset = check_header(data)?;
    // Every OBJECT record takes at least 45 bytes, so this bounds the count by what the file can hold;
    // untouched capacity costs address space, not memory.
    let max_objects = data.len() / (RECORD_PREFIX + OBJECT_HEADER);
    let mut s = Scan {
        meta: serde_json::Map::new(),
        objects: Vec::with_capacity(max_objects),
        chunks: Vec::new(),
        end_offset: 0,
        interner: StringInterner::default(),
        file_strings: Vec::new(),
        string_offsets: Vec::new(),
        type_ids: HashMap::new(),
        type_table: Vec::new(),
        roots: Vec::new(),
        facts: Vec::new(),
        sites: SiteRecords::default(),
        total_edges: 0,
        end: EndRecord {
            objects: 0,
            edges: 0,
            roots: 0,
            duration_ns: 0,
            rss_bytes: 0,
        },
    };
    let mut first = true;
    let mut reported = offset;
    loop {
        if offset == data.len() {
            return err(
                offset,
                "the dump ends without its END record: it was cut short (was the dumper killed or the disk \
                 full?); take the dump again",
            );
        }
        let rec = record_at(data, offset)?;
        if first && rec.tag != TAG_META {
            return err(offset, "the first record must be META");
        }
        first = false;
        match rec.tag {
            TAG_META => s.read_meta(&rec)?,
            TAG_STRING => s.read_string(&rec)?,
            TAG_TYPE => s.read_type(&rec)?,
            TAG_OBJECT => s.read_object(&rec)?,
            TAG_ROOT => s.read_root(&rec)?,
            TAG_FACT => s.read_fact(&rec)?,
            TAG_TRACE => {
                let (strings, file_strings) = (s.interner.strings(), &s.file_strings);
                s.sites
                    .read_trace(&rec, |id| match file_strings.get(id as usize) {
                        Some(&text) => Ok(strings.get(text)),
                        None => err(rec.offset, undefined_string(id)),
                    })?
            }
            TAG_ALLOCATED => s.sites.read_allocated(&rec)?,
            TAG_END => {
                s.read_end(&rec)?;
                s.end_offset = offset;
                break;
            }
            _ => {} // unknown records are skipped: later minor versions may add some
        }
        offset += RECORD_PREFIX + rec.payload.len();
        if offset - reported >= 1 << 24 {
            walked(reported, offset);
            reported = offset;
        }
    }
    walked(reported, offset);
    s.check_end_counts()?;
    Ok(s)
}

impl Scan {
    fn read_meta(&mut self, rec: &Record<'_>) -> Result<(), FormatError> {
        match serde_json::from_slice::<serde_json::Value>(rec.payload) {
            Ok(serde_json::Value::Object(map)) => {
                self.meta = map;
                Ok(())
            }
            Ok(_) => err(rec.offset, "META record is JSON but not an object"),
            Err(e) => err(rec.offset, format!("META record is not valid JSON: {e}")),
        }
    }

    fn read_string(&mut self, rec: &Record<'_>) -> Result<(), FormatError> {
        if rec.payload.len() < 4 {
            return err(rec.offset, "STRING record shorter than its id");
        }
        let id = u32_at(rec.payload, 0);
        if id as usize != self.file_strings.len() {
            return err(
                rec.offset,
                format!(
                    "STRING id {id} out of order: ids must count up from 0, expected {}",
                    self.file_strings.len()
                ),
            );
        }
        let Ok(text) = std::str::from_utf8(&rec.payload[4..]) else {
            return err(rec.offset, "STRING record is not valid UTF-8");
        };
        self.file_strings.push(self.interner.intern(text));
        self.string_offsets.push(rec.offset as u64);
        Ok(())
    }

    /// The graph string id for file string `id`, which must already be defined.
    fn string(&self, id: u32, offset: usize) -> Result<StrId, FormatError> {
        match self.file_strings.get(id as usize) {
            Some(&s) => Ok(s),
            None => err(offset, undefined_string(id)),
        }
    }

    fn read_type(&mut self, rec: &Record<'_>) -> Result<(), FormatError> {
        if rec.payload.len() != 16 {
            return err(
                rec.offset,
                format!("TYPE record must be 16 bytes, not {}", rec.payload.len()),
            );
        }
        let object = u64_at(rec.payload, 0);
        let module = self.string(u32_at(rec.payload, 8), rec.offset)?;
        let name = self.string(u32_at(rec.payload, 12), rec.offset)?;
        let id = self.type_table.len() as TypeId;
        if self.type_ids.insert(object, id).is_some() {
            return err(
                rec.offset,
                format!("type object {object:#x} is described twice"),
            );
        }
        self.type_table.push(TypeInfo {
            module,
            name,
            object,
        });
        Ok(())
    }

    fn read_object(&mut self, rec: &Record<'_>) -> Result<(), FormatError> {
        let header = ObjectHeader::parse(rec)?;
        let file_index = self.objects.len();
        if file_index >= u32::MAX as usize {
            return err(
                rec.offset,
                "more than 4 billion objects: too many for this heapgraph",
            );
        }
        if file_index as u32 % CHUNK_OBJECTS == 0 {
            self.chunks.push((rec.offset, file_index as u32));
        }
        self.total_edges += header.edges as u64;
        self.objects.push(ObjectEntry {
            address: header.address,
            edges: header.edges,
            file_index: file_index as u32,
        });
        Ok(())
    }

    fn read_root(&mut self, rec: &Record<'_>) -> Result<(), FormatError> {
        if rec.payload.len() != 13 {
            return err(
                rec.offset,
                format!("ROOT record must be 13 bytes, not {}", rec.payload.len()),
            );
        }
        let name = self.string(u32_at(rec.payload, 9), rec.offset)?;
        self.roots.push(RawRoot {
            address: u64_at(rec.payload, 0),
            kind: rec.payload[8],
            name,
            offset: rec.offset,
        });
        Ok(())
    }

    fn read_fact(&mut self, rec: &Record<'_>) -> Result<(), FormatError> {
        if rec.payload.len() != 9 {
            return err(
                rec.offset,
                format!("FACT record must be 9 bytes, not {}", rec.payload.len()),
            );
        }
        self.facts.push((u64_at(rec.payload, 0), rec.payload[8]));
        Ok(())
    }

    fn read_end(&mut self, rec: &Record<'_>) -> Result<(), FormatError> {
        if rec.payload.len() != 40 {
            return err(
                rec.offset,
                format!("END record must be 40 bytes, not {}", rec.payload.len()),
            );
        }
        let p = rec.payload;
        self.end = EndRecord {
            objects: u64_at(p, 0),
            edges: u64_at(p, 8),
            roots: u64_at(p, 16),
            duration_ns: u64_at(p, 24),
            rss_bytes: u64_at(p, 32),
        };
        Ok(())
    }

    fn check_end_counts(&self) -> Result<(), FormatError> {
        let seen = (
            self.objects.len() as u64,
            self.total_edges,
            self.roots.len() as u64,
        );
        let promised = (self.end.objects, self.end.edges, self.end.roots);
        if seen != promised {
            return err(
                self.end_offset,
                format!(
                    "END record promises {} objects, {} edges and {} roots, but the dump holds {}, {} and {}: \
                     the file is corrupt",
                    promised.0, promised.1, promised.2, seen.0, seen.1, seen.2
                ),
            );
        }
        if self.total_edges > u32::MAX as u64 {
            return err(
                self.end_offset,
                format!(
                    "{} references: more than this heapgraph's limit of 4,294,967,295",
                    self.total_edges
                ),
            );
        }
        Ok(())
    }
}

fn undefined_string(id: u32) -> String {
    format!("refers to string id {id}, which is not defined before it")
}
