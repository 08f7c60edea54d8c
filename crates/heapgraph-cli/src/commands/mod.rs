//! One module per subcommand: its arguments and how it prints.

pub mod completions;
pub mod dominators;
pub mod dump;
pub mod dumper;
pub mod graph;
pub mod growth;
pub mod info;
pub mod man;
pub mod path;
pub mod report;
pub mod report_args;
pub mod retainers;
pub mod run;
pub mod sites;
pub mod suspects;
pub mod suspects_growth;
pub mod top;
pub mod types;
pub mod unreferenced;

use heapgraph_analysis::{Analysis, RetainerTree, TreeLimits};
use heapgraph_formats::Dump;
use heapgraph_graph::{Graph, NodeId, TypeId};
use heapgraph_render::dot::{write_image, DotGraph};
use serde::Serialize;
use std::path::Path;

/// The merged chains from the roots to `targets` (MAT's merged shortest paths).
fn retainer_tree(
    graph: &Graph,
    analysis: &Analysis,
    targets: &[NodeId],
    limits: TreeLimits,
) -> RetainerTree {
    RetainerTree::build(
        graph,
        &analysis.paths,
        &analysis.dominators,
        &analysis.retained,
        targets,
        limits,
    )
}

/// Prints a report as pretty JSON or as its text form. A reader that stops early (`| head`) is not an
/// error: the rest of the report is simply not written.
fn print<R: Serialize>(report: &R, json: bool, text: impl Fn(&R) -> String) -> Result<(), String> {
    let out = if json {
        serde_json::to_string_pretty(report).map_err(|e| e.to_string())? + "\n"
    } else {
        text(report)
    };
    write_stdout(out.as_bytes())
}

/// Writes `bytes` to stdout; a reader that stops early (`| head`) is not an error.
fn write_stdout(bytes: &[u8]) -> Result<(), String> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(format!("cannot write to stdout: {e}"))
        }
        _ => Ok(()),
    }
}

/// The node at an address typed by the user (`0x7f3a...` or decimal).
fn node_at(dump: &Dump, text: &str) -> Result<NodeId, String> {
    let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    };
    let addr = parsed.map_err(|_| {
        format!("{text:?} is not an address; give one as hex (0x7f3a...) or decimal, as reports print them")
    })?;
    dump.graph.node_at(addr).ok_or_else(|| {
        format!(
            "{}: no object at address {addr:#x}; `heapgraph top` and `heapgraph types` show objects in this dump",
            dump.path.display()
        )
    })
}

/// The types a user's TYPE argument names (short or module-qualified name).
fn types_named(dump: &Dump, query: &str) -> Result<Vec<TypeId>, String> {
    let types = dump.graph.find_types(query);
    if types.is_empty() {
        return Err(format!(
            "{}: no type named {query:?}; `heapgraph types` lists the types in this dump",
            dump.path.display()
        ));
    }
    Ok(types)
}

/// Writes a drawing to `path` (`.dot`, or `.svg`/`.png` through Graphviz) and says on stderr where it went.
fn draw(dot: &DotGraph, path: &Path) -> Result<(), String> {
    let written = write_image(&dot.to_dot(), path)?;
    eprintln!("{}", written.message());
    Ok(())
}
