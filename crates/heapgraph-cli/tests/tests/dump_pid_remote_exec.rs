//! `heapgraph dump --pid` on CPython 3.14 and 3.15, through PEP 768's remote execution done by heapgraph
//! itself. The services run in the Debian unstable chroot made by `testdata/python/make_sid_chroot.sh`
//! (`HEAPGRAPH_SID_CHROOT`, default /opt/heapgraph-sid): their files are reached through /proc/PID/root,
//! as a container's are, the request must be placed where they can open it, and no Python 3.14 runs on
//! heapgraph's side.

use crate::util::heapgraph_command;
use heapgraph_e2e::service::{assert_dump_refused_to_nobody, cache_entries, instances, Service};
use heapgraph_e2e::{python_testdata, Scratch};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn chroot_dir() -> PathBuf {
    PathBuf::from(
        std::env::var_os("HEAPGRAPH_SID_CHROOT").unwrap_or_else(|| "/opt/heapgraph-sid".into()),
    )
}

/// The chroot, with its `python3.MINOR`; a missing one fails the test with what to run.
fn chroot_with(minor: u32) -> PathBuf {
    let root = chroot_dir();
    let python = root.join(format!("usr/bin/python3.{minor}"));
    assert!(
        python.exists(),
        "{} is missing: make the chroot with testdata/python/make_sid_chroot.sh (as root)",
        python.display()
    );
    root
}

/// A copy of a service script of testdata/python in the chroot's /tmp, removed on drop.
struct ServiceScript {
    on_host: PathBuf,
    in_root: String,
}

impl ServiceScript {
    /// `service_growing.py`.
    fn new(root: &Path, tag: &str) -> ServiceScript {
        ServiceScript::of(root, tag, "service_growing.py")
    }

    fn of(root: &Path, tag: &str, file: &str) -> ServiceScript {
        let in_root = format!("/tmp/heapgraph-test-{}-{tag}.py", std::process::id());
        let on_host = root.join(in_root.trim_start_matches('/'));
        std::fs::copy(python_testdata().join(file), &on_host)
            .unwrap_or_else(|e| panic!("copy the service into {}: {e}", on_host.display()));
        ServiceScript { on_host, in_root }
    }
}

impl Drop for ServiceScript {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.on_host);
    }
}

/// Starts `python3.MINOR ARGS... script` in the chroot. `chroot` execs the interpreter, so the service's
/// pid is the child's.
fn start_in_chroot(
    root: &Path,
    minor: u32,
    args: &[&str],
    env: &[(&str, &str)],
    script: &ServiceScript,
) -> Service {
    Service::start(chroot_command(root, minor, args, env, script, &[]))
}

/// `chroot ROOT python3.MINOR ARGS... SCRIPT SCRIPT_ARGS...` with `env` added.
fn chroot_command(
    root: &Path,
    minor: u32,
    args: &[&str],
    env: &[(&str, &str)],
    script: &ServiceScript,
    script_args: &[&str],
) -> Command {
    let mut command = Command::new("chroot");
    command
        .arg(root)
        .arg(format!("python3.{minor}"))
        .args(args)
        .arg(&script.in_root)
        .args(script_args)
        .envs(env.iter().copied());
    command
}

/// Starts `python3.MINOR script` in the chroot and in a mount namespace of its own with /proc mounted
/// there, as in a container: heapgraph sees neither that /proc nor anything else mounted for it. `unshare`,
/// `sh` and `chroot` each exec the next, so the service's pid is the child's.
fn start_in_namespace(root: &Path, minor: u32, script: &ServiceScript) -> Service {
    let mut command = Command::new("unshare");
    command
        .args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg(format!(
            "mount -t proc proc '{}/proc' && exec chroot '{}' python3.{minor} '{}'",
            root.display(),
            root.display(),
            script.in_root
        ));
    Service::start(command)
}

fn dump_pid(pid: u32, out: &Path, extra: &[&str]) -> Output {
    heapgraph_command()
        .args(["dump", "--pid", &pid.to_string(), "-o"])
        .arg(out)
        .args(["--json", "--timeout", "20"])
        .args(extra)
        .output()
        .expect("run heapgraph")
}

fn dumped(output: &Output, what: &str) -> serde_json::Value {
    assert!(
        output.status.success(),
        "{what} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    heapgraph_e2e::parse_strict(&output.stdout).expect("--json prints JSON")
}

/// Hand-over directories left in the chroot's /tmp by a dump of `pid`.
fn handoffs_left(root: &Path, pid: u32) -> Vec<String> {
    let prefix = format!(".heapgraph-attach-{pid}-");
    std::fs::read_dir(root.join("tmp"))
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|n| n.starts_with(&prefix))
                .collect()
        })
        .unwrap_or_default()
}

/// Dumps a 3.14 and a 3.15 service started by `start`, written in place, then the default way (a
/// child forked at the safe point writes it), each checked against what gc counted, and checks that
/// they keep answering and that nothing is left in the chroot.
fn dump_both_versions(tag: &str, start: impl Fn(&Path, u32, &ServiceScript) -> Service) {
    let scratch = Scratch::new(tag);
    for minor in [14, 15] {
        let root = chroot_with(minor);
        let script = ServiceScript::new(&root, &format!("{tag}-3{minor}"));
        let mut service = start(&root, minor, &script);
        let v = format!("3.{minor}");

        assert_eq!(service.ask("grow 1000")["cache"], 1000);
        let before = service.ask("count")["CacheEntry"].as_u64().unwrap();
        let first_out = scratch.0.join(format!("in-place-{v}.hgd"));
        let first = dumped(
            &dump_pid(service.pid, &first_out, &["--no-fork"]),
            &format!("Python {v}: dump --pid --no-fork"),
        );
        assert_eq!(
            first["runtime"]
                .as_str()
                .map(|r| r.starts_with(&format!("CPython {v}."))),
            Some(true),
            "Python {v}: {first}"
        );
        assert!(
            first["paused_seconds"].as_f64().is_some_and(|s| s > 0.0),
            "Python {v}: the pause is reported: {first}"
        );
        assert_eq!(
            cache_entries(&first_out),
            before,
            "Python {v}: the dump written in place holds what gc counted"
        );
        assert_eq!(
            service.ask("ping")["pong"],
            true,
            "Python {v}: answers after a dump"
        );

        assert_eq!(service.ask("grow 2500")["cache"], 3500);
        let after = service.ask("count")["CacheEntry"].as_u64().unwrap();
        let second_out = scratch.0.join(format!("default-{v}.hgd"));
        dumped(
            &dump_pid(service.pid, &second_out, &[]),
            &format!("Python {v}: dump --pid"),
        );
        assert_eq!(
            cache_entries(&second_out),
            after,
            "Python {v}: the second dump holds what gc counted"
        );

        assert_eq!(
            service.ask("ping")["pong"],
            true,
            "Python {v}: answers after two dumps"
        );
        assert!(service.is_running(), "Python {v}: still running");
        assert_eq!(
            handoffs_left(&root, service.pid),
            Vec::<String>::new(),
            "Python {v}: no hand-over directory is left in the chroot"
        );
        assert!(
            service.finish(Duration::from_secs(10)),
            "Python {v}: the service exits cleanly"
        );
    }
}

#[test]
fn services_on_3_14_and_3_15_in_a_chroot_are_dumped_and_keep_answering() {
    dump_both_versions("remote-exec-chroot", |root, minor, script| {
        start_in_chroot(root, minor, &[], &[], script)
    });
}

#[test]
fn services_on_3_14_and_3_15_in_a_mount_namespace_are_dumped_and_keep_answering() {
    dump_both_versions("remote-exec-namespace", start_in_namespace);
}

#[test]
fn a_target_with_remote_debugging_disabled_gets_a_clear_error_and_keeps_running() {
    let scratch = Scratch::new("dump-pid-remote-exec-disabled");
    // the minor version, its options, its environment
    type Way<'a> = (u32, &'a [&'a str], &'a [(&'a str, &'a str)]);
    let ways: [Way; 2] = [
        (14, &[], &[("PYTHON_DISABLE_REMOTE_DEBUG", "1")]),
        (15, &["-X", "disable-remote-debug"], &[]),
    ];
    for (minor, args, env) in ways {
        let root = chroot_with(minor);
        let script = ServiceScript::new(&root, &format!("disabled-3{minor}"));
        let mut service = start_in_chroot(&root, minor, args, env, &script);
        let out = scratch.0.join(format!("never-3.{minor}.hgd"));
        let output = dump_pid(service.pid, &out, &[]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "Python 3.{minor}: {stderr}");
        assert!(
            stderr.contains("remote debugging is disabled")
                && stderr.contains("PYTHON_DISABLE_REMOTE_DEBUG")
                && stderr.contains("-X disable-remote-debug"),
            "Python 3.{minor}: the error says why and what to change: {stderr}"
        );
        assert!(!out.exists(), "Python 3.{minor}: no dump");
        assert_eq!(
            service.ask("ping")["pong"],
            true,
            "Python 3.{minor}: keeps answering"
        );
        assert!(service.is_running());
        assert_eq!(handoffs_left(&root, service.pid), Vec::<String>::new());
        assert!(service.finish(Duration::from_secs(10)));
    }
}

#[test]
fn a_target_heapgraph_may_not_trace_is_explained_and_keeps_running() {
    let root = chroot_with(14);
    let script = ServiceScript::new(&root, "refused-314");
    let mut service = start_in_chroot(&root, 14, &[], &[], &script);
    let scratch = Scratch::new("dump-pid-remote-exec-refused");
    assert_dump_refused_to_nobody(env!("CARGO_BIN_EXE_heapgraph"), service.pid, &scratch.0);
    assert_eq!(service.ask("ping")["pong"], true);
    assert!(service.is_running());
}

#[test]
fn a_program_named_python3_14_without_the_runtime_is_refused_untouched() {
    let scratch = Scratch::new("dump-pid-remote-exec-no-runtime");
    // a program named like CPython 3.14 that has no _PyRuntime
    let fake = scratch.0.join("python3.14");
    std::fs::copy("/bin/sleep", &fake).unwrap();
    let mut sleeper = Command::new(&fake).arg("60").spawn().unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let output = dump_pid(sleeper.id(), &scratch.0.join("x.hgd"), &[]);
    let alive = sleeper.try_wait().unwrap().is_none();
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("defines _PyRuntime"), "{stderr}");
    assert!(alive, "the program was not touched");
}

#[test]
fn a_request_the_main_thread_never_took_is_taken_back_and_never_runs() {
    let root = chroot_with(14);
    let script = ServiceScript::new(&root, "late-314");
    std::fs::write(
        &script.on_host,
        "import ctypes, json, os, sys, time\n\
         print(json.dumps({'ready': os.getpid()}), flush=True)\n\
         ctypes.PyDLL(None).sleep(3)  # C code keeping the GIL: no way in\n\
         sum(range(1000))\n\
         time.sleep(0.5)\n",
    )
    .unwrap();
    let scratch = Scratch::new("dump-pid-remote-exec-late");
    let mut sleeper = Command::new("chroot")
        .arg(&root)
        .arg("python3.14")
        .arg(&script.in_root)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut ready = String::new();
    BufReader::new(sleeper.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    let out = scratch.0.join("late.hgd");
    let output = heapgraph_command()
        .args([
            "dump",
            "--pid",
            &sleeper.id().to_string(),
            "--timeout",
            "1",
            "-o",
        ])
        .arg(&out)
        .output()
        .expect("run heapgraph");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("did not reach a safe point"), "{stderr}");
    let finished = sleeper.wait_with_output().unwrap();
    let its_stderr = String::from_utf8_lossy(&finished.stderr);
    assert!(finished.status.success(), "{its_stderr}");
    assert!(
        its_stderr.is_empty(),
        "the withdrawn request never runs once the thread wakes: {its_stderr}"
    );
    assert!(!out.exists());
}

#[test]
fn a_main_thread_waiting_in_accept_or_on_a_lock_is_reached_through_ptrace() {
    for minor in [14, 15] {
        let root = chroot_with(minor);
        for wait in ["accept", "lock"] {
            let script =
                ServiceScript::of(&root, &format!("{wait}-3{minor}"), "service_blocked.py");
            let (mut service, _) =
                Service::start_with_ready(chroot_command(&root, minor, &[], &[], &script, &[wait]));
            let scratch = Scratch::new(&format!("dump-pid-blocked-3{minor}-{wait}"));
            let out = scratch.0.join("blocked.hgd");
            let output = dump_pid(service.pid, &out, &[]);
            let report = dumped(&output, &format!("3.{minor} waiting in {wait}"));
            let reached = report["reached"].as_str().unwrap_or("");
            assert!(
                reached.contains("run at once") || reached.contains("wait on a lock"),
                "3.{minor} in {wait}: reached through ptrace: {report}"
            );
            assert_eq!(
                instances(&out, "__main__.Held"),
                1234,
                "3.{minor} in {wait}"
            );
            std::thread::sleep(Duration::from_millis(300));
            assert!(service.is_running(), "3.{minor} in {wait}: keeps waiting");
            assert_eq!(
                handoffs_left(&root, service.pid),
                Vec::<String>::new(),
                "3.{minor} in {wait}"
            );
        }
    }
}
