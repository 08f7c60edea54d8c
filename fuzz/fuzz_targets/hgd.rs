//! Fuzzes the Python `.hgd` reader through the same entry point the CLI uses, `heapgraph_formats::load`.
//!
//! The reader memory-maps a file and its graph keeps reading value previews from that map, so the input is
//! written to a file first rather than giving the reader a byte-slice entry point it would use nowhere else.
//! The file lives in `/dev/shm` when there is one (memory, no disk I/O per run). Any outcome is fine except
//! a panic, an abort or a sanitizer report; a loaded graph has its details read too, as reports do.
#![no_main]

use heapgraph_formats::{load, NoProgress};
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;

fn scratch_file() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let shm = std::path::Path::new("/dev/shm");
        let dir = if shm.is_dir() {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        dir.join(format!("heapgraph-fuzz-hgd-{}.hgd", std::process::id()))
    })
}

fuzz_target!(|data: &[u8]| {
    let path = scratch_file();
    std::fs::write(path, data).expect("cannot write the fuzz input file");
    if let Ok(dump) = load(path, &NoProgress) {
        let graph = &dump.graph;
        for node in 0..graph.node_count() as u32 {
            let _ = graph.details(node);
        }
    }
});
