//! Shortest retaining paths from the roots: "why is this object alive?" in one chain.
//!
//! One breadth-first search from the super-root over retaining edges gives every reachable object the edge
//! it was first reached through; the shortest chain to any object is then a walk up these edges' sources,
//! its BFS parents. Each edge is kept as its position in the forward CSR, 4 bytes per object: the graph
//! finds its source ([`Graph::edge_source`]) and its label (looked up, or read again from the dump) only
//! for the chains a report follows. The array is kept whole because retainer trees (grouping many
//! objects' chains by the types along them) reuse it.
//!
//! The BFS is sequential and deterministic: roots by rank (the program's, the runtime's, inferred ones),
//! then in the graph's root order, edges in the dump's order.
//! It runs beside the retained sizes, on the other core, after the dominators (see `analysis.rs`). A
//! report that follows only a few chains stops it once it has reached their ends
//! ([`ShortestPaths::reaching`]): the order makes those chains the same as the whole search's. Told
//! what each rank of roots reaches ([`RankReach`]), it also skips the ranks and the objects those chains
//! cannot pass through.

use heapgraph_graph::{
    prefetch, Column, EdgeLabel, Graph, GraphError, MappedColumns, NodeBits, NodeId, SavedColumns,
};
use rayon::prelude::*;
use std::collections::VecDeque;

/// Marks a node reached by no root (no edge position reaches it: see [`heapgraph_graph::MAX_EDGES`]).
const UNREACHED: u32 = u32::MAX;
/// Marks a root: reached straight from the super-root.
const FROM_SUPER_ROOT: u32 = u32::MAX - 1;

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

/// How many path ranks roots come in (`RootKind::path_rank`).
pub const PATH_RANKS: usize = 3;

/// Which nodes the roots of the first path ranks reach over retaining edges: `through[k]` holds what
/// the roots of ranks `0..=k` reach. The dominator tree's DFS visits the roots rank by rank, so each is a
/// prefix of its preorder (see [`crate::Dominators::rank_reach`]).
pub struct RankReach {
    through: [NodeBits; PATH_RANKS - 1],
}

impl RankReach {
    /// From the DFS's node-to-preorder map `pre` and where each rank's vertices end in it.
    pub(crate) fn new(pre: &[u32], ends: [u32; PATH_RANKS - 1]) -> RankReach {
        RankReach {
            through: ends.map(|end| NodeBits::from_fn(pre.len(), |node| pre[node as usize] < end)),
        }
    }

    /// What the roots of ranks `0..=rank` reach; `None` past the ranks kept.
    fn through(&self, rank: u8) -> Option<&NodeBits> {
        self.through.get(rank as usize)
    }

    /// The lowest rank whose roots (with the earlier ranks') reach `node`.
    fn first_rank(&self, node: NodeId) -> u8 {
        let kept = self.through.iter().position(|bits| bits.contains(node));
        kept.unwrap_or(PATH_RANKS - 1) as u8
    }
}

/// One step of a path: a node and the label of the edge that led to it (`None` for the root it starts at).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct PathStep {
    pub node: NodeId,
    pub via: Option<EdgeLabel>,
}

/// BFS parents of every node, from the super-root over retaining edges (or of the nodes a search that
/// stopped early reached: see [`ShortestPaths::reaching`]).
pub struct ShortestPaths {
    /// Node -> the edge from its BFS parent, or [`FROM_SUPER_ROOT`], or [`UNREACHED`].
    via: Column<u32>,
    reached: usize,
}

const VIA: &str = "paths.via";

impl ShortestPaths {
    pub fn compute(graph: &Graph) -> ShortestPaths {
        ShortestPaths::search(graph, &[], None)
    }

    /// The BFS stopped as soon as it has reached every node of `targets`, for a report that follows only
    /// their chains. [`ShortestPaths::path_to`] gives each target (and each node on its chain) the same
    /// chain as the whole search would, as the BFS reaches nodes in the same order up to where it stops;
    /// for other nodes it may answer `None`, and [`ShortestPaths::is_reached`] and
    /// [`ShortestPaths::reached_count`] count only what was reached before the stop.
    ///
    /// With `ranks` (what the dominator tree's DFS learnt: [`RankReach`]) the search also skips what
    /// the chains cannot pass through. The whole search gives the roots of each rank whatever the earlier
    /// ranks' roots do not reach, and nothing those reach leads out of it: so a rank's search stops
    /// once it has reached the targets no earlier rank reaches, a rank none of the targets needs is
    /// skipped, and each rank's search, told what the earlier ranks reach, walks only what it would
    /// have walked after them. A target held only by a later rank's roots then no longer costs a walk
    /// through everything the first rank reaches.
    pub fn reaching(graph: &Graph, targets: &[NodeId], ranks: Option<&RankReach>) -> ShortestPaths {
        if targets.is_empty() {
            return ShortestPaths {
                via: vec![UNREACHED; graph.node_count()].into(),
                reached: 0,
            };
        }
        ShortestPaths::search(graph, targets, ranks)
    }

    /// The BFS, stopped once it has reached every node of `targets` (see [`ShortestPaths::reaching`]),
    /// or whole if there are none.
    fn search(graph: &Graph, targets: &[NodeId], ranks: Option<&RankReach>) -> ShortestPaths {
        let n = graph.node_count();
        let mut targets = targets.to_vec();
        targets.sort_unstable();
        targets.dedup();
        let whole = targets.is_empty();
        let raw = graph.raw();
        let mut via = vec![UNREACHED; n];
        // Only the frontier is queued: a few levels' worth, not every reached node.
        let mut queue: VecDeque<NodeId> = VecDeque::new();
        let mut reached = 0;
        const AHEAD: usize = 8;
        let mut ahead_edges: [_; AHEAD] = std::array::from_fn(|_| (NodeId::MAX, None));
        let mut popped = 0usize;
        // The program's own roots first, then the runtime's machinery, then inferred roots: a chain from
        // "module app" explains more than one through `sys.modules` or from an object merely "held from
        // outside", so each later rank only claims what the earlier ones cannot reach
        // (`RootKind::path_rank`).
        for rank in 0..PATH_RANKS as u8 {
            // What the earlier ranks reach, when known: this rank's search passes it by.
            let earlier = ranks.and_then(|r| r.through(rank.wrapping_sub(1)));
            let passed = |node: NodeId| earlier.is_some_and(|e| e.contains(node));
            // The targets this rank's search reaches; it ends once none is left.
            let mut left = targets
                .iter()
                .filter(|&&t| {
                    via[t as usize] == UNREACHED && ranks.is_none_or(|r| r.first_rank(t) == rank)
                })
                .count();
            if !whole && left == 0 {
                continue;
            }
            let mut reach = |node: NodeId| {
                if !whole && targets.binary_search(&node).is_ok() {
                    left -= 1;
                }
                !whole && left == 0
            };
            let mut done = false;
            for root in graph.roots().iter().filter(|r| r.kind.path_rank() == rank) {
                if via[root.node as usize] == UNREACHED && !passed(root.node) {
                    via[root.node as usize] = FROM_SUPER_ROOT;
                    queue.push_back(root.node);
                    if reach(root.node) {
                        done = true;
                        break;
                    }
                }
            }
            while let Some(u) = if done { None } else { queue.pop_front() } {
                reached += 1;
                popped += 1;
                // The walk is a chain of cache misses through a graph numbered by address: start the
                // loads of the nodes a few places ahead in the queue (their edges, then their targets'
                // marks) so that they overlap instead of queueing.
                if let Some(&ahead) = queue.get(16) {
                    raw.prefetch_node(ahead);
                }
                if let Some(&ahead) = queue.get(8) {
                    raw.prefetch_edges(ahead);
                }
                if let Some(&ahead) = queue.get(4) {
                    let edges = graph.node_edges(ahead);
                    for (_, t) in edges.clone().take(8) {
                        prefetch(&via[t as usize]);
                    }
                    // Popped 5 pops from now: keep the cursor rather than find it again.
                    ahead_edges[(popped + 5) % AHEAD] = (ahead, Some(edges));
                }
                let edges = match &ahead_edges[popped % AHEAD] {
                    (node, Some(edges)) if *node == u => edges.clone(),
                    _ => graph.node_edges(u),
                };
                for (e, t) in edges {
                    if graph.retains(e) && via[t as usize] == UNREACHED && !passed(t) {
                        via[t as usize] = e as u32;
                        queue.push_back(t);
                        if reach(t) {
                            done = true;
                            break;
                        }
                    }
                }
            }
            // What is still queued was reached (its edge is set) but not walked from.
            reached += queue.len();
            queue.clear();
        }
        ShortestPaths {
            via: via.into(),
            reached,
        }
    }

    /// Edges as [`ShortestPaths::saved`] gave them (an index file's), checked: one per node of a graph of
    /// `node_count` nodes and `edge_count` edges, each an edge or a mark. A walk up forged edges could
    /// still loop; [`ShortestPaths::path_to`] stops after `node_count` steps.
    fn from_saved(
        via: Column<u32>,
        node_count: usize,
        edge_count: usize,
    ) -> Result<ShortestPaths, String> {
        if via.len() != node_count {
            return Err(format!(
                "{} shortest-path edges for {node_count} nodes",
                via.len()
            ));
        }
        // One pass over the mapped array both checks every edge and counts the reached nodes: on a warm
        // index this read is most of what opening the paths costs.
        let reached = via
            .par_iter()
            .try_fold(
                || 0usize,
                |reached, &e| match e {
                    UNREACHED => Some(reached),
                    FROM_SUPER_ROOT => Some(reached + 1),
                    e if (e as usize) < edge_count => Some(reached + 1),
                    _ => None,
                },
            )
            .try_reduce(|| 0, |a, b| Some(a + b))
            .ok_or("a shortest-path edge is not an edge")?;
        Ok(ShortestPaths { via, reached })
    }

    /// Hands the edge array to an index file.
    pub fn save<'a>(&'a self, out: &mut SavedColumns<'a>) {
        out.put(VIA, &self.via);
    }

    /// The paths [`ShortestPaths::save`] wrote, checked against a graph of `node_count` nodes and
    /// `edge_count` edges (see [`ShortestPaths::from_saved`]).
    pub fn from_columns(
        columns: &MappedColumns<'_>,
        node_count: usize,
        edge_count: usize,
    ) -> Result<ShortestPaths, GraphError> {
        ShortestPaths::from_saved(columns.column(VIA)?, node_count, edge_count)
            .map_err(GraphError::Saved)
    }

    /// How the BFS reached `node` of `graph`.
    pub fn parent(&self, graph: &Graph, node: NodeId) -> Parent {
        match self.via[node as usize] {
            UNREACHED => Parent::Unreached,
            FROM_SUPER_ROOT => Parent::SuperRoot,
            e => Parent::Node(graph.edge_source(e as usize), e),
        }
    }

    /// Whether some root reaches `node`.
    pub fn is_reached(&self, node: NodeId) -> bool {
        self.via[node as usize] != UNREACHED
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
            match self.parent(graph, at) {
                Parent::Unreached => return None,
                Parent::SuperRoot => {
                    steps.push(PathStep {
                        node: at,
                        via: None,
                    });
                    break;
                }
                // More steps than nodes: the parents loop, which only a forged index file can make.
                Parent::Node(_, _) if steps.len() > self.via.len() => return None,
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
