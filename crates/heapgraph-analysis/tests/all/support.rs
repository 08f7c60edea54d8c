//! Test graphs and brute-force oracles shared by the integration tests.

use heapgraph_graph::{EdgeKind, EdgeLabel, Graph, GraphBuilder, NodeId, RootKind, StrId, TypeId};

/// A tiny seeded PRNG (splitmix64): reproducible graphs without a dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// Address of node `i` in test graphs: ascending, so node id == `i`.
pub fn addr(i: usize) -> u64 {
    0x1000 + 16 * i as u64
}

/// A plain, retaining label.
pub fn strong() -> EdgeLabel {
    EdgeLabel::PLAIN
}

/// A weak label: never retains.
pub fn weak() -> EdgeLabel {
    EdgeLabel::named(EdgeKind::Weak, StrId(0))
}

/// A description of a small graph, built into a [`Graph`] with node id == index.
#[derive(Clone, Debug, Default)]
pub struct Spec {
    /// (type, shallow size) per node.
    pub nodes: Vec<(TypeId, u64)>,
    pub edges: Vec<(usize, usize, EdgeLabel)>,
    pub roots: Vec<(usize, RootKind)>,
    pub type_count: usize,
}

impl Spec {
    pub fn build(&self) -> Graph {
        let mut b = GraphBuilder::new();
        b.intern("weakref");
        let types: Vec<TypeId> = (0..self.type_count.max(1))
            .map(|t| b.add_type("app", &format!("T{t}"), 0x10 + t as u64))
            .collect();
        for (i, &(ty, size)) in self.nodes.iter().enumerate() {
            b.add_node(addr(i), types[ty as usize], size);
        }
        for &(from, to, label) in &self.edges {
            b.add_edge(addr(from), addr(to), label);
        }
        for &(node, kind) in &self.roots {
            b.add_root(addr(node), kind, "root");
        }
        let built = b.build().expect("test graph builds");
        assert_eq!(built.dangling_edges, 0);
        built.graph
    }
}

/// The Python root kinds: the first six.
const ROOT_KINDS: &[RootKind] = RootKind::ALL.split_at(6).0;

/// A random graph mixing the shapes dominator bugs hide in: long chains, diamonds, cycles, unreachable
/// islands, self-loops, multi-edges, weak edges, several roots, roots that are also referenced.
pub fn random_spec(rng: &mut Rng, max_nodes: u64) -> Spec {
    let n = 1 + rng.below(max_nodes) as usize;
    let type_count = 1 + rng.below(4) as usize;
    let mut spec = Spec {
        type_count,
        ..Spec::default()
    };
    for _ in 0..n {
        spec.nodes
            .push((rng.below(type_count as u64) as TypeId, 8 + rng.below(100)));
    }
    // Long chains: node i -> i+1 over a random stretch, sometimes with back pointers (cycles).
    for _ in 0..rng.below(3) {
        let start = rng.below(n as u64) as usize;
        let len = rng.below(n as u64) as usize;
        let back = rng.chance(40);
        for i in start..(start + len).min(n - 1) {
            spec.edges.push((i, i + 1, strong()));
            if back {
                spec.edges.push((i + 1, i, strong()));
            }
        }
    }
    // Diamonds: a -> b, a -> c, b -> d, c -> d.
    for _ in 0..rng.below(3) {
        let pick = |rng: &mut Rng| rng.below(n as u64) as usize;
        let (a, b, c, d) = (pick(rng), pick(rng), pick(rng), pick(rng));
        spec.edges.extend([
            (a, b, strong()),
            (a, c, strong()),
            (b, d, strong()),
            (c, d, strong()),
        ]);
    }
    // Random edges: mostly strong, some weak, some self-loops, some repeated (multi-edges).
    let extra = rng.below(2 * n as u64 + 1);
    for _ in 0..extra {
        let from = rng.below(n as u64) as usize;
        let to = if rng.chance(5) {
            from
        } else {
            rng.below(n as u64) as usize
        };
        let label = if rng.chance(15) { weak() } else { strong() };
        spec.edges.push((from, to, label));
        if rng.chance(10) {
            spec.edges.push((from, to, label));
        }
    }
    // Roots: none sometimes, usually a few, possibly repeated with another kind.
    let root_count = if rng.chance(5) { 0 } else { 1 + rng.below(4) };
    for _ in 0..root_count {
        let node = rng.below(n as u64) as usize;
        let kind = ROOT_KINDS[rng.below(6) as usize];
        spec.roots.push((node, kind));
        if rng.chance(10) {
            spec.roots.push((node, ROOT_KINDS[rng.below(6) as usize]));
        }
    }
    spec
}

/// Retaining successors of every node, with the super-root as node `n` (its successors: the roots).
pub fn retaining_adjacency(graph: &Graph) -> Vec<Vec<usize>> {
    let n = graph.node_count();
    let mut adj: Vec<Vec<usize>> = (0..n as NodeId)
        .map(|u| {
            graph
                .out_edges(u)
                .filter(|(_, l)| l.retains())
                .map(|(t, _)| t as usize)
                .collect()
        })
        .collect();
    adj.push(graph.roots().iter().map(|r| r.node as usize).collect());
    adj
}

/// Nodes reachable from the super-root when `removed` is deleted.
pub fn reachable_without(adj: &[Vec<usize>], removed: Option<usize>) -> Vec<bool> {
    let super_root = adj.len() - 1;
    let mut seen = vec![false; adj.len()];
    let mut stack = vec![super_root];
    seen[super_root] = true;
    while let Some(u) = stack.pop() {
        for &v in &adj[u] {
            if Some(v) != removed && !seen[v] {
                seen[v] = true;
                stack.push(v);
            }
        }
    }
    seen
}

/// What brute force says about one graph.
pub struct Oracle {
    pub reachable: Vec<bool>,
    /// For each node, the nodes that strictly dominate it (the super-root not included).
    pub strict_dominators: Vec<Vec<usize>>,
    /// `None`: unreachable; `Some(None)`: the super-root; `Some(Some(d))`: node `d`.
    pub idom: Vec<Option<Option<usize>>>,
    /// Shallow size of the node plus everything it strictly dominates.
    pub retained: Vec<u64>,
}

/// Dominance by deletion: `v` dominates exactly the reachable nodes that removing `v` makes unreachable.
pub fn oracle(graph: &Graph) -> Oracle {
    let n = graph.node_count();
    let adj = retaining_adjacency(graph);
    let reachable = reachable_without(&adj, None);
    let mut strict_dominators = vec![Vec::new(); n];
    let mut retained: Vec<u64> = (0..n).map(|v| graph.shallow_size(v as NodeId)).collect();
    for v in 0..n {
        if !reachable[v] {
            retained[v] = 0;
            continue;
        }
        let without = reachable_without(&adj, Some(v));
        for w in 0..n {
            if w != v && reachable[w] && !without[w] {
                strict_dominators[w].push(v);
                retained[v] += graph.shallow_size(w as NodeId);
            }
        }
    }
    // The immediate dominator is the strict dominator that all the others dominate too: the one with
    // the most strict dominators of its own.
    let idom = (0..n)
        .map(|w| {
            if !reachable[w] {
                return None;
            }
            let d = strict_dominators[w]
                .iter()
                .copied()
                .find(|&d| strict_dominators[d].len() + 1 == strict_dominators[w].len());
            Some(d)
        })
        .collect();
    Oracle {
        reachable,
        strict_dominators,
        idom,
        retained,
    }
}
