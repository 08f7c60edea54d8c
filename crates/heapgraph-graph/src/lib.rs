//! The reference graph: the one contract between dump formats and analyses.
//!
//! Every dump format (the Python `.hgd` dump, Java HPROF and V8 snapshots) is loaded into a [`Graph`];
//! every analysis reads only a [`Graph`]. Nothing here knows which runtime a dump came from.
//!
//! The layout is chosen for heaps of tens of millions of objects:
//! - node ids are dense `u32`s, assigned in ascending address order, so an address lookup is a search in
//!   a bucket of the address array and needs no hash table, and an address is kept in 2 bytes;
//! - forward edges are compressed sparse rows: a target (4 bytes, but not for a first edge to the node
//!   its type's objects all start with, a Java object's class: see [`EdgeCursor`]) and a weak bit per
//!   edge, plus a label (4 bytes) unless the format reads labels again from the dump when asked (see
//!   [`EdgeLabels`]), and where each node's edges start in about 2 bytes per node (see [`EdgeOffsets`]);
//!   reverse edges (source, 4 bytes per edge) are built on the first call that needs them;
//! - type names, edge names and root names are interned once in a [`Strings`] table;
//! - per-object details that reports print for a handful of objects (value previews, names) stay in the
//!   dump file and are read on demand through [`NodeDetailSource`].

mod address;
mod allocation_sites;
mod builder;
mod by_type;
mod column;
mod csr;
mod details;
mod edge_labels;
mod edge_offsets;
mod fault_in;
mod freed_heap;
mod graph;
mod graph_columns;
mod huge_pages;
mod label;
mod leak_facts;
mod narrow;
mod node_bits;
mod packed;
mod prefetch;
mod reverse;
mod roots;
mod saved;
mod sizes;
mod strings;
mod targets;
pub mod timings;
mod types;

pub use address::{Addresses, Directory};
pub use allocation_sites::{AllocationSites, AllocationSitesBuilder, Frame, FrameId, TraceId};
pub use builder::{Built, GraphBuilder};
pub use by_type::SharedValues;
pub use column::{plain_bytes, Backing, Column, ColumnError, Plain};
pub use csr::counts_to_ends;
pub use details::{NoDetails, NodeDetailSource, NodeDetails, SavedDetails};
pub use edge_labels::{EdgeLabels, WeakEdges};
pub use edge_offsets::EdgeOffsets;
pub use fault_in::BlockPages;
pub use freed_heap::{map_big_blocks_alone, release_freed_heap};
pub use graph::{Graph, GraphError, GraphParts, NodeLabels, RawGraph, MAX_EDGES};
pub use huge_pages::{HugePageAlloc, HUGE};
pub use label::{EdgeKind, EdgeLabel};
pub use leak_facts::{LeakFact, LeakFacts};
pub use narrow::{NarrowFiller, NarrowValues, NarrowWriter, Slot};
pub use node_bits::{NodeBits, SharedNodeBits};
pub use packed::PackedPositions;
pub use prefetch::prefetch;
pub use roots::{Root, RootKind};
pub use saved::{same_lengths, ColumnPlace, MappedColumns, SavedColumn, SavedColumns, MAX_NAME};
pub use sizes::{ShallowSizes, SizesWriter};
pub use strings::{StrId, StringInterner, Strings};
pub use targets::{EdgeCursor, NodeEdges};
pub use types::{NodeTypes, TypeId, TypeInfo};

/// A node (object) in the graph. Dense, `0..node_count`, in ascending address order.
pub type NodeId = u32;
