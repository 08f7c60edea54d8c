//! `heapgraph info DUMP`

use super::report_args::ReportArgs;
use crate::load::{indexed_dump, load_dump};
use heapgraph_render::info::InfoReport;

/// What a dump is: format, runtime, process, objects, references, roots, load time.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    report: ReportArgs,
}

pub fn run(args: Args) -> Result<(), String> {
    // Info needs no analysis: an index answers at once if there is one, but none is built for it.
    let dump = match indexed_dump(&args.report.dump, &args.report.index) {
        Some((dump, _)) => dump,
        None => load_dump(&args.report.dump, &args.report.index)?,
    };
    let report = InfoReport::new(&dump);
    super::print(&report, args.report.json, InfoReport::render_text)
}
