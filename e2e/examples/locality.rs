//! Measures whether renumbering a graph's nodes for cache locality speeds up the heavy passes:
//! loads a dump, rebuilds its graph in four numberings, and times the dominator tree, retained sizes,
//! the shortest-path BFS and `analyze` (all of them, overlapped) on each, best of three runs.
//!
//! ```sh
//! cargo run --release -p heapgraph-e2e --example locality -- /tmp/m10.hgd
//! ```
//!
//! The numberings: the dump's own (rebuilt through the same code as the others, so that only the order
//! differs), breadth-first from the roots, depth-first preorder from the roots (nodes no root reaches
//! follow in their old order), and a random shuffle: the worst case, which shows what locality is worth.
//! Every numbering must give the same reachable count and retained total, which the example checks before
//! it prints a row.

use heapgraph_analysis::{analyze, Dominators, RetainedSizes, ShortestPaths};
use heapgraph_formats::{load, NoProgress};
use heapgraph_graph::{
    Addresses, EdgeCursor, EdgeLabels, Graph, GraphParts, NoDetails, NodeId, NodeTypes, Root,
    ShallowSizes,
};
use std::time::{Duration, Instant};

const UNSET: NodeId = NodeId::MAX;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dump] = &args[..] else {
        eprintln!("usage: locality DUMP");
        std::process::exit(2);
    };
    let loaded = load(dump.as_ref(), &NoProgress).unwrap_or_else(|e| panic!("{e}"));
    let graph = &loaded.graph;
    println!(
        "{dump}: {} nodes, {} edges; best of 3 runs, seconds\n",
        graph.node_count(),
        graph.edge_count()
    );
    println!("| numbering | renumber | dominators | retained sizes | BFS paths | analyze (all, overlapped) |");
    println!("|---|---|---|---|---|---|");
    let mut expected = None;
    for (name, order) in [
        ("the dump's own", dump_order as fn(&Graph) -> Vec<NodeId>),
        ("breadth-first", breadth_first),
        ("depth-first", depth_first),
        ("shuffled", shuffled),
    ] {
        let started = Instant::now();
        let renumbered = renumber(graph, &order(graph));
        let renumber_time = started.elapsed();
        let dominators = Dominators::compute(&renumbered);
        let retained = RetainedSizes::compute(&renumbered, &dominators);
        let answer = (dominators.reachable_count(), retained.total());
        assert_eq!(
            *expected.get_or_insert(answer),
            answer,
            "{name} changed the answers"
        );
        let dom = best(|| drop(Dominators::compute(&renumbered)));
        let ret = best(|| drop(RetainedSizes::compute(&renumbered, &dominators)));
        let bfs = best(|| drop(ShortestPaths::compute(&renumbered)));
        let all = best(|| drop(analyze(&renumbered)));
        println!(
            "| {name} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
            renumber_time.as_secs_f64(),
            dom.as_secs_f64(),
            ret.as_secs_f64(),
            bfs.as_secs_f64(),
            all.as_secs_f64()
        );
    }
}

fn best(mut run: impl FnMut()) -> Duration {
    (0..3)
        .map(|_| {
            let started = Instant::now();
            run();
            started.elapsed()
        })
        .min()
        .expect("three runs")
}

/// `order[i]` is the old id of the node numbered `i`.
fn dump_order(graph: &Graph) -> Vec<NodeId> {
    (0..graph.node_count() as NodeId).collect()
}

fn breadth_first(graph: &Graph) -> Vec<NodeId> {
    let mut seen = vec![false; graph.node_count()];
    let mut order = Vec::with_capacity(graph.node_count());
    for root in graph.roots() {
        if !std::mem::replace(&mut seen[root.node as usize], true) {
            order.push(root.node);
        }
    }
    let mut head = 0;
    while head < order.len() {
        let node = order[head];
        head += 1;
        for t in graph.out_targets(node) {
            if !std::mem::replace(&mut seen[t as usize], true) {
                order.push(t);
            }
        }
    }
    with_unreached(order, &seen)
}

fn depth_first(graph: &Graph) -> Vec<NodeId> {
    let mut seen = vec![false; graph.node_count()];
    let raw = graph.raw();
    let mut order = Vec::with_capacity(graph.node_count());
    let mut stack: Vec<EdgeCursor> = Vec::new();
    for root in graph.roots() {
        if std::mem::replace(&mut seen[root.node as usize], true) {
            continue;
        }
        order.push(root.node);
        stack.push(raw.edge_cursor(root.node));
        while let Some(cursor) = stack.last_mut() {
            let Some((_, t)) = cursor.next(raw.stored_targets()) else {
                stack.pop();
                continue;
            };
            if !std::mem::replace(&mut seen[t as usize], true) {
                order.push(t);
                stack.push(raw.edge_cursor(t));
            }
        }
    }
    with_unreached(order, &seen)
}

/// A fixed-seed Fisher-Yates shuffle (xorshift), so runs compare.
fn shuffled(graph: &Graph) -> Vec<NodeId> {
    let mut order = dump_order(graph);
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for i in (1..order.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        order.swap(i, (seed % (i as u64 + 1)) as usize);
    }
    order
}

fn with_unreached(mut order: Vec<NodeId>, seen: &[bool]) -> Vec<NodeId> {
    order.extend((0..seen.len() as NodeId).filter(|&n| !seen[n as usize]));
    order
}

/// `graph` with node `order[i]` numbered `i`: the same objects, types, sizes, edges (in their order) and
/// roots. Addresses become `16 * i`, since the graph keeps nodes in address order; nothing timed here
/// reads them.
fn renumber(graph: &Graph, order: &[NodeId]) -> Graph {
    let mut new_id = vec![UNSET; order.len()];
    for (i, &old) in order.iter().enumerate() {
        new_id[old as usize] = i as NodeId;
    }
    let sizes: ShallowSizes = order.iter().map(|&old| graph.shallow_size(old)).collect();
    let mut offsets = Vec::with_capacity(order.len() + 1);
    let mut targets = Vec::with_capacity(graph.edge_count());
    let mut labels = Vec::with_capacity(graph.edge_count());
    offsets.push(0u32);
    for &old in order {
        targets.extend(graph.out_targets(old).map(|t| new_id[t as usize]));
        labels.extend_from_slice(&graph.out_labels(old));
        offsets.push(targets.len() as u32);
    }
    let parts = GraphParts {
        addresses: Addresses::new(&(0..order.len() as u64).map(|i| 16 * i).collect::<Vec<_>>())
            .expect("ascending addresses"),
        types: NodeTypes::new(
            order.iter().map(|&old| graph.type_of(old)).collect(),
            graph.type_count(),
        ),
        sizes,
        offsets: offsets.into(),
        targets: targets.into(),
        labels: EdgeLabels::stored(labels.into()),
        roots: graph
            .roots()
            .iter()
            .map(|r| Root {
                node: new_id[r.node as usize],
                ..*r
            })
            .collect(),
        type_table: graph.type_table().to_vec(),
        strings: graph.strings().clone(),
        details: Box::new(NoDetails),
    };
    Graph::from_parts(parts).expect("a renumbered graph is as consistent as its source")
}
