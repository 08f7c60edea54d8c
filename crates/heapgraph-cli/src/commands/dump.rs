//! `heapgraph dump --pid PID [-o FILE]`

use heapgraph_attach::{dump_pid, DumpReport, Options, Way};
use heapgraph_render::{format_bytes, format_count};
use std::path::PathBuf;
use std::time::Duration;

/// Take a heap dump of a running process, without changing its code.
///
/// CPython 3.8-3.13: heapgraph stops the main thread for a moment with ptrace (no gdb needed) and either
/// queues the dump as a pending call, which the thread runs between two bytecodes, or, when the thread
/// waits in a blocking call (accept, select, sleep...) without the GIL, runs it there at once as a C
/// callback would. CPython 3.14+: `sys.remote_exec`. Needs the right to trace the process (same user or
/// root). The process keeps running. At that point it forks, and the child writes the dump from the
/// copy-on-write snapshot while the process goes on, paused only for the fork; when its resident memory
/// does not fit in the memory available (the child could need as much again), or with --no-fork, the
/// process writes the dump itself and is paused until it is written.
#[derive(clap::Args)]
pub struct Args {
    /// The process to dump
    #[arg(long)]
    pid: u32,
    /// Where to write the dump [default: heapgraph-PID.hgd]
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Seconds to wait for the process to start the dump; then the request is withdrawn
    #[arg(long, default_value_t = 10.0)]
    timeout: f64,
    /// Run the garbage collector first (by default garbage is kept: it is evidence)
    #[arg(long)]
    collect: bool,
    /// Have the process write the dump itself, paused all along, instead of forking a child that writes it
    #[arg(long)]
    no_fork: bool,
    /// Print the result as JSON
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<(), String> {
    let output = args
        .output
        .unwrap_or_else(|| PathBuf::from(format!("heapgraph-{}.hgd", args.pid)));
    let timeout = Duration::try_from_secs_f64(args.timeout)
        .map_err(|_| format!("--timeout {}: give a number of seconds", args.timeout))?;
    let options = Options {
        timeout,
        collect: args.collect,
        fork: !args.no_fork,
    };
    let progress = |message: &str| eprintln!("{message}");
    let report = dump_pid(args.pid, &output, &options, &progress).map_err(|e| e.to_string())?;
    super::print(&json(&report), args.json, |_| text(&report))
}

fn json(report: &DumpReport) -> serde_json::Value {
    serde_json::json!({
        "output": report.output,
        "runtime": report.runtime,
        "paused_seconds": report.paused.as_ref().map(|p| p.duration.as_secs_f64()),
        "way": report.paused.as_ref().map(|p| match p.way {
            Way::Forked { .. } => "fork",
            Way::InPlace { .. } => "in place",
        }),
        "in_place_because": report.paused.as_ref().and_then(|p| match &p.way {
            Way::InPlace { why } => Some(why.as_str()),
            Way::Forked { .. } => None,
        }),
        "child": report.paused.as_ref().and_then(|p| match p.way {
            Way::Forked { child_pid, child_private_bytes, target_alive_after } => Some(serde_json::json!({
                "pid": child_pid,
                "private_bytes": child_private_bytes,
                "target_alive_after": target_alive_after,
            })),
            Way::InPlace { .. } => None,
        }),
        "stopped_seconds": report.stopped.map(|d| d.as_secs_f64()),
        "reached": report.reached,
        "summary": report.summary,
    })
}

fn text(report: &DumpReport) -> String {
    let count = |key: &str| format_count(report.summary[key].as_u64().unwrap_or(0));
    let mut out = format!(
        "wrote {} ({}, {}): {} objects, {} references\n",
        report.output.display(),
        format_bytes(report.summary["bytes"].as_u64().unwrap_or(0)),
        report.runtime,
        count("objects"),
        count("edges"),
    );
    if let Some(paused) = &report.paused {
        out += &format!("target paused {:.3} s", paused.duration.as_secs_f64());
        match &paused.way {
            Way::Forked {
                child_pid,
                child_private_bytes,
                ..
            } => {
                out += &format!(
                    ": it forked pid {child_pid}, which wrote the dump from the copy-on-write snapshot"
                );
                if let Some(bytes) = child_private_bytes {
                    out += &format!(" with {} of memory of its own", format_bytes(*bytes));
                }
            }
            Way::InPlace { why } => out += &format!(": it wrote the dump itself ({why})"),
        }
        out += "\n";
    }
    out += &format!("request {}", report.reached);
    if let Some(stopped) = report.stopped {
        out += &format!(
            "; main thread held by heapgraph for {:.3} s",
            stopped.as_secs_f64()
        );
    }
    out += &format!("\nthen: heapgraph top {}\n", report.output.display());
    out
}
