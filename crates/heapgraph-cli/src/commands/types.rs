//! `heapgraph types DUMP`

use crate::load::load_dump;
use heapgraph_analysis::{Histogram, SortKey};
use heapgraph_render::types::TypesReport;
use std::path::PathBuf;

/// Objects per type: count, shallow bytes and share of the heap (objgraph's most_common_types, offline).
#[derive(clap::Args)]
pub struct Args {
    /// The dump file (.hgd)
    dump: PathBuf,
    /// Show this many types (0: all)
    #[arg(long, default_value_t = 25)]
    top: usize,
    /// What to rank types by
    #[arg(long, value_enum, default_value_t = Sort::Size)]
    sort: Sort,
    /// Print JSON instead of a table
    #[arg(long)]
    json: bool,
}

#[derive(Copy, Clone, clap::ValueEnum)]
enum Sort {
    Count,
    Size,
}

pub fn run(args: Args) -> Result<(), String> {
    let dump = load_dump(&args.dump)?;
    let mut histogram = Histogram::compute(&dump.graph);
    histogram.sort_by(match args.sort {
        Sort::Count => SortKey::Count,
        Sort::Size => SortKey::Size,
    });
    let report = TypesReport::new(args.dump.display().to_string(), &histogram, args.top);
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report.to_json()).map_err(|e| e.to_string())?
        );
    } else {
        print!("{}", report.render_text());
    }
    Ok(())
}
