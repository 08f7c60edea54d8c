//! `heapgraph run`: a program started with heapgraph's dumper preloaded through a `sitecustomize` on
//! PYTHONPATH (`python/sitecustomize.py`), so that it dumps on a signal, periodically or at exit;
//! optionally with tracemalloc tracing from the start (PYTHONTRACEMALLOC), so the dumps carry allocation
//! sites.
//!
//! heapgraph replaces itself with the program (exec): the program keeps heapgraph's pid, receives the
//! terminal's signals directly, and its exit status is the command's.

use crate::AttachError;
use heapgraph_formats::python::{DUMPER_FILE_NAME, DUMPER_SOURCE};
use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

const SITECUSTOMIZE: &str = include_str!("../python/sitecustomize.py");

/// Signals a program can give over to dumping without losing a default it relies on.
pub const DUMP_SIGNALS: &[&str] = &["SIGUSR1", "SIGUSR2", "SIGHUP", "SIGQUIT", "SIGWINCH"];

/// When the program dumps, and where.
pub struct Triggers {
    pub dir: PathBuf,
    /// A name from [`DUMP_SIGNALS`], with or without `SIG`.
    pub signal: Option<String>,
    pub every_seconds: Option<f64>,
    pub at_exit: bool,
    pub prefix: String,
    /// Frames per allocation traceback when the program should trace its allocations with tracemalloc
    /// from its start (PYTHONTRACEMALLOC), so that its dumps record where each object was allocated.
    pub tracemalloc: Option<u16>,
}

/// `SIGUSR1` from `USR1`, `usr1` or `SIGUSR1`; an error listing the choices otherwise.
pub fn signal_name(text: &str) -> Result<&'static str, String> {
    let upper = text.to_ascii_uppercase();
    let full = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    DUMP_SIGNALS
        .iter()
        .find(|s| **s == full)
        .copied()
        .ok_or_else(|| {
            format!(
                "--dump-on {text}: choose one of {}",
                DUMP_SIGNALS.join(", ")
            )
        })
}

/// Writes the preload files under `triggers.dir` and execs `program`; returns only on failure.
pub fn exec(program: &[OsString], triggers: &Triggers) -> AttachError {
    let Some((first, args)) = program.split_first() else {
        return AttachError::io("heapgraph run", "no program given after --");
    };
    let preload = match write_preload(&triggers.dir) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let mut python_path = OsString::from(&preload);
    if let Some(old) = std::env::var_os("PYTHONPATH").filter(|p| !p.is_empty()) {
        python_path.push(":");
        python_path.push(old);
    }
    let mut command = Command::new(first);
    command
        .args(args)
        .env("PYTHONPATH", python_path)
        .env("HEAPGRAPH_RUN_DIR", &triggers.dir)
        .env("HEAPGRAPH_RUN_PREFIX", &triggers.prefix)
        .env(
            "HEAPGRAPH_RUN_AT_EXIT",
            if triggers.at_exit { "1" } else { "0" },
        );
    if let Some(signal) = &triggers.signal {
        command.env("HEAPGRAPH_RUN_SIGNAL", signal);
    }
    if let Some(every) = triggers.every_seconds {
        command.env("HEAPGRAPH_RUN_EVERY", every.to_string());
    }
    if let Some(frames) = triggers.tracemalloc {
        command.env("PYTHONTRACEMALLOC", frames.to_string());
    }
    let error = command.exec();
    AttachError::io(format!("cannot run {}", first.to_string_lossy()), error)
}

/// The dumper and the sitecustomize that loads it, in `DIR/.heapgraph-run/` (rewritten every time, so a
/// newer heapgraph never runs an older dumper).
fn write_preload(dir: &Path) -> Result<PathBuf, AttachError> {
    let preload = dir.join(".heapgraph-run");
    std::fs::create_dir_all(&preload).map_err(|e| AttachError::io_path(&preload, e))?;
    for (name, text) in [
        (DUMPER_FILE_NAME, DUMPER_SOURCE),
        ("sitecustomize.py", SITECUSTOMIZE),
    ] {
        let path = preload.join(name);
        std::fs::write(&path, text).map_err(|e| AttachError::io_path(&path, e))?;
    }
    preload
        .canonicalize()
        .map_err(|e| AttachError::io_path(&preload, e))
}

#[cfg(test)]
mod tests {
    use super::signal_name;

    #[test]
    fn signal_names_are_normalized_and_checked() {
        assert_eq!(signal_name("usr1"), Ok("SIGUSR1"));
        assert_eq!(signal_name("SIGHUP"), Ok("SIGHUP"));
        assert!(signal_name("KILL").unwrap_err().contains("SIGUSR1"));
    }
}
