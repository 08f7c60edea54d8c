//! One module per subcommand: its arguments and how it prints.

pub mod dumper;
pub mod info;
pub mod types;
