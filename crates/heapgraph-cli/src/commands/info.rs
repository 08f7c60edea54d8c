//! `heapgraph info DUMP`

use crate::load::load_dump;
use heapgraph_render::info::InfoReport;
use std::path::PathBuf;

/// What a dump is: format, runtime, process, objects, references, roots, load time.
#[derive(clap::Args)]
pub struct Args {
    /// The dump file (.hgd)
    dump: PathBuf,
    /// Print JSON instead of text
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<(), String> {
    let dump = load_dump(&args.dump)?;
    let report = InfoReport::new(&dump);
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?
        );
    } else {
        print!("{}", report.render_text());
    }
    Ok(())
}
