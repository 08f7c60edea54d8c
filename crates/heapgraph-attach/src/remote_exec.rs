//! Queueing a request in a CPython 3.14+ process with `sys.remote_exec` (PEP 768): no gdb and no
//! stopped process; the target runs the script at its next safe point, as a pending call would.
//!
//! The caller must be the same Python version, so the target's own executable makes the call.
//! (Not tested here: no 3.14 on the development machine.)

use crate::{bounded, AttachError};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(30);

pub fn queue(pid: u32, exe: &str, script: &Path) -> Result<(), AttachError> {
    let exe = exe.strip_suffix(" (deleted)").unwrap_or(exe);
    let mut python = Command::new(exe);
    python
        .arg("-c")
        .arg("import sys; sys.remote_exec(int(sys.argv[1]), sys.argv[2])")
        .arg(pid.to_string())
        .arg(script);
    let finished = bounded::run(
        python,
        "python3.14",
        "the target's own interpreter is used",
        LIMIT,
    )?
    .ok_or_else(|| AttachError::Protocol {
        pid,
        detail: format!("sys.remote_exec did not return in {} s", LIMIT.as_secs()),
    })?;
    if finished.success {
        return Ok(());
    }
    let message = finished
        .stderr
        .lines()
        .last()
        .unwrap_or("")
        .trim()
        .to_string();
    if message.contains("PermissionError") || message.contains("Operation not permitted") {
        return Err(AttachError::NotPermitted {
            pid,
            detail: message,
        });
    }
    Err(AttachError::Protocol {
        pid,
        detail: format!(
            "sys.remote_exec failed: {message} (remote debugging is off when the target runs with \
             PYTHON_DISABLE_REMOTE_DEBUG=1 or -X disable_remote_debug)"
        ),
    })
}
