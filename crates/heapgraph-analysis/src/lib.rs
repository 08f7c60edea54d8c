//! Analyses over a [`heapgraph_graph::Graph`]: what is in the heap, what keeps it alive, and what nothing
//! keeps alive.
//!
//! Each analysis is its own module and can run alone; [`analyze`] runs them all, overlapping the
//! sequential dominator computation with the passes that do not depend on it.
//!
//! - [`growth`]: per-type deltas between two dumps of one process, and which objects are new;
//! - [`histogram`]: per-type counts and shallow bytes, with the retained column once it is known;
//! - [`dominators`]: the dominator tree from a super-root over the roots (simple Lengauer-Tarjan);
//! - [`retained`]: retained sizes per object and per type;
//! - [`unreferenced`]: objects nothing references, classified, and all unreachable objects;
//! - [`top`]: the objects retaining the most;
//! - [`paths`]: shortest retaining chains from the roots (one BFS);
//! - [`neighbourhood`]: the objects around a few objects, for drawing (objgraph's `show_backrefs`);
//! - [`retainer_tree`]: many objects' shortest chains merged into one tree (MAT's merged paths).
//!
//! Every analysis follows only edges whose label
//! [retains](heapgraph_graph::EdgeLabel::retains): weak references keep nothing alive.
//!
//! Limits: node and preorder numbers are `u32`, and the top two values mark "none" and the super-root,
//! so graphs must have fewer than `u32::MAX - 1` nodes (about 2^32 objects: ~100 GB of graph alone).

mod analysis;
mod child_lists;
pub mod dominators;
pub mod growth;
pub mod histogram;
pub mod neighbourhood;
mod node_bits;
pub mod paths;
pub mod retained;
pub mod retainer_tree;
pub mod top;
pub mod unreferenced;

pub use analysis::{analyze, Analysis};
pub use dominators::{DfsDominators, Dominators, Idom, SavedDominators};
pub use growth::{Growth, TypeGrowth};
pub use histogram::{Histogram, SortKey, TypeRow};
pub use neighbourhood::{Direction, Neighbourhood, WalkLimits};
pub use node_bits::NodeBits;
pub use paths::{Parent, PathStep, ShortestPaths};
pub use retained::{RetainedSizes, SavedRetained};
pub use retainer_tree::{instances_of, Branch, Folded, Held, MergedStep, RetainerTree, TreeLimits};
pub use top::{top_retainers, Retainer};
pub use unreferenced::{ObjectGroup, TypeCount, Unreferenced, UnreferencedReport};
