//! Real HPROF dumps of `testdata/java/HeapFixture.java`, checked against the JVM's own class histogram
//! taken right after the dump: the committed dump always, and a fresh one made with the JDK on the machine.

use heapgraph_analysis::{Dominators, RetainedSizes};
use heapgraph_e2e::java::{java_testdata, jdk_available, make_java_dump, read_histogram};
use heapgraph_e2e::Scratch;
use heapgraph_formats::{load, Format, NoProgress};
use heapgraph_graph::{EdgeKind, Graph, NodeId, RootKind};
use std::collections::HashMap;
use std::path::Path;

/// `HeapFixture.N`: entries in the static map.
const ENTRIES: u64 = 1000;

/// The class object named `name`.
fn class_node(g: &Graph, name: &str) -> NodeId {
    (0..g.node_count() as NodeId)
        .find(|&n| {
            g.type_name(g.type_of(n)) == "java.lang.Class"
                && g.details(n).name.as_deref() == Some(name)
        })
        .unwrap_or_else(|| panic!("class {name} is not in the dump"))
}

/// The target of `from`'s edge printed as `label`.
fn follow(g: &Graph, from: NodeId, label: &str) -> NodeId {
    g.out_edges(from)
        .find(|(_, l)| l.display(g.strings()).to_string() == label)
        .map(|(t, _)| t)
        .unwrap_or_else(|| panic!("{:#x} has no edge {label}", g.address(from)))
}

fn check_fixture(dump_path: &Path, histogram_path: &Path) {
    let dump = load(dump_path, &NoProgress).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(dump.format, Format::Hprof);
    let g = &dump.graph;
    let jvm = read_histogram(histogram_path);

    // Every class's instance count equals the JVM's, in both directions.
    let mut ours: HashMap<String, (u64, u64)> = HashMap::new();
    for n in 0..g.node_count() as NodeId {
        let row = ours.entry(g.type_name(g.type_of(n))).or_default();
        row.0 += 1;
        row.1 += g.shallow_size(n);
    }
    for (class, &(count, _)) in &jvm {
        assert_eq!(
            ours.get(class).map(|r| r.0),
            Some(count),
            "instances of {class}"
        );
    }
    for (class, &(count, _)) in &ours {
        assert!(
            jvm.contains_key(class),
            "{count} objects of {class}, which the JVM does not count"
        );
    }
    // Total shallow size within 1% of the JVM's live heap; the fixture's own classes exactly.
    let total = |h: &HashMap<String, (u64, u64)>| h.values().map(|r| r.1).sum::<u64>() as f64;
    let (ours_total, jvm_total) = (total(&ours), total(&jvm));
    assert!(
        (ours_total - jvm_total).abs() / jvm_total < 0.01,
        "shallow total {ours_total} vs the JVM's {jvm_total}"
    );
    for class in [
        "HeapFixture$Key",
        "HeapFixture$Item",
        "HeapFixture$Payload",
        "java.lang.String",
    ] {
        assert_eq!(ours[class], jvm[class], "count and bytes of {class}");
    }

    // The static map retains itself, its table, its nodes and every Key, Item and Payload: nothing else.
    let fixture = class_node(g, "HeapFixture");
    let map = follow(g, fixture, ".MAP");
    let table = follow(g, map, ".table");
    let (nodes, node_bytes) = jvm["java.util.HashMap$Node"];
    let expected = g.shallow_size(map)
        + g.shallow_size(table)
        + ENTRIES * (node_bytes / nodes)
        + ["HeapFixture$Key", "HeapFixture$Item", "HeapFixture$Payload"]
            .iter()
            .map(|c| jvm[*c].1)
            .sum::<u64>();
    assert_eq!(
        g.shallow_size(map),
        jvm["java.util.HashMap"].1 / jvm["java.util.HashMap"].0
    );
    // 2048 slots (1000 entries at load factor 0.75) of 4-byte compressed references after a 16-byte header.
    assert_eq!(g.shallow_size(table), 16 + 4 * 2048);
    let dominators = Dominators::compute(g);
    let retained = RetainedSizes::compute(g, &dominators);
    assert_eq!(
        retained.of(map),
        expected,
        "retained size of HeapFixture.MAP"
    );

    // Reference.referent is weak: the WeakReference retains only itself; STRONG keeps the target alive.
    let weak = follow(g, fixture, ".WEAK");
    let target = follow(g, fixture, ".STRONG");
    let referent = g
        .out_edges(weak)
        .find(|&(t, _)| t == target)
        .map(|(_, l)| l);
    assert_eq!(referent.map(|l| l.kind()), Some(EdgeKind::Weak));
    assert_eq!(retained.of(weak), g.shallow_size(weak));

    // The holder thread's local is a Java frame root and a local edge of the thread object.
    let local = (0..g.node_count() as NodeId)
        .find(|&n| g.type_name(g.type_of(n)) == "HeapFixture$LocalHeld")
        .expect("the thread's local is in the dump");
    assert!(g
        .roots()
        .iter()
        .any(|r| r.node == local && r.kind == RootKind::JavaFrame));
    let held_by: Vec<String> = g
        .in_sources(local)
        .iter()
        .flat_map(|&s| g.out_edges(s).filter(|&(t, _)| t == local))
        .map(|(_, l)| l.display(g.strings()).to_string())
        .collect();
    assert!(
        held_by
            .iter()
            .any(|l| l.starts_with("local in HeapFixture.lambda$main$")),
        "{held_by:?}"
    );

    // Strings decode (Latin-1 and UTF-16), arrays are indexed, instances point at their class.
    let value = |field: &str| g.details(follow(g, fixture, field)).value;
    assert_eq!(
        value(".GREETING").as_deref(),
        Some("hello, heapgraph \u{e9}")
    );
    assert_eq!(value(".WIDE").as_deref(), Some("wide \u{4e16}\u{754c}"));
    let mixed = follow(g, fixture, ".MIXED");
    assert_eq!(follow(g, mixed, "[0]"), map);
    assert_eq!(follow(g, mixed, "[3]"), follow(g, fixture, ".GREETING"));
    assert_eq!(g.details(mixed).length, Some(4));
    assert_eq!(
        follow(g, map, "<class>"),
        class_node(g, "java.util.HashMap")
    );
    assert_eq!(
        g.type_name(g.type_of(follow(g, fixture, ".NUMBERS"))),
        "int[]"
    );
    assert_eq!(g.find_types("HashMap").len(), 1);

    // The graph keeps no labels for HPROF: it reads each object's record again. That must give exactly
    // the edges loading made, in order, weak where the weak bits say, the references from outside the
    // records (stack locals, loaders' classes) included.
    assert!(g.stored_labels().is_none());
    let mut kinds = HashMap::new();
    for n in 0..g.node_count() as NodeId {
        let labels = g.detail_source().edge_labels(n, g).expect("labels derive");
        assert_eq!(labels.len(), g.out_targets(n).len(), "edges of {n}");
        for (l, (e, _)) in labels.iter().zip(g.node_edges(n)) {
            assert_eq!(l.retains(), g.retains(e));
            *kinds.entry(l.kind()).or_insert(0) += 1;
        }
    }
    for kind in [
        EdgeKind::Local,
        EdgeKind::Internal,
        EdgeKind::Index,
        EdgeKind::Weak,
    ] {
        assert!(kinds.contains_key(&kind), "no {kind:?} edge: {kinds:?}");
    }
}

#[test]
fn committed_dump_matches_the_jvm_histogram() {
    let dir = java_testdata();
    check_fixture(
        &dir.join("fixture.hprof"),
        &dir.join("fixture.histogram.txt"),
    );
}

#[test]
fn fresh_dump_matches_the_jvm_histogram() {
    if !jdk_available() {
        eprintln!(
            "SKIPPED fresh_dump_matches_the_jvm_histogram: javac, java or jcmd is not on PATH"
        );
        return;
    }
    let scratch = Scratch::new("java-fixture");
    let (dump, histogram) = make_java_dump(&scratch.0);
    check_fixture(&dump, &histogram);

    // The same heap dumped again with `-gz=1` (HotSpot's independently compressed 1 MiB blocks).
    let gz =
        load(&scratch.0.join("fixture.hprof.gz"), &NoProgress).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(gz.format, Format::HprofGzip);
    let g = &gz.graph;
    for class in ["HeapFixture$Key", "HeapFixture$Item", "HeapFixture$Payload"] {
        let ty = g.find_types(class);
        let count = (0..g.node_count() as NodeId)
            .filter(|&n| ty.contains(&g.type_of(n)))
            .count() as u64;
        assert_eq!(count, ENTRIES, "{class} in the gzipped dump");
    }
}
