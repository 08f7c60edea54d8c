//! `heapgraph dump --pid PID [-o FILE]`

use heapgraph_attach::{default_output, dump_pid, DumpReport, Options, Way};
use heapgraph_render::{format_bytes, format_count};
use std::path::PathBuf;
use std::time::Duration;

/// Take a heap dump of a running process, without changing its code: CPython 3.8+, HotSpot JVMs, Node.js.
///
/// CPython 3.8-3.13: heapgraph stops the main thread for a moment with ptrace (no gdb needed) and either
/// queues the dump as a pending call, which the thread runs between two bytecodes, or, when the thread
/// waits in a blocking call (accept, select, sleep...) without the GIL, runs it there at once as a C
/// callback would. CPython 3.14+: `sys.remote_exec`. Needs the right to trace the process (same user or
/// root). The process keeps running. At that point it forks, and the child writes the dump from the
/// copy-on-write snapshot while the process goes on, paused only for the fork; when its resident memory
/// does not fit in the memory available (the child could need as much again), or with --no-fork, the
/// process writes the dump itself and is paused until it is written.
///
/// HotSpot JVM (`.hprof`; `.hprof.gz` when -o ends in .gz): heapgraph speaks the JVM's attach protocol
/// itself, as jcmd does (no JDK needed: a JRE is enough), and asks for GC.heap_dump. The JVM runs a full
/// GC first and dumps live objects only; --no-collect keeps unreachable objects too. All its threads stop
/// while it writes. Needs the JVM's user or root.
///
/// Node.js (`.heapsnapshot`; gzipped when -o ends in .gz): SIGUSR1 opens the process's inspector (port
/// 9229, or its --inspect-port), heapgraph takes a heap snapshot over it, writing it to the file as it
/// comes, and closes the inspector again. While it is open, ANY LOCAL USER can connect to that port and
/// run code in the process; heapgraph refuses when another process holds the port. The main thread runs
/// nothing else while V8 takes the snapshot. Needs the process's user or root.
#[derive(clap::Args)]
pub struct Args {
    /// The process to dump
    #[arg(long)]
    pid: u32,
    /// Where to write the dump [default: heapgraph-PID.hgd, .hprof or .heapsnapshot]
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Seconds to wait for the process to start the dump (a JVM: its attach listener; Node: its inspector);
    /// then the request is withdrawn
    #[arg(long, default_value_t = 10.0)]
    timeout: f64,
    /// Run the garbage collector first (the default for a JVM; CPython keeps garbage by default: it is
    /// evidence)
    #[arg(long)]
    collect: bool,
    /// Keep unreachable objects: no collection first (the default for CPython; a JVM's -all)
    #[arg(long, conflicts_with = "collect")]
    no_collect: bool,
    /// CPython: have the process write the dump itself, paused all along, instead of forking a child that
    /// writes it
    #[arg(long)]
    no_fork: bool,
    /// Print the result as JSON
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<(), String> {
    let output = args.output.unwrap_or_else(|| default_output(args.pid));
    let timeout = Duration::try_from_secs_f64(args.timeout)
        .map_err(|_| format!("--timeout {}: give a number of seconds", args.timeout))?;
    let options = Options {
        timeout,
        collect: match (args.collect, args.no_collect) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        },
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
    let summary = &report.summary;
    let mut out = format!(
        "wrote {} ({}, {})",
        report.output.display(),
        format_bytes(summary["bytes"].as_u64().unwrap_or(0)),
        report.runtime,
    );
    if let (Some(objects), Some(edges)) = (summary["objects"].as_u64(), summary["edges"].as_u64()) {
        out += &format!(
            ": {} objects, {} references",
            format_count(objects),
            format_count(edges)
        );
    }
    match summary["live_only"].as_bool() {
        Some(true) => out += "\nlive objects only: the JVM ran a full GC first (--no-collect keeps the unreachable ones)",
        Some(false) => out += "\nunreachable objects too: no GC first (--no-collect)",
        None => {}
    }
    out += "\n";
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
