//! Arguments every report takes.

use heapgraph_formats::{HeapChoice, LoadOptions};
use heapgraph_index::IndexOptions;
use std::path::PathBuf;

/// The dump to read and how to print the report.
#[derive(clap::Args)]
pub struct ReportArgs {
    /// The dump file: a heapgraph Python dump (.hgd), a Java HPROF dump (.hprof, .hprof.gz) or a V8 heap
    /// snapshot (.heapsnapshot)
    pub dump: PathBuf,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub index: IndexArgs,
}

/// Which heap of the file to read, and whether and where to keep the index that makes the second command
/// on a dump instant.
#[derive(clap::Args)]
pub struct IndexArgs {
    /// Read heap dump N (from 1) of a file that holds several (the legacy hprof agent writes one per
    /// request), or only the objects of the named heap of an Android dump (app, zygote, image), as
    /// Android Studio shows them; `heapgraph info` lists both. Without it the whole first dump is read.
    /// A heap chosen here is read without the index
    #[arg(long, value_name = "N|NAME")]
    pub heap: Option<HeapChoice>,
    /// Keep the shallow sizes the dump records. Without it a V8 snapshot's sizes are those Chrome
    /// DevTools shows: an array or hidden object that one object alone owns counts in its owner. Read
    /// without the index
    #[arg(long)]
    pub raw_sizes: bool,
    /// Neither read nor write the index file (DUMP.hgi): load and analyse the dump every time
    #[arg(long)]
    pub no_index: bool,
    /// Keep index files in DIR instead of beside their dumps (for dumps in read-only directories)
    #[arg(long, value_name = "DIR", conflicts_with = "no_index")]
    pub index_dir: Option<PathBuf>,
}

impl IndexArgs {
    pub fn options(&self) -> IndexOptions {
        IndexOptions {
            // The index holds the file's default heap, with the default sizes.
            disabled: self.no_index || self.heap.is_some() || self.raw_sizes,
            dir: self.index_dir.clone(),
        }
    }

    pub fn load_options(&self) -> LoadOptions {
        LoadOptions {
            heap: self.heap.clone(),
            raw_sizes: self.raw_sizes,
        }
    }
}
