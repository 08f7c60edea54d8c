//! Fuzzes the index file reader (seeds: `fuzz/seeds/index`), behind its checksums.
//!
//! Each input is an index file for the seed dump `fuzz/seeds/hgd/small.hgd`. Before it is opened its
//! identity and checksums are rewritten to match (`heapgraph_index::reseal`): a mutated byte would
//! otherwise fail a checksum and never reach the structural checks, which are what keeps a forged file
//! from reading out of bounds. An index that opens is then asked what the commands ask.
#![no_main]

use heapgraph_index::{exercise, open, reseal, DumpIdentity};
use std::path::PathBuf;
use std::sync::OnceLock;

/// The dump the inputs index, written once, and its identity.
fn dump() -> &'static (PathBuf, PathBuf, DumpIdentity) {
    static DUMP: OnceLock<(PathBuf, PathBuf, DumpIdentity)> = OnceLock::new();
    DUMP.get_or_init(|| {
        let shm = std::path::Path::new("/dev/shm");
        let dir = if shm.is_dir() { shm.to_path_buf() } else { std::env::temp_dir() };
        let dump = dir.join(format!("heapgraph-fuzz-index-{}.hgd", std::process::id()));
        std::fs::write(&dump, include_bytes!("../seeds/hgd/small.hgd")).expect("write the seed dump");
        let identity = DumpIdentity::of(&dump).expect("read the seed dump back");
        (dump.with_extension("hgi"), dump, identity)
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (index, dump, identity) = dump();
    let mut bytes = data.to_vec();
    reseal(&mut bytes, *identity);
    std::fs::write(index, &bytes).expect("cannot write the fuzz input file");
    if let Some(Ok((loaded, analysis))) = open(index, dump, *identity) {
        exercise(&loaded.graph, &analysis);
    }
});
