//! Compares heapgraph's dominators and retained sizes on a V8 snapshot with memlab's (its port of DevTools'
//! algorithm), node by node, and sorts every difference into a kind with an explanation:
//!
//! ```sh
//! NODE_PATH=/path/to/node_modules node testdata/v8/memlab_oracle.js SNAP /tmp/memlab.json
//! cargo run --release -p heapgraph-e2e --example v8_oracle -- SNAP /tmp/memlab.json
//! ```
//!
//! Kinds: nodes heapgraph leaves out (the snapshot's synthetic root and groups, which heapgraph turns into
//! roots); nodes no root reaches strongly (memlab hangs them under its root, heapgraph calls them
//! unreachable); nodes whose memlab dominator is a synthetic group (heapgraph: the super-root); and the
//! rest, which should agree exactly.

use heapgraph_analysis::dominators::Idom;
use heapgraph_analysis::{analyze, Analysis};
use heapgraph_formats::{load_with, LoadOptions, NoProgress};
use heapgraph_graph::{Graph, NodeId};
use std::collections::HashMap;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [snapshot, oracle] = &args[..] else {
        eprintln!("usage: v8_oracle SNAPSHOT MEMLAB_JSON");
        std::process::exit(2);
    };
    // memlab keeps the sizes V8 wrote; DevTools' Summary sizes would move owned arrays' bytes.
    let options = LoadOptions {
        raw_sizes: true,
        ..LoadOptions::default()
    };
    let dump =
        load_with(snapshot.as_ref(), &options, &NoProgress).unwrap_or_else(|e| panic!("{e}"));
    let analysis = analyze(&dump.graph);
    let oracle: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(oracle).unwrap()).unwrap();
    let column = |name: &str| -> Vec<i64> {
        oracle[name]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect()
    };
    let (ids, retained, dominators) = (column("ids"), column("retained"), column("dominators"));
    let tally = compare(&dump.graph, &analysis, &ids, &retained, &dominators);
    let mut kinds: Vec<_> = tally.into_iter().collect();
    kinds.sort();
    for (kind, (count, example)) in kinds {
        println!(
            "{count:>9}  {kind}{}",
            example.map_or(String::new(), |e| format!("  (e.g. {e})"))
        );
    }
}

type Tally = HashMap<&'static str, (u64, Option<String>)>;

fn compare(
    graph: &Graph,
    a: &Analysis,
    ids: &[i64],
    retained: &[i64],
    dominators: &[i64],
) -> Tally {
    let mut tally = Tally::new();
    let mut note = |kind: &'static str, example: String| {
        let slot = tally.entry(kind).or_insert((0, None));
        slot.0 += 1;
        slot.1.get_or_insert(example);
    };
    let in_graph: HashMap<i64, NodeId> = (0..graph.node_count() as NodeId)
        .map(|n| (graph.address(n) as i64, n))
        .collect();
    for i in 0..ids.len() {
        let Some(&node) = in_graph.get(&ids[i]) else {
            note(
                "left out by heapgraph (synthetic root and groups)",
                format!("@{}", ids[i]),
            );
            continue;
        };
        let ours = a.retained.of(node) as i64;
        let idom = match a.dominators.idom(node) {
            Idom::Node(d) => graph.address(d) as i64,
            Idom::SuperRoot => -2,
            Idom::Unreachable => -3,
        };
        let theirs_idom_in_graph = in_graph.contains_key(&dominators[i]);
        let kind = if idom == -3 {
            "unreachable in heapgraph (memlab hangs it under its root)"
        } else if ours == retained[i]
            && (idom == dominators[i] || (idom == -2 && !theirs_idom_in_graph))
        {
            if idom == -2 {
                "agree (memlab's dominator is a synthetic group, heapgraph's the super-root)"
            } else {
                "agree exactly"
            }
        } else if ours == retained[i] {
            "same retained size, other dominator"
        } else {
            "retained size differs"
        };
        note(
            kind,
            format!(
                "@{} ours {ours} B idom {idom}, memlab {} B idom {}",
                ids[i], retained[i], dominators[i]
            ),
        );
    }
    tally
}
