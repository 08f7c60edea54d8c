//! `heapgraph man -o DIR`

use std::path::PathBuf;

/// Write the manual pages: heapgraph.1, and heapgraph-SUBCOMMAND.1 for each subcommand.
///
/// Read one with `man DIR/heapgraph.1`, or install them under a `man1/` directory on your MANPATH
/// (for example `heapgraph man -o ~/.local/share/man/man1`).
#[derive(clap::Args)]
pub struct Args {
    /// Directory to write the pages into
    #[arg(short, long, default_value = ".")]
    output: PathBuf,
}

pub fn run(args: Args, command: clap::Command) -> Result<(), String> {
    if !args.output.is_dir() {
        return Err(format!(
            "{}: not a directory; create it first or pass an existing one with -o",
            args.output.display()
        ));
    }
    let pages = 1 + command.get_subcommands().count();
    clap_mangen::generate_to(command, &args.output)
        .map_err(|e| format!("{}: cannot write the pages: {e}", args.output.display()))?;
    eprintln!(
        "wrote {pages} pages to {}; read one with: man {}",
        args.output.display(),
        args.output.join("heapgraph.1").display()
    );
    Ok(())
}
