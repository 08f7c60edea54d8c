//! V8 heap snapshots written by a real Node program (`testdata/v8/make_fixture.js`): counts, retained
//! sizes against the definition of dominance, DevTools' edge rules on WeakMaps, closures' context
//! variables, growth between two snapshots matched by V8 id, and damaged snapshots.

use heapgraph_analysis::dominators::Idom;
use heapgraph_analysis::growth::Growth;
use heapgraph_analysis::{analyze, Analysis};
use heapgraph_e2e::v8::make_snapshots;
use heapgraph_e2e::Scratch;
use heapgraph_formats::{load, Dump, NoProgress};
use heapgraph_graph::{EdgeKind, Graph, NodeId};
use std::path::Path;

fn of_type(g: &Graph, name: &str) -> Vec<NodeId> {
    (0..g.node_count() as NodeId)
        .filter(|&n| g.type_name(g.type_of(n)) == name)
        .collect()
}

fn one_of(g: &Graph, name: &str) -> NodeId {
    let nodes = of_type(g, name);
    assert_eq!(nodes.len(), 1, "{name}: {nodes:?}");
    nodes[0]
}

/// Retained size by the definition: what the roots no longer reach, over retaining edges, once `node`
/// is gone (an oracle independent of the dominator tree).
fn retained_by_definition(g: &Graph, node: NodeId) -> u64 {
    let reach = |starts: Vec<NodeId>, skip: Option<NodeId>| {
        let mut seen = vec![false; g.node_count()];
        let mut stack = Vec::new();
        for s in starts {
            if Some(s) != skip && !seen[s as usize] {
                seen[s as usize] = true;
                stack.push(s);
            }
        }
        while let Some(u) = stack.pop() {
            for (t, label) in g.out_edges(u) {
                if label.retains() && Some(t) != skip && !seen[t as usize] {
                    seen[t as usize] = true;
                    stack.push(t);
                }
            }
        }
        seen
    };
    let without = reach(g.roots().iter().map(|r| r.node).collect(), Some(node));
    let from_node = reach(vec![node], None);
    (0..g.node_count())
        .filter(|&n| from_node[n] && !without[n])
        .map(|n| g.shallow_size(n as NodeId))
        .sum()
}

fn load_ok(path: &Path) -> Dump {
    load(path, &NoProgress).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn snapshot_of_known_structures() {
    let scratch = Scratch::new("v8-known");
    let facts = make_snapshots(&scratch.0, 1000);
    let dump = load_ok(&scratch.0.join("first.heapsnapshot"));
    let g = &dump.graph;
    let a: Analysis = analyze(g);

    // Every Leaky the program made, each with its Array payload.
    let leaky = of_type(g, "Leaky");
    assert_eq!(leaky.len() as u64, facts["leaky"].as_u64().unwrap());
    let holder = one_of(g, "LeakHolder");
    assert_eq!(a.retained.of(holder), retained_by_definition(g, holder));
    let per_leaky: u64 = leaky.iter().map(|&n| a.retained.of(n)).sum();
    assert!(
        a.retained.of(holder) > per_leaky,
        "the holder retains every Leaky and more"
    );
    for &n in leaky.iter().step_by(97) {
        assert_eq!(a.retained.of(n), retained_by_definition(g, n));
        assert!(
            a.retained.of(n) > g.shallow_size(n),
            "a Leaky retains its payload"
        );
    }

    // A WeakMap value is retained through its key, not the table (DevTools' rule).
    let (key, value) = (one_of(g, "WeakKey"), one_of(g, "WeakValue"));
    assert_eq!(a.dominators.idom(value), Idom::Node(key));

    // The closure's captured variable is reached through a context edge.
    let secret = one_of(g, "Secret");
    let path = a.paths.path_to(g, secret).expect("Secret is reachable");
    assert!(
        path.iter()
            .any(|s| s.via.is_some_and(|l| l.kind() == EdgeKind::Local)),
        "{path:?}"
    );

    // Non-ASCII text, written as \u escapes, reads back.
    let text = "héllo wörld ✓ / plain";
    assert!(
        (0..g.node_count() as NodeId).any(|n| g.details(n).value.as_deref() == Some(text)),
        "no string node holds {text:?}"
    );

    // The global object is the first root; no synthetic group is a node, but Node's environment, a
    // synthetic node with a size of its own, is one (DevTools lists it).
    assert_eq!(g.roots()[0].kind.as_str(), "global");
    let synthetic = of_type(g, "(synthetic)");
    assert_eq!(synthetic.len(), 1);
    assert!(g.shallow_size(synthetic[0]) > 0);
}

#[test]
fn growth_between_two_snapshots_matches_objects_by_id() {
    let scratch = Scratch::new("v8-growth");
    let facts = make_snapshots(&scratch.0, 400);
    let old = load_ok(&scratch.0.join("first.heapsnapshot"));
    let new = load_ok(&scratch.0.join("later.heapsnapshot"));
    let growth = Growth::compute(&old.graph, &new.graph);
    let added = facts["added"].as_u64().unwrap();
    let row = growth
        .types
        .iter()
        .find(|t| t.type_name == "Leaky")
        .expect("Leaky grew");
    assert_eq!(row.count_delta, added as i64);
    assert_eq!(row.new_objects, added, "the first 400 keep their ids");
    let holder = |d: &Dump| d.graph.address(one_of(&d.graph, "LeakHolder"));
    assert_eq!(holder(&old), holder(&new));
}

/// Cut at spread offsets (a JSON document cut anywhere is incomplete: always an error naming the file)
/// and with single bits flipped (any outcome but a panic).
#[test]
fn damaged_snapshots_are_errors_never_panics() {
    let scratch = Scratch::new("v8-damaged");
    make_snapshots(&scratch.0, 10);
    let bytes = std::fs::read(scratch.0.join("first.heapsnapshot")).unwrap();
    let damaged = scratch.0.join("damaged.heapsnapshot");
    let cuts = (1..=24)
        .map(|k| bytes.len() * k / 25)
        .chain([1, 20, 500, bytes.len() - 1]);
    for cut in cuts {
        std::fs::write(&damaged, &bytes[..cut]).unwrap();
        match load(&damaged, &NoProgress) {
            Ok(_) => panic!("a snapshot cut at {cut} of {} loaded", bytes.len()),
            Err(e) => assert!(e.to_string().contains("damaged.heapsnapshot"), "{e}"),
        }
    }
    let mut seed = 0x2545f4914f6cdd1du64;
    for _ in 0..40 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let mut corrupt = bytes.clone();
        let at = (seed % corrupt.len() as u64) as usize;
        corrupt[at] ^= 1 << (seed >> 61);
        std::fs::write(&damaged, &corrupt).unwrap();
        if let Ok(dump) = load(&damaged, &NoProgress) {
            analyze(&dump.graph);
        }
    }
}
