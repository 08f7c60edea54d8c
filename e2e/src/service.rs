//! A long-running fixture process driven over stdin/stdout, one JSON answer per line, with every wait
//! bounded so that a wedged process fails the test instead of hanging it.

use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

/// Longest wait for one answer.
const ANSWER_LIMIT: Duration = Duration::from_secs(60);

/// A running fixture service; killed on drop.
pub struct Service {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    pub pid: u32,
}

impl Service {
    /// Starts `command` (stdin and stdout piped) and waits for its first line, `{"ready": PID}`.
    pub fn start(command: Command) -> Service {
        Service::start_with_ready(command).0
    }

    /// [`Service::start`], also returning the first line, which may say more than the pid.
    pub fn start_with_ready(mut command: Command) -> (Service, Value) {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
        let stdin = child.stdin.take().expect("piped");
        let stdout = child.stdout.take().expect("piped");
        let (sender, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    return;
                }
            }
        });
        let mut service = Service {
            pid: child.id(),
            child,
            stdin: Some(stdin),
            lines,
        };
        let ready = service.answer();
        assert_eq!(
            ready["ready"].as_u64(),
            Some(service.pid as u64),
            "first line: {ready}"
        );
        (service, ready)
    }

    /// Sends one command and returns its answer.
    pub fn ask(&mut self, command: &str) -> Value {
        let stdin = self.stdin.as_mut().expect("stdin open until finish");
        writeln!(stdin, "{command}").expect("service stdin");
        stdin.flush().expect("service stdin");
        self.answer()
    }

    fn answer(&mut self) -> Value {
        let line = self
            .lines
            .recv_timeout(ANSWER_LIMIT)
            .unwrap_or_else(|e| panic!("service {} did not answer: {e}", self.pid));
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("bad answer {line:?}: {e}"))
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Closes stdin (the service's signal to exit) and waits for it, at most `limit`.
    pub fn finish(mut self, limit: Duration) -> bool {
        drop(self.stdin.take());
        let started = std::time::Instant::now();
        while started.elapsed() < limit {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Instances of `service_growing.py`'s `__main__.CacheEntry` in the dump at `dump`, as heapgraph counts them.
pub fn cache_entries(dump: &std::path::Path) -> u64 {
    instances(dump, "__main__.CacheEntry")
}

/// Instances of `type_name` in the dump at `dump`, as heapgraph counts them.
pub fn instances(dump: &std::path::Path, type_name: &str) -> u64 {
    let loaded = heapgraph_formats::load(dump, &heapgraph_formats::NoProgress)
        .unwrap_or_else(|e| panic!("{}: {e}", dump.display()));
    heapgraph_analysis::Histogram::compute(&loaded.graph)
        .rows
        .iter()
        .find(|r| r.type_name == type_name)
        .map_or(0, |r| r.count)
}

/// Runs `heapgraph dump --pid PID` as user nobody, which may not trace a root-owned `pid`, and checks
/// that it is refused with the advice to run as the target's user or root, and that no dump was left.
/// Needs root (CI runs as root) to start heapgraph as another user.
pub fn assert_dump_refused_to_nobody(heapgraph: &str, pid: u32, scratch: &std::path::Path) {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    use std::os::unix::process::CommandExt;
    assert_eq!(
        std::fs::metadata("/proc/self").unwrap().uid(),
        0,
        "this test runs heapgraph as another user, which needs root (CI runs as root)"
    );
    std::fs::set_permissions(scratch, std::fs::Permissions::from_mode(0o777)).unwrap();
    let out = scratch.join("refused.hgd");
    let output = Command::new(heapgraph)
        .args(["dump", "--pid", &pid.to_string(), "-o"])
        .arg(&out)
        .uid(65534)
        .gid(65534)
        .output()
        .expect("run heapgraph as nobody");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("not permitted to trace")
            && stderr.contains("Run heapgraph as the target's user or as root"),
        "{stderr}"
    );
    assert!(!out.exists());
}
