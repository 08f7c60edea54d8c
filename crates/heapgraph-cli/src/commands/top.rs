//! `heapgraph top DUMP`

use crate::load::load_dump;
use heapgraph_analysis::analyze;
use heapgraph_render::top::TopReport;
use std::path::PathBuf;

/// The objects retaining the most memory, with the shortest chain of references from a root to each.
#[derive(clap::Args)]
pub struct Args {
    /// The dump file (.hgd)
    dump: PathBuf,
    /// How many objects to show
    #[arg(long, default_value_t = 20)]
    top: usize,
    /// Print JSON instead of a table
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<(), String> {
    let dump = load_dump(&args.dump)?;
    let analysis =
        crate::progress::spin("analyzing (dominator tree, retained sizes, paths)", || {
            analyze(&dump.graph)
        });
    let report = TopReport::new(
        args.dump.display().to_string(),
        &dump.graph,
        &analysis.retained,
        &analysis.paths,
        args.top,
    );
    super::print(&report, args.json, TopReport::render_text)
}
