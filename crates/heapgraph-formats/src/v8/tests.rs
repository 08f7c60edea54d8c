//! V8 reader tests on bytes written by hand and on the fuzzer's finds; real snapshots from Node are tested
//! in the workspace's `e2e/` crate.

use super::header::skip_string;
use crate::{load, NoProgress};

#[test]
fn a_string_cut_after_a_backslash_is_an_error() {
    assert!(skip_string(br#""abc\"#, 0).is_err());
    assert!(skip_string(br#""ab\"c"#, 0).is_err());
    assert_eq!(skip_string(br#""ab\"c" "#, 0), Ok(7));
}

/// Inputs the `v8` fuzz target once crashed on (testdata/v8/regressions): each must load or fail cleanly.
#[test]
fn fuzzer_finds_load_or_fail_cleanly() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/v8/regressions");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if let Err(e) = load(&path, &NoProgress) {
            assert!(
                e.to_string()
                    .contains(path.file_name().unwrap().to_str().unwrap()),
                "{e}"
            );
        }
        seen += 1;
    }
    assert!(seen > 0, "no regression inputs in {}", dir.display());
}

/// The `v8` fuzz target's seeds (`fuzz/seeds/make_small_v8.py`) load, the one taken with allocation
/// tracking with the stacks it was written with: the holder made in `main`, each item in `makeItems`
/// called from `main`.
#[test]
fn fuzz_seeds_load_with_their_allocation_stacks() {
    let seeds = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/v8");
    let stacks = |name: &str, of: &str| {
        let dump = load(&seeds.join(name), &NoProgress).unwrap();
        let (g, sites) = (&dump.graph, dump.graph.allocation_sites());
        let node = (0..g.node_count() as u32)
            .find(|&n| g.type_name(g.type_of(n)) == of)
            .unwrap();
        let frames = sites.trace_of(node).map_or(&[][..], |t| sites.frames(t));
        let frames: Vec<(String, u32)> = frames
            .iter()
            .map(|&f| sites.frame(f))
            .map(|f| (format!("{} {}", f.function, f.file), f.line))
            .collect();
        (sites.object_count(), frames)
    };
    let main = ("main app.js".to_string(), 10);
    let make = ("makeItems app.js".to_string(), 4);
    assert_eq!(
        stacks("v7-fields.heapsnapshot", "Holder"),
        (3, vec![main.clone()])
    );
    assert_eq!(
        stacks("v7-fields.heapsnapshot", "Item"),
        (3, vec![make, main])
    );
    assert_eq!(stacks("v6-fields.heapsnapshot", "Item"), (0, vec![]));
}
