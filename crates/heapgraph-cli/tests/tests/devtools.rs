//! `heapgraph types` against Chrome DevTools' Summary, computed by DevTools' own heap snapshot worker
//! code under Node (`testdata/v8/devtools/`: `install.sh` installs and bundles it, `summary.mjs` runs it).

use crate::util::{ok, type_rows, TypeRow};
use heapgraph_e2e::v8::{make_snapshots, v8_testdata};
use heapgraph_e2e::Scratch;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// One Summary row: class name, count, self size, retained size.
type Row = TypeRow;

/// DevTools' Summary of `snapshot`, rows sorted.
fn devtools_summary(snapshot: &Path) -> Vec<Row> {
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
        .arg(devtools.join("summary.mjs"))
        .arg(bundle.trim())
        .arg(snapshot)
        .output()
        .expect("run node");
    assert!(
        out.status.success(),
        "DevTools' summary failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
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
