//! `heapgraph top DUMP`

use super::report_args::ReportArgs;
use crate::load::{analyzed_dump, load_dump};
use crate::progress::spin;
use heapgraph_analysis::{retained_sizes, top_retainers, Retainer, ShortestPaths};
use heapgraph_graph::timings::phase;
use heapgraph_graph::Graph;
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
    if !args.report.index.options().disabled {
        let (dump, analysis) = analyzed_dump(&args.report.dump, &args.report.index)?;
        let listed = phase("top retainers", || {
            top_retainers(&analysis.dominators, &analysis.retained, args.top)
        });
        let total = analysis.retained.total();
        return print(&args, &dump.graph, &listed, total, &analysis.paths);
    }
    // Without an index to fill, only what the report prints: the retained sizes, and the shortest paths
    // of the few objects it lists, from a search that stops once it has reached them all.
    let dump = load_dump(&args.report.dump, &args.report.index)?;
    let graph = &dump.graph;
    let (listed, total, paths) = spin("analyzing (dominator tree, retained sizes, paths)", || {
        let (dominators, retained) = retained_sizes(graph);
        let listed = phase("top retainers", || {
            top_retainers(&dominators, &retained, args.top)
        });
        let targets: Vec<_> = listed.iter().map(|r| r.node).collect();
        let paths = phase("shortest paths", || {
            ShortestPaths::reaching(graph, &targets, dominators.rank_reach())
        });
        (listed, retained.total(), paths)
    });
    print(&args, graph, &listed, total, &paths)
}

fn print(
    args: &Args,
    graph: &Graph,
    listed: &[Retainer],
    total: u64,
    paths: &ShortestPaths,
) -> Result<(), String> {
    phase("report", || {
        let report = TopReport::new(
            args.report.dump.display().to_string(),
            graph,
            listed,
            total,
            paths,
        );
        super::print(&report, args.report.json, TopReport::render_text)
    })
}
