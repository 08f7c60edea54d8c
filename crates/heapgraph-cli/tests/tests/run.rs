//! `heapgraph run`: a growing Python service started with the dumper preloaded, dumped on a signal and at
//! exit, under every CPython 3.8+ here; the dumps sort in the order they were taken.

use crate::util::{dumps_in, heapgraph, json_of};
use heapgraph_e2e::service::{cache_entries, Service};
use heapgraph_e2e::{pythons, Scratch};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

#[test]
fn run_dumps_on_a_signal_and_at_exit_in_order() {
    for python in pythons() {
        let v = python.label();
        // heapgraph runs where the interpreter does (in its chroot, if any), which sees the output there
        let scratch = python.scratch("run");
        let dir = scratch.0.join(&v);
        let mut command = python.command_of(Path::new(env!("CARGO_BIN_EXE_heapgraph")));
        command
            .args(["run", "--dump-on", "usr1", "--at-exit", "-o"])
            .arg(python.guest(&dir))
            .arg("--")
            .arg(python.guest(&python.path))
            .arg(python.testdata().join("service_growing.py"));
        let mut service = Service::start(command);
        assert_eq!(service.ask("grow 1000")["cache"], 1000);
        let kill = Command::new("kill")
            .args(["-USR1", &service.pid.to_string()])
            .status()
            .expect("run kill");
        assert!(kill.success());
        // the handler runs in the main thread before it reads the next command: after the answer, the
        // dump is complete
        assert_eq!(service.ask("ping")["pong"], true);
        assert_eq!(
            dumps_in(&dir).len(),
            1,
            "Python {v}: one dump after the signal"
        );
        assert_eq!(service.ask("grow 2000")["cache"], 3000);
        assert!(
            service.finish(Duration::from_secs(60)),
            "Python {v}: exits cleanly"
        );

        let dumps = dumps_in(&dir);
        assert_eq!(
            dumps.len(),
            2,
            "Python {v}: signal and exit dumps: {dumps:?}"
        );
        let name = dumps[0].file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with("heap-") && name.contains("-0001-"),
            "{name}"
        );
        assert_eq!(
            cache_entries(&dumps[0]),
            1000,
            "Python {v}: first dump, on the signal"
        );
        assert_eq!(
            cache_entries(&dumps[1]),
            3000,
            "Python {v}: last dump, at exit"
        );
        // Preloaded at startup, the dumper's layout self-tests pass as they do when imported later.
        for dump in &dumps {
            let info = json_of(&["info", "--json", "--no-index", dump.to_str().unwrap()]);
            assert_eq!(info["warnings"], serde_json::json!([]), "Python {v}");
        }
    }
}

#[test]
fn run_needs_a_trigger_and_a_known_signal() {
    let scratch = Scratch::new("run-args");
    let dir = scratch.0.to_str().unwrap();
    let none = heapgraph(&["run", "-o", dir, "--", "true"]);
    assert_eq!(none.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&none.stderr).contains("say when to dump"));
    let kill = heapgraph(&["run", "--dump-on", "KILL", "-o", dir, "--", "true"]);
    assert!(String::from_utf8_lossy(&kill.stderr).contains("choose one of SIGUSR1"));
}
