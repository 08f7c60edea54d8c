//! Java heap dumps (HPROF 1.0.1, 1.0.2 and Android's 1.0.3), as HotSpot's `jcmd GC.heap_dump`, `jmap` and
//! `-XX:+HeapDumpOnOutOfMemoryError` write them. `docs/formats.md` says how they map to the graph.
//!
//! Loading mirrors the Python reader: a walk over the top-level record headers ([`records`]) finds the
//! names and the heap dump segments; pass 1 ([`scan`]) frames the segments in parallel and keeps 16 bytes
//! per object; the class table ([`classes`]) flattens each class's instance layout; objects are numbered
//! in address order; pass 2 ([`resolve`]) decodes every object ([`decode`]) in parallel chunks straight
//! into the graph's arrays. Shallow sizes model HotSpot's layout ([`sizes`]).

mod classes;
mod cursor;
mod decode;
mod details;
mod gzip;
mod header;
mod records;
mod resolve;
mod roots;
mod scan;
mod sizes;
mod subrecords;

pub use gzip::GZIP_MAGIC;
pub use header::MAGIC_PREFIX;

use crate::error::FormatError;
use crate::pages::{map_dump, release_pages};
use crate::{Dump, Format, LoadError, LoadProgress, LoadStats};
use heapgraph_graph::{AddressIndex, Graph, GraphParts, NodeId, StringInterner};
use std::collections::HashMap;
use std::fs::File;
use std::path::Path;
use std::time::Instant;
use subrecords::HeapObject;

/// Loads a gzip-compressed HPROF dump (see [`gzip`]).
pub(crate) fn load_gzip(
    path: &Path,
    file: File,
    progress: &dyn LoadProgress,
) -> Result<Dump, LoadError> {
    let inflated = gzip::inflate(path, file, progress)?;
    load(path, inflated, Format::HprofGzip, progress)
}

/// Loads an HPROF dump from `file` (the dump at `path`, or its inflated copy).
pub(crate) fn load(
    path: &Path,
    file: File,
    format: Format,
    progress: &dyn LoadProgress,
) -> Result<Dump, LoadError> {
    let started = Instant::now();
    let located = |e: FormatError| LoadError::new(path, Some(e.offset), e.message);
    let map = map_dump(path, &file)?;
    let data: &[u8] = &map;
    let data_len = data.len() as u64;

    let header = header::parse(data).map_err(located)?;
    let id_size = header.id_size;
    progress.phase("reading records", data.len() as u64);
    let records = records::walk(data, header.body_start, id_size).map_err(located)?;
    let cut = records.cut_short.is_some();
    let scan = scan::scan(data, &records.heap_segments, cut, id_size, &|start, end| {
        progress.advance((end - start) as u64);
        release_pages(&map, start, end);
    })
    .map_err(located)?;

    let mut interner = StringInterner::default();
    let mut classes =
        classes::ClassTable::build(scan.classes, &records, data, id_size, &mut interner)
            .map_err(located)?;
    let numbering = resolve::number(scan.objects).map_err(located)?;
    let object_array_len = |node: usize| {
        // An object array's length sits after its tag, id and stack trace serial.
        let offset = numbering.offsets[node] as usize;
        (data.get(offset) == Some(&subrecords::TAG_OBJECT_ARRAY)).then(|| {
            let at = offset + 1 + id_size + 4;
            data.get(at..at + 4).map_or(0, |b| {
                u32::from_be_bytes(b.try_into().expect("4 bytes")) as u64
            })
        })
    };
    let layout = sizes::detect(id_size, &numbering.addresses, &object_array_len);
    classes.apply_layout(&layout);

    let index = AddressIndex::new(&numbering.addresses);
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
        |node: NodeId| describe(&decoder, &class_names, numbering.offsets[node as usize]);
    let mut roots = roots::collect(
        &scan.roots,
        &records,
        data,
        &numbering.addresses,
        &index,
        &describe,
        &mut interner,
    );
    let mut extra_edges = std::mem::take(&mut roots.thread_locals);
    extra_edges.extend(classes.loader_edges(&numbering.addresses, &index));
    extra_edges.sort_by_key(|e| e.0);
    progress.phase("resolving references", numbering.addresses.len() as u64);
    let resolved = resolve::resolve(&decoder, &numbering, &index, &extra_edges, &|chunk| {
        progress.advance(chunk.objects);
        if chunk.first < chunk.last {
            release_pages(&map, chunk.first as usize, chunk.last as usize);
        }
    })
    .map_err(located)?;
    release_pages(&map, 0, data.len());

    let details = details::JavaDetails {
        id_size,
        offsets: numbering.offsets,
        class_names,
        string: details::StringLayout::find(&classes, id_size),
        map,
    };
    let graph = Graph::from_parts(GraphParts {
        addresses: numbering.addresses,
        types: resolved.types,
        sizes: resolved.sizes,
        offsets: resolved.offsets,
        targets: resolved.targets,
        labels: resolved.labels,
        roots: roots.roots,
        type_table: classes.types,
        strings: interner.freeze(),
        details: Box::new(details),
    })
    .map_err(|e| LoadError::graph_bug(path, e))?;

    let warnings = records
        .cut_short
        .iter()
        .map(|why| {
            let whole = scan.whole_until.unwrap_or(records.end);
            format!(
                "the dump was cut short (was the JVM killed while dumping, or the disk full?): {why}; loaded \
                 the {} objects in its first {whole} bytes, the last {} bytes are lost",
                graph.node_count(),
                data_len - whole as u64
            )
        })
        .collect();
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
    meta.insert("time".into(), (header.timestamp_ms as f64 / 1000.0).into());
    meta.insert("id_size".into(), id_size.into());
    meta.insert(
        "compressed_references".into(),
        (layout.ref_size == 4 && id_size == 8).into(),
    );
    meta.insert("object_alignment".into(), layout.alignment.into());
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
