//! Per-object details that only reports need: value previews, names, lengths, refcounts.
//!
//! Keeping them out of the graph arrays saves tens of bytes per object; a report prints details for a few
//! hundred objects, which a format reads from its dump file on demand.

use crate::column::Column;
use crate::NodeId;

/// What a dump knows about one object beyond its type, size and references.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeDetails {
    /// A short preview of the value (strings, numbers).
    pub value: Option<String>,
    /// The object's own name (module, function, class, frame).
    pub name: Option<String>,
    /// `len()` of sized containers and strings.
    pub length: Option<u64>,
    /// Reference count, where the runtime counts references.
    pub refcount: Option<u64>,
}

/// Reads [`NodeDetails`] for a node, lazily, from wherever the format keeps them.
pub trait NodeDetailSource: Send + Sync {
    fn details(&self, node: NodeId) -> NodeDetails;

    /// The labels of `node`'s references in the graph's edge order, read again from the dump, for a
    /// graph built with [derived](crate::EdgeLabels::derived) labels. `graph` finds the nodes the
    /// references' addresses name: a reference to an address not in the dump has no edge. `None` when the
    /// source cannot say.
    fn edge_labels(&self, _node: NodeId, _graph: &crate::Graph) -> Option<Vec<crate::EdgeLabel>> {
        None
    }

    /// What an index file must keep so that the format can rebuild this source from the dump without
    /// reading all of it again (see `heapgraph_formats::reopen_details`). Empty when there is nothing.
    fn saved(&self) -> SavedDetails {
        SavedDetails::default()
    }

    /// The objects the dump states a [`LeakFact`](crate::LeakFact) about; `None` for a format that
    /// records none.
    fn leak_facts(&self) -> Option<&crate::LeakFacts> {
        None
    }
}

/// A detail source's own arrays (offsets of records in the dump, per node) and a short text, in the
/// format's own encoding, for everything else.
#[derive(Default, Debug, Clone, PartialEq)]
pub struct SavedDetails {
    pub text: String,
    pub u64s: Vec<Column<u64>>,
    pub u32s: Vec<Column<u32>>,
    pub u8s: Vec<Column<u8>>,
}

/// For graphs built without details (tests, synthetic graphs).
pub struct NoDetails;

impl NodeDetailSource for NoDetails {
    fn details(&self, _node: NodeId) -> NodeDetails {
        NodeDetails::default()
    }
}
