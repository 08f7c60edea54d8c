//! Files with several heap dumps (the legacy hprof agent writes one per request): which one to read, and
//! what the user hears about the others. Dumps are numbered from 1 in file order, as MAT's `#1`, `#2`;
//! without a choice the first is read, as MAT and jhat read it.

use super::header::Header;
use super::records::{HeapDump, Records};
use crate::error::{err, FormatError};
use serde_json::{json, Map, Value};

/// The index in `records.heap_dumps` of the dump `heap` names (1-based), or of the first.
pub fn select(records: &Records, heap: Option<u32>) -> Result<usize, FormatError> {
    let count = records.heap_dumps.len();
    match heap {
        None => Ok(0),
        Some(n) if n >= 1 && n as usize <= count => Ok(n as usize - 1),
        Some(n) => err(
            records.heap_dumps[0].offset,
            format!(
                "there is no heap dump #{n}: the file holds {}; give --heap 1{}",
                plural(count),
                match count {
                    1 => String::new(),
                    _ => format!(" to --heap {count}"),
                }
            ),
        ),
    }
}

/// "1 heap dump", "2 heap dumps".
fn plural(count: usize) -> String {
    match count {
        1 => "1 heap dump".into(),
        n => format!("{n} heap dumps"),
    }
}

/// Records every dump of the file (`heap_dumps`: number, offset, bytes, Unix time) and the one read
/// (`heap_dump`) in the dump's metadata, when the file holds more than one.
pub fn describe(records: &Records, header: &Header, chosen: usize, meta: &mut Map<String, Value>) {
    if records.heap_dumps.len() < 2 {
        return;
    }
    let dumps = records
        .heap_dumps
        .iter()
        .enumerate()
        .map(|(i, d)| {
            json!({
                "number": i + 1,
                "offset": d.offset,
                "bytes": d.bytes(),
                "time": unix_time(header, d),
            })
        })
        .collect();
    meta.insert("heap_dumps".into(), Value::Array(dumps));
    meta.insert("heap_dump".into(), (chosen + 1).into());
}

/// The warning for a file of several dumps read without a choice: which one this is, how to read another.
pub fn default_warning(records: &Records, heap: Option<u32>) -> Option<String> {
    let count = records.heap_dumps.len();
    (heap.is_none() && count > 1).then(|| {
        format!(
            "the file holds {}; this is #1, the first (as MAT and jhat read it); `--heap N` reads #N, \
             and `heapgraph info` lists them",
            plural(count)
        )
    })
}

/// When `dump` was taken, in Unix seconds.
pub fn unix_time(header: &Header, dump: &HeapDump) -> f64 {
    (header.timestamp_ms as f64 + dump.micros as f64 / 1000.0) / 1000.0
}
