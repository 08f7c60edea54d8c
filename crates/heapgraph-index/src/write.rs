//! Writing a dump's graph and analyses into an index file.
//!
//! The arrays are written as they sit in memory: no encoding, so that a later command maps them and
//! reads them in place. The file appears under its final name only once complete (written to a
//! temporary name in the same directory, then renamed), so a crash mid-write leaves no half index.

use crate::error::{IndexError, IoAction};
use crate::identity::DumpIdentity;
use crate::layout::{Header, Section, ALIGN};
use crate::sections::*;
use heapgraph_analysis::Analysis;
use heapgraph_formats::{Dump, Format, LoadProgress};
use heapgraph_graph::{plain_bytes, Column, Directory, NodeTypes, Plain};
use rayon::prelude::*;
use std::io::Write;
use std::path::Path;

/// One array to write: its tag, element size and bytes.
struct Array<'a> {
    tag: u32,
    elem_size: u32,
    bytes: &'a [u8],
}

fn array<T: Plain>(tag: u32, values: &[T]) -> Array<'_> {
    Array {
        tag,
        elem_size: std::mem::size_of::<T>() as u32,
        bytes: plain_bytes(values),
    }
}

/// Writes the index of `dump` (whose identity is `identity`) and `analysis` to `path`; returns its size.
pub fn write_index(
    path: &Path,
    identity: DumpIdentity,
    dump: &Dump,
    analysis: &Analysis,
    progress: &dyn LoadProgress,
) -> Result<u64, IndexError> {
    let graph = &dump.graph;
    let dominators = analysis.dominators.saved();
    let via = analysis.paths.saved();
    let details = graph.detail_source().saved();
    if [details.u64s.len(), details.u32s.len(), details.u8s.len()]
        .iter()
        .any(|&n| n > DETAILS_MAX)
    {
        return Err(IndexError::Unwritable {
            why: "the dump's detail source has more arrays than an index holds".into(),
        });
    }
    let (sizes, shared_sizes) = graph.raw().saved_sizes();
    let big = sizes.big_entries();
    let big_nodes: Vec<u32> = big.iter().map(|b| b.0).collect();
    let big_sizes: Vec<u64> = big.iter().map(|b| b.1).collect();
    let roots = graph.roots();
    let root_nodes: Vec<u32> = roots.iter().map(|r| r.node).collect();
    let root_kinds: Vec<u32> = roots.iter().map(|r| r.kind.code()).collect();
    let root_names: Vec<u32> = roots.iter().map(|r| r.name.0).collect();
    let types = graph.type_table();
    let type_modules: Vec<u32> = types.iter().map(|t| t.module.0).collect();
    let type_names: Vec<u32> = types.iter().map(|t| t.name.0).collect();
    let type_objects: Vec<u64> = types.iter().map(|t| t.object).collect();
    let string_ends: Vec<u64> = graph.strings().ends().collect();
    let unreferenced = &analysis.unreferenced;
    let groups = [
        &unreferenced.held_from_outside,
        &unreferenced.frame_locals,
        &unreferenced.garbage,
        &unreferenced.unreachable,
    ];
    let (directory, address_offsets) = graph.addresses().saved();
    let (dense_directory, directory_arrays) = match directory {
        Directory::Dense {
            base,
            shift,
            starts,
        } => (
            Some(DenseDirectory {
                base: *base,
                shift: *shift,
            }),
            vec![array(DIRECTORY_STARTS, starts)],
        ),
        Directory::Sparse { keys, starts } => (
            None,
            vec![array(DIRECTORY_STARTS, starts), array(DIRECTORY_KEYS, keys)],
        ),
    };
    let mut without_nodes = unreferenced.clone();
    for group in [
        &mut without_nodes.held_from_outside,
        &mut without_nodes.frame_locals,
        &mut without_nodes.garbage,
        &mut without_nodes.unreachable,
    ] {
        group.nodes = Vec::new();
    }
    let meta = Meta {
        heapgraph: env!("CARGO_PKG_VERSION").to_string(),
        format: Format::ALL
            .iter()
            .position(|&f| f == dump.format)
            .unwrap_or(0),
        dump_meta: dump.meta.clone(),
        file_bytes: dump.stats.file_bytes,
        dangling_edges: dump.stats.dangling_edges,
        warnings: dump.stats.warnings.clone(),
        dense_directory,
        histogram: analysis.histogram.clone(),
        unreferenced: without_nodes,
        details: details.text.clone(),
    };
    let meta =
        serde_json::to_vec(&meta).map_err(|e| IndexError::Unwritable { why: e.to_string() })?;
    let (offsets, weak) = graph.raw().forward_csr();
    let (targets, shared_first) = graph.raw().saved_targets();
    let offsets = offsets.to_column();
    let labels = graph.all_labels();
    let idom = analysis.dominators.preorder_idoms();
    let retained = analysis.retained.saved();
    let mut arrays = vec![
        array(META, &meta),
        array(ADDRESSES, address_offsets),
        match graph.types() {
            NodeTypes::Narrow(types) => array(TYPES, types),
            NodeTypes::Wide(types) => array(TYPES, types),
        },
        array(SIZES, sizes.dense()),
        array(SIZE_SHARED, &shared_sizes.by_type),
        array(SIZE_SHARED_BITS, &shared_sizes.bits),
        array(BIG_SIZE_NODES, &big_nodes),
        array(BIG_SIZES, &big_sizes),
        array(EDGE_OFFSETS, &offsets),
        array(EDGE_TARGETS, targets),
        array(EDGE_SHARED_FIRST, &shared_first.by_type),
        array(EDGE_SHARED_BITS, &shared_first.bits),
        array(EDGE_LABELS, &labels),
        array(EDGE_WEAK, weak.saved()),
        array(ROOT_NODES, &root_nodes),
        array(ROOT_KINDS, &root_kinds),
        array(ROOT_NAMES, &root_names),
        array(TYPE_MODULES, &type_modules),
        array(TYPE_NAMES, &type_names),
        array(TYPE_OBJECTS, &type_objects),
        array(STRING_TEXT, graph.strings().text().as_bytes()),
        array(STRING_ENDS, &string_ends),
        array(DOMINATOR_PRE, &dominators.pre),
        array(DOMINATOR_VERTEX, &dominators.vertex),
        array(DOMINATOR_IDOM, idom),
        array(RETAINED, &retained.by_vertex),
        array(RETAINED_BIG_VERTICES, &retained.big_vertices),
        array(RETAINED_BIG_SIZES, &retained.big_sizes),
        array(RETAINED_BY_TYPE, &retained.by_type),
        array(PATH_VIA, via),
    ];
    arrays.extend(directory_arrays);
    for (tag, group) in UNREFERENCED_NODES.iter().zip(groups) {
        arrays.push(array(*tag, &group.nodes));
    }
    arrays.extend(details_arrays(DETAILS_U64, &details.u64s));
    arrays.extend(details_arrays(DETAILS_U32, &details.u32s));
    arrays.extend(details_arrays(DETAILS_U8, &details.u8s));
    write_arrays(path, identity, &arrays, progress)
}

fn details_arrays<T: Plain>(base: u32, columns: &[Column<T>]) -> impl Iterator<Item = Array<'_>> {
    columns
        .iter()
        .enumerate()
        .map(move |(i, c)| array(base + i as u32, c))
}

/// Lays the arrays out after the header, checksums them and writes the file under a temporary name,
/// renaming it to `path` once complete.
fn write_arrays(
    path: &Path,
    identity: DumpIdentity,
    arrays: &[Array<'_>],
    progress: &dyn LoadProgress,
) -> Result<u64, IndexError> {
    let mut at = Header::encoded_len(arrays.len()).next_multiple_of(ALIGN);
    let sections: Vec<Section> = arrays
        .par_iter()
        .map(|a| (a, crate::checksum::checksum(a.bytes)))
        .collect::<Vec<_>>()
        .into_iter()
        .map(|(a, checksum)| {
            let section = Section {
                tag: a.tag,
                elem_size: a.elem_size,
                offset: at,
                count: a.bytes.len() as u64 / a.elem_size as u64,
                checksum,
            };
            at = (at + a.bytes.len() as u64).next_multiple_of(ALIGN);
            section
        })
        .collect();
    let header = Header { identity, sections }.encode();
    progress.phase("writing the index", at);
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp{}", std::process::id()));
    let tmp = std::path::PathBuf::from(tmp);
    let written = (|| -> std::io::Result<u64> {
        let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&tmp)?);
        out.write_all(&header)?;
        let mut pos = header.len() as u64;
        for a in arrays {
            let start = pos.next_multiple_of(ALIGN);
            out.write_all(&[0u8; ALIGN as usize][..(start - pos) as usize])?;
            out.write_all(a.bytes)?;
            pos = start + a.bytes.len() as u64;
            progress.advance(a.bytes.len() as u64);
        }
        out.flush()?;
        std::fs::rename(&tmp, path)?;
        Ok(pos)
    })();
    written.map_err(|error| {
        let _ = std::fs::remove_file(&tmp);
        IndexError::Io {
            action: IoAction::Write,
            path: path.to_path_buf(),
            error,
        }
    })
}
