//! `heapgraph run [--dump-on SIGNAL] [--every SECONDS] [--at-exit] [--tracemalloc N] -o DIR -- python app.py ...`

use heapgraph_attach::run::{exec, signal_name, Triggers};
use std::ffi::OsString;
use std::path::PathBuf;

/// Run a Python program with the dumper preloaded; it dumps on a signal, periodically or at exit.
///
/// Dumps are named PREFIX-PID-SEQ-TIME.hgd, so that sorted by name the first and the last of a process
/// are what `heapgraph growth` compares. heapgraph becomes the program (same pid, same exit status).
#[derive(clap::Args)]
pub struct Args {
    /// Directory for the dumps (created if missing)
    #[arg(short, long)]
    output: PathBuf,
    /// Dump when the program receives this signal (USR1, USR2, HUP, QUIT, WINCH)
    #[arg(long, value_name = "SIGNAL")]
    dump_on: Option<String>,
    /// Dump every this many seconds
    #[arg(long, value_name = "SECONDS")]
    every: Option<f64>,
    /// Dump when the program exits normally
    #[arg(long)]
    at_exit: bool,
    /// Start of the dumps' file names
    #[arg(long, default_value = "heap")]
    prefix: String,
    /// Trace allocations with tracemalloc from the start, keeping N frames per traceback (1-65535), so
    /// that the dumps record where each object was allocated (sets PYTHONTRACEMALLOC=N)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    tracemalloc: Option<u16>,
    /// The program and its arguments, after --
    #[arg(last = true, required = true)]
    program: Vec<OsString>,
}

pub fn run(args: Args) -> Result<(), String> {
    let signal = args.dump_on.as_deref().map(signal_name).transpose()?;
    if args.every.is_some_and(|s| !(s > 0.0 && s.is_finite())) {
        return Err("--every: give a positive number of seconds".into());
    }
    if signal.is_none() && args.every.is_none() && !args.at_exit {
        return Err("say when to dump: --dump-on SIGNAL, --every SECONDS and/or --at-exit".into());
    }
    std::fs::create_dir_all(&args.output)
        .map_err(|e| format!("{}: cannot create: {e}", args.output.display()))?;
    let pid = std::process::id();
    let mut when = Vec::new();
    if let Some(s) = signal {
        when.push(format!(
            "on {s} (kill -{} {pid})",
            s.trim_start_matches("SIG")
        ));
    }
    if let Some(s) = args.every {
        when.push(format!("every {s} s"));
    }
    if args.at_exit {
        when.push("at exit".into());
    }
    let sites = match args.tracemalloc {
        Some(n) => format!(", with allocation sites (tracemalloc, {n} frames)"),
        None => String::new(),
    };
    eprintln!(
        "heapgraph run: pid {pid} dumps {} into {}/{}-{pid}-NNNN-TIME.hgd{sites}",
        when.join(", "),
        args.output.display(),
        args.prefix
    );
    let triggers = Triggers {
        dir: args.output,
        signal: signal.map(str::to_string),
        every_seconds: args.every,
        at_exit: args.at_exit,
        prefix: args.prefix,
        tracemalloc: args.tracemalloc,
    };
    Err(exec(&args.program, &triggers).to_string())
}
