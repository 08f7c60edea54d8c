//! Merged shortest paths: why a whole set of objects (all instances of a type, the objects that grew
//! between two dumps) is alive, as one tree from the roots down.
//!
//! This is Eclipse MAT's "merge shortest paths to GC roots": every target's shortest retaining chain (the
//! BFS parents of [`ShortestPaths`]) is walked up to its root, and the chains are merged where they pass
//! through the same object, so each tree node is one real object with the number of targets reached
//! through it and the bytes they retain. Merging by object rather than by type keeps real edge names
//! (`['CACHE']`, `.entries`) on every step; what by-type merging would add (ten thousand lists each
//! holding one instance) is recovered when siblings are folded.
//!
//! For printing, a run of objects that a single chain passes through (same targets, no branching) is one
//! [`Branch`]: `module __main__.__dict__['CACHE']['k']` is one line, not four. Targets that end a chain
//! are grouped per holder by type and edge kind into [`Held`] lines (`[i] 1,000 × app.Item`).

use crate::dominators::Dominators;
use crate::paths::{Parent, PathStep, ShortestPaths};
use crate::retained::RetainedSizes;
use heapgraph_graph::{EdgeKind, EdgeLabel, Graph, NodeId, TypeId};
use std::collections::HashMap;

/// How much of the merged tree to keep.
#[derive(Copy, Clone, Debug)]
pub struct TreeLimits {
    /// Steps from a root beyond which chains are folded. Clamped to [`MAX_DEPTH`].
    pub max_depth: usize,
    /// Branches (and held groups) kept per node, largest first; the rest are folded.
    pub top: usize,
}

/// The deepest tree [`RetainerTree::build`] expands: it recurses once per branching level, and a chain
/// of targets (a linked list of instances) branches at every step.
pub const MAX_DEPTH: usize = 1000;

/// Chains merged into a tree, with totals.
#[derive(Clone, Debug, Default)]
pub struct RetainerTree {
    /// Targets asked about.
    pub targets: u64,
    /// Bytes the targets retain, each counted once (a target dominated by another target adds nothing).
    pub retained: u64,
    /// Targets no root reaches (garbage, or held by something the dump cannot see).
    pub unreachable: u64,
    /// Shallow bytes of the unreachable targets.
    pub unreachable_bytes: u64,
    /// One branch per root object, most targets first.
    pub branches: Vec<Branch>,
    /// Roots beyond [`TreeLimits::top`].
    pub folded: Option<Folded>,
}

/// A run of objects one set of chains passes through, then where those chains go next.
#[derive(Clone, Debug)]
pub struct Branch {
    /// The objects of the run; the first one's `via` is the edge from the parent branch's last object
    /// (`None` on a root).
    pub steps: Vec<PathStep>,
    /// Targets reached through the run.
    pub targets: u64,
    /// Bytes those targets retain.
    pub retained: u64,
    /// Targets the run's last object references directly and that lead nowhere further.
    pub held: Vec<Held>,
    /// Where the other chains go, most targets first.
    pub children: Vec<Branch>,
    /// Children and held groups beyond [`TreeLimits::top`] or [`TreeLimits::max_depth`].
    pub folded: Option<Folded>,
}

/// Targets of one type that one object holds through one kind of edge.
#[derive(Clone, Debug)]
pub struct Held {
    pub type_id: TypeId,
    pub kind: EdgeKind,
    /// The edge label when every target in the group is held through the same one (`.cache`,
    /// `local x`); `None` when they differ (`[0]`, `[1]`, ...).
    pub label: Option<EdgeLabel>,
    pub count: u64,
    pub retained: u64,
    /// The target with the lowest node id, for reports that show one.
    pub example: NodeId,
}

/// What was left out at one place of the tree.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Folded {
    /// Branches and held groups left out.
    pub groups: u64,
    pub targets: u64,
    pub retained: u64,
}

/// Marks a trie node without a parent (a root).
const NO_PARENT: u32 = u32::MAX;

/// One object on some target's chain.
struct TrieNode {
    node: NodeId,
    via: Option<EdgeLabel>,
    parent: u32,
    children: Vec<u32>,
    /// Targets through this object, itself included; own counts until [`Trie::sum_up`].
    targets: u64,
    retained: u64,
}

/// The merged chains, one node per object, before limits are applied.
struct Trie {
    nodes: Vec<TrieNode>,
    tops: Vec<u32>,
}

impl RetainerTree {
    /// Merges the shortest chains of `targets` (node ids, any order, no duplicates).
    pub fn build(
        graph: &Graph,
        paths: &ShortestPaths,
        dominators: &Dominators,
        retained: &RetainedSizes,
        targets: &[NodeId],
        limits: TreeLimits,
    ) -> RetainerTree {
        let weight = outermost_retained(graph, dominators, retained, targets);
        let mut tree = RetainerTree {
            targets: targets.len() as u64,
            ..RetainerTree::default()
        };
        let mut trie = Trie {
            nodes: Vec::new(),
            tops: Vec::new(),
        };
        let mut index: HashMap<NodeId, u32> = HashMap::new();
        for (&t, &w) in targets.iter().zip(&weight) {
            if !paths.is_reached(t) {
                tree.unreachable += 1;
                tree.unreachable_bytes += graph.shallow_size(t);
                continue;
            }
            let at = trie.insert_chain(paths, &mut index, t);
            trie.nodes[at as usize].targets += 1;
            trie.nodes[at as usize].retained += w;
            tree.retained += w;
        }
        trie.sum_up();
        let limits = TreeLimits {
            max_depth: limits.max_depth.min(MAX_DEPTH),
            top: limits.top,
        };
        let shaper = Shaper {
            graph,
            trie: &trie,
            limits,
        };
        let (branches, folded) = shaper.branches(&trie.tops, 0);
        tree.branches = branches;
        tree.folded = folded;
        tree
    }
}

/// Every object whose type is one of `types`, in node order: the targets of `heapgraph retainers TYPE`.
pub fn instances_of(graph: &Graph, types: &[TypeId]) -> Vec<NodeId> {
    use rayon::prelude::*;
    let mut wanted = vec![false; graph.type_count()];
    for &t in types {
        wanted[t as usize] = true;
    }
    (0..graph.node_count() as NodeId)
        .into_par_iter()
        .filter(|&n| wanted[graph.type_of(n) as usize])
        .collect()
}

/// Each target's retained size, or 0 for a target that another target dominates (its bytes are already in
/// that one's). One sweep in dominator preorder, where every vertex comes after its dominator.
fn outermost_retained(
    graph: &Graph,
    dominators: &Dominators,
    retained: &RetainedSizes,
    targets: &[NodeId],
) -> Vec<u64> {
    let mut is_target = vec![false; graph.node_count()];
    for &t in targets {
        is_target[t as usize] = true;
    }
    let (vertex, idom) = dominators.preorder_arrays();
    let mut covered = vec![false; vertex.len()];
    for v in 1..vertex.len() {
        let d = idom[v] as usize;
        covered[v] = covered[d] || (d != 0 && is_target[vertex[d] as usize]);
    }
    targets
        .iter()
        .map(|&t| match dominators.preorder_number(t) {
            Some(v) if !covered[v as usize] => retained.of(t),
            _ => 0,
        })
        .collect()
}

impl Trie {
    /// Adds `target`'s chain, walking BFS parents up until an object already in the trie (so every
    /// object is walked once, however many chains pass through it); returns the target's trie node.
    fn insert_chain(
        &mut self,
        paths: &ShortestPaths,
        index: &mut HashMap<NodeId, u32>,
        target: NodeId,
    ) -> u32 {
        let mut below: Option<u32> = None;
        let mut at = target;
        let mut first = None;
        loop {
            let existing = index.get(&at).copied();
            let idx = existing.unwrap_or_else(|| {
                let parent = paths.parent(at);
                self.nodes.push(TrieNode {
                    node: at,
                    via: match parent {
                        Parent::Node(_, label) => Some(label),
                        _ => None,
                    },
                    parent: NO_PARENT,
                    children: Vec::new(),
                    targets: 0,
                    retained: 0,
                });
                let idx = (self.nodes.len() - 1) as u32;
                index.insert(at, idx);
                idx
            });
            first.get_or_insert(idx);
            if let Some(b) = below {
                self.nodes[b as usize].parent = idx;
                self.nodes[idx as usize].children.push(b);
            }
            if existing.is_some() {
                break;
            }
            match paths.parent(at) {
                Parent::Node(p, _) => {
                    below = Some(idx);
                    at = p;
                }
                Parent::SuperRoot | Parent::Unreached => {
                    self.tops.push(idx);
                    break;
                }
            }
        }
        first.expect("the loop visits the target")
    }

    /// Turns own counts into totals: children before parents (reverse preorder).
    fn sum_up(&mut self) {
        let mut order = Vec::with_capacity(self.nodes.len());
        let mut stack = self.tops.clone();
        while let Some(i) = stack.pop() {
            order.push(i);
            stack.extend_from_slice(&self.nodes[i as usize].children);
        }
        for &i in order.iter().rev() {
            let (parent, targets, retained) = {
                let n = &self.nodes[i as usize];
                (n.parent, n.targets, n.retained)
            };
            if parent != NO_PARENT {
                self.nodes[parent as usize].targets += targets;
                self.nodes[parent as usize].retained += retained;
            }
        }
    }

    fn is_end(&self, i: u32) -> bool {
        self.nodes[i as usize].children.is_empty()
    }
}

/// Applies [`TreeLimits`] while turning the trie into branches.
struct Shaper<'a> {
    graph: &'a Graph,
    trie: &'a Trie,
    limits: TreeLimits,
}

impl Shaper<'_> {
    /// Branches starting at trie nodes `starts` (all at `depth` steps from a root), largest first,
    /// the ones past the top folded.
    fn branches(&self, starts: &[u32], depth: usize) -> (Vec<Branch>, Option<Folded>) {
        let mut starts = starts.to_vec();
        starts.sort_by_key(|&i| self.rank(i));
        let mut folded = Folded::default();
        let mut out = Vec::new();
        for &i in &starts {
            if depth > self.limits.max_depth || out.len() >= self.limits.top {
                let n = &self.trie.nodes[i as usize];
                folded.add(n.targets, n.retained);
            } else {
                out.push(self.branch(i, depth));
            }
        }
        (out, folded.nonempty())
    }

    /// The branch starting at trie node `start`: the run of single-chain objects from it, then its ends and
    /// children.
    fn branch(&self, start: u32, depth: usize) -> Branch {
        let nodes = &self.trie.nodes;
        let step = |i: u32| PathStep {
            node: nodes[i as usize].node,
            via: nodes[i as usize].via,
        };
        let mut last = start;
        let mut depth = depth;
        let mut steps = vec![step(start)];
        // Extend the run while the only way on is one object that is not itself an end.
        while depth < self.limits.max_depth {
            let n = &nodes[last as usize];
            match n.children[..] {
                [only] if !self.trie.is_end(only) && nodes[only as usize].targets == n.targets => {
                    last = only;
                    depth += 1;
                    steps.push(step(only));
                }
                _ => break,
            }
        }
        let n = &nodes[last as usize];
        let (ends, onward): (Vec<u32>, Vec<u32>) =
            n.children.iter().partition(|&&c| self.trie.is_end(c));
        let (children, folded) = self.branches(&onward, depth + 1);
        let mut folded = folded.unwrap_or_default();
        let held = self.held(&ends, depth + 1, &mut folded);
        Branch {
            steps,
            targets: n.targets,
            retained: n.retained,
            held,
            children,
            folded: folded.nonempty(),
        }
    }

    /// Groups end targets by type and edge kind; groups past the top or the depth limit go to `folded`.
    fn held(&self, ends: &[u32], depth: usize, folded: &mut Folded) -> Vec<Held> {
        let mut groups: Vec<Held> = Vec::new();
        for &e in ends {
            let n = &self.trie.nodes[e as usize];
            let label = n.via.unwrap_or_default();
            let type_id = self.graph.type_of(n.node);
            match groups
                .iter_mut()
                .find(|g| g.type_id == type_id && g.kind == label.kind())
            {
                Some(g) => {
                    g.count += n.targets;
                    g.retained += n.retained;
                    g.example = g.example.min(n.node);
                    if g.label != Some(label) {
                        g.label = None;
                    }
                }
                None => groups.push(Held {
                    type_id,
                    kind: label.kind(),
                    label: Some(label),
                    count: n.targets,
                    retained: n.retained,
                    example: n.node,
                }),
            }
        }
        groups.sort_by_key(|g| {
            (
                std::cmp::Reverse(g.count),
                std::cmp::Reverse(g.retained),
                g.example,
            )
        });
        let keep = if depth > self.limits.max_depth {
            0
        } else {
            self.limits.top.min(groups.len())
        };
        for g in groups.drain(keep..) {
            folded.add(g.count, g.retained);
        }
        groups
    }

    /// Most targets first, then most bytes, then lowest node id: deterministic output.
    fn rank(&self, i: u32) -> (std::cmp::Reverse<u64>, std::cmp::Reverse<u64>, NodeId) {
        let n = &self.trie.nodes[i as usize];
        (
            std::cmp::Reverse(n.targets),
            std::cmp::Reverse(n.retained),
            n.node,
        )
    }
}

impl Folded {
    fn add(&mut self, targets: u64, retained: u64) {
        self.groups += 1;
        self.targets += targets;
        self.retained += retained;
    }

    fn nonempty(self) -> Option<Folded> {
        (self.groups > 0).then_some(self)
    }
}
