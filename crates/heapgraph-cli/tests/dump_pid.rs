//! `heapgraph dump --pid` on real running processes: a Python service with a growing cache, dumped twice
//! under every CPython 3.8+ here, must show the growth it reported and keep answering afterwards.

use heapgraph_tests::service::{cache_entries, Service};
use heapgraph_tests::{python_testdata, pythons, Python, Scratch};
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

fn heapgraph(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_heapgraph"))
        .args(args)
        .output()
        .expect("run heapgraph")
}

fn start_service(python: &Python) -> Service {
    let mut command = Command::new(&python.path);
    command.arg(python_testdata().join("service_growing.py"));
    Service::start(command)
}

fn dump_pid(pid: u32, out: &Path) -> serde_json::Value {
    let out_arg = out.to_str().expect("utf-8 path");
    let output = heapgraph(&["dump", "--pid", &pid.to_string(), "-o", out_arg, "--json"]);
    assert!(
        output.status.success(),
        "dump --pid {pid} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    heapgraph_tests::parse_strict(&output.stdout).expect("--json prints JSON")
}

#[test]
fn two_dumps_by_pid_show_the_cache_growth_and_the_service_keeps_answering() {
    let scratch = Scratch::new("dump-pid");
    for python in pythons() {
        eprintln!(
            "dumping service_growing.py by pid under Python {}",
            python.label()
        );
        let v = python.label();
        let mut service = start_service(&python);
        assert_eq!(service.ask("grow 1000")["cache"], 1000);
        let before = service.ask("count")["CacheEntry"].as_u64().unwrap();
        let old = scratch.0.join(format!("old-{v}.hgd"));
        let first = dump_pid(service.pid, &old);

        assert_eq!(service.ask("grow 2500")["cache"], 3500);
        let after = service.ask("count")["CacheEntry"].as_u64().unwrap();
        let new = scratch.0.join(format!("new-{v}.hgd"));
        dump_pid(service.pid, &new);

        assert_eq!(
            service.ask("ping")["pong"],
            true,
            "Python {v}: the service answers after two dumps"
        );
        assert!(service.is_running());
        assert!(
            first["paused_seconds"].as_f64().is_some_and(|s| s > 0.0),
            "Python {v}: the pause is reported: {first}"
        );
        assert_eq!(
            first["runtime"]
                .as_str()
                .map(|r| r.starts_with(&format!("CPython {v}."))),
            Some(true)
        );
        assert_eq!(
            cache_entries(&old),
            before,
            "Python {v}: first dump holds what gc counted"
        );
        assert_eq!(
            cache_entries(&new),
            after,
            "Python {v}: second dump holds what gc counted"
        );

        let growth = heapgraph(&[
            "growth",
            old.to_str().unwrap(),
            new.to_str().unwrap(),
            "--json",
        ]);
        assert!(
            growth.status.success(),
            "{}",
            String::from_utf8_lossy(&growth.stderr)
        );
        let growth: serde_json::Value =
            heapgraph_tests::parse_strict(&growth.stdout).expect("growth --json");
        let entries = growth["types"]
            .as_array()
            .and_then(|t| t.iter().find(|r| r["type_name"] == "__main__.CacheEntry"))
            .unwrap_or_else(|| panic!("Python {v}: growth lists no CacheEntry"));
        assert_eq!(
            entries["count_delta"].as_i64(),
            Some((after - before) as i64),
            "Python {v}: {entries}"
        );
        assert_eq!(
            entries["new_objects"].as_u64(),
            Some(after - before),
            "Python {v}: {entries}"
        );
        assert!(
            service.finish(Duration::from_secs(10)),
            "Python {v}: the service exits cleanly"
        );
    }
    let names: Vec<_> = std::fs::read_dir(&scratch.0)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(
        names.iter().all(|n| {
            let n = n.to_string_lossy();
            n.ends_with(".hgd") || n.ends_with(".hgd.hgi")
        }),
        "only the dumps (and the index growth wrote) are left, no hand-over directory: {names:?}"
    );
}

#[test]
fn a_main_thread_that_never_reaches_a_safe_point_gets_a_timeout_and_keeps_running() {
    let python = &pythons()[0];
    let mut command = Command::new(&python.path);
    command.args([
        "-c",
        "import json, os, time; print(json.dumps({'ready': os.getpid()}), flush=True); time.sleep(120)",
    ]);
    let mut sleeper = Service::start(command);
    let scratch = Scratch::new("dump-pid-timeout");
    let out = scratch.0.join("never.hgd");
    let output = heapgraph(&[
        "dump",
        "--pid",
        &sleeper.pid.to_string(),
        "-o",
        out.to_str().unwrap(),
        "--timeout",
        "1",
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("did not reach a safe point"), "{stderr}");
    assert!(sleeper.is_running(), "the target keeps running");
    assert!(!out.exists());
    let leftovers: Vec<_> = std::fs::read_dir(&scratch.0).unwrap().collect();
    assert!(
        leftovers.is_empty(),
        "the hand-over directory is removed: {leftovers:?}"
    );
}

#[test]
fn a_process_that_is_not_python_is_refused_by_name() {
    let mut sleep = Command::new("sleep")
        .arg("60")
        .spawn()
        .expect("spawn sleep");
    let output = heapgraph(&[
        "dump",
        "--pid",
        &sleep.id().to_string(),
        "-o",
        "/nonexistent/x.hgd",
    ]);
    let _ = sleep.kill();
    let _ = sleep.wait();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("pid {}", sleep.id())) && stderr.contains("cannot be dumped"),
        "{stderr}"
    );
}

#[test]
fn a_missing_process_is_named() {
    let output = heapgraph(&["dump", "--pid", "4000000000"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no process with pid 4000000000"));
}
