//! Arguments every report takes.

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

/// Whether and where to keep the index that makes the second command on a dump instant.
#[derive(clap::Args)]
pub struct IndexArgs {
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
            disabled: self.no_index,
            dir: self.index_dir.clone(),
        }
    }
}
