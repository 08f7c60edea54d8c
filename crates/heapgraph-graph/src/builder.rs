//! A convenient, address-keyed way to build a [`Graph`]: for tests, synthetic graphs and small dumps.
//!
//! Nodes and edges may be added in any order; `build` sorts nodes by address (the graph's numbering),
//! resolves edge endpoints and drops edges whose endpoints are not nodes, counting them.

use crate::details::{NoDetails, NodeDetailSource};
use crate::graph::{Graph, GraphError, GraphParts};
use crate::label::EdgeLabel;
use crate::roots::{Root, RootKind};
use crate::strings::{StrId, StringInterner};
use crate::types::{NodeTypes, TypeId, TypeInfo};
use crate::{Addresses, EdgeLabels, NodeId};
use std::collections::HashMap;

#[derive(Default)]
pub struct GraphBuilder {
    strings: StringInterner,
    types: Vec<TypeInfo>,
    type_ids: HashMap<(StrId, StrId, u64), TypeId>,
    nodes: Vec<(u64, TypeId, u64)>,
    edges: Vec<(u64, u64, EdgeLabel)>,
    roots: Vec<(u64, RootKind, StrId)>,
}

/// A built graph and what had to be dropped to build it.
pub struct Built {
    pub graph: Graph,
    /// Edges whose source or target address is not a node.
    pub dangling_edges: u64,
}

impl GraphBuilder {
    pub fn new() -> GraphBuilder {
        GraphBuilder::default()
    }

    pub fn intern(&mut self, text: &str) -> StrId {
        self.strings.intern(text)
    }

    /// The type named `module.name` whose type object is at `object` (0 if none); added once.
    pub fn add_type(&mut self, module: &str, name: &str, object: u64) -> TypeId {
        let module = self.strings.intern(module);
        let name = self.strings.intern(name);
        let types = &mut self.types;
        *self
            .type_ids
            .entry((module, name, object))
            .or_insert_with(|| {
                types.push(TypeInfo {
                    module,
                    name,
                    object,
                });
                (types.len() - 1) as TypeId
            })
    }

    pub fn add_node(&mut self, addr: u64, ty: TypeId, size: u64) {
        self.nodes.push((addr, ty, size));
    }

    pub fn add_edge(&mut self, from: u64, to: u64, label: EdgeLabel) {
        self.edges.push((from, to, label));
    }

    pub fn add_root(&mut self, addr: u64, kind: RootKind, name: &str) {
        let name = self.strings.intern(name);
        self.roots.push((addr, kind, name));
    }

    /// Builds the graph; duplicate node addresses are an error, dangling edges and roots are dropped.
    pub fn build(self) -> Result<Built, GraphError> {
        self.build_with_details(Box::new(NoDetails))
    }

    pub fn build_with_details(
        mut self,
        details: Box<dyn NodeDetailSource>,
    ) -> Result<Built, GraphError> {
        self.nodes.sort_unstable_by_key(|&(addr, _, _)| addr);
        if let Some(w) = self.nodes.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(GraphError::Order(format!(
                "two nodes at address {:#x}",
                w[0].0
            )));
        }
        let addresses: Vec<u64> = self.nodes.iter().map(|n| n.0).collect();
        let addresses = Addresses::new(&addresses)?;
        let find = |addr| addresses.find(addr);

        let mut resolved: Vec<(NodeId, NodeId, EdgeLabel)> = Vec::with_capacity(self.edges.len());
        let mut dangling = 0u64;
        for &(from, to, label) in &self.edges {
            match (find(from), find(to)) {
                (Some(f), Some(t)) => resolved.push((f, t, label)),
                _ => dangling += 1,
            }
        }
        // Stable: edges of one node keep the order they were added in.
        resolved.sort_by_key(|&(f, _, _)| f);
        let mut offsets = vec![0u32; addresses.len() + 1];
        for &(f, _, _) in &resolved {
            offsets[f as usize + 1] += 1;
        }
        for i in 0..addresses.len() {
            offsets[i + 1] += offsets[i];
        }
        let roots = self
            .roots
            .iter()
            .filter_map(|&(addr, kind, name)| {
                Some(Root {
                    node: find(addr)?,
                    kind,
                    name,
                })
            })
            .collect();
        let graph = Graph::from_parts(GraphParts {
            types: NodeTypes::new(self.nodes.iter().map(|n| n.1).collect(), self.types.len()),
            sizes: self.nodes.iter().map(|n| n.2).collect(),
            offsets: offsets.into(),
            targets: resolved.iter().map(|e| e.1).collect(),
            labels: EdgeLabels::stored(resolved.iter().map(|e| e.2).collect()),
            roots,
            type_table: self.types,
            strings: self.strings.freeze(),
            details,
            addresses,
        })?;
        Ok(Built {
            graph,
            dangling_edges: dangling,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EdgeKind;

    #[test]
    fn builds_csr_in_both_directions() {
        let mut b = GraphBuilder::new();
        let list = b.add_type("builtins", "list", 0x10);
        let leaf = b.add_type("app", "Leaf", 0x20);
        b.add_node(0x300, list, 72);
        b.add_node(0x100, leaf, 48);
        b.add_node(0x200, leaf, 48);
        b.add_edge(0x300, 0x100, EdgeLabel::index(0));
        b.add_edge(0x300, 0x200, EdgeLabel::index(1));
        b.add_edge(0x300, 0x999, EdgeLabel::index(2));
        let x = b.intern("x");
        b.add_edge(0x100, 0x200, EdgeLabel::named(EdgeKind::Attribute, x));
        b.add_root(0x300, RootKind::Module, "app");
        b.add_root(0x998, RootKind::Module, "gone");
        let built = b.build().unwrap();
        let g = &built.graph;
        assert_eq!(built.dangling_edges, 1);
        assert_eq!(g.node_count(), 3);
        assert_eq!(g.edge_count(), 3);
        assert_eq!(g.node_at(0x300), Some(2));
        assert!(g.out_targets(2).eq([0, 1]));
        assert_eq!(
            &*g.out_labels(2),
            &[EdgeLabel::index(0), EdgeLabel::index(1)]
        );
        assert_eq!(g.in_sources(1), &[0, 2]);
        assert_eq!(g.in_degree(2), 0);
        assert_eq!(g.type_name(g.type_of(0)), "app.Leaf");
        assert_eq!(g.type_name(g.type_of(2)), "list");
        assert_eq!(g.find_types("Leaf"), vec![leaf]);
        assert_eq!(g.find_types("app.Leaf"), vec![leaf]);
        assert_eq!(g.roots().len(), 1);
        assert_eq!(g.shallow_size(2), 72);
        let (_, edge_label) = g.out_edges(0).next().unwrap();
        assert_eq!(edge_label.display(g.strings()).to_string(), ".x");
    }

    /// The edge API for walks follows retaining references alone; the printing path shows weak ones too.
    #[test]
    fn weak_references_do_not_retain() {
        let mut b = GraphBuilder::new();
        let t = b.add_type("", "T", 0);
        for addr in [0x100, 0x200, 0x300] {
            b.add_node(addr, t, 16);
        }
        let w = b.intern("w");
        b.add_edge(0x100, 0x200, EdgeLabel::index(0));
        b.add_edge(0x100, 0x300, EdgeLabel::named(EdgeKind::Weak, w));
        b.add_edge(0x200, 0x300, EdgeLabel::index(0));
        let g = &b.build().unwrap().graph;
        assert!(g.out_targets(0).eq([1, 2]));
        assert!(g.retaining_targets(0).eq([1]));
        assert!(g.retains(0) && !g.retains(1) && g.retains(2));
        let mut seen = Vec::new();
        g.for_each_retaining_edge(0..3, |u, e, t| seen.push((u, e, t)));
        assert_eq!(seen, [(0, 0, 1), (1, 2, 2)]);
    }

    /// Every edge's source is found, across sample blocks, with runs of nodes that have no edges.
    #[test]
    fn edge_sources_are_found() {
        let mut b = GraphBuilder::new();
        let t = b.add_type("", "T", 0);
        let nodes = 300u64;
        for i in 0..nodes {
            b.add_node(i * 16, t, 16);
        }
        for i in 0..nodes {
            // Nodes 0, 3, 6, ... and whole stretches (100..200) have no edges; others up to 4.
            let edges = if i % 3 == 0 || (100..200).contains(&i) {
                0
            } else {
                i % 5
            };
            for k in 0..edges {
                b.add_edge(i * 16, ((i + k) % nodes) * 16, EdgeLabel::index(k));
            }
        }
        let g = b.build().unwrap().graph;
        let mut edge = 0;
        for n in 0..g.node_count() as NodeId {
            for _ in g.out_targets(n) {
                assert_eq!(g.edge_source(edge), n, "edge {edge}");
                edge += 1;
            }
        }
        assert_eq!(edge, g.edge_count());
    }

    #[test]
    fn duplicate_addresses_are_rejected() {
        let mut b = GraphBuilder::new();
        let t = b.add_type("", "T", 0);
        b.add_node(1, t, 1);
        b.add_node(1, t, 1);
        assert!(b.build().is_err());
    }
}
