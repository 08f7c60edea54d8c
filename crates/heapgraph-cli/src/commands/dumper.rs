//! `heapgraph dumper -o DIR`

use heapgraph_formats::python::{DUMPER_FILE_NAME, DUMPER_SOURCE};
use std::path::PathBuf;

/// Write the Python dumper (one stdlib-only file) where your service can import it.
///
/// Then, in the service: `import heapgraph_dump; heapgraph_dump.dump("app.hgd")`.
/// Run `python heapgraph_dump.py --help` for more ways to use it.
#[derive(clap::Args)]
pub struct Args {
    /// Directory to write heapgraph_dump.py into
    #[arg(short, long, default_value = ".")]
    output: PathBuf,
}

pub fn run(args: Args) -> Result<(), String> {
    if !args.output.is_dir() {
        return Err(format!(
            "{}: not a directory; create it first or pass an existing one with -o",
            args.output.display()
        ));
    }
    let path = args.output.join(DUMPER_FILE_NAME);
    std::fs::write(&path, DUMPER_SOURCE)
        .map_err(|e| format!("{}: cannot write: {e}", path.display()))?;
    eprintln!(
        "wrote {}\nin your service: import heapgraph_dump; heapgraph_dump.dump(\"app.hgd\")\nthen: heapgraph info app.hgd",
        path.display()
    );
    Ok(())
}
