//! `heapgraph suspects` on real dumps of the three runtimes: the leak each program was written to have
//! comes first, named by what holds it, with the reference to fix marked; and the CI gate's exit codes.

use crate::util::{heapgraph, json_of, service_dump, stderr};
use heapgraph_e2e::{pythons, Scratch};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// The first suspect of the program's own (not library) section.
fn first_suspect(dump: &str) -> Value {
    let report = json_of(&["suspects", dump, "--json", "--no-index"]);
    report["suspects"][0].clone()
}

/// The edge names of a suspect's path, from the root down.
fn vias(suspect: &Value) -> Vec<String> {
    suspect["path"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["via"].as_str().unwrap_or("").to_string())
        .collect()
}

fn fixed_via(suspect: &Value) -> String {
    let at = suspect["fix_step"].as_u64().expect("a reference to fix") as usize;
    vias(suspect)[at].clone()
}

/// Count of `type_name` among the objects the suspect accumulates.
fn accumulated(suspect: &Value, type_name: &str) -> u64 {
    suspect["accumulated"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["type_name"] == type_name)
        .map_or(0, |t| t["count"].as_u64().unwrap())
}

#[test]
fn a_python_query_cache_of_bind_parameters_is_the_first_suspect() {
    let python = &pythons()[0];
    let scratch = Scratch::new("suspects-python");
    let dump = scratch.0.join("service.hgd");
    let status = python
        .command()
        .arg(python.testdata().join("make_service_dump.py"))
        .arg(python.dumper_dir())
        .arg(python.guest(&dump))
        .arg("100000")
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let dump = dump.display().to_string();
    let s = first_suspect(&dump);
    assert_eq!(s["kind"], "single");
    assert_eq!(s["holder"]["type_name"], "__main__.QueryCache", "{s:#}");
    // CPython 3.11+ reads attributes without the instance dict; 3.10 and older reach them through it.
    assert!(
        [".clauses", "['clauses']"].contains(&fixed_via(&s).as_str()),
        "{}",
        fixed_via(&s)
    );
    assert_eq!(s["accumulation"]["type_name"], "list");
    // The program made exactly this many, and nothing else holds them.
    assert_eq!(accumulated(&s, "__main__.BindParameter"), 100_000);
    assert_eq!(accumulated(&s, "__main__._anonymous_label"), 100_000);
    let sentence = s["sentence"].as_str().unwrap();
    assert!(
        sentence.starts_with("One __main__.QueryCache (module __main__.__dict__['CACHE']) retains"),
        "{sentence}"
    );
    assert!(
        sentence.contains("100,000 __main__.BindParameter"),
        "{sentence}"
    );
    assert!(
        sentence.contains("referenced by .clauses of __main__.InClause")
            || sentence.contains("referenced by .__dict__['clauses'] of __main__.InClause"),
        "{sentence}"
    );
    assert!(s["share"].as_f64().unwrap() > 0.5);

    // The text puts it first, marks the reference and says how to dig further.
    let out = heapgraph(&["suspects", &dump]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("Suspect 1 of "), "{text}");
    assert!(
        text.contains("clauses'] list 0x") || text.contains(">> .clauses list 0x"),
        "{text}"
    );
    assert!(
        text.contains(&format!("$ heapgraph path {dump} 0x")),
        "{text}"
    );
}

#[test]
fn a_static_java_map_is_the_first_suspect_named_by_its_field() {
    let scratch = Scratch::new("suspects-java");
    let classes = scratch.0.join("classes");
    heapgraph_e2e::java::compile_java("StaticMapLeak.java", &classes);
    let dump = scratch.0.join("leak.hprof");
    let run = Command::new("java")
        .args(["-Xmx256m", "-XX:+UseSerialGC", "-cp"])
        .arg(&classes)
        .arg("StaticMapLeak")
        .arg(&dump)
        .arg("50000")
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let dump = dump.display().to_string();
    let s = first_suspect(&dump);
    assert_eq!(s["holder"]["type_name"], "java.util.HashMap", "{s:#}");
    let step = s["holder_step"].as_u64().unwrap() as usize;
    assert_eq!(vias(&s)[step], ".SESSIONS");
    assert_eq!(
        fixed_via(&s),
        ".SESSIONS",
        "the backing table is the map's own"
    );
    assert_eq!(accumulated(&s, "StaticMapLeak$Session"), 50_000);
    assert!(s["share"].as_f64().unwrap() > 0.5);
}

#[test]
fn a_node_global_holder_of_a_leaking_map_is_the_first_suspect() {
    let scratch = Scratch::new("suspects-v8");
    let out = Command::new("node")
        .arg(heapgraph_e2e::v8::v8_testdata().join("make_fixture.js"))
        .arg(scratch.0.join("leak.heapsnapshot"))
        .arg("100000")
        .output()
        .expect("run node (install Node.js: .ci/run does)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dump = scratch.0.join("leak.heapsnapshot").display().to_string();
    let s = first_suspect(&dump);
    assert_eq!(s["holder"]["type_name"], "LeakHolder", "{s:#}");
    let step = s["holder_step"].as_u64().unwrap() as usize;
    assert_eq!(vias(&s)[step], ".holder");
    assert_eq!(fixed_via(&s), ".items");
    assert_eq!(accumulated(&s, "Leaky"), 100_000);
    // Node marks its own bindings detached; only DOM nodes are proven leaks, and Node has none.
    let report = json_of(&["suspects", &dump, "--json"]);
    assert_eq!(
        report["proven"],
        serde_json::json!([]),
        "{:#}",
        report["proven"]
    );
}

#[test]
fn a_baseline_turns_the_ci_gate_green_and_keeps_the_suspects_in_sight() {
    let scratch = Scratch::new("suspects-baseline");
    let dump = service_dump();
    let fail = heapgraph(&["suspects", &dump, "--fail", "--no-index"]);
    assert_eq!(fail.status.code(), Some(3), "{}", stderr(&fail));

    let baseline = scratch.0.join("baseline.json");
    let baseline = baseline.to_str().unwrap();
    let written = heapgraph(&[
        "suspects",
        &dump,
        "--write-baseline",
        baseline,
        "--no-index",
    ]);
    assert!(written.status.success());
    let pass = heapgraph(&[
        "suspects",
        &dump,
        "--baseline",
        baseline,
        "--fail",
        "--no-index",
    ]);
    assert_eq!(pass.status.code(), Some(0), "{}", stderr(&pass));
    let report = json_of(&[
        "suspects",
        &dump,
        "--baseline",
        baseline,
        "--json",
        "--no-index",
    ]);
    assert_eq!(report["suspects"].as_array().unwrap().len(), 0);
    assert!(
        !report["known"].as_array().unwrap().is_empty(),
        "known suspects are shown"
    );

    // Fingerprints do not depend on the run: the same dump copied elsewhere and indexed gives the same.
    let copy = scratch.0.join("copy.hgd");
    std::fs::copy(&dump, &copy).unwrap();
    let copy = copy.to_str().unwrap();
    let again = heapgraph(&["suspects", copy, "--baseline", baseline, "--fail"]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));

    let bad = scratch.0.join("bad.json");
    std::fs::write(&bad, "not json").unwrap();
    let refused = heapgraph(&["suspects", &dump, "--baseline", bad.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("is not a suspects baseline"),
        "{}",
        stderr(&refused)
    );
}

#[test]
fn the_same_dump_gives_the_same_report_byte_for_byte() {
    let dump = service_dump();
    let scratch = Scratch::new("suspects-stable");
    let copy = scratch.0.join("service.hgd");
    std::fs::copy(&dump, &copy).unwrap();
    let copy = copy.to_str().unwrap();
    let first = heapgraph(&["suspects", copy, "--json", "--no-index"]);
    let indexed = heapgraph(&["suspects", copy, "--json"]);
    let from_index = heapgraph(&["suspects", copy, "--json"]);
    assert_eq!(first.stdout, indexed.stdout);
    assert_eq!(first.stdout, from_index.stdout);
    assert!(Path::new(&format!("{copy}.hgi")).exists());
}
