//! `heapgraph path DUMP ADDRESS`

use super::report_args::ReportArgs;
use crate::load::{analyzed_dump, load_dump};
use heapgraph_analysis::ShortestPaths;
use heapgraph_render::path::PathReport;
use heapgraph_render::{Chain, ObjectRef};
use std::path::PathBuf;

/// Why one object is alive: its shortest chain of references from a root (objgraph's
/// find_backref_chain, offline). From the dump's index, or with --no-index only a breadth-first search
/// (no dominator tree, so it is quick on a big dump asked just once).
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    report: ReportArgs,
    /// The object's address (hex 0x... or decimal), as reports print it
    address: String,
    /// Also draw the chain: FILE.dot, FILE.svg or FILE.png (SVG and PNG need Graphviz)
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<(), String> {
    let (dump, paths) = if args.report.index.no_index {
        let dump = load_dump(&args.report.dump, &args.report.index)?;
        let paths = crate::progress::spin("finding the shortest chains from the roots", || {
            ShortestPaths::compute(&dump.graph)
        });
        (dump, paths)
    } else {
        let (dump, analysis) = analyzed_dump(&args.report.dump, &args.report.index)?;
        (dump, analysis.paths)
    };
    let graph = &dump.graph;
    let node = super::node_at(&dump, &args.address)?;
    let report = PathReport {
        file: args.report.dump.display().to_string(),
        object: ObjectRef::new(graph, node),
        chain: paths
            .path_to(graph, node)
            .map(|steps| Chain::new(graph, &steps)),
    };
    if let Some(path) = &args.output {
        super::draw(&report.to_dot(), path)?;
    }
    super::print(&report, args.report.json, PathReport::render_text)
}
