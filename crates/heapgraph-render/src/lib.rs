//! Output for heapgraph reports: every report is a serializable struct (the `--json` form) with a text
//! rendering for people.

pub mod dominators;
pub mod dot;
pub mod graph;
pub mod growth;
pub mod info;
mod object;
pub mod path;
pub mod retainers;
pub mod sites;
pub mod suspects;
pub mod suspects_growth;
pub mod suspects_proven;
mod table;
pub mod top;
pub mod types;
mod units;
pub mod unreferenced;

pub use object::{steps_text, Chain, ChainStep, ObjectRef};
pub use table::{Align, Table};
pub use units::{format_bytes, format_count, format_share};
