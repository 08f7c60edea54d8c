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
    let handoff = Handoff::create(
        output,
        process,
        options.collect.unwrap_or(false),
        options.fork,
    )?;
    let asked = Instant::now();
    let snippet = handoff.snippet();
    // 3.14+: PEP 768's request, which stops nothing and runs between two bytecodes; 3.8-3.13: ptrace
    let mut remote = None;
    let mut injector = None;
    let mut injected: Option<Injected> = None;
    if version >= Some((3, 14)) {
        progress.step(&format!(
            "pid {pid}: asking it to dump with sys.remote_exec"
        ));
        remote = Some(remote_exec::queue(
            pid,
            &process.exe,
            &handoff.snippet_file()?,
        )?);
    } else {
        progress.step(&format!(
            "pid {pid}: attaching to ask its main thread to dump"
        ));
        let prepared = Injector::prepare(pid, &process.exe)?;
        injected = prepared.inject(&snippet, true)?;
        injector = Some(prepared);
    }
    // A thread that does not start the request may be waiting where only ptrace reaches it (in a
    // blocking call or on a lock), or have gone into such a wait since: look now and then, and reach
    // it there. On 3.14+ the injector is prepared only then, and a process it cannot serve is left to
    // its remote request.
    while !matches!(
        injected,
        Some(Injected {
            how: How::RunInWait { .. } | How::QueuedAndWoken,
            ..
        })
    ) && asked.elapsed() < options.timeout
        && !handoff.started_within(process, RECHECK.min(options.timeout - asked.elapsed()))
    {
        if injector.is_none() {
            injector = Injector::prepare(pid, &process.exe).ok();
        }
        let Some(prepared) = &injector else {
            break;
        };
        if let Some(again) = prepared.inject(&snippet, false)? {
            let before = injected.map_or(Duration::ZERO, |i| i.stopped);
            injected = Some(Injected {
                stopped: before + again.stopped,
                how: again.how,
            });
        }
    }
    let reached = match injected.as_ref().map(|i| i.how) {
        None => "sys.remote_exec; it runs at the next safe point".to_string(),
        Some(How::Queued {
            main_held_gil: true,
        }) => "queued as a pending call; it runs between two bytecodes".to_string(),
        Some(How::Queued {
            main_held_gil: false,
        }) => "queued as a pending call; its main thread was outside Python code".to_string(),
        Some(How::QueuedAndWoken) => "queued as a pending call; its main thread's wait on a lock \
                                      was ended early, as a signal ends it, so that it runs the call"
            .to_string(),
        Some(How::RunInWait { syscall }) => format!(
            "run at once: its main thread was waiting in {} without the GIL",
            syscall_name(syscall).unwrap_or("a system call")
        ),
    };
    let stopped = injected.map(|i| i.stopped);
    progress.step(&format!(
        "pid {pid}: {reached}{}; waiting up to {:.1} s for it to start",
        stopped.map_or(String::new(), |s| format!(
            "; main thread stopped for {:.3} s",
            s.as_secs_f64()
        )),
        options
            .timeout
            .saturating_sub(asked.elapsed())
            .as_secs_f64(),
    ));
    let report = handoff
        .wait(
            process,
            options.timeout.saturating_sub(asked.elapsed()),
            progress,
        )
        .inspect_err(|e| {
            // a request the main thread never took is taken back, so that it does not run later
            if let (AttachError::NoSafePoint { .. }, Some(remote)) = (e, &remote) {
                remote.withdraw();
            }
        })?;
    if let (Some(remote), Some(_)) = (&remote, &injected) {
        // reached through ptrace instead: the remote request must not run once the hand-over is gone
        remote.withdraw();
    }
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
