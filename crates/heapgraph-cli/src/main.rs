//! The `heapgraph` command. It only parses arguments and prints; the crates it calls do the work.

mod commands;
mod load;
mod progress;

use clap::{CommandFactory, Parser, Subcommand};
use std::process::ExitCode;

/// Big arrays on huge pages: far fewer page faults (see `HugePageAlloc`).
#[global_allocator]
static ALLOCATOR: heapgraph_graph::HugePageAlloc = heapgraph_graph::HugePageAlloc;

/// Ask a heap dump what is in it and what keeps it alive.
///
/// Take a dump of a Python process with the dumper (`heapgraph dumper -o DIR` writes it out), copy the
/// dump anywhere, then ask it questions here.
#[derive(Parser)]
#[command(name = "heapgraph", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Print each phase's wall time and memory on stderr (for benchmarks: bench/phases.sh)
    #[arg(long, global = true, hide = true)]
    timings: bool,
}

#[derive(Subcommand)]
enum Command {
    Info(commands::info::Args),
    Types(commands::types::Args),
    Top(commands::top::Args),
    Dominators(commands::dominators::Args),
    Unreferenced(commands::unreferenced::Args),
    Retainers(commands::retainers::Args),
    Path(commands::path::Args),
    Graph(commands::graph::Args),
    Growth(commands::growth::Args),
    Suspects(commands::suspects::Args),
    Sites(commands::sites::Args),
    Report(commands::report::Args),
    Dumper(commands::dumper::Args),
    Dump(commands::dump::Args),
    Run(commands::run::Args),
    Completions(commands::completions::Args),
    Man(commands::man::Args),
}

fn main() -> ExitCode {
    heapgraph_graph::map_big_blocks_alone();
    let cli = Cli::parse();
    if cli.timings {
        heapgraph_graph::timings::enable();
    }
    let result = match cli.command {
        Command::Info(args) => commands::info::run(args),
        Command::Types(args) => commands::types::run(args),
        Command::Top(args) => commands::top::run(args),
        Command::Dominators(args) => commands::dominators::run(args),
        Command::Unreferenced(args) => commands::unreferenced::run(args),
        Command::Retainers(args) => commands::retainers::run(args),
        Command::Path(args) => commands::path::run(args),
        Command::Graph(args) => commands::graph::run(args),
        Command::Growth(args) => commands::growth::run(args),
        Command::Suspects(args) => match commands::suspects::run(args) {
            // --fail, and a suspect outside the baseline remains.
            Ok(true) => return ExitCode::from(3),
            Ok(false) => Ok(()),
            Err(e) => Err(e),
        },
        Command::Sites(args) => commands::sites::run(args),
        Command::Report(args) => commands::report::run(args),
        Command::Dumper(args) => commands::dumper::run(args),
        Command::Dump(args) => commands::dump::run(args),
        Command::Run(args) => commands::run::run(args),
        Command::Completions(args) => commands::completions::run(args, Cli::command()),
        Command::Man(args) => commands::man::run(args, Cli::command()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("heapgraph: error: {message}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
