//! `heapgraph dominators DUMP [ADDRESS]`

use super::report_args::ReportArgs;
use crate::load::analyzed_dump;
use heapgraph_render::dominators::{DominatorReport, TreeBuilder, TreeLimits};

/// The dominator tree: what each object keeps alive on its own, biggest first.
///
/// An object dominates another when every chain of references from the roots to the second passes
/// through the first: freeing the dominator frees everything below it.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    report: ReportArgs,
    /// Start at this object (address, hex 0x... or decimal) instead of the roots
    address: Option<String>,
    /// Levels of the tree to show
    #[arg(long, default_value_t = 3)]
    depth: usize,
    /// Fold children retaining less than this percentage of the reachable heap
    #[arg(long, default_value_t = 1.0)]
    min_share: f64,
}

pub fn run(args: Args) -> Result<(), String> {
    if !(0.0..=100.0).contains(&args.min_share) {
        return Err(format!(
            "--min-share {} is not a percentage between 0 and 100",
            args.min_share
        ));
    }
    let (dump, analysis) = analyzed_dump(&args.report.dump, &args.report.index)?;
    let graph = &dump.graph;
    let start = match &args.address {
        Some(text) => Some(super::node_at(&dump, text)?),
        None => None,
    };
    let heapgraph_analysis::Analysis {
        dominators,
        retained,
        paths,
        ..
    } = &analysis;
    if let Some(node) = start {
        if !dominators.is_reachable(node) {
            return Err(format!(
                "{}: object {text} is reachable from no root, so it is in no dominator tree; \
                 `heapgraph unreferenced` lists such objects",
                args.report.dump.display(),
                text = args.address.as_deref().unwrap_or_default()
            ));
        }
    }
    let tree = TreeBuilder {
        graph,
        dominators,
        retained,
        paths,
        limits: TreeLimits {
            depth: args.depth,
            min_share: args.min_share / 100.0,
        },
    }
    .build(start);
    let report = DominatorReport {
        file: args.report.dump.display().to_string(),
        reachable_bytes: retained.total(),
        unreachable_objects: dominators.unreachable_count() as u64,
        tree,
    };
    super::print(&report, args.report.json, DominatorReport::render_text)
}
