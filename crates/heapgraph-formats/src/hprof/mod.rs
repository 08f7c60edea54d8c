//! Java heap dumps (HPROF 1.0.1, 1.0.2 and Android's 1.0.3), as HotSpot's `jcmd GC.heap_dump`, `jmap` and
//! `-XX:+HeapDumpOnOutOfMemoryError` write them. `docs/formats.md` says how they map to the graph.
//!
//! Loading mirrors the Python reader: a walk over the top-level record headers ([`records`]) finds the
//! names and the heap dump segments; pass 1 ([`scan`]) frames the segments in parallel and keeps 16 bytes
//! per object; the class table ([`classes`]) flattens each class's instance layout; objects are numbered
//! in address order, read through a merge of the segments' sorted lists ([`sorted_runs`]); pass 2
//! ([`resolve`]) decodes every object ([`decode`]) in parallel chunks straight into the graph's arrays.
//! Shallow sizes model HotSpot's layout ([`sizes`]). Dumps that record where
//! objects were allocated give their stacks ([`allocation_sites`]).

mod allocation_sites;
mod android_heaps;
mod classes;
mod cursor;
mod decode;
pub(crate) mod details;
mod header;
mod heaps;
mod histogram;
mod leak_facts;
mod records;
mod resolve;
mod roots;
mod scan;
mod sizes;
mod sorted_runs;
mod subrecords;

pub use header::MAGIC_PREFIX;

use crate::dump_bytes::DumpBytes;
use crate::error::FormatError;
use crate::pages::{map_dump, release_pages};
use crate::{Dump, Format, HeapChoice, LoadError, LoadProgress, LoadStats};
use heapgraph_graph::timings::phase;
use heapgraph_graph::{
    EdgeLabels, Graph, GraphParts, NodeId, NodeTypes, Root, RootKind, StringInterner,
};
use scan::Keep;
use std::collections::HashMap;
use std::fs::File;
use std::path::Path;
use std::time::Instant;
use subrecords::HeapObject;

pub(crate) use histogram::histogram;

/// Memory the rest of a load surely takes per object counted in pass 1, edges aside: the numbering (address
/// and offset, 16 B, made while pass 1's list still exists) and the graph's per-object arrays (type, size,
/// forward and reverse offsets, 16 B), plus pass 2's edge counts (4 B).
const GRAPH_BYTES_PER_OBJECT_FLOOR: u64 = 36;

/// What pass 1 leaves for the rest of a load: the mapped dump, its records, the framed heap and the class
/// table sized for the VM's layout. Shared by the graph load and the shallow histogram.
pub(crate) struct FirstPass {
    map: memmap2::Mmap,
    header: header::Header,
    records: records::Records,
    scan: scan::Scan,
    classes: classes::ClassTable,
    interner: StringInterner,
    layout: sizes::Layout,
    /// The heap dump read, as its index in `records.heap_dumps`.
    chosen: usize,
    /// What the user should hear: which of several dumps this is, a file cut short.
    warnings: Vec<String>,
}

impl FirstPass {
    /// Pass 1 over heap dump number `heap` (from 1) of the file, or over its first.
    fn read(
        path: &Path,
        file: &File,
        heap: Option<u32>,
        keep: Keep,
        progress: &dyn LoadProgress,
    ) -> Result<FirstPass, LoadError> {
        let located = |e: FormatError| LoadError::new(path, Some(e.offset), e.message);
        let map = map_dump(path, file)?;
        let data: &[u8] = &map;
        let header = header::parse(data).map_err(located)?;
        let id_size = header.id_size;
        progress.phase("reading records", data.len() as u64);
        let records = phase("walking records", || {
            records::walk(data, header.body_start, id_size, &|start, end| {
                release_pages(&map, start, end)
            })
        })
        .map_err(located)?;
        let chosen = heaps::select(&records, heap).map_err(located)?;
        // Only the file's last dump can be cut short.
        let cut = records.cut_short.is_some() && chosen + 1 == records.heap_dumps.len();
        let mut scan = phase("scanning heap records", || {
            scan::scan(
                data,
                &records.heap_dumps[chosen].segments,
                cut,
                id_size,
                keep,
                &|start, end| {
                    progress.advance((end - start) as u64);
                    release_pages(&map, start, end);
                },
            )
        })
        .map_err(located)?;
        let mut interner = StringInterner::default();
        let classes = std::mem::take(&mut scan.classes);
        let mut classes =
            classes::ClassTable::build(classes, &records, data, id_size, &mut interner)
                .map_err(located)?;
        let layout = scan.layout.layout(id_size);
        classes.apply_layout(&layout);
        let mut warnings: Vec<String> =
            heaps::default_warning(&records, heap).into_iter().collect();
        if cut {
            warnings.extend(cut_warning(
                &records,
                scan.whole_until,
                data.len(),
                scan.object_count,
            ));
        }
        Ok(FirstPass {
            map,
            header,
            records,
            scan,
            classes,
            interner,
            layout,
            chosen,
            warnings,
        })
    }
}

/// The heap dump number `heap` picks, if it picks one.
fn dump_number(heap: Option<&HeapChoice>) -> Option<u32> {
    match heap {
        Some(HeapChoice::Dump(n)) => Some(*n),
        _ => None,
    }
}

/// The warning for a dump cut short, if it was: what was loaded and how much is lost.
fn cut_warning(
    first: &records::Records,
    whole_until: Option<usize>,
    len: usize,
    objects: u64,
) -> Option<String> {
    let why = first.cut_short.as_ref()?;
    let whole = whole_until.unwrap_or(first.end);
    Some(format!(
        "the dump was cut short (was the JVM killed while dumping, or the disk full?): {why}; loaded the \
         {objects} objects in its first {whole} bytes, the last {} bytes are lost",
        len - whole
    ))
}

/// Loads the heap dump or named heap `heap` chooses (the whole first dump if `None`) of the HPROF file
/// `file` (the dump at `path`, or its inflated copy).
pub(crate) fn load(
    path: &Path,
    file: File,
    format: Format,
    heap: Option<&HeapChoice>,
    progress: &dyn LoadProgress,
) -> Result<Dump, LoadError> {
    let started = Instant::now();
    let located = |e: FormatError| LoadError::new(path, Some(e.offset), e.message);
    let FirstPass {
        map,
        header,
        records,
        scan,
        mut classes,
        mut interner,
        layout,
        chosen,
        mut warnings,
    } = FirstPass::read(path, &file, dump_number(heap), Keep::Objects, progress)?;
    crate::memory::check_fits(path, scan.object_count * GRAPH_BYTES_PER_OBJECT_FLOOR)?;
    let data: &[u8] = &map;
    let id_size = header.id_size;
    let (objects, outside) = match heap {
        Some(HeapChoice::Named(name)) => {
            android_heaps::split(scan.objects, &scan.heap_infos, name, &records, data)
                .map_err(located)?
        }
        _ => (scan.objects, Vec::new()),
    };
    let numbering = phase("numbering (sort by address)", || {
        resolve::number(objects, map.len() as u64)
    })
    .map_err(located)?;

    let class_names: HashMap<u64, String> = classes
        .classes
        .iter()
        .map(|c| (c.dump.id, c.name.clone()))
        .collect();
    let decoder = decode::Decoder {
        data,
        id_size,
        classes: &classes,
        layout,
    };
    let describe =
        |node: NodeId| describe(&decoder, &class_names, numbering.offsets.at(node as usize));
    let mut roots = phase("roots", || {
        roots::collect(
            &scan.roots,
            &records,
            data,
            &numbering.addresses,
            &describe,
            &mut interner,
        )
    });
    if let Some(HeapChoice::Named(name)) = heap {
        let held = android_heaps::held_from_outside(&decoder, &outside, &numbering.addresses)
            .map_err(located)?;
        let why = interner.intern(&format!("held from outside the {name} heap"));
        roots.roots.extend(held.into_iter().map(|node| Root {
            node,
            kind: RootKind::Unknown,
            name: why,
        }));
        warnings.push(format!(
            "read the {name} heap alone: {} of the dump's {} objects; references into the other heaps \
             are dropped, and the objects they hold are roots",
            numbering.addresses.len(),
            numbering.addresses.len() + outside.len()
        ));
    }
    drop(outside);
    let mut extra_edges = std::mem::take(&mut roots.thread_locals);
    extra_edges.extend(classes.loader_edges(&numbering.addresses));
    extra_edges.sort_by_key(|e| e.0);
    progress.phase("resolving references", numbering.addresses.len() as u64);
    let resolved = phase("resolving references", || {
        resolve::resolve(&decoder, &numbering, &extra_edges, &|chunk| {
            progress.advance(chunk.objects);
            if chunk.first < chunk.last {
                release_pages(&map, chunk.first as usize, chunk.last as usize);
            }
        })
    })
    .map_err(located)?;
    let facts = leak_facts::find(
        &classes,
        &records,
        &decoder,
        &resolved.types,
        &numbering.offsets,
    );
    let sites = allocation_sites::read(data, id_size, &records, &scan.roots, &numbering.offsets);
    release_pages(&map, 0, data.len());

    let heaps = android_heaps::assign(
        numbering.offsets.len(),
        |node| numbering.offsets.at(node),
        &scan.heap_infos,
        &records,
        data,
    );
    let type_table = std::mem::take(&mut classes.types);
    let details = details::JavaDetails {
        offsets: numbering.offsets,
        classes: details::JavaClasses {
            id_size,
            class_names,
            string: details::StringLayout::find(&classes, id_size),
        },
        facts,
        bytes: DumpBytes::loaded(map),
        references: Some(details::JavaReferences {
            classes,
            layout,
            extra: extra_edges,
        }),
    };
    let graph = phase("graph build", || {
        Graph::from_parts(GraphParts {
            addresses: numbering.addresses,
            types: NodeTypes::new(resolved.types, type_table.len()),
            sizes: resolved.sizes,
            offsets: resolved.offsets.into(),
            targets: resolved.targets.into(),
            labels: EdgeLabels::derived(resolved.weak),
            roots: roots.roots,
            type_table,
            strings: interner.freeze(),
            details: Box::new(details),
        })
    })
    .and_then(|graph| graph.with_allocation_sites(sites))
    .map_err(|e| LoadError::graph_bug(path, e))?;

    let mut meta = serde_json::Map::new();
    let references = match (id_size, layout.ref_size) {
        (8, 4) => "compressed references",
        (8, _) => "uncompressed references",
        _ => "32-bit references",
    };
    meta.insert(
        "runtime".into(),
        format!(
            "JVM ({}, {references}, {}-byte object alignment)",
            header
                .version
                .trim_start_matches("JAVA PROFILE ")
                .replace("1.0", "HPROF 1.0"),
            layout.alignment
        )
        .into(),
    );
    meta.insert("hprof_version".into(), header.version.into());
    meta.insert(
        "time".into(),
        heaps::unix_time(&header, &records.heap_dumps[chosen]).into(),
    );
    meta.insert("id_size".into(), id_size.into());
    meta.insert(
        "compressed_references".into(),
        (layout.ref_size == 4 && id_size == 8).into(),
    );
    meta.insert("object_alignment".into(), layout.alignment.into());
    heaps::describe(&records, &header, chosen, &mut meta);
    if let Some(heaps) = &heaps {
        android_heaps::describe(&graph, heaps, &mut meta);
    }
    Ok(Dump {
        path: path.to_path_buf(),
        format,
        graph,
        meta,
        stats: LoadStats {
            file_bytes: records.end as u64,
            dangling_edges: resolved.dangling_edges,
            load_time: started.elapsed(),
            warnings,
        },
    })
}

/// A class object's class name, or another object's type name, read from its sub-record at `at`.
fn describe(decoder: &decode::Decoder<'_>, class_names: &HashMap<u64, String>, at: u64) -> String {
    let name = match decoder.object_at(at) {
        Ok(HeapObject::Class(dump)) => class_names.get(&dump.id).cloned(),
        Ok(HeapObject::Instance { class, .. } | HeapObject::ObjectArray { class, .. }) => {
            class_names.get(&class).cloned()
        }
        Ok(HeapObject::PrimitiveArray { elem, .. }) => {
            subrecords::primitive_name(elem).map(|n| format!("{n}[]"))
        }
        Err(_) => None,
    };
    name.unwrap_or_default()
}

#[cfg(test)]
mod tests;
