//! Merged shortest paths: why a whole set of objects (all instances of a type, the objects that grew
//! between two dumps) is alive, as one tree from the roots down.
//!
//! This is Eclipse MAT's "merge shortest paths to GC roots": every target's shortest retaining chain (the
//! BFS parents of [`ShortestPaths`]) is walked up to its root, and the chains are merged where they pass
//! through the same object, so each tree node is one real object with the number of targets reached
//! through it and the bytes they retain. Merging by object keeps real edge names (`['CACHE']`,
//! `.entries`) on every step. Below that, sibling objects of one type reached through one kind of edge
//! are shown as one step (ten thousand `Record`s, each under its own index of one list, each holding
//! its `.name`): without that a cache of a million entries would print a million branches.
//!
//! For printing, a run of objects that a single chain passes through (same targets, no branching) is one
//! [`Branch`]: `module __main__.__dict__['CACHE']['k']` is one line, not four. Targets that end a chain
//! are grouped per holder by type and edge kind into [`Held`] lines (`[i] 1,000 × app.Item`).

use crate::child_lists::child_lists;
use crate::dominators::Dominators;
use crate::paths::{Parent, PathStep, ShortestPaths};
use crate::retained::RetainedSizes;
use heapgraph_graph::{EdgeKind, EdgeLabel, Graph, NodeId, TypeId};

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
    pub steps: Vec<MergedStep>,
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

/// One step of a run: one object, or several siblings of one type reached through one kind of edge
/// (ten thousand lists, each under its own key of one dict), shown by the first of them.
#[derive(Copy, Clone, Debug)]
pub struct MergedStep {
    /// The object (the first one, when merged) and the edge that reached it.
    pub step: PathStep,
    /// How many objects the step stands for.
    pub objects: u64,
    /// Whether their edges differ (`[0]`, `[1]`, ...), so `step.via` is only an example.
    pub label_varies: bool,
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
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Folded {
    /// Branches and held groups left out.
    pub groups: u64,
    pub targets: u64,
    pub retained: u64,
}

/// Marks a trie node without a parent (a root).
const NO_PARENT: u32 = u32::MAX;

/// One object on some target's chain: 32 bytes, since a type with a million instances makes a million of
/// them and the time goes into faulting in their pages.
struct TrieNode {
    node: NodeId,
    /// The trie node above, or [`NO_PARENT`] for a root's object.
    parent: u32,
    /// The edge from the parent's object; meaningless without a parent.
    via: EdgeLabel,
    /// Targets through this object, itself included; own counts until [`Trie::sum_up`].
    targets: u64,
    retained: u64,
}

impl TrieNode {
    fn via(&self) -> Option<EdgeLabel> {
        (self.parent != NO_PARENT).then_some(self.via)
    }
}

/// The merged chains, one node per object, before limits are applied.
struct Trie {
    nodes: Vec<TrieNode>,
    tops: Vec<u32>,
    /// Children of trie node `i`: `kids[child_offsets[i]..child_offsets[i + 1]]`, in the order they were
    /// made (filled by [`Trie::index_children`] once every chain is in).
    child_offsets: Vec<u32>,
    kids: Vec<u32>,
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
        let weight = outermost_retained(dominators, retained, targets);
        let mut tree = RetainerTree {
            targets: targets.len() as u64,
            ..RetainerTree::default()
        };
        let mut trie = Trie {
            nodes: Vec::with_capacity(targets.len()),
            tops: Vec::new(),
            child_offsets: Vec::new(),
            kids: Vec::new(),
        };
        let mut index = TrieIndex::new(graph.node_count());
        for (&t, &w) in targets.iter().zip(&weight) {
            if !paths.is_reached(t) {
                tree.unreachable += 1;
                tree.unreachable_bytes =
                    tree.unreachable_bytes.saturating_add(graph.shallow_size(t));
                continue;
            }
            let at = trie.insert_chain(graph, paths, &mut index, t);
            trie.nodes[at as usize].targets += 1;
            // Saturating: sizes read from an index file may be forged, and must not overflow.
            let node = &mut trie.nodes[at as usize];
            node.retained = node.retained.saturating_add(w);
            tree.retained = tree.retained.saturating_add(w);
        }
        trie.index_children();
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
        let (branches, folded) = shaper.branches(&trie.tops, 0, false);
        tree.branches = branches;
        tree.folded = folded;
        tree
    }
}

/// Every object whose type is one of `types`, in node order: the targets of `heapgraph retainers TYPE`.
pub fn instances_of(graph: &Graph, types: &[TypeId]) -> Vec<NodeId> {
    let mut wanted = vec![false; graph.type_count()];
    for &t in types {
        wanted[t as usize] = true;
    }
    // Sequential: one pass over 2 or 4 bytes an object runs at memory speed, and was measured 3x faster
    // than rayon's filtered collect (10 ms against 35 ms at 10M objects), which gathers pieces and copies
    // them.
    (0..graph.node_count() as NodeId)
        .filter(|&n| wanted[graph.type_of(n) as usize])
        .collect()
}

/// Each target's retained size, or 0 for a target that another target dominates (its bytes are already in
/// that one's). One sweep in dominator preorder, where every vertex comes after its dominator; targets
/// are marked by preorder number, so the sweep reads only preorder-space arrays.
fn outermost_retained(
    dominators: &Dominators,
    retained: &RetainedSizes,
    targets: &[NodeId],
) -> Vec<u64> {
    const TARGET: u8 = 1;
    const COVERED: u8 = 2;
    let idom = dominators.preorder_idoms();
    let mut flags = vec![0u8; idom.len()];
    for &t in targets {
        if let Some(v) = dominators.preorder_number(t) {
            flags[v as usize] = TARGET;
        }
    }
    for v in 1..idom.len() {
        let d = idom[v] as usize;
        if flags[d] != 0 {
            flags[v] |= COVERED;
        }
    }
    targets
        .iter()
        .map(|&t| match dominators.preorder_number(t) {
            Some(v) if flags[v as usize] & COVERED == 0 => retained.of(t),
            _ => 0,
        })
        .collect()
}

/// Object -> its trie node. A dense array rather than a hash table: a type with a million instances
/// walks millions of objects, and zeroed memory costs only the pages those objects' ids fall in.
struct TrieIndex(Vec<u32>);

impl TrieIndex {
    fn new(nodes: usize) -> TrieIndex {
        TrieIndex(vec![0; nodes])
    }

    /// Stored plus one, so that the zeroed array means "not in the trie".
    fn get(&self, node: NodeId) -> Option<u32> {
        self.0[node as usize].checked_sub(1)
    }

    fn insert(&mut self, node: NodeId, trie_node: u32) {
        self.0[node as usize] = trie_node + 1;
    }
}

impl Trie {
    /// Adds `target`'s chain, walking BFS parents up until an object already in the trie (so every
    /// object is walked once, however many chains pass through it); returns the target's trie node.
    fn insert_chain(
        &mut self,
        graph: &Graph,
        paths: &ShortestPaths,
        index: &mut TrieIndex,
        target: NodeId,
    ) -> u32 {
        let mut below: Option<u32> = None;
        let mut at = target;
        let mut first = None;
        loop {
            // A new object reads its BFS parent once, for its edge label and for the next step up; an
            // object already in the trie ends the walk, since the rest of its chain is there too.
            let (idx, parent) = match index.get(at) {
                Some(idx) => (idx, None),
                None => {
                    let parent = paths.parent(graph, at);
                    self.nodes.push(TrieNode {
                        node: at,
                        parent: NO_PARENT,
                        via: match parent {
                            Parent::Node(p, edge) => graph.edge_label(p, edge as usize),
                            _ => EdgeLabel::default(),
                        },
                        targets: 0,
                        retained: 0,
                    });
                    let idx = (self.nodes.len() - 1) as u32;
                    index.insert(at, idx);
                    (idx, Some(parent))
                }
            };
            first.get_or_insert(idx);
            if let Some(b) = below {
                self.nodes[b as usize].parent = idx;
            }
            match parent {
                None => break,
                Some(Parent::Node(p, _)) => {
                    below = Some(idx);
                    at = p;
                }
                Some(Parent::SuperRoot | Parent::Unreached) => {
                    self.tops.push(idx);
                    break;
                }
            }
        }
        first.expect("the loop visits the target")
    }

    /// Builds the child lists from the parent links. A node is linked to its parent right after it is
    /// made, so ascending node order is the order each parent gained its children.
    fn index_children(&mut self) {
        let nodes = &self.nodes;
        let (offsets, kids) = child_lists(nodes.len(), |i| {
            Some(nodes[i].parent).filter(|&p| p != NO_PARENT)
        });
        self.child_offsets = offsets;
        self.kids = kids;
    }

    fn children(&self, i: u32) -> &[u32] {
        let i = i as usize;
        &self.kids[self.child_offsets[i] as usize..self.child_offsets[i + 1] as usize]
    }

    /// Turns own counts into totals: children before parents (reverse preorder).
    fn sum_up(&mut self) {
        let mut order = Vec::with_capacity(self.nodes.len());
        let mut stack = self.tops.clone();
        while let Some(i) = stack.pop() {
            order.push(i);
            stack.extend_from_slice(self.children(i));
        }
        for &i in order.iter().rev() {
            let (parent, targets, retained) = {
                let n = &self.nodes[i as usize];
                (n.parent, n.targets, n.retained)
            };
            if parent != NO_PARENT {
                let parent = &mut self.nodes[parent as usize];
                parent.targets += targets;
                parent.retained = parent.retained.saturating_add(retained);
            }
        }
    }

    fn is_end(&self, i: u32) -> bool {
        self.children(i).is_empty()
    }
}

/// Applies [`TreeLimits`] while turning the trie into branches.
struct Shaper<'a> {
    graph: &'a Graph,
    trie: &'a Trie,
    limits: TreeLimits,
}

/// Trie nodes shown as one: siblings of one type reached through one kind of edge.
type Group = Vec<u32>;

impl Shaper<'_> {
    /// Branches starting at the trie nodes `starts` (siblings, `depth` steps from a root), merged by
    /// [`Shaper::sibling_groups`] (roots are never merged: each is its own reason to be alive), largest
    /// first, the ones past the top folded.
    fn branches(&self, starts: &[u32], depth: usize, merge: bool) -> (Vec<Branch>, Option<Folded>) {
        let mut groups = if merge {
            self.sibling_groups(starts)
        } else {
            starts.iter().map(|&i| vec![i]).collect()
        };
        groups.sort_by_key(|g| self.rank(g));
        let mut folded = Folded::default();
        let mut out = Vec::new();
        for g in groups {
            if depth > self.limits.max_depth || out.len() >= self.limits.top {
                let (targets, retained) = self.totals(&g);
                folded.add(targets, retained);
            } else {
                out.push(self.branch(g, depth));
            }
        }
        (out, folded.nonempty())
    }

    /// The branch starting at `start`: the run of groups its chains pass through together, then its ends
    /// and children.
    fn branch(&self, start: Group, depth: usize) -> Branch {
        let mut depth = depth;
        let mut steps = vec![self.step(&start)];
        let mut group = start;
        // Extend the run while the only way on is one group that holds all the targets and ends none.
        while depth < self.limits.max_depth {
            let (ends, onward) = self.children(&group);
            if !ends.is_empty() {
                break;
            }
            let mut next = self.sibling_groups(&onward);
            if next.len() != 1 || self.totals(&next[0]).0 != self.totals(&group).0 {
                break;
            }
            group = next.pop().expect("one group");
            depth += 1;
            steps.push(self.step(&group));
        }
        let (ends, onward) = self.children(&group);
        let (children, folded) = self.branches(&onward, depth + 1, true);
        let mut folded = folded.unwrap_or_default();
        let held = self.held(&ends, depth + 1, &mut folded);
        let (targets, retained) = self.totals(&group);
        Branch {
            steps,
            targets,
            retained,
            held,
            children,
            folded: folded.nonempty(),
        }
    }

    /// One step of a run: the group's first object stands for all of them.
    fn step(&self, group: &Group) -> MergedStep {
        let nodes = &self.trie.nodes;
        let first = &nodes[group[0] as usize];
        let same_label = group
            .iter()
            .all(|&i| nodes[i as usize].via() == first.via());
        MergedStep {
            step: PathStep {
                node: first.node,
                via: first.via(),
            },
            objects: group.len() as u64,
            label_varies: !same_label,
        }
    }

    /// The trie children of every member of `group`: `(ends, onward)`.
    fn children(&self, group: &Group) -> (Vec<u32>, Vec<u32>) {
        group
            .iter()
            .flat_map(|&i| self.trie.children(i).iter().copied())
            .partition(|&c| self.trie.is_end(c))
    }

    /// Siblings grouped by type and edge: by the edge's kind for elements and dict values (indices and
    /// keys differ from sibling to sibling), by the edge itself for attributes and locals (`.key` and
    /// `.value` are different reasons). Groups keep the order of their first member.
    fn sibling_groups(&self, siblings: &[u32]) -> Vec<Group> {
        let mut groups: Vec<((TypeId, u32), Group)> = Vec::new();
        for &i in siblings {
            let n = &self.trie.nodes[i as usize];
            let label = n.via().unwrap_or_default();
            let edge = match label.kind() {
                EdgeKind::Index | EdgeKind::Key => (label.kind() as u32) << EdgeLabel::PAYLOAD_BITS,
                _ => label.raw(),
            };
            let key = (self.graph.type_of(n.node), edge);
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, g)) => g.push(i),
                None => groups.push((key, vec![i])),
            }
        }
        groups.into_iter().map(|(_, g)| g).collect()
    }

    /// Groups end targets by type and edge kind; groups past the top or the depth limit go to `folded`.
    fn held(&self, ends: &[u32], depth: usize, folded: &mut Folded) -> Vec<Held> {
        let mut groups: Vec<Held> = Vec::new();
        for &e in ends {
            let n = &self.trie.nodes[e as usize];
            let label = n.via().unwrap_or_default();
            let type_id = self.graph.type_of(n.node);
            match groups
                .iter_mut()
                .find(|g| g.type_id == type_id && g.kind == label.kind())
            {
                Some(g) => {
                    g.count += n.targets;
                    g.retained = g.retained.saturating_add(n.retained);
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

    /// Targets and retained bytes through a group.
    fn totals(&self, group: &Group) -> (u64, u64) {
        group.iter().fold((0, 0), |(t, r), &i| {
            let n = &self.trie.nodes[i as usize];
            (t + n.targets, r.saturating_add(n.retained))
        })
    }

    /// Most targets first, then most bytes, then lowest node id: deterministic output.
    fn rank(&self, group: &Group) -> (std::cmp::Reverse<u64>, std::cmp::Reverse<u64>, NodeId) {
        let (targets, retained) = self.totals(group);
        let first = group
            .iter()
            .map(|&i| self.trie.nodes[i as usize].node)
            .min()
            .expect("groups are not empty");
        (
            std::cmp::Reverse(targets),
            std::cmp::Reverse(retained),
            first,
        )
    }
}

impl Folded {
    fn add(&mut self, targets: u64, retained: u64) {
        self.groups += 1;
        self.targets += targets;
        self.retained = self.retained.saturating_add(retained);
    }

    fn nonempty(self) -> Option<Folded> {
        (self.groups > 0).then_some(self)
    }
}
