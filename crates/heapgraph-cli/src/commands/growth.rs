//! `heapgraph growth OLD NEW`

use super::report_args::IndexArgs;
use crate::load::{analyzed_dump, indexed_dump, load_dump};
use heapgraph_analysis::{Growth, TreeLimits};
use heapgraph_formats::HeapChoice;
use heapgraph_render::growth::{most_new, GrowthReport, HeldGrowth};
use heapgraph_render::retainers::RetainersView;
use heapgraph_render::sites::GroupSites;
use std::path::{Path, PathBuf};

/// What grew between two dumps of one process (objgraph's show_growth, offline): per-type count and size
/// deltas, the objects in NEW that OLD did not have (same address and type), and, for the types with the
/// most new objects, the merged chains from the roots that hold them.
#[derive(clap::Args)]
pub struct Args {
    /// The earlier dump (.hgd, .hprof or .hprof.gz)
    old: PathBuf,
    /// The later dump of the same process, same format
    new: PathBuf,
    /// Types to list
    #[arg(long, default_value_t = 20)]
    top: usize,
    /// Types whose new objects get a tree of who holds them
    #[arg(long, default_value_t = 3)]
    held: usize,
    /// Print JSON instead of text
    #[arg(long)]
    json: bool,
    /// Read heap dump N (from 1) or the named heap of OLD, and --heap's of NEW: `growth app.hprof
    /// app.hprof --old-heap 1 --heap 2` compares two dumps of one file (the legacy hprof agent writes
    /// one per request)
    #[arg(long, value_name = "N|NAME")]
    old_heap: Option<HeapChoice>,
    #[command(flatten)]
    index: IndexArgs,
}

pub fn run(args: Args) -> Result<(), String> {
    // Only the new dump needs its analyses; the old one is read from its index if it has one, but none is
    // built for it.
    let old_args = IndexArgs {
        heap: args.old_heap.clone().or(args.index.heap.clone()),
        raw_sizes: args.index.raw_sizes,
        no_index: args.index.no_index,
        index_dir: args.index.index_dir.clone(),
    };
    let old = match indexed_dump(&args.old, &old_args) {
        Some((dump, _)) => dump,
        None => load_dump(&args.old, &old_args)?,
    };
    let (new, analysis) = analyzed_dump(&args.new, &args.index)?;
    let growth = crate::progress::spin("matching objects between the dumps", || {
        Growth::compute(&old.graph, &new.graph)
    });
    drop(old);
    let graph = &new.graph;
    let held = most_new(&growth, args.held)
        .into_iter()
        .map(|t| {
            let targets = growth.new_of_type(graph, &t.type_name);
            let tree = super::retainer_tree(
                graph,
                &analysis,
                &targets,
                TreeLimits {
                    max_depth: 32,
                    top: 5,
                },
            );
            HeldGrowth {
                type_name: t.type_name.clone(),
                allocated: GroupSites::of(graph, targets.iter().copied()),
                retainers: RetainersView::new(graph, &tree),
            }
        })
        .collect();
    // A dump chosen among several of its file is named by its number, as MAT names them.
    let name = |path: &Path, heap: &Option<HeapChoice>| match heap {
        Some(HeapChoice::Dump(n)) => format!("{} #{n}", path.display()),
        Some(HeapChoice::Named(name)) => format!("{} ({name} heap)", path.display()),
        None => path.display().to_string(),
    };
    let report = GrowthReport {
        old_file: name(&args.old, &old_args.heap),
        new_file: name(&args.new, &args.index.heap),
        growth,
        held,
    };
    super::print(&report, args.json, |r| r.render_text(args.top))
}
