//! The trial run before a target is touched: a child of ours, asleep in a restartable system call, gets
//! the same treatment as the target (stopped, every register set saved, calls made on it, registers
//! restored, let go), and must then read back the registers it had and finish its sleep as if nothing had
//! happened. A kernel or CPU whose extended register state does not round-trip fails here, on our child,
//! instead of on the service.

use crate::injector::Pages;
use crate::ptrace::{Registers, Tracee};
use crate::symbols;
use std::time::{Duration, Instant};

/// The child's sleep: long enough to be caught inside it, short enough not to be waited for long.
const SLEEP: Duration = Duration::from_millis(400);
/// How long one call in the trial child may take.
const CALL_LIMIT: Duration = Duration::from_secs(5);

/// Runs the trial; the error says which step failed.
pub fn check() -> Result<(), String> {
    let child = Child::sleeping()?;
    let pid = child.pid;
    let mut tracee = Tracee::seize(pid, Duration::from_secs(5))
        .map_err(|e| format!("stopping the trial child: {e}"))?;
    let saved = tracee
        .registers()
        .map_err(|e| format!("reading its registers: {e}"))?;
    if saved.interrupted_syscall().is_none() {
        return Err("the trial child was not caught inside its sleep".into());
    }
    let files = symbols::mapped_files(pid as u32).map_err(|e| e.to_string())?;
    let pages = Pages::find(pid as u32, &files)?.ok_or("no C library found in the trial child")?;
    let calls = (|| {
        let page = pages.map(&mut tracee, &saved.general, 4096, CALL_LIMIT)?;
        tracee.write(page, b"heapgraph")?;
        let mut back = [0u8; 9];
        tracee.read(page, &mut back)?;
        pages.unmap(&mut tracee, &saved.general, page, 4096, CALL_LIMIT)?;
        Ok::<_, crate::ptrace::TraceError>(&back == b"heapgraph")
    })();
    tracee
        .restore(&saved)
        .map_err(|e| format!("restoring its registers: {e}"))?;
    let after = tracee
        .registers()
        .map_err(|e| format!("reading its registers back: {e}"))?;
    tracee.detach().map_err(|e| format!("detaching: {e}"))?;
    match calls {
        Ok(true) => {}
        Ok(false) => return Err("memory written in the trial child read back different".into()),
        Err(e) => return Err(format!("calls in the trial child: {e}")),
    }
    if !same_registers(&after, &saved) {
        return Err("its registers read back differ from the ones saved".into());
    }
    child.finished_sleep()
}

/// Whether two readings of a thread's registers are the same: every general register, and the extended
/// (or FP) state byte for byte.
pub fn same_registers(a: &Registers, b: &Registers) -> bool {
    let bytes = |r: &libc::user_regs_struct| {
        // SAFETY: user_regs_struct is plain integers with no padding
        unsafe {
            std::slice::from_raw_parts(
                (r as *const libc::user_regs_struct).cast::<u8>(),
                std::mem::size_of::<libc::user_regs_struct>(),
            )
        }
        .to_vec()
    };
    let fp_bytes = |r: &libc::user_fpregs_struct| {
        // SAFETY: user_fpregs_struct is plain integers with no padding
        unsafe {
            std::slice::from_raw_parts(
                (r as *const libc::user_fpregs_struct).cast::<u8>(),
                std::mem::size_of::<libc::user_fpregs_struct>(),
            )
        }
        .to_vec()
    };
    bytes(&a.general) == bytes(&b.general)
        && a.xstate == b.xstate
        && (a.xstate.is_some() || fp_bytes(&a.fp) == fp_bytes(&b.fp))
}

/// A forked child of ours that sleeps once and exits 0 when the sleep ended normally.
struct Child {
    pid: libc::pid_t,
    reaped: bool,
}

impl Child {
    fn sleeping() -> Result<Child, String> {
        let request = libc::timespec {
            tv_sec: 0,
            tv_nsec: SLEEP.as_nanos() as libc::c_long,
        };
        // SAFETY: the child calls only async-signal-safe functions (nanosleep, _exit)
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err(format!(
                "cannot start a trial child: {}",
                std::io::Error::last_os_error()
            ));
        }
        if pid == 0 {
            let r = unsafe { libc::nanosleep(&request, std::ptr::null_mut()) };
            let code = if r == 0 {
                0
            } else {
                std::io::Error::last_os_error().raw_os_error().unwrap_or(1)
            };
            unsafe { libc::_exit(code) };
        }
        let child = Child { pid, reaped: false };
        // wait until it sleeps, so that it is caught inside the system call
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let state = stat
                .rsplit(')')
                .next()
                .and_then(|s| s.split_whitespace().next());
            if state == Some("S") {
                return Ok(child);
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        Err("the trial child did not start sleeping".into())
    }

    /// Waits for the child's exit: its sleep must have ended as a sleep does.
    fn finished_sleep(mut self) -> Result<(), String> {
        let mut status = 0;
        let r = unsafe { libc::waitpid(self.pid, &mut status, 0) };
        self.reaped = r == self.pid;
        if !self.reaped {
            return Err(format!(
                "waiting for the trial child: {}",
                std::io::Error::last_os_error()
            ));
        }
        match (libc::WIFEXITED(status), libc::WEXITSTATUS(status)) {
            (true, 0) => Ok(()),
            (true, errno) => Err(format!(
                "the trial child's sleep failed after the attach: {}",
                std::io::Error::from_raw_os_error(errno)
            )),
            _ => Err(format!(
                "the trial child died after the attach (wait status {status:#x})"
            )),
        }
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if !self.reaped {
            unsafe {
                libc::kill(self.pid, libc::SIGKILL);
                libc::waitpid(self.pid, std::ptr::null_mut(), 0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn this_kernel_passes_the_trial_run() {
        super::check().unwrap();
    }
}
