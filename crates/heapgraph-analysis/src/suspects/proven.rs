//! Proven leaks: reachable objects the dump itself says the program is done with (a closed file, a
//! finished generator, a detached DOM node: [`LeakFact`]), whatever their size.
//!
//! Such objects are grouped by type and fact. One held by another that has a fact (a file's buffer
//! inside its closed text wrapper) is part of that one and not listed again: a proven object is one the
//! dominator tree places under no other. Each group is shown by its instance retaining the most, with
//! its shortest path from a root, and gets a fingerprint like a suspect's.

use super::{fingerprint, marks};
use crate::dominators::{Dominators, Idom};
use crate::paths::PathStep;
use crate::Analysis;
use heapgraph_graph::{Graph, LeakFact, NodeId, TypeId};
use std::collections::{BTreeMap, HashSet};

/// Reachable objects of one type that one fact proves should be gone.
#[derive(Clone, Debug, PartialEq)]
pub struct ProvenGroup {
    pub fact: LeakFact,
    pub type_id: TypeId,
    pub count: u64,
    pub shallow_bytes: u64,
    /// Bytes the group's objects retain together (none dominates another, so none is counted twice).
    pub retained: u64,
    /// The instance retaining the most.
    pub example: NodeId,
    /// The shortest path from a root to `example`.
    pub path: Vec<PathStep>,
    /// The step of `path` a report names the example by (see [`marks::holder`]).
    pub holder: usize,
    /// From the types and edge names of the path from its holder down, the type and the fact.
    pub fingerprint: String,
}

/// Every group of proven leaks in `graph`, most retained bytes first, ties by fingerprint. Costs
/// nothing on a dump whose format states no facts.
pub fn find_proven(graph: &Graph, analysis: &Analysis) -> Vec<ProvenGroup> {
    let dominators = &analysis.dominators;
    let facts: Vec<(NodeId, LeakFact)> = graph
        .leak_facts()
        .filter(|&(n, _)| dominators.is_reachable(n))
        .collect();
    if facts.is_empty() {
        return Vec::new();
    }
    let proven: HashSet<NodeId> = facts.iter().map(|&(n, _)| n).collect();
    let mut groups: BTreeMap<(LeakFact, TypeId), (u64, u64, u64, NodeId)> = BTreeMap::new();
    for &(node, fact) in &facts {
        if inside_another(dominators, &proven, node) {
            continue;
        }
        let retained = analysis.retained.of(node);
        let slot = groups
            .entry((fact, graph.type_of(node)))
            .or_insert((0, 0, 0, node));
        slot.0 += 1;
        slot.1 = slot.1.saturating_add(graph.shallow_size(node));
        slot.2 = slot.2.saturating_add(retained);
        if retained > analysis.retained.of(slot.3) {
            slot.3 = node;
        }
    }
    let mut found: Vec<ProvenGroup> = groups
        .into_iter()
        .map(
            |((fact, type_id), (count, shallow_bytes, retained, example))| {
                let path = analysis.paths.path_to(graph, example).unwrap_or_default();
                let holder = marks::holder(graph, &path);
                let what = format!("{} {}", graph.type_name(type_id), fact.reason());
                let fingerprint =
                    fingerprint::of_path(graph, &path[holder.min(path.len())..], Some(&what));
                ProvenGroup {
                    fact,
                    type_id,
                    count,
                    shallow_bytes,
                    retained,
                    example,
                    path,
                    holder,
                    fingerprint,
                }
            },
        )
        .collect();
    found.sort_by(|a, b| {
        b.retained
            .cmp(&a.retained)
            .then_with(|| a.fingerprint.cmp(&b.fingerprint))
    });
    found
}

/// Whether an object with a fact dominates `node` (which then belongs to it).
fn inside_another(dominators: &Dominators, proven: &HashSet<NodeId>, node: NodeId) -> bool {
    let mut at = node;
    while let Idom::Node(up) = dominators.idom(at) {
        if proven.contains(&up) {
            return true;
        }
        at = up;
    }
    false
}
