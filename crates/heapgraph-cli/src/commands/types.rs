//! `heapgraph types DUMP`

use super::report_args::ReportArgs;
use crate::load::load_dump;
use heapgraph_analysis::SortKey;
use heapgraph_render::types::TypesReport;

/// Objects per type: count, shallow and retained bytes, shares of the heap (objgraph's
/// most_common_types, offline, with sizes). A type's retained size counts only instances that no other
/// instance of the same type keeps alive, so nested structures are not counted twice.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    report: ReportArgs,
    /// Show this many types (0: all)
    #[arg(long, default_value_t = 25)]
    top: usize,
    /// What to rank types by
    #[arg(long, value_enum, default_value_t = Sort::Size)]
    sort: Sort,
}

#[derive(Copy, Clone, clap::ValueEnum)]
enum Sort {
    Count,
    Size,
    Retained,
}

pub fn run(args: Args) -> Result<(), String> {
    let dump = load_dump(&args.report.dump)?;
    let mut histogram = super::analyzed(&dump.graph).histogram;
    histogram.sort_by(match args.sort {
        Sort::Count => SortKey::Count,
        Sort::Size => SortKey::Size,
        Sort::Retained => SortKey::Retained,
    });
    let report = TypesReport::new(args.report.dump.display().to_string(), &histogram, args.top);
    super::print(&report.to_json(), args.report.json, |_| {
        report.render_text()
    })
}
