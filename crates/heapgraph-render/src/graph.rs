//! `heapgraph graph`: the objects around a few objects as a Graphviz drawing (objgraph's
//! `show_backrefs` / `show_refs`), with sizes and edge names on it.

use crate::dot::{DotGraph, NodeStyle};
use crate::format_bytes;
use crate::object::{root_text, ObjectRef};
use heapgraph_analysis::{Direction, Neighbourhood, RetainedSizes};
use heapgraph_graph::{Graph, NodeId, TypeId};
use std::collections::HashMap;

/// What to draw and what to make stand out.
pub struct Drawing<'a> {
    pub graph: &'a Graph,
    pub retained: &'a RetainedSizes,
    pub neighbourhood: &'a Neighbourhood,
    pub direction: Direction,
    pub starts: &'a [NodeId],
    /// Types filled in the highlight colour.
    pub highlight: &'a [TypeId],
    /// The walk's depth limit, for shading.
    pub max_depth: usize,
}

impl Drawing<'_> {
    pub fn to_dot(&self) -> DotGraph {
        let g = self.graph;
        let mut dot = DotGraph::new("TB");
        let mut ids: HashMap<NodeId, String> = HashMap::new();
        let recorded: Vec<NodeId> = g
            .roots()
            .iter()
            .filter(|r| !r.kind.is_inferred())
            .map(|r| r.node)
            .collect();
        for &(node, depth) in &self.neighbourhood.nodes {
            let object = ObjectRef::new(g, node);
            let is_root = recorded.contains(&node);
            let mut lines = Vec::new();
            if is_root {
                lines.push(root_text(g, node));
            }
            lines.push(object.text());
            lines.push(format!(
                "{} shallow, {} retained",
                format_bytes(object.shallow_bytes),
                format_bytes(self.retained.of(node))
            ));
            let style = if self.starts.contains(&node) {
                NodeStyle::Start
            } else if is_root {
                NodeStyle::Root
            } else if self.highlight.contains(&g.type_of(node)) {
                NodeStyle::Highlight
            } else {
                NodeStyle::Depth(depth as f64 / self.max_depth.max(1) as f64)
            };
            ids.insert(node, dot.node(&lines, style));
        }
        for &(from, to, label) in &self.neighbourhood.edges {
            dot.edge(
                &ids[&from],
                &ids[&to],
                &label.display(g.strings()).to_string(),
            );
        }
        for &(node, count) in &self.neighbourhood.folded {
            let what = match self.direction {
                Direction::Referrers => "referrers",
                Direction::Referents => "references",
            };
            let more = dot.node(&[format!("{count} more {what}")], NodeStyle::Folded);
            match self.direction {
                Direction::Referrers => dot.edge(&more, &ids[&node], ""),
                Direction::Referents => dot.edge(&ids[&node], &more, ""),
            }
        }
        dot
    }
}
