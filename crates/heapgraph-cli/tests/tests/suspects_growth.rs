//! `heapgraph suspects OLD NEW NEWER` on real dumps of one process taken as it ran: the leak it was
//! written to have comes first, counted as the runtime counted it; a bounded cache churned between the
//! dumps makes no suspect; and the CI gate's exit codes.

use crate::util::{heapgraph, json_of, ok, service_dump, stderr};
use heapgraph_e2e::java::java_testdata;
use heapgraph_e2e::{pythons, run_fixture_with, v8::v8_testdata, Python, Scratch};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// Runs `fixture_suspects_growth.py` in `mode` (`leak` or `churn`) under `python`, 1,500 bind
/// parameters a round; returns its three dumps and the counts gc saw before each.
fn python_dumps(python: &Python, mode: &str, scratch: &Scratch) -> (Vec<String>, Value) {
    python_dumps_with(python, scratch, &[("GROWTH", mode), ("STEP", "1500")])
}

/// [`python_dumps`] with the fixture's settings in `env`.
fn python_dumps_with(
    python: &Python,
    scratch: &Scratch,
    env: &[(&str, &str)],
) -> (Vec<String>, Value) {
    let mode = env
        .iter()
        .find(|(k, _)| *k == "GROWTH")
        .map_or("leak", |e| e.1);
    let out = scratch.0.join(format!("{mode}.hgd"));
    let (facts, _) = run_fixture_with(python, "fixture_suspects_growth.py", &out, env);
    let dumps = facts["dumps"].as_array().unwrap().iter();
    let dumps = dumps.map(|d| python.host(Path::new(d.as_str().unwrap())));
    let dumps = dumps.map(|d| d.display().to_string()).collect();
    (dumps, facts["counts"].clone())
}

/// `heapgraph suspects DUMPS... extra...` as JSON.
fn growth_report(dumps: &[String], extra: &[&str]) -> Value {
    let mut args = vec!["suspects"];
    args.extend(dumps.iter().map(String::as_str));
    args.push("--json");
    args.extend(extra);
    json_of(&args)
}

/// The exit status of `heapgraph suspects DUMPS... --fail extra...`.
fn fail_status(dumps: &[String], extra: &[&str]) -> i32 {
    let mut args = vec!["suspects"];
    args.extend(dumps.iter().map(String::as_str));
    args.push("--fail");
    args.extend(extra);
    let out = heapgraph(&args);
    out.status
        .code()
        .unwrap_or_else(|| panic!("{args:?}: {}", stderr(&out)))
}

/// `dumps` have no growth suspect, and the gate passes.
fn assert_no_growth(dumps: &[String], what: &str) {
    let report = growth_report(dumps, &[]);
    assert_eq!(report["suspects"], Value::Array(vec![]), "{what}: {report}");
    assert_eq!(fail_status(dumps, &[]), 0, "{what}");
}

fn u64s(value: &Value) -> Vec<u64> {
    let all = value.as_array().unwrap_or_else(|| panic!("{value}")).iter();
    all.map(|v| v.as_u64().unwrap()).collect()
}

/// The types listed below a suspect, by name.
fn type_row<'a>(suspect: &'a Value, name: &str) -> &'a Value {
    let types = suspect["types"].as_array().unwrap();
    types
        .iter()
        .find(|t| t["type_name"] == name)
        .unwrap_or_else(|| panic!("no {name} below {suspect}"))
}

fn vias(suspect: &Value) -> Vec<&str> {
    let steps = suspect["path"]["steps"].as_array().unwrap().iter();
    steps.map(|s| s["via"].as_str().unwrap_or("")).collect()
}

#[test]
fn python_leak_is_its_clause_list_and_a_churned_cache_is_nothing() {
    for python in pythons() {
        let v = python.label();
        let scratch = python.scratch("suspects-growth");
        let (leak, counts) = python_dumps(&python, "leak", &scratch);
        let binds: Vec<u64> = (0..3)
            .map(|i| counts[i]["BindParameter"].as_u64().unwrap())
            .collect();
        assert_eq!(
            binds,
            [1500, 3000, 4500],
            "Python {v}: the fixture's own count"
        );
        let report = growth_report(&leak, &[]);
        let first = &report["suspects"][0];
        // `.clauses`, or `.__dict__['clauses']` where instances keep a separate dict.
        let via = vias(first).last().copied().unwrap_or_default();
        assert!(
            via == ".clauses" || via == "['clauses']",
            "Python {v}: {first}"
        );
        assert_eq!(first["object"]["type_name"], "list", "Python {v}");
        assert_eq!(first["grew"], "references", "Python {v}");
        // The list holds the bind parameters and nothing else: its references are gc's count of them.
        assert_eq!(u64s(&first["measure"]), binds, "Python {v}");
        let row = type_row(first, "__main__.BindParameter");
        assert_eq!(u64s(&row["counts"]), binds, "Python {v}");
        assert_eq!(row["depth"], 1, "Python {v}: the list's elements");
        assert_eq!(first["types"][0], *row, "Python {v}: the elements first");
        assert!(
            first["sentence"]
                .as_str()
                .unwrap()
                .contains("1,500 __main__.BindParameter"),
            "Python {v}: {first}"
        );
        let below = u64s(
            &first["per_dump"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["objects_below"].clone())
                .collect::<Value>(),
        );
        assert!(
            below.windows(2).all(|w| w[1] >= w[0] + 2 * 1500),
            "Python {v}: {below:?}"
        );
        assert_eq!(
            fail_status(&leak, &[]),
            3,
            "Python {v}: a leak fails the gate"
        );
        // Two of the dumps tell the same story.
        let two = growth_report(&[leak[0].clone(), leak[2].clone()], &[]);
        assert_eq!(
            two["suspects"][0]["fingerprint"], first["fingerprint"],
            "Python {v}"
        );

        let (churn, counts) = python_dumps(&python, "churn", &scratch);
        let sessions: Vec<u64> = (0..3)
            .map(|i| counts[i]["Session"].as_u64().unwrap())
            .collect();
        assert_eq!(
            sessions,
            [500, 500, 500],
            "Python {v}: the cache is bounded"
        );
        assert_no_growth(&churn, &format!("Python {v}"));
    }
}

#[test]
fn before_and_after_dumps_put_the_100000_new_bind_parameters_first() {
    let python = pythons().remove(0);
    let scratch = python.scratch("suspects-growth-100k");
    let env = [("GROWTH", "leak"), ("STEP", "100000"), ("ROUNDS", "2")];
    let (dumps, counts) = python_dumps_with(&python, &scratch, &env);
    let binds: Vec<u64> = (0..2)
        .map(|i| counts[i]["BindParameter"].as_u64().unwrap())
        .collect();
    assert_eq!(binds, [100_000, 200_000]);
    let report = growth_report(&dumps, &[]);
    let first = &report["suspects"][0];
    assert_eq!(first["object"]["type_name"], "list", "{first}");
    assert_eq!(first["types"][0]["type_name"], "__main__.BindParameter");
    assert_eq!(u64s(&first["types"][0]["counts"]), binds);
    let sentence = first["sentence"].as_str().unwrap();
    assert!(
        sentence.contains("the last interval added 100,000 __main__.BindParameter"),
        "{sentence}"
    );
}

#[test]
fn a_baseline_of_the_growth_makes_the_gate_pass_and_keeps_it_in_sight() {
    let python = pythons().remove(0);
    let scratch = python.scratch("suspects-growth-baseline");
    let (leak, _) = python_dumps(&python, "leak", &scratch);
    let baseline = scratch.0.join("baseline.json");
    let baseline = baseline.to_str().unwrap();
    let written = growth_report(&leak, &["--write-baseline", baseline]);
    assert_eq!(fail_status(&leak, &["--baseline", baseline]), 0);
    let report = growth_report(&leak, &["--baseline", baseline]);
    assert_eq!(report["suspects"], Value::Array(vec![]), "{report}");
    assert_eq!(report["known"], written["suspects"], "known, never hidden");
    let mut args = vec!["suspects"];
    args.extend(leak.iter().map(String::as_str));
    args.extend(["--baseline", baseline]);
    let text = ok(&args);
    assert!(
        text.starts_with("No growth suspects")
            && text
                .contains("Known growth suspect (in the baseline) 1 of 1: list at module __main__"),
        "{text}"
    );
}

#[test]
fn growth_text_is_short_biggest_first_and_says_what_is_estimated() {
    let python = pythons().remove(0);
    let scratch = python.scratch("suspects-growth-text");
    let (leak, _) = python_dumps(&python, "leak", &scratch);
    let mut args = vec!["suspects"];
    args.extend(leak.iter().map(String::as_str));
    let text = ok(&args);
    let first = text.lines().next().unwrap();
    assert!(
        first.starts_with("Growth suspect 1 of 1: list at module __main__")
            && first.contains("clauses")
            && first.contains("grew in every interval: its references 1,500 -> 3,000 -> 4,500"),
        "{text}"
    );
    assert!(text.contains("\nExact: counts"), "{text}");
    assert!(text.contains("Estimated: bytes below a path"), "{text}");
    assert!(text.lines().count() < 25, "{text}");
    let report = growth_report(&leak, &[]);
    assert!(report["sizes"]["exact"]
        .as_str()
        .unwrap()
        .contains("counts"));
    assert!(report["sizes"]["estimate"]
        .as_str()
        .unwrap()
        .contains("bytes below"));
}

/// Runs `command`, a fixture that prints one JSON line of facts, with `files`: the dumps it wrote.
fn run_fixture_program(mut command: Command) -> (Vec<String>, Value) {
    let output = command.output().unwrap_or_else(|e| {
        panic!("{command:?} did not run ({e}): .ci/run installs Node.js and a JDK")
    });
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let facts: Value = serde_json::from_slice(&output.stdout).expect("JSON facts");
    let files = facts["files"].as_array().unwrap().iter();
    let files = files.map(|f| f.as_str().unwrap().to_string()).collect();
    (files, facts)
}

/// Runs `make_growth_fixture.js` in `mode`, 800 Leaky objects a round; its three snapshots and facts.
fn v8_snapshots(mode: &str, scratch: &Scratch) -> (Vec<String>, Value) {
    let mut node = Command::new("node");
    node.arg(v8_testdata().join("make_growth_fixture.js"))
        .arg(mode)
        .arg(scratch.0.join(mode))
        .arg("800");
    run_fixture_program(node)
}

#[test]
fn v8_leak_is_the_holders_map_and_a_churned_map_is_nothing() {
    let scratch = Scratch::new("suspects-growth-v8");
    let (leak, facts) = v8_snapshots("leak", &scratch);
    let leaky = u64s(&facts["leaky"]);
    assert_eq!(leaky, [800, 1600, 2400]);
    let report = growth_report(&leak, &[]);
    let first = &report["suspects"][0];
    assert_eq!(vias(first), ["", ".holder", ".items"], "{first}");
    assert_eq!(first["object"]["type_name"], "Map");
    // The Map grows in its table, collection internals the path stops short of.
    assert!(first["internal"].is_string(), "{first}");
    assert_eq!(u64s(&type_row(first, "Leaky")["counts"]), leaky);
    assert_eq!(first["types"][0]["type_name"], "Leaky", "{first}");
    assert_eq!(fail_status(&leak, &[]), 3);

    let (churn, _) = v8_snapshots("churn", &scratch);
    assert_no_growth(&churn, "V8");

    // Dumps of two runtimes are no process's growth.
    let service = service_dump();
    let mixed = heapgraph(&["suspects", &service, &churn[0], "--no-index"]);
    let err = stderr(&mixed);
    assert_eq!(mixed.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&churn[0]) && err.contains("give dumps of one format"),
        "{err}"
    );
}

/// Runs `GrowthLeak.java` (compiled into `classes`) in `mode`, 1,000 Orders a round; its three dumps
/// and facts.
fn java_dumps(mode: &str, scratch: &Scratch) -> (Vec<String>, Value) {
    let classes = scratch.0.join("classes");
    let javac = Command::new("javac")
        .arg("-d")
        .arg(&classes)
        .arg(java_testdata().join("GrowthLeak.java"))
        .output()
        .expect("run javac (install a JDK: .ci/run does)");
    assert!(
        javac.status.success(),
        "{}",
        String::from_utf8_lossy(&javac.stderr)
    );
    let mut java = Command::new("java");
    java.args(["-Xmx128m", "-XX:+UseSerialGC", "-cp"])
        .arg(&classes)
        .arg("GrowthLeak")
        .arg(mode)
        .arg(scratch.0.join(mode));
    run_fixture_program(java)
}

#[test]
fn java_leak_is_the_static_map_and_a_churned_linked_map_is_nothing() {
    let scratch = Scratch::new("suspects-growth-java");
    let (leak, facts) = java_dumps("leak", &scratch);
    let orders = u64s(&facts["orders"]);
    assert_eq!(orders, [1000, 2000, 3000]);
    let report = growth_report(&leak, &[]);
    let first = &report["suspects"][0];
    assert_eq!(vias(first).last(), Some(&".ORDERS"), "{first}");
    assert_eq!(first["object"]["type_name"], "java.util.HashMap");
    assert_eq!(first["internal"], "java.util.HashMap$Node[]", "{first}");
    assert_eq!(u64s(&type_row(first, "GrowthLeak$Order")["counts"]), orders);
    assert_eq!(
        u64s(&type_row(first, "java.util.HashMap$Node")["counts"]),
        orders
    );
    assert_eq!(fail_status(&leak, &[]), 3);

    // The LinkedHashMap's entries are reached through other `.after`/`.before` chains in every dump:
    // paths come and go, the map does not grow.
    let (churn, _) = java_dumps("churn", &scratch);
    assert_no_growth(&churn, "Java");
}
