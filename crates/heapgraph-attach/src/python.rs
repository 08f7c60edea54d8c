//! `heapgraph dump --pid` on CPython: hand the dumper over, queue the request, wait, deliver the dump.

use crate::handoff::Handoff;
use crate::injector::{syscall_name, How, Injected, Injector};
use crate::process::Process;
use crate::{remote_exec, AttachError, DumpReport, Options, Progress};
use std::path::Path;
use std::time::{Duration, Instant};

/// How often a request queued in a thread that has not started it is looked at again.
const RECHECK: Duration = Duration::from_secs(1);

pub fn dump(
    process: &Process,
    version: Option<(u32, u32)>,
    output: &Path,
    options: &Options,
    progress: &dyn Progress,
) -> Result<DumpReport, AttachError> {
    let pid = process.pid;
    let handoff = Handoff::create(output, process, options.collect, options.fork)?;
    let asked = Instant::now();
    let mut queued = None;
    let (stopped, reached) = if version >= Some((3, 14)) {
        progress.step(&format!(
            "pid {pid}: asking it to dump with sys.remote_exec"
        ));
        queued = Some(remote_exec::queue(
            pid,
            &process.exe,
            &handoff.snippet_file()?,
        )?);
        (
            None,
            "sys.remote_exec; it runs at the next safe point".to_string(),
        )
    } else {
        progress.step(&format!(
            "pid {pid}: attaching to ask its main thread to dump"
        ));
        let injector = Injector::prepare(pid, &process.exe)?;
        let snippet = handoff.snippet();
        let mut injected = injector
            .inject(&snippet, true)?
            .expect("a request to queue is always queued");
        // A thread that was running Python may have gone into a long wait right after: look again now
        // and then, and reach it there.
        while matches!(injected.how, How::Queued { .. })
            && asked.elapsed() < options.timeout
            && !handoff.started_within(process, RECHECK.min(options.timeout - asked.elapsed()))
        {
            if let Some(again) = injector.inject(&snippet, false)? {
                injected = Injected {
                    stopped: injected.stopped + again.stopped,
                    how: again.how,
                };
            }
        }
        let how = match injected.how {
            How::Queued {
                main_held_gil: true,
            } => "queued as a pending call; it runs between two bytecodes".to_string(),
            How::Queued {
                main_held_gil: false,
            } => "queued as a pending call; its main thread was outside Python code".to_string(),
            How::QueuedAndWoken => "queued as a pending call; its main thread's wait on a lock \
                                    was ended early, as a signal ends it, so that it runs the call"
                .to_string(),
            How::RunInWait { syscall } => format!(
                "run at once: its main thread was waiting in {} without the GIL",
                syscall_name(syscall).unwrap_or("a system call")
            ),
        };
        progress.step(&format!(
            "pid {pid}: stopped for {:.3} s; {how}; waiting up to {:.1} s for it to start",
            injected.stopped.as_secs_f64(),
            options
                .timeout
                .saturating_sub(asked.elapsed())
                .as_secs_f64(),
        ));
        (Some(injected.stopped), how)
    };
    let report = handoff
        .wait(
            process,
            options.timeout.saturating_sub(asked.elapsed()),
            progress,
        )
        .inspect_err(|e| {
            // a request the main thread never took is taken back, so that it does not run later
            if let (AttachError::NoSafePoint { .. }, Some(queued)) = (e, &queued) {
                queued.withdraw();
            }
        })?;
    handoff.deliver(output)?;
    Ok(DumpReport {
        output: output.to_path_buf(),
        runtime: format!("CPython {}", report.python),
        paused: Some(report.paused),
        stopped,
        reached,
        summary: report.summary,
    })
}
