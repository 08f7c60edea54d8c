//! Heap dumps of running processes, without changing their code.
//!
//! * [`dump_pid`]: `heapgraph dump --pid`. For CPython, the embedded dumper is handed over in a directory
//!   next to the output and the target's main thread is asked to run it: on 3.8-3.13 through ptrace
//!   (`injector.rs`: a pending call, or a call at once when the thread waits in a blocking system call
//!   without the GIL), on 3.14+ through PEP 768's remote execution (what `sys.remote_exec` does, done by
//!   heapgraph from the target's `_Py_DebugOffsets`: `remote_exec.rs`). The target writes the dump itself
//!   and reports back; heapgraph never runs Python code at an arbitrary instruction and never leaves a
//!   stopped or half-called target behind (a trial run on a child of its own comes first: `canary.rs`).
//!   When its memory allows, the target forks at that point and a child writes the dump from the
//!   copy-on-write snapshot while the target goes on (`python/attach_bootstrap.py`, `fork.rs`).
//! * HotSpot JVMs: the JVM's own attach protocol, spoken by heapgraph (`jvm.rs`): it starts the JVM's
//!   attach listener and asks for `GC.heap_dump`, which the JVM writes at a safepoint.
//! * Node.js: the V8 inspector, opened with SIGUSR1, asked for a heap snapshot over its WebSocket and
//!   closed again (`node.rs`, `sockets.rs`).
//! * [`run`]: `heapgraph run`, a program started with the dumper preloaded, dumping on a signal,
//!   periodically or at exit.

mod canary;
mod debug_offsets;
mod error;
mod fork;
mod handoff;
mod injector;
mod jvm;
mod node;
mod process;
mod ptrace;
mod python;
mod remote_exec;
pub mod run;
mod sockets;
mod symbols;
mod target_fs;

pub use error::AttachError;
pub use process::Runtime;

use process::Process;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where progress messages go (the CLI prints them on stderr).
pub trait Progress {
    fn step(&self, message: &str);
}

impl<F: Fn(&str)> Progress for F {
    fn step(&self, message: &str) {
        self(message)
    }
}

/// How to take the dump.
pub struct Options {
    /// How long the target may take to start the dump; after that the request is withdrawn.
    pub timeout: Duration,
    /// Run the collector before dumping, or not; `None`: the runtime's default (CPython: not, since
    /// uncollected garbage is evidence; a JVM: a full GC, live objects only). V8 always collects.
    pub collect: Option<bool>,
    /// Let the target fork a child that writes the dump, so that it is paused only for the fork, when
    /// its resident memory fits in the memory available. Off: the target writes the dump itself.
    pub fork: bool,
}

/// A dump taken from a running process.
#[derive(Debug)]
pub struct DumpReport {
    pub output: PathBuf,
    /// The runtime and its version, e.g. `CPython 3.11.7`.
    pub runtime: String,
    /// How long the target did none of its own work (the fork, or the dump itself, all threads held
    /// off), and which way the dump was written.
    pub paused: Option<Pause>,
    /// How long heapgraph held the target's main thread stopped with ptrace (a dump run at once
    /// included), when it did.
    pub stopped: Option<Duration>,
    /// How the request reached the main thread, in words.
    pub reached: String,
    /// What the runtime said of the dump. Python: the dumper's objects, edges, roots, seconds, bytes;
    /// JVM: bytes, live_only, gzip, the JVM's answer; Node: bytes, the inspector's address and whether
    /// it was left open.
    pub summary: serde_json::Value,
}

/// How long the target's main thread was taken from its own work by the dump, and why that long.
#[derive(Debug, Clone)]
pub struct Pause {
    /// From the start of the request at the safe point until the target went back to its work.
    pub duration: Duration,
    pub way: Way,
}

/// Which process wrote the dump.
#[derive(Debug, Clone)]
pub enum Way {
    /// A child forked at the safe point wrote it from the copy-on-write snapshot; the target went on
    /// once the fork was done.
    Forked {
        child_pid: u32,
        /// Memory only the child had mapped when it finished (`Private_Clean` + `Private_Dirty` of
        /// /proc/PID/smaps_rollup): the pages copied since the fork, by either side, and the dumper's own
        /// allocations. Copies are kept until the child exits, so this is its peak extra memory, less any
        /// dumper buffer freed before the end. `None` where the kernel has no smaps_rollup.
        child_private_bytes: Option<u64>,
        /// Whether the target was still running when the child finished.
        target_alive_after: bool,
    },
    /// The target wrote it itself, paused all along.
    InPlace {
        /// Why: `--no-fork`, not enough memory for a fork, or the fork failed.
        why: String,
    },
}

/// Where `dump --pid` writes when not told: `heapgraph-PID` with the extension of the dump the runtime of
/// `pid` writes (`.hgd` when it cannot be told).
pub fn default_output(pid: u32) -> PathBuf {
    let extension = match Process::open(pid).map(|p| p.runtime()) {
        Ok(Runtime::Java) => "hprof",
        Ok(Runtime::Node) => "heapsnapshot",
        _ => "hgd",
    };
    PathBuf::from(format!("heapgraph-{pid}.{extension}"))
}

/// Dumps the heap of process `pid` into `output`.
pub fn dump_pid(
    pid: u32,
    output: &Path,
    options: &Options,
    progress: &dyn Progress,
) -> Result<DumpReport, AttachError> {
    let process = Process::open(pid)?;
    match process.runtime() {
        Runtime::Python(version) => dump_python(&process, version, output, options, progress),
        Runtime::Java => jvm::dump(&process, output, options, progress),
        Runtime::Node => node::dump(&process, output, options, progress),
        Runtime::Unknown => Err(AttachError::Unsupported {
            pid,
            exe: process.exe.clone(),
            detail:
                "it is none of the runtimes heapgraph dumps: CPython 3.8+, a HotSpot JVM, Node.js"
                    .into(),
        }),
    }
}

fn dump_python(
    process: &Process,
    version: Option<(u32, u32)>,
    output: &Path,
    options: &Options,
    progress: &dyn Progress,
) -> Result<DumpReport, AttachError> {
    let pid = process.pid;
    if let Some(tracer) = process.tracer() {
        return Err(AttachError::AlreadyTraced { pid, tracer });
    }
    if process::ptrace_scope() == Some(3) {
        return Err(AttachError::NotPermitted {
            pid,
            detail: "kernel.yama.ptrace_scope is 3: no process may be traced until reboot".into(),
        });
    }
    let report = python::dump(process, version, output, options, progress)?;
    if let Some(Pause {
        way:
            Way::Forked {
                child_pid,
                target_alive_after: false,
                ..
            },
        ..
    }) = &report.paused
    {
        progress.step(&format!(
            "pid {pid} exited while pid {child_pid}, which it forked, was writing the dump; \
             the dump is complete"
        ));
    }
    Ok(report)
}
