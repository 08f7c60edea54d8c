//! The dominator tree of the whole heap, from a virtual super-root whose children are the roots.
//!
//! Object `d` dominates `v` when every retaining path from a root to `v` passes through `d`: freeing `d`
//! would free `v`. The tree answers "who keeps this alive?" and gives retained sizes.
//!
//! Algorithm: simple Lengauer-Tarjan (path compression, no balanced linking), as MAT, Chrome DevTools and
//! rustc use; docs/ARCHITECTURE.md says why not Cooper-Harvey-Kennedy or SEMI-NCA.
//!
//! What makes it fast:
//! - everything after the DFS runs in **DFS-preorder space**: vertex `w` is the `w`-th node the DFS
//!   visited, so the reverse-preorder main loop reads its arrays sequentially;
//! - the DFS counts the predecessors the main loop needs, and a parallel sweep over the forward edges
//!   places them, already numbered in preorder, into a small CSR: the graph's node-space reverse edges
//!   are never built, and the DFS stores no edge lists;
//! - forward edges (`u` an ancestor of `v` in the DFS tree) only ever lower `semi(v)` to `u`, so the DFS
//!   applies them on the spot and leaves only cross and back edges to the main loop;
//! - the three per-vertex fields the path compression touches share one 12-byte record, whose label
//!   slot doubles as the bucket head until the main loop reaches the vertex; the compression carries
//!   the running label's semidominator down the path, so it needs no cached copy in each record;
//! - edges into roots are left out of the predecessor lists: the super-root reaches a root directly, so
//!   any path through an edge `u -> root` has a shortcut through fewer nodes, and such an edge never
//!   changes a dominator;
//! - a vertex that more cross and back edges enter than one in 32 vertices (at most 16 such "hubs") gets
//!   a bit per vertex marking the edges' sources instead of their list, and the main loop finds the
//!   smallest semidominator over their DFS ancestors by passing marks up as it goes ([`Hub`]): on a
//!   Java heap, where every instance's edge to its class is such an edge, that takes most predecessors
//!   and their path compressions away;
//! - `idom` takes over the predecessor offsets' slots as the main loop frees them, and the
//!   preorder-to-node map is made only when a query asks for it: the retained sizes reach preorder
//!   space through node-to-preorder, so `top` never holds it;
//! - at the end the vertices are renumbered from the DFS's preorder into the dominator tree's own
//!   preorder, where every subtree is a run of consecutive numbers: the children of a vertex are found by
//!   skipping over subtrees, and a tree walk is a sweep with a stack of ancestors, so no child lists
//!   (8 bytes per object) are ever built;
//! - the DFS runs on one core, and the other faults in the pages of the arrays it fills (records and
//!   predecessor counts) meanwhile: the kernel's zeroing of fresh pages was over half of the search's
//!   time on a 20M-object Java heap;
//! - the DFS, the compression and the tree walks are iterative: heap dumps have chains millions long;
//! - the DFS takes the roots rank by rank (`RootKind::path_rank`), so what each rank's roots reach is a
//!   prefix of its preorder: the shortest-path search skips by it ([`RankReach`]) at the cost of one bit
//!   per object and rank, taken before the renumbering.
//!
//! Memory at the peak (the sweep and the main loop) is 20 bytes per reachable object plus 4 per cross or
//! back edge: the records (12), node-to-preorder (4, per node) and the predecessor offsets (4), which the
//! main loop turns into `idom`.
//!
//! Only edges whose label [retains](heapgraph_graph::EdgeLabel::retains) are followed. Nodes no root reaches have no dominator;
//! they stay in the graph and are reported as unreachable.

use crate::atomic_view::as_atomic;
use crate::paths::{RankReach, PATH_RANKS};
use heapgraph_graph::timings::phase;
use heapgraph_graph::{
    counts_to_ends, prefetch, BlockPages, Column, EdgeCursor, Graph, GraphError, MappedColumns,
    NodeId, SavedColumns,
};
use heapgraph_graph::{NodeBits, SharedNodeBits};
use rayon::prelude::*;
use std::sync::atomic::Ordering;
use std::sync::OnceLock;

/// Where a node sits in the dominator tree.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Idom {
    /// Dominated only by the virtual super-root: more than one root reaches it independently, or it is a
    /// root that no other root's objects retain.
    SuperRoot,
    /// Immediately dominated by this node.
    Node(NodeId),
    /// No root reaches the node: it has no dominator.
    Unreachable,
}

/// Marks "no vertex" in preorder-space arrays and "not visited" in the node-to-preorder map.
const NONE: u32 = u32::MAX;

/// Preorder number of the virtual super-root.
const SUPER: u32 = 0;

/// The dominator tree of a graph, its vertices numbered in the tree's own preorder (see the module docs).
pub struct Dominators {
    /// Node -> preorder number; [`NONE`] for unreachable nodes.
    pre: Column<u32>,
    /// Preorder number -> node; entry 0 (the super-root) holds a placeholder. Made on first use from
    /// `pre`: the analyses sweep the tree through `pre` instead, so a command that only asks for sizes
    /// (`top`) never holds it (4 bytes per object).
    vertex: OnceLock<Column<NodeId>>,
    /// Preorder number -> preorder number of the immediate dominator; `idom[v] < v`, entry 0 is 0.
    idom: Column<u32>,
    /// Preorder number -> the number just past its subtree, made on first use from `idom` (an index
    /// keeps it): what finding a vertex's children needs, at 4 bytes per object instead of a child
    /// list's 8.
    subtree_ends: OnceLock<Column<u32>>,
    /// What the roots of each path rank reach, when the tree was computed here (an index does not keep
    /// it).
    rank_reach: Option<RankReach>,
}

/// The dominator tree still numbered in the DFS's preorder: what [`Dominators::in_dfs_order`] leaves for
/// [`DfsDominators::renumber`], so that a caller can run the renumbering beside other work.
pub struct DfsDominators {
    pre: Vec<u32>,
    idom: Vec<u32>,
    rank_ends: [u32; PATH_RANKS - 1],
}

impl DfsDominators {
    /// Renumbers the tree into its own preorder (see [`tree_order`]).
    pub fn renumber(self) -> Dominators {
        let DfsDominators {
            mut pre,
            idom,
            rank_ends,
        } = self;
        let rank_reach = RankReach::new(&pre, rank_ends);
        let idom = tree_order(&mut pre, idom);
        Dominators {
            pre: pre.into(),
            vertex: OnceLock::new(),
            idom: idom.into(),
            subtree_ends: OnceLock::new(),
            rank_reach: Some(rank_reach),
        }
    }
}

impl Dominators {
    /// Computes the dominator tree of `graph` from the super-root over retaining edges.
    pub fn compute(graph: &Graph) -> Dominators {
        Dominators::in_dfs_order(graph).renumber()
    }

    /// The dominator tree in the DFS's preorder: everything but the renumbering, which needs none of
    /// the Lengauer-Tarjan state and so peaks lower.
    pub fn in_dfs_order(graph: &Graph) -> DfsDominators {
        let DepthFirst {
            pre,
            records,
            pred_counts,
            roots,
            rank_ends,
        } = phase("dominators: depth-first search", || depth_first(graph));
        let Predecessors {
            offsets,
            sources,
            hubs,
        } = phase("dominators: predecessors", || {
            preorder_predecessors(graph, &pre, &roots, pred_counts)
        });
        drop(roots);
        let idom = phase("dominators: semidominators", || {
            semidominators_to_idoms(records, offsets, &sources, hubs)
        });
        DfsDominators {
            pre,
            idom,
            rank_ends,
        }
    }

    /// A tree as [`Dominators::saved`] gave it (an index file's), checked so that no query can index out
    /// of bounds: `pre` has one entry per node of a graph of `node_count` nodes, every preorder number and
    /// node is in range, every immediate dominator precedes its vertex, and every subtree ends past its
    /// vertex and within the tree (the super-root's at the end).
    fn from_saved(saved: SavedDominators, node_count: usize) -> Result<Dominators, String> {
        let SavedDominators {
            pre,
            vertex,
            idom,
            ends,
        } = saved;
        let vertices = vertex.len();
        if pre.len() != node_count
            || vertices == 0
            || vertices > node_count + 1
            || idom.len() != vertices
            || ends.len() != vertices
        {
            return Err(format!(
                "dominator arrays disagree: {} preorder numbers for {node_count} nodes, {vertices} vertices, {} dominators",
                pre.len(),
                idom.len()
            ));
        }
        let checks = [
            pre.par_iter()
                .all(|&v| v == NONE || (v as usize) < vertices),
            vertex[1..].par_iter().all(|&n| (n as usize) < node_count),
            idom.par_iter()
                .enumerate()
                .all(|(v, &d)| (d as usize) < v.max(1)),
            ends[0] as usize == vertices,
            ends.par_iter()
                .enumerate()
                .all(|(v, &e)| v < e as usize && e as usize <= vertices),
        ];
        if checks.contains(&false) {
            return Err("the dominator tree has a number out of range".into());
        }
        Ok(Dominators {
            pre,
            vertex: OnceLock::from(vertex),
            idom,
            subtree_ends: OnceLock::from(ends),
            rank_reach: None,
        })
    }

    /// Hands the tree's arrays to an index file.
    pub fn save<'a>(&'a self, out: &mut SavedColumns<'a>) {
        out.put(PRE, &self.pre);
        out.put(VERTEX, self.vertex());
        out.put(IDOM, &self.idom);
        out.put(ENDS, self.subtree_ends());
    }

    /// The tree [`Dominators::save`] wrote, for a graph of `node_count` nodes, checked (see
    /// [`Dominators::from_saved`]).
    pub fn from_columns(
        columns: &MappedColumns<'_>,
        node_count: usize,
    ) -> Result<Dominators, GraphError> {
        let saved = SavedDominators {
            pre: columns.column(PRE)?,
            vertex: columns.column(VERTEX)?,
            idom: columns.column(IDOM)?,
            ends: columns.column(ENDS)?,
        };
        Dominators::from_saved(saved, node_count).map_err(GraphError::Saved)
    }

    /// The immediate dominator of `node`.
    pub fn idom(&self, node: NodeId) -> Idom {
        match self.pre[node as usize] {
            NONE => Idom::Unreachable,
            v => match self.idom[v as usize] {
                SUPER => Idom::SuperRoot,
                d => Idom::Node(self.vertex()[d as usize]),
            },
        }
    }

    /// Whether some root reaches `node` over retaining edges.
    pub fn is_reachable(&self, node: NodeId) -> bool {
        self.pre[node as usize] != NONE
    }

    /// Number of nodes some root reaches (the super-root not counted).
    pub fn reachable_count(&self) -> usize {
        self.idom.len() - 1
    }

    /// Number of nodes no root reaches.
    pub fn unreachable_count(&self) -> usize {
        self.pre.len() - self.reachable_count()
    }

    /// The nodes no root reaches, ascending.
    pub fn unreachable(&self) -> impl Iterator<Item = NodeId> + '_ {
        (0..self.pre.len() as NodeId).filter(|&n| self.pre[n as usize] == NONE)
    }

    /// Reachable nodes in the dominator tree's preorder: every node comes after its immediate dominator,
    /// and the nodes a node dominates come right after it.
    pub fn preorder(&self) -> &[NodeId] {
        &self.vertex()[1..]
    }

    /// [`Dominators::preorder`] if it is at hand (read from an index, or made by an earlier call), without
    /// making it.
    pub fn made_preorder(&self) -> Option<&[NodeId]> {
        self.vertex.get().map(|vertex| &vertex[1..])
    }

    /// The nodes `node` immediately dominates, in preorder. Empty for unreachable nodes.
    pub fn children(&self, node: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        self.numbered_children(node).map(|(child, _)| child)
    }

    /// [`Dominators::children`] with each child's preorder number, for analyses that keep their results
    /// in preorder space (a retained size is then read without looking the child's number up).
    pub fn numbered_children(&self, node: NodeId) -> impl Iterator<Item = (NodeId, u32)> + '_ {
        let v = self.pre[node as usize];
        let (first, end) = match v {
            NONE => (0, 0),
            v => (v + 1, self.subtree_ends()[v as usize]),
        };
        self.kids(first, end)
    }

    /// `node` and every node it dominates, in preorder. Empty for unreachable nodes.
    pub fn subtree(&self, node: NodeId) -> &[NodeId] {
        let range = match self.pre[node as usize] {
            NONE => 0..0,
            v => v as usize..self.subtree_ends()[v as usize] as usize,
        };
        &self.vertex()[range]
    }

    /// The nodes only the super-root dominates: the top of the dominator tree, in preorder.
    pub fn super_root_children(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.numbered_super_root_children().map(|(child, _)| child)
    }

    /// [`Dominators::super_root_children`] with their preorder numbers.
    pub fn numbered_super_root_children(&self) -> impl Iterator<Item = (NodeId, u32)> + '_ {
        self.kids(SUPER + 1, self.idom.len() as u32)
    }

    /// The children whose subtrees tile the preorder numbers `first..end`, with their numbers: each
    /// child's subtree ends where the next child begins.
    fn kids(&self, first: u32, end: u32) -> impl Iterator<Item = (NodeId, u32)> + '_ {
        let ends: &[u32] = if first < end {
            self.subtree_ends()
        } else {
            &[]
        };
        std::iter::successors(Some(first).filter(|&k| k < end), move |&k| {
            Some(ends[k as usize]).filter(|&next| next < end)
        })
        .map(|k| (self.vertex()[k as usize], k))
    }

    fn subtree_ends(&self) -> &Column<u32> {
        self.subtree_ends
            .get_or_init(|| subtree_ends(&self.idom).into())
    }

    /// The immediate dominators in preorder space, for analyses that sweep the tree: `idom[v] < v` is the
    /// preorder number of vertex `v`'s immediate dominator (0 = the super-root; entry 0 is the
    /// super-root's own). The numbering is the tree's preorder, so a sweep from 1 up that keeps a stack
    /// of the open vertices visits the tree depth-first.
    pub fn preorder_idoms(&self) -> &[u32] {
        &self.idom
    }

    /// Preorder number of `node`, or `None` if unreachable: 1-based, so `preorder()[number - 1] == node`
    /// (0 is the super-root).
    pub fn preorder_number(&self, node: NodeId) -> Option<u32> {
        match self.pre[node as usize] {
            NONE => None,
            v => Some(v),
        }
    }

    /// Which nodes the roots of each path rank reach, from the DFS that numbered the tree; `None` for a
    /// tree read from an index.
    pub fn rank_reach(&self) -> Option<&RankReach> {
        self.rank_reach.as_ref()
    }

    /// The node-to-preorder map, shared (not copied) with an analysis that keeps its own results in
    /// preorder space.
    pub(crate) fn shared_pre(&self) -> Column<u32> {
        self.pre.clone()
    }

    /// Preorder number -> node (entry 0 a placeholder), made on first use.
    fn vertex(&self) -> &Column<NodeId> {
        self.vertex.get_or_init(|| {
            let mut vertex = vec![NodeId::MAX; self.idom.len()];
            for (node, &v) in self.pre.iter().enumerate() {
                if v != NONE {
                    vertex[v as usize] = node as NodeId;
                }
            }
            vertex.into()
        })
    }
}

/// The arrays of a [`Dominators`], as an index file keeps them (see [`Dominators::from_saved`]).
struct SavedDominators {
    pre: Column<u32>,
    vertex: Column<NodeId>,
    idom: Column<u32>,
    ends: Column<u32>,
}

const PRE: &str = "dominators.pre";
const VERTEX: &str = "dominators.vertex";
const IDOM: &str = "dominators.idom";
const ENDS: &str = "dominators.ends";

/// Subtree sizes of a tree given as `idom` (`idom[v] < v`): one sweep from the last vertex adds each
/// size into its parent's, as the retained sizes do with bytes.
fn subtree_sizes(idom: &[u32]) -> Vec<u32> {
    let mut size = vec![1u32; idom.len()];
    for v in (1..idom.len()).rev() {
        let s = size[v];
        size[idom[v] as usize] += s;
    }
    size
}

/// For each vertex of a tree numbered in its own preorder, the number just past its subtree.
fn subtree_ends(idom: &[u32]) -> Vec<u32> {
    let mut ends = subtree_sizes(idom);
    for (v, end) in ends.iter_mut().enumerate() {
        *end += v as u32;
    }
    ends
}

/// Renumbers the tree from the DFS's preorder (`dfs_idom`, and `pre` mapping nodes to it) into the tree's
/// own preorder, children in the order of their DFS numbers. Rewrites `pre` in place and returns `idom` in
/// the new numbering.
///
/// A vertex takes the next free number in its dominator's range, and its own range starts just after it;
/// in DFS preorder every vertex comes after its dominator, so one forward sweep numbers them all. The
/// sizes' array turns into those "next free number" cursors as the sweep passes each vertex, then into
/// the new `idom`: 12 bytes per object at the most, while the Lengauer-Tarjan records freed 12.
fn tree_order(pre: &mut [u32], dfs_idom: Vec<u32>) -> Vec<u32> {
    let n = dfs_idom.len();
    let mut slot = subtree_sizes(&dfs_idom);
    let mut number = vec![SUPER; n];
    slot[SUPER as usize] = SUPER + 1;
    for v in 1..n {
        let d = dfs_idom[v] as usize;
        let t = slot[d];
        slot[d] += slot[v];
        number[v] = t;
        slot[v] = t + 1;
    }
    let mut idom = slot;
    idom[SUPER as usize] = SUPER;
    for v in 1..n {
        idom[number[v] as usize] = number[dfs_idom[v] as usize];
    }
    drop(dfs_idom);
    pre.par_iter_mut().with_min_len(1 << 14).for_each(|v| {
        if *v != NONE {
            *v = number[*v as usize];
        }
    });
    idom
}

/// The per-vertex fields of the Lengauer-Tarjan main loop that path compression reads and writes
/// together, in one cache-friendly record.
#[derive(Copy, Clone)]
struct Record {
    /// The DFS-tree parent until the vertex is linked; then its ancestor in the compressed forest.
    ancestor: u32,
    /// The vertex of minimum semidominator on the compressed path above this one, once the main loop
    /// has reached the vertex. Before that the label would only be the vertex itself, so the slot
    /// holds something else: the head of the vertex's bucket (the vertices waiting for it to be linked
    /// as their semidominator), or [`NONE`]. That saves the main loop a bucket array of 4 bytes per
    /// vertex.
    label: u32,
    /// The semidominator; before the main loop reaches the vertex, the smallest forward-edge source or
    /// DFS parent seen so far.
    semi: u32,
}

struct DepthFirst {
    pre: Vec<u32>,
    records: Vec<Record>,
    /// For each preorder vertex other than a root, how many cross and back edges enter it (edges from a
    /// vertex numbered later); one slot more than vertices, for [`preorder_predecessors`] to turn into
    /// CSR offsets.
    pred_counts: Vec<u32>,
    roots: NodeBits,
    /// How many vertices (the super-root included) were numbered once the roots of each path rank but
    /// the last were done with.
    rank_ends: [u32; PATH_RANKS - 1],
}

/// Which nodes are roots: the edges into them never matter for dominance (module docs).
fn root_set(graph: &Graph) -> NodeBits {
    let mut roots = NodeBits::new(graph.node_count());
    for root in graph.roots() {
        roots.insert(root.node);
    }
    roots
}

/// Iterative DFS from the super-root over retaining edges, numbering vertices in preorder.
///
/// Every retaining edge `u -> v` between reachable nodes is seen exactly once, when `u`'s turn comes:
/// it is the tree edge if `v` is new; a forward edge if `v` was numbered after `u` (then `u` is an
/// ancestor, and lowers `semi(v)` at once); a cross or back edge if `v` was numbered before `u` (counted
/// here, collected by [`preorder_predecessors`] for the main loop, unless `v` is a root); or a self-loop
/// (ignored: it never matters for dominance).
fn depth_first(graph: &Graph) -> DepthFirst {
    let n = graph.node_count();
    let roots = root_set(graph);
    let mut pre: Vec<u32> = (0..n).into_par_iter().map(|_| NONE).collect();
    let mut records = Vec::with_capacity(n + 1);
    let mut pred_counts = vec![0u32; n + 2];
    // The search fills `records` in order and `pred_counts` at random, on one core: the other faults
    // their pages in meanwhile (see `BlockPages`).
    let ahead = [BlockPages::of(&pred_counts), BlockPages::of(&records)];
    let (rank_ends, ()) = rayon::join(
        || search(graph, &roots, &mut pre, &mut records, &mut pred_counts),
        || ahead.into_iter().for_each(BlockPages::fault_in),
    );
    pred_counts.truncate(records.len() + 1);
    DepthFirst {
        pre,
        records,
        pred_counts,
        roots,
        rank_ends,
    }
}

/// The search of [`depth_first`]: numbers `pre`, pushes one record per vertex (the super-root's first)
/// and counts the cross and back edges; returns how many vertices each path rank but the last ended at.
fn search(
    graph: &Graph,
    roots: &NodeBits,
    pre: &mut [u32],
    records: &mut Vec<Record>,
    pred_counts: &mut [u32],
) -> [u32; PATH_RANKS - 1] {
    let raw = graph.raw();
    let stored = raw.stored_targets();
    records.push(Record {
        ancestor: NONE,
        label: NONE,
        semi: SUPER,
    });
    // (preorder number, the node's references not yet looked at)
    let mut stack: Vec<(u32, EdgeCursor)> = Vec::new();
    let visit = |node: NodeId, parent: u32, pre: &mut [u32], records: &mut Vec<Record>| -> u32 {
        let number = records.len() as u32;
        pre[node as usize] = number;
        records.push(Record {
            ancestor: parent,
            label: NONE,
            semi: parent,
        });
        number
    };
    // Roots by path rank, so that the vertices each rank's roots reach first are numbered together.
    let mut rank_ends = [0; PATH_RANKS - 1];
    let by_rank = (0..PATH_RANKS as u8).flat_map(|rank| {
        let roots = graph.roots().iter();
        roots.filter(move |root| root.kind.path_rank() == rank)
    });
    let mut rank = 0;
    for root in by_rank {
        let r = root.node;
        while rank < root.kind.path_rank() {
            rank_ends[rank as usize] = records.len() as u32;
            rank += 1;
        }
        if pre[r as usize] != NONE {
            // Super-root -> already numbered root: a forward edge from preorder 0.
            records[pre[r as usize] as usize].semi = SUPER;
            continue;
        }
        let number = visit(r, SUPER, pre, records);
        stack.push((number, raw.edge_cursor(r)));
        while let Some((u, cursor)) = stack.last_mut() {
            let u = *u;
            let mut descend = None;
            while let Some((e, t)) = cursor.next(stored) {
                if !graph.retains(e) {
                    continue;
                }
                let v = pre[t as usize];
                if v == NONE {
                    descend = Some(t);
                    break;
                } else if v > u {
                    let semi = &mut records[v as usize].semi;
                    *semi = (*semi).min(u);
                } else if v < u && !roots.contains(t) {
                    pred_counts[v as usize] += 1;
                }
            }
            match descend {
                Some(t) => {
                    let number = visit(t, u, pre, records);
                    let cursor = raw.edge_cursor(t);
                    // The DFS is a chain of cache misses through a graph numbered by address. Start
                    // the loads the next steps will need (each child's preorder slot, and what
                    // finding its references reads) all at once, so that they overlap instead of
                    // queueing. Loading each child's first target as well, which needs its offset
                    // and rank first, measured no faster.
                    let mut children = cursor;
                    while let Some((_, x)) = children.next(stored) {
                        prefetch(&pre[x as usize]);
                        raw.prefetch_node(x);
                    }
                    stack.push((number, cursor));
                }
                None => {
                    stack.pop();
                }
            }
        }
    }
    for end in &mut rank_ends[rank as usize..] {
        *end = records.len() as u32;
    }
    rank_ends
}

/// The cross and back edges [`depth_first`] counted, in preorder space.
struct Predecessors {
    /// CSR offsets: the sources of the edges entering vertex `v` are `sources[offsets[v]..offsets[v + 1]]`
    /// (an empty range for a hub).
    offsets: Vec<u32>,
    sources: Vec<u32>,
    /// The vertices so many edges enter that their sources are kept as bits instead, ascending.
    hubs: Vec<Hub>,
}

/// A vertex that so many cross and back edges enter that one bit per vertex, marking their sources,
/// takes less memory than the list of them: in a Java heap, the classes whose every instance points at
/// them (13.6M of the 18.9M such edges in a 20M-object dump, entering 4 classes).
///
/// The main loop needs a source `u` only for `eval(u)`: the smallest semidominator among `u`'s DFS
/// ancestors numbered above the vertex. Over all the sources, that is the smallest semidominator of any
/// vertex numbered above the hub that has a source in its DFS subtree. Going down the preorder, the main
/// loop finishes each vertex's subtree before the vertex, so it passes each marked vertex's mark on to
/// its DFS parent and keeps the running minimum: no `eval`, no source list.
struct Hub {
    vertex: u32,
    /// The sources, then (as the main loop passes them) their DFS ancestors.
    marked: NodeBits,
    /// The smallest semidominator of a marked vertex the main loop has passed.
    best: u32,
}

/// At most this many hubs: the main loop looks at every vertex's bit in each.
const MAX_HUBS: usize = 16;

/// The up to [`MAX_HUBS`] vertices most edges enter, of those whose sources take more memory as a list (4
/// bytes each) than as bits (one per vertex), ascending; their counts become 0, so that the predecessor
/// lists leave them out.
fn pick_hubs(counts: &mut [u32]) -> Vec<u32> {
    let vertices = counts.len().saturating_sub(1);
    let worth = (vertices / 32) as u32;
    let mut hubs: Vec<(u32, u32)> = (0..vertices)
        .filter(|&v| counts[v] > worth)
        .map(|v| (counts[v], v as u32))
        .collect();
    hubs.sort_unstable_by(|a, b| b.cmp(a));
    hubs.truncate(MAX_HUBS);
    let mut hubs: Vec<u32> = hubs.into_iter().map(|(_, v)| v).collect();
    for &h in &hubs {
        counts[h as usize] = 0;
    }
    hubs.sort_unstable();
    hubs
}

/// Collects the cross and back edges [`depth_first`] counted.
///
/// An edge `u -> v` is one of them exactly when both ends are numbered, `v` was numbered before `u` and
/// is not a root, so a second sweep over the forward edges finds them again without the DFS having stored them (8
/// bytes per such edge, 200 MB on a 20M-object Java heap where every object's class edge is one). The
/// sweep reads the edges in node order, on every core, each placing its edges through atomic cursors,
/// or marking its bit for a hub.
fn preorder_predecessors(
    graph: &Graph,
    pre: &[u32],
    roots: &NodeBits,
    mut counts: Vec<u32>,
) -> Predecessors {
    let vertices = counts.len() - 1;
    let hubs = pick_hubs(&mut counts);
    let mut is_hub = NodeBits::new(vertices);
    for &h in &hubs {
        is_hub.insert(h);
    }
    let marks: Vec<SharedNodeBits> = hubs.iter().map(|_| SharedNodeBits::new(vertices)).collect();
    // Inclusive prefix sums: `counts[v]` becomes the end of `v`'s range; the sweep then moves each
    // cursor down to the range's start, which is the end of the range before it.
    let running = counts_to_ends(&mut counts);
    let mut preds = vec![0u32; running as usize];
    let cursors = as_atomic(&mut counts);
    let slots = as_atomic(&mut preds);
    const CHUNK: usize = 1 << 14;
    (0..pre.len().div_ceil(CHUNK))
        .into_par_iter()
        .for_each(|chunk| {
            let nodes = chunk * CHUNK..((chunk + 1) * CHUNK).min(pre.len());
            graph.for_each_retaining_edge(nodes, |node, _, t| {
                let u = pre[node as usize];
                let v = pre[t as usize];
                if u != NONE && v < u && !roots.contains(t) {
                    if is_hub.contains(v) {
                        if let Ok(h) = hubs.binary_search(&v) {
                            marks[h].insert(u);
                        }
                    } else {
                        let slot = cursors[v as usize].fetch_sub(1, Ordering::Relaxed) - 1;
                        slots[slot as usize].store(u, Ordering::Relaxed);
                    }
                }
            });
        });
    Predecessors {
        offsets: counts,
        sources: preds,
        hubs: hubs
            .into_iter()
            .zip(marks)
            .map(|(vertex, marked)| Hub {
                vertex,
                marked: marked.into_bits(),
                best: NONE,
            })
            .collect(),
    }
}

/// The Lengauer-Tarjan main loop: semidominators in reverse preorder, immediate dominators through the
/// buckets, then the forward fix-up. Returns `idom` in preorder space.
///
/// A vertex is linked into the compression forest right after its own step, so while vertex `w` is
/// processed exactly the vertices numbered above `w` are linked: "is linked" is a comparison, and the
/// `ancestor` field can hold the DFS parent from the start.
///
/// `idom` needs no array of its own: step `w` is the last to read `pred_offsets[w + 1]`, so from then on
/// that slot holds `idom(w)` (4 bytes per object less at the peak).
fn semidominators_to_idoms(
    mut rec: Vec<Record>,
    pred_offsets: Vec<u32>,
    preds: &[u32],
    mut hubs: Vec<Hub>,
) -> Vec<u32> {
    let n = rec.len();
    let mut slots = pred_offsets;
    // While a vertex waits in a bucket, its `idom` slot links it to the next one in the same bucket;
    // the bucket's head is the `label` of its semidominator, which the loop has not reached yet.
    let idom = |v: u32| v as usize + 1;
    let mut path = Vec::new();
    for w in (1..n).rev() {
        let (first, end) = (slots[w] as usize, slots[w + 1] as usize);
        // Predecessors of the next few vertices are scattered over the records: fetch ahead.
        for &v in &preds[first.saturating_sub(16)..first.saturating_sub(8)] {
            prefetch(&rec[v as usize]);
        }
        // Every vertex that named `w` its semidominator is a descendant of one of `w`'s children, and
        // was settled when that child's step emptied `w`'s bucket: the slot is free for the label.
        debug_assert_eq!(rec[w].label, NONE, "bucket of {w} not empty");
        rec[w].label = w as u32;
        let parent = rec[w].ancestor;
        let mut semi = rec[w].semi;
        for &v in &preds[first..end] {
            let (_, s) = eval(&mut rec, v, w as u32, &mut path);
            semi = semi.min(s);
        }
        // The hubs numbered from `w` up are done with; a hub's own step takes its minimum.
        while let Some(hub) = hubs.last().filter(|h| h.vertex as usize >= w) {
            if hub.vertex as usize == w {
                semi = semi.min(hub.best);
            }
            hubs.pop();
        }
        rec[w].semi = semi;
        for hub in &mut hubs {
            if hub.marked.contains(w as u32) {
                hub.best = hub.best.min(semi);
                hub.marked.insert(parent);
            }
        }
        if semi == parent {
            slots[idom(w as u32)] = parent;
        } else {
            slots[idom(w as u32)] = rec[semi as usize].label;
            rec[semi as usize].label = w as u32;
        }
        // `w` is now linked under `parent`: settle the vertices whose semidominator is `parent`.
        let mut v = std::mem::replace(&mut rec[parent as usize].label, NONE);
        while v != NONE {
            let next = slots[idom(v)];
            let (u, s) = eval(&mut rec, v, parent, &mut path);
            slots[idom(v)] = if s < parent { u } else { parent };
            v = next;
        }
    }
    // Shift the slots into place: `idom[v]` at `v`, the super-root's (0) first.
    slots.copy_within(1..=n, 0);
    slots.truncate(n);
    let mut idom = slots;
    idom[0] = SUPER;
    for w in 1..n {
        let d = idom[w];
        if d != rec[w].semi {
            idom[w] = idom[d as usize];
        }
    }
    idom
}

/// The vertex of minimum semidominator on the forest path from `v` up to (not including) the first vertex
/// not linked, with its semidominator; compresses the path. Vertices above `linked_above` are linked.
#[inline]
fn eval(rec: &mut [Record], v: u32, linked_above: u32, path: &mut Vec<u32>) -> (u32, u32) {
    let mut x = rec[v as usize].ancestor;
    if x <= linked_above {
        let label = rec[v as usize].label;
        return (label, rec[label as usize].semi);
    }
    // Collect the linked vertices from `v` up; the last one's ancestor is the forest root.
    path.clear();
    path.push(v);
    while rec[x as usize].ancestor > linked_above {
        path.push(x);
        x = rec[x as usize].ancestor;
    }
    path.push(x);
    // From the top down, fold each ancestor's (already compressed) label into the vertex below it,
    // carrying the label's semidominator down so that each step looks up only the lower label's.
    let top = rec[x as usize].label;
    let (mut label, mut semi) = (top, rec[top as usize].semi);
    for i in (0..path.len() - 1).rev() {
        let a_anc = rec[path[i + 1] as usize].ancestor;
        let r = &mut rec[path[i] as usize];
        let own = r.label;
        r.ancestor = a_anc;
        let own_semi = rec[own as usize].semi;
        if semi < own_semi {
            rec[path[i] as usize].label = label;
        } else {
            (label, semi) = (own, own_semi);
        }
    }
    (label, semi)
}
