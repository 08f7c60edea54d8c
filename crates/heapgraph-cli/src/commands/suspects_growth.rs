//! `heapgraph suspects OLD NEW [NEWER...]`: what grew in every interval between dumps of one process.

use super::suspects::Args;
use crate::load::analyzed_dump;
use heapgraph_analysis::suspects::growth::{find_growth, GrowthOptions, PathTally};
use heapgraph_render::suspects_growth::GrowthSuspectsReport;

/// Prints the growth suspects of `args.dumps`; `Ok(true)` when --fail was asked and a suspect outside
/// `known` remains.
///
/// The dumps are read one after the other, each while the one before is tallied by path (at most two
/// are open at once); each is dropped once tallied, but the last, which the report's paths and
/// addresses come from.
pub fn run(args: &Args, known: &[String]) -> Result<bool, String> {
    let options = GrowthOptions {
        top: args.top,
        ..GrowthOptions::default()
    };
    let mut tallies = Vec::with_capacity(args.dumps.len());
    let mut current = analyzed_dump(&args.dumps[0], &args.index)?;
    for (at, path) in args.dumps.iter().enumerate().skip(1) {
        let (tallied, next) = rayon::join(
            || tally(&args.dumps[at - 1], &current.0.graph, &current.1),
            || analyzed_dump(path, &args.index),
        );
        tallies.push(tallied);
        current = next?;
    }
    let (dump, analysis) = current;
    let last_path = args.dumps.last().expect("two dumps or more");
    tallies.push(tally(last_path, &dump.graph, &analysis));
    let found = crate::progress::spin("comparing the dumps", || {
        find_growth(&tallies, &dump.graph, &analysis.paths, &options)
    });
    let files = args.dumps.iter().map(|p| p.display().to_string());
    let report = GrowthSuspectsReport::new(
        files.collect(),
        &dump.graph,
        &found,
        options.min_growth,
        known,
    );
    if let Some(path) = &args.write_baseline {
        super::suspects::write_baseline(path, report.fingerprints())?;
    }
    super::print(&report, args.json, GrowthSuspectsReport::render_text)?;
    Ok(args.fail && !report.suspects.is_empty())
}

fn tally(
    path: &std::path::Path,
    graph: &heapgraph_graph::Graph,
    analysis: &heapgraph_analysis::Analysis,
) -> PathTally {
    let what = format!("tallying {} by path", path.display());
    crate::progress::spin(&what, || PathTally::compute(graph, &analysis.paths))
}
