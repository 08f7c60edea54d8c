//! `heapgraph graph DUMP (ADDRESS|TYPE) -o FILE`

use super::report_args::IndexArgs;
use crate::load::analyzed_dump;
use heapgraph_analysis::{instances_of, Direction, Neighbourhood, WalkLimits};
use heapgraph_render::graph::Drawing;
use std::path::PathBuf;

/// Draw the objects around one object, or around the instances of a type: what references them
/// (--backrefs, the default) or what they reference (--refs). objgraph's show_backrefs and show_refs,
/// offline. Labels carry type, value, shallow and retained size; edges carry their names; roots and the
/// start objects stand out.
#[derive(clap::Args)]
pub struct Args {
    /// The dump file: a heapgraph Python dump (.hgd), a Java HPROF dump (.hprof, .hprof.gz) or a V8 heap
    /// snapshot (.heapsnapshot)
    dump: PathBuf,
    /// An object's address (hex 0x... or decimal), or a type name (its instances retaining the most)
    start: String,
    /// Draw what references the start objects, back towards the roots (default)
    #[arg(long, conflicts_with = "refs")]
    backrefs: bool,
    /// Draw what the start objects reference
    #[arg(long)]
    refs: bool,
    /// References to follow from the start objects
    #[arg(long, default_value_t = 3)]
    max_depth: usize,
    /// Neighbours drawn per object (and start instances of a type); the rest fold into one "N more" node
    #[arg(long, default_value_t = 10)]
    too_many: usize,
    /// Draw only objects of this type (besides the start objects)
    #[arg(long, value_name = "TYPE")]
    filter: Option<String>,
    /// Fill objects of this type in a colour of their own
    #[arg(long, value_name = "TYPE")]
    highlight: Option<String>,
    /// Where to draw: FILE.dot, FILE.svg or FILE.png (SVG and PNG need Graphviz)
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
    #[command(flatten)]
    index: IndexArgs,
}

pub fn run(args: Args) -> Result<(), String> {
    let (dump, r) = analyzed_dump(&args.dump, &args.index)?;
    let graph = &dump.graph;
    let starts = if looks_like_address(&args.start) {
        vec![super::node_at(&dump, &args.start)?]
    } else {
        let mut instances = instances_of(graph, &super::types_named(&dump, &args.start)?);
        instances.sort_by_key(|&n| (std::cmp::Reverse(r.retained.of(n)), n));
        if instances.len() > args.too_many {
            eprintln!(
                "drawing the {} of {} instances that retain the most (--too-many)",
                args.too_many,
                instances.len()
            );
            instances.truncate(args.too_many);
        }
        instances
    };
    let only_types = match &args.filter {
        Some(t) => Some(super::types_named(&dump, t)?),
        None => None,
    };
    let highlight = match &args.highlight {
        Some(t) => super::types_named(&dump, t)?,
        None => Vec::new(),
    };
    let direction = if args.refs {
        Direction::Referents
    } else {
        Direction::Referrers
    };
    let neighbourhood = Neighbourhood::walk(
        graph,
        &r.paths,
        &starts,
        direction,
        &WalkLimits {
            max_depth: args.max_depth,
            too_many: args.too_many,
            only_types,
        },
    );
    let drawing = Drawing {
        graph,
        retained: &r.retained,
        neighbourhood: &neighbourhood,
        direction,
        starts: &starts,
        highlight: &highlight,
        max_depth: args.max_depth,
    };
    println!(
        "{} objects, {} references",
        neighbourhood.nodes.len(),
        neighbourhood.edges.len()
    );
    super::draw(&drawing.to_dot(), &args.output)
}

/// `0x...` or all digits: an address; anything else names a type.
fn looks_like_address(text: &str) -> bool {
    text.starts_with("0x")
        || text.starts_with("0X")
        || (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
}
