//! `heapgraph types DUMP` (placeholder until the histogram lands)
pub type Args = super::info::Args;
pub fn run(args: Args) -> Result<(), String> {
    super::info::run(args)
}
