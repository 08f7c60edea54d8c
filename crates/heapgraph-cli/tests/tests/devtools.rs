//! `heapgraph types` against Chrome DevTools' Summary, computed by DevTools' own heap snapshot worker
//! code under Node (`testdata/v8/devtools/`: `install.sh` installs and bundles it, `summary.mjs` runs it).

use crate::util::{allocation_stack, ok, type_rows, StackFrame, TypeRow};
use heapgraph_e2e::v8::{make_snapshots, make_tracked_snapshot, v8_testdata};
use heapgraph_e2e::Scratch;
use heapgraph_graph::NodeId;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

/// One Summary row: class name, count, self size, retained size.
type Row = TypeRow;

/// What DevTools' own code says of `snapshot`: the JSON that `script` (in testdata/v8/devtools/)
/// prints when run on it with DevTools' heap snapshot worker.
fn run_devtools(script: &str, snapshot: &Path) -> Value {
    let devtools = v8_testdata().join("devtools");
    let install = Command::new("bash")
        .arg(devtools.join("install.sh"))
        .output()
        .expect("run bash");
    assert!(
        install.status.success(),
        "testdata/v8/devtools/install.sh failed (it needs npm; .ci/run installs it):\n{}",
        String::from_utf8_lossy(&install.stderr)
    );
    let bundle = String::from_utf8(install.stdout).unwrap();
    let out = Command::new("node")
        .arg(devtools.join(script))
        .arg(bundle.trim())
        .arg(snapshot)
        .output()
        .expect("run node");
    assert!(
        out.status.success(),
        "DevTools' {script} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// DevTools' Summary of `snapshot`, rows sorted.
fn devtools_summary(snapshot: &Path) -> Vec<Row> {
    let rows = run_devtools("summary.mjs", snapshot);
    let rows = rows.as_array().unwrap();
    let mut rows: Vec<Row> = rows
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                r["count"].as_u64().unwrap(),
                r["self"].as_u64().unwrap(),
                r["retained"].as_u64().unwrap(),
            )
        })
        .collect();
    rows.sort();
    rows
}

/// `heapgraph types` of `snapshot` with `extra` arguments: every row, or only those of objects with a
/// size (DevTools' Summary leaves out objects of size 0), sorted.
fn heapgraph_types(snapshot: &Path, extra: &[&str], sized_only: bool) -> Vec<Row> {
    let path = snapshot.display().to_string();
    let mut args = vec!["--top", "0", &path];
    args.extend(extra);
    let mut rows = type_rows(&args);
    rows.retain(|r| !sized_only || r.2 > 0);
    rows.sort();
    rows
}

/// The rows of `ours` that differ from `theirs`, both ways, for the failure message.
fn differences(ours: &[Row], theirs: &[Row]) -> String {
    let only = |a: &[Row], b: &[Row]| -> Vec<String> {
        a.iter()
            .filter(|r| !b.contains(r))
            .map(|r| format!("{r:?}"))
            .collect()
    };
    format!(
        "heapgraph only: {:#?}\nDevTools only: {:#?}",
        only(ours, theirs),
        only(theirs, ours)
    )
}

#[test]
fn types_equals_devtools_summary_on_node_snapshots() {
    let scratch = Scratch::new("devtools-summary");
    make_snapshots(&scratch.0, 500);
    for name in ["first.heapsnapshot", "later.heapsnapshot"] {
        let snapshot = scratch.0.join(name);
        let theirs = devtools_summary(&snapshot);
        let ours = heapgraph_types(&snapshot, &[], true);
        assert!(theirs.len() > 100, "{theirs:?}");
        assert!(ours == theirs, "{name}: {}", differences(&ours, &theirs));
        // The rows DevTools' naming adds are among them.
        for class in [
            "Function",
            "(synthetic)",
            "Leaky",
            "Map",
            "(array)",
            "(system)",
        ] {
            assert!(theirs.iter().any(|r| r.0 == class), "{class}");
        }
        assert!(theirs.iter().any(|r| r.0.starts_with('{')));

        // The file's own sizes are one flag away: the same bytes in all, but not where DevTools puts them.
        let raw = heapgraph_types(&snapshot, &["--raw-sizes"], false);
        let total = |rows: &[Row]| rows.iter().map(|r| r.2).sum::<u64>();
        let all = heapgraph_types(&snapshot, &[], false);
        assert_eq!(total(&raw), total(&all));
        assert!(!raw.iter().any(|r| r.0.ends_with("(size in owner)")));
        let map = |rows: &[Row]| rows.iter().find(|r| r.0 == "Map").unwrap().2;
        assert!(
            map(&raw) < map(&all),
            "Map: {} raw, {} DevTools",
            map(&raw),
            map(&all)
        );
    }
    let text = ok(&[
        "types",
        &scratch.0.join("first.heapsnapshot").display().to_string(),
    ]);
    assert!(text.contains("Function"), "{text}");
}

/// A page's snapshot as Chrome writes one (`testdata/v8/devtools/dom.heapsnapshot`, made by
/// `make_dom_snapshot.py`): DOM nodes attached and detached, element names with attributes, plain objects
/// DevTools names by their properties, one constructor name at two locations, owned and shared arrays.
#[test]
fn types_equals_devtools_summary_on_a_page_with_dom_nodes() {
    let snapshot = v8_testdata().join("devtools").join("dom.heapsnapshot");
    let theirs = devtools_summary(&snapshot);
    let ours = heapgraph_types(&snapshot, &["--no-index"], true);
    assert!(ours == theirs, "{}", differences(&ours, &theirs));
    let names: Vec<&str> = theirs.iter().map(|r| r.0.as_str()).collect();
    for name in [
        "Detached <div>",
        "Detached <p>",
        "Detached Text",
        "<span>",
        "<body>",
        "{a, b}",
        "{a, b, c}",
        r#"{"x,y", z}"#,
        "{a_rather_long_property_name_0, a_rather_long_property_name_1, a_rather_long_property_name_2}",
        "Function",
        "RegExp",
    ] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    assert_eq!(names.iter().filter(|&&n| n == "Thing").count(), 2);
}

/// A snapshot taken with `node --track-heap-objects` (`testdata/v8/make_tracked_snapshot.js`): every
/// object's allocation stack equals DevTools' `allocationStack` (less its last `(root)` frame), and the
/// leaked sessions name the function that made them and its caller at the lines the script defines them.
#[test]
fn allocation_stacks_equal_devtools_on_a_tracked_node_snapshot() {
    let scratch = Scratch::new("devtools-allocation-stacks");
    let snapshot = scratch.0.join("tracked.heapsnapshot");
    let facts = make_tracked_snapshot(&snapshot, 1000);
    let dump = heapgraph_formats::load(&snapshot, &heapgraph_formats::NoProgress).unwrap();
    let g = &dump.graph;
    let sites = g.allocation_sites();
    let ours = |node: NodeId| allocation_stack(g, node);

    let theirs = run_devtools("allocation_stacks.mjs", &snapshot);
    let stacks: HashMap<&str, Vec<StackFrame>> = theirs["stacks"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(trace, frames)| {
            let mut frames: Vec<StackFrame> = serde_json::from_value(frames.clone()).unwrap();
            assert_eq!(frames.pop().map(|f| f.0), Some("(root)".to_string()));
            (trace.as_str(), frames)
        })
        .collect();
    let mut devtools: HashMap<u64, &Vec<StackFrame>> = HashMap::new();
    for row in theirs["nodes"].as_array().unwrap() {
        let stack = &stacks[row[1].to_string().as_str()];
        if !stack.is_empty() {
            devtools.insert(row[0].as_u64().unwrap(), stack);
        }
    }
    let mut differ = Vec::new();
    for n in 0..g.node_count() as NodeId {
        let expected = devtools.remove(&g.address(n)).cloned();
        if ours(n) != expected {
            differ.push((g.address(n), ours(n), expected));
        }
    }
    assert!(
        differ.is_empty(),
        "{} differ: {:#?}",
        differ.len(),
        &differ[..differ.len().min(5)]
    );
    assert!(
        devtools.is_empty(),
        "DevTools' stacks of nodes heapgraph lacks: {devtools:?}"
    );
    assert!(sites.object_count() > 10_000, "{}", sites.object_count());

    let script = facts["script"].as_str().unwrap();
    let at = |function: &str| {
        (
            function.to_string(),
            script.to_string(),
            facts["lines"][function].as_u64().unwrap(),
        )
    };
    let sessions: Vec<NodeId> = (0..g.node_count() as NodeId)
        .filter(|&n| g.type_name(g.type_of(n)) == "Session")
        .collect();
    assert_eq!(sessions.len(), 1000);
    for &s in &sessions {
        let stack = ours(s).expect("every session has a stack");
        assert_eq!(stack[..2], [at("leakSessions"), at("openAll")], "{stack:?}");
    }
    let in_constructor = (0..g.node_count() as NodeId)
        .filter(|&n| ours(n).is_some_and(|s| s[0] == at("Session") && s[1] == at("leakSessions")))
        .count();
    assert!(
        in_constructor >= 1000,
        "{in_constructor} made in Session's constructor"
    );

    // A snapshot taken without tracking has none.
    make_snapshots(&scratch.0, 10);
    let untracked = heapgraph_formats::load(
        &scratch.0.join("first.heapsnapshot"),
        &heapgraph_formats::NoProgress,
    )
    .unwrap();
    assert!(untracked.graph.allocation_sites().is_empty());
}
