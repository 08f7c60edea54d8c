//! `heapgraph dump --pid` on real running processes, under every CPython 3.8-3.13 here: a service with a
//! growing cache, dumped twice, must show the growth it reported and keep answering afterwards; a main
//! thread waiting in C for minutes is dumped where it waits; and every refusal leaves the target as it was.

use crate::util::{dump_of_impostor_refused, heapgraph};
use heapgraph_e2e::service::{assert_dump_refused_to_nobody, cache_entries, instances, Service};
use heapgraph_e2e::{python_testdata, pythons, Python, Scratch};
use std::io::Read;
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

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
    heapgraph_e2e::parse_strict(&output.stdout).expect("--json prints JSON")
}

#[test]
fn two_dumps_by_pid_show_the_cache_growth_and_the_service_keeps_answering() {
    let scratch = Scratch::new("dump-pid");
    for python in ptrace_pythons() {
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
            heapgraph_e2e::parse_strict(&growth.stdout).expect("growth --json");
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

/// The CPython versions `dump --pid` reaches with ptrace (3.14+ is reached through `sys.remote_exec`).
fn ptrace_pythons() -> Vec<Python> {
    pythons()
        .into_iter()
        .filter(|p| p.version < (3, 14))
        .collect()
}

fn start_blocked(python: &Python, wait: &str, extra: &[&str]) -> (Service, u16) {
    let mut command = Command::new(&python.path);
    command
        .arg(python_testdata().join("service_blocked.py"))
        .arg(wait)
        .args(extra);
    let (service, ready) = Service::start_with_ready(command);
    let port = ready["port"].as_u64().expect("the service names its port") as u16;
    (service, port)
}

/// What a connection to `service_blocked.py accept` answers.
fn ask_over_socket(port: u16) -> serde_json::Value {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to the service");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut line = String::new();
    stream
        .read_to_string(&mut line)
        .expect("the service answers");
    heapgraph_e2e::parse_strict(line.as_bytes()).expect("one JSON line")
}

#[test]
fn a_main_thread_waiting_in_c_for_minutes_is_dumped_where_it_waits() {
    let scratch = Scratch::new("dump-pid-blocked");
    for python in ptrace_pythons() {
        let v = python.label();
        for (wait, reached) in [
            ("sleep", "run at once: its main thread was waiting in"),
            ("select", "run at once: its main thread was waiting in"),
            (
                "accept",
                "run at once: its main thread was waiting in accept",
            ),
            ("lock", "its main thread's wait on a lock was ended early"),
        ] {
            eprintln!("Python {v}: main thread waiting in {wait}");
            let (mut service, port) = start_blocked(&python, wait, &[]);
            let out = scratch.0.join(format!("{wait}-{v}.hgd"));
            let output = heapgraph(&[
                "dump",
                "--pid",
                &service.pid.to_string(),
                "-o",
                out.to_str().unwrap(),
                "--timeout",
                "5",
            ]);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(output.status.success(), "Python {v} in {wait}: {stderr}");
            assert!(
                stderr.contains(reached),
                "Python {v} in {wait}: reached where it waits: {stderr}"
            );
            assert_eq!(
                instances(&out, "__main__.Held"),
                1234,
                "Python {v} in {wait}: the dump holds what the service holds"
            );
            std::thread::sleep(Duration::from_millis(300));
            assert!(
                service.is_running(),
                "Python {v} in {wait}: the service keeps waiting where it was"
            );
            if wait == "accept" {
                assert_eq!(ask_over_socket(port)["held"], 1234, "Python {v}");
                assert_eq!(ask_over_socket(port)["held"], 1234, "Python {v}");
            }
            assert!(service.is_running(), "Python {v} in {wait}");
        }
    }
}

#[test]
fn a_main_thread_in_c_code_that_keeps_the_gil_gets_a_timeout_and_keeps_running() {
    let python = &ptrace_pythons()[0];
    let (mut waiter, port) = start_blocked(python, "held", &[]);
    let scratch = Scratch::new("dump-pid-timeout");
    let out = scratch.0.join("never.hgd");
    let output = heapgraph(&[
        "dump",
        "--pid",
        &waiter.pid.to_string(),
        "-o",
        out.to_str().unwrap(),
        "--timeout",
        "1",
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("did not reach a safe point"), "{stderr}");
    assert!(waiter.is_running(), "the target keeps running");
    TcpStream::connect(("127.0.0.1", port)).expect("its socket still takes connections");
    assert!(!out.exists());
    let leftovers: Vec<_> = std::fs::read_dir(&scratch.0).unwrap().collect();
    assert!(
        leftovers.is_empty(),
        "the hand-over directory is removed: {leftovers:?}"
    );
}

#[test]
fn a_target_that_exits_while_heapgraph_waits_is_reported() {
    let python = &ptrace_pythons()[0];
    let (service, _) = start_blocked(python, "held", &["1.5"]);
    let pid = service.pid;
    let scratch = Scratch::new("dump-pid-exits");
    let out = scratch.0.join("gone.hgd");
    let started = std::time::Instant::now();
    let output = heapgraph(&[
        "dump",
        "--pid",
        &pid.to_string(),
        "-o",
        out.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("pid {pid} exited")),
        "the error says the target exited: {stderr}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "heapgraph noticed at once, not at its timeout"
    );
    assert!(!out.exists());
}

#[test]
fn ptrace_refused_is_explained_and_leaves_the_target_untouched() {
    let python = &ptrace_pythons()[0];
    let (mut service, port) = start_blocked(python, "accept", &[]);
    let scratch = Scratch::new("dump-pid-refused");
    assert_dump_refused_to_nobody(env!("CARGO_BIN_EXE_heapgraph"), service.pid, &scratch.0);
    assert!(service.is_running());
    assert_eq!(ask_over_socket(port)["held"], 1234);
}

#[test]
fn a_python_without_cpython_symbols_is_refused_untouched() {
    // a program named like CPython that exports none of its functions
    let stderr = dump_of_impostor_refused("python3.11");
    assert!(
        stderr.contains("cannot be dumped") && stderr.contains("Py_AddPendingCall"),
        "{stderr}"
    );
}

#[test]
fn a_process_of_no_runtime_heapgraph_dumps_is_refused_by_name() {
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
        stderr.contains(&format!("pid {}", sleep.id()))
            && stderr.contains("cannot be dumped")
            && stderr.contains("CPython 3.8+, a HotSpot JVM, Node.js"),
        "{stderr}"
    );
}

#[test]
fn a_missing_process_is_named() {
    let output = heapgraph(&["dump", "--pid", "4000000000"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no process with pid 4000000000"));
}
