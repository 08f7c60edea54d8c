//! `heapgraph dump --pid` on running Node.js servers (`testdata/v8/attach_target.js`), through the V8
//! inspector opened with SIGUSR1: the snapshot holds every object the server holds, as many as a snapshot
//! Node writes itself; the server answers HTTP requests during and after the dump; no inspector port stays
//! open; a port taken by someone else, and a process that would die of SIGUSR1, are refused untouched.

use crate::util::{dump_of_impostor_refused, heapgraph, json_of};
use heapgraph_e2e::service::Service;
use heapgraph_e2e::v8::v8_testdata;
use heapgraph_e2e::Scratch;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

const HELD: u64 = 4000;

fn start_node(node_options: &[&str]) -> (Service, u16) {
    let mut command = Command::new("node");
    command
        .args(node_options)
        .arg(v8_testdata().join("attach_target.js"))
        .arg(HELD.to_string());
    let (service, ready) = Service::start_with_ready(command);
    let port = ready["port"].as_u64().expect("the server names its port") as u16;
    (service, port)
}

/// Instances of `class` in the snapshot at `dump`, as `heapgraph types` counts them.
fn count(dump: &Path, class: &str) -> u64 {
    let report = json_of(&["types", dump.to_str().unwrap(), "--json", "--top", "0"]);
    report["rows"]
        .as_array()
        .expect("types --json has rows")
        .iter()
        .find(|r| r["type_name"] == class)
        .map_or(0, |r| r["count"].as_u64().unwrap())
}

fn dump(pid: u32, out: &Path) -> serde_json::Value {
    let pid = pid.to_string();
    json_of(&["dump", "--pid", &pid, "-o", out.to_str().unwrap(), "--json"])
}

/// One HTTP request to the server; its `held` count.
fn ask_http(port: u16) -> u64 {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to the server");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    stream
        .write_all(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("an answer");
    let body = answer.split("\r\n\r\n").nth(1).expect("a body");
    heapgraph_e2e::parse_strict(body.as_bytes()).unwrap()["held"]
        .as_u64()
        .unwrap()
}

fn port_open(port: u16) -> bool {
    TcpStream::connect(("127.0.0.1", port)).is_ok()
}

#[test]
fn a_running_node_server_is_dumped_by_pid_keeps_answering_and_no_inspector_stays_open() {
    assert!(
        !port_open(9229),
        "port 9229, where Node opens its inspector, must be free for this test"
    );
    let scratch = Scratch::new("dump-pid-node");
    let (mut node, port) = start_node(&[]);

    // requests all along the dump, each answered (those in the snapshot's pause once it is over)
    let stop = Arc::new(AtomicBool::new(false));
    let asking = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut answered = 0;
            while !stop.load(Ordering::Relaxed) {
                assert_eq!(ask_http(port), HELD);
                answered += 1;
            }
            answered
        })
    };
    let out = scratch.0.join("server.heapsnapshot");
    let report = dump(node.pid, &out);
    stop.store(true, Ordering::Relaxed);
    assert!(asking.join().expect("every request answered") > 0);

    assert!(
        report["runtime"].as_str().unwrap().starts_with("Node.js v"),
        "{report}"
    );
    assert_eq!(report["summary"]["inspector"], "127.0.0.1:9229", "{report}");
    assert_eq!(report["summary"]["inspector_left_open"], false, "{report}");
    assert!(report["paused_seconds"].as_f64().unwrap() > 0.0, "{report}");
    assert!(!port_open(9229), "the inspector is closed again");
    assert_eq!(ask_http(port), HELD, "the server answers after the dump");

    // every object it holds, as many as in a snapshot Node writes itself
    let own = scratch.0.join("own.heapsnapshot");
    let written = node.ask(&format!("snapshot {}", own.display()));
    assert_eq!(written["snapshot"], own.to_str().unwrap());
    for class in ["Held", "Leaf"] {
        assert_eq!(count(&out, class), HELD, "{class}");
        assert_eq!(count(&out, class), count(&own, class), "{class}");
    }

    // the inspector opens again for a second dump, which sees the growth, gzipped as its name says
    assert_eq!(node.ask("grow 1000")["held"], HELD + 1000);
    let again = scratch.0.join("grown.heapsnapshot.gz");
    dump(node.pid, &again);
    assert_eq!(&std::fs::read(&again).unwrap()[..2], b"\x1f\x8b", "gzip");
    assert_eq!(count(&again, "Held"), HELD + 1000);
    assert!(!port_open(9229));
    assert_eq!(node.ask("ping")["pong"], true);
    assert!(node.finish(Duration::from_secs(10)), "it exits cleanly");
}

#[test]
fn dump_after_dump_the_inspector_opens_and_closes_and_the_process_lives_on() {
    let scratch = Scratch::new("dump-pid-node-again");
    let (mut node, port) = start_node(&["--inspect-port=9339"]);
    for round in 0..8 {
        let out = scratch.0.join(format!("{round}.heapsnapshot"));
        let report = dump(node.pid, &out);
        assert_eq!(report["summary"]["inspector_left_open"], false, "{report}");
        assert!(!port_open(9339), "round {round}: the inspector is closed");
        assert_eq!(ask_http(port), HELD, "round {round}: the server answers");
        assert!(node.is_running(), "round {round}");
    }
    assert!(node.finish(Duration::from_secs(10)), "it exits cleanly");
}

#[test]
fn an_inspector_already_open_is_used_and_left_open() {
    let scratch = Scratch::new("dump-pid-node-open");
    let (mut node, _) = start_node(&["--inspect=127.0.0.1:9338"]);
    let out = scratch.0.join("open.heapsnapshot");
    let report = dump(node.pid, &out);
    assert!(
        report["reached"]
            .as_str()
            .unwrap()
            .contains("already open, left open"),
        "{report}"
    );
    assert_eq!(report["summary"]["inspector_left_open"], true);
    assert_eq!(count(&out, "Held"), HELD);
    assert!(port_open(9338), "it was open before: it stays open");
    assert_eq!(node.ask("ping")["pong"], true);
}

#[test]
fn an_inspector_port_taken_by_another_process_is_refused_untouched() {
    let scratch = Scratch::new("dump-pid-node-taken");
    let squatter = TcpListener::bind("127.0.0.1:9337").expect("port 9337 free for this test");
    let (mut node, _) = start_node(&["--inspect-port=9337"]);
    let out = scratch.0.join("never.heapsnapshot");
    let output = heapgraph(&[
        "dump",
        "--pid",
        &node.pid.to_string(),
        "-o",
        out.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("port 9337")
            && stderr.contains(&format!("is taken by pid {}", std::process::id())),
        "{stderr}"
    );
    assert!(!out.exists());
    assert_eq!(node.ask("ping")["pong"], true, "it was not signalled");
    drop(squatter);
}

#[test]
fn a_node_that_would_die_of_sigusr1_is_refused_untouched() {
    // a program named node that does not handle SIGUSR1, as Node started with --disable-sigusr1
    let stderr = dump_of_impostor_refused("node");
    assert!(
        stderr.contains("does not handle SIGUSR1") && stderr.contains("--disable-sigusr1"),
        "{stderr}"
    );
}

#[test]
fn the_help_names_every_runtime_and_warns_of_the_open_inspector() {
    let help = crate::util::ok(&["dump", "--help"]);
    for needle in [
        "CPython 3.8+",
        "HotSpot JVM",
        "Node.js",
        "ANY LOCAL USER can connect",
    ] {
        assert!(help.contains(needle), "{needle}: {help}");
    }
}

#[test]
fn a_node_in_another_network_namespace_is_refused_with_the_way_in() {
    let mut contained = Command::new("unshare")
        .args(["--net", "node", "-e", "setInterval(() => {}, 1000)"])
        .spawn()
        .expect("run unshare (util-linux)");
    // unshare runs node in its own process: wait for the exec
    let pid = contained.id();
    let started = std::time::Instant::now();
    while std::fs::read_link(format!("/proc/{pid}/exe"))
        .map_or(true, |exe| !exe.to_string_lossy().contains("node"))
    {
        assert!(started.elapsed() < Duration::from_secs(10), "node started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = heapgraph(&["dump", "--pid", &pid.to_string(), "-o", "/nonexistent/x"]);
    let alive = contained.try_wait().unwrap().is_none();
    let _ = contained.kill();
    let _ = contained.wait();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("another network namespace")
            && stderr.contains(&format!("nsenter -t {pid} -n heapgraph dump --pid {pid}")),
        "{stderr}"
    );
    assert!(alive, "it was not signalled");
}
