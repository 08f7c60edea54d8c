//! `heapgraph retainers DUMP TYPE`

use super::report_args::ReportArgs;
use crate::load::analyzed_dump;
use heapgraph_analysis::{instances_of, TreeLimits};
use heapgraph_render::retainers::RetainersReport;
use std::path::PathBuf;

/// Why the instances of a type are alive: their shortest chains of references from the roots, merged
/// into one tree where they pass through the same object, with the instances reached and the bytes they
/// retain at every step (Eclipse MAT's "merge shortest paths to GC roots"). Weak references are not
/// followed.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    report: ReportArgs,
    /// The type: its short name (Item) or module-qualified name (app.models.Item)
    #[arg(value_name = "TYPE")]
    type_name: String,
    /// Steps from a root beyond which chains are folded
    #[arg(long, default_value_t = 32)]
    max_depth: usize,
    /// Branches shown per object, most instances first; the rest are folded into one line
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// Also draw the tree: FILE.dot, FILE.svg or FILE.png (SVG and PNG need Graphviz)
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<(), String> {
    let (dump, analysis) = analyzed_dump(&args.report.dump, &args.report.index)?;
    let graph = &dump.graph;
    let types = super::types_named(&dump, &args.type_name)?;
    let targets = instances_of(graph, &types);
    let tree = super::retainer_tree(
        graph,
        &analysis,
        &targets,
        TreeLimits {
            max_depth: args.max_depth,
            top: args.top,
        },
    );
    let report = RetainersReport::new(
        args.report.dump.display().to_string(),
        args.type_name.clone(),
        graph,
        &types,
        &targets,
        &tree,
    );
    if let Some(path) = &args.output {
        let title = format!("why {} is alive", report.types.join(", "));
        super::draw(&report.tree.to_dot(&title), path)?;
    }
    super::print(&report, args.report.json, RetainersReport::render_text)
}
