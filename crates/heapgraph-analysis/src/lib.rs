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
//! - [`retainer_tree`]: many objects' shortest chains merged into one tree (MAT's merged paths);
//! - [`sites`]: allocation sites ranked by the bytes their objects retain;
//! - [`suspects`]: what holds a large share of the heap, where it accumulates, the reference to fix.
//!
//! Every analysis follows only edges whose label
//! [retains](heapgraph_graph::EdgeLabel::retains): weak references keep nothing alive.
//!
//! Build a small graph, analyse it, and ask what retains the most:
//!
//! ```
//! use heapgraph_analysis::{analyze, top_retainers};
//! use heapgraph_graph::{EdgeLabel, GraphBuilder, RootKind};
//!
//! // A module holds a dict, which holds a list of two strings.
//! let mut b = GraphBuilder::new();
//! let (module, dict) = (b.add_type("builtins", "module", 0), b.add_type("builtins", "dict", 0));
//! let (list, str_) = (b.add_type("builtins", "list", 0), b.add_type("builtins", "str", 0));
//! b.add_node(0x100, module, 100);
//! b.add_node(0x200, dict, 200);
//! b.add_node(0x300, list, 50);
//! b.add_node(0x400, str_, 30);
//! b.add_node(0x500, str_, 30);
//! b.add_edge(0x100, 0x200, EdgeLabel::index(0));
//! b.add_edge(0x200, 0x300, EdgeLabel::index(0));
//! b.add_edge(0x300, 0x400, EdgeLabel::index(0));
//! b.add_edge(0x300, 0x500, EdgeLabel::index(1));
//! b.add_root(0x100, RootKind::Module, "app");
//! let graph = b.build().unwrap().graph;
//!
//! let analysis = analyze(&graph);
//! let top = top_retainers(&analysis.dominators, &analysis.retained, 2);
//! assert_eq!(graph.address(top[0].node), 0x100);
//! assert_eq!(top[0].retained, 410); // the module and everything below it
//! assert_eq!(graph.type_name(graph.type_of(top[1].node)), "dict");
//! assert_eq!(top[1].retained, 310);
//! ```
//!
//! Limits: node and preorder numbers are `u32`, and the top two values mark "none" and the super-root,
//! so graphs must have fewer than `u32::MAX - 1` nodes (about 2^32 objects: ~100 GB of graph alone).

mod analysis;
mod atomic_view;
mod child_lists;
pub mod dominators;
pub mod growth;
pub mod histogram;
mod java_platform;
pub mod neighbourhood;
pub mod paths;
pub mod retained;
pub mod retainer_tree;
pub mod sites;
pub mod suspects;
pub mod top;
pub mod unreferenced;

pub use analysis::{analyze, retained_sizes, Analysis};
pub use dominators::{DfsDominators, Dominators, Idom};
pub use growth::{Growth, TypeGrowth};
pub use heapgraph_graph::NodeBits;
pub use histogram::{Histogram, SortKey, TypeRow};
pub use neighbourhood::{Direction, Neighbourhood, WalkLimits};
pub use paths::{Parent, PathStep, RankReach, ShortestPaths};
pub use retained::{RetainedSizes, TypeRetained};
pub use retainer_tree::{instances_of, Branch, Folded, Held, MergedStep, RetainerTree, TreeLimits};
pub use sites::{is_user_frame, HeldSite, Site, SiteGrouping, SiteTable, UserFrame, HOLDS_SHARE};
pub use suspects::{find_suspects, Suspect, SuspectKind, SuspectOptions, Suspects, TypeTally};
pub use top::{top_retainers, Retainer};
pub use unreferenced::{ObjectGroup, TypeCount, Unreferenced, UnreferencedReport};
