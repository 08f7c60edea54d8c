//! Loading a dump for a command, with a progress bar when a person is watching.

use crate::progress::TerminalProgress;
use heapgraph_formats::Dump;
use std::path::Path;

/// Loads `path` unless it surely cannot fit in memory, showing progress on stderr if it is a terminal, and
/// what loading lost (a dump cut short) as warnings on stderr. Errors come back as the message to print.
pub fn load_dump(path: &Path) -> Result<Dump, String> {
    crate::memory::check_fits(path)?;
    let progress = TerminalProgress::new();
    let dump = heapgraph_formats::load(path, &progress).map_err(|e| e.to_string());
    progress.finish();
    if let Ok(dump) = &dump {
        for warning in &dump.stats.warnings {
            eprintln!("heapgraph: warning: {}: {warning}", path.display());
        }
    }
    dump
}
