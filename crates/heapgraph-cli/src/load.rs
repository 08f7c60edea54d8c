//! Loading a dump for a command, with a progress bar when a person is watching: from its index when it
//! has a good one, otherwise read, analysed and indexed for the next command.

use crate::commands::report_args::IndexArgs;
use crate::progress::TerminalProgress;
use heapgraph_analysis::Analysis;
use heapgraph_formats::{Dump, ShallowHistogram};
use heapgraph_index::Analyzed;
use std::path::Path;

/// Loads `path` unless it surely cannot fit in memory, showing progress on stderr if it is a terminal, and
/// what loading lost (a dump cut short) as warnings on stderr. Errors come back as the message to print.
pub fn load_dump(path: &Path, args: &IndexArgs) -> Result<Dump, String> {
    let dump = read_dump(path, args)?;
    warn(path, &dump.stats.warnings);
    Ok(dump)
}

/// The dump at `path` with every analysis, from its index or computed (and then indexed), as `index`
/// says. What loading lost is shown as for [`load_dump`], what happened to the index as notes.
pub fn analyzed_dump(path: &Path, index: &IndexArgs) -> Result<(Dump, Analysis), String> {
    let progress = TerminalProgress::new();
    let analyzed = heapgraph_index::analyzed(
        path,
        &index.options(),
        &progress,
        || read_dump(path, index),
        analyze,
    );
    progress.finish();
    let Analyzed {
        dump,
        analysis,
        notes,
    } = analyzed?;
    warn(path, &dump.stats.warnings);
    for note in notes {
        eprintln!("heapgraph: note: {note}");
    }
    Ok((dump, analysis))
}

/// The dump's every analysis, and only if its index is already there and good: for commands that
/// answer from less when there is none.
pub fn indexed_dump(path: &Path, index: &IndexArgs) -> Option<(Dump, Analysis)> {
    heapgraph_index::open_fresh(path, &index.options())
}

/// Every whole-heap analysis, with a spinner on a terminal meanwhile.
pub fn analyze(graph: &heapgraph_graph::Graph) -> Analysis {
    crate::progress::spin("analyzing (dominator tree, retained sizes, paths)", || {
        heapgraph_analysis::analyze(graph)
    })
}

fn read_dump(path: &Path, args: &IndexArgs) -> Result<Dump, String> {
    with_progress(|p| heapgraph_formats::load_with(path, &args.load_options(), p))
}

/// The shallow histogram of `path` read without building its graph, for the formats that can (see
/// [`heapgraph_formats::shallow_histogram`]), with progress and warnings as [`load_dump`] shows them.
pub fn shallow_histogram(
    path: &Path,
    args: &IndexArgs,
) -> Result<Option<ShallowHistogram>, String> {
    let histogram =
        with_progress(|p| heapgraph_formats::shallow_histogram(path, &args.load_options(), p))?;
    if let Some(h) = &histogram {
        warn(path, &h.warnings);
    }
    Ok(histogram)
}

fn with_progress<T>(
    read: impl FnOnce(&TerminalProgress) -> Result<T, heapgraph_formats::LoadError>,
) -> Result<T, String> {
    let progress = TerminalProgress::new();
    let out = read(&progress).map_err(|e| e.to_string());
    progress.finish();
    out
}

fn warn(path: &Path, warnings: &[String]) {
    for warning in warnings {
        eprintln!("heapgraph: warning: {}: {warning}", path.display());
    }
}
