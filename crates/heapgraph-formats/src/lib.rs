//! Readers for heap dump formats. Each reader loads a dump file into a [`heapgraph_graph::Graph`]; nothing
//! after this crate knows which format a dump came from.
//!
//! The format is detected from a file's first bytes, never from its name ([`detect`]).

mod detect;
mod dump_bytes;
mod edges;
mod error;
mod gzip;
pub mod hprof;
pub mod memory;
mod pages;
mod progress;
pub mod python;
mod record_offsets;
mod scatter;
pub mod v8;

pub use detect::{detect, Format};
pub use error::LoadError;
pub use progress::{LoadProgress, NoProgress};

use dump_bytes::DumpBytes;
use heapgraph_graph::timings::phase;
use heapgraph_graph::{Graph, NodeDetailSource, SavedDetails, TypeId};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A loaded dump: the graph, facts about the process it came from, and what loading noticed.
pub struct Dump {
    pub path: PathBuf,
    pub format: Format,
    pub graph: Graph,
    /// Facts the dump records about its process (runtime version, pid, argv, ...), as the dump names them.
    pub meta: serde_json::Map<String, serde_json::Value>,
    pub stats: LoadStats,
}

/// What loading counted beyond the graph itself.
#[derive(Clone, Debug, Default)]
pub struct LoadStats {
    pub file_bytes: u64,
    /// References to addresses that are not objects in the dump; they are dropped.
    pub dangling_edges: u64,
    pub load_time: Duration,
    /// What loading lost or had to guess, for the user to see (a dump cut short, say).
    pub warnings: Vec<String>,
}

/// Per-type counts and shallow sizes read straight from a dump, without building its graph.
pub struct ShallowHistogram {
    pub format: Format,
    /// Types with at least one object, in type id order.
    pub types: Vec<TypeTally>,
    /// What reading lost (a dump cut short), as [`LoadStats::warnings`].
    pub warnings: Vec<String>,
}

/// One type's objects. `type_id` is the id the same type has in the graph [`load`] builds.
pub struct TypeTally {
    pub type_id: TypeId,
    pub name: String,
    pub count: u64,
    pub bytes: u64,
}

/// Which part of a dump file to read: `Dump(n)`, heap dump number `n` (from 1) of an HPROF file that holds
/// several (the legacy agent's); `Named("app")`, only the objects of one of an Android dump's named heaps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeapChoice {
    Dump(u32),
    Named(String),
}

impl std::str::FromStr for HeapChoice {
    type Err = String;

    /// A number from 1 (`2`, or MAT's `#2`) picks a heap dump; a name (`app`) a named heap.
    fn from_str(s: &str) -> Result<HeapChoice, String> {
        let number = s.strip_prefix('#').unwrap_or(s);
        match number.parse::<u32>() {
            Ok(0) => Err("heap dumps are numbered from 1".into()),
            Ok(n) => Ok(HeapChoice::Dump(n)),
            Err(_) if s.is_empty() => Err("give a heap dump's number or a heap's name".into()),
            Err(_) => Ok(HeapChoice::Named(s.to_string())),
        }
    }
}

impl std::fmt::Display for HeapChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HeapChoice::Dump(n) => write!(f, "#{n}"),
            HeapChoice::Named(name) => write!(f, "{name} heap"),
        }
    }
}

/// Choices a reader needs beyond the file.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// Which heap dump or named heap to read; `None` reads the first heap dump, whole.
    pub heap: Option<HeapChoice>,
    /// Keep the shallow sizes the file records, instead of the sizes Chrome DevTools shows (V8: the size
    /// of arrays and hidden objects one object alone owns moved into that owner).
    pub raw_sizes: bool,
}

/// The shallow histogram of the dump at `path`, for the formats that can count objects without building
/// the graph (HPROF, plain or gzipped: several times faster and in a fraction of the memory); `None` for
/// the others, whose histogram comes from the loaded graph.
pub fn shallow_histogram(
    path: &Path,
    options: &LoadOptions,
    progress: &dyn LoadProgress,
) -> Result<Option<ShallowHistogram>, LoadError> {
    let (file, format) = open(path)?;
    let heap = match &options.heap {
        // Counting one named heap's objects needs their offsets: the graph's histogram does it.
        Some(HeapChoice::Named(_)) => return Ok(None),
        Some(HeapChoice::Dump(n)) => Some(*n),
        None => None,
    };
    Ok(match format {
        Format::Hprof => Some(hprof::histogram(path, file, format, heap, progress)?),
        Format::HprofGzip => {
            let inflated = gzip::inflate(path, file, progress)?;
            Some(hprof::histogram(path, inflated, format, heap, progress)?)
        }
        _ => None,
    })
}

/// Loads the dump at `path`, whatever its format.
pub fn load(path: &Path, progress: &dyn LoadProgress) -> Result<Dump, LoadError> {
    load_with(path, &LoadOptions::default(), progress)
}

/// Loads the dump at `path` as `options` say.
pub fn load_with(
    path: &Path,
    options: &LoadOptions,
    progress: &dyn LoadProgress,
) -> Result<Dump, LoadError> {
    let (file, format) = open(path)?;
    let heap = options.heap.as_ref();
    let single = !matches!(format, Format::Hprof | Format::HprofGzip);
    if let Some(choice) = heap.filter(|&h| single && *h != HeapChoice::Dump(1)) {
        return Err(LoadError::new(
            path,
            None,
            format!(
                "there is no {choice}: a {} holds one heap; leave out --heap",
                format.name()
            ),
        ));
    }
    let compressed_bytes = file.metadata().map_or(0, |m| m.len());
    let file = match format.is_gzip() {
        true => gzip::inflate(path, file, progress)?,
        false => file,
    };
    let dump = phase("load", || match format {
        Format::PythonHgd => python::load(path, file, progress),
        Format::Hprof | Format::HprofGzip => hprof::load(path, file, format, heap, progress),
        Format::V8Snapshot | Format::V8SnapshotGzip => {
            v8::load(path, file, format, options.raw_sizes, progress)
        }
    });
    let dump = dump.map(|mut dump| {
        if format.is_gzip() {
            dump.meta
                .insert("compressed_bytes".into(), compressed_bytes.into());
        }
        dump
    });
    // The parsers' per-chunk temporaries are freed by now (see `release_freed_heap`).
    heapgraph_graph::release_freed_heap();
    dump
}

/// Rebuilds the detail source of the `format` dump at `path` from what an index file kept of it
/// ([`NodeDetailSource::saved`]), reading the dump itself only when a report first asks for a detail.
/// `None` if the saved parts do not fit the format.
pub fn reopen_details(
    path: &Path,
    format: Format,
    saved: SavedDetails,
) -> Option<Box<dyn NodeDetailSource>> {
    let bytes = DumpBytes::reopen(path.to_path_buf(), format.is_gzip());
    Some(match format {
        Format::PythonHgd => Box::new(python::details::PythonDetails::reopen(bytes, saved)?),
        Format::Hprof | Format::HprofGzip => {
            Box::new(hprof::details::JavaDetails::reopen(bytes, saved)?)
        }
        Format::V8Snapshot | Format::V8SnapshotGzip => {
            Box::new(v8::details::V8Details::reopen(bytes, saved)?)
        }
    })
}

/// Opens the dump at `path` and tells its format from its first bytes.
fn open(path: &Path) -> Result<(std::fs::File, Format), LoadError> {
    let file = std::fs::File::open(path).map_err(|e| LoadError::io(path, e))?;
    let meta = file.metadata().map_err(|e| LoadError::io(path, e))?;
    if meta.is_dir() {
        return Err(LoadError::new(
            path,
            None,
            "is a directory; give the path of a dump file",
        ));
    }
    let mut head = [0u8; 32];
    let n = read_prefix(&file, &mut head).map_err(|e| LoadError::io(path, e))?;
    let format = match detect(&head[..n]) {
        Some(Format::HprofGzip) => gzip::peek(&file).ok_or_else(|| {
            LoadError::new(
                path,
                None,
                "is gzip-compressed but does not hold a heap dump heapgraph can read (it reads gzipped \
                 HPROF dumps and V8 heap snapshots)",
            )
        })?,
        Some(format) => format,
        None => {
            return Err(LoadError::new(
                path,
                Some(0),
                "is not a heap dump heapgraph can read (unknown first bytes); it reads heapgraph Python \
                 dumps (.hgd, made by `heapgraph dumper`), Java HPROF heap dumps and V8 heap snapshots \
                 (.heapsnapshot), plain or gzipped",
            ))
        }
    };
    Ok((file, format))
}

/// Corrupt copies of a dump for the readers' robustness tests: each with one bit flipped at a
/// pseudo-random place (xorshift, fixed seed, so failures reproduce).
#[cfg(test)]
pub(crate) fn flipped_copies(bytes: &[u8], count: usize) -> impl Iterator<Item = Vec<u8>> + '_ {
    let mut seed = 0x9e3779b97f4a7c15u64;
    (0..count).map(move |_| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let mut corrupt = bytes.to_vec();
        let at = (seed % corrupt.len() as u64) as usize;
        corrupt[at] ^= 1 << (seed >> 60 & 7);
        corrupt
    })
}

fn read_prefix(mut file: &std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    use std::io::Read;
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}
