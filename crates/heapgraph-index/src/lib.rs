//! The index file heapgraph keeps beside a dump, so that only the first command on a dump pays for
//! reading it and analysing it (Eclipse MAT's best idea, done for every format heapgraph reads).
//!
//! The first command on a dump loads it, runs every analysis and writes the graph, the dominator tree,
//! retained sizes, shortest paths and the reports' tables into one file of plain arrays
//! ([`write`]). Later commands map that file and read the arrays in place ([`read`]): nothing is parsed
//! or copied per object, so they answer in the time it takes to check the file, and a dump whose index
//! is bigger than the machine's memory still works, paged in by the kernel as queries touch it.
//!
//! An index is never trusted blindly: it is keyed by the dump's identity ([`identity`]), checksummed
//! section by section, and its structures are checked as the graph and analyses check their own. Any
//! mismatch rebuilds it, and says why.

mod checksum;
mod error;
#[cfg(any(test, feature = "fuzzing"))]
mod forge;
mod identity;
mod layout;
mod read;
mod sections;
#[cfg(test)]
mod tests;
mod write;

pub use error::{IndexError, IoAction};
#[cfg(feature = "fuzzing")]
pub use forge::{exercise, reseal};
pub use identity::DumpIdentity;
pub use read::read_index;
pub use write::write_index;

use heapgraph_analysis::Analysis;
use heapgraph_formats::{Dump, LoadProgress};
use heapgraph_graph::{Backing, Graph};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The file name suffix of index files: `heap.hprof` gets `heap.hprof.hgi`.
pub const SUFFIX: &str = "hgi";

/// Whether and where to keep an index.
#[derive(Clone, Debug, Default)]
pub struct IndexOptions {
    /// Read and write no index: load the dump and analyse it every time.
    pub disabled: bool,
    /// Keep indexes in this directory instead of beside their dumps (for dumps in read-only places).
    pub dir: Option<PathBuf>,
}

/// A dump with every analysis, and what happened to its index for the user to hear about.
pub struct Analyzed {
    pub dump: Dump,
    pub analysis: Analysis,
    /// Notes for stderr: an index rebuilt and why, an index written or not written.
    pub notes: Vec<String>,
}

/// Where the index of the dump at `dump_path` lives.
pub fn index_path(dump_path: &Path, options: &IndexOptions) -> PathBuf {
    let name = dump_path.file_name().unwrap_or_default().to_string_lossy();
    match &options.dir {
        None => {
            let mut path = dump_path.as_os_str().to_owned();
            path.push(format!(".{SUFFIX}"));
            PathBuf::from(path)
        }
        // Two dumps of one name in different directories must not share an index.
        Some(dir) => {
            let full = std::fs::canonicalize(dump_path).unwrap_or_else(|_| dump_path.to_path_buf());
            let tag = checksum::checksum(full.as_os_str().as_encoded_bytes());
            dir.join(format!("{name}-{tag:016x}.{SUFFIX}"))
        }
    }
}

/// The dump at `dump_path` with every analysis: from its index when there is a good one, otherwise
/// loaded with `load` and analysed with `analyze`, then indexed for the next command.
/// Only `load` can fail it: an index that cannot be read or written is a note, never an error.
pub fn analyzed<E>(
    dump_path: &Path,
    options: &IndexOptions,
    progress: &dyn LoadProgress,
    load: impl FnOnce() -> Result<Dump, E>,
    analyze: impl FnOnce(&Graph) -> Analysis,
) -> Result<Analyzed, E> {
    let mut notes = Vec::new();
    let identity = match options.disabled {
        true => None,
        false => DumpIdentity::of(dump_path).ok(),
    };
    let Some(identity) = identity else {
        // No index, or the dump cannot be read: loading says what is wrong with it.
        let dump = load()?;
        let analysis = analyze(&dump.graph);
        return Ok(Analyzed {
            dump,
            analysis,
            notes,
        });
    };
    let path = index_path(dump_path, options);
    match open(&path, dump_path, identity) {
        Some(Ok((dump, analysis))) => {
            return Ok(Analyzed {
                dump,
                analysis,
                notes,
            })
        }
        Some(Err(why)) => notes.push(format!(
            "index {} is not usable ({why}); rebuilding it",
            path.display()
        )),
        None => {}
    }
    let dump = load()?;
    let analysis = analyze(&dump.graph);
    if let Some(dir) = &options.dir {
        if let Err(e) = std::fs::create_dir_all(dir) {
            notes.push(format!("cannot create {}: {e}", dir.display()));
        }
    }
    match write_index(&path, identity, &dump, &analysis, progress) {
        Ok(bytes) => notes.push(format!(
            "wrote index {} ({:.1} MB): later commands on this dump read it instead (--no-index skips it)",
            path.display(),
            bytes as f64 / 1e6
        )),
        Err(e) => notes.push(format!(
            "{e}; later commands will read the dump again (--index-dir DIR keeps indexes elsewhere)"
        )),
    }
    Ok(Analyzed {
        dump,
        analysis,
        notes,
    })
}

/// The dump and analyses from the index at `path` if it exists: `None` if there is no index, `Err` with
/// the reason if there is one that cannot be used.
pub fn open(
    path: &Path,
    dump_path: &Path,
    identity: DumpIdentity,
) -> Option<Result<(Dump, Analysis), IndexError>> {
    let file = std::fs::File::open(path).ok()?;
    Some(map(path, &file).and_then(|backing| read_index(&backing, dump_path, identity)))
}

/// The index at `path` if it is there and good, for commands that would rather do less work than build
/// one (the shallow histogram).
pub fn open_fresh(dump_path: &Path, options: &IndexOptions) -> Option<(Dump, Analysis)> {
    if options.disabled {
        return None;
    }
    let identity = DumpIdentity::of(dump_path).ok()?;
    open(&index_path(dump_path, options), dump_path, identity)?.ok()
}

fn map(path: &Path, file: &std::fs::File) -> Result<Backing, IndexError> {
    // SAFETY: the map is read-only and private. An index is only ever replaced by renaming a new file
    // over it, which leaves this mapping's file intact; only truncating it in place would fault.
    // Populated: opening checks every section's checksum, so every page is read anyway, and mapping them
    // all in one call costs less than a page fault for each.
    let map = unsafe { memmap2::MmapOptions::new().populate().map(file) }.map_err(|error| {
        IndexError::Io {
            action: IoAction::Map,
            path: path.to_path_buf(),
            error,
        }
    })?;
    Ok(Arc::new(map))
}
