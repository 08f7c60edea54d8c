//! `heapgraph suspects OLD NEW [NEWER...]`: what grew in every interval between dumps of one process.

use super::report_args::IndexArgs;
use super::suspects::Args;
use crate::load::analyzed_dump;
use heapgraph_analysis::suspects::growth::{find_growth, GrowthOptions, PathTally};
use heapgraph_analysis::Analysis;
use heapgraph_formats::{Dump, Format};
use heapgraph_render::suspects_growth::GrowthSuspectsReport;
use rayon::prelude::*;
use std::path::Path;

/// Prints the growth suspects of `args.dumps`; `Ok(true)` when --fail was asked and a suspect outside
/// `known` remains.
///
/// The dumps are read and tallied by path two at a time, one per core (at most two are open at once);
/// each is dropped once tallied, but the last, which the report's paths and addresses come from.
pub fn run(args: &Args, known: &[String]) -> Result<bool, String> {
    let options = GrowthOptions {
        top: args.top,
        ..GrowthOptions::default()
    };
    let last = args.dumps.len() - 1;
    let mut tallies = Vec::with_capacity(args.dumps.len());
    let mut kept = None;
    let mut first_format = None;
    for (pair, paths) in args.dumps.chunks(2).enumerate() {
        let done: Vec<_> = paths
            .par_iter()
            .enumerate()
            .map(|(i, path)| tally(path, &args.index, pair * 2 + i == last))
            .collect();
        for (i, result) in done.into_iter().enumerate() {
            let (tallied, format, opened) = result?;
            let (first, format0) = *first_format.get_or_insert((&args.dumps[0], format));
            if format != format0 {
                return Err(format!(
                    "{} is a {}, {} a {}: suspects compares dumps of one process, give dumps of \
                     one format",
                    paths[i].display(),
                    format.name(),
                    first.display(),
                    format0.name()
                ));
            }
            tallies.push(tallied);
            kept = kept.or(opened);
        }
    }
    let (dump, analysis) = kept.expect("the last dump is kept");
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

/// A dump's tally, its format, and the dump itself if kept.
type Tallied = (PathTally, Format, Option<(Dump, Analysis)>);

/// Reads the dump at `path` and tallies it by path; keeps the dump if asked.
fn tally(path: &Path, index: &IndexArgs, keep: bool) -> Result<Tallied, String> {
    let (dump, analysis) = analyzed_dump(path, index)?;
    let what = format!("tallying {} by path", path.display());
    let tallied = crate::progress::spin(&what, || PathTally::compute(&dump.graph, &analysis.paths));
    let format = dump.format;
    Ok((tallied, format, keep.then_some((dump, analysis))))
}
