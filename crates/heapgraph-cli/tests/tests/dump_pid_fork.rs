//! `heapgraph dump --pid` by fork: the target forks at the safe point and a child writes the dump. On real
//! services under every CPython 3.8+ here: the dump holds what gc counted, the service keeps answering,
//! gets nothing on its stderr, is left no child, and none of its exit or signal hooks runs in the child;
//! `--no-fork` still dumps in place; the report says which way was used.

use crate::util::{heapgraph, heapgraph_command};
use heapgraph_e2e::service::{cache_entries, Service};
use heapgraph_e2e::{python_testdata, pythons, Python, Scratch};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The interpreters that run on this machine as they are (one in a chroot needs its paths translated,
/// which these tests do not do).
fn local_pythons() -> Vec<Python> {
    let local: Vec<Python> = pythons()
        .into_iter()
        .filter(|p| {
            Command::new(&p.path)
                .args(["-c", "pass"])
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .collect();
    assert!(!local.is_empty(), "no CPython runs here");
    local
}

/// `script` under `python`, its stderr going to `stderr`, every warning shown (as `-W default` or
/// `-X dev` would show them in production: by default a warning raised outside `__main__` is not).
fn start(python: &Python, script: &str, args: &[&Path], stderr: &Path) -> Service {
    let mut command = Command::new(&python.path);
    command
        .args(["-W", "default"])
        .arg(python_testdata().join(script))
        .args(args)
        .stderr(std::fs::File::create(stderr).expect("service stderr file"));
    Service::start(command)
}

fn dump_json(pid: u32, out: &Path, extra: &[&str]) -> serde_json::Value {
    let pid_arg = pid.to_string();
    let mut args = vec!["dump", "--pid", &pid_arg];
    args.extend(["-o", out.to_str().expect("utf-8 path"), "--json"]);
    args.extend(extra);
    let output = heapgraph(&args);
    assert!(
        output.status.success(),
        "dump --pid {pid} {extra:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    heapgraph_e2e::parse_strict(&output.stdout).expect("--json prints JSON")
}

/// The pids whose parent is `pid`, from /proc/*/stat (zombies included).
fn children_of(pid: u32) -> Vec<u32> {
    let mut children = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let parent = stat
            .rsplit_once(") ")
            .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok());
        if parent == Some(pid) {
            children.push(child);
        }
    }
    children
}

/// Waits up to `limit` for `pid` to be gone from /proc (exited and reaped).
fn gone_within(pid: u64, limit: Duration) -> bool {
    let started = Instant::now();
    while started.elapsed() < limit {
        if !Path::new(&format!("/proc/{pid}")).exists() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

#[test]
fn a_dump_by_fork_holds_what_gc_counted_and_leaves_the_service_as_it_was() {
    let scratch = Scratch::new("dump-pid-fork");
    for python in local_pythons() {
        let v = python.label();
        eprintln!("dumping service_growing.py by fork under Python {v}");
        let stderr = scratch.0.join(format!("stderr-{v}.txt"));
        let mut service = start(&python, "service_growing.py", &[], &stderr);
        assert_eq!(service.ask("grow 3000")["cache"], 3000);
        let counted = service.ask("count")["CacheEntry"].as_u64().unwrap();
        let out = scratch.0.join(format!("fork-{v}.hgd"));
        let report = dump_json(service.pid, &out, &[]);

        assert_eq!(report["way"], "fork", "Python {v}: {report}");
        assert_eq!(report["in_place_because"], serde_json::Value::Null);
        let child = report["child"]["pid"].as_u64().expect("the child's pid");
        assert_ne!(child, u64::from(service.pid));
        assert!(
            report["child"]["private_bytes"]
                .as_u64()
                .is_some_and(|b| b > 0),
            "Python {v}: the child's own memory is reported: {report}"
        );
        assert_eq!(report["child"]["target_alive_after"], true);
        assert!(
            report["paused_seconds"].as_f64().is_some_and(|s| s > 0.0),
            "Python {v}: {report}"
        );
        assert_eq!(
            cache_entries(&out),
            counted,
            "Python {v}: the dump holds what gc counted"
        );
        let info = heapgraph(&["info", out.to_str().unwrap()]);
        assert!(
            String::from_utf8_lossy(&info.stdout).contains(&format!("(pid {})", service.pid)),
            "Python {v}: the dump names the service, not the child: {}",
            String::from_utf8_lossy(&info.stdout)
        );

        assert_eq!(service.ask("grow 500")["cache"], 3500);
        assert_eq!(service.ask("ping")["pong"], true, "Python {v}: answers");
        assert!(
            gone_within(child, Duration::from_secs(10)),
            "Python {v}: the dumping process {child} exited and was reaped"
        );
        assert_eq!(
            children_of(service.pid),
            Vec::<u32>::new(),
            "Python {v}: the service is left no child, running or zombie"
        );

        // the same again in text form, which names the way too
        let text_out = scratch.0.join(format!("fork-text-{v}.hgd"));
        let output = heapgraph(&[
            "dump",
            "--pid",
            &service.pid.to_string(),
            "-o",
            text_out.to_str().unwrap(),
        ]);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "Python {v}: {output:?}");
        assert!(
            stdout.contains("it forked pid") && stdout.contains("copy-on-write snapshot"),
            "Python {v}: {stdout}"
        );
        assert_eq!(cache_entries(&text_out), 3500, "Python {v}");
        assert_eq!(service.ask("ping")["pong"], true);
        assert!(
            service.finish(Duration::from_secs(10)),
            "Python {v}: exits cleanly"
        );
        let written = std::fs::read_to_string(&stderr).unwrap();
        assert_eq!(
            written, "",
            "Python {v}: nothing reached the service's stderr (no fork warning)"
        );
    }
}

#[test]
fn no_fork_dumps_in_place_and_says_so() {
    let scratch = Scratch::new("dump-pid-no-fork");
    for python in local_pythons() {
        let v = python.label();
        let stderr = scratch.0.join(format!("stderr-{v}.txt"));
        let mut service = start(&python, "service_growing.py", &[], &stderr);
        assert_eq!(service.ask("grow 2000")["cache"], 2000);
        let counted = service.ask("count")["CacheEntry"].as_u64().unwrap();
        let out = scratch.0.join(format!("in-place-{v}.hgd"));
        let report = dump_json(service.pid, &out, &["--no-fork"]);
        assert_eq!(report["way"], "in place", "Python {v}: {report}");
        assert_eq!(report["in_place_because"], "--no-fork");
        assert_eq!(report["child"], serde_json::Value::Null);
        assert_eq!(cache_entries(&out), counted, "Python {v}");
        assert_eq!(service.ask("ping")["pong"], true, "Python {v}: answers");
        assert_eq!(children_of(service.pid), Vec::<u32>::new());
        assert!(service.finish(Duration::from_secs(10)));
        assert_eq!(std::fs::read_to_string(&stderr).unwrap(), "", "Python {v}");
    }
}

#[test]
fn the_dumping_child_runs_none_of_the_services_exit_or_signal_hooks() {
    let scratch = Scratch::new("dump-pid-fork-hooks");
    for python in local_pythons() {
        let v = python.label();
        let dir = scratch.0.join(v.clone());
        std::fs::create_dir(&dir).unwrap();
        let stderr = scratch.0.join(format!("stderr-{v}.txt"));
        let mut service = start(&python, "service_exit_hooks.py", &[&dir], &stderr);
        assert_eq!(service.ask("grow 1000")["cache"], 1000);
        let counted = service.ask("count")["CacheEntry"].as_u64().unwrap();

        // a dump that completes: no atexit hook, no buffer flushed in the child
        let out = scratch.0.join(format!("hooks-{v}.hgd"));
        let report = dump_json(service.pid, &out, &[]);
        assert_eq!(report["way"], "fork", "Python {v}: {report}");
        assert_eq!(cache_entries(&out), counted, "Python {v}");

        // a dump whose child gets SIGTERM: the service's handler must not run there
        assert_eq!(service.ask("grow 300000")["cache"], 301_000);
        let mut dump = heapgraph_command()
            .args(["dump", "--pid", &service.pid.to_string(), "-o"])
            .arg(scratch.0.join(format!("killed-{v}.hgd")))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run heapgraph");
        let mut progress = String::new();
        let mut lines = BufReader::new(dump.stderr.take().unwrap()).lines();
        let child: u32 = loop {
            let line = lines
                .next()
                .unwrap_or_else(|| panic!("Python {v}: no fork reported: {progress}"))
                .unwrap();
            progress += &line;
            progress += "\n";
            if let Some(rest) = line.split_once("forked pid ").map(|(_, r)| r) {
                break rest.split_whitespace().next().unwrap().parse().unwrap();
            }
        };
        let killed = Command::new("kill")
            .args(["-TERM", &child.to_string()])
            .status()
            .unwrap();
        assert!(killed.success(), "Python {v}: kill {child}");
        for line in lines {
            progress += &line.unwrap();
            progress += "\n";
        }
        let status = dump.wait().unwrap();
        assert_eq!(status.code(), Some(1), "Python {v}: {progress}");
        assert!(
            progress.contains(&format!("(pid {child}) ended before it finished")),
            "Python {v}: {progress}"
        );

        assert_eq!(service.ask("ping")["pong"], true, "Python {v}: answers");
        assert_eq!(children_of(service.pid), Vec::<u32>::new(), "Python {v}");
        let pid = service.pid;
        assert!(service.finish(Duration::from_secs(20)), "Python {v}");
        assert_eq!(
            std::fs::read_to_string(dir.join("hooks.log")).unwrap(),
            format!("atexit {pid}\n"),
            "Python {v}: only the service's own exit ran its hook"
        );
        assert_eq!(
            std::fs::read_to_string(dir.join("buffered.log")).unwrap(),
            "written once\n",
            "Python {v}: the service's buffer was written once"
        );
        assert_eq!(std::fs::read_to_string(&stderr).unwrap(), "", "Python {v}");
    }
}
