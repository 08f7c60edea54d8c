//! `heapgraph suspects DUMP`

use super::report_args::IndexArgs;
use crate::load::analyzed_dump;
use heapgraph_analysis::{find_suspects, SuspectOptions};
use heapgraph_render::suspects::SuspectsReport;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Name the leak: what holds a large share of the heap, where the memory accumulates, and the reference
/// to fix (Eclipse MAT's Leak Suspects, for every format).
///
/// A suspect is an object at the top of the dominator tree, or the top-level instances of one type,
/// retaining more than --threshold percent of the reachable heap. Its memory accumulates where the
/// dominator tree stops narrowing: the walk goes down to the biggest child while it keeps 70% of its
/// parent. Each suspect comes with its shortest path from a root, the reference to fix marked, what
/// accumulates there by type, and a fingerprint that names it across dumps and runs. Exit status with
/// --fail: 3 when a suspect outside the baseline remains (library suspects do not count), 0 otherwise.
///
/// Objects the dump proves the program is done with (a file or socket already closed, a finished
/// generator or coroutine, the frame of a returned call, a detached DOM node) are listed as proven
/// leaks at any size, by type and fact, and count for --fail too.
#[derive(clap::Args)]
pub struct Args {
    /// The dump file (.hgd, .hprof, .hprof.gz, .heapsnapshot, .heapsnapshot.gz); two or more dumps of
    /// one process, oldest first, ask what grew in every interval instead
    #[arg(required = true, value_name = "DUMP")]
    pub dumps: Vec<PathBuf>,
    /// Print JSON instead of text: {"suspects": [...], "library": [...], "known": [...], "proven": [...]}
    #[arg(long)]
    pub json: bool,
    /// Share of the reachable heap, in percent, a suspect must retain
    #[arg(long, value_name = "PCT", default_value_t = 10.0)]
    pub threshold: f64,
    /// Types listed per suspect, and biggest objects shown
    #[arg(long, default_value_t = 5)]
    pub top: usize,
    /// Also count types whose qualified name starts with PREFIX as library code (repeatable): suspects
    /// they hold are listed apart
    #[arg(long, value_name = "PREFIX")]
    pub library: Vec<String>,
    /// Set apart the suspects whose fingerprints FILE lists (written by --write-baseline): they are
    /// shown as known, never hidden
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Write every suspect's fingerprint to FILE, for a later --baseline
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// Exit with status 3 when a suspect outside the baseline remains
    #[arg(long)]
    pub fail: bool,
    #[command(flatten)]
    pub index: IndexArgs,
}

/// A baseline file: the fingerprints of suspects that are known.
#[derive(Serialize, Deserialize)]
pub struct Baseline {
    heapgraph_suspects_baseline: u32,
    fingerprints: Vec<String>,
}

/// Prints the suspects; `Ok(true)` when --fail was asked and a suspect outside the baseline remains.
pub fn run(args: Args) -> Result<bool, String> {
    if !(args.threshold > 0.0 && args.threshold <= 100.0) {
        return Err(format!(
            "--threshold {} is not a percentage above 0 and at most 100",
            args.threshold
        ));
    }
    let known = match &args.baseline {
        Some(path) => read_baseline(path)?,
        None => Vec::new(),
    };
    let dump_path = match &args.dumps[..] {
        [one] => one,
        _ => return super::suspects_growth::run(&args, &known),
    };
    let (dump, analysis) = analyzed_dump(dump_path, &args.index)?;
    let mut options = SuspectOptions {
        threshold: args.threshold / 100.0,
        top: args.top,
        ..SuspectOptions::default()
    };
    options
        .library_prefixes
        .extend(args.library.iter().cloned());
    let found = find_suspects(&dump.graph, &analysis, &options);
    let report = SuspectsReport::new(
        dump_path.display().to_string(),
        &dump.graph,
        &analysis.dominators,
        &found,
        options.threshold,
        &known,
    );
    if let Some(path) = &args.write_baseline {
        write_baseline(path, report.fingerprints())?;
    }
    super::print(&report, args.json, SuspectsReport::render_text)?;
    Ok(args.fail && report.has_new())
}

pub fn read_baseline(path: &Path) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the baseline {}: {e}", path.display()))?;
    let baseline: Baseline = serde_json::from_str(&text).map_err(|e| {
        format!(
            "{} is not a suspects baseline ({e}); write one with --write-baseline",
            path.display()
        )
    })?;
    Ok(baseline.fingerprints)
}

/// Writes `fingerprints` to the baseline file at `path`.
pub fn write_baseline(path: &Path, fingerprints: Vec<&str>) -> Result<(), String> {
    let baseline = Baseline {
        heapgraph_suspects_baseline: 1,
        fingerprints: fingerprints.into_iter().map(String::from).collect(),
    };
    let text = serde_json::to_string_pretty(&baseline).map_err(|e| e.to_string())? + "\n";
    std::fs::write(path, text)
        .map_err(|e| format!("cannot write the baseline {}: {e}", path.display()))
}
