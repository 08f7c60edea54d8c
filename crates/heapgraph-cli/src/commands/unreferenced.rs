//! `heapgraph unreferenced DUMP`

use super::report_args::ReportArgs;
use crate::load::analyzed_dump;
use heapgraph_render::unreferenced::UnreferencedView;

/// Objects nothing in the heap references, told apart: held from outside (C code, the interpreter),
/// held by running frames, or garbage; plus every object no root reaches (cycles waiting for the
/// collector). objgraph's get_leaking_objects, done right.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    report: ReportArgs,
    /// Types to list per group
    #[arg(long, default_value_t = 10)]
    top: usize,
}

pub fn run(args: Args) -> Result<(), String> {
    let (_, analysis) = analyzed_dump(&args.report.dump, &args.report.index)?;
    let view = UnreferencedView {
        file: args.report.dump.display().to_string(),
        total_bytes: analysis.histogram.total_shallow_bytes,
        report: &analysis.unreferenced,
    };
    super::print(&view, args.report.json, |v| v.render_text(args.top))
}
