//! The objects around a few start objects, for drawing: objgraph's `show_backrefs` (what references
//! them, and what references that, up to a depth) and `show_refs` (what they reference), on a dump.
//!
//! A breadth-first walk from the start objects over retaining edges, in one direction. Like objgraph it
//! stops at the roots when walking referrers (a module's referrers explain nothing), skips objects the
//! filter rejects, and folds the neighbours of one object beyond `too_many` into a count. When walking
//! referrers, an object's BFS parent from the roots is taken first, so the drawing always shows at least
//! one way back to a root within the depth.

use crate::paths::{Parent, ShortestPaths};
use heapgraph_graph::{EdgeLabel, Graph, NodeId, TypeId};
use std::collections::{HashMap, HashSet, VecDeque};

/// Which way to walk from the start objects.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Direction {
    /// What references them (objgraph's `show_backrefs`).
    Referrers,
    /// What they reference (objgraph's `show_refs`).
    Referents,
}

/// How far to walk.
#[derive(Clone, Debug)]
pub struct WalkLimits {
    /// Edges from the start objects.
    pub max_depth: usize,
    /// Neighbours of one object drawn; the rest are counted.
    pub too_many: usize,
    /// Only objects of these types are drawn (the start objects always are); `None`: every type.
    pub only_types: Option<Vec<TypeId>>,
}

/// What the walk found. Edges always point from referrer to referent, whichever way the walk went.
#[derive(Clone, Debug, Default)]
pub struct Neighbourhood {
    /// Each object drawn and its distance from the start objects, in the order the walk reached them.
    pub nodes: Vec<(NodeId, usize)>,
    /// `(referrer, referent, label)`.
    pub edges: Vec<(NodeId, NodeId, EdgeLabel)>,
    /// `(object, count)`: neighbours of `object` left out by `too_many`.
    pub folded: Vec<(NodeId, u64)>,
}

impl Neighbourhood {
    /// Walks from `starts` (distinct nodes) in `direction`.
    pub fn walk(
        graph: &Graph,
        paths: &ShortestPaths,
        starts: &[NodeId],
        direction: Direction,
        limits: &WalkLimits,
    ) -> Neighbourhood {
        let mut out = Neighbourhood::default();
        let recorded_roots = recorded_roots(graph);
        let mut depth_of: HashMap<NodeId, usize> = HashMap::new();
        let mut queue: VecDeque<NodeId> = VecDeque::new();
        for &s in starts {
            if depth_of.insert(s, 0).is_none() {
                out.nodes.push((s, 0));
                queue.push_back(s);
            }
        }
        let allowed = |n: NodeId| {
            limits
                .only_types
                .as_ref()
                .is_none_or(|types| types.contains(&graph.type_of(n)))
        };
        while let Some(u) = queue.pop_front() {
            let depth = depth_of[&u];
            if depth >= limits.max_depth
                || (direction == Direction::Referrers && depth > 0 && recorded_roots.contains(&u))
            {
                continue;
            }
            let mut neighbours = neighbours(graph, paths, u, direction);
            neighbours.retain(|&(n, _)| allowed(n));
            let mut distinct: Vec<NodeId> = Vec::new();
            for &(n, _) in &neighbours {
                if !distinct.contains(&n) {
                    distinct.push(n);
                }
            }
            if distinct.len() > limits.too_many {
                out.folded
                    .push((u, (distinct.len() - limits.too_many) as u64));
                distinct.truncate(limits.too_many);
            }
            for &(n, label) in &neighbours {
                if !distinct.contains(&n) {
                    continue;
                }
                out.edges.push(match direction {
                    Direction::Referrers => (n, u, label),
                    Direction::Referents => (u, n, label),
                });
                if let std::collections::hash_map::Entry::Vacant(e) = depth_of.entry(n) {
                    e.insert(depth + 1);
                    out.nodes.push((n, depth + 1));
                    queue.push_back(n);
                }
            }
        }
        out
    }
}

/// `u`'s retaining neighbours with the labels of the edges, in the graph's order, except that when
/// walking referrers `u`'s BFS parent from the roots comes first.
fn neighbours(
    graph: &Graph,
    paths: &ShortestPaths,
    u: NodeId,
    direction: Direction,
) -> Vec<(NodeId, EdgeLabel)> {
    match direction {
        Direction::Referents => graph.out_edges(u).filter(|(_, l)| l.retains()).collect(),
        Direction::Referrers => {
            let parent = match paths.parent(graph, u) {
                Parent::Node(p, _) => Some(p),
                _ => None,
            };
            let mut sources: Vec<NodeId> = graph.in_sources(u).to_vec();
            sources.dedup();
            sources.sort_by_key(|&s| (Some(s) != parent, s));
            sources
                .into_iter()
                .flat_map(|s| {
                    graph
                        .out_edges(s)
                        .filter(move |&(t, l)| t == u && l.retains())
                        .map(move |(_, l)| (s, l))
                })
                .collect()
        }
    }
}

/// The objects the dump says why they are alive (a module, a running frame's local), not merely that
/// more references to them exist than the dump shows.
fn recorded_roots(graph: &Graph) -> HashSet<NodeId> {
    graph
        .roots()
        .iter()
        .filter(|r| !r.kind.is_inferred())
        .map(|r| r.node)
        .collect()
}
