//! Pass 1: one sequential walk over every record, reading only what is needed to number the objects.
//!
//! It validates every record's framing, interns strings and types, and collects per object just its
//! address, edge count and position in the file (16 bytes), so that objects can be numbered in address
//! order before any edge is read. The walk is two threads: the framer steps from record to record and
//! reads every record but the objects, handing each chunk of objects it has passed to a reader thread,
//! which reads their headers (most of the work) a chunk behind it.

use super::record::*;
use super::sites::SiteRecords;
use hashbrown::HashMap;
use heapgraph_graph::{StrId, StringInterner, TypeId, TypeInfo};
use std::ops::Range;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

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
#[derive(Default)]
pub struct EndRecord {
    pub objects: u64,
    pub edges: u64,
    pub roots: u64,
    pub duration_ns: u64,
    pub rss_bytes: u64,
}

#[derive(Default)]
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
    /// OBJECT records the framer has passed.
    object_count: usize,
}

/// Runs pass 1 over the whole file; `walked` is told each byte range it has finished with.
pub fn scan(data: &[u8], walked: &(dyn Fn(usize, usize) + Sync)) -> Result<Scan, FormatError> {
    let header_end = check_header(data)?;
    // Every OBJECT record takes at least 45 bytes, so this bounds the count by what the file can hold;
    // untouched capacity costs address space, not memory.
    let max_objects = data.len() / (RECORD_PREFIX + OBJECT_HEADER);
    // The framer waits when it is this many chunks (some 5 MB each) ahead: the file's pages leave our
    // resident set only once the reader is done with them.
    let (chunks, objects_in) = sync_channel(2);
    std::thread::scope(|threads| {
        let reader = threads.spawn(move || read_objects(data, objects_in, max_objects, walked));
        let mut s = Scan::default();
        let framed = s.frame(data, header_end, &chunks, walked);
        drop(chunks);
        let read = reader
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        // The reader only had objects before where the framer stopped: its error comes first.
        let (objects, total_edges) = read?;
        let end = framed?;
        s.objects = objects;
        s.total_edges = total_edges;
        walked(s.end_offset, end);
        s.check_end_counts()?;
        Ok(s)
    })
}

/// The reader thread: the headers of the OBJECT records in each byte range `chunks` hands it (a whole
/// number of records, in file order), with the sum of their edge counts. Stops at the first bad header.
fn read_objects(
    data: &[u8],
    chunks: Receiver<Range<usize>>,
    max_objects: usize,
    walked: &(dyn Fn(usize, usize) + Sync),
) -> Result<(Vec<ObjectEntry>, u64), FormatError> {
    let mut objects = Vec::with_capacity(max_objects);
    let mut edges = 0u64;
    for chunk in chunks {
        let mut offset = chunk.start;
        while offset < chunk.end {
            let rec = record_at(data, offset)?;
            offset += RECORD_PREFIX + rec.payload.len();
            if rec.tag != TAG_OBJECT {
                continue;
            }
            let header = ObjectHeader::parse(&rec)?;
            edges += header.edges as u64;
            objects.push(ObjectEntry {
                address: header.address,
                edges: header.edges,
                file_index: objects.len() as u32,
            });
        }
        walked(chunk.start, chunk.end);
    }
    Ok((objects, edges))
}

impl Scan {
    /// The framer: every record from `offset` to the END record, objects only counted and handed to the
    /// reader in chunks of [`CHUNK_OBJECTS`] (the last one, and the one cut short by an error, too).
    /// Returns the END record's end. `walked` hears of what precedes the first object (the reader, of
    /// the chunks).
    fn frame(
        &mut self,
        data: &[u8],
        mut offset: usize,
        chunks: &SyncSender<Range<usize>>,
        walked: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<usize, FormatError> {
        let header_end = offset;
        let framed = self.frame_records(data, &mut offset, chunks);
        // Whatever stopped the framer, the reader still reads the objects before it.
        match (self.chunks.first(), self.chunks.last()) {
            (Some(&(first, _)), Some(&(last, _))) => {
                walked(header_end, first);
                let _ = chunks.send(last..offset);
            }
            _ => walked(header_end, offset),
        }
        framed
    }

    /// The framer's loop; `offset` ends at the END record (or at the record that is in error). Returns
    /// the END record's end.
    fn frame_records(
        &mut self,
        data: &[u8],
        offset: &mut usize,
        chunks: &SyncSender<Range<usize>>,
    ) -> Result<usize, FormatError> {
        let mut first = true;
        loop {
            if *offset == data.len() {
                return err(
                    *offset,
                    "the dump ends without its END record: it was cut short (was the dumper killed or the \
                     disk full?); take the dump again",
                );
            }
            let rec = record_at(data, *offset)?;
            if first && rec.tag != TAG_META {
                return err(*offset, "the first record must be META");
            }
            first = false;
            match rec.tag {
                TAG_META => self.read_meta(&rec)?,
                TAG_STRING => self.read_string(&rec)?,
                TAG_TYPE => self.read_type(&rec)?,
                TAG_OBJECT => self.count_object(&rec, chunks)?,
                TAG_ROOT => self.read_root(&rec)?,
                TAG_FACT => self.read_fact(&rec)?,
                TAG_TRACE => {
                    let (strings, file_strings) = (self.interner.strings(), &self.file_strings);
                    self.sites
                        .read_trace(&rec, |id| match file_strings.get(id as usize) {
                            Some(&text) => Ok(strings.get(text)),
                            None => err(rec.offset, undefined_string(id)),
                        })?
                }
                TAG_ALLOCATED => self.sites.read_allocated(&rec)?,
                TAG_END => {
                    self.read_end(&rec)?;
                    self.end_offset = *offset;
                    return Ok(*offset + RECORD_PREFIX + rec.payload.len());
                }
                _ => {} // unknown records are skipped: later minor versions may add some
            }
            *offset += RECORD_PREFIX + rec.payload.len();
        }
    }

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

    /// Counts an OBJECT record, whose header the reader reads; a chunk starting here hands the one
    /// before it to the reader.
    fn count_object(
        &mut self,
        rec: &Record<'_>,
        chunks: &SyncSender<Range<usize>>,
    ) -> Result<(), FormatError> {
        let file_index = self.object_count;
        if file_index >= u32::MAX as usize {
            return err(
                rec.offset,
                "more than 4 billion objects: too many for this heapgraph",
            );
        }
        if file_index as u32 % CHUNK_OBJECTS == 0 {
            if let Some(&(start, _)) = self.chunks.last() {
                // A reader gone has stopped at an error, which the scan reports.
                let _ = chunks.send(start..rec.offset);
            }
            self.chunks.push((rec.offset, file_index as u32));
        }
        self.object_count += 1;
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
