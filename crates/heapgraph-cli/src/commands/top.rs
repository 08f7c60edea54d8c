//! `heapgraph top DUMP`

use super::report_args::ReportArgs;
use crate::load::analyzed_dump;
use heapgraph_graph::timings::phase;
use heapgraph_render::top::TopReport;

/// The objects retaining the most memory, with the shortest chain of references from a root to each.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    report: ReportArgs,
    /// How many objects to show
    #[arg(long, default_value_t = 20)]
    top: usize,
}

pub fn run(args: Args) -> Result<(), String> {
    let (dump, analysis) = analyzed_dump(&args.report.dump, &args.report.index)?;
    phase("report", || {
        let report = TopReport::new(
            args.report.dump.display().to_string(),
            &dump.graph,
            &analysis,
            args.top,
        );
        super::print(&report, args.report.json, TopReport::render_text)
    })
}
