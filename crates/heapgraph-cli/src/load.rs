//! Loading a dump for a command, with a progress bar when a person is watching.

use crate::progress::TerminalProgress;
use heapgraph_formats::{Dump, ShallowHistogram};
use std::path::Path;

/// Loads `path` unless it surely cannot fit in memory, showing progress on stderr if it is a terminal, and
/// what loading lost (a dump cut short) as warnings on stderr. Errors come back as the message to print.
pub fn load_dump(path: &Path) -> Result<Dump, String> {
    crate::memory::check_fits(path)?;
    let dump = with_progress(|p| heapgraph_formats::load(path, p))?;
    warn(path, &dump.stats.warnings);
    Ok(dump)
}

/// The shallow histogram of `path` read without building its graph, for the formats that can (see
/// [`heapgraph_formats::shallow_histogram`]), with progress and warnings as [`load_dump`] shows them.
pub fn shallow_histogram(path: &Path) -> Result<Option<ShallowHistogram>, String> {
    let histogram = with_progress(|p| heapgraph_formats::shallow_histogram(path, p))?;
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
