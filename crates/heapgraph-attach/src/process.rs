//! What /proc says about the target: whether it exists, who owns it, who traces it, which runtime it runs.

use crate::AttachError;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// A running process, as seen through /proc.
pub struct Process {
    pub pid: u32,
    /// The executable's path (`/proc/PID/exe`), or its name when that link cannot be read.
    pub exe: String,
    pub uid: u32,
    pub gid: u32,
}

/// The runtime a process runs, guessed from its executable and mapped libraries.
#[derive(Debug, PartialEq, Eq)]
pub enum Runtime {
    /// CPython with its `major.minor` when a file name says it (`python3.11`, `libpython3.11.so`).
    Python(Option<(u32, u32)>),
    Java,
    Node,
    Unknown,
}

impl Process {
    pub fn open(pid: u32) -> Result<Process, AttachError> {
        let dir = proc_dir(pid);
        let meta = std::fs::metadata(&dir).map_err(|_| AttachError::NoProcess { pid })?;
        let exe = std::fs::read_link(dir.join("exe"))
            .map(|p| p.display().to_string())
            .or_else(|_| std::fs::read_to_string(dir.join("comm")).map(|c| c.trim().to_string()))
            .unwrap_or_else(|_| "?".into());
        Ok(Process {
            pid,
            exe,
            uid: meta.uid(),
            gid: meta.gid(),
        })
    }

    pub fn is_alive(&self) -> bool {
        // a zombie keeps its /proc entry; its state is Z
        self.status_field("State")
            .is_some_and(|s| !s.starts_with('Z'))
    }

    /// The pid tracing this process, if any.
    pub fn tracer(&self) -> Option<u32> {
        self.status_field("TracerPid")?
            .parse()
            .ok()
            .filter(|&t| t != 0)
    }

    pub fn runtime(&self) -> Runtime {
        let maps = std::fs::read_to_string(proc_dir(self.pid).join("maps")).unwrap_or_default();
        let names = std::iter::once(self.exe.as_str())
            .chain(maps.lines().filter_map(|l| l.split_whitespace().nth(5)));
        let mut runtime = Runtime::Unknown;
        for path in names {
            let name = Path::new(path)
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("");
            if let Some(version) = python_version(name) {
                return Runtime::Python(Some(version));
            }
            if name.starts_with("python") || name.starts_with("libpython") {
                runtime = Runtime::Python(None);
            } else if runtime == Runtime::Unknown && (name == "java" || name == "libjvm.so") {
                runtime = Runtime::Java;
            } else if runtime == Runtime::Unknown
                && (name == "node" || name == "nodejs" || name.starts_with("libnode.so"))
            {
                runtime = Runtime::Node;
            }
        }
        runtime
    }

    /// Whether a file whose name starts with `prefix` is mapped in the process (a library it loaded).
    pub fn maps_file(&self, prefix: &str) -> bool {
        std::fs::read_to_string(proc_dir(self.pid).join("maps"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_whitespace().nth(5))
            .any(|path| {
                Path::new(path)
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(prefix))
            })
    }

    /// Whether the process has a handler for `signal` (`SigCgt` in /proc/PID/status). A signal it does
    /// not catch takes its default action, which for SIGQUIT and SIGUSR1 ends the process.
    pub fn catches(&self, signal: libc::c_int) -> bool {
        self.status_field("SigCgt")
            .and_then(|mask| u64::from_str_radix(&mask, 16).ok())
            .is_some_and(|mask| mask & (1 << (signal - 1)) != 0)
    }

    /// The pid the process has in its own pid namespace (the last of `NSpid`): the one a JVM in a
    /// container names its attach files after.
    pub fn namespace_pid(&self) -> u32 {
        self.status_field("NSpid")
            .and_then(|ids| ids.split_whitespace().last()?.parse().ok())
            .unwrap_or(self.pid)
    }

    /// Whether the process runs in the same namespace of `kind` (`mnt`, `net`) as heapgraph. When
    /// heapgraph may not look (another user's process), it is taken to.
    pub fn shares_namespace(&self, kind: &str) -> bool {
        let ours = std::fs::read_link(format!("/proc/self/ns/{kind}"));
        let theirs = std::fs::read_link(proc_dir(self.pid).join("ns").join(kind));
        match (ours, theirs) {
            (Ok(ours), Ok(theirs)) => ours == theirs,
            _ => true,
        }
    }

    /// Sends `signal` to the process.
    pub fn signal(&self, signal: libc::c_int) -> Result<(), AttachError> {
        // SAFETY: kill(2) with a pid and a signal number has no memory effects.
        if unsafe { libc::kill(self.pid as libc::pid_t, signal) } == 0 {
            return Ok(());
        }
        match std::io::Error::last_os_error().raw_os_error() {
            Some(libc::ESRCH) => Err(AttachError::Exited { pid: self.pid }),
            Some(libc::EPERM) => Err(AttachError::OtherUser {
                pid: self.pid,
                uid: self.uid,
            }),
            _ => Err(AttachError::io(
                format!("signal {signal} to pid {}", self.pid),
                std::io::Error::last_os_error(),
            )),
        }
    }

    /// What the main thread is doing, for error messages: its state and kernel wait channel.
    pub fn main_thread_activity(&self) -> String {
        let state = self.status_field("State").unwrap_or_else(|| "?".into());
        let wchan = std::fs::read_to_string(proc_dir(self.pid).join("wchan")).unwrap_or_default();
        match wchan.trim() {
            "" | "0" => format!("state {state}"),
            w => format!("state {state}, waiting in the kernel in {w}"),
        }
    }

    fn status_field(&self, key: &str) -> Option<String> {
        let status = std::fs::read_to_string(proc_dir(self.pid).join("status")).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
            .map(|v| v.trim().to_string())
    }
}

/// The effective uid heapgraph runs as.
pub fn our_uid() -> u32 {
    // SAFETY: geteuid(2) cannot fail and touches no memory.
    unsafe { libc::geteuid() }
}

pub(crate) fn proc_dir(pid: u32) -> PathBuf {
    PathBuf::from(format!("/proc/{pid}"))
}

/// `3.11` from `python3.11`, `libpython3.11.so.1.0`, `libpython3.13t.so`.
fn python_version(file_name: &str) -> Option<(u32, u32)> {
    let rest = file_name
        .strip_prefix("lib")
        .unwrap_or(file_name)
        .strip_prefix("python")?;
    let (major, rest) = rest.split_once('.')?;
    let minor: String = rest.chars().take_while(char::is_ascii_digit).collect();
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// The Yama ptrace policy, when the kernel has Yama: 0 classic, 1 descendants only, 2 admin only, 3 none.
pub fn ptrace_scope() -> Option<u32> {
    std::fs::read_to_string("/proc/sys/kernel/yama/ptrace_scope")
        .ok()?
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_versions_from_file_names() {
        assert_eq!(python_version("python3.11"), Some((3, 11)));
        assert_eq!(python_version("libpython3.13t.so.1.0"), Some((3, 13)));
        assert_eq!(python_version("python3"), None);
        assert_eq!(python_version("java"), None);
    }

    #[test]
    fn this_process_is_alive_and_untraced_or_traced_consistently() {
        let me = Process::open(std::process::id()).unwrap();
        assert!(me.is_alive());
        assert_eq!(me.runtime(), Runtime::Unknown);
        assert_eq!(me.namespace_pid(), std::process::id());
        assert!(me.shares_namespace("mnt") && me.shares_namespace("net"));
        assert!(me.maps_file("libc"));
        assert!(!me.maps_file("libjvm"));
        assert!(matches!(
            Process::open(u32::MAX),
            Err(AttachError::NoProcess { .. })
        ));
    }
}
