//! One thread of another process under ptrace (x86_64 Linux): stop it, save and restore every register
//! set, read and write its memory, and make function calls on it.
//!
//! A call runs on the stopped thread with a return address of 0: when the function returns, the thread
//! faults at address 0, and since it is traced the fault stops it in our hands before any handler of the
//! target sees it; the signal is then discarded. No code is written into the target.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::time::{Duration, Instant};

/// `PTRACE_GETREGSET`/`SETREGSET` note type of the x86 extended state (XSAVE area: x87, SSE, AVX, AVX-512,
/// AMX tiles...), from the kernel's `elf.h`.
const NT_X86_XSTATE: libc::c_int = 0x202;
/// Large enough for every XSAVE layout known (AMX makes it about 11 KiB); the kernel reports the real size.
const XSTATE_MAX: usize = 64 * 1024;
/// The return address of our calls: a fault there means the call returned.
const RETURN_TRAP: u64 = 0;
/// Below the stack pointer: the 128-byte red zone of the SysV ABI, with room to spare.
const STACK_GAP: u64 = 1024;

/// What can go wrong on a traced thread.
#[derive(Debug)]
pub enum TraceError {
    /// A ptrace request failed; `errno` as the kernel gave it.
    Request {
        what: &'static str,
        errno: std::io::Error,
    },
    /// The process exited (or was killed) while we worked.
    Exited,
    /// The thread did not stop (or a call did not return) within the time given.
    TimedOut(&'static str),
    /// A call ended in a fault other than our return: `signal` at `rip`.
    Faulted { signal: i32, rip: u64 },
    /// Memory of the target could not be read or written.
    Memory { address: u64, error: std::io::Error },
}

impl std::fmt::Display for TraceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TraceError::Request { what, errno } => write!(f, "ptrace {what}: {errno}"),
            TraceError::Exited => write!(f, "the process exited"),
            TraceError::TimedOut(what) => write!(f, "{what} timed out"),
            TraceError::Faulted { signal, rip } => {
                write!(f, "the call faulted with signal {signal} at {rip:#x}")
            }
            TraceError::Memory { address, error } => {
                write!(f, "target memory at {address:#x}: {error}")
            }
        }
    }
}

/// Every register set of a stopped thread, as the kernel gave them.
#[derive(Clone)]
pub struct Registers {
    pub general: libc::user_regs_struct,
    /// The XSAVE area at the exact size the kernel reported; `None` on a kernel without the regset, where
    /// `fp` carries the x87/SSE state instead.
    pub xstate: Option<Vec<u8>>,
    pub fp: libc::user_fpregs_struct,
}

impl Registers {
    /// Whether the thread was stopped inside a system call that the kernel will restart or fail with
    /// EINTR when the thread resumes: the syscall number, else `None`.
    pub fn interrupted_syscall(&self) -> Option<u64> {
        const RESTART: [i64; 5] = [-512, -513, -514, -516, -(libc::EINTR as i64)];
        let nr = self.general.orig_rax as i64;
        (nr >= 0 && RESTART.contains(&(self.general.rax as i64))).then_some(nr as u64)
    }
}

/// A thread we have seized. Dropping it detaches, leaving the registers as they are: restore first.
pub struct Tracee {
    pub tid: libc::pid_t,
    mem: File,
    attached: bool,
}

impl Tracee {
    /// Seizes `tid` and stops it; waits up to `limit` for the stop.
    pub fn seize(tid: libc::pid_t, limit: Duration) -> Result<Tracee, TraceError> {
        request(libc::PTRACE_SEIZE, tid, 0, 0, "SEIZE")?;
        let mem = File::options()
            .read(true)
            .write(true)
            .open(format!("/proc/{tid}/mem"));
        let mut tracee = Tracee {
            tid,
            // opened after the seize: as a tracer we may always open it
            mem: match mem {
                Ok(m) => m,
                Err(error) => {
                    let _ = request(libc::PTRACE_DETACH, tid, 0, 0, "DETACH");
                    return Err(TraceError::Memory { address: 0, error });
                }
            },
            attached: true,
        };
        request(libc::PTRACE_INTERRUPT, tid, 0, 0, "INTERRUPT")?;
        tracee.wait_for_interrupt(limit)?;
        Ok(tracee)
    }

    /// Waits for the stop our interrupt asked for. A signal that arrives first stops the thread too: it
    /// is delivered as it would have been without us, and the wait goes on for our own stop.
    fn wait_for_interrupt(&mut self, limit: Duration) -> Result<(), TraceError> {
        let deadline = Instant::now() + limit;
        loop {
            match self.wait(deadline, "stopping the thread")? {
                Stop::Event => return Ok(()),
                Stop::Signal(signal) => self.resume(signal)?,
            }
        }
    }

    fn wait(&mut self, deadline: Instant, what: &'static str) -> Result<Stop, TraceError> {
        loop {
            let mut status = 0;
            let r = unsafe { libc::waitpid(self.tid, &mut status, libc::__WALL | libc::WNOHANG) };
            if r < 0 {
                let errno = std::io::Error::last_os_error();
                if errno.raw_os_error() == Some(libc::EINTR) {
                    continue;
                }
                if errno.raw_os_error() == Some(libc::ECHILD) {
                    self.attached = false;
                    return Err(TraceError::Exited);
                }
                return Err(TraceError::Request {
                    what: "waitpid",
                    errno,
                });
            }
            if r == 0 {
                if Instant::now() >= deadline {
                    return Err(TraceError::TimedOut(what));
                }
                std::thread::sleep(Duration::from_micros(200));
                continue;
            }
            if libc::WIFEXITED(status) || libc::WIFSIGNALED(status) {
                self.attached = false;
                return Err(TraceError::Exited);
            }
            if libc::WIFSTOPPED(status) {
                // a ptrace event stop (ours: PTRACE_EVENT_STOP) or a group stop carries the event in
                // the high bits; a plain stop is a signal on its way to the thread
                if status >> 16 != 0 {
                    return Ok(Stop::Event);
                }
                return Ok(Stop::Signal(libc::WSTOPSIG(status)));
            }
        }
    }

    fn resume(&self, signal: i32) -> Result<(), TraceError> {
        request(libc::PTRACE_CONT, self.tid, 0, signal as usize, "CONT")
    }

    /// Every register set, at the sizes the kernel reports.
    pub fn registers(&self) -> Result<Registers, TraceError> {
        let mut general: libc::user_regs_struct = unsafe { std::mem::zeroed() };
        request(
            libc::PTRACE_GETREGS,
            self.tid,
            0,
            &mut general as *mut _ as usize,
            "GETREGS",
        )?;
        let mut fp: libc::user_fpregs_struct = unsafe { std::mem::zeroed() };
        request(
            libc::PTRACE_GETFPREGS,
            self.tid,
            0,
            &mut fp as *mut _ as usize,
            "GETFPREGS",
        )?;
        let mut buffer = vec![0u8; XSTATE_MAX];
        let mut iov = libc::iovec {
            iov_base: buffer.as_mut_ptr().cast(),
            iov_len: buffer.len(),
        };
        let xstate = match request(
            libc::PTRACE_GETREGSET,
            self.tid,
            NT_X86_XSTATE as usize,
            &mut iov as *mut _ as usize,
            "GETREGSET",
        ) {
            Ok(()) => {
                buffer.truncate(iov.iov_len);
                Some(buffer)
            }
            // no XSAVE on this CPU or kernel: the FP set carries everything there is
            Err(TraceError::Request { errno, .. })
                if errno.raw_os_error() == Some(libc::EINVAL) =>
            {
                None
            }
            Err(e) => return Err(e),
        };
        Ok(Registers {
            general,
            xstate,
            fp,
        })
    }

    /// Puts back every register set; the extended state at the size it was read with.
    pub fn restore(&self, saved: &Registers) -> Result<(), TraceError> {
        match &saved.xstate {
            Some(xstate) => {
                let mut copy = xstate.clone();
                let mut iov = libc::iovec {
                    iov_base: copy.as_mut_ptr().cast(),
                    iov_len: copy.len(),
                };
                request(
                    libc::PTRACE_SETREGSET,
                    self.tid,
                    NT_X86_XSTATE as usize,
                    &mut iov as *mut _ as usize,
                    "SETREGSET",
                )?;
            }
            None => request(
                libc::PTRACE_SETFPREGS,
                self.tid,
                0,
                &saved.fp as *const _ as usize,
                "SETFPREGS",
            )?,
        }
        self.set_general(&saved.general)
    }

    fn set_general(&self, regs: &libc::user_regs_struct) -> Result<(), TraceError> {
        request(
            libc::PTRACE_SETREGS,
            self.tid,
            0,
            regs as *const _ as usize,
            "SETREGS",
        )
    }

    pub fn read(&self, address: u64, buffer: &mut [u8]) -> Result<(), TraceError> {
        self.mem
            .read_exact_at(buffer, address)
            .map_err(|error| TraceError::Memory { address, error })
    }

    pub fn write(&self, address: u64, bytes: &[u8]) -> Result<(), TraceError> {
        self.mem
            .write_all_at(bytes, address)
            .map_err(|error| TraceError::Memory { address, error })
    }

    /// Calls `function(args...)` (at most six integer arguments) on the stopped thread, starting from
    /// the registers `from`, and returns `rax`. The thread's registers are left as the call ended them:
    /// the caller restores them. Signals that arrive during the call are delivered as they would have
    /// been; a fault of the call itself is an error. `limit`, when given, bounds the wait.
    pub fn call(
        &mut self,
        from: &libc::user_regs_struct,
        function: u64,
        args: &[u64],
        limit: Option<Duration>,
    ) -> Result<u64, TraceError> {
        assert!(args.len() <= 6, "arguments beyond six go on the stack");
        let mut regs = *from;
        // 16-byte aligned before the return address is pushed, as the ABI wants at a call
        let sp = ((from.rsp - STACK_GAP) & !15) - 8;
        let mut below = [0u8; 8];
        self.read(sp, &mut below)?;
        self.write(sp, &RETURN_TRAP.to_le_bytes())?;
        regs.rsp = sp;
        regs.rip = function;
        regs.rax = 0;
        // not in a system call any more: the kernel must not restart one when the thread resumes
        regs.orig_rax = u64::MAX;
        regs.eflags &= !0x400; // direction flag clear, as the ABI wants at a call
        let registers = [
            &mut regs.rdi,
            &mut regs.rsi,
            &mut regs.rdx,
            &mut regs.rcx,
            &mut regs.r8,
            &mut regs.r9,
        ];
        for (register, value) in registers.into_iter().zip(args) {
            *register = *value;
        }
        self.set_general(&regs)?;
        let result = self.run_until_return(limit);
        // the word we wrote lies below the stack pointer the thread will get back, but it is put back too
        let restored = self.write(sp, &below);
        let value = result?;
        restored?;
        Ok(value)
    }

    fn run_until_return(&mut self, limit: Option<Duration>) -> Result<u64, TraceError> {
        // far in the future stands for no limit
        let deadline = Instant::now() + limit.unwrap_or(Duration::from_secs(365 * 86_400));
        self.resume(0)?;
        loop {
            match self.wait(deadline, "the call in the target")? {
                Stop::Event => self.resume(0)?,
                Stop::Signal(signal) => {
                    let fault = matches!(
                        signal,
                        libc::SIGSEGV | libc::SIGBUS | libc::SIGILL | libc::SIGFPE
                    );
                    if !fault {
                        self.resume(signal)?;
                        continue;
                    }
                    let mut regs: libc::user_regs_struct = unsafe { std::mem::zeroed() };
                    request(
                        libc::PTRACE_GETREGS,
                        self.tid,
                        0,
                        &mut regs as *mut _ as usize,
                        "GETREGS",
                    )?;
                    if signal == libc::SIGSEGV && regs.rip == RETURN_TRAP {
                        return Ok(regs.rax);
                    }
                    return Err(TraceError::Faulted {
                        signal,
                        rip: regs.rip,
                    });
                }
            }
        }
    }

    /// Lets the thread go.
    pub fn detach(mut self) -> Result<(), TraceError> {
        self.attached = false;
        request(libc::PTRACE_DETACH, self.tid, 0, 0, "DETACH")
    }
}

impl Drop for Tracee {
    fn drop(&mut self) {
        if self.attached {
            let _ = request(libc::PTRACE_DETACH, self.tid, 0, 0, "DETACH");
        }
    }
}

enum Stop {
    /// A ptrace event stop: our interrupt (or a group stop).
    Event,
    /// A signal on its way to the thread.
    Signal(i32),
}

fn request(
    op: libc::c_uint,
    tid: libc::pid_t,
    addr: usize,
    data: usize,
    what: &'static str,
) -> Result<(), TraceError> {
    let r = unsafe {
        libc::ptrace(
            op,
            tid,
            addr as *mut libc::c_void,
            data as *mut libc::c_void,
        )
    };
    if r < 0 {
        let errno = std::io::Error::last_os_error();
        if errno.raw_os_error() == Some(libc::ESRCH) && op != libc::PTRACE_SEIZE {
            return Err(TraceError::Exited);
        }
        return Err(TraceError::Request { what, errno });
    }
    Ok(())
}
