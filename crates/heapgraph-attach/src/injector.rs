//! Getting a CPython 3.8-3.13 process to run a snippet, with ptrace and nothing else (no gdb).
//!
//! Everything that can fail is checked before the target is touched: the architecture, CPython's and
//! libc's symbols in the target's own files, and a canary (the same steps on a child of ours, proving
//! that this kernel gives back every register set as it was). Then the main thread is stopped, all its
//! register sets saved, and one of two things happens:
//!
//! * It holds the GIL, or runs code we know nothing of: the snippet is queued with `Py_AddPendingCall`,
//!   which only appends to a queue; the thread runs it at its next safe point between two bytecodes, as
//!   it runs signal handlers. Running Python at an arbitrary instruction (inside malloc, in the middle of
//!   a dict resize) could corrupt the heap, so nothing else is done there.
//! * It waits in a blocking system call that CPython makes with the GIL released (accept, select, poll,
//!   epoll, read, sleep...): no pending call would run before the call returns, which may be never. The
//!   thread is then at the same point as a C library calling back into Python from a blocking wait, so
//!   the snippet runs now, under `PyGILState_Ensure`/`PyGILState_Release`, as such a callback would.
//!
//! * It waits on a lock without the GIL (`Lock.acquire()`, `Event.wait()`, `Thread.join()`: a futex
//!   wait): the snippet is queued, and the wait ends with EINTR, as it ends when a signal arrives whose
//!   handler was installed without SA_RESTART, which is how CPython installs its own. CPython's lock
//!   acquisition then runs the pending calls (that is how Ctrl-C reaches a waiting main thread) and waits
//!   again; C library waits (condition variables, mutexes, joins) take the early end as a spurious wake-up
//!   and wait again.
//!
//! Every register set is restored, the system call the thread was in resumes as the kernel would have
//! resumed it (or ends with EINTR, in the lock case), and the thread is let go. The snippet lives in a page of its own made with
//! `mmap`: queued, it must outlive us (4 KiB are left per request); run at once, it is unmapped after.

use crate::canary;
use crate::ptrace::{Registers, TraceError, Tracee};
use crate::symbols::{self, MappedFile};
use crate::AttachError;
use std::time::{Duration, Instant};

/// CPython's functions we call. The first one names the file that holds CPython.
const PYTHON_FUNCTIONS: [&str; 5] = [
    "Py_AddPendingCall",
    "PyRun_SimpleString",
    "PyGILState_Check",
    "PyGILState_Ensure",
    "PyGILState_Release",
];
const LIBC_FUNCTIONS: [&str; 2] = ["mmap", "munmap"];

/// How long the main thread may take to stop, and a non-blocking call to return.
const QUICK: Duration = Duration::from_secs(10);

/// System calls that CPython makes only with the GIL released and in a retry loop: a thread waiting in
/// one holds no lock of the interpreter's, so it may call back into Python.
const BLOCKING_WAITS: [(i64, &str); 20] = [
    (libc::SYS_read, "read"),
    (libc::SYS_readv, "readv"),
    (libc::SYS_recvfrom, "recvfrom"),
    (libc::SYS_recvmsg, "recvmsg"),
    (libc::SYS_accept, "accept"),
    (libc::SYS_accept4, "accept4"),
    (libc::SYS_select, "select"),
    (libc::SYS_pselect6, "pselect6"),
    (libc::SYS_poll, "poll"),
    (libc::SYS_ppoll, "ppoll"),
    (libc::SYS_epoll_wait, "epoll_wait"),
    (libc::SYS_epoll_pwait, "epoll_pwait"),
    (libc::SYS_epoll_pwait2, "epoll_pwait2"),
    (libc::SYS_nanosleep, "nanosleep"),
    (libc::SYS_clock_nanosleep, "clock_nanosleep"),
    (libc::SYS_wait4, "wait4"),
    (libc::SYS_waitid, "waitid"),
    (libc::SYS_pause, "pause"),
    (libc::SYS_rt_sigtimedwait, "rt_sigtimedwait"),
    (libc::SYS_rt_sigsuspend, "rt_sigsuspend"),
];

/// The name of a system call CPython waits in with the GIL released; `None` for any other.
pub fn syscall_name(syscall: i64) -> Option<&'static str> {
    BLOCKING_WAITS
        .iter()
        .find(|(nr, _)| *nr == syscall)
        .map(|(_, name)| *name)
}

/// What the injection did.
#[derive(Debug, Clone, Copy)]
pub struct Injected {
    /// How long the main thread was stopped in our hands (all of it, a direct run included).
    pub stopped: Duration,
    pub how: How,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    /// Queued as a pending call; `main_held_gil` tells whether the main thread was running Python.
    Queued { main_held_gil: bool },
    /// Run at once on the main thread, which was waiting in this system call without the GIL.
    RunInWait { syscall: i64 },
    /// Queued, and the main thread's wait on a lock ended early so that it runs the pending call.
    QueuedAndWoken,
}

/// The addresses we call in the target, all found before it is touched.
struct Functions {
    python: MappedFile,
    add_pending_call: u64,
    run_simple_string: u64,
    gil_check: u64,
    gil_ensure: u64,
    gil_release: u64,
    pages: Pages,
}

/// libc's `mmap` and `munmap` in a traced process: where what we write into it is kept.
#[derive(Clone, Copy)]
pub(crate) struct Pages {
    mmap: u64,
    munmap: u64,
}

impl Pages {
    /// Finds them in the process's C library (glibc or musl); `None` when no such library is mapped.
    pub(crate) fn find(pid: u32, files: &[MappedFile]) -> Result<Option<Pages>, String> {
        let is_libc = |name: &str| {
            name.starts_with("libc.") || name.starts_with("libc-") || name.starts_with("ld-musl")
        };
        Ok(symbols::find(pid, files, is_libc, &LIBC_FUNCTIONS)?
            .filter(|f| f.addresses.len() == LIBC_FUNCTIONS.len())
            .map(|libc| Pages {
                mmap: libc.addresses["mmap"],
                munmap: libc.addresses["munmap"],
            }))
    }

    /// Maps `len` bytes of fresh read-write memory in the process, from the thread's registers `regs`.
    pub(crate) fn map(
        &self,
        tracee: &mut Tracee,
        regs: &libc::user_regs_struct,
        len: u64,
        limit: Duration,
    ) -> Result<u64, TraceError> {
        let page = tracee.call(
            regs,
            self.mmap,
            &[
                0,
                len,
                (libc::PROT_READ | libc::PROT_WRITE) as u64,
                (libc::MAP_PRIVATE | libc::MAP_ANONYMOUS) as u64,
                u64::MAX, // fd -1
                0,
            ],
            Some(limit),
        )?;
        if page == u64::MAX || page == 0 {
            return Err(TraceError::Memory {
                address: 0,
                error: std::io::Error::other("mmap in the target failed"),
            });
        }
        Ok(page)
    }

    pub(crate) fn unmap(
        &self,
        tracee: &mut Tracee,
        regs: &libc::user_regs_struct,
        page: u64,
        len: u64,
        limit: Duration,
    ) -> Result<(), TraceError> {
        tracee.call(regs, self.munmap, &[page, len], Some(limit))?;
        Ok(())
    }
}

/// A CPython process found fit to be injected into: its functions are known and this kernel passed the
/// trial run. Nothing of the process has been touched yet.
pub struct Injector {
    pid: u32,
    functions: Functions,
}

impl Injector {
    /// Every check that can be made without touching the process.
    pub fn prepare(pid: u32, exe: &str) -> Result<Injector, AttachError> {
        let unsupported = |detail: &str| AttachError::Unsupported {
            pid,
            exe: exe.to_string(),
            detail: detail.to_string(),
        };
        if !cfg!(all(target_arch = "x86_64", target_os = "linux")) {
            return Err(unsupported(
                "attaching is supported on x86_64 Linux only for now",
            ));
        }
        if shadow_stack_enabled(pid) {
            return Err(unsupported(
                "its main thread runs with a hardware shadow stack (x86_Thread_features: shstk), \
                 which heapgraph's calls into the process do not support yet; the process was not \
                 touched",
            ));
        }
        let functions = find_functions(pid, exe)?;
        canary::check().map_err(|detail| AttachError::Protocol {
            pid,
            detail: format!(
                "the process was not touched: this kernel failed heapgraph's trial run on a process \
                 of its own ({detail})"
            ),
        })?;
        Ok(Injector { pid, functions })
    }

    /// Runs or queues `snippet` (Python source) in the main thread. With `queue` false, only a thread
    /// waiting where the snippet can run at once (or be woken to run it) is reached, and `None` says
    /// the thread was let go untouched.
    pub fn inject(&self, snippet: &str, queue: bool) -> Result<Option<Injected>, AttachError> {
        let pid = self.pid;
        let _shielded = Shield::raise();
        let started = Instant::now();
        let mut tracee =
            Tracee::seize(pid as libc::pid_t, QUICK).map_err(|e| seize_error(pid, e))?;
        let saved = tracee
            .registers()
            .map_err(|e| traced_error(pid, "reading its registers", e))?;
        // past this point the thread's registers or memory may change: every way out restores them
        let outcome = run(&mut tracee, &saved, &self.functions, snippet, queue);
        let mut resumed = saved.clone();
        if let Ok(Some(How::QueuedAndWoken)) = outcome {
            // the futex wait returns EINTR, as if interrupted by a signal with a handler
            resumed.general.rax = -(libc::EINTR as i64) as u64;
            resumed.general.orig_rax = u64::MAX;
        }
        let restored = tracee
            .restore(&resumed)
            .and_then(|()| verify(&tracee, &resumed));
        let detached = tracee.detach();
        let how = outcome.map_err(|e| {
            traced_error(
                pid,
                &format!("calling into {}", self.functions.python.path),
                e,
            )
        })?;
        restored.map_err(|e| traced_error(pid, "restoring its registers", e))?;
        detached.map_err(|e| traced_error(pid, "detaching", e))?;
        Ok(how.map(|how| Injected {
            stopped: started.elapsed(),
            how,
        }))
    }
}

fn run(
    tracee: &mut Tracee,
    saved: &Registers,
    f: &Functions,
    snippet: &str,
    queue: bool,
) -> Result<Option<How>, TraceError> {
    let regs = &saved.general;
    let held_gil = tracee.call(regs, f.gil_check, &[], Some(QUICK))? != 0;
    let waiting = (!held_gil).then(|| saved.interrupted_syscall()).flatten();
    let reachable =
        waiting.is_some_and(|nr| syscall_name(nr as i64).is_some() || nr == libc::SYS_futex as u64);
    if !queue && !reachable {
        return Ok(None);
    }
    let page_size = (snippet.len() as u64 + 1).div_ceil(4096) * 4096;
    let page = f.pages.map(tracee, regs, page_size, QUICK)?;
    let mut text = snippet.as_bytes().to_vec();
    text.push(0);
    tracee.write(page, &text)?;
    match waiting {
        Some(syscall) if syscall_name(syscall as i64).is_some() => {
            let state = tracee.call(regs, f.gil_ensure, &[], None)?;
            tracee.call(regs, f.run_simple_string, &[page], None)?;
            tracee.call(regs, f.gil_release, &[state], Some(QUICK))?;
            f.pages.unmap(tracee, regs, page, page_size, QUICK)?;
            Ok(Some(How::RunInWait {
                syscall: syscall as i64,
            }))
        }
        _ => {
            let queued = tracee.call(
                regs,
                f.add_pending_call,
                &[f.run_simple_string, page],
                Some(QUICK),
            )?;
            if queued as i32 != 0 {
                f.pages.unmap(tracee, regs, page, page_size, QUICK)?;
                return Err(TraceError::Memory {
                    address: page,
                    error: std::io::Error::other(
                        "Py_AddPendingCall refused the request (its queue is full)",
                    ),
                });
            }
            if waiting == Some(libc::SYS_futex as u64) {
                return Ok(Some(How::QueuedAndWoken));
            }
            Ok(Some(How::Queued {
                main_held_gil: held_gil,
            }))
        }
    }
}

/// Reads the registers back and compares them with what was saved.
fn verify(tracee: &Tracee, saved: &Registers) -> Result<(), TraceError> {
    let now = tracee.registers()?;
    if canary::same_registers(&now, saved) {
        Ok(())
    } else {
        Err(TraceError::Memory {
            address: 0,
            error: std::io::Error::other("the registers read back differ from the ones saved"),
        })
    }
}

fn find_functions(pid: u32, exe: &str) -> Result<Functions, AttachError> {
    let unsupported = |detail: String| AttachError::Unsupported {
        pid,
        exe: exe.to_string(),
        detail,
    };
    let files = symbols::mapped_files(pid).map_err(|e| match e.kind() {
        std::io::ErrorKind::PermissionDenied => AttachError::NotPermitted {
            pid,
            detail: format!("cannot read /proc/{pid}/maps: {e}"),
        },
        _ => AttachError::NoProcess { pid },
    })?;
    let is_python = |name: &str| name.starts_with("python") || name.starts_with("libpython");
    let python = match symbols::find(pid, &files, is_python, &PYTHON_FUNCTIONS) {
        Ok(Some(found)) => Some(found),
        // an interpreter embedded under another name (uwsgi, a frozen app): look everywhere
        Ok(None) => {
            symbols::find(pid, &files, |n| !is_python(n), &PYTHON_FUNCTIONS).map_err(unsupported)?
        }
        Err(e) => return Err(unsupported(e)),
    };
    let python = python.ok_or_else(|| {
        unsupported(
            "none of its files exports CPython's functions (Py_AddPendingCall): not CPython, or a \
             statically linked python built without exported symbols"
                .into(),
        )
    })?;
    let missing: Vec<_> = PYTHON_FUNCTIONS
        .iter()
        .filter(|n| !python.addresses.contains_key(*n))
        .collect();
    if !missing.is_empty() {
        return Err(unsupported(format!(
            "{} exports no {missing:?}",
            python.file.path
        )));
    }
    let pages = Pages::find(pid, &files)
        .map_err(unsupported)?
        .ok_or_else(|| {
            unsupported("no C library with mmap and munmap is mapped (glibc or musl)".into())
        })?;
    let p = &python.addresses;
    Ok(Functions {
        add_pending_call: p["Py_AddPendingCall"],
        run_simple_string: p["PyRun_SimpleString"],
        gil_check: p["PyGILState_Check"],
        gil_ensure: p["PyGILState_Ensure"],
        gil_release: p["PyGILState_Release"],
        pages,
        python: python.file,
    })
}

/// Whether the kernel enforces a user shadow stack on the main thread: a function we call returns through
/// `ret` to an address the shadow stack does not hold, which would fault.
fn shadow_stack_enabled(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/status")).is_ok_and(|status| {
        status
            .lines()
            .filter_map(|l| l.strip_prefix("x86_Thread_features:"))
            .any(|features| features.split_whitespace().any(|f| f == "shstk"))
    })
}

fn seize_error(pid: u32, error: TraceError) -> AttachError {
    match error {
        TraceError::Request { errno, .. } if errno.raw_os_error() == Some(libc::ESRCH) => {
            AttachError::NoProcess { pid }
        }
        TraceError::Request { errno, .. } if errno.raw_os_error() == Some(libc::EPERM) => {
            AttachError::NotPermitted {
                pid,
                detail: format!("ptrace: {errno}"),
            }
        }
        TraceError::Exited => AttachError::Exited { pid },
        other => traced_error(pid, "stopping its main thread", other),
    }
}

fn traced_error(pid: u32, what: &str, error: TraceError) -> AttachError {
    match error {
        TraceError::Exited => AttachError::Exited { pid },
        other => AttachError::Protocol {
            pid,
            detail: format!("{what}: {other}"),
        },
    }
}

/// Keeps the terminal's and a supervisor's polite signals from ending heapgraph while it holds the
/// target's thread: dying then would let the thread go with our registers in it. Restored on drop.
struct Shield {
    old: Vec<(libc::c_int, libc::sighandler_t)>,
}

impl Shield {
    fn raise() -> Shield {
        let old = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT]
            .into_iter()
            .map(|s| (s, unsafe { libc::signal(s, libc::SIG_IGN) }))
            .collect();
        Shield { old }
    }
}

impl Drop for Shield {
    fn drop(&mut self) {
        for &(signal, handler) in &self.old {
            unsafe { libc::signal(signal, handler) };
        }
    }
}
