//! Queueing a request in a CPython 3.8-3.13 process through gdb (the why is in `python/inject_gdb.py`).

use crate::{bounded, AttachError};
use std::process::Command;
use std::time::Duration;

const INJECTOR: &str = include_str!("../python/inject_gdb.py");

/// gdb attaches, reads symbols, makes three calls and detaches; symbol loading is the slow part.
const GDB_LIMIT: Duration = Duration::from_secs(60);

/// How the queueing went.
pub struct Queued {
    /// How long gdb ran: the target was stopped for at most this long.
    pub stopped: Duration,
    /// Whether the main thread held the GIL when it was stopped (then it was running Python code).
    pub main_held_gil: bool,
}

/// Queues `snippet` as a pending call in `pid`'s main thread.
pub fn queue(
    pid: u32,
    exe: &str,
    snippet: &str,
    scratch: &std::path::Path,
) -> Result<Queued, AttachError> {
    let script = scratch.join("inject_gdb.py");
    std::fs::write(&script, INJECTOR).map_err(|e| AttachError::io_path(&script, e))?;
    let mut gdb = Command::new("gdb");
    gdb.args([
        "-nx",
        "-batch",
        "-iex",
        "set auto-load off",
        "-iex",
        "set debuginfod enabled off",
    ])
    .arg("-p")
    .arg(pid.to_string())
    .arg("-x")
    .arg(&script)
    .env("HEAPGRAPH_SNIPPET", snippet);
    let finished = bounded::run(
        gdb,
        "gdb",
        "apt-get install gdb (Debian, Ubuntu), dnf install gdb (Fedora, RHEL)",
        GDB_LIMIT,
    )?
    .ok_or_else(|| AttachError::Protocol {
        pid,
        detail: format!(
            "gdb did not finish in {} s (it was killed; the process was not changed)",
            GDB_LIMIT.as_secs()
        ),
    })?;
    if let Some(json) = finished
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("HEAPGRAPH-RESULT "))
    {
        let result: serde_json::Value =
            serde_json::from_str(json).map_err(|e| AttachError::Protocol {
                pid,
                detail: format!("gdb printed {json:?}: {e}"),
            })?;
        return Ok(Queued {
            stopped: finished.elapsed,
            main_held_gil: result["main_held_gil"] == true,
        });
    }
    Err(explain(pid, exe, &finished.stdout, &finished.stderr))
}

/// Turns gdb's complaint into an error that says what to do.
fn explain(pid: u32, exe: &str, stdout: &str, stderr: &str) -> AttachError {
    let all = format!("{stdout}\n{stderr}");
    if all.contains("ptrace: Operation not permitted") || all.contains("Could not attach") {
        let line = all
            .lines()
            .find(|l| l.contains("ptrace") || l.contains("attach"))
            .unwrap_or("");
        return AttachError::NotPermitted {
            pid,
            detail: format!("gdb: {}", line.trim()),
        };
    }
    if all.contains("No such process") {
        return AttachError::NoProcess { pid };
    }
    let error = stdout
        .lines()
        .find_map(|l| l.strip_prefix("HEAPGRAPH-ERROR "))
        .map(str::trim);
    match error {
        Some(e) if e.contains("No symbol") && e.contains("Py") => AttachError::Unsupported {
            pid,
            exe: exe.to_string(),
            detail: format!("not a CPython process: it has no CPython functions to call ({e})"),
        },
        Some(e) => AttachError::Protocol {
            pid,
            detail: format!("gdb: {e}"),
        },
        None => AttachError::Protocol {
            pid,
            detail: format!("gdb failed:\n{}", all.trim()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gdb_complaints_become_advice() {
        let denied = explain(7, "/x", "", "ptrace: Operation not permitted.");
        assert!(matches!(denied, AttachError::NotPermitted { pid: 7, .. }));
        assert!(denied.to_string().contains("ptrace_scope"));
        let not_python = explain(
            7,
            "/bin/sleep",
            "HEAPGRAPH-ERROR No symbol \"PyGILState_Check\" in current context.",
            "",
        );
        assert!(
            not_python.to_string().contains("not a CPython process"),
            "{not_python}"
        );
    }
}
