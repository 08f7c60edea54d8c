//! `heapgraph unreferenced DUMP`

use crate::load::load_dump;
use heapgraph_analysis::analyze;
use heapgraph_render::unreferenced::UnreferencedView;
use std::path::PathBuf;

/// Objects nothing in the heap references, told apart: held from outside (C code, the interpreter),
/// held by running frames, or garbage; plus every object no root reaches (cycles waiting for the
/// collector). objgraph's get_leaking_objects, done right.
#[derive(clap::Args)]
pub struct Args {
    /// The dump file (.hgd)
    dump: PathBuf,
    /// Types to list per group
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// Print JSON instead of tables
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<(), String> {
    let dump = load_dump(&args.dump)?;
    let analysis =
        crate::progress::spin("analyzing (dominator tree, retained sizes, paths)", || {
            analyze(&dump.graph)
        });
    let view = UnreferencedView {
        file: args.dump.display().to_string(),
        total_bytes: analysis.histogram.total_shallow_bytes,
        report: &analysis.unreferenced,
    };
    super::print(&view, args.json, |v| v.render_text(args.top))
}
