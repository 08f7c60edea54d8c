//! `heapgraph dominators`: the dominator tree, biggest retainers first, small ones folded.

use crate::object::{Chain, ObjectRef};
use crate::{format_bytes, format_count, format_share};
use heapgraph_analysis::{Dominators, RetainedSizes, ShortestPaths};
use heapgraph_graph::{Graph, NodeId};
use serde::Serialize;

/// One node of the printed tree.
#[derive(Serialize)]
pub struct TreeNode {
    /// `None` for the super-root above all roots.
    pub object: Option<ObjectRef>,
    /// How the object is reached from a root, as one line (`module app.__dict__['CACHE']`).
    pub path: Option<String>,
    pub shallow_bytes: u64,
    pub retained_bytes: u64,
    /// `retained_bytes` as a share of everything reachable.
    pub share: f64,
    /// Children above the share threshold, biggest first (empty past the depth limit).
    pub children: Vec<TreeNode>,
    /// Children below the threshold, or past the depth limit, summed up.
    pub folded: Option<Folded>,
}

#[derive(Serialize)]
pub struct Folded {
    pub count: u64,
    pub retained_bytes: u64,
}

/// How much of the tree to show.
pub struct TreeLimits {
    /// Levels below the start to expand.
    pub depth: usize,
    /// Children retaining less than this share of the reachable heap are folded into one line.
    pub min_share: f64,
}

pub struct TreeBuilder<'a> {
    pub graph: &'a Graph,
    pub dominators: &'a Dominators,
    pub retained: &'a RetainedSizes,
    pub paths: &'a ShortestPaths,
    pub limits: TreeLimits,
}

impl TreeBuilder<'_> {
    /// The tree from `start` (`None`: the super-root).
    pub fn build(&self, start: Option<NodeId>) -> TreeNode {
        self.node(start, self.limits.depth)
    }

    fn node(&self, node: Option<NodeId>, depth: usize) -> TreeNode {
        let total = self.retained.total();
        let retained = node.map_or(total, |n| self.retained.of(n));
        let mut kids: Vec<NodeId> = match node {
            Some(n) => self.dominators.children(n).collect(),
            None => self.dominators.super_root_children().collect(),
        };
        kids.sort_by_key(|&k| (std::cmp::Reverse(self.retained.of(k)), k));
        let threshold = (self.limits.min_share * total as f64).ceil() as u64;
        let shown = if depth == 0 {
            0
        } else {
            kids.partition_point(|&k| self.retained.of(k) >= threshold.max(1))
        };
        let folded_kids = &kids[shown..];
        let folded = (!folded_kids.is_empty()).then(|| Folded {
            count: folded_kids.len() as u64,
            retained_bytes: folded_kids.iter().map(|&k| self.retained.of(k)).sum(),
        });
        TreeNode {
            object: node.map(|n| ObjectRef::new(self.graph, n)),
            path: node
                .and_then(|n| self.paths.path_to(self.graph, n))
                .map(|p| Chain::new(self.graph, &p).text()),
            shallow_bytes: node.map_or(0, |n| self.graph.shallow_size(n)),
            retained_bytes: retained,
            share: if total == 0 {
                0.0
            } else {
                retained as f64 / total as f64
            },
            children: kids[..shown]
                .iter()
                .map(|&k| self.node(Some(k), depth - 1))
                .collect(),
            folded,
        }
    }
}

#[derive(Serialize)]
pub struct DominatorReport {
    pub file: String,
    pub reachable_bytes: u64,
    pub unreachable_objects: u64,
    pub tree: TreeNode,
}

impl DominatorReport {
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        write_node(&mut out, &self.tree, self.reachable_bytes, "", "");
        if self.unreachable_objects > 0 {
            out.push_str(&format!(
                "{} objects are reachable from no root and not in this tree (see `heapgraph unreferenced`)\n",
                format_count(self.unreachable_objects)
            ));
        }
        out
    }
}

fn write_node(out: &mut String, node: &TreeNode, total: u64, lead: &str, rest: &str) {
    let what = match (&node.object, &node.path) {
        (Some(o), Some(p)) => format!("{}  <- {}", o.text(), shorten_left(p, PATH_CHARS)),
        (Some(o), None) => o.text(),
        (None, _) => "all roots".to_string(),
    };
    out.push_str(&format!(
        "{:>10} {:>6}  {lead}{what}\n",
        format_bytes(node.retained_bytes),
        format_share(node.retained_bytes, total)
    ));
    let last = node.children.len() + usize::from(node.folded.is_some());
    for (i, child) in node.children.iter().enumerate() {
        let (l, r) = if i + 1 == last {
            ("└─ ", "   ")
        } else {
            ("├─ ", "│  ")
        };
        write_node(
            out,
            child,
            total,
            &format!("{rest}{l}"),
            &format!("{rest}{r}"),
        );
    }
    if let Some(f) = &node.folded {
        out.push_str(&format!(
            "{:>10} {:>6}  {rest}└─ {} more {}\n",
            format_bytes(f.retained_bytes),
            format_share(f.retained_bytes, total),
            format_count(f.count),
            if f.count == 1 { "object" } else { "objects" }
        ));
    }
}

/// Longest path shown beside a tree node; the end of the chain (nearest the object) is what tells.
const PATH_CHARS: usize = 70;

/// Keeps the last `max` characters of `text`, marking the cut.
fn shorten_left(text: &str, max: usize) -> String {
    let count = text.chars().count();
    if count <= max {
        text.to_string()
    } else {
        let tail: String = text.chars().skip(count - max + 1).collect();
        format!("…{tail}")
    }
}
