//! Shapes that break naive dominator code: an LRU cache (quadratic for SEMI-NCA and Cooper-Harvey-
//! Kennedy) and a million-long chain (a stack overflow for any recursion).

use heapgraph_analysis::{Dominators, Idom, RetainedSizes, TypeRetained};
use heapgraph_graph::{EdgeLabel, Graph, GraphBuilder, NodeId, RootKind};
use std::time::{Duration, Instant};

/// Debug builds are ~20x slower than release; the limits below still catch quadratic behaviour, which
/// takes minutes at these sizes.
const LIMIT: Duration = Duration::from_secs(20);

fn build(nodes: usize, edges: impl Iterator<Item = (usize, usize)>, root: usize) -> Graph {
    let mut b = GraphBuilder::new();
    let ty = b.add_type("app", "Node", 0x10);
    for i in 0..nodes {
        b.add_node(0x1000 + 16 * i as u64, ty, 16);
    }
    for (from, to) in edges {
        b.add_edge(
            0x1000 + 16 * from as u64,
            0x1000 + 16 * to as u64,
            EdgeLabel::PLAIN,
        );
    }
    b.add_root(0x1000 + 16 * root as u64, RootKind::Local, "cache");
    b.build().unwrap().graph
}

#[test]
fn lru_cache_shape_is_fast() {
    // Node 0: the cache. 1..=L: a doubly linked list (the DFS goes down it first). L+1: an array that
    // also holds every element. L+2..: the elements, element i held by list node i and by the array.
    const L: usize = 200_000;
    let array = L + 1;
    let element = |i: usize| L + 2 + i;
    let mut edges = vec![(0, 1), (0, array)];
    for i in 1..=L {
        if i < L {
            edges.push((i, i + 1));
            edges.push((i + 1, i));
        }
        edges.push((i, element(i - 1)));
    }
    for i in 0..L {
        edges.push((array, element(i)));
    }
    let graph = build(2 * L + 2, edges.into_iter(), 0);
    let start = Instant::now();
    let dom = Dominators::compute(&graph);
    let retained = RetainedSizes::compute(&graph, &dom);
    let took = start.elapsed();
    assert!(took < LIMIT, "LRU shape took {took:?}");
    assert_eq!(dom.idom(0), Idom::SuperRoot);
    assert_eq!(dom.idom(1), Idom::Node(0));
    assert_eq!(dom.idom(L as NodeId), Idom::Node(L as NodeId - 1));
    assert_eq!(dom.idom(array as NodeId), Idom::Node(0));
    for i in [0, 1, L / 2, L - 1] {
        assert_eq!(dom.idom(element(i) as NodeId), Idom::Node(0));
    }
    assert_eq!(retained.of(1), 16 * L as u64);
    assert_eq!(retained.of(0), retained.total());
}

#[test]
fn million_long_chain_does_not_overflow_the_stack() {
    const N: usize = 1_000_000;
    let graph = build(N, (0..N - 1).map(|i| (i, i + 1)), 0);
    let start = Instant::now();
    let dom = Dominators::compute(&graph);
    let retained = RetainedSizes::compute(&graph, &dom);
    assert!(start.elapsed() < LIMIT);
    assert_eq!(dom.idom(N as NodeId - 1), Idom::Node(N as NodeId - 2));
    assert_eq!(retained.of(0), 16 * N as u64);
    assert_eq!(retained.of(N as NodeId / 2), 16 * (N / 2) as u64);
    assert_eq!(
        TypeRetained::compute(&graph, &dom, &retained).of(0),
        16 * N as u64
    );
    // The dominator tree is a million deep too: the children index and a walk down it.
    let mut depth = 0;
    let mut at = dom.super_root_children().next();
    while let Some(v) = at {
        depth += 1;
        at = dom.children(v).next();
    }
    assert_eq!(depth, N);
}
