//! What every module of this test binary shares: running the built `heapgraph` and reading what it printed.

use heapgraph_e2e::{python_testdata, Scratch};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

/// A `Command` for the `heapgraph` binary this package builds, for callers that set more than arguments.
pub fn heapgraph_command() -> Command {
    Command::new(env!("CARGO_BIN_EXE_heapgraph"))
}

/// Runs `heapgraph args` to the end and returns what it printed, whatever its exit status.
pub fn heapgraph(args: &[&str]) -> Output {
    heapgraph_command()
        .args(args)
        .output()
        .expect("run heapgraph")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs `heapgraph args`, which must succeed, and returns its stdout and stderr.
pub fn ok_with_stderr(args: &[&str]) -> (String, String) {
    let out = heapgraph(args);
    let stderr = stderr(&out);
    assert!(out.status.success(), "heapgraph {args:?}: {stderr}");
    (stdout(&out), stderr)
}

/// Runs `heapgraph args`, which must succeed, and returns its stdout.
pub fn ok(args: &[&str]) -> String {
    ok_with_stderr(args).0
}

/// Runs `heapgraph args`, which must succeed and print one JSON document, and returns it.
pub fn json_of(args: &[&str]) -> serde_json::Value {
    let out = heapgraph(args);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    heapgraph_e2e::parse_strict(&out.stdout).unwrap()
}

/// One row of `types --json`: type name, count, shallow bytes, retained bytes.
pub type TypeRow = (String, u64, u64, u64);

/// Runs `heapgraph types --json ...` (`args` after `types`) and returns its rows.
pub fn type_rows(args: &[&str]) -> Vec<TypeRow> {
    let mut all = vec!["types", "--json"];
    all.extend(args);
    json_of(&all)["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["type_name"].as_str().unwrap().to_string(),
                r["count"].as_u64().unwrap(),
                r["shallow_bytes"].as_u64().unwrap(),
                r["retained_bytes"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// The committed dump of the growing Python service.
pub fn service_dump() -> String {
    python_testdata().join("service.hgd").display().to_string()
}

/// Runs `heapgraph dump --pid` on `sleep` copied as `name` (a program named like a runtime that is not
/// one), which must be refused with exit status 1 and left running; returns heapgraph's stderr.
pub fn dump_of_impostor_refused(name: &str) -> String {
    let scratch = Scratch::new(&format!("impostor-{name}"));
    let fake = scratch.0.join(name);
    std::fs::copy("/bin/sleep", &fake).unwrap();
    let mut sleeper = Command::new(&fake).arg("60").spawn().unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let output = heapgraph(&[
        "dump",
        "--pid",
        &sleeper.id().to_string(),
        "-o",
        scratch.0.join("never").to_str().unwrap(),
    ]);
    let alive = sleeper.try_wait().unwrap().is_none();
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    let stderr = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(alive, "{name} was not touched: {stderr}");
    stderr
}

/// One frame of an allocation stack: function, file, line.
pub type StackFrame = (String, String, u64);

/// The allocation stack of `node` as the graph holds it, the allocating frame first; `None` when the
/// runtime recorded none.
pub fn allocation_stack(
    g: &heapgraph_graph::Graph,
    node: heapgraph_graph::NodeId,
) -> Option<Vec<StackFrame>> {
    let sites = g.allocation_sites();
    let frames = sites.frames(sites.trace_of(node)?);
    let frames = frames.iter().map(|&f| sites.frame(f));
    Some(
        frames
            .map(|f| (f.function.into(), f.file.into(), f.line.into()))
            .collect(),
    )
}

/// The Python dumps (`.hgd`) in `dir`, sorted by name: the order `heapgraph run` names them in.
pub fn dumps_in(dir: &Path) -> Vec<PathBuf> {
    let mut dumps: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "hgd"))
        .collect();
    dumps.sort();
    dumps
}
