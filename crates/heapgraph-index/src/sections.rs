//! The index's own section: a JSON summary of the dump that is not a per-object array. Every other
//! section is a column the graph or an analysis named and reads back itself.

use serde::{Deserialize, Serialize};

pub const META: &str = "index.meta";

/// Just the writer's version from the JSON section, which still parses when the rest of it does not.
#[derive(Deserialize)]
pub struct MetaWriter {
    pub heapgraph: String,
}

/// What the index keeps of the dump beside its graph, as JSON.
#[derive(Serialize, Deserialize)]
pub struct Meta {
    /// The heapgraph version that wrote the file: another version rebuilds it, since the analyses it
    /// stores may have changed.
    pub heapgraph: String,
    /// The dump's format, as its position in `Format::ALL`.
    pub format: usize,
    pub dump_meta: serde_json::Map<String, serde_json::Value>,
    pub file_bytes: u64,
    pub dangling_edges: u64,
    pub warnings: Vec<String>,
}
