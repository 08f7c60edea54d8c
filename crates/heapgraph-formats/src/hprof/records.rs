//! The top-level records: one cheap sequential walk over their 9-byte headers.
//!
//! It keeps what the heap sub-records refer to (UTF-8 names, class names, stack frames and traces) and the
//! byte ranges of the HEAP DUMP / HEAP DUMP SEGMENT bodies, which pass 1 then reads in parallel. Record
//! order is not relied on: newer JDKs interleave segments with other records.

use super::cursor::{read_id, Cursor};
use crate::error::{err, FormatError};
use std::collections::HashMap;
use std::ops::Range;

const TAG_UTF8: u8 = 0x01;
const TAG_LOAD_CLASS: u8 = 0x02;
const TAG_FRAME: u8 = 0x04;
const TAG_TRACE: u8 = 0x05;
const TAG_HEAP_DUMP: u8 = 0x0C;
const TAG_HEAP_DUMP_SEGMENT: u8 = 0x1C;
const TAG_HEAP_DUMP_END: u8 = 0x2C;
/// Tag, time and length.
const RECORD_HEADER: usize = 9;

/// A stack frame: method name, its class's serial, source file name (string ids) and line: above 0 a
/// line, 0 none, -1 unknown, -2 compiled code, -3 a native method.
pub struct Frame {
    pub method: u64,
    pub class_serial: u32,
    pub source: u64,
    pub line: i32,
}

/// One heap dump in the file: a HEAP DUMP record, or HEAP DUMP SEGMENT records up to a HEAP DUMP END.
/// The legacy hprof agent writes one per request, so a file may hold several (numbered from 1, as MAT's
/// `#1`, `#2`).
#[derive(Clone, Debug, Default)]
pub struct HeapDump {
    /// Where its first record starts.
    pub offset: usize,
    /// Its first record's time field: microseconds after the header's timestamp.
    pub micros: u32,
    /// Its record bodies.
    pub segments: Vec<Range<usize>>,
}

impl HeapDump {
    /// Bytes of heap records, headers included.
    pub fn bytes(&self) -> u64 {
        self.segments
            .iter()
            .map(|s| (s.len() + RECORD_HEADER) as u64)
            .sum()
    }
}

#[derive(Default)]
pub struct Records {
    /// UTF8 string id -> its bytes' range in the file.
    pub utf8: HashMap<u64, Range<usize>>,
    /// Class object id -> name string id (JVM internal form, `java/lang/String`).
    pub class_names: HashMap<u64, u64>,
    /// Class serial -> class object id.
    pub class_serials: HashMap<u32, u64>,
    pub frames: HashMap<u64, Frame>,
    /// Stack trace serial -> frame ids, innermost first.
    pub traces: HashMap<u32, Vec<u64>>,
    /// Every heap dump in the file, in file order; never empty.
    pub heap_dumps: Vec<HeapDump>,
    /// Where the last whole record ends.
    pub end: usize,
    /// Set when the file was cut short: why, in words. The last heap segment may then be incomplete, and
    /// pass 1 reads only its whole sub-records.
    pub cut_short: Option<String>,
}

impl Records {
    /// A UTF8 record's text (modified UTF-8, decoded leniently).
    pub fn text<'a>(&self, data: &'a [u8], id: u64) -> Option<std::borrow::Cow<'a, str>> {
        let range = self.utf8.get(&id)?;
        Some(String::from_utf8_lossy(&data[range.clone()]))
    }
}

/// Walks every top-level record from `start`. A file cut short is not an error: the walk stops at the
/// last whole record (keeping the incomplete heap segment, if that is where the cut is) and says why in
/// `cut_short`. `walked(from, to)` is told every few megabytes how far the walk got, so the caller can hand
/// those pages back: reading one record header faults in the whole page-cache folio around it, and on a
/// recent kernel a walk over a 1.7 GB dump's headers left 870 MB of it mapped.
pub fn walk(
    data: &[u8],
    start: usize,
    id_size: usize,
    walked: &dyn Fn(usize, usize),
) -> Result<Records, FormatError> {
    const RELEASE_EVERY: usize = 16 << 20;
    let mut r = Records::default();
    let mut offset = start;
    let mut released = 0;
    // Segmented dumps end with HEAP DUMP END; a file without it was cut at a record boundary. A HEAP DUMP
    // record is a whole dump (MAT and jhat count them the same way).
    let mut open_segments = false;
    let heap_record =
        |r: &mut Records, offset: usize, micros: u32, body: Range<usize>, open: bool| {
            if !open {
                r.heap_dumps.push(HeapDump {
                    offset,
                    micros,
                    segments: Vec::new(),
                });
            }
            if let Some(dump) = r.heap_dumps.last_mut() {
                dump.segments.push(body);
            }
        };
    while offset < data.len() {
        if data.len() - offset < RECORD_HEADER {
            r.cut_short = Some(format!(
                "the file ends {} bytes into a record header",
                data.len() - offset
            ));
            break;
        }
        let mut c = Cursor::new(data, offset, id_size);
        let tag = c.u1("a record tag")?;
        let micros = c.u4("a record's time")?;
        let len = c.u4("a record's length")? as usize;
        let body_start = c.pos();
        let left = data.len() - body_start;
        if len > left {
            r.cut_short = Some(format!(
                "the record at byte {offset} (tag {tag:#04x}) says it has {len} bytes but only {left} remain"
            ));
            if matches!(tag, TAG_HEAP_DUMP | TAG_HEAP_DUMP_SEGMENT) {
                heap_record(
                    &mut r,
                    offset,
                    micros,
                    body_start..data.len(),
                    open_segments,
                );
            }
            offset = data.len();
            break;
        }
        let body = body_start..body_start + len;
        let mut b = Cursor::new(&data[..body.end], body_start, id_size);
        match tag {
            TAG_UTF8 => {
                let id = b.id("a UTF8 record's id")?;
                r.utf8.insert(id, b.pos()..body.end);
            }
            TAG_LOAD_CLASS => {
                let serial = b.u4("LOAD CLASS serial")?;
                let class = b.id("LOAD CLASS class id")?;
                b.u4("LOAD CLASS stack trace serial")?;
                let name = b.id("LOAD CLASS name id")?;
                r.class_names.insert(class, name);
                r.class_serials.insert(serial, class);
            }
            TAG_FRAME => {
                let id = b.id("FRAME id")?;
                let method = b.id("FRAME method name")?;
                b.id("FRAME signature")?;
                let source = b.id("FRAME source file")?;
                let class_serial = b.u4("FRAME class serial")?;
                let line = b.u4("FRAME line")? as i32;
                r.frames.insert(
                    id,
                    Frame {
                        method,
                        class_serial,
                        source,
                        line,
                    },
                );
            }
            TAG_TRACE => {
                let serial = b.u4("TRACE serial")?;
                b.u4("TRACE thread serial")?;
                let n = b.u4("TRACE frame count")? as usize;
                // Checked against the record's length before anything is allocated.
                let frames = b
                    .bytes(n.saturating_mul(id_size), "TRACE frames")?
                    .chunks_exact(id_size)
                    .map(|id| read_id(id, 0, id_size))
                    .collect();
                r.traces.insert(serial, frames);
            }
            TAG_HEAP_DUMP => {
                heap_record(&mut r, offset, micros, body.clone(), open_segments);
                open_segments = false;
            }
            TAG_HEAP_DUMP_SEGMENT => {
                heap_record(&mut r, offset, micros, body.clone(), open_segments);
                open_segments = true;
            }
            TAG_HEAP_DUMP_END => open_segments = false,
            _ => {} // legacy agent records (ALLOC SITES, CPU SAMPLES, ...) carry nothing the graph needs
        }
        offset = body.end;
        if offset - released >= RELEASE_EVERY {
            walked(released, offset);
            released = offset;
        }
    }
    if open_segments && r.cut_short.is_none() {
        r.cut_short = Some("the heap dump segments are not followed by HEAP DUMP END".into());
    }
    if r.heap_dumps.is_empty() {
        let why = r.cut_short.map_or(String::new(), |w| format!(" ({w})"));
        return err(
            offset,
            format!("the file holds no HEAP DUMP record: it has no objects to read{why}"),
        );
    }
    r.end = offset;
    Ok(r)
}
