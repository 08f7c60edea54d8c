//! `heapgraph dump --pid` on a HotSpot JVM, through the JVM's own attach protocol (what `jcmd` speaks), so
//! that a JRE alone, or a container without a JDK, is enough.
//!
//! The JVM starts its attach listener when it gets SIGQUIT while a file `.attach_pid<PID>` exists in its
//! working directory or its /tmp (PID as the JVM sees it, in its own pid namespace); the listener is a UNIX
//! socket `/tmp/.java_pid<PID>` in the JVM's root, which takes connections from the JVM's user (and root).
//! A request is the protocol version, a command and three arguments, each ended by a NUL byte; the answer
//! is a status line and the command's output, up to the end of the stream. `GC.heap_dump` writes the dump
//! from the JVM itself, at a safepoint, all its threads stopped; by default it runs a full GC first and
//! keeps the reachable objects only.

use crate::process::{our_uid, Process};
use crate::target_fs::{self, SharedDir};
use crate::{AttachError, DumpReport, Options, Pause, Progress, Way};
use std::io::{Read, Write};
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How often heapgraph looks for the socket after SIGQUIT.
const POLL: Duration = Duration::from_millis(20);

pub fn dump(
    process: &Process,
    output: &Path,
    options: &Options,
    progress: &dyn Progress,
) -> Result<DumpReport, AttachError> {
    let pid = process.pid;
    if process.maps_file("libj9vm") {
        return Err(AttachError::Unsupported {
            pid,
            exe: process.exe.clone(),
            detail:
                "it is an Eclipse OpenJ9 JVM, not HotSpot; take its dump with OpenJ9's own tools \
                     (jcmd PID Dump.heap, or kill -QUIT with -Xdump:heap)"
                    .into(),
        });
    }
    if our_uid() != 0 && our_uid() != process.uid {
        return Err(AttachError::OtherUser {
            pid,
            uid: process.uid,
        });
    }
    let attach = Listener::find_or_start(process, options.timeout, progress)?;
    let version = attach.command("VM.version")?;
    let runtime = version
        .lines()
        .next()
        .unwrap_or("HotSpot JVM")
        .trim()
        .to_string();

    let live_only = options.collect.unwrap_or(true);
    let gzip = output.extension().is_some_and(|e| e == "gz");
    let staging = Staging::create(process, output)?;
    let file_name = if gzip { "dump.hprof.gz" } else { "dump.hprof" };
    let mut request = String::from("GC.heap_dump");
    if !live_only {
        request += " -all";
    }
    if gzip {
        request += " -gz=1";
    }
    request += &format!(" {}", staging.dir.there.join(file_name).display());
    progress.step(&format!(
        "pid {pid}: asking the JVM for {request} ({})",
        if live_only {
            "a full GC first: live objects only"
        } else {
            "no GC: unreachable objects too"
        }
    ));
    let asked = Instant::now();
    let answer = attach.command(&request)?;
    let paused = asked.elapsed();
    let written = staging.dir.here.join(file_name);
    if !written.is_file() {
        return Err(AttachError::DumpFailed {
            pid,
            message: format!("the JVM answered: {}", answer.trim()),
        });
    }
    if !process.is_alive() {
        return Err(AttachError::Exited { pid });
    }
    target_fs::move_file(&written, output).map_err(|e| AttachError::io_path(output, e))?;
    let bytes = std::fs::metadata(output).map_or(0, |m| m.len());
    Ok(DumpReport {
        output: output.to_path_buf(),
        runtime,
        paused: Some(Pause {
            duration: paused,
            way: Way::InPlace {
                why: "a HotSpot JVM writes its dump at a safepoint, all its threads stopped".into(),
            },
        }),
        stopped: None,
        reached: format!(
            "the JVM's attach listener ({})",
            if attach.started {
                "started with SIGQUIT"
            } else {
                "already running"
            }
        ),
        summary: serde_json::json!({
            "bytes": bytes,
            "live_only": live_only,
            "gzip": gzip,
            "jvm_answer": answer.trim(),
        }),
    })
}

/// The JVM's attach socket, as heapgraph reaches it.
struct Listener<'p> {
    process: &'p Process,
    socket: PathBuf,
    /// Whether heapgraph started the listener (it was not running before).
    started: bool,
}

impl<'p> Listener<'p> {
    /// The listener when it runs; else the JVM is asked to start it: the trigger file, then SIGQUIT.
    fn find_or_start(
        process: &'p Process,
        timeout: Duration,
        progress: &dyn Progress,
    ) -> Result<Listener<'p>, AttachError> {
        let pid = process.pid;
        let nspid = process.namespace_pid();
        let tmp = target_tmp(process);
        let socket = tmp.join(format!(".java_pid{nspid}"));
        let mut listener = Listener {
            process,
            socket,
            started: false,
        };
        if listener.is_up() {
            return Ok(listener);
        }
        // Before its signal handlers are installed (early in startup, or with -Xrs) a JVM would die of it.
        if !process.catches(libc::SIGQUIT) {
            return Err(AttachError::Unsupported {
                pid,
                exe: process.exe.clone(),
                detail: "the JVM does not handle SIGQUIT (it is still starting, or runs with -Xrs), so it \
                         cannot be asked to start its attach listener; try again once it has started"
                    .into(),
            });
        }
        progress.step(&format!(
            "pid {pid}: starting the JVM's attach listener (SIGQUIT)"
        ));
        let trigger = Trigger::create(process, nspid, &tmp)?;
        process.signal(libc::SIGQUIT)?;
        let asked = Instant::now();
        while !listener.is_up() {
            if !process.is_alive() {
                return Err(AttachError::Exited { pid });
            }
            if asked.elapsed() > timeout {
                return Err(AttachError::Unsupported {
                    pid,
                    exe: process.exe.clone(),
                    detail: format!(
                        "the JVM did not open its attach socket {} within {:.1} s of SIGQUIT: it runs with \
                         -XX:+DisableAttachMechanism, or is not HotSpot, or is stuck (a longer --timeout \
                         helps then)",
                        listener.socket.display(),
                        timeout.as_secs_f64()
                    ),
                });
            }
            std::thread::sleep(POLL);
        }
        drop(trigger);
        listener.started = true;
        Ok(listener)
    }

    fn is_up(&self) -> bool {
        std::fs::symlink_metadata(&self.socket)
            .is_ok_and(|m| std::os::unix::fs::FileTypeExt::is_socket(&m.file_type()))
    }

    /// Runs one `jcmd` command and returns its output.
    fn command(&self, line: &str) -> Result<String, AttachError> {
        let pid = self.process.pid;
        let mut stream = self.connect()?;
        let mut request = Vec::new();
        for part in ["1", "jcmd", line, "", ""] {
            request.extend_from_slice(part.as_bytes());
            request.push(0);
        }
        let mut answer = String::new();
        stream
            .write_all(&request)
            .and_then(|()| stream.read_to_string(&mut answer))
            .map_err(|e| AttachError::io(self.socket.display(), e))?;
        let (status, output) = answer.split_once('\n').unwrap_or((&answer, ""));
        match status.trim().parse::<i32>() {
            Ok(0) => Ok(output.to_string()),
            Ok(code) => Err(AttachError::DumpFailed {
                pid,
                message: format!(
                    "the JVM refused `{line}` (status {code}): {}",
                    output.trim()
                ),
            }),
            Err(_) => Err(AttachError::Protocol {
                pid,
                detail: format!(
                    "the attach socket answered {:?}, not a status line: is this a HotSpot JVM?",
                    answer.chars().take(80).collect::<String>()
                ),
            }),
        }
    }

    /// Connects to the socket. Some JVMs (JDK 8) take connections from their own user only, not root:
    /// as root, heapgraph connects with the target's ids.
    fn connect(&self) -> Result<UnixStream, AttachError> {
        let connected = if our_uid() == 0 && self.process.uid != 0 {
            as_user(self.process.uid, self.process.gid, || {
                UnixStream::connect(&self.socket)
            })
        } else {
            UnixStream::connect(&self.socket)
        };
        connected.map_err(|e| match e.raw_os_error() {
            Some(libc::EACCES | libc::EPERM) => AttachError::OtherUser {
                pid: self.process.pid,
                uid: self.process.uid,
            },
            _ => AttachError::io(self.socket.display(), e),
        })
    }
}

/// Runs `f` with effective ids `uid` and `gid`, then takes back root's.
fn as_user<T>(uid: u32, gid: u32, f: impl FnOnce() -> std::io::Result<T>) -> std::io::Result<T> {
    // SAFETY: setegid/seteuid change this process's credentials only; they are restored below, and
    // root may take any ids and take its own back.
    unsafe {
        if libc::setegid(gid) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        if libc::seteuid(uid) != 0 {
            let error = std::io::Error::last_os_error();
            libc::setegid(0);
            return Err(error);
        }
    }
    let result = f();
    // SAFETY: as above; back to root.
    unsafe {
        libc::seteuid(0);
        libc::setegid(0);
    }
    result
}

/// The target's /tmp as heapgraph reaches it: through /proc/PID/root when that may be looked into (a
/// container's /tmp is its own), else ours.
fn target_tmp(process: &Process) -> PathBuf {
    let theirs = PathBuf::from(format!("/proc/{}/root/tmp", process.pid));
    if std::fs::metadata(&theirs).is_ok() {
        theirs
    } else {
        PathBuf::from("/tmp")
    }
}

/// The `.attach_pid<PID>` file that tells the JVM a SIGQUIT asks for its attach listener; removed on drop.
struct Trigger(PathBuf);

impl Trigger {
    /// In the JVM's working directory, where it looks first, else in its /tmp; owned by the JVM's user,
    /// whom the JVM checks.
    fn create(process: &Process, nspid: u32, tmp: &Path) -> Result<Trigger, AttachError> {
        let name = format!(".attach_pid{nspid}");
        let cwd = PathBuf::from(format!("/proc/{}/cwd", process.pid)).join(&name);
        let in_tmp = tmp.join(&name);
        let path = [cwd, in_tmp.clone()]
            .into_iter()
            .find(|p| std::fs::File::create(p).is_ok())
            .ok_or_else(|| {
                AttachError::io(
                    in_tmp.display(),
                    "cannot create the file that asks the JVM for its attach listener",
                )
            })?;
        let trigger = Trigger(path);
        let owner = std::fs::metadata(&trigger.0).map_or(process.uid, |m| m.uid());
        if owner != process.uid {
            std::os::unix::fs::chown(&trigger.0, Some(process.uid), Some(process.gid))
                .map_err(|e| AttachError::io_path(&trigger.0, e))?;
        }
        Ok(trigger)
    }
}

impl Drop for Trigger {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The directory the JVM writes its dump in; removed on drop.
struct Staging {
    dir: SharedDir,
}

impl Staging {
    fn create(process: &Process, output: &Path) -> Result<Staging, AttachError> {
        let name = format!(".heapgraph-jvm-{}-{}", process.pid, std::process::id());
        Ok(Staging {
            dir: target_fs::create_dir_for_target(process, output, &name)?,
        })
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir.here);
    }
}
