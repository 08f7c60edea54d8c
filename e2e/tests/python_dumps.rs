//! Real dumps from every CPython 3.8+ on the machine, loaded and checked against what `gc` counted in the
//! same process just before the dump.

use heapgraph_analysis::{Dominators, RetainedSizes};
use heapgraph_e2e::{pythons, run_fixture, run_fixture_with, Python, Scratch};
use heapgraph_formats::{load, Dump, NoProgress};
use heapgraph_graph::{EdgeKind, Graph, NodeId, RootKind};
use serde_json::Value;

fn dump_fixture(python: &Python, fixture: &str, scratch: &Scratch) -> (Dump, Value) {
    let out = scratch.0.join(format!("{fixture}-{}.hgd", python.label()));
    let facts = run_fixture(python, fixture, &out);
    let dump = load(&out, &NoProgress).unwrap_or_else(|e| {
        panic!(
            "Python {}: {fixture} dump does not load: {e}",
            python.label()
        )
    });
    (dump, facts)
}

fn node(g: &Graph, facts_id: &Value, what: &str) -> NodeId {
    let addr = facts_id
        .as_u64()
        .unwrap_or_else(|| panic!("fixture gave no id for {what}"));
    g.node_at(addr)
        .unwrap_or_else(|| panic!("{what} at {addr:#x} is not in the dump"))
}

/// Labels of the edges from `from` to `to`, as printed.
fn labels_between(g: &Graph, from: NodeId, to: NodeId) -> Vec<String> {
    g.out_edges(from)
        .filter(|&(t, _)| t == to)
        .map(|(_, l)| l.display(g.strings()).to_string())
        .collect()
}

/// Whether `from` reaches `to` through attribute `attr`: directly (`.attr`: 3.11+ inline values, slots) or
/// through the instance dict (`.__dict__` then `['attr']`: 3.8-3.10, str subclasses).
fn has_attribute(g: &Graph, from: NodeId, attr: &str, to: NodeId) -> bool {
    if labels_between(g, from, to).contains(&format!(".{attr}")) {
        return true;
    }
    g.out_edges(from)
        .filter(|(_, l)| l.display(g.strings()).to_string() == ".__dict__")
        .any(|(dict, _)| labels_between(g, dict, to).contains(&format!("['{attr}']")))
}

#[test]
fn basic_fixture_matches_gc_on_every_python() {
    let scratch = Scratch::new("basic");
    for python in pythons() {
        let v = python.label();
        let (dump, facts) = dump_fixture(&python, "fixture_basic.py", &scratch);
        let g = &dump.graph;

        eprintln!("checking fixture_basic.py dumped by Python {v}");
        // Every interpreter here is a build whose layouts the dumper knows: it read them, it did not
        // fall back to public APIs.
        assert_eq!(
            dump.meta.get("memory_layout"),
            Some(&Value::from(v.clone()))
        );
        assert_eq!(dump.meta.get("frame_locals"), Some(&Value::from(true)));
        assert_eq!(
            dump.meta.get("warnings"),
            Some(&Value::Array(vec![])),
            "Python {v}"
        );
        assert!(
            facts["counts"]["Leaf"].as_u64() >= Some(1234),
            "the fixture counts its classes"
        );
        assert!(
            facts["edges"].as_array().unwrap().len() >= 10,
            "the fixture lists its edges"
        );

        // Instance counts per class equal what gc counted in the process.
        assert_counts_are_gcs(g, &facts, &v);

        // Edge names: attributes, dict keys, indices, slots, closures, weak references.
        for edge in facts["edges"].as_array().unwrap() {
            let from = node(g, &edge["from"], "edge source");
            let to = node(g, &edge["to"], "edge target");
            if let Some(attr) = edge["attr"].as_str() {
                assert!(
                    has_attribute(g, from, attr, to),
                    "Python {v}: no attribute .{attr} edge; edges from source: {:?}",
                    labels_between(g, from, to)
                );
            } else {
                let label = edge["label"].as_str().unwrap();
                assert!(
                    labels_between(g, from, to).iter().any(|l| l == label),
                    "Python {v}: no {label} edge, found {:?}",
                    labels_between(g, from, to)
                );
            }
        }
        let weak = node(g, &facts["ids"]["weak_ref"], "weakref");
        assert!(g
            .out_labels(weak)
            .iter()
            .any(|l| l.kind() == EdgeKind::Weak && !l.retains()));

        // A list held only by a running function's local variable is a root named by that variable.
        let held = node(g, &facts["held_only_here"], "held_only_here");
        let local_root = facts["local_root"].as_str().unwrap();
        assert!(
            g.roots().iter().any(|r| r.node == held
                && r.kind == RootKind::Local
                && g.strings().get(r.name) == local_root),
            "Python {v}: no local root '{local_root}'; roots of the list: {:?}",
            g.roots()
                .iter()
                .filter(|r| r.node == held)
                .map(|r| (r.kind, g.strings().get(r.name)))
                .collect::<Vec<_>>()
        );

        // An argument: held by the caller's local and the callee's. 3.11+ move the caller's stack
        // reference into the callee, and 3.14+ often borrow it, uncounted: the dumper counts it back,
        // so the refcount is the two references the dump shows and nothing looks held from outside.
        let passed = node(g, &facts["passed"], "passed");
        let local_roots = g
            .roots()
            .iter()
            .filter(|r| r.node == passed && r.kind == RootKind::Local)
            .count();
        assert_eq!(local_roots, 2, "Python {v}: local roots of the argument");
        if python.version >= (3, 11) {
            assert_eq!(
                g.details(passed).refcount,
                Some(2),
                "Python {v}: argument refcount"
            );
            assert!(
                !g.roots()
                    .iter()
                    .any(|r| r.node == passed && r.kind == RootKind::External),
                "Python {v}: the argument looks held from outside"
            );
        }

        // Refcounts exclude the dumper's own references; previews and names come through.
        let probe = node(g, &facts["ids"]["probe"], "probe");
        assert_eq!(
            g.details(probe).refcount,
            facts["probe_refcount"].as_u64(),
            "Python {v}: probe refcount"
        );
        for (id, value) in facts["values"].as_object().unwrap() {
            let n = node(g, &Value::from(id.parse::<u64>().unwrap()), "value");
            assert_eq!(
                g.details(n).value.as_deref(),
                value.as_str(),
                "Python {v}: preview"
            );
        }
        for (id, name) in facts["names"].as_object().unwrap() {
            let n = node(g, &Value::from(id.parse::<u64>().unwrap()), "named");
            let got = g.details(n).name.unwrap_or_default();
            assert!(
                got.starts_with(name.as_str().unwrap()),
                "Python {v}: name {got:?} for {name}"
            );
        }

        // The garbage cycle is in the dump, and dumping changed nothing in the heap.
        for id in facts["ids"]["garbage"].as_array().unwrap() {
            node(g, id, "garbage cycle member");
        }
        assert_eq!(
            facts["after"]["counts"], facts["counts"],
            "Python {v}: counts changed"
        );
        assert_eq!(
            facts["after"]["holder_referents"], facts["before"]["holder_referents"],
            "Python {v}: dumping materialized an instance dict"
        );
        assert_eq!(
            facts["after"]["f_locals_materialized"], false,
            "Python {v}: f_locals materialized"
        );
        assert_eq!(
            dump.stats.dangling_edges, 0,
            "Python {v}: dangling edges in a quiet process"
        );
    }
}

#[test]
fn a_list_retains_exactly_its_elements() {
    let scratch = Scratch::new("retained");
    for python in pythons() {
        let (dump, facts) = dump_fixture(&python, "fixture_known_retained.py", &scratch);
        let g = &dump.graph;
        let list = node(g, &facts["list"], "list");
        assert_eq!(g.shallow_size(list), facts["list_size"].as_u64().unwrap());
        let dominators = Dominators::compute(g);
        let retained = RetainedSizes::compute(g, &dominators);
        assert_eq!(
            Some(retained.of(list)),
            facts["retained"].as_u64(),
            "Python {}: retained size of the list",
            python.label()
        );
    }
}

#[test]
fn garbage_cycles_are_unreachable_and_kept() {
    let scratch = Scratch::new("garbage");
    let python = pythons().pop().unwrap();
    let (dump, facts) = dump_fixture(&python, "fixture_basic.py", &scratch);
    let g = &dump.graph;
    let analysis = heapgraph_analysis::analyze(g);
    let unreachable = &analysis.unreferenced.unreachable.nodes;
    for id in facts["ids"]["garbage"].as_array().unwrap() {
        let n = node(g, id, "garbage cycle member");
        assert!(
            unreachable.contains(&n),
            "a garbage cycle member is reachable"
        );
        assert!(!analysis.dominators.is_reachable(n));
    }
    // Each cycle member is referenced (by the other), so neither is "unreferenced".
    assert!(!analysis
        .unreferenced
        .garbage
        .nodes
        .iter()
        .any(|n| unreachable.contains(n)
            && facts["ids"]["garbage"]
                .as_array()
                .unwrap()
                .contains(&Value::from(g.address(*n)))));
    // The list held only by a local is alive, and retained by nothing but its root.
    let held = node(g, &facts["held_only_here"], "held_only_here");
    assert!(analysis.dominators.is_reachable(held));
    assert_eq!(
        analysis.dominators.idom(held),
        heapgraph_analysis::Idom::SuperRoot
    );
}

/// Whether `to` is `from` or reachable from it through at most `steps` references.
fn reaches(g: &Graph, from: NodeId, to: NodeId, steps: usize) -> bool {
    from == to || (steps > 0 && g.out_edges(from).any(|(t, _)| reaches(g, t, to, steps - 1)))
}

#[test]
fn a_build_the_dumper_does_not_know_gets_a_correct_dump_from_public_apis() {
    let scratch = Scratch::new("unknown-build");
    for python in pythons() {
        let v = python.label();
        let out = scratch.0.join(format!("basic-{v}.hgd"));
        // The dumper takes this for the interpreter's build: one it has no layouts for.
        let (facts, stderr) = run_fixture_with(
            &python,
            "fixture_basic.py",
            &out,
            &[("HEAPGRAPH_DUMP_BUILD", "3.99")],
        );
        let dump = load(&out, &NoProgress)
            .unwrap_or_else(|e| panic!("Python {v}: the portable dump does not load: {e}"));
        let g = &dump.graph;
        eprintln!("checking the portable dump of Python {v}");

        // It says so, in the dump and on stderr, and reads no memory raw.
        assert_eq!(dump.meta.get("memory_layout"), Some(&Value::Null));
        assert_eq!(dump.meta.get("frame_locals"), Some(&Value::from(false)));
        let warnings = dump.meta["warnings"].as_array().unwrap();
        assert!(
            warnings.len() == 1 && warnings[0].as_str().unwrap().contains("3.99"),
            "Python {v}: {warnings:?}"
        );
        assert!(
            stderr.contains("heapgraph_dump: warning: CPython build 3.99 is not one"),
            "Python {v}: stderr {stderr}"
        );
        let info = heapgraph_render::info::InfoReport::new(&dump).render_text();
        assert!(
            info.contains("\nwarning     CPython build 3.99 is not one"),
            "Python {v}: info says\n{info}"
        );
        assert!(!g
            .out_labels(node(g, &facts["ids"]["weak_ref"], "weakref"))
            .iter()
            .any(|l| l.kind() == EdgeKind::Weak));

        // Less detailed, still right: every object gc counted, every reference, the probe's refcount.
        assert_counts_are_gcs(g, &facts, &v);
        for edge in facts["edges"].as_array().unwrap() {
            let from = node(g, &edge["from"], "edge source");
            let to = node(g, &edge["to"], "edge target");
            if edge["label"]
                .as_str()
                .is_some_and(|l| l.starts_with("weak"))
            {
                continue; // weak referents are read raw: left out (they retain nothing)
            }
            // an attribute may go through the instance dict, unlabelled
            assert!(reaches(g, from, to, 2), "Python {v}: lost {edge}");
        }
        let probe = node(g, &facts["ids"]["probe"], "probe");
        assert_eq!(
            g.details(probe).refcount,
            facts["probe_refcount"].as_u64(),
            "Python {v}: probe refcount"
        );

        // Without frame locals, a list held only by a local is no local root, but still held: by its
        // frame's reference, which gc reports on 3.8-3.10, or else (3.11+, where a running frame's locals
        // are in its interpreter frame) as held from outside, its refcount exceeding what the dump sees.
        let held = node(g, &facts["held_only_here"], "held_only_here");
        let kinds: Vec<RootKind> = g
            .roots()
            .iter()
            .filter(|r| r.node == held)
            .map(|r| r.kind)
            .collect();
        let from_frame = g
            .roots()
            .iter()
            .any(|r| r.kind == RootKind::Frame && g.out_edges(r.node).any(|(t, _)| t == held));
        if python.version >= (3, 11) {
            assert_eq!(kinds, [RootKind::External], "Python {v}");
        } else {
            assert!(kinds.is_empty() && from_frame, "Python {v}: {kinds:?}");
        }
        assert!(g.roots().iter().all(|r| r.kind != RootKind::Local));
        assert!(g.roots().iter().any(|r| r.kind == RootKind::Frame));

        assert_eq!(
            facts["after"]["counts"], facts["counts"],
            "Python {v}: counts changed"
        );
        assert_eq!(
            facts["after"]["holder_referents"], facts["before"]["holder_referents"],
            "Python {v}: dumping materialized an instance dict"
        );
        assert_eq!(dump.stats.dangling_edges, 0, "Python {v}");
    }
}

/// Instance counts per class in the dump equal what gc counted in the process (`facts["counts"]`).
fn assert_counts_are_gcs(g: &Graph, facts: &Value, v: &str) {
    for (class, expected) in facts["counts"].as_object().unwrap() {
        let types = g.find_types(&format!("__main__.{class}"));
        let counted = (0..g.node_count() as NodeId)
            .filter(|&n| types.contains(&g.type_of(n)))
            .count() as u64;
        assert_eq!(
            Some(counted),
            expected.as_u64(),
            "Python {v}: count of {class}"
        );
    }
}
