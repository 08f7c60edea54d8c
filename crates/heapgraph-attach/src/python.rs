//! `heapgraph dump --pid` on CPython: hand the dumper over, queue the request, wait, deliver the dump.

use crate::handoff::Handoff;
use crate::process::Process;
use crate::{gdb, remote_exec, AttachError, DumpReport, Options, Progress};
use std::path::Path;

pub fn dump(
    process: &Process,
    version: Option<(u32, u32)>,
    output: &Path,
    options: &Options,
    progress: &dyn Progress,
) -> Result<DumpReport, AttachError> {
    let pid = process.pid;
    let handoff = Handoff::create(output, process, options.collect)?;
    let stopped = if version >= Some((3, 14)) {
        progress.step(&format!(
            "pid {pid}: asking it to dump with sys.remote_exec"
        ));
        remote_exec::queue(pid, &process.exe, &handoff.snippet_file()?)?;
        None
    } else {
        progress.step(&format!("pid {pid}: attaching with gdb to queue the dump"));
        let queued = gdb::queue(pid, &process.exe, &handoff.snippet(), handoff.dir())?;
        progress.step(&format!(
            "pid {pid}: stopped by gdb for at most {:.2} s; waiting up to {} s for its main thread to reach a safe point{}",
            queued.stopped.as_secs_f64(),
            options.timeout.as_secs(),
            if queued.main_held_gil { "" } else { " (it was waiting outside Python code)" }
        ));
        Some(queued.stopped)
    };
    let report = handoff.wait(process, options.timeout, progress)?;
    handoff.deliver(output)?;
    Ok(DumpReport {
        output: output.to_path_buf(),
        runtime: format!("CPython {}", report.python),
        paused: Some(report.paused),
        stopped,
        summary: report.summary,
    })
}
