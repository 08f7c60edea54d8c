//! `heapgraph sites DUMP`

use super::report_args::ReportArgs;
use crate::load::analyzed_dump;
use heapgraph_analysis::{SiteGrouping, SiteTable};
use heapgraph_formats::Format;
use heapgraph_render::sites::SitesReport;

/// Where the live objects were allocated, ranked by the bytes they retain: the allocation stacks the
/// runtime recorded (Python's tracemalloc, V8's allocation tracking, the old HPROF agent) joined to the
/// dominator tree.
///
/// A site's retained bytes count only its objects that no other object of the same site keeps alive,
/// as a type's do, so a list built at one line counts once; two sites can share bytes. A site whose
/// retained bytes are 70% or more another site's objects holds that site: the line where the memory
/// accumulates comes first, the lines of what holds it (a query, a cache) right after it. Each site also
/// names the first frame in the program's own code (not the standard library, site-packages,
/// node_modules, Node's or the JDK's own code) that its objects were allocated under. A dump that
/// records no stacks: the message says how to record them, and the exit status is 1.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    report: ReportArgs,
    /// What makes a site: the allocating line, its file, or the whole stack
    #[arg(long, value_enum, default_value_t = By::Line)]
    by: By,
    /// Only objects of this type: its short name (Item) or module-qualified name (app.models.Item)
    #[arg(long = "type", value_name = "TYPE")]
    type_name: Option<String>,
    /// How many sites to show (0: all)
    #[arg(long, default_value_t = 20)]
    top: usize,
}

#[derive(Copy, Clone, PartialEq, clap::ValueEnum)]
enum By {
    Line,
    File,
    Traceback,
}

impl From<By> for SiteGrouping {
    fn from(by: By) -> SiteGrouping {
        match by {
            By::Line => SiteGrouping::Line,
            By::File => SiteGrouping::File,
            By::Traceback => SiteGrouping::Traceback,
        }
    }
}

pub fn run(args: Args) -> Result<(), String> {
    let (dump, analysis) = analyzed_dump(&args.report.dump, &args.report.index)?;
    let graph = &dump.graph;
    if graph.allocation_sites().is_empty() {
        return Err(format!(
            "{}: this dump records no allocation sites. {}",
            dump.path.display(),
            how_to_record(dump.format)
        ));
    }
    let types = match &args.type_name {
        Some(name) => Some(super::types_named(&dump, name)?),
        None => None,
    };
    let table = SiteTable::compute(
        graph,
        &analysis.dominators,
        &analysis.retained,
        args.by.into(),
        types.as_deref(),
    );
    let report = SitesReport::new(
        args.report.dump.display().to_string(),
        graph,
        &table,
        analysis.retained.total(),
        types.map(|t| t.iter().map(|&t| graph.type_name(t)).collect()),
        args.top,
    );
    super::print(&report, args.report.json, SitesReport::render_text)
}

/// How the runtime that wrote a dump of `format` records allocation stacks.
fn how_to_record(format: Format) -> &'static str {
    match format {
        Format::PythonHgd => {
            "Python records them with tracemalloc: start the program with `heapgraph run --tracemalloc 25 -- \
             prog.py`, or with PYTHONTRACEMALLOC=25 or `python -X tracemalloc=25` and dump it with \
             `heapgraph dump --pid` (25 frames per stack; objects made before tracing started have none)"
        }
        Format::V8Snapshot | Format::V8SnapshotGzip => {
            "V8 records them with allocation tracking: start Node.js with `node --track-heap-objects`, or \
             take the snapshot from DevTools' Memory panel after \"Allocations on timeline\" with stacks \
             recorded; objects made before tracking started have none"
        }
        Format::Hprof | Format::HprofGzip => {
            "Java heap dumps from `jcmd GC.heap_dump`, jmap or -XX:+HeapDumpOnOutOfMemoryError carry \
             none; only the old hprof agent (JDK 8 and earlier, `-agentlib:hprof=heap=dump,depth=N`) \
             wrote allocation stacks into its dumps"
        }
    }
}
