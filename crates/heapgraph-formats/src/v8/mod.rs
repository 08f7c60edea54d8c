//! V8 heap snapshots (`.heapsnapshot`), as Node's `v8.writeHeapSnapshot()`, `node --heapsnapshot-signal`
//! and Chrome DevTools write them. `docs/formats.md` says how they map to the graph.
//!
//! The file is JSON, but only its small header is parsed as JSON ([`header`]): the `nodes` and `edges`
//! integer arrays are parsed in parallel straight into columns ([`numbers`], [`columns`]), the `strings`
//! array is indexed and its strings decoded when needed ([`strings`]). The synthetic root and its groups
//! become roots, and DevTools' rules decide which edges retain ([`structure`]). Nodes are numbered by
//! V8's object id, which stays the same across snapshots of one process, so `growth` matches objects
//! between two snapshots and addresses in reports are those ids (`@1234` in DevTools). Snapshots taken
//! while V8 tracked allocations also give each object's allocation stack ([`traces`]).

mod columns;
pub(crate) mod details;
mod devtools;
mod header;
mod labels;
mod numbers;
mod strings;
mod structure;
mod traces;

pub use header::SIGNATURE;

use crate::dump_bytes::DumpBytes;
use crate::error::FormatError;
use crate::pages::{map_dump, release_pages};
use crate::{Dump, Format, LoadError, LoadProgress, LoadStats};
use columns::{Edges, Nodes};
use details::{NameIs, V8Details};
use hashbrown::HashMap;
use heapgraph_graph::timings::phase;
use heapgraph_graph::{
    counts_to_ends, Addresses, EdgeLabels, Graph, GraphParts, LeakFact, LeakFacts, NarrowValues,
    NodeId, NodeTypes, Root, ShallowSizes, StringInterner, TypeId, TypeInfo,
};
use rayon::prelude::*;
use std::fs::File;
use std::path::Path;
use std::time::Instant;
use strings::StringTable;
use structure::{EdgeType, View};

/// Marks a snapshot node that is not a graph node (a synthetic group).
const NONE: NodeId = NodeId::MAX;

/// Memory a load surely takes per snapshot node: its parsed columns (type, name, id, size, edge count:
/// 17 B), the numbering (4 B) and the graph's per-node arrays (address, type, size, edge offset: 16 B).
const BYTES_PER_NODE_FLOOR: u64 = 37;
/// Per snapshot edge: its parsed columns (type, name, target: 9 B) and the graph's target and label (8 B).
const BYTES_PER_EDGE_FLOOR: u64 = 17;

/// Loads the snapshot in `file` (the one at `path`, or its inflated copy), with DevTools' shallow sizes
/// unless `raw_sizes` keeps the file's.
pub(crate) fn load(
    path: &Path,
    file: File,
    format: Format,
    raw_sizes: bool,
    progress: &dyn LoadProgress,
) -> Result<Dump, LoadError> {
    let started = Instant::now();
    let located = |e: FormatError| LoadError::new(path, Some(e.offset), e.message);
    let map = map_dump(path, &file)?;
    let data: &[u8] = &map;
    let file_bytes = data.len() as u64;
    progress.phase("reading the snapshot", file_bytes);
    let (header, sections) = header::parse(data).map_err(located)?;
    // The header's counts are checked against the arrays later; here a forged count is capped by what
    // the file could hold (a number and its comma take 2 bytes), so it cannot inflate the floor.
    let counted = |count: usize| (count as u64).min(file_bytes / 2);
    crate::memory::check_fits(
        path,
        counted(header.node_count) * BYTES_PER_NODE_FLOOR
            + counted(header.edge_count) * BYTES_PER_EDGE_FLOOR,
    )?;
    // The number arrays are most of the file: their pages leave our resident set as they are parsed.
    let parsed = |bytes: std::ops::Range<usize>| release_pages(&map, bytes.start, bytes.end);
    let ((nodes, edges), strings) = rayon::join(
        || {
            rayon::join(
                || {
                    phase("parsing nodes", || {
                        Nodes::read(data, &header, &sections, &parsed)
                    })
                },
                || {
                    phase("parsing edges", || {
                        Edges::read(data, &header, &sections, &parsed)
                    })
                },
            )
        },
        || {
            phase("indexing strings", || {
                StringTable::index(data, sections.strings.clone())
            })
        },
    );
    let (mut nodes, edges, strings) = (
        nodes.map_err(located)?,
        edges.map_err(located)?,
        strings.map_err(located)?,
    );
    progress.advance(data.len() as u64);
    nodes
        .check(&header, strings.len(), sections.nodes.start)
        .map_err(located)?;
    edges
        .check(&header, sections.edges.start)
        .map_err(located)?;
    let edge_types = EdgeType::table(&header.edge_types);
    // Element and hidden edges carry an index, not a string: only a name at or past the strings' end
    // sends the search to the edges' types.
    let misnamed = columns::first_at_least(&edges.names, strings.len()).and_then(|first| {
        (first..edges.names.len()).into_par_iter().find_first(|&e| {
            !edge_types[edges.types[e] as usize].is_indexed()
                && edges.names[e] as usize >= strings.len()
        })
    });
    if let Some(e) = misnamed {
        return Err(located(FormatError {
            offset: sections.edges.start as u64,
            message: format!(
                "edge {e} is named by string {}, beyond the {} strings",
                edges.names[e],
                strings.len()
            ),
        }));
    }
    let edge_ends = edge_ends(
        std::mem::take(&mut nodes.edge_counts),
        header.edge_count,
        sections.nodes.start,
    )
    .map_err(located)?;
    let width = header.node_fields.len();
    if header.root_index % width != 0 || header.root_index / width >= header.node_count {
        return Err(located(FormatError {
            offset: 0,
            message: format!(
                "snapshot.root_index {} is not the index of a node",
                header.root_index
            ),
        }));
    }

    progress.phase("finding roots", 0);
    let view = View {
        nodes: &nodes,
        edges: &edges,
        edge_ends: &edge_ends,
        edge_types: &edge_types,
        synthetic_type: header
            .node_types
            .iter()
            .position(|t| t == "synthetic")
            .and_then(|i| u8::try_from(i).ok()),
        root: (header.root_index / width) as u32,
    };
    let name = |o: u32| {
        strings
            .get(data, nodes.names[o as usize] as usize)
            .map(|s| s.into_owned())
            .unwrap_or_default()
    };
    let structure = phase("roots (structure)", || structure::analyze(&view, &name));

    // Graph nodes in ascending V8 id; the synthetic groups are left out.
    let order = phase("numbering (sort by id)", || {
        let mut order: Vec<u32> = (0..header.node_count as u32)
            .into_par_iter()
            .filter(|&o| !structure.structural[o as usize])
            .collect();
        order.par_sort_unstable_by_key(|&o| nodes.ids.get(o as usize));
        order
    });
    if let Some(w) = order
        .windows(2)
        .find(|w| nodes.ids.get(w[0] as usize) == nodes.ids.get(w[1] as usize))
    {
        return Err(located(FormatError {
            offset: sections.nodes.start as u64,
            message: format!(
                "nodes {} and {} have the same id {}: the snapshot is corrupt",
                w[0],
                w[1],
                nodes.ids.get(w[0] as usize)
            ),
        }));
    }
    let mut node_of = vec![NONE; header.node_count];
    for (id, &o) in order.iter().enumerate() {
        node_of[o as usize] = id as NodeId;
    }

    let sites = traces::read(
        data,
        &header,
        &sections,
        &strings,
        &order,
        &nodes.trace_nodes,
    )
    .map_err(located)?;

    progress.phase("resolving references", order.len() as u64);
    let mut interner = StringInterner::default();
    let kinds = devtools::Kinds::new(&header.node_types);
    let snapshot = devtools::Snapshot {
        view: &view,
        kinds: &kinds,
        node_types: &header.node_types,
        data,
        strings: &strings,
    };
    // Three independent passes, each mostly on one core: side by side.
    let (classes, (locations, devtools_sizes)) = rayon::join(
        || phase("types: classes", || devtools::classes(&snapshot)),
        || {
            rayon::join(
                || {
                    phase("types: locations", || {
                        devtools::locations(data, &header, &sections)
                    })
                },
                || {
                    phase("DevTools shallow sizes", || match raw_sizes {
                        true => None,
                        false => devtools::shallow_sizes(&snapshot, &name),
                    })
                },
            )
        },
    );
    let locations = locations.map_err(located)?;
    let node_sizes = devtools_sizes.as_ref().unwrap_or(&nodes.sizes);
    let (types, type_table) = phase("types", || {
        node_types(
            &Classing {
                classes: &classes,
                locations: &locations,
                is_object: |o| Some(nodes.types[o]) == kinds.object(),
            },
            &nodes.sizes,
            node_sizes,
            &order,
            &mut interner,
        )
    });
    let sizes: ShallowSizes = order.iter().map(|&o| node_sizes.get(o as usize)).collect();
    drop((devtools_sizes, classes, locations));
    // Nothing reads the nodes' sizes or trace nodes past here: they leave before the references are
    // resolved, the peak of a load, and the view is made again over what is left.
    let (synthetic_type, root) = (view.synthetic_type, view.root);
    nodes.sizes = NarrowValues::default();
    nodes.trace_nodes = Vec::new();
    let view = View {
        nodes: &nodes,
        edges: &edges,
        edge_ends: &edge_ends,
        edge_types: &edge_types,
        synthetic_type,
        root,
    };

    let names = phase("edge names", || {
        labels::EdgeNames::intern(&view, data, &strings, &mut interner)
    });
    let labeler = labels::Labeler {
        view: &view,
        page_owned: &structure.page_owned,
        names: &names,
    };
    let resolved = phase("resolving references", || {
        labels::resolve(&labeler, &order, &node_of, &mut interner)
    });
    progress.advance(order.len() as u64);
    // The graph has its references now: the parsed edge columns go before it is built beside them.
    drop((edges, edge_ends));

    let roots = structure
        .roots
        .iter()
        .map(|r| Root {
            node: node_of[r.ordinal as usize],
            kind: r.kind,
            name: interner.intern(&r.name),
        })
        .collect();
    let name_is: Vec<NameIs> = header.node_types.iter().map(|t| NameIs::of(t)).collect();
    // A DOM node the embedder marks detached (Chromium's elements, `<div id="a">`, and text or comment
    // nodes, `#text`, out of any document) is a proven leak. Other embedder objects marked detached, such
    // as Node's own bindings (`Node / BindingData`), are not DOM nodes and prove nothing.
    let is_dom = |o: u32| {
        let raw = strings.raw(data, nodes.names[o as usize] as usize);
        raw.is_some_and(|name| name.starts_with(b"<") || name.starts_with(b"#"))
    };
    let detached = order.par_iter().enumerate().filter(|&(_, &o)| {
        nodes.detachedness.get(o as usize) == Some(&devtools::DETACHED) && is_dom(o)
    });
    let facts = detached.map(|(node, _)| (node as NodeId, LeakFact::DetachedDomNode as u8));
    let details = V8Details {
        facts: LeakFacts::new(facts.collect()),
        names: gather(&order, &nodes.names).into(),
        kinds: gather(&order, &nodes.types).into(),
        name_is,
        strings,
        bytes: DumpBytes::loaded(map),
    };
    let node_count = order.len();
    let addresses = Addresses::from_fn(node_count, |i| nodes.ids.get(order[i] as usize))
        .map_err(|e| LoadError::graph_bug(path, e))?;
    let graph = phase("graph build", || {
        Graph::from_parts(GraphParts {
            addresses,
            types: NodeTypes::new(types, type_table.len()),
            sizes,
            offsets: resolved.offsets.into(),
            targets: resolved.targets.into(),
            labels: EdgeLabels::stored(resolved.labels.into()),
            roots,
            type_table,
            strings: interner.freeze(),
            details: Box::new(details),
        })
    })
    .and_then(|graph| graph.with_allocation_sites(sites))
    .map_err(|e| LoadError::graph_bug(path, e))?;

    let mut meta = serde_json::Map::new();
    meta.insert("runtime".into(), "V8 (Node.js or Chrome)".into());
    meta.insert("snapshot_nodes".into(), header.node_count.into());
    meta.insert(
        "synthetic_nodes".into(),
        (header.node_count - node_count).into(),
    );
    Ok(Dump {
        path: path.to_path_buf(),
        format,
        graph,
        meta,
        stats: LoadStats {
            file_bytes,
            dangling_edges: resolved.dangling,
            load_time: started.elapsed(),
            warnings: Vec::new(),
        },
    })
}

/// `column`'s values in graph node order (`order` gives each node's snapshot ordinal).
fn gather<T: Copy + Send + Sync>(order: &[u32], column: &[T]) -> Vec<T> {
    order.par_iter().map(|&o| column[o as usize]).collect()
}

/// Turns the nodes' edge counts into where each node's edges end (node `o`'s edges end at `ends[o]` and
/// start where node `o - 1`'s end), in place: the running sum, which must come to the snapshot's edge
/// count and fit in 32 bits.
fn edge_ends(mut counts: Vec<u32>, edge_count: usize, at: usize) -> Result<Vec<u32>, FormatError> {
    let sum: u64 = counts.par_iter().map(|&c| c as u64).sum();
    if sum != edge_count as u64 {
        return crate::error::err(
            at,
            format!(
                "the nodes' edge counts add up to {sum}, but the snapshot has {edge_count} edges"
            ),
        );
    }
    if sum > u32::MAX as u64 {
        return crate::error::err(
            at,
            "more than 4,294,967,295 edges: more than heapgraph's limit",
        );
    }
    counts_to_ends(&mut counts);
    Ok(counts)
}

/// What decides a node's type: its DevTools class and, for objects, where their constructor is defined.
struct Classing<'a, F> {
    classes: &'a devtools::Classes,
    locations: &'a devtools::Locations,
    is_object: F,
}

/// Each graph node's type: its DevTools class, as DevTools' Summary groups them (objects of one name
/// but different constructors apart, with the same name). Objects whose size DevTools moved into their
/// owner (now 0 bytes, where the file says more) get a type of their own, `CLASS (size in owner)`, which
/// DevTools' Summary leaves out, as it leaves out every object of size 0.
fn node_types(
    classing: &Classing<'_, impl Fn(usize) -> bool>,
    raw_sizes: &NarrowValues<u32>,
    sizes: &NarrowValues<u32>,
    order: &[u32],
    interner: &mut StringInterner,
) -> (Vec<TypeId>, Vec<TypeInfo>) {
    let mut table = Vec::new();
    let mut by_class: HashMap<(u32, Option<u32>, bool), TypeId> = HashMap::new();
    let classes = classing.classes;
    let types = order
        .iter()
        .map(|&o| {
            let location = match (classing.is_object)(o as usize) {
                true => classing.locations.place(o),
                false => None,
            };
            let o = o as usize;
            let moved = sizes.get(o) == 0 && raw_sizes.get(o) > 0;
            let class = classes.of[o];
            *by_class.entry((class, location, moved)).or_insert_with(|| {
                let name = &classes.names[class as usize];
                let name = match moved {
                    true => format!("{name} (size in owner)"),
                    false => name.clone(),
                };
                table.push(TypeInfo {
                    module: interner.intern(""),
                    name: interner.intern(&name),
                    object: 0,
                });
                (table.len() - 1) as TypeId
            })
        })
        .collect();
    (types, table)
}

#[cfg(test)]
mod tests;
