//! heapgraph's own Python dump format (`.hgd`), specified in `docs/formats.md`, and the dumper that writes
//! it.
//!
//! Loading is two passes over the memory-mapped file and no intermediate decode: pass 1 ([`scan`]) frames
//! every record and collects 16 bytes per object; objects are numbered in address order ([`number`]); pass 2
//! ([`resolve`]) reads headers and edges in parallel chunks straight into the graph's arrays. Pages already
//! read are handed back to the kernel as the passes go, so a dump much larger than the graph does not
//! inflate the process's resident memory.

pub(crate) mod details;
mod number;
mod record;
mod resolve;
mod roots;
mod scan;
mod sites;

pub use record::MAGIC;

use crate::dump_bytes::DumpBytes;
use crate::pages::{map_dump, release_pages};
use crate::{Dump, Format, LoadError, LoadProgress, LoadStats};
use heapgraph_graph::timings::phase;
use heapgraph_graph::{EdgeLabels, Graph, GraphParts, LeakFacts, NodeTypes};
use record::FormatError;
use std::fs::File;
use std::path::Path;
use std::time::Instant;

/// The dumper script, stdlib-only, written out by `heapgraph dumper`.
pub const DUMPER_SOURCE: &str = include_str!("../../python/heapgraph_dump.py");

/// The file name users import the dumper as.
pub const DUMPER_FILE_NAME: &str = "heapgraph_dump.py";

/// Memory loading an `.hgd` dump takes, per byte of the file: measured 528 MiB of peak RSS for a 720 MiB
/// dump of 10M objects (docs/benchmarks.md); pages of the mapped file are released as they are read and do
/// not count.
const LOAD_BYTES_PER_FILE_BYTE: f64 = 0.7;

/// The least memory loading an `.hgd` file of `file_bytes` takes: the file's size tells, so the check
/// runs before the first record is read.
fn load_floor(file_bytes: u64) -> u64 {
    (file_bytes as f64 * LOAD_BYTES_PER_FILE_BYTE) as u64
}

pub(crate) fn load(
    path: &Path,
    file: File,
    progress: &dyn LoadProgress,
) -> Result<Dump, LoadError> {
    let started = Instant::now();
    if let Ok(metadata) = file.metadata() {
        crate::memory::check_fits(path, load_floor(metadata.len()))?;
    }
    let located = |e: FormatError| LoadError::new(path, Some(e.offset), e.message);
    let map = map_dump(path, &file)?;
    let data: &[u8] = &map;
    let release = |start: usize, end: usize| release_pages(&map, start, end);

    progress.phase("reading records", data.len() as u64);
    let scan = phase("scanning records", || {
        scan::scan(data, &|start, end| {
            progress.advance((end - start) as u64);
            release(start, end);
        })
    })
    .map_err(located)?;

    let mut scan = scan;
    let objects = std::mem::take(&mut scan.objects);
    let numbering = phase("numbering (sort by address)", || number::number(objects))
        .map_err(|m| LoadError::new(path, None, m))?;

    progress.phase("resolving references", numbering.addresses.len() as u64);
    let (resolved, addresses) = phase("resolving references", || {
        resolve::resolve(data, &scan, numbering, &|n| progress.advance(n), &release)
    })
    .map_err(located)?;

    let roots = phase("roots", || {
        let in_degrees =
            resolve::retaining_in_degrees(addresses.len(), &resolved.targets, &resolved.labels);
        roots::collect(
            &scan.roots,
            &mut scan.interner,
            &addresses,
            &resolved.refcounts,
            &in_degrees,
        )
    })
    .map_err(located)?;

    // Refcounts are only needed for the roots: free them before the reverse edges are built.
    drop(resolved.refcounts);
    // A fact about an object not in the dump (freed while the dump ran) is dropped, as a dangling edge is.
    let facts = scan.facts.iter();
    let facts = facts.filter_map(|&(address, code)| Some((addresses.find(address)?, code)));
    let details = details::PythonDetails {
        bytes: DumpBytes::loaded(map),
        record_offsets: resolved.record_offsets,
        string_offsets: std::mem::take(&mut scan.string_offsets).into(),
        facts: LeakFacts::new(facts.collect()),
    };
    let sites = std::mem::take(&mut scan.sites).finish(&addresses);
    let dangling_edges = resolved.dangling_edges;
    let graph = phase("graph build", || {
        Graph::from_parts(GraphParts {
            addresses,
            types: NodeTypes::new(resolved.types, scan.type_table.len()),
            sizes: resolved.sizes,
            offsets: resolved.offsets.into(),
            targets: resolved.targets.into(),
            labels: EdgeLabels::stored(resolved.labels.into()),
            roots,
            type_table: std::mem::take(&mut scan.type_table),
            strings: std::mem::take(&mut scan.interner).freeze(),
            details: Box::new(details),
        })
    })
    .and_then(|graph| graph.with_allocation_sites(sites))
    .map_err(|e| LoadError::graph_bug(path, e))?;

    let mut meta = std::mem::take(&mut scan.meta);
    meta.insert("dump_duration_ns".into(), scan.end.duration_ns.into());
    meta.insert("rss_bytes_after".into(), scan.end.rss_bytes.into());
    Ok(Dump {
        path: path.to_path_buf(),
        format: Format::PythonHgd,
        graph,
        meta,
        stats: LoadStats {
            file_bytes: scan.end_offset as u64,
            dangling_edges,
            load_time: started.elapsed(),
            warnings: Vec::new(),
        },
    })
}

#[cfg(test)]
mod tests;
