//! The hand-over directory between heapgraph and a Python target: the dumper, the bootstrap that runs it,
//! the request, and the status the target writes back (protocol in `python/attach_bootstrap.py`).
//!
//! It sits next to the output so that the dump is renamed into place, never copied, and is given to the
//! target's user when heapgraph runs as root, since the target writes in it. A target in another root (a
//! chroot, a container) cannot open that directory, so then it sits in the target's own /tmp, reached
//! through /proc/PID/root, the paths the target is given are its own, and the dump is moved out at the
//! end (copied when the target's root is another filesystem).

use crate::process::{our_uid, Process};
use crate::target_fs;
use crate::{fork, AttachError, Pause, Progress, Way};
use heapgraph_formats::python::{DUMPER_FILE_NAME, DUMPER_SOURCE};
use serde_json::Value;
use std::fs::OpenOptions;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const BOOTSTRAP: &str = include_str!("../python/attach_bootstrap.py");
const BOOTSTRAP_FILE: &str = "attach_bootstrap.py";
const DUMP_FILE: &str = "dump.hgd";

/// What the target reported after a successful dump.
#[derive(Debug)]
pub struct TargetReport {
    /// The dumper's summary: objects, edges, roots, seconds, bytes.
    pub summary: Value,
    /// How long the main thread spent in the request, GIL held nearly all along, and why that long.
    pub paused: Pause,
    /// The target's Python version.
    pub python: String,
}

/// A hand-over directory; removed on drop.
pub struct Handoff {
    dir: PathBuf,
    /// The same directory as the target opens it: `dir` itself unless the target runs in another root.
    there: PathBuf,
    pid: u32,
    /// Why heapgraph asked for the dump in place, when it did not ask for a fork.
    why_in_place: Option<String>,
    /// Whether the target's user may enter every directory above the hand-over directory.
    readable_by_target: bool,
}

impl Handoff {
    pub fn create(
        output: &Path,
        process: &Process,
        collect: bool,
        fork: bool,
    ) -> Result<Handoff, AttachError> {
        let name = format!(".heapgraph-attach-{}-{}", process.pid, std::process::id());
        let shared = target_fs::create_dir_for_target(process, output, &name)?;
        let dir = shared.here;
        let readable_by_target =
            our_uid() == process.uid || dir.parent().is_some_and(enterable_by_others);
        let why_in_place = fork::decide(process.pid, fork).err();
        let handoff = Handoff {
            readable_by_target,
            dir,
            there: shared.there,
            pid: process.pid,
            why_in_place,
        };
        let request = serde_json::json!({
            "output": handoff.there.join(DUMP_FILE),
            "collect": collect,
            "fork": handoff.why_in_place.is_none(),
            "dumper_version": dumper_version(),
        });
        handoff.write(DUMPER_FILE_NAME, DUMPER_SOURCE)?;
        handoff.write(BOOTSTRAP_FILE, BOOTSTRAP)?;
        handoff.write("request.json", &request.to_string())?;
        Ok(handoff)
    }

    fn write(&self, name: &str, text: &str) -> Result<(), AttachError> {
        let path = self.dir.join(name);
        std::fs::write(&path, text).map_err(|e| AttachError::io_path(&path, e))
    }

    /// One Python expression that runs the bootstrap in a fresh namespace, and does nothing once this
    /// directory is gone (a request that runs after heapgraph gave up). It closes the file it reads, or
    /// a service run with `-W default` or `-X dev` would print a ResourceWarning. Its paths are the target's.
    pub fn snippet(&self) -> String {
        let path =
            serde_json::to_string(&self.there.join(BOOTSTRAP_FILE)).expect("a path serializes");
        format!(
            "exec(compile((lambda f: (f.read(), f.close())[0])(open({path}, 'rb')), {path}, 'exec'), \
             {{'__file__': {path}, '__name__': '__heapgraph_attach__'}}) \
             if __import__('os').path.exists({path}) else None"
        )
    }

    /// Writes the snippet as a script file (for PEP 768's remote execution) and returns its path as the
    /// target opens it.
    pub fn snippet_file(&self) -> Result<PathBuf, AttachError> {
        self.write("request.py", &self.snippet())?;
        Ok(self.there.join("request.py"))
    }

    /// Whether the target starts the request within `limit` (it claims it), or exits.
    pub fn started_within(&self, process: &Process, limit: Duration) -> bool {
        let asked = Instant::now();
        loop {
            if self.dir.join("claim").exists() || !process.is_alive() {
                return true;
            }
            if asked.elapsed() >= limit {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits for the target to run the request: up to `timeout` for it to start, then until it ends or
    /// the process writing the dump (the target, or the child it forked) exits. When it does not start
    /// in time, the request is withdrawn.
    pub fn wait(
        &self,
        process: &Process,
        timeout: Duration,
        progress: &dyn Progress,
    ) -> Result<TargetReport, AttachError> {
        let asked = Instant::now();
        let mut started = false;
        let mut shown = Instant::now();
        let mut forked: Option<Forked> = None;
        loop {
            if let Some(report) = self.status(forked.as_ref(), process)? {
                return report;
            }
            if !started && self.dir.join("claim").exists() {
                started = true;
                progress.step(&format!(
                    "pid {}: dumping (its main thread reached a safe point after {:.2} s)",
                    self.pid,
                    asked.elapsed().as_secs_f64()
                ));
            } else if !started && asked.elapsed() >= timeout && self.withdraw() {
                return Err(AttachError::NoSafePoint {
                    pid: self.pid,
                    waited_s: asked.elapsed().as_secs_f64(),
                    main_thread: process.main_thread_activity(),
                    readable_by_target: self.readable_by_target,
                });
            }
            if forked.is_none() {
                forked = self.forked()?;
                if let Some(f) = &forked {
                    progress.step(&format!(
                        "pid {}: forked pid {} to write the dump, and went back to its work after {:.3} s",
                        self.pid,
                        f.child_pid,
                        f.paused.as_secs_f64()
                    ));
                }
            }
            match &forked {
                Some(f) if !pid_alive(f.child_pid) => {
                    // it may have written its status just before it exited
                    if let Some(report) = self.status(forked.as_ref(), process)? {
                        return report;
                    }
                    return Err(AttachError::DumpFailed {
                        pid: self.pid,
                        message: format!(
                            "the process it forked to write the dump (pid {}) ended before it finished; \
                             pid {} itself was not affected{}",
                            f.child_pid,
                            self.pid,
                            if process.is_alive() { " and keeps running" } else { ", but has exited since" }
                        ),
                    });
                }
                Some(_) => {}
                None if !process.is_alive() => return Err(AttachError::Exited { pid: self.pid }),
                None => {}
            }
            if started && shown.elapsed() >= Duration::from_secs(2) {
                shown = Instant::now();
                let written = std::fs::metadata(self.dir.join(DUMP_FILE)).map_or(0, |m| m.len());
                progress.step(&format!(
                    "pid {}: dumping, {} MiB written",
                    self.pid,
                    written >> 20
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Takes the claim before the target does; false when the target has just started the dump.
    fn withdraw(&self) -> bool {
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(self.dir.join("claim"))
            .is_ok()
    }

    /// What the target wrote in `forked.json` once it forked the dumping process.
    fn forked(&self) -> Result<Option<Forked>, AttachError> {
        let Some(forked) = self.read_json("forked.json")? else {
            return Ok(None);
        };
        let (Some(paused), Some(child_pid)) = (
            forked["paused_seconds"].as_f64(),
            forked["child_pid"]
                .as_u64()
                .and_then(|p| u32::try_from(p).ok()),
        ) else {
            return Err(self.protocol(format!("forked.json without pause or pid: {forked}")));
        };
        Ok(Some(Forked {
            paused: Duration::from_secs_f64(paused),
            child_pid,
        }))
    }

    fn read_json(&self, name: &str) -> Result<Option<Value>, AttachError> {
        let path = self.dir.join(name);
        let Ok(text) = std::fs::read_to_string(&path) else {
            return Ok(None);
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| self.protocol(format!("unreadable {}: {e}", path.display())))
    }

    fn protocol(&self, detail: String) -> AttachError {
        AttachError::Protocol {
            pid: self.pid,
            detail,
        }
    }

    /// The outcome once `status.json` is there (and, for a dump by a forked child, `forked.json` too,
    /// written by the target right after the fork: it is waited for while the target lives).
    fn status(
        &self,
        forked: Option<&Forked>,
        process: &Process,
    ) -> Result<Option<Result<TargetReport, AttachError>>, AttachError> {
        let Some(status) = self.read_json("status.json")? else {
            return Ok(None);
        };
        let by_child = status["way"] == "fork";
        if by_child && forked.is_none() {
            if process.is_alive() {
                return Ok(None);
            }
            return Err(AttachError::Exited { pid: self.pid });
        }
        if status["ok"] != Value::Bool(true) {
            let message = status["error"].as_str().unwrap_or("no message").to_string();
            return Ok(Some(Err(AttachError::DumpFailed {
                pid: self.pid,
                message,
            })));
        }
        let paused = match forked.filter(|_| by_child) {
            Some(f) => Pause {
                duration: f.paused,
                way: Way::Forked {
                    child_pid: f.child_pid,
                    child_private_bytes: status["child_private_bytes"].as_u64(),
                    target_alive_after: process.is_alive(),
                },
            },
            None => Pause {
                duration: Duration::from_secs_f64(status["paused_seconds"].as_f64().unwrap_or(0.0)),
                way: Way::InPlace {
                    why: status["why_in_place"]
                        .as_str()
                        .map(String::from)
                        .or_else(|| self.why_in_place.clone())
                        .unwrap_or_else(|| "the target did not fork".into()),
                },
            },
        };
        Ok(Some(Ok(TargetReport {
            summary: status["summary"].clone(),
            paused,
            python: status["python"].as_str().unwrap_or("?").to_string(),
        })))
    }

    /// Moves the finished dump to `output`.
    pub fn deliver(&self, output: &Path) -> Result<(), AttachError> {
        target_fs::move_file(&self.dir.join(DUMP_FILE), output)
            .map_err(|e| AttachError::io_path(output, e))
    }
}

impl Drop for Handoff {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// What the target wrote once it forked the process that writes the dump.
struct Forked {
    paused: Duration,
    child_pid: u32,
}

/// Whether `pid` runs (a zombie does not: the dumping process is reaped by whoever adopted it).
fn pid_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with(['Z', 'X']))
    })
}

/// The embedded dumper's `__version__`, so that the target reuses a dumper it loaded before only when it
/// is this one.
fn dumper_version() -> &'static str {
    DUMPER_SOURCE
        .lines()
        .find_map(|l| l.strip_prefix("__version__ = \"")?.strip_suffix('"'))
        .expect("heapgraph_dump.py sets __version__")
}

/// Whether users other than the owner may enter `dir` and every directory above it.
fn enterable_by_others(dir: &Path) -> bool {
    dir.ancestors()
        .all(|d| std::fs::metadata(d).is_ok_and(|m| m.mode() & 0o001 != 0))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_dumper_declares_its_version() {
        assert!(!super::dumper_version().is_empty());
    }
}
