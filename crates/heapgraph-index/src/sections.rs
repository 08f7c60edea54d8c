//! What each section of an index file holds, by tag, and the one JSON section for everything that is
//! not a per-object array.

use heapgraph_analysis::{Histogram, UnreferencedReport};
use serde::{Deserialize, Serialize};

pub const META: u32 = 1;

pub const ADDRESSES: u32 = 10;
pub const TYPES: u32 = 11;
pub const SIZES: u32 = 12;
pub const BIG_SIZE_NODES: u32 = 13;
pub const BIG_SIZES: u32 = 14;
pub const EDGE_OFFSETS: u32 = 15;
pub const EDGE_TARGETS: u32 = 16;
pub const EDGE_LABELS: u32 = 17;
pub const ROOT_NODES: u32 = 18;
pub const ROOT_KINDS: u32 = 19;
pub const ROOT_NAMES: u32 = 20;
pub const TYPE_MODULES: u32 = 21;
pub const TYPE_NAMES: u32 = 22;
pub const TYPE_OBJECTS: u32 = 23;
pub const STRING_TEXT: u32 = 24;
pub const STRING_ENDS: u32 = 25;
pub const DIRECTORY_STARTS: u32 = 26;
pub const DIRECTORY_KEYS: u32 = 27;
pub const EDGE_WEAK: u32 = 28;
pub const EDGE_SHARED_FIRST: u32 = 29;
pub const EDGE_SHARED_BITS: u32 = 30;
pub const SIZE_SHARED: u32 = 31;
pub const SIZE_SHARED_BITS: u32 = 32;

pub const DOMINATOR_PRE: u32 = 40;
pub const DOMINATOR_VERTEX: u32 = 41;
pub const DOMINATOR_IDOM: u32 = 42;
pub const RETAINED_BIG_VERTICES: u32 = 43;
pub const RETAINED_BIG_SIZES: u32 = 44;
pub const RETAINED: u32 = 45;
pub const RETAINED_BY_TYPE: u32 = 46;
pub const PATH_VIA: u32 = 48;
/// Node lists of the unreferenced report's four groups, in [`UnreferencedReport`]'s field order.
pub const UNREFERENCED_NODES: [u32; 4] = [50, 51, 52, 53];

/// The detail source's own arrays: `DETAILS_* + i` is its `i`-th array of that element size.
pub const DETAILS_U64: u32 = 100;
pub const DETAILS_U32: u32 = 200;
pub const DETAILS_U8: u32 = 300;
/// Room for this many detail arrays of each element size.
pub const DETAILS_MAX: usize = 100;

/// Just the writer's version from the JSON section, which still parses when the rest of it does not.
#[derive(Deserialize)]
pub struct MetaWriter {
    pub heapgraph: String,
}

/// Everything in the index that is not a per-object array, as JSON.
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
    /// The address directory's kind and parameters (its arrays are sections).
    pub dense_directory: Option<DenseDirectory>,
    pub histogram: Histogram,
    /// Without node lists, which are sections.
    pub unreferenced: UnreferencedReport,
    pub details: String,
}

#[derive(Serialize, Deserialize, Clone, Copy)]
pub struct DenseDirectory {
    pub base: u64,
    pub shift: u32,
}
