//! Dominators and retained sizes against two independent oracles on thousands of random graphs.

use crate::support::{addr, oracle, random_spec, strong, weak, Rng, Spec};
use heapgraph_analysis::{Dominators, Idom, RetainedSizes, TypeRetained};
use heapgraph_graph::{Graph, MappedColumns, NodeId, RootKind, SavedColumns};
use petgraph::algo::dominators::simple_fast;
use petgraph::graph::{DiGraph, NodeIndex};

fn ours(idom: Idom) -> Option<Option<usize>> {
    match idom {
        Idom::Unreachable => None,
        Idom::SuperRoot => Some(None),
        Idom::Node(d) => Some(Some(d as usize)),
    }
}

/// petgraph's Cooper-Harvey-Kennedy on the same retaining edges, super-root = node `n`.
fn petgraph_idoms(graph: &Graph) -> Vec<Option<Option<usize>>> {
    let n = graph.node_count();
    let mut pg: DiGraph<(), ()> = DiGraph::with_capacity(n + 1, graph.edge_count());
    for _ in 0..=n {
        pg.add_node(());
    }
    for u in 0..n as NodeId {
        for (t, label) in graph.out_edges(u) {
            if label.retains() {
                pg.add_edge(NodeIndex::new(u as usize), NodeIndex::new(t as usize), ());
            }
        }
    }
    for root in graph.roots() {
        pg.add_edge(NodeIndex::new(n), NodeIndex::new(root.node as usize), ());
    }
    let doms = simple_fast(&pg, NodeIndex::new(n));
    (0..n)
        .map(|v| {
            doms.immediate_dominator(NodeIndex::new(v)).map(|d| {
                if d.index() == n {
                    None
                } else {
                    Some(d.index())
                }
            })
        })
        .collect()
}

fn check(graph: &Graph, context: &str) {
    let dom = Dominators::compute(graph);
    let retained = RetainedSizes::compute(graph, &dom);
    let type_retained = TypeRetained::compute(graph, &dom, &retained);
    let truth = oracle(graph);
    let chk = petgraph_idoms(graph);
    let n = graph.node_count();
    for (v, &petgraph_idom) in chk.iter().enumerate() {
        let got = ours(dom.idom(v as NodeId));
        assert_eq!(got, truth.idom[v], "{context}: idom of {v} vs brute force");
        assert_eq!(got, petgraph_idom, "{context}: idom of {v} vs petgraph");
        assert_eq!(
            dom.is_reachable(v as NodeId),
            truth.reachable[v],
            "{context}"
        );
        assert_eq!(
            retained.of(v as NodeId),
            truth.retained[v],
            "{context}: retained size of {v}"
        );
    }
    let reachable_bytes: u64 = (0..n)
        .filter(|&v| truth.reachable[v])
        .map(|v| graph.shallow_size(v as NodeId))
        .sum();
    assert_eq!(retained.total(), reachable_bytes, "{context}: super-root");
    assert_eq!(
        dom.reachable_count() + dom.unreachable_count(),
        n,
        "{context}"
    );
    assert_eq!(
        dom.unreachable().collect::<Vec<_>>(),
        (0..n as NodeId)
            .filter(|&v| !truth.reachable[v as usize])
            .collect::<Vec<_>>(),
        "{context}"
    );
    // Preorder: every reachable node once, after its immediate dominator.
    let order = dom.preorder();
    assert_eq!(order.len(), dom.reachable_count());
    for (i, &v) in order.iter().enumerate() {
        assert_eq!(dom.preorder_number(v), Some(i as u32 + 1));
        if let Idom::Node(d) = dom.idom(v) {
            assert!(dom.preorder_number(d).unwrap() <= i as u32, "{context}");
        }
    }
    // The tree's own preorder: every subtree is a run of consecutive numbers, so the immediate dominator
    // of each node is still open on a stack of the nodes whose subtrees the sweep is inside.
    let mut open: Vec<NodeId> = Vec::new();
    for &v in order {
        let d = match dom.idom(v) {
            Idom::Node(d) => Some(d),
            _ => None,
        };
        while open.last().is_some_and(|&u| Some(u) != d) {
            open.pop();
        }
        assert_eq!(
            open.last().copied(),
            d,
            "{context}: subtree of {v:?} not contiguous"
        );
        open.push(v);
    }
    // Children index: the inverse of idom.
    let mut from_children = vec![None; n];
    for c in dom.super_root_children() {
        from_children[c as usize] = Some(None);
    }
    for v in 0..n as NodeId {
        for c in dom.children(v) {
            assert!(
                from_children[c as usize].is_none(),
                "{context}: two parents"
            );
            from_children[c as usize] = Some(Some(v as usize));
        }
    }
    assert_eq!(from_children, truth.idom, "{context}: children index");
    // Per type: instances with no strict dominator of their own type.
    for ty in 0..graph.type_count() as u32 {
        let expected: u64 = (0..n)
            .filter(|&v| truth.reachable[v] && graph.type_of(v as NodeId) == ty)
            .filter(|&v| {
                !truth.strict_dominators[v]
                    .iter()
                    .any(|&d| graph.type_of(d as NodeId) == ty)
            })
            .map(|v| truth.retained[v])
            .sum();
        assert_eq!(type_retained.of(ty), expected, "{context}: type {ty}");
    }
}

#[test]
fn random_graphs_match_brute_force_and_petgraph() {
    for seed in 0..3000 {
        let mut rng = Rng::new(seed);
        let max_nodes = [4, 12, 40][seed as usize % 3];
        let mut spec = random_spec(&mut rng, max_nodes);
        // Every fourth graph in gigabytes, so that retained sizes cross the 4 GiB the 4-byte slots hold.
        if seed % 4 == 3 {
            for (_, size) in &mut spec.nodes {
                *size <<= 30;
            }
        }
        check(&spec.build(), &format!("seed {seed}: {spec:?}"));
    }
}

fn spec(nodes: usize, edges: &[(usize, usize)], roots: &[usize]) -> Spec {
    Spec {
        nodes: (0..nodes).map(|i| (0, 10 + i as u64)).collect(),
        edges: edges.iter().map(|&(a, b)| (a, b, strong())).collect(),
        roots: roots.iter().map(|&r| (r, RootKind::Local)).collect(),
        type_count: 1,
    }
}

#[test]
fn handwritten_shapes() {
    let cases: Vec<(&str, Spec)> = vec![
        ("empty", spec(0, &[], &[])),
        ("no roots", spec(3, &[(0, 1), (1, 2)], &[])),
        ("single root", spec(1, &[], &[0])),
        ("diamond", spec(4, &[(0, 1), (0, 2), (1, 3), (2, 3)], &[0])),
        (
            "two roots share a child",
            spec(3, &[(0, 2), (1, 2)], &[0, 1]),
        ),
        ("root referenced by root", spec(2, &[(0, 1)], &[1, 0])),
        (
            "root referenced by its child",
            spec(2, &[(0, 1), (1, 0)], &[0]),
        ),
        ("cycle island", spec(4, &[(0, 1), (2, 3), (3, 2)], &[0])),
        (
            "self loops",
            spec(3, &[(0, 0), (0, 1), (1, 1), (1, 2)], &[0]),
        ),
        ("duplicate root", spec(2, &[(0, 1)], &[0, 0, 0])),
        (
            "classic LT example",
            spec(
                8,
                &[
                    (0, 1),
                    (0, 2),
                    (1, 3),
                    (2, 3),
                    (3, 4),
                    (4, 5),
                    (5, 3),
                    (5, 6),
                    (6, 7),
                    (2, 7),
                    (7, 1),
                ],
                &[0],
            ),
        ),
    ];
    for (name, s) in cases {
        check(&s.build(), name);
    }
}

#[test]
fn weak_edges_are_ignored() {
    // 0 -> 1 strong, 0 -> 2 strong, 2 -> 1 weak, 3 only weakly referenced.
    let s = Spec {
        nodes: vec![(0, 10), (0, 20), (0, 30), (0, 40)],
        edges: vec![
            (0, 1, strong()),
            (0, 2, strong()),
            (2, 1, weak()),
            (1, 3, weak()),
        ],
        roots: vec![(0, RootKind::Module)],
        type_count: 1,
    };
    let graph = s.build();
    let dom = Dominators::compute(&graph);
    assert_eq!(dom.idom(1), Idom::Node(0));
    assert_eq!(dom.idom(3), Idom::Unreachable);
    let retained = RetainedSizes::compute(&graph, &dom);
    assert_eq!(retained.of(0), 60);
    assert_eq!(retained.of(3), 0);
    assert_eq!(retained.total(), 60);
    check(&graph, "weak");
}

#[test]
fn node_ids_follow_addresses_in_the_test_builder() {
    let graph = spec(3, &[], &[]).build();
    for i in 0..3 {
        assert_eq!(graph.address(i as NodeId), addr(i));
    }
}

#[test]
fn retained_sizes_of_4_gib_and_more_survive_saving() {
    // A chain 0 -> 1 -> 2 whose every link retains more than 4 GiB, beside a small leaf.
    let mut s = spec(4, &[(0, 1), (1, 2), (0, 3)], &[0]);
    s.nodes[2].1 = 5 << 30;
    let graph = s.build();
    let dom = Dominators::compute(&graph);
    let retained = RetainedSizes::compute(&graph, &dom);
    assert_eq!(retained.of(2), 5 << 30);
    assert_eq!(retained.of(1), (5 << 30) + 11);
    assert_eq!(retained.of(3), 13);
    let mut saved = SavedColumns::default();
    retained.save(&mut saved);
    let big = saved
        .columns()
        .iter()
        .find(|c| c.name == "retained.big_vertices");
    assert_eq!(big.unwrap().bytes().len(), 4 * 4, "super-root, 0, 1, 2");
    let (backing, places) = saved.to_backing();
    let columns = MappedColumns::with_places(&backing, places).unwrap();
    let reopened = RetainedSizes::from_columns(&columns, &dom).unwrap();
    for n in 0..4 {
        assert_eq!(reopened.of(n), retained.of(n), "node {n}");
    }
    assert_eq!(reopened.total(), retained.total());
}
