//! CPython's `_Py_DebugOffsets` (3.14+), the table at the start of `_PyRuntime` that tells an outside
//! process where the fields it needs are: read only for layouts heapgraph knows.
//!
//! The table is a cookie (`xdebugpy`), `PY_VERSION_HEX`, a free-threading flag, then groups of `uint64_t`
//! offsets, one group per structure. Groups grow between minor versions (3.15 added thread-state and
//! type-object fields before `debugger_support`), and CPython itself assumes the table is stable only
//! across the patch releases of one final minor version (`Python/remote_debugging.c`). So the position of
//! each group heapgraph reads is written down here per minor version, from that version's
//! `Include/internal/pycore_debug_offsets.h`, and a pre-release or a minor version not listed is refused.

/// The cookie `_Py_DebugOffsets` starts with.
pub const COOKIE: &[u8; 8] = b"xdebugpy";

/// Bytes to read from `_PyRuntime` before the version is known: cookie, version, free_threaded.
pub const HEADER_LEN: usize = 24;

/// `_PY_EVAL_PLEASE_STOP_BIT` of `Include/internal/pycore_ceval.h`, `1U << 5` in 3.14 and 3.15: the
/// eval-breaker bit `sys.remote_exec` sets so that the thread runs `_Py_HandlePending`, which runs a
/// pending remote-debugger script.
const PLEASE_STOP_BIT_3_14: u8 = 1 << 5;

/// Where the groups heapgraph reads sit in one minor version's table.
struct Layout {
    minor: u32,
    /// Byte offset of `debugger_support` in `_Py_DebugOffsets`.
    debugger_support: usize,
    /// `sizeof(_Py_DebugOffsets)`.
    len: usize,
    please_stop_bit: u8,
}

/// Counted from the headers: 8 bytes of cookie and one `uint64_t` per field before the group. The groups
/// before `thread_state` (runtime and interpreter state) are the same in both.
const LAYOUTS: &[Layout] = &[
    Layout {
        minor: 14,
        debugger_support: 712,
        len: 760,
        please_stop_bit: PLEASE_STOP_BIT_3_14,
    },
    Layout {
        minor: 15,
        debugger_support: 840,
        len: 888,
        please_stop_bit: PLEASE_STOP_BIT_3_14,
    },
];

/// Byte offsets of the groups that start at the same place in every known layout.
const RUNTIME_STATE: usize = 24;
const INTERPRETER_STATE: usize = 48;
const THREAD_STATE: usize = 176;

/// What `sys.remote_exec` needs from the table, every offset checked against its structure's size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebugOffsets {
    /// `PY_VERSION_HEX` of the target.
    pub version: u64,
    pub free_threaded: bool,
    /// Offset of `interpreters.head` (`PyInterpreterState *`) in `_PyRuntimeState`.
    pub interpreters_head: u64,
    /// Offset of `threads.main` (`PyThreadState *`) in `PyInterpreterState`.
    pub threads_main: u64,
    /// Offset of `config.remote_debug` (an `int`, 1 when allowed) in `PyInterpreterState`.
    pub remote_debugging_enabled: u64,
    /// Offset of `eval_breaker` (a `uintptr_t`) in `PyThreadState`.
    pub eval_breaker: u64,
    /// Offset of `remote_debugger_support.debugger_pending_call` (an `int32_t`) in `PyThreadState`.
    pub pending_call: u64,
    /// Offset of `remote_debugger_support.debugger_script_path` in `PyThreadState`.
    pub script_path: u64,
    /// The size of that buffer, its terminating NUL included.
    pub script_path_size: u64,
    /// The eval-breaker bit that makes the thread look at the pending call.
    pub please_stop_bit: u8,
}

/// The version and flag at the start of the table, checked before anything else is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub version: u64,
    pub free_threaded: bool,
    /// How many bytes the whole table of this version takes.
    pub len: usize,
}

/// `3.14.10`, or `3.15.0b2` for a pre-release, from a `PY_VERSION_HEX`.
pub fn version_text(version: u64) -> String {
    let (major, minor, micro) = (
        version >> 24 & 0xff,
        version >> 16 & 0xff,
        version >> 8 & 0xff,
    );
    let level = match version >> 4 & 0xf {
        0xa => "a",
        0xb => "b",
        0xc => "rc",
        0xf => "",
        _ => "?",
    };
    let serial = if level.is_empty() {
        String::new()
    } else {
        (version & 0xf).to_string()
    };
    format!("{major}.{minor}.{micro}{level}{serial}")
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"))
}

/// Checks the cookie and the version; `Err` says why the table cannot be used.
pub fn header(bytes: &[u8; HEADER_LEN]) -> Result<Header, String> {
    if &bytes[..8] != COOKIE {
        return Err(format!(
            "_PyRuntime does not start with the _Py_DebugOffsets cookie \"xdebugpy\" (found {:?}), \
             so its layout cannot be read; CPython has this table from 3.13 and PEP 768's remote \
             execution from 3.14",
            String::from_utf8_lossy(&bytes[..8])
        ));
    }
    let version = u64_at(bytes, 8);
    let free_threaded = match u64_at(bytes, 16) {
        0 => false,
        1 => true,
        other => {
            return Err(format!(
                "_Py_DebugOffsets.free_threaded is {other}, neither 0 nor 1"
            ))
        }
    };
    let (major, minor) = (version >> 24 & 0xff, version >> 16 & 0xff);
    let known = || {
        LAYOUTS
            .iter()
            .map(|l| format!("3.{}", l.minor))
            .collect::<Vec<_>>()
            .join(" and ")
    };
    let Some(layout) = LAYOUTS
        .iter()
        .find(|l| major == 3 && minor == u64::from(l.minor))
    else {
        return Err(format!(
            "it runs CPython {}, whose _Py_DebugOffsets layout this heapgraph does not know \
             (it knows the final releases of {})",
            version_text(version),
            known()
        ));
    };
    if version >> 4 & 0xf != 0xf {
        return Err(format!(
            "it runs CPython {}, a pre-release: the _Py_DebugOffsets layout may change between \
             pre-releases, and this heapgraph knows only the final releases of {}",
            version_text(version),
            known()
        ));
    }
    Ok(Header {
        version,
        free_threaded,
        len: layout.len,
    })
}

/// Reads the offsets `sys.remote_exec` uses from the whole table (`header(..).len` bytes). Every offset
/// must fall inside its structure as the same table sizes it, so a damaged table is refused, not used.
pub fn parse(bytes: &[u8]) -> Result<DebugOffsets, String> {
    let head: &[u8; HEADER_LEN] = bytes
        .get(..HEADER_LEN)
        .and_then(|h| h.try_into().ok())
        .ok_or("the _Py_DebugOffsets table is cut short")?;
    let header = header(head)?;
    let layout = LAYOUTS
        .iter()
        .find(|l| u64::from(l.minor) == header.version >> 16 & 0xff)
        .expect("header() accepted a listed version");
    if bytes.len() < layout.len {
        return Err("the _Py_DebugOffsets table is cut short".into());
    }
    let runtime_size = u64_at(bytes, RUNTIME_STATE);
    let interpreter_size = u64_at(bytes, INTERPRETER_STATE);
    let thread_size = u64_at(bytes, THREAD_STATE);
    let support = |i: usize| u64_at(bytes, layout.debugger_support + 8 * i);
    let remote_support = support(1);
    let offsets = DebugOffsets {
        version: header.version,
        free_threaded: header.free_threaded,
        interpreters_head: u64_at(bytes, RUNTIME_STATE + 16),
        threads_main: u64_at(bytes, INTERPRETER_STATE + 32),
        eval_breaker: support(0),
        remote_debugging_enabled: support(2),
        pending_call: remote_support.saturating_add(support(3)),
        script_path: remote_support.saturating_add(support(4)),
        script_path_size: support(5),
        please_stop_bit: layout.please_stop_bit,
    };
    let within = |what: &str, offset: u64, len: u64, size: u64, of: &str| {
        if offset.saturating_add(len) <= size {
            Ok(())
        } else {
            Err(format!(
                "_Py_DebugOffsets puts {what} at {offset} (+{len} bytes), outside {of} of {size} \
                 bytes: the table is not what CPython {} writes",
                version_text(header.version)
            ))
        }
    };
    within(
        "interpreters.head",
        offsets.interpreters_head,
        8,
        runtime_size,
        "_PyRuntimeState",
    )?;
    within(
        "threads.main",
        offsets.threads_main,
        8,
        interpreter_size,
        "PyInterpreterState",
    )?;
    within(
        "config.remote_debug",
        offsets.remote_debugging_enabled,
        4,
        interpreter_size,
        "PyInterpreterState",
    )?;
    within(
        "eval_breaker",
        offsets.eval_breaker,
        8,
        thread_size,
        "PyThreadState",
    )?;
    within(
        "debugger_pending_call",
        offsets.pending_call,
        4,
        thread_size,
        "PyThreadState",
    )?;
    if !(2..=4096).contains(&offsets.script_path_size) {
        return Err(format!(
            "_Py_DebugOffsets gives the debugger script buffer {} bytes (CPython's is 512)",
            offsets.script_path_size
        ));
    }
    within(
        "debugger_script_path",
        offsets.script_path,
        offsets.script_path_size,
        thread_size,
        "PyThreadState",
    )?;
    Ok(offsets)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A table as CPython 3.`minor` writes it, with plausible offsets.
    fn table(minor: u32, level: u64) -> Vec<u8> {
        let layout = LAYOUTS.iter().find(|l| l.minor == minor).unwrap();
        let mut bytes = vec![0u8; layout.len];
        let mut put =
            |at: usize, value: u64| bytes[at..at + 8].copy_from_slice(&value.to_le_bytes());
        put(0, u64::from_le_bytes(*COOKIE));
        put(8, 3 << 24 | u64::from(minor) << 16 | 2 << 8 | level << 4);
        put(RUNTIME_STATE, 2000);
        put(RUNTIME_STATE + 16, 1000);
        put(INTERPRETER_STATE, 9000);
        put(INTERPRETER_STATE + 32, 200);
        put(THREAD_STATE, 1200);
        let s = layout.debugger_support;
        put(s, 24);
        put(s + 8, 600);
        put(s + 16, 8000);
        put(s + 24, 0);
        put(s + 32, 4);
        put(s + 40, 512);
        bytes
    }

    #[test]
    fn reads_the_offsets_of_3_14_and_3_15() {
        for minor in [14, 15] {
            let offsets = parse(&table(minor, 0xf)).unwrap();
            assert_eq!(version_text(offsets.version), format!("3.{minor}.2"));
            assert!(!offsets.free_threaded);
            assert_eq!(offsets.interpreters_head, 1000);
            assert_eq!(offsets.threads_main, 200);
            assert_eq!(offsets.remote_debugging_enabled, 8000);
            assert_eq!(offsets.eval_breaker, 24);
            assert_eq!(offsets.pending_call, 600);
            assert_eq!(offsets.script_path, 604);
            assert_eq!(offsets.script_path_size, 512);
            assert_eq!(offsets.please_stop_bit, 0x20);
        }
    }

    #[test]
    fn refuses_what_it_does_not_know() {
        let mut wrong_cookie = table(14, 0xf);
        wrong_cookie[0] = b'y';
        assert!(parse(&wrong_cookie).unwrap_err().contains("cookie"));

        let beta = parse(&table(15, 0xb)).unwrap_err();
        assert!(
            beta.contains("3.15.2b0") && beta.contains("pre-release"),
            "{beta}"
        );

        let mut newer = table(15, 0xf);
        newer[10] = 16;
        let newer = parse(&newer).unwrap_err();
        assert!(
            newer.contains("3.16.2") && newer.contains("3.14 and 3.15"),
            "{newer}"
        );

        let mut older = table(14, 0xf);
        older[10] = 13;
        assert!(parse(&older).unwrap_err().contains("3.13.2"));

        let short = table(15, 0xf);
        assert!(parse(&short[..800]).unwrap_err().contains("cut short"));
    }

    #[test]
    fn refuses_offsets_outside_their_structures() {
        let layout = &LAYOUTS[0];
        let mut path_too_far = table(14, 0xf);
        let at = layout.debugger_support + 8;
        path_too_far[at..at + 8].copy_from_slice(&1197u64.to_le_bytes());
        let message = parse(&path_too_far).unwrap_err();
        assert!(message.contains("debugger_pending_call"), "{message}");

        let mut huge_buffer = table(14, 0xf);
        let at = layout.debugger_support + 40;
        huge_buffer[at..at + 8].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(parse(&huge_buffer).unwrap_err().contains("buffer"));

        let mut flag = table(14, 0xf);
        flag[16] = 7;
        assert!(parse(&flag).unwrap_err().contains("free_threaded"));
    }
}
