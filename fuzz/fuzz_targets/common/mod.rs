//! What every fuzz target does with its input: write it to a file and read it through the same entry
//! points the CLI uses, `heapgraph_formats::load` and `shallow_histogram`.
//!
//! The readers memory-map a file and a graph keeps reading details from that map, so the input goes to a
//! file rather than through a byte-slice entry point the readers would use nowhere else. The file lives in
//! `/dev/shm` when there is one (memory, no disk I/O per run). Any outcome is fine except a panic, an abort
//! or a sanitizer report; a loaded graph has its details and edge labels read too, as reports do.
//!
//! The targets differ only in their seeds (`fuzz/seeds/<target>`), which steer the fuzzer into one
//! reader: format detection reads the first bytes, so a mutated HPROF dump stays an HPROF dump.

use heapgraph_formats::{load, shallow_histogram, NoProgress};
use std::path::PathBuf;
use std::sync::OnceLock;

fn scratch_file(target: &str) -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let shm = std::path::Path::new("/dev/shm");
        let dir = if shm.is_dir() {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        dir.join(format!("heapgraph-fuzz-{target}-{}", std::process::id()))
    })
}

pub fn exercise(target: &str, data: &[u8]) {
    let path = scratch_file(target);
    std::fs::write(path, data).expect("cannot write the fuzz input file");
    let _ = shallow_histogram(path, &NoProgress);
    if let Ok(dump) = load(path, &NoProgress) {
        let graph = &dump.graph;
        for node in 0..graph.node_count() as u32 {
            let _ = graph.details(node);
            // HPROF graphs read their edge labels again from the dump.
            let _ = graph.out_labels(node);
        }
    }
}
