//! Pass 1: frame every heap sub-record, in parallel over the heap dump segments, keeping per object only
//! its address and where its record starts (16 bytes), plus the class dumps and GC roots.
//!
//! HotSpot never splits a sub-record across segments (it starts a new segment instead), so each segment
//! is framed on its own thread; a sub-record running past its segment's end is reported as corrupt.

use super::cursor::Cursor;
use super::subrecords::{self, ClassDump, HeapObject, RawRoot, SubRecord};
use crate::error::FormatError;
use rayon::prelude::*;
use std::ops::Range;

/// One object as pass 1 sees it.
#[derive(Clone, Copy)]
pub struct ObjectEntry {
    pub address: u64,
    /// File offset of the object's sub-record tag.
    pub offset: u64,
}

#[derive(Default)]
pub struct Scan {
    pub objects: Vec<ObjectEntry>,
    pub classes: Vec<ClassDump>,
    pub roots: Vec<RawRoot>,
    /// In a dump cut short: where the last whole sub-record of the incomplete segment ends.
    pub whole_until: Option<usize>,
}

/// Frames all `segments`; `walked` is told each segment finished. When `last_is_cut`, the last segment
/// was cut short with the file and is read up to its last whole sub-record.
pub fn scan(
    data: &[u8],
    segments: &[Range<usize>],
    last_is_cut: bool,
    id_size: usize,
    walked: &(dyn Fn(usize, usize) + Sync),
) -> Result<Scan, FormatError> {
    let parts: Vec<Result<Scan, FormatError>> = segments
        .par_iter()
        .enumerate()
        .map(|(i, segment)| {
            let cut = last_is_cut && i + 1 == segments.len();
            let out = scan_segment(&data[..segment.end], segment.start, id_size, cut);
            walked(segment.start, segment.end);
            out
        })
        .collect();
    let mut all = Scan::default();
    for part in parts {
        let part = part?;
        all.objects.extend(part.objects);
        all.classes.extend(part.classes);
        all.roots.extend(part.roots);
        all.whole_until = all.whole_until.or(part.whole_until);
    }
    Ok(all)
}

fn scan_segment(data: &[u8], start: usize, id_size: usize, cut: bool) -> Result<Scan, FormatError> {
    let mut s = Scan::default();
    let mut c = Cursor::new(data, start, id_size);
    while c.pos() < data.len() {
        let offset = c.pos() as u64;
        let sub_record = match subrecords::parse(&mut c) {
            Ok(sub_record) => sub_record,
            Err(_) if cut => {
                s.whole_until = Some(offset as usize);
                break;
            }
            Err(e) => return Err(e),
        };
        match sub_record {
            SubRecord::Root(root) => s.roots.push(root),
            SubRecord::Object(object) => {
                s.objects.push(ObjectEntry {
                    address: object.id(),
                    offset,
                });
                if let HeapObject::Class(class) = object {
                    s.classes.push(class);
                }
            }
            SubRecord::Skipped => {}
        }
    }
    Ok(s)
}
