//! Arguments every report takes.

use std::path::PathBuf;

/// The dump to read and how to print the report.
#[derive(clap::Args)]
pub struct ReportArgs {
    /// The dump file: a heapgraph Python dump (.hgd) or a Java HPROF dump (.hprof, .hprof.gz)
    pub dump: PathBuf,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}
