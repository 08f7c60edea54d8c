//! Shortest retaining paths from the roots: "why is this object alive?" in one chain.
//!
//! One breadth-first search from the super-root over retaining edges gives every reachable object its BFS
//! parent and the edge it was reached through (its position in the forward CSR, so that the label is
//! only looked up, or read again from the dump, for the chains a report prints); the shortest chain to
//! any object is then a walk up the parents. The parent array is kept whole because retainer trees (grouping many objects' chains by the
//! types along them) reuse it.
//!
//! The BFS is sequential and deterministic: roots in the graph's root order, edges in the dump's order.
//! It runs beside the dominator computation, on the other core.

use heapgraph_graph::{Column, EdgeLabel, Graph, NodeId};
use rayon::prelude::*;
use std::collections::VecDeque;

/// Marks a node reached by no root.
const UNREACHED: NodeId = NodeId::MAX;
/// Marks a root: reached straight from the super-root.
const FROM_SUPER_ROOT: NodeId = NodeId::MAX - 1;

/// How the BFS reached a node.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Parent {
    /// The node is a root.
    SuperRoot,
    /// Reached from this node through this edge (a position in the forward CSR: see
    /// [`Graph::edge_label`]).
    Node(NodeId, u32),
    /// No root reaches the node.
    Unreached,
}

/// One step of a path: a node and the label of the edge that led to it (`None` for the root it starts at).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct PathStep {
    pub node: NodeId,
    pub via: Option<EdgeLabel>,
}

/// BFS parents of every node, from the super-root over retaining edges.
pub struct ShortestPaths {
    /// Node -> BFS parent, or [`FROM_SUPER_ROOT`], or [`UNREACHED`].
    parent: Column<NodeId>,
    /// Node -> the edge from its parent (0 for roots and unreached nodes).
    via: Column<u32>,
    reached: usize,
}

impl ShortestPaths {
    pub fn compute(graph: &Graph) -> ShortestPaths {
        let n = graph.node_count();
        let (offsets, targets, weak) = graph.forward_csr();
        let mut parent = vec![UNREACHED; n];
        let mut via = vec![0u32; n];
        // Only the frontier is queued: a few levels' worth, not every reached node.
        let mut queue: VecDeque<NodeId> = VecDeque::new();
        let mut reached = 0;
        // Recorded roots first, inferred ones after: a chain from "module app" explains more than one
        // from an object merely "held from outside", so inferred roots only claim what recorded roots
        // cannot reach.
        for inferred in [false, true] {
            for root in graph
                .roots()
                .iter()
                .filter(|r| r.kind.is_inferred() == inferred)
            {
                if parent[root.node as usize] == UNREACHED {
                    parent[root.node as usize] = FROM_SUPER_ROOT;
                    queue.push_back(root.node);
                }
            }
            while let Some(u) = queue.pop_front() {
                reached += 1;
                let edges = offsets[u as usize] as usize..offsets[u as usize + 1] as usize;
                for (e, &t) in edges.clone().zip(&targets[edges]) {
                    if weak.retains(e) && parent[t as usize] == UNREACHED {
                        parent[t as usize] = u;
                        via[t as usize] = e as u32;
                        queue.push_back(t);
                    }
                }
            }
        }
        ShortestPaths {
            parent: parent.into(),
            via: via.into(),
            reached,
        }
    }

    /// Parents as [`ShortestPaths::saved`] gave them (an index file's), checked: one parent and one edge
    /// per node of a graph of `node_count` nodes and `edge_count` edges, each parent a node or a mark,
    /// each edge in range. A walk up forged parents could still loop; [`ShortestPaths::path_to`] stops
    /// after `node_count` steps.
    pub fn from_saved(
        parent: Column<NodeId>,
        via: Column<u32>,
        node_count: usize,
        edge_count: usize,
    ) -> Result<ShortestPaths, String> {
        if parent.len() != node_count || via.len() != node_count {
            return Err(format!(
                "{} parents and {} edges for {node_count} nodes",
                parent.len(),
                via.len()
            ));
        }
        if via.par_iter().any(|&e| e as usize >= edge_count.max(1)) {
            return Err("a shortest-path edge is not an edge".into());
        }
        // One pass over the mapped array both checks every parent and counts the reached nodes: on a warm
        // index this read is most of what opening the paths costs.
        let reached = parent
            .par_iter()
            .try_fold(
                || 0usize,
                |reached, &p| match p {
                    UNREACHED => Some(reached),
                    FROM_SUPER_ROOT => Some(reached + 1),
                    p if (p as usize) < node_count => Some(reached + 1),
                    _ => None,
                },
            )
            .try_reduce(|| 0, |a, b| Some(a + b))
            .ok_or("a shortest-path parent is not a node")?;
        Ok(ShortestPaths {
            parent,
            via,
            reached,
        })
    }

    /// The parent and edge arrays, for an index file to keep.
    pub fn saved(&self) -> (&Column<NodeId>, &Column<u32>) {
        (&self.parent, &self.via)
    }

    /// How the BFS reached `node`.
    pub fn parent(&self, node: NodeId) -> Parent {
        match self.parent[node as usize] {
            UNREACHED => Parent::Unreached,
            FROM_SUPER_ROOT => Parent::SuperRoot,
            p => Parent::Node(p, self.via[node as usize]),
        }
    }

    /// Whether some root reaches `node`.
    pub fn is_reached(&self, node: NodeId) -> bool {
        self.parent[node as usize] != UNREACHED
    }

    /// Number of nodes some root reaches.
    pub fn reached_count(&self) -> usize {
        self.reached
    }

    /// The shortest chain of retaining edges from a root to `node` of `graph`: the root first (with no
    /// label), then each node with the label of the edge that leads to it, ending at `node`. `None` if
    /// unreachable.
    pub fn path_to(&self, graph: &Graph, node: NodeId) -> Option<Vec<PathStep>> {
        let mut steps = Vec::new();
        let mut at = node;
        loop {
            match self.parent(at) {
                Parent::Unreached => return None,
                Parent::SuperRoot => {
                    steps.push(PathStep {
                        node: at,
                        via: None,
                    });
                    break;
                }
                // More steps than nodes: the parents loop, which only a forged index file can make.
                Parent::Node(_, _) if steps.len() > self.parent.len() => return None,
                Parent::Node(p, edge) => {
                    steps.push(PathStep {
                        node: at,
                        via: Some(graph.edge_label(p, edge as usize)),
                    });
                    at = p;
                }
            }
        }
        steps.reverse();
        Some(steps)
    }
}
