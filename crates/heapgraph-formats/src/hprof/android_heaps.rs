//! Android's named heaps. ART and Dalvik write a HEAP DUMP INFO sub-record before the objects of each
//! heap: `image` (the boot image, mapped from disk), `zygote` (shared by every app, forked from the
//! zygote process) and `app` (the app's own objects), the heaps Android Studio's memory profiler tells
//! apart. Each object belongs to the heap of the last HEAP DUMP INFO before it in the file.
//!
//! `--heap app` reads the app heap alone, as Android Studio shows it: the other heaps' objects are left
//! out, references into them dropped, and the app objects they reference become roots.

use super::decode::Decoder;
use super::records::Records;
use super::scan::ObjectEntry;
use super::sorted_runs::SegmentLists;
use crate::error::{err, FormatError};
use heapgraph_graph::{Addresses, Graph, NodeId};
use serde_json::{json, Map, Value};

/// Which named heap each object is in.
pub struct Heaps {
    /// The heaps' names, in the order the dump first names them.
    names: Vec<String>,
    /// Per node, an index into `names`, or `names.len()` before the first HEAP DUMP INFO.
    of: Vec<u16>,
}

/// The heap of each of `nodes` objects, whose sub-records start at `offset_of(node)`, from the HEAP DUMP
/// INFO sub-records `infos` (offset and name id, in file order). `None` when the dump names no heap
/// (HotSpot's).
pub fn assign(
    nodes: usize,
    offset_of: impl Fn(usize) -> u64,
    infos: &[(u64, u64)],
    records: &Records,
    data: &[u8],
) -> Option<Heaps> {
    if infos.is_empty() {
        return None;
    }
    let mut ids: Vec<u64> = Vec::new();
    let heap_of_info: Vec<u16> = infos
        .iter()
        .map(|&(_, name)| match ids.iter().position(|&n| n == name) {
            Some(i) => i as u16,
            None => {
                ids.push(name);
                (ids.len() - 1) as u16
            }
        })
        .collect();
    let before_any = ids.len() as u16;
    let of = (0..nodes)
        .map(
            |node| match infos.partition_point(|&(at, _)| at < offset_of(node)) {
                0 => before_any,
                i => heap_of_info[i - 1],
            },
        )
        .collect();
    let names = ids
        .iter()
        .map(|&id| match records.text(data, id) {
            Some(text) => text.into_owned(),
            None => format!("<heap {id:#x}>"),
        })
        .collect();
    Some(Heaps { names, of })
}

/// Records per heap, in the order the dump first names them, its name, objects and shallow bytes in the
/// dump's metadata, as `heaps`.
pub fn describe(graph: &Graph, heaps: &Heaps, meta: &mut Map<String, Value>) {
    let mut tallies = vec![(0u64, 0u64); heaps.names.len() + 1];
    for node in 0..graph.node_count() as NodeId {
        let tally = &mut tallies[heaps.of[node as usize] as usize];
        tally.0 += 1;
        tally.1 += graph.shallow_size(node);
    }
    let list = tallies
        .iter()
        .enumerate()
        .filter(|(_, t)| t.0 > 0)
        .map(|(i, &(objects, bytes))| {
            let name = heaps.names.get(i).map_or("(unnamed)", String::as_str);
            json!({
                "name": name,
                "objects": objects,
                "bytes": bytes,
            })
        })
        .collect();
    meta.insert("heaps".into(), Value::Array(list));
}

/// Splits pass 1's objects into those of the heap named `name` and the others, by the HEAP DUMP INFO
/// sub-records `infos`, each list of `objects` on its own, so the heap's stay in lists sorted as pass 1's
/// were. An error names the heaps there are when none is called `name`.
pub fn split(
    objects: Vec<SegmentLists>,
    infos: &[(u64, u64)],
    name: &str,
    records: &Records,
    data: &[u8],
) -> Result<(Vec<SegmentLists>, Vec<ObjectEntry>), FormatError> {
    let mut names: Vec<String> = Vec::new();
    let matching: Vec<bool> = infos
        .iter()
        .map(|&(_, id)| {
            let text = records.text(data, id).unwrap_or_default();
            if !names.iter().any(|n| *n == text) {
                names.push(text.to_string());
            }
            text == name
        })
        .collect();
    if !matching.contains(&true) {
        let at = infos.first().map_or(0, |&(at, _)| at as usize);
        return match names.is_empty() {
            true => err(
                at,
                format!(
                    "the dump names no heaps (only Android's do), so there is no {name} heap; \
                     leave out --heap or give a heap dump's number"
                ),
            ),
            false => err(
                at,
                format!(
                    "the dump has no heap named {name}; its heaps are {}",
                    names.join(", ")
                ),
            ),
        };
    }
    let in_heap = |o: &ObjectEntry| match infos.partition_point(|&(at, _)| at < o.offset) {
        0 => false,
        i => matching[i - 1],
    };
    let mut outside = Vec::new();
    let heap = objects
        .into_iter()
        .map(|part| part.partition(in_heap, &mut outside))
        .collect();
    Ok((heap, outside))
}

/// The objects read (numbered by `addresses`) that objects of the other heaps (`outside`) reference,
/// each once: the roots of a heap read alone, as the other heaps hold them.
pub fn held_from_outside(
    decoder: &Decoder<'_>,
    outside: &[ObjectEntry],
    addresses: &Addresses,
) -> Result<Vec<NodeId>, FormatError> {
    let mut held = Vec::new();
    for o in outside {
        let object = decoder.object_at(o.offset)?;
        decoder.references(&object, o.offset, |target, _| {
            held.extend(addresses.find(target));
        })?;
    }
    held.sort_unstable();
    held.dedup();
    Ok(held)
}
