//! `heapgraph info DUMP`

use super::report_args::ReportArgs;
use crate::load::load_dump;
use heapgraph_render::info::InfoReport;

/// What a dump is: format, runtime, process, objects, references, roots, load time.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    report: ReportArgs,
}

pub fn run(args: Args) -> Result<(), String> {
    let dump = load_dump(&args.report.dump)?;
    let report = InfoReport::new(&dump);
    super::print(&report, args.report.json, InfoReport::render_text)
}
