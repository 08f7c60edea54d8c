//! Opening an index file: every check before anything is trusted, then the graph and the analyses
//! assembled from arrays read in place.
//!
//! Checked in this order, each failure a reason to rebuild: the header (kind, version, byte order, its
//! own checksum, every section inside the file), the dump's identity, every section's checksum (all in
//! parallel: about 40 ms per GB when the file is cached), then each structure's own invariants as the
//! graph and the analyses check them, so that even a file forged with matching checksums cannot make a
//! query read out of bounds.

use crate::error::IndexError;
use crate::identity::DumpIdentity;
use crate::layout::{Header, Section};
use crate::sections::*;
use heapgraph_analysis::{
    Analysis, Dominators, Histogram, RetainedSizes, SavedDominators, SavedRetained, ShortestPaths,
    UnreferencedReport,
};
use heapgraph_formats::{Dump, Format, LoadStats};
use heapgraph_graph::{
    Addresses, Backing, Column, Directory, EdgeLabels, Graph, NodeTypes, Plain, Root, RootKind,
    SavedDetails, SavedGraph, ShallowSizes, SharedValues, StrId, Strings, TypeInfo, WeakEdges,
};
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

/// The sections of a checked file, by tag.
struct Sections<'a> {
    backing: &'a Backing,
    by_tag: HashMap<u32, Section>,
}

impl Sections<'_> {
    /// The node types, 2 or 4 bytes each as the writer had them.
    fn node_types(&self) -> Result<NodeTypes, String> {
        match self.by_tag.get(&TYPES).map(|s| s.elem_size) {
            Some(2) => Ok(NodeTypes::Narrow(self.column(TYPES)?)),
            _ => Ok(NodeTypes::Wide(self.column(TYPES)?)),
        }
    }

    fn column<T: Plain>(&self, tag: u32) -> Result<Column<T>, String> {
        let s = self
            .by_tag
            .get(&tag)
            .ok_or_else(|| format!("section {tag} is missing"))?;
        if s.elem_size as usize != std::mem::size_of::<T>() {
            return Err(format!(
                "section {tag} has {}-byte elements, expected {}",
                s.elem_size,
                std::mem::size_of::<T>()
            ));
        }
        let (offset, count) = (usize::try_from(s.offset), usize::try_from(s.count));
        let (Ok(offset), Ok(count)) = (offset, count) else {
            return Err(format!("section {tag} does not fit in memory"));
        };
        Column::mapped(self.backing, offset, count).map_err(|e| format!("section {tag}: {}", e.0))
    }

    /// The `i`-th detail arrays of one element size, as many as the file has.
    fn detail_columns<T: Plain>(&self, base: u32) -> Result<Vec<Column<T>>, String> {
        (base..base + DETAILS_MAX as u32)
            .take_while(|tag| self.by_tag.contains_key(tag))
            .map(|tag| self.column(tag))
            .collect()
    }
}

/// Reads the index in `backing` for the dump at `dump_path`, whose identity now is `identity`.
pub fn read_index(
    backing: &Backing,
    dump_path: &Path,
    identity: DumpIdentity,
) -> Result<(Dump, Analysis), IndexError> {
    let started = Instant::now();
    let file: &[u8] = (**backing).as_ref();
    let header = Header::decode(file)?;
    if header.identity != identity {
        return Err(IndexError::stale(
            "it was made from another version of the dump (size, time or first bytes differ)",
        ));
    }
    let damaged = header.sections.par_iter().find_any(|s| {
        let bytes = &file[s.offset as usize..(s.offset + s.byte_len()) as usize];
        crate::checksum::checksum(bytes) != s.checksum
    });
    if let Some(s) = damaged {
        return Err(IndexError::corrupt(format!(
            "section {} at offset {} does not match its checksum",
            s.tag, s.offset
        )));
    }
    let mut by_tag = HashMap::with_capacity(header.sections.len());
    for s in &header.sections {
        if by_tag.insert(s.tag, *s).is_some() {
            return Err(IndexError::corrupt(format!(
                "section {} appears twice",
                s.tag
            )));
        }
    }
    let sections = Sections { backing, by_tag };
    let meta_bytes: Column<u8> = sections.column(META).map_err(IndexError::corrupt)?;
    // The checksums held, so a summary that does not parse was written by another heapgraph, unless it
    // names this version, when it was forged or written by a bug.
    let meta: Meta = serde_json::from_slice(&meta_bytes).map_err(|e| {
        let why = format!("its summary section is not what this heapgraph writes: {e}");
        match serde_json::from_slice::<MetaWriter>(&meta_bytes) {
            Ok(w) if w.heapgraph == env!("CARGO_PKG_VERSION") => IndexError::corrupt(why),
            Ok(_) => IndexError::stale(why),
            Err(_) => IndexError::corrupt(why),
        }
    })?;
    if meta.heapgraph != env!("CARGO_PKG_VERSION") {
        return Err(IndexError::stale(format!(
            "it was written by heapgraph {}, this is {}",
            meta.heapgraph,
            env!("CARGO_PKG_VERSION")
        )));
    }
    // Past the checks above the file is sound and this heapgraph's own, so whatever the remaining
    // checks refuse was forged or broken by a bug: the sections below are all corrupt if wrong.
    let format = *Format::ALL
        .get(meta.format)
        .ok_or_else(|| IndexError::corrupt("it names an unknown dump format"))?;
    let graph = read_graph(&sections, &meta, dump_path, format).map_err(IndexError::corrupt)?;
    let Meta {
        dump_meta,
        file_bytes,
        dangling_edges,
        warnings,
        histogram,
        unreferenced,
        ..
    } = meta;
    let unreferenced =
        with_nodes(&sections, unreferenced, graph.node_count()).map_err(IndexError::corrupt)?;
    let analysis =
        read_analysis(&sections, histogram, unreferenced, &graph).map_err(IndexError::corrupt)?;
    let dump = Dump {
        path: dump_path.to_path_buf(),
        format,
        graph,
        meta: dump_meta,
        stats: LoadStats {
            file_bytes,
            dangling_edges,
            load_time: started.elapsed(),
            warnings,
        },
    };
    Ok((dump, analysis))
}

fn read_graph(
    sections: &Sections<'_>,
    meta: &Meta,
    dump_path: &Path,
    format: Format,
) -> Result<Graph, String> {
    let text: Column<u8> = sections.column(STRING_TEXT)?;
    let text = String::from_utf8(text.to_vec()).map_err(|_| "its string table is not UTF-8")?;
    let ends: Column<u64> = sections.column(STRING_ENDS)?;
    let strings = Strings::from_saved(text, &ends)?;

    let (modules, names): (Column<u32>, Column<u32>) =
        (sections.column(TYPE_MODULES)?, sections.column(TYPE_NAMES)?);
    let objects: Column<u64> = sections.column(TYPE_OBJECTS)?;
    if modules.len() != names.len() || names.len() != objects.len() {
        return Err("its type table's columns disagree in length".into());
    }
    let type_table = (0..names.len())
        .map(|i| TypeInfo {
            module: StrId(modules[i]),
            name: StrId(names[i]),
            object: objects[i],
        })
        .collect();

    let (nodes, kinds, root_names): (Column<u32>, Column<u32>, Column<u32>) = (
        sections.column(ROOT_NODES)?,
        sections.column(ROOT_KINDS)?,
        sections.column(ROOT_NAMES)?,
    );
    if nodes.len() != kinds.len() || kinds.len() != root_names.len() {
        return Err("its root table's columns disagree in length".into());
    }
    let roots = (0..nodes.len())
        .map(|i| {
            Ok(Root {
                node: nodes[i],
                kind: RootKind::from_code(kinds[i]).ok_or("a root has an unknown kind")?,
                name: StrId(root_names[i]),
            })
        })
        .collect::<Result<Vec<Root>, String>>()?;

    let (big_nodes, big_sizes): (Column<u32>, Column<u64>) = (
        sections.column(BIG_SIZE_NODES)?,
        sections.column(BIG_SIZES)?,
    );
    if big_nodes.len() != big_sizes.len() {
        return Err("its big-size columns disagree in length".into());
    }
    let sizes = ShallowSizes::from_saved(
        sections.column(SIZES)?,
        big_nodes.iter().copied().zip(big_sizes.iter().copied()),
    );

    let starts = sections.column(DIRECTORY_STARTS)?;
    let directory = match meta.dense_directory {
        Some(d) => Directory::Dense {
            base: d.base,
            shift: d.shift,
            starts,
        },
        None => Directory::Sparse {
            keys: sections.column(DIRECTORY_KEYS)?,
            starts,
        },
    };
    let details = SavedDetails {
        text: meta.details.clone(),
        u64s: sections.detail_columns(DETAILS_U64)?,
        u32s: sections.detail_columns(DETAILS_U32)?,
        u8s: sections.detail_columns(DETAILS_U8)?,
    };
    let details = heapgraph_formats::reopen_details(dump_path, format, details)
        .ok_or("its object details do not fit the dump's format")?;
    let offsets: Column<u32> = sections.column(EDGE_OFFSETS)?;
    let edge_count = offsets.last().map_or(0, |&o| o as usize);
    let saved = SavedGraph {
        addresses: Addresses::from_saved(directory, sections.column(ADDRESSES)?)?,
        types: sections.node_types()?,
        stored_sizes: sizes,
        shared_sizes: SharedValues {
            by_type: sections.column(SIZE_SHARED)?,
            bits: sections.column(SIZE_SHARED_BITS)?,
        },
        offsets,
        stored_targets: sections.column(EDGE_TARGETS)?,
        shared_first: SharedValues {
            by_type: sections.column(EDGE_SHARED_FIRST)?,
            bits: sections.column(EDGE_SHARED_BITS)?,
        },
        labels: EdgeLabels::saved(
            sections.column(EDGE_LABELS)?,
            WeakEdges::from_saved(sections.column(EDGE_WEAK)?, edge_count)?,
        ),
        roots,
        type_table,
        strings,
        details,
    };
    Graph::from_saved(saved).map_err(|e| e.to_string())
}

/// The unreferenced report of the summary section with its groups' node lists put back.
fn with_nodes(
    sections: &Sections<'_>,
    mut report: UnreferencedReport,
    node_count: usize,
) -> Result<UnreferencedReport, String> {
    let groups = [
        &mut report.held_from_outside,
        &mut report.frame_locals,
        &mut report.garbage,
        &mut report.unreachable,
    ];
    for (group, tag) in groups.into_iter().zip(UNREFERENCED_NODES) {
        let nodes: Column<u32> = sections.column(tag)?;
        if nodes.iter().any(|&n| n as usize >= node_count) {
            return Err(format!("section {tag} lists an object that does not exist"));
        }
        group.nodes = nodes.to_vec();
    }
    Ok(report)
}

fn read_analysis(
    sections: &Sections<'_>,
    histogram: Histogram,
    unreferenced: UnreferencedReport,
    graph: &Graph,
) -> Result<Analysis, String> {
    let n = graph.node_count();
    let dominators = Dominators::from_saved(
        SavedDominators {
            pre: sections.column(DOMINATOR_PRE)?,
            vertex: sections.column(DOMINATOR_VERTEX)?,
            idom: sections.column(DOMINATOR_IDOM)?,
        },
        n,
    )?;
    let by_type: Column<u64> = sections.column(RETAINED_BY_TYPE)?;
    let retained = RetainedSizes::from_saved(
        &dominators,
        SavedRetained {
            by_vertex: sections.column(RETAINED)?,
            big_vertices: sections.column(RETAINED_BIG_VERTICES)?,
            big_sizes: sections.column(RETAINED_BIG_SIZES)?,
            by_type: by_type.to_vec(),
        },
        graph.type_count(),
    )?;

    let paths = ShortestPaths::from_saved(sections.column(PATH_VIA)?, n, graph.edge_count())?;
    Ok(Analysis {
        dominators,
        retained,
        paths,
        histogram,
        unreferenced,
    })
}
