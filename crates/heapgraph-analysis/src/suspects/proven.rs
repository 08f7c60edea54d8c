//! Proven leaks: reachable objects the dump itself says the program is done with (a closed file, a
//! finished generator, a detached DOM node: [`LeakFact`]), whatever their size.
//!
//! Such objects are grouped by type and fact. One held by another that has a fact (a file's buffer
//! inside its closed text wrapper) is part of that one and not listed again: a proven object is one the
//! dominator tree places under no other. Each group is shown by its instance retaining the most, with
//! its shortest path from a root, and gets a fingerprint like a suspect's.

use super::{fingerprint, marks};
use crate::paths::PathStep;
use crate::Analysis;
use heapgraph_graph::{Graph, LeakFact, NodeId, TypeId};
use std::collections::BTreeMap;

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
    // In dominator-tree preorder, every subtree is a run of numbers: a fact whose number falls in the
    // run of an earlier one's subtree is inside it.
    let mut facts: Vec<(u32, NodeId, LeakFact)> = graph
        .leak_facts()
        .filter_map(|(n, f)| Some((dominators.preorder_number(n)?, n, f)))
        .collect();
    if facts.is_empty() {
        return Vec::new();
    }
    facts.sort_unstable();
    let mut open_ends: Vec<u32> = Vec::new();
    let mut groups: BTreeMap<(LeakFact, TypeId), (u64, u64, u64, NodeId)> = BTreeMap::new();
    for (pre, node, fact) in facts {
        while open_ends.last().is_some_and(|&end| pre >= end) {
            open_ends.pop();
        }
        let inside = !open_ends.is_empty();
        open_ends.push(pre + dominators.subtree(node).len() as u32);
        if inside {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze;
    use heapgraph_graph::{
        EdgeLabel, GraphBuilder, LeakFacts, NodeDetailSource, NodeDetails, RootKind,
    };

    /// A detail source that states facts and nothing else.
    struct Facts(LeakFacts);

    impl NodeDetailSource for Facts {
        fn details(&self, _node: NodeId) -> NodeDetails {
            NodeDetails::default()
        }

        fn leak_facts(&self) -> Option<&LeakFacts> {
            Some(&self.0)
        }
    }

    /// A root holds two closed text files (one 100 bytes over its closed raw file, one 40), a finished
    /// generator, and nothing holds a fourth closed file: the raw file counts with its wrapper, the
    /// garbage not at all.
    #[test]
    fn facts_inside_another_count_with_it_and_garbage_does_not() {
        let mut b = GraphBuilder::new();
        let holder = b.add_type("app", "Holder", 0);
        let text = b.add_type("io", "Text", 0);
        let raw = b.add_type("io", "Raw", 0);
        let generator = b.add_type("builtins", "generator", 0);
        b.add_node(0x10, holder, 8);
        b.add_node(0x20, text, 100);
        b.add_node(0x30, raw, 50);
        b.add_node(0x40, text, 40);
        b.add_node(0x50, generator, 30);
        b.add_node(0x60, text, 10);
        for (i, to) in [0x20, 0x40, 0x50].into_iter().enumerate() {
            b.add_edge(0x10, to, EdgeLabel::index(i as u64));
        }
        b.add_edge(0x20, 0x30, EdgeLabel::index(0));
        b.add_root(0x10, RootKind::Module, "app");
        // Node ids follow addresses: 0x10 is 0, 0x20 is 1, ...
        let file = LeakFact::FileClosed as u8;
        let facts = vec![(1, file), (2, file), (3, file), (4, 3), (5, file)];
        let graph = b
            .build_with_details(Box::new(Facts(LeakFacts::new(facts))))
            .unwrap()
            .graph;
        let found = find_proven(&graph, &analyze(&graph));
        let summary: Vec<(LeakFact, String, u64, u64, u64)> = found
            .iter()
            .map(|g| {
                let name = graph.type_name(g.type_id);
                (g.fact, name, g.count, g.retained, graph.address(g.example))
            })
            .collect();
        assert_eq!(
            summary,
            [
                (LeakFact::FileClosed, "io.Text".to_string(), 2, 190, 0x20),
                (
                    LeakFact::GeneratorFinished,
                    "generator".to_string(),
                    1,
                    30,
                    0x50
                ),
            ]
        );
        assert_eq!(found[0].path.len(), 2, "root, then the example");
    }
}
