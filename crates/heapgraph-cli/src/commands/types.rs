//! `heapgraph types DUMP`

use super::report_args::ReportArgs;
use crate::load::{analyzed_dump, load_dump, shallow_histogram};
use heapgraph_analysis::{Histogram, SortKey};
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
    /// Counts and shallow sizes only, without retained sizes: the fastest first look at a big dump
    /// (HPROF dumps are counted as they are read, without building the graph)
    #[arg(long)]
    shallow: bool,
}

#[derive(Copy, Clone, PartialEq, clap::ValueEnum)]
enum Sort {
    Count,
    Size,
    Retained,
}

pub fn run(args: Args) -> Result<(), String> {
    let path = &args.report.dump;
    let mut histogram = if args.shallow {
        if args.sort == Sort::Retained {
            return Err(
                "--sort retained needs retained sizes, which --shallow skips; drop one of them"
                    .into(),
            );
        }
        match shallow_histogram(path, &args.report.index)? {
            Some(counted) => Histogram::from_counts(
                counted
                    .types
                    .into_iter()
                    .map(|t| (t.type_id, t.name, t.count, t.bytes)),
            ),
            None => Histogram::compute(&load_dump(path, &args.report.index)?.graph),
        }
    } else {
        analyzed_dump(path, &args.report.index)?.1.histogram
    };
    histogram.sort_by(match args.sort {
        Sort::Count => SortKey::Count,
        Sort::Size => SortKey::Size,
        Sort::Retained => SortKey::Retained,
    });
    let report = TypesReport::new(path.display().to_string(), &histogram, args.top);
    super::print(&report, args.report.json, TypesReport::render_text)
}
