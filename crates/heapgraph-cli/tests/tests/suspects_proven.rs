//! Proven leaks in `heapgraph suspects`: objects a dump says the program is done with, on real dumps.

use crate::util::{heapgraph, json_of, stderr};
use heapgraph_e2e::{pythons, workspace_root, Scratch};
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

/// (reason, type, count) of every proven group, sorted.
fn groups(report: &Value) -> Vec<(String, String, u64)> {
    let mut all: Vec<(String, String, u64)> = report["proven"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["reason"].as_str().unwrap().to_string(),
                p["type_name"].as_str().unwrap().to_string(),
                p["count"].as_u64().unwrap(),
            )
        })
        .collect();
    all.sort();
    all
}

/// `suspects --json` on the dump the program that printed `made` wrote, read from the dump and then
/// from the index the first command wrote: the proven leaks must be the same.
fn report_of(made: &Output, dump: &str) -> Value {
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let from_dump = json_of(&["suspects", dump, "--json"]);
    let from_index = json_of(&["suspects", dump, "--json"]);
    assert_eq!(from_dump["proven"], from_index["proven"], "{dump}");
    from_dump
}

fn last_via(group: &Value) -> String {
    let steps = group["path"]["steps"].as_array().unwrap();
    steps.last().unwrap()["via"].as_str().unwrap().to_string()
}

/// `testdata/python/fixture_proven.py` holds a closed file, a closed socket, a finished generator and
/// coroutine and a traceback of two returned calls, each beside a live twin: every CPython states exactly
/// those facts, the same read from the dump and from its index, and they make `--fail` fail until a
/// baseline knows them.
#[test]
fn python_facts_name_closed_files_sockets_finished_generators_and_returned_frames() {
    for python in pythons() {
        let scratch = python.scratch("proven");
        let dump = scratch.0.join("proven.hgd");
        let out = python
            .command()
            .arg(python.testdata().join("fixture_proven.py"))
            .arg(python.dumper_dir())
            .arg(python.guest(&dump))
            .output()
            .unwrap();
        // The dumper writes warnings to stderr when a layout's self-test fails: none may.
        assert!(
            out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let dump = dump.display().to_string();
        let from_dump = report_of(&out, &dump);
        let expected = [
            ("coroutine finished", "coroutine", 1),
            ("file closed", "_io.TextIOWrapper", 1),
            // failing_call() and traceback_of_returned_call(), whose frames the traceback keeps.
            ("frame of a returned call", "frame", 2),
            ("generator finished", "generator", 1),
            ("socket closed", "socket.socket", 1),
        ];
        let expected: Vec<(String, String, u64)> = expected
            .iter()
            .map(|&(r, t, c)| (r.to_string(), t.to_string(), c))
            .collect();
        assert_eq!(groups(&from_dump), expected, "{}", python.label());
        for group in from_dump["proven"].as_array().unwrap() {
            let via = last_via(group);
            let wanted = match group["reason"].as_str().unwrap() {
                "file closed" => "file",
                "socket closed" => "socket",
                "generator finished" => "generator",
                "coroutine finished" => "coroutine",
                _ => "tb_frame",
            };
            // 3.11+ reads attributes inline (.file), older ones through the instance dict (['file']).
            assert!(
                via == format!(".{wanted}") || via == format!("['{wanted}']"),
                "{} {group:#}",
                python.label()
            );
        }

        // The rows the returned call's frame keeps make it the first suspect, the frame marked on its path.
        let first = &from_dump["suspects"][0];
        let facts = first["facts"].as_array().unwrap();
        assert_eq!(facts.len(), 1, "{} {first:#}", python.label());
        assert_eq!(facts[0]["reason"], "frame of a returned call");
        let step = facts[0]["step"].as_u64().unwrap() as usize;
        assert_eq!(first["path"]["steps"][step]["type_name"], "frame");
        let text = heapgraph(&["suspects", &dump]);
        assert!(
            String::from_utf8_lossy(&text.stdout).contains("  [proven: frame of a returned call]"),
            "{}",
            String::from_utf8_lossy(&text.stdout)
        );

        let baseline = scratch.0.join("baseline.json").display().to_string();
        let failing = heapgraph(&["suspects", &dump, "--fail", "--write-baseline", &baseline]);
        assert_eq!(failing.status.code(), Some(3), "{}", stderr(&failing));
        let known = heapgraph(&["suspects", &dump, "--fail", "--baseline", &baseline]);
        assert_eq!(known.status.code(), Some(0), "{}", stderr(&known));
        assert!(String::from_utf8_lossy(&known.stdout).contains("(in the baseline)"));
    }
}

/// Chromium, which writes page snapshots with DOM nodes and their detachedness (Node has no DOM).
fn chromium() -> PathBuf {
    let found = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            let out = Command::new("which").arg(name).output().ok()?;
            let path = String::from_utf8(out.stdout).ok()?;
            (out.status.success() && !path.trim().is_empty()).then(|| PathBuf::from(path.trim()))
        });
    found.expect("Chromium is not installed: `apt-get install chromium` (as .ci/run does)")
}

/// A page that takes a `<div>` out of its document and keeps it in a global, beside an element still
/// in the document that another global keeps: headless Chromium's snapshot marks the first detached,
/// and it is the one proven leak, with its child inside it, the same read from the index.
#[test]
fn a_detached_dom_node_of_a_chromium_page_is_a_proven_leak() {
    let scratch = Scratch::new("proven-chromium");
    let snapshot = scratch.0.join("page.heapsnapshot");
    let chromium_dir = workspace_root().join("testdata/v8/chromium");
    let out = Command::new("node")
        .arg(chromium_dir.join("take_snapshot.js"))
        .arg(chromium())
        .arg(chromium_dir.join("detached_dom.html"))
        .arg(&snapshot)
        .output()
        .unwrap();
    let snapshot = snapshot.display().to_string();
    let from_dump = report_of(&out, &snapshot);
    assert_eq!(
        groups(&from_dump),
        [(
            "detached DOM node".to_string(),
            "Detached <div>".to_string(),
            1
        )]
    );
    let group = &from_dump["proven"][0];
    let steps = group["path"]["steps"].as_array().unwrap();
    let vias: Vec<&str> = steps.iter().filter_map(|s| s["via"].as_str()).collect();
    assert!(vias.ends_with(&[".leakHolder", ".detached"]), "{vias:?}");
    // It retains more than itself: the <p> inside it, which is not listed apart.
    let retained = group["retained_bytes"].as_u64().unwrap();
    assert!(
        retained > group["shallow_bytes"].as_u64().unwrap(),
        "{group:#}"
    );
}

/// `testdata/java/ClosedResources.java` keeps streams, files, sockets and channels after closing them,
/// beside some still open, and prints how many of each class it closed: the JVM's dump proves exactly
/// those, by the fields each class sets when closed.
#[test]
fn a_jvm_dump_proves_closed_streams_files_sockets_and_channels() {
    let scratch = Scratch::new("proven-java");
    let classes = scratch.0.join("classes");
    heapgraph_e2e::java::compile_java("ClosedResources.java", &classes);
    let files = scratch.0.join("files");
    std::fs::create_dir_all(&files).unwrap();
    let dump = scratch.0.join("closed.hprof");
    let made = Command::new("java")
        .args(["-Xmx128m", "-cp"])
        .arg(&classes)
        .arg("ClosedResources")
        .arg(&dump)
        .arg(&files)
        .output()
        .unwrap();
    let report = report_of(&made, &dump.display().to_string());
    let closed: Value = serde_json::from_slice(&made.stdout).expect("the program's counts");
    let mut expected: Vec<(String, String, u64)> = closed
        .as_object()
        .unwrap()
        .iter()
        .map(|(class, count)| {
            let reason = match class.as_str() {
                "java.net.Socket" | "java.net.ServerSocket" => "socket closed",
                "sun.nio.ch.FileChannelImpl" => "channel closed",
                _ => "file closed",
            };
            (reason.to_string(), class.clone(), count.as_u64().unwrap())
        })
        .collect();
    expected.sort();
    assert_eq!(groups(&report), expected);
}

/// `testdata/java/activity/` is Android's leak on a JVM: the part of `android.app.Activity` heapgraph
/// reads (its `mDestroyed` flag, set by the framework's destroy), and a subclass kept by a static list
/// after destruction. Exactly the destroyed activities are proven leaks, found through their superclass's
/// field.
#[test]
fn destroyed_android_activities_are_proven_leaks() {
    let scratch = Scratch::new("proven-activity");
    let classes = scratch.0.join("classes");
    heapgraph_e2e::java::compile_java("activity/android/app/Activity.java", &classes);
    heapgraph_e2e::java::compile_java("activity/LeakyActivities.java", &classes);
    let dump = scratch.0.join("activities.hprof");
    let made = Command::new("java")
        .args(["-Xmx128m", "-cp"])
        .arg(&classes)
        .arg("LeakyActivities")
        .arg(&dump)
        .arg("7")
        .output()
        .unwrap();
    let report = report_of(&made, &dump.display().to_string());
    let destroyed: Value = serde_json::from_slice(&made.stdout).expect("the program's count");
    let count = destroyed["LeakyActivities$MainActivity"].as_u64().unwrap();
    let expected = ("Activity destroyed", "LeakyActivities$MainActivity", count);
    let found: Vec<_> = groups(&report);
    let found: Vec<(&str, &str, u64)> =
        found.iter().map(|(r, t, c)| (&r[..], &t[..], *c)).collect();
    assert_eq!(found, [expected]);
    assert_eq!(last_via(&report["proven"][0]), "[0]");
}
