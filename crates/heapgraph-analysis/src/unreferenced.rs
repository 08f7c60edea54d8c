//! Unreferenced and unreachable objects: the leak-hunter's first two lists, told apart honestly.
//!
//! objgraph's `get_leaking_objects` lists objects nothing references, and so mixes three different
//! things: objects C code holds (alive for reasons outside the heap), locals of running frames, and
//! real garbage. Here each unreferenced object is classified by what its roots say, and the full set of
//! unreachable objects (reachable from no root) is reported too: unlike unreferenced ones they may have
//! referrers, as in a reference cycle waiting for the collector.

use crate::histogram::share;
use heapgraph_graph::{
    same_lengths, Graph, GraphError, MappedColumns, NodeId, RootKind, SavedColumns, TypeId,
};
use heapgraph_graph::{NodeBits, SharedNodeBits};
use rayon::prelude::*;
use std::collections::BTreeMap;

/// Why an unreferenced object is still in the dump.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Unreferenced {
    /// A root held from outside the heap: C code, an extension, the interpreter, an immortal or a module.
    /// When an object is a root of several kinds, an outside kind wins over a frame kind.
    HeldFromOutside,
    /// A frame on a thread's stack or a running frame's local: alive while that code runs.
    FrameLocal,
    /// Reachable from no root: garbage waiting for the collector, or held by something the dump cannot
    /// see.
    Unreachable,
}

/// Objects of one type in a group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeCount {
    pub type_id: TypeId,
    pub type_name: String,
    pub count: u64,
    pub bytes: u64,
}

/// A set of objects, by type (most bytes first), with the objects themselves for reports that show
/// examples.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ObjectGroup {
    pub count: u64,
    pub bytes: u64,
    /// `bytes` as a share of all objects' shallow bytes.
    pub share: f64,
    pub by_type: Vec<TypeCount>,
    pub nodes: Vec<NodeId>,
}

/// Unreferenced objects by [`Unreferenced`] class, plus every unreachable object.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UnreferencedReport {
    /// Unreferenced roots held from outside the heap.
    pub held_from_outside: ObjectGroup,
    /// Unreferenced frames and running-frame locals.
    pub frame_locals: ObjectGroup,
    /// Unreferenced objects no root reaches.
    pub garbage: ObjectGroup,
    /// Every object no root reaches, referenced or not (cycles included).
    pub unreachable: ObjectGroup,
}

impl UnreferencedReport {
    /// Builds the report. `has_referrer` comes from [`referenced`]; `is_reachable` from the dominator tree
    /// or the BFS.
    pub fn compute(
        graph: &Graph,
        has_referrer: &NodeBits,
        is_reachable: impl Fn(NodeId) -> bool + Sync,
    ) -> UnreferencedReport {
        let root_class = root_classes(graph);
        let n = graph.node_count() as NodeId;
        let unreferenced: Vec<(NodeId, Unreferenced)> = (0..n)
            .into_par_iter()
            .filter(|&node| !has_referrer.contains(node))
            .map(|node| {
                let class = match root_class.get(&node) {
                    Some(&c) => c,
                    None => Unreferenced::Unreachable,
                };
                (node, class)
            })
            .collect();
        let unreachable: Vec<NodeId> = (0..n)
            .into_par_iter()
            .filter(|&node| !is_reachable(node))
            .collect();
        let pick = |class| {
            unreferenced
                .iter()
                .filter(|&&(_, c)| c == class)
                .map(|&(node, _)| node)
                .collect::<Vec<_>>()
        };
        let total = graph_total_bytes(graph);
        UnreferencedReport {
            held_from_outside: group(graph, pick(Unreferenced::HeldFromOutside), total),
            frame_locals: group(graph, pick(Unreferenced::FrameLocal), total),
            garbage: group(graph, pick(Unreferenced::Unreachable), total),
            unreachable: group(graph, unreachable, total),
        }
    }
}

/// The groups' column names, in [`UnreferencedReport::groups`] order.
const GROUPS: [&str; 4] = [
    "unreferenced.outside",
    "unreferenced.frames",
    "unreferenced.garbage",
    "unreferenced.unreachable",
];

impl UnreferencedReport {
    fn groups(&self) -> [&ObjectGroup; 4] {
        [
            &self.held_from_outside,
            &self.frame_locals,
            &self.garbage,
            &self.unreachable,
        ]
    }

    /// Hands every group to an index file: its nodes, and its per-type tally in its order.
    pub fn save<'a>(&'a self, out: &mut SavedColumns<'a>) {
        for (name, group) in GROUPS.iter().zip(self.groups()) {
            let by_type = &group.by_type;
            out.put(format!("{name}.nodes"), &group.nodes);
            out.put_owned(
                format!("{name}.types"),
                by_type.iter().map(|t| t.type_id).collect::<Vec<_>>(),
            );
            out.put_owned(
                format!("{name}.counts"),
                by_type.iter().map(|t| t.count).collect::<Vec<_>>(),
            );
            out.put_owned(
                format!("{name}.bytes"),
                by_type.iter().map(|t| t.bytes).collect::<Vec<_>>(),
            );
        }
    }

    /// The report [`UnreferencedReport::save`] wrote of `graph`, whose objects' shallow sizes add up
    /// to `total_bytes`.
    pub fn from_columns(
        columns: &MappedColumns<'_>,
        graph: &Graph,
        total_bytes: u64,
    ) -> Result<UnreferencedReport, GraphError> {
        let [held_from_outside, frame_locals, garbage, unreachable] =
            GROUPS.map(|name| saved_group(columns, name, graph, total_bytes));
        Ok(UnreferencedReport {
            held_from_outside: held_from_outside?,
            frame_locals: frame_locals?,
            garbage: garbage?,
            unreachable: unreachable?,
        })
    }
}

fn saved_group(
    columns: &MappedColumns<'_>,
    name: &str,
    graph: &Graph,
    total_bytes: u64,
) -> Result<ObjectGroup, GraphError> {
    let nodes = columns.column::<u32>(&format!("{name}.nodes"))?;
    let types = columns.column::<u32>(&format!("{name}.types"))?;
    let counts = columns.column::<u64>(&format!("{name}.counts"))?;
    let bytes = columns.column::<u64>(&format!("{name}.bytes"))?;
    same_lengths(name, &[types.len(), counts.len(), bytes.len()])?;
    if nodes.iter().any(|&n| n as usize >= graph.node_count())
        || types.iter().any(|&t| t as usize >= graph.type_count())
    {
        return Err(GraphError::Saved(format!(
            "{name} lists an object or type that does not exist"
        )));
    }
    let by_type: Vec<TypeCount> = (0..types.len())
        .map(|i| TypeCount {
            type_id: types[i],
            type_name: graph.type_name(types[i]),
            count: counts[i],
            bytes: bytes[i],
        })
        .collect();
    let group_bytes = bytes.iter().fold(0u64, |sum, &b| sum.saturating_add(b));
    Ok(ObjectGroup {
        count: nodes.len() as u64,
        bytes: group_bytes,
        share: share(group_bytes, total_bytes),
        by_type,
        nodes: nodes.to_vec(),
    })
}

/// For every node, whether another object references it through a retaining edge (self-loops and weak
/// references do not count). A parallel scan of the forward edges.
pub fn referenced(graph: &Graph) -> NodeBits {
    let flags = SharedNodeBits::new(graph.node_count());
    const CHUNK: usize = 1 << 14;
    let n = graph.node_count();
    (0..n.div_ceil(CHUNK)).into_par_iter().for_each(|chunk| {
        let nodes = chunk * CHUNK..((chunk + 1) * CHUNK).min(n);
        graph.for_each_retaining_edge(nodes, |u, _, t| {
            if t != u {
                flags.insert(t);
            }
        });
    });
    flags.into_bits()
}

/// The class of every root node. A recorded root kind wins over an inferred one (a running frame that
/// also has refcount excess is a frame), and among recorded kinds an outside one (module, interpreter)
/// wins over a frame kind.
fn root_classes(graph: &Graph) -> std::collections::HashMap<NodeId, Unreferenced> {
    let rank = |kind: RootKind| match kind {
        RootKind::Module
        | RootKind::Interpreter
        | RootKind::JniGlobal
        | RootKind::StickyClass
        | RootKind::MonitorUsed
        | RootKind::ThreadObject
        | RootKind::VmInternal
        | RootKind::Unknown
        | RootKind::GlobalObject
        | RootKind::GcRoot
        | RootKind::Embedder => (0, Unreferenced::HeldFromOutside),
        RootKind::Local
        | RootKind::Frame
        | RootKind::JavaFrame
        | RootKind::JniLocal
        | RootKind::NativeStack
        | RootKind::ThreadBlock => (1, Unreferenced::FrameLocal),
        RootKind::External | RootKind::Immortal => (2, Unreferenced::HeldFromOutside),
    };
    let mut best: std::collections::HashMap<NodeId, (u8, Unreferenced)> =
        std::collections::HashMap::new();
    for root in graph.roots() {
        let candidate = rank(root.kind);
        let slot = best.entry(root.node).or_insert(candidate);
        if candidate.0 < slot.0 {
            *slot = candidate;
        }
    }
    best.into_iter()
        .map(|(node, (_, class))| (node, class))
        .collect()
}

fn graph_total_bytes(graph: &Graph) -> u64 {
    (0..graph.node_count() as NodeId)
        .into_par_iter()
        .map(|n| graph.shallow_size(n))
        .sum()
}

/// Tallies `nodes` by type, most bytes first (ties by type name).
fn group(graph: &Graph, nodes: Vec<NodeId>, total_bytes: u64) -> ObjectGroup {
    let mut tally: BTreeMap<TypeId, (u64, u64)> = BTreeMap::new();
    for &node in &nodes {
        let slot = tally.entry(graph.type_of(node)).or_default();
        slot.0 += 1;
        slot.1 += graph.shallow_size(node);
    }
    let mut by_type: Vec<TypeCount> = tally
        .into_iter()
        .map(|(ty, (count, bytes))| TypeCount {
            type_id: ty,
            type_name: graph.type_name(ty),
            count,
            bytes,
        })
        .collect();
    by_type.sort_by(|a, b| {
        b.bytes
            .cmp(&a.bytes)
            .then_with(|| a.type_name.cmp(&b.type_name))
            .then_with(|| a.type_id.cmp(&b.type_id))
    });
    let bytes = by_type.iter().map(|t| t.bytes).sum();
    ObjectGroup {
        count: nodes.len() as u64,
        bytes,
        share: share(bytes, total_bytes),
        by_type,
        nodes,
    }
}
