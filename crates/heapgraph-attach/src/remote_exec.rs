//! PEP 768's remote execution, done by heapgraph itself: what `sys.remote_exec(pid, script)` does on
//! CPython 3.14+, without a Python on this side. The target's `_PyRuntime` is found in its ELF files
//! (through /proc/PID/root, so a target in a chroot or container works), its `_Py_DebugOffsets` says
//! where the main thread's remote-debugger buffer is, and three writes queue the request: the script
//! path, the pending flag, and the eval-breaker bit that makes the thread look at its next safe point.
//! No process is stopped; the target runs the script between two bytecodes, as it would a pending call.

use crate::debug_offsets::{self, DebugOffsets, HEADER_LEN};
use crate::{symbols, AttachError};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// A request queued in the main thread of the target.
pub struct Queued {
    memory: Memory,
    pending_at: u64,
    path_at: u64,
    /// The path written, NUL included.
    path: Vec<u8>,
}

impl Queued {
    /// Takes the request back when the main thread has not taken it yet (the pending flag is still set
    /// and the buffer still holds this request's path), so that the thread does not later try to run a
    /// script whose hand-over directory is gone, which CPython reports on the target's stderr. True when
    /// it was taken back.
    pub fn withdraw(&self) -> bool {
        let mut queued = vec![0u8; self.path.len()];
        let ours = self.memory.read_i32(self.pending_at).ok() == Some(1)
            && self.memory.read(self.path_at, &mut queued).is_ok()
            && queued == self.path;
        ours && self
            .memory
            .write(self.pending_at, &0i32.to_ne_bytes())
            .is_ok()
    }
}

/// Queues `script` (a path as the target sees it) to be run by the main thread of CPython 3.14+
/// process `pid`, whose executable is `exe`.
pub fn queue(pid: u32, exe: &str, script: &Path) -> Result<Queued, AttachError> {
    let unsupported = |detail: String| AttachError::Unsupported {
        pid,
        exe: exe.to_string(),
        detail,
    };
    let protocol = |detail: String| AttachError::Protocol { pid, detail };
    let memory = Memory { pid };
    let runtime = runtime_address(pid)?;

    let mut head = [0u8; HEADER_LEN];
    memory.read(runtime, &mut head)?;
    let header = debug_offsets::header(&head).map_err(unsupported)?;
    let mut table = vec![0u8; header.len];
    memory.read(runtime, &mut table)?;
    let offsets = debug_offsets::parse(&table).map_err(unsupported)?;
    let version = debug_offsets::version_text(offsets.version);

    let interpreter = memory.read_u64(runtime + offsets.interpreters_head)?;
    if interpreter == 0 {
        return Err(protocol(format!(
            "CPython {version} has no interpreter (it is starting or shutting down)"
        )));
    }
    let enabled = memory.read_i32(interpreter + offsets.remote_debugging_enabled)?;
    if enabled != 1 {
        return Err(unsupported(format!(
            "remote debugging is disabled in this CPython {version} process: it was started with \
             PYTHON_DISABLE_REMOTE_DEBUG set or with -X disable-remote-debug (or its Python was built \
             --without-remote-debug), so it ignores sys.remote_exec and heapgraph's requests alike. \
             Start it without them, or with the dumper preloaded (heapgraph run)"
        )));
    }
    let thread = memory.read_u64(interpreter + offsets.threads_main)?;
    if thread == 0 {
        return Err(protocol(format!(
            "CPython {version} has no main thread state (it is starting or shutting down)"
        )));
    }
    let path = script_path_bytes(script, &offsets).map_err(protocol)?;
    let pending_at = thread + offsets.pending_call;
    let path_at = thread + offsets.script_path;
    if memory.read_i32(pending_at)? != 0 {
        // a script queued and not yet run: ours from an earlier request that was withdrawn (the
        // hand-over directory it names is gone, so it would do nothing), or another debugger's
        let mut queued = vec![0u8; offsets.script_path_size as usize];
        memory.read(path_at, &mut queued)?;
        let queued = &queued[..queued.iter().position(|&b| b == 0).unwrap_or(queued.len())];
        if !queued
            .windows(HANDOFF_MARK.len())
            .any(|w| w == HANDOFF_MARK)
        {
            return Err(protocol(format!(
                "another debugger's sys.remote_exec request ({}) is waiting for the main thread; \
                 try again once it has run",
                String::from_utf8_lossy(queued)
            )));
        }
    }
    // The order sys.remote_exec uses: the path is complete before the flag says it is there, and the
    // flag is set before the bit makes the thread look.
    memory.write(path_at, &path)?;
    memory.write(pending_at, &1i32.to_ne_bytes())?;
    // Only the eval breaker's low byte holds the event bits (the bits above it are the instrumentation
    // version), so only that byte is rewritten, the first on x86_64 (little-endian; symbols.rs takes no
    // other architecture). The target may change the word between this read and this write, as it may
    // under sys.remote_exec, which rewrites all eight bytes; a narrower write can lose fewer updates.
    let breaker_at = thread + offsets.eval_breaker;
    let mut breaker = [0u8; 1];
    memory.read(breaker_at, &mut breaker)?;
    memory.write(breaker_at, &[breaker[0] | offsets.please_stop_bit])?;
    Ok(Queued {
        memory,
        pending_at,
        path_at,
        path,
    })
}

/// What every hand-over directory's name holds (`handoff.rs`), to recognise a request of ours.
const HANDOFF_MARK: &[u8] = b"/.heapgraph-attach-";

/// The script's path, NUL-terminated, if it fits the target's buffer.
fn script_path_bytes(script: &Path, offsets: &DebugOffsets) -> Result<Vec<u8>, String> {
    let bytes = script.as_os_str().as_bytes();
    if bytes.contains(&0) {
        return Err(format!("{} holds a NUL byte", script.display()));
    }
    if bytes.len() as u64 >= offsets.script_path_size {
        return Err(format!(
            "the request's path {} is {} bytes long; the target takes at most {}: pass -o in a \
             directory with a shorter path",
            script.display(),
            bytes.len(),
            offsets.script_path_size - 1
        ));
    }
    let mut path = bytes.to_vec();
    path.push(0);
    Ok(path)
}

/// Where `_PyRuntime` is in process `pid`: the first of its python or libpython files that defines it.
fn runtime_address(pid: u32) -> Result<u64, AttachError> {
    let files = symbols::mapped_files(pid).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => AttachError::NoProcess { pid },
        std::io::ErrorKind::PermissionDenied => AttachError::NotPermitted {
            pid,
            detail: format!("reading /proc/{pid}/maps: {e}"),
        },
        _ => AttachError::io(format!("/proc/{pid}/maps"), e),
    })?;
    let python = |name: &str| name.starts_with("python") || name.starts_with("libpython");
    let found = symbols::find(pid, &files, python, &["_PyRuntime"])
        .map_err(|detail| AttachError::Protocol { pid, detail })?
        .ok_or_else(|| AttachError::Protocol {
            pid,
            detail: "none of its python or libpython files defines _PyRuntime, where CPython \
                     keeps the offsets a remote debugger needs"
                .into(),
        })?;
    Ok(found.addresses["_PyRuntime"])
}

/// Another process's memory, read and written with process_vm_readv/process_vm_writev: the kernel
/// checks the same ptrace rights as for attaching, but the process is neither stopped nor traced.
struct Memory {
    pid: u32,
}

impl Memory {
    fn read(&self, address: u64, buf: &mut [u8]) -> Result<(), AttachError> {
        let local = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        let remote = libc::iovec {
            iov_base: address as usize as *mut libc::c_void,
            iov_len: buf.len(),
        };
        // SAFETY: `local` describes `buf`, which is valid for writes of its whole length and borrowed
        // mutably for the call; `remote` is an address in the other process, which the kernel checks
        // and this process never dereferences.
        let done =
            unsafe { libc::process_vm_readv(self.pid as libc::pid_t, &local, 1, &remote, 1, 0) };
        self.check(done, buf.len(), address, "read")
    }

    fn write(&self, address: u64, bytes: &[u8]) -> Result<(), AttachError> {
        let local = libc::iovec {
            iov_base: bytes.as_ptr() as *mut libc::c_void,
            iov_len: bytes.len(),
        };
        let remote = libc::iovec {
            iov_base: address as usize as *mut libc::c_void,
            iov_len: bytes.len(),
        };
        // SAFETY: `local` describes `bytes`, valid for reads of its whole length (the kernel only reads
        // through it, despite the `*mut` the struct needs); `remote` is an address in the other process,
        // which the kernel checks and this process never dereferences.
        let done =
            unsafe { libc::process_vm_writev(self.pid as libc::pid_t, &local, 1, &remote, 1, 0) };
        self.check(done, bytes.len(), address, "write")
    }

    fn read_u64(&self, address: u64) -> Result<u64, AttachError> {
        let mut bytes = [0u8; 8];
        self.read(address, &mut bytes)?;
        Ok(u64::from_ne_bytes(bytes))
    }

    fn read_i32(&self, address: u64) -> Result<i32, AttachError> {
        let mut bytes = [0u8; 4];
        self.read(address, &mut bytes)?;
        Ok(i32::from_ne_bytes(bytes))
    }

    fn check(&self, done: isize, len: usize, address: u64, what: &str) -> Result<(), AttachError> {
        let pid = self.pid;
        if done == len as isize {
            return Ok(());
        }
        if done >= 0 {
            return Err(AttachError::Protocol {
                pid,
                detail: format!("only {done} of {len} bytes at {address:#x} could be {what}"),
            });
        }
        let error = std::io::Error::last_os_error();
        Err(match error.raw_os_error() {
            Some(libc::ESRCH) => AttachError::NoProcess { pid },
            Some(libc::EPERM) => AttachError::NotPermitted {
                pid,
                detail: format!("process_vm_{what}v: {error}"),
            },
            _ => AttachError::Protocol {
                pid,
                detail: format!("cannot {what} {len} bytes at {address:#x}: {error}"),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_writes_a_process_memory() {
        let memory = Memory {
            pid: std::process::id(),
        };
        let mut target = [1u8, 2, 3, 4, 5, 6, 7, 8];
        let address = target.as_mut_ptr() as u64;
        assert_eq!(
            memory.read_u64(address).unwrap(),
            u64::from_ne_bytes([1, 2, 3, 4, 5, 6, 7, 8])
        );
        memory.write(address + 2, &[9, 9]).unwrap();
        // the kernel wrote behind the compiler's back: read it back through a volatile read
        // SAFETY: `target` is a live local array of 8 bytes and index 2 is in bounds.
        let written = unsafe { std::ptr::read_volatile(target.as_ptr().add(2)) };
        assert_eq!(written, 9);
        assert!(matches!(
            memory.read(0, &mut [0u8; 8]),
            Err(AttachError::Protocol { .. })
        ));
    }

    #[test]
    fn a_process_that_is_gone_is_no_process() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        let memory = Memory { pid };
        assert!(matches!(
            memory.read_u64(0x1000),
            Err(AttachError::NoProcess { .. })
        ));
    }

    #[test]
    fn a_path_must_fit_the_target_buffer_with_its_nul() {
        let offsets = DebugOffsets {
            version: 0x030e0af0,
            free_threaded: false,
            interpreters_head: 0,
            threads_main: 0,
            remote_debugging_enabled: 0,
            eval_breaker: 0,
            pending_call: 0,
            script_path: 4,
            script_path_size: 8,
            please_stop_bit: 0x20,
        };
        assert_eq!(
            script_path_bytes(Path::new("/a/b.py"), &offsets).unwrap(),
            b"/a/b.py\0"
        );
        let long = script_path_bytes(Path::new("/a/bc.py"), &offsets).unwrap_err();
        assert!(long.contains("at most 7"), "{long}");
    }
}
