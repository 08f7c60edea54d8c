//! Output for heapgraph reports: every report is a serializable struct (the `--json` form) with a text
//! rendering for people. Graphviz output joins here later.

pub mod info;
mod table;
pub mod types;
mod units;

pub use table::{Align, Table};
pub use units::{format_bytes, format_count, format_share};
