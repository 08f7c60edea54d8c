//! `heapgraph sites`, and the allocation sites other reports show, on real dumps.

use crate::util::{heapgraph, json_of, service_dump, stderr, stdout};
use heapgraph_e2e::v8::make_snapshots;
use heapgraph_e2e::Scratch;

/// A dump whose runtime recorded no allocation stacks: `sites` says how that runtime records them and
/// exits 1, from the dump and from its index; the other reports carry no sites.
#[test]
fn dumps_without_stacks_say_how_to_record_them() {
    let scratch = Scratch::new("cli-sites-none");
    make_snapshots(&scratch.0, 20);
    let snapshot = scratch.0.join("first.heapsnapshot").display().to_string();
    let python = service_dump();
    let index_dir = scratch.0.join("index").display().to_string();
    for (dump, advice) in [
        (&python, "heapgraph run --tracemalloc 25"),
        (&snapshot, "node --track-heap-objects"),
    ] {
        for _from_dump_then_index in 0..2 {
            let out = heapgraph(&["sites", dump, "--index-dir", &index_dir]);
            assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
            assert!(stdout(&out).is_empty());
            let err = stderr(&out);
            assert!(err.contains("records no allocation sites"), "{err}");
            assert!(err.contains(advice), "{err}");
        }
    }
    let retainers = json_of(&["retainers", &snapshot, "Leaky", "--json"]);
    assert_eq!(retainers["instances"], 20);
    assert!(retainers.get("allocated").is_none(), "{retainers}");
    let top = json_of(&["top", &python, "--json"]);
    let rows = top["rows"].as_array().unwrap();
    assert!(!rows.is_empty() && rows.iter().all(|r| r.get("allocated").is_none()));
}
