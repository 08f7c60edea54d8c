//! Histogram, unreferenced/unreachable classification, top retainers and shortest paths, each against a
//! direct recomputation.

use crate::support::{oracle, random_spec, retaining_adjacency, strong, weak, Rng, Spec};
use heapgraph_analysis::{
    analyze, top_retainers, Dominators, Histogram, Parent, ShortestPaths, SortKey, Unreferenced,
};
use heapgraph_graph::{Graph, NodeId, RootKind};
use std::collections::VecDeque;

/// BFS distance (in edges) from the given roots; roots are at 0.
fn distances_from(graph: &Graph, roots: &[NodeId]) -> Vec<Option<usize>> {
    let adj = retaining_adjacency(graph);
    let mut dist = vec![None; graph.node_count()];
    let mut queue = VecDeque::new();
    for &r in roots {
        if dist[r as usize].is_none() {
            dist[r as usize] = Some(0);
            queue.push_back(r as usize);
        }
    }
    while let Some(u) = queue.pop_front() {
        for &v in &adj[u] {
            if v < dist.len() && dist[v].is_none() {
                dist[v] = Some(dist[u].unwrap() + 1);
                queue.push_back(v);
            }
        }
    }
    dist
}

/// Path length the BFS must find: from the roots of the lowest rank (`RootKind::path_rank`) that reach
/// the object (an object the roots of one rank miss cannot be reached from a later rank's roots through
/// anything they reach).
fn distances(graph: &Graph) -> Vec<Option<usize>> {
    let from_rank = |rank: u8| -> Vec<Option<usize>> {
        let roots: Vec<NodeId> = graph
            .roots()
            .iter()
            .filter(|r| r.kind.path_rank() == rank)
            .map(|r| r.node)
            .collect();
        distances_from(graph, &roots)
    };
    let (program, machinery, inferred) = (from_rank(0), from_rank(1), from_rank(2));
    program
        .into_iter()
        .zip(machinery)
        .zip(inferred)
        .map(|((p, m), i)| p.or(m).or(i))
        .collect()
}

#[test]
fn paths_are_shortest_retaining_chains() {
    for seed in 0..500 {
        let mut rng = Rng::new(1_000_000 + seed);
        let graph = random_spec(&mut rng, 40).build();
        let dist = distances(&graph);
        let analysis = analyze(&graph);
        for v in 0..graph.node_count() as NodeId {
            let path = analysis.paths.path_to(&graph, v);
            let Some(path) = path else {
                assert!(dist[v as usize].is_none(), "seed {seed}: {v} reachable");
                assert_eq!(analysis.paths.parent(&graph, v), Parent::Unreached);
                continue;
            };
            assert_eq!(path.len() - 1, dist[v as usize].unwrap(), "seed {seed}");
            assert!(graph.roots().iter().any(|r| r.node == path[0].node));
            assert_eq!(path[0].via, None);
            assert_eq!(path.last().unwrap().node, v);
            for pair in path.windows(2) {
                let label = pair[1].via.unwrap();
                assert!(label.retains());
                assert!(graph
                    .out_edges(pair[0].node)
                    .any(|(t, l)| t == pair[1].node && l == label));
            }
        }
        assert_eq!(
            analysis.paths.reached_count(),
            analysis.dominators.reachable_count()
        );
    }
}

#[test]
fn a_search_stopped_at_its_targets_gives_their_chains() {
    let (mut stopped_early, mut passed_by) = (0, 0);
    for seed in 0..500 {
        let mut rng = Rng::new(1_500_000 + seed);
        let graph = random_spec(&mut rng, 40).build();
        let n = graph.node_count() as u64;
        let whole = ShortestPaths::compute(&graph);
        // Any nodes: reachable or not, roots, repeated, a few or many.
        let targets: Vec<NodeId> = (0..rng.below(6))
            .filter(|_| n > 0)
            .map(|_| rng.below(n) as NodeId)
            .collect();
        // Without and with what the dominator tree's DFS learnt of the roots' ranks.
        let dominators = Dominators::compute(&graph);
        for (ranks, stops) in [
            (None, &mut stopped_early),
            (dominators.rank_reach(), &mut passed_by),
        ] {
            let some = ShortestPaths::reaching(&graph, &targets, ranks);
            for &t in &targets {
                assert_eq!(
                    some.path_to(&graph, t),
                    whole.path_to(&graph, t),
                    "seed {seed}: chain to {t}"
                );
            }
            let reached = (0..n as NodeId).filter(|&v| some.is_reached(v)).count();
            assert_eq!(some.reached_count(), reached, "seed {seed}");
            assert!(reached <= whole.reached_count(), "seed {seed}");
            if targets.is_empty() {
                assert_eq!(reached, 0, "seed {seed}: no targets, no search");
            } else if reached < whole.reached_count() {
                *stops += 1;
            }
        }
    }
    assert!(
        stopped_early > 50,
        "the search stopped early {stopped_early} times"
    );
    // Knowing what each rank reaches, the search stops early at least as often.
    assert!(
        passed_by > stopped_early,
        "with the ranks known the search stopped early {passed_by} times"
    );
}

#[test]
fn histogram_counts_every_object() {
    for seed in 0..200 {
        let mut rng = Rng::new(2_000_000 + seed);
        let spec = random_spec(&mut rng, 60);
        let graph = spec.build();
        let mut hist = Histogram::compute(&graph);
        assert_eq!(hist.total_count as usize, spec.nodes.len());
        for row in &hist.rows {
            let of_type = spec.nodes.iter().filter(|n| n.0 == row.type_id);
            assert_eq!(row.count as usize, of_type.clone().count());
            assert_eq!(row.shallow_bytes, of_type.map(|n| n.1).sum::<u64>());
            assert!(row.count > 0);
            assert_eq!(row.retained_bytes, None);
        }
        let sum: u64 = hist.rows.iter().map(|r| r.shallow_bytes).sum();
        assert_eq!(sum, hist.total_shallow_bytes);
        assert!(hist
            .rows
            .windows(2)
            .all(|w| w[0].shallow_bytes >= w[1].shallow_bytes));
        hist.sort_by(SortKey::Count);
        assert!(hist.rows.windows(2).all(|w| w[0].count >= w[1].count));
        let analysis = analyze(&graph);
        let mut with_retained = analysis.histogram.clone();
        with_retained.sort_by(SortKey::Retained);
        assert!(with_retained
            .rows
            .windows(2)
            .all(|w| w[0].retained_bytes >= w[1].retained_bytes));
        for row in &with_retained.rows {
            assert_eq!(
                row.retained_bytes,
                Some(analysis.type_retained.of(row.type_id))
            );
        }
    }
}

#[test]
fn unreferenced_objects_are_classified() {
    for seed in 0..500 {
        let mut rng = Rng::new(3_000_000 + seed);
        let graph = random_spec(&mut rng, 40).build();
        let truth = oracle(&graph);
        let report = analyze(&graph).unreferenced;
        let n = graph.node_count();
        let mut expected = [Vec::new(), Vec::new(), Vec::new()];
        for v in 0..n as NodeId {
            let referenced = (0..n as NodeId)
                .any(|u| u != v && graph.out_edges(u).any(|(t, l)| t == v && l.retains()));
            if referenced {
                continue;
            }
            let kinds: Vec<RootKind> = graph
                .roots()
                .iter()
                .filter(|r| r.node == v)
                .map(|r| r.kind)
                .collect();
            // Recorded outside kinds, then frame kinds, then inferred kinds.
            let has = |wanted: &[RootKind]| kinds.iter().any(|k| wanted.contains(k));
            let class = if has(&[RootKind::Module, RootKind::Interpreter]) {
                Unreferenced::HeldFromOutside
            } else if has(&[RootKind::Local, RootKind::Frame]) {
                Unreferenced::FrameLocal
            } else if !kinds.is_empty() {
                Unreferenced::HeldFromOutside
            } else {
                Unreferenced::Unreachable
            };
            expected[class as usize].push(v);
        }
        assert_eq!(report.held_from_outside.nodes, expected[0], "seed {seed}");
        assert_eq!(report.frame_locals.nodes, expected[1], "seed {seed}");
        assert_eq!(report.garbage.nodes, expected[2], "seed {seed}");
        let unreachable: Vec<NodeId> = (0..n as NodeId)
            .filter(|&v| !truth.reachable[v as usize])
            .collect();
        assert_eq!(report.unreachable.nodes, unreachable, "seed {seed}");
        for group in [
            &report.held_from_outside,
            &report.frame_locals,
            &report.garbage,
            &report.unreachable,
        ] {
            assert_eq!(group.count as usize, group.nodes.len());
            let bytes: u64 = group.nodes.iter().map(|&v| graph.shallow_size(v)).sum();
            assert_eq!(group.bytes, bytes);
            assert_eq!(
                group.by_type.iter().map(|t| t.count).sum::<u64>(),
                group.count
            );
            assert_eq!(group.by_type.iter().map(|t| t.bytes).sum::<u64>(), bytes);
        }
    }
}

#[test]
fn a_garbage_cycle_is_unreachable_but_not_unreferenced() {
    // 0 root; 1 <-> 2 a cycle nothing reaches; 3 references itself only; 4 weakly referenced by 0.
    let s = Spec {
        nodes: vec![(0, 10), (0, 20), (0, 30), (0, 40), (0, 50)],
        edges: vec![
            (1, 2, strong()),
            (2, 1, strong()),
            (3, 3, strong()),
            (0, 4, weak()),
        ],
        roots: vec![(0, RootKind::External)],
        type_count: 1,
    };
    let report = analyze(&s.build()).unreferenced;
    assert_eq!(report.held_from_outside.nodes, vec![0]);
    assert_eq!(report.garbage.nodes, vec![3, 4]);
    assert_eq!(report.unreachable.nodes, vec![1, 2, 3, 4]);
    assert_eq!(report.unreachable.bytes, 140);
    assert!(report.frame_locals.nodes.is_empty());
}

#[test]
fn top_retainers_are_the_largest() {
    for seed in 0..200 {
        let mut rng = Rng::new(4_000_000 + seed);
        let mut spec = random_spec(&mut rng, 60);
        // Every other graph has few distinct sizes: ties at the floor the search keeps.
        if seed % 2 == 1 {
            for (_, size) in &mut spec.nodes {
                *size = 8 * (*size % 3);
            }
        }
        check_top_retainers(&spec.build(), &format!("seed {seed}"));
    }
}

/// More equal sizes than the floor keeps candidates for: the answer is the same.
#[test]
fn top_retainers_with_a_hundred_thousand_ties() {
    let leaves = 100_000;
    let mut spec = Spec {
        type_count: 1,
        ..Spec::default()
    };
    spec.nodes = vec![(0, 16); leaves + 1];
    spec.edges = (1..=leaves).map(|i| (0, i, strong())).collect();
    spec.roots = vec![(0, RootKind::Module)];
    check_top_retainers(&spec.build(), "ties");
}

/// `top_retainers` against sorting every node, for several `n`, through the nodes first, then through
/// the preorder once it is made.
fn check_top_retainers(graph: &Graph, context: &str) {
    let analysis = analyze(graph);
    let mut all: Vec<(u64, NodeId)> = (0..graph.node_count() as NodeId)
        .map(|v| (analysis.retained.of(v), v))
        .filter(|&(r, _)| r > 0)
        .collect();
    all.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for preorder_made in [false, true] {
        if preorder_made {
            assert_eq!(analysis.dominators.made_preorder(), None);
            analysis.dominators.preorder();
        }
        for n in [0, 1, 5, 1000] {
            let top = top_retainers(&analysis.dominators, &analysis.retained, n);
            let expected: Vec<(u64, NodeId)> = all.iter().copied().take(n).collect();
            let got: Vec<(u64, NodeId)> = top.iter().map(|r| (r.retained, r.node)).collect();
            assert_eq!(got, expected, "{context}, n {n}, preorder {preorder_made}");
        }
    }
}

#[test]
fn degenerate_graphs_do_not_panic() {
    let empty = Spec::default().build();
    let a = analyze(&empty);
    assert_eq!(a.retained.total(), 0);
    assert!(a.histogram.rows.is_empty());
    assert!(top_retainers(&a.dominators, &a.retained, 10).is_empty());
    assert_eq!(a.dominators.super_root_children().count(), 0);

    let no_roots = Spec {
        nodes: vec![(0, 8); 5],
        edges: vec![(0, 1, strong()), (1, 0, strong())],
        roots: vec![],
        type_count: 1,
    };
    let g = no_roots.build();
    let a = analyze(&g);
    assert_eq!(a.dominators.reachable_count(), 0);
    assert_eq!(a.unreferenced.unreachable.count, 5);
    assert_eq!(a.unreferenced.garbage.nodes, vec![2, 3, 4]);
    assert_eq!(a.paths.path_to(&g, 0), None);
    assert_eq!(a.histogram.rows[0].retained_bytes, Some(0));
}
