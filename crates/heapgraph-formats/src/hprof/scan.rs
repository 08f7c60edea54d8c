//! Pass 1: frame every heap sub-record, in parallel over the heap dump segments, keeping the class dumps,
//! the GC roots, what the addresses say about the VM's layout, and per object either its address and where
//! its record starts (16 bytes, for the graph) or only a tally by class (for the shallow histogram).
//!
//! HotSpot never splits a sub-record across segments (it starts a new segment instead), so each segment
//! is framed on its own thread; a sub-record running past its segment's end is reported as corrupt.

use super::cursor::Cursor;
use super::sizes::LayoutEvidence;
use super::sorted_runs::SegmentLists;
use super::subrecords::{self, ClassDump, HeapObject, RawRoot, SubRecord};
use crate::error::FormatError;
use hashbrown::HashMap;
use rayon::prelude::*;
use std::ops::Range;

/// What pass 1 keeps of each object.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Its address and offset, to build the graph.
    Objects,
    /// Only a count in the [`Tally`].
    Tally,
}

/// Objects counted by what decides their type and size, before the layout is known: instances by class,
/// arrays by class or element type and length (a dump has few distinct lengths per array type).
#[derive(Default)]
pub struct Tally {
    pub instances: HashMap<u64, u64>,
    pub object_arrays: HashMap<(u64, u64), u64>,
    pub primitive_arrays: HashMap<(u8, u64), u64>,
}

impl Tally {
    fn add(&mut self, object: &HeapObject<'_>, id_size: usize) {
        let slot = match object {
            HeapObject::Instance { class, .. } => self.instances.entry(*class),
            HeapObject::ObjectArray {
                class, elements, ..
            } => {
                let len = (elements.len() / id_size) as u64;
                *self.object_arrays.entry((*class, len)).or_default() += 1;
                return;
            }
            HeapObject::PrimitiveArray { elem, len, .. } => {
                *self
                    .primitive_arrays
                    .entry((*elem, *len as u64))
                    .or_default() += 1;
                return;
            }
            // Class objects are counted from `Scan::classes`.
            HeapObject::Class(_) => return,
        };
        *slot.or_default() += 1;
    }

    fn merge(&mut self, other: Tally) {
        for (k, n) in other.instances {
            *self.instances.entry(k).or_default() += n;
        }
        for (k, n) in other.object_arrays {
            *self.object_arrays.entry(k).or_default() += n;
        }
        for (k, n) in other.primitive_arrays {
            *self.primitive_arrays.entry(k).or_default() += n;
        }
    }
}

/// One object as pass 1 sees it.
#[derive(Clone, Copy)]
pub struct ObjectEntry {
    pub address: u64,
    /// File offset of the object's sub-record tag.
    pub offset: u64,
}

#[derive(Default)]
pub struct Scan {
    /// The objects of each segment, sorted by address, in a list per run of segments.
    pub objects: Vec<SegmentLists>,
    pub classes: Vec<ClassDump>,
    pub roots: Vec<RawRoot>,
    pub layout: LayoutEvidence,
    /// With [`Keep::Tally`].
    pub tally: Tally,
    /// Objects framed, whatever was kept of them.
    pub object_count: u64,
    /// In a dump cut short: where the last whole sub-record of the incomplete segment ends.
    pub whole_until: Option<usize>,
    /// Android's HEAP DUMP INFO sub-records in file order: where each is and the string id naming the
    /// heap the objects after it belong to.
    pub heap_infos: Vec<(u64, u64)>,
}

/// Frames all `segments`; `walked` is told each segment finished. When `last_is_cut`, the last segment
/// was cut short with the file and is read up to its last whole sub-record.
pub fn scan(
    data: &[u8],
    segments: &[Range<usize>],
    last_is_cut: bool,
    id_size: usize,
    keep: Keep,
    walked: &(dyn Fn(usize, usize) + Sync),
) -> Result<Scan, FormatError> {
    // Consecutive segments share one part: its object list grows big enough for the allocator to map
    // it on its own, and hands it back whole once the numbering has read it.
    let parts: Vec<Result<Scan, FormatError>> = segments
        .par_iter()
        .enumerate()
        .fold(
            || Ok(Scan::default()),
            |part, (i, segment)| {
                let mut part = part?;
                let cut = last_is_cut && i + 1 == segments.len();
                let data = &data[..segment.end];
                scan_segment(&mut part, data, segment.start, id_size, cut, keep)?;
                walked(segment.start, segment.end);
                Ok(part)
            },
        )
        .collect();
    let parts = parts.into_iter().collect::<Result<Vec<_>, _>>()?;
    let mut all = Scan::default();
    for part in parts {
        all.objects.extend(part.objects);
        all.classes.extend(part.classes);
        all.roots.extend(part.roots);
        all.layout.merge(&part.layout);
        all.tally.merge(part.tally);
        all.object_count += part.object_count;
        all.whole_until = all.whole_until.or(part.whole_until);
        all.heap_infos.extend(part.heap_infos);
    }
    Ok(all)
}

/// Frames the segment from `start` to the end of `data` into `s`.
fn scan_segment(
    s: &mut Scan,
    data: &[u8],
    start: usize,
    id_size: usize,
    cut: bool,
    keep: Keep,
) -> Result<(), FormatError> {
    if keep == Keep::Objects && s.objects.is_empty() {
        s.objects.push(SegmentLists::with_room());
    }
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
                let array_len = match &object {
                    HeapObject::ObjectArray { elements, .. } => {
                        Some((elements.len() / id_size) as u64)
                    }
                    _ => None,
                };
                s.layout.see(object.id(), array_len);
                s.object_count += 1;
                match keep {
                    Keep::Objects => s.objects[0].push(ObjectEntry {
                        address: object.id(),
                        offset,
                    }),
                    Keep::Tally => s.tally.add(&object, id_size),
                }
                if let HeapObject::Class(class) = object {
                    s.classes.push(class);
                }
            }
            SubRecord::HeapInfo { name } => s.heap_infos.push((offset, name)),
        }
    }
    if let Some(lists) = s.objects.first_mut() {
        lists.end_segment();
    }
    Ok(())
}
