//! What goes wrong when dumping a live process, each error saying what to do next.

use std::fmt;

/// Why a dump of a running process failed. Every message names the pid and the next step.
#[derive(Debug)]
pub enum AttachError {
    /// No process with this pid (or it exited).
    NoProcess { pid: u32 },
    /// The kernel refused to let us trace the process.
    NotPermitted { pid: u32, detail: String },
    /// The process belongs to another user, whose runtime accepts requests from that user (or root) only.
    OtherUser { pid: u32, uid: u32 },
    /// Another debugger already traces it; a process has one tracer at most.
    AlreadyTraced { pid: u32, tracer: u32 },
    /// The process is not a runtime heapgraph can dump.
    Unsupported {
        pid: u32,
        exe: String,
        detail: String,
    },
    /// A tool the injection needs is not installed.
    MissingTool {
        tool: &'static str,
        install: &'static str,
    },
    /// The main thread did not reach a safe point in time; the request was withdrawn.
    NoSafePoint {
        pid: u32,
        waited_s: f64,
        main_thread: String,
        readable_by_target: bool,
    },
    /// The dumper ran and failed in the target (the target keeps running).
    DumpFailed { pid: u32, message: String },
    /// The target exited while the dump was requested or written.
    Exited { pid: u32 },
    /// A tool or file operation on our side failed.
    Io { what: String, error: String },
    /// The target's runtime answered with something we could not read.
    Protocol { pid: u32, detail: String },
}

impl AttachError {
    pub(crate) fn io(what: impl fmt::Display, error: impl fmt::Display) -> AttachError {
        AttachError::Io {
            what: what.to_string(),
            error: error.to_string(),
        }
    }

    pub(crate) fn io_path(path: &std::path::Path, error: std::io::Error) -> AttachError {
        let hint = if error.raw_os_error() == Some(28) {
            "; free some space or pass -o on another filesystem"
        } else {
            ""
        };
        AttachError::io(path.display(), format!("{error}{hint}"))
    }
}

/// Where the dump went when the disk is full: the dumper's own message names the file.
fn no_space_hint(message: &str) -> &'static str {
    if message.contains("No space left") || message.contains("Errno 28") {
        "\nthe filesystem of the output is full: free space there or pass -o on another filesystem"
    } else {
        ""
    }
}

impl fmt::Display for AttachError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttachError::NoProcess { pid } => write!(f, "no process with pid {pid}"),
            AttachError::NotPermitted { pid, detail } => write!(
                f,
                "not permitted to trace pid {pid} ({detail}).\n\
                 Run heapgraph as the target's user or as root; if that is not enough:\n\
                 - /proc/sys/kernel/yama/ptrace_scope must be 0 (as root: echo 0 > /proc/sys/kernel/yama/ptrace_scope), or 1 when heapgraph runs as root or with CAP_SYS_PTRACE\n\
                 - in a container, start it with --cap-add=SYS_PTRACE (Kubernetes: securityContext.capabilities.add: [SYS_PTRACE]) and run heapgraph in the target's pid namespace (docker exec, or --pid=container:NAME)"
            ),
            AttachError::OtherUser { pid, uid } => write!(
                f,
                "pid {pid} belongs to another user (uid {uid}), and its runtime takes requests from that user or root only: \
                 run heapgraph as that user (sudo -u '#{uid}' heapgraph ...) or as root"
            ),
            AttachError::AlreadyTraced { pid, tracer } => write!(
                f,
                "pid {pid} is already traced by pid {tracer} (a debugger, strace, py-spy?); a process has one tracer at most: detach it and try again"
            ),
            AttachError::Unsupported { pid, exe, detail } => {
                write!(f, "pid {pid} ({exe}) cannot be dumped: {detail}")
            }
            AttachError::MissingTool { tool, install } => {
                write!(f, "{tool} is not installed; it is needed to attach to a running process: {install}")
            }
            AttachError::NoSafePoint { pid, waited_s, main_thread, readable_by_target } => {
                write!(
                    f,
                    "pid {pid}: its main thread did not reach a safe point in {waited_s:.1} s ({main_thread}); \
                     the request was withdrawn and the process keeps running untouched.\n\
                     The main thread runs the dump between two Python bytecodes, or where it waits in a blocking \
                     call or on a lock without the GIL: it is running C code that keeps the GIL (a long call \
                     of a C extension). Try again with a longer --timeout when it is busy, or dump from \
                     inside (heapgraph run --dump-on USR1)."
                )?;
                if !readable_by_target {
                    write!(f, "\nIt may also be unable to read the hand-over directory next to the output: pass -o in a directory its user can enter.")?;
                }
                Ok(())
            }
            AttachError::DumpFailed { pid, message } => write!(
                f,
                "pid {pid}: the dumper failed in the process (which keeps running): {message}{}",
                no_space_hint(message)
            ),
            AttachError::Exited { pid } => write!(f, "pid {pid} exited before its dump was complete"),
            AttachError::Io { what, error } => write!(f, "{what}: {error}"),
            AttachError::Protocol { pid, detail } => write!(f, "pid {pid}: {detail}"),
        }
    }
}

impl std::error::Error for AttachError {}
