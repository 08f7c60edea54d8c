//! Allocation stacks: the STACK TRACE each INSTANCE, OBJECT ARRAY and PRIMITIVE ARRAY dump names.
//!
//! The legacy hprof agent (`-agentlib:hprof=heap=dump`, JDK 8 and older) and Android's allocation
//! tracker record where each object was allocated. HotSpot's own dumps do not: every object names one
//! empty trace, and the traces with frames are the threads' stacks, which the ROOT THREAD OBJECT
//! records name. So a dump can hold allocation stacks only if a trace with frames is left once the
//! threads' are set aside; only then are the objects' records read again for their trace serial, and a
//! HotSpot dump pays nothing per object.
//!
//! A frame is `package.Class.method` (the class found by its LOAD CLASS serial), the source file and
//! the line; a frame without a line (0, or -1 unknown, -2 compiled, -3 native) has line 0.

use super::classes::java_name;
use super::records::Records;
use super::subrecords::{
    RawRoot, TAG_INSTANCE, TAG_OBJECT_ARRAY, TAG_PRIMITIVE_ARRAY, TAG_PRIMITIVE_ARRAY_NODATA,
};
use crate::record_offsets::RecordOffsets;
use heapgraph_graph::{AllocationSites, AllocationSitesBuilder, FrameId, NodeId, RootKind};
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};

/// The allocation stacks of the objects whose sub-records are at `offsets`.
pub fn read(
    data: &[u8],
    id_size: usize,
    records: &Records,
    roots: &[RawRoot],
    offsets: &RecordOffsets,
) -> AllocationSites {
    let framed: HashSet<u32> = records
        .traces
        .iter()
        .filter(|(_, frames)| !frames.is_empty())
        .map(|(&serial, _)| serial)
        .collect();
    let threads: HashSet<u32> = roots
        .iter()
        .filter(|r| r.kind == RootKind::ThreadObject)
        .filter_map(|r| r.trace_serial)
        .collect();
    if framed.is_subset(&threads) {
        return AllocationSites::default();
    }
    let objects: Vec<(NodeId, u32)> = (0..offsets.len())
        .into_par_iter()
        .filter_map(|node| {
            let serial = trace_serial(data, offsets.at(node) as usize, id_size)?;
            framed.contains(&serial).then_some((node as NodeId, serial))
        })
        .collect();
    let mut builder = AllocationSitesBuilder::default();
    let mut frames: HashMap<u64, FrameId> = HashMap::new();
    let mut traces = HashMap::new();
    for (node, serial) in objects {
        let trace = *traces.entry(serial).or_insert_with(|| {
            let stack: Vec<FrameId> = records.traces[&serial]
                .iter()
                .map(|&id| {
                    *frames
                        .entry(id)
                        .or_insert_with(|| frame(&mut builder, data, records, id))
                })
                .collect();
            builder.trace(&stack)
        });
        builder.object(node, trace);
    }
    builder.finish()
}

/// The stack trace serial of the object whose sub-record starts at `at`: the 4 bytes after its tag and
/// id; `None` for class dumps and anything that is not an object.
fn trace_serial(data: &[u8], at: usize, id_size: usize) -> Option<u32> {
    let tag = *data.get(at)?;
    if !matches!(
        tag,
        TAG_INSTANCE | TAG_OBJECT_ARRAY | TAG_PRIMITIVE_ARRAY | TAG_PRIMITIVE_ARRAY_NODATA
    ) {
        return None;
    }
    let start = at + 1 + id_size;
    let bytes = data.get(start..start + 4)?;
    Some(u32::from_be_bytes(bytes.try_into().ok()?))
}

/// FRAME record `id` as a frame; a frame the dump lacks, or whose names it lacks, reads as much as is
/// there (`?` for a missing method name).
fn frame(builder: &mut AllocationSitesBuilder, data: &[u8], records: &Records, id: u64) -> FrameId {
    let Some(f) = records.frames.get(&id) else {
        return builder.frame(&format!("(frame {id:#x} not in the dump)"), "", 0);
    };
    let text = |id: u64| records.text(data, id).map(|t| t.into_owned());
    let class = records
        .class_serials
        .get(&f.class_serial)
        .and_then(|class| records.class_names.get(class))
        .and_then(|&name| text(name))
        .map(|name| java_name(&name));
    let method = text(f.method).unwrap_or_else(|| "?".into());
    let function = match class {
        Some(class) => format!("{class}.{method}"),
        None => method,
    };
    let file = text(f.source).unwrap_or_default();
    builder.frame(&function, &file, f.line.max(0) as u32)
}
