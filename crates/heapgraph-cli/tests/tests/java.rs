//! Every command on the committed Java HPROF dump (`testdata/java/fixture.hprof`), unchanged, and the
//! warning a dump cut short gets.

use crate::util::{heapgraph, ok};
use heapgraph_e2e::java::java_testdata;
use heapgraph_e2e::Scratch;
use std::process::Command;

fn fixture() -> String {
    java_testdata().join("fixture.hprof").display().to_string()
}

#[test]
fn every_command_reads_hprof() {
    let dump = fixture();
    let info = ok(&["info", &dump]);
    assert!(info.contains("Java HPROF heap dump"), "{info}");
    assert!(info.contains("sticky class"), "{info}");
    assert!(
        info.contains("JVM (HPROF 1.0.2, compressed references"),
        "{info}"
    );

    let types = ok(&["types", &dump, "--top", "1000"]);
    let item = types
        .lines()
        .find(|l| l.starts_with("HeapFixture$Item "))
        .unwrap_or_else(|| panic!("{types}"));
    assert!(item.split_whitespace().nth(1) == Some("1,000"), "{item}");

    let top = ok(&["top", &dump, "--top", "5"]);
    assert!(top.contains(".MAP.table"), "{top}");

    let retainers = ok(&["retainers", &dump, "HeapFixture$LocalHeld"]);
    assert!(
        retainers.contains("java frame in HeapFixture.lambda$main$"),
        "{retainers}"
    );

    let map_line = top
        .lines()
        .find(|l| l.contains("java.util.HashMap 0x"))
        .unwrap();
    let address = map_line
        .split_whitespace()
        .find(|w| w.starts_with("0x"))
        .unwrap();
    let path = ok(&["path", &dump, address]);
    assert!(path.contains(".MAP"), "{path}");
    ok(&["dominators", &dump, address]);
    ok(&["unreferenced", &dump]);
    let scratch = Scratch::new("java-cli");
    let dot = scratch.0.join("map.dot");
    ok(&["graph", &dump, address, "-o", &dot.display().to_string()]);
    assert!(std::fs::read_to_string(&dot).unwrap().contains("HashMap"));
}

#[test]
fn a_dump_cut_short_loads_with_a_warning() {
    let bytes = std::fs::read(fixture()).unwrap();
    let scratch = Scratch::new("java-cut");
    let cut = scratch.0.join("cut.hprof");
    std::fs::write(&cut, &bytes[..bytes.len() - 100_000]).unwrap();
    let cut = cut.display().to_string();
    for args in [&["info", &cut][..], &["types", "--shallow", &cut]] {
        let out = heapgraph(args);
        assert!(out.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("warning") && stderr.contains("bytes are lost"),
            "{args:?}: {stderr}"
        );
    }
    // Both read the same whole objects before the cut.
    assert_eq!(shallow_rows(&cut, true), shallow_rows(&cut, false));
}

/// `types --json` rows without the retained columns: (type id, name, count, shallow bytes).
fn shallow_rows(dump: &str, shallow: bool) -> Vec<(u64, String, u64, u64)> {
    let mut args = vec!["types", dump, "--json", "--top", "0"];
    if shallow {
        args.push("--shallow");
    }
    let report: serde_json::Value = heapgraph_e2e::parse_strict(ok(&args).as_bytes()).unwrap();
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert_eq!(r["retained_bytes"].is_null(), shallow, "{r}");
            (
                r["type_id"].as_u64().unwrap(),
                r["type_name"].as_str().unwrap().to_string(),
                r["count"].as_u64().unwrap(),
                r["shallow_bytes"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// The histogram counted while reading, without a graph, is the graph's own, row for row, plain and
/// gzipped (gzip inflates first; then the same counting).
#[test]
fn the_shallow_histogram_equals_the_graphs() {
    let dump = fixture();
    let from_graph = shallow_rows(&dump, false);
    assert!(from_graph.len() > 100, "{from_graph:?}");
    assert_eq!(shallow_rows(&dump, true), from_graph);

    let scratch = Scratch::new("java-shallow-gz");
    let gz = scratch.0.join("fixture.hprof.gz");
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!("gzip -c '{dump}' > '{}'", gz.display()))
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(shallow_rows(&gz.display().to_string(), true), from_graph);

    // Formats without a reader-side count fall back to the loaded graph's histogram, the same rows.
    let python = heapgraph_e2e::python_testdata().join("service.hgd");
    let python = python.display().to_string();
    assert_eq!(shallow_rows(&python, true), shallow_rows(&python, false));

    let out = heapgraph(&["types", "--shallow", "--sort", "retained", &dump]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("drop one of them"), "{stderr}");
}
