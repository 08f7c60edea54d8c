//! Allocation sites in real dumps: every CPython 3.8+ runs a program that traces with tracemalloc (25
//! frames), and the tracebacks the dump gives its objects are checked against tracemalloc's own
//! `get_object_traceback`, asked in the same process just before the dump, and against the lines of the
//! program's source that made the objects.

use heapgraph_e2e::{python_testdata, pythons, run_fixture, Scratch};
use heapgraph_formats::{load, NoProgress};
use heapgraph_graph::{Graph, NodeId};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// The (file, line) frames the dump gives `node`, allocating frame first; None when it has no trace.
fn frames_of(g: &Graph, node: NodeId) -> Option<Vec<(String, u64)>> {
    let sites = g.allocation_sites();
    let trace = sites.trace_of(node)?;
    let frames = sites.frames(trace).iter().map(|&f| sites.frame(f));
    Some(
        frames
            .map(|f| (f.file.to_string(), f.line as u64))
            .collect(),
    )
}

fn oracle_frames(traceback: &Value) -> Option<Vec<(String, u64)>> {
    let frames = traceback.as_array()?.iter().map(|frame| {
        let file = frame[0].as_str().expect("a file name").to_string();
        (file, frame[1].as_u64().expect("a line"))
    });
    Some(frames.collect())
}

/// The summary `testdata/python/hgd_check.py` prints for `dump`, after checking every rule of the format.
fn check_with_hgd_check(dump: &Path) -> Value {
    let output = Command::new("python3")
        .arg(python_testdata().join("hgd_check.py"))
        .arg(dump)
        .output()
        .expect("run python3 hgd_check.py");
    assert!(
        output.status.success(),
        "hgd_check.py {}: {}",
        dump.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("hgd_check.py prints JSON")
}

#[test]
fn allocation_sites_match_tracemalloc_on_every_python() {
    let scratch = Scratch::new("sites");
    for python in pythons() {
        let v = python.label();
        let out = scratch.0.join(format!("sites-{v}.hgd"));
        let facts = run_fixture(&python, "fixture_sites.py", &out);
        let dump = load(&out, &NoProgress).unwrap_or_else(|e| panic!("Python {v}: {e}"));
        let g = &dump.graph;
        eprintln!("checking fixture_sites.py dumped by Python {v}");
        assert_eq!(dump.meta["tracemalloc_frames"], 25, "Python {v}");
        // The dumper kept tracemalloc from tracing its own work: no warning says it could not.
        assert_eq!(dump.meta["warnings"], Value::Array(vec![]), "Python {v}");
        let file = facts["file"].as_str().expect("the fixture's file name");
        // The process's tracemalloc was left as it was: tracing, 25 frames, new objects traced.
        let after = &facts["after"];
        assert_eq!(
            (&after["tracing"], &after["frames"]),
            (&Value::from(true), &Value::from(25))
        );
        let traced_after = oracle_frames(&after["traceback"]).expect("traced after the dump");
        assert_eq!(
            traced_after[0],
            (file.to_string(), after["line"].as_u64().unwrap())
        );
        assert!(traced_after.len() >= 2, "Python {v}: {traced_after:?}");

        for sample in facts["samples"].as_array().expect("samples") {
            let site = sample["site"].as_str().unwrap();
            let address = sample["id"].as_u64().unwrap();
            let node = g
                .node_at(address)
                .unwrap_or_else(|| panic!("Python {v}: the {site} sample is not in the dump"));
            let got = frames_of(g, node)
                .unwrap_or_else(|| panic!("Python {v}: the {site} sample has no allocation site"));
            // The allocating frame is the line of the fixture that made the object.
            let line = sample["line"].as_u64().unwrap();
            assert_eq!(got[0], (file.to_string(), line), "Python {v}: {site}");
            match oracle_frames(&sample["traceback"]) {
                Some(expected) => assert_eq!(got, expected, "Python {v}: {site}"),
                // tracemalloc's own lookup misses 3.11's instances with inline values; the dumper
                // looks their block up itself.
                None => assert_eq!((python.version, site), ((3, 11), "leak"), "Python {v}"),
            }
            if site == "deep" {
                assert_eq!(
                    got.len(),
                    25,
                    "Python {v}: cut at tracemalloc's frame limit"
                );
            }
        }

        // Every Leak instance has the leak line as its allocating frame.
        let leak_line = facts["samples"][0]["line"].as_u64().unwrap();
        let leak_type = g.find_types("Leak");
        assert_eq!(leak_type.len(), 1, "Python {v}");
        let at_leak_line = (0..g.node_count() as NodeId)
            .filter(|&n| g.type_of(n) == leak_type[0])
            .filter(|&n| frames_of(g, n).map(|f| f[0].clone()) == Some((file.into(), leak_line)))
            .count();
        assert_eq!(
            Some(at_leak_line as u64),
            facts["leaks"].as_u64(),
            "Python {v}"
        );

        // The independent reader of the format reads as many objects with a site.
        let checked = check_with_hgd_check(&out);
        let sites = g.allocation_sites();
        assert_eq!(
            checked["allocation_sites"]["objects"].as_u64(),
            Some(sites.object_count() as u64),
            "Python {v}"
        );
        assert!(checked["allocation_sites"]["traces"].as_u64() >= Some(sites.trace_count() as u64));

        // Made before tracing started: no site.
        let untraced = g.node_at(facts["untraced"].as_u64().unwrap()).unwrap();
        assert_eq!(frames_of(g, untraced), None, "Python {v}");
    }
}

/// A dump written before allocation sites existed loads, with none.
#[test]
fn an_old_dump_has_no_allocation_sites() {
    let old = heapgraph_e2e::python_testdata().join("service.hgd");
    let dump = load(&old, &NoProgress).expect("the committed dump loads");
    assert!(dump.graph.allocation_sites().is_empty());
    assert!(dump.meta.get("tracemalloc_frames").is_none());
}
