//! How one object and one chain of references read in every report.

use crate::format_bytes;
use heapgraph_analysis::PathStep;
use heapgraph_graph::{Graph, NodeId};
use serde::Serialize;

/// Longest value preview or name shown inline; the dump keeps up to 64 characters.
const PREVIEW_CHARS: usize = 40;

/// One object as reports show it.
#[derive(Clone, Debug, Serialize)]
pub struct ObjectRef {
    pub address: String,
    pub type_name: String,
    /// A value preview (`'abc'`, `42`) or a name (module, function, class), when the dump has one.
    pub preview: Option<String>,
    pub shallow_bytes: u64,
}

impl ObjectRef {
    pub fn new(graph: &Graph, node: NodeId) -> ObjectRef {
        let details = graph.details(node);
        let preview = details
            .value
            .or(details.name)
            .map(|p| shorten(&p, PREVIEW_CHARS));
        ObjectRef {
            address: format!("{:#x}", graph.address(node)),
            type_name: graph.type_name(graph.type_of(node)),
            preview,
            shallow_bytes: graph.shallow_size(node),
        }
    }

    /// `app.Leaf 0x7f..` or `str 'hello' 0x7f..`.
    pub fn text(&self) -> String {
        match &self.preview {
            Some(p) => format!("{} {p} {}", self.type_name, self.address),
            None => format!("{} {}", self.type_name, self.address),
        }
    }

    /// [`ObjectRef::text`] with the shallow size: `list 0x7f.. (8.1 KiB)`.
    pub fn text_with_size(&self) -> String {
        format!("{} ({})", self.text(), format_bytes(self.shallow_bytes))
    }
}

/// One step of a chain from a root: the object, and the edge that led to it.
#[derive(Clone, Debug, Serialize)]
pub struct ChainStep {
    #[serde(flatten)]
    pub object: ObjectRef,
    /// The edge from the previous step (`.attr`, `['key']`, `[3]`); absent on the root.
    pub via: Option<String>,
}

impl ChainStep {
    pub fn new(graph: &Graph, step: &PathStep) -> ChainStep {
        ChainStep {
            object: ObjectRef::new(graph, step.node),
            via: step.via.map(|l| l.display(graph.strings()).to_string()),
        }
    }
}

/// A chain of references from a root to an object.
#[derive(Clone, Debug, Serialize)]
pub struct Chain {
    /// Why the first object is alive: its root kind and name.
    pub root: String,
    pub steps: Vec<ChainStep>,
}

impl Chain {
    pub fn new(graph: &Graph, steps: &[PathStep]) -> Chain {
        let root = steps
            .first()
            .map(|s| root_text(graph, s.node))
            .unwrap_or_default();
        Chain {
            root,
            steps: steps.iter().map(|s| ChainStep::new(graph, s)).collect(),
        }
    }

    /// The chain as one line that reads like a Python expression where it can:
    /// `module app .__dict__['CACHE'].entries -> dict ['k'] -> list [3]`. Named edges chain directly;
    /// an unnamed edge shows the type it reaches.
    pub fn text(&self) -> String {
        let mut out = self.root.clone();
        out.push_str(&steps_text(self.steps.get(1..).unwrap_or_default()));
        out
    }
}

/// Steps of a chain after its root as they continue a chain's text: `.entries['k'] -> list`.
pub fn steps_text(steps: &[ChainStep]) -> String {
    let mut out = String::new();
    for step in steps {
        match step.via.as_deref() {
            Some(v) if v.starts_with('.') || v.starts_with('[') => out.push_str(v),
            Some(v) if !v.is_empty() => {
                out.push(' ');
                out.push_str(v);
            }
            _ => {
                out.push_str(" -> ");
                out.push_str(&step.object.type_name);
            }
        }
    }
    out
}

/// The best description of why `node` is a root: an explicit root kind over a derived one.
pub(crate) fn root_text(graph: &Graph, node: NodeId) -> String {
    let best = graph
        .roots()
        .iter()
        .filter(|r| r.node == node)
        .min_by_key(|r| r.kind.is_inferred());
    let type_name = graph.type_name(graph.type_of(node));
    match best {
        Some(r) if r.kind.is_inferred() => {
            format!("{} {type_name}", r.kind.as_str())
        }
        Some(r) => format!("{} {}", r.kind.as_str(), graph.strings().get(r.name)),
        None => type_name,
    }
}

/// Cuts `text` to `max` characters, marking the cut.
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}
