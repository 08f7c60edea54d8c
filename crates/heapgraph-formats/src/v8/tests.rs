//! V8 reader tests on bytes written by hand and on the fuzzer's finds; real snapshots from Node are tested
//! in the workspace's `e2e/` crate.

use super::header::skip_string;
use super::strings::StringTable;
use crate::{load, NoProgress};
use heapgraph_graph::Column;

#[test]
fn a_string_cut_after_a_backslash_is_an_error() {
    assert!(skip_string(br#""abc\"#, 0).is_err());
    assert!(skip_string(br#""ab\"c"#, 0).is_err());
    assert_eq!(skip_string(br#""ab\"c" "#, 0), Ok(7));
}

/// Each string reads back whole between its own quotes, whatever it holds (escaped quotes, a quote
/// escaped last, commas) and whatever lies between it and the next; offsets that do not point at a
/// string (an index file made from another dump) read as nothing.
#[test]
fn strings_read_back_between_their_quotes() {
    let data = br#"["a\"b", "",
  "c,\"" ,"last\\"  ]"#;
    let body = 1..data.len() - 1;
    let table = StringTable::index(data, body).unwrap();
    let read: Vec<&[u8]> = (0..table.len())
        .map(|i| table.raw(data, i).unwrap())
        .collect();
    let want: [&[u8]; 4] = [br#"a\"b"#, b"", br#"c,\""#, br#"last\\"#];
    assert_eq!(read, want);
    assert_eq!(table.raw(data, 4), None);
    let backwards = StringTable::from_starts(Column::from(vec![20u64, 3, 400]));
    assert_eq!(backwards.raw(data, 0), None);
    assert_eq!(backwards.raw(data, 2), None);
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

/// A snapshot cut inside its nodes array is an error saying so.
#[test]
fn a_snapshot_cut_inside_its_nodes_is_an_error() {
    let seed = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/seeds/v8/v7-fields.heapsnapshot");
    let bytes = std::fs::read(seed).unwrap();
    let nodes = bytes.windows(9).position(|w| w == b"\"nodes\": ").unwrap();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &bytes[..nodes + 40]).unwrap();
    let e = load(file.path(), &NoProgress).err().unwrap().to_string();
    assert!(
        e.contains("an array runs to the end of the file: it was cut short"),
        "{e}"
    );
}

/// Each column's check names the first node or edge whose cell is out of range; an element edge's
/// `name_or_index` is an index, not a string, and may lie past the strings' end.
#[test]
fn out_of_range_cells_are_errors_naming_the_first_bad_row() {
    let seed = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/seeds/v8/v7-fields.heapsnapshot");
    let snapshot: serde_json::Value =
        serde_json::from_slice(&std::fs::read(seed).unwrap()).unwrap();
    let strings = snapshot["strings"].as_array().unwrap().len() as u64;
    let (node_width, edge_width) = (7, 3);
    let load_edited = |cells: &[(&str, usize, u64)]| {
        let mut edited = snapshot.clone();
        for &(array, at, value) in cells {
            edited[array][at] = value.into();
        }
        let file = tempfile::NamedTempFile::new().unwrap();
        // The header comes first, as V8 writes it (serde_json would order the keys by name).
        let mut text = format!("{{\"snapshot\":{}", edited["snapshot"]);
        for (key, value) in edited.as_object().unwrap() {
            if key != "snapshot" {
                text += &format!(",\"{key}\":{value}");
            }
        }
        std::fs::write(file.path(), text + "}").unwrap();
        load(file.path(), &NoProgress).map(|_| ())
    };
    let error = |cells: &[(&str, usize, u64)]| load_edited(cells).unwrap_err().to_string();
    load_edited(&[]).unwrap();
    // Edge 0 is an element edge: its index may be any number.
    assert_eq!(snapshot["edges"][0], 1);
    assert!(load_edited(&[("edges", 1, strings + 1000)]).is_ok());
    let node_type = error(&[("nodes", 3 * node_width, 99), ("nodes", 5 * node_width, 98)]);
    assert!(
        node_type.contains("node 3 has type 99, which meta.node_types does not list"),
        "{node_type}"
    );
    let node_name = error(&[("nodes", 4 * node_width + 1, strings)]);
    assert!(
        node_name.contains(&format!(
            "node 4 is named by string {strings}, beyond the {strings} strings"
        )),
        "{node_name}"
    );
    let edge_type = error(&[("edges", 5 * edge_width, 50)]);
    assert!(
        edge_type.contains("edge 5 has type 50, which meta.edge_types does not list"),
        "{edge_type}"
    );
    // Edge 5 is a property edge: its name must be a string.
    assert_eq!(snapshot["edges"][5 * edge_width], 2);
    let edge_name = error(&[
        ("edges", 1, strings + 1000),
        ("edges", 5 * edge_width + 1, strings + 1),
    ]);
    assert!(
        edge_name.contains(&format!(
            "edge 5 is named by string {}, beyond the {strings} strings",
            strings + 1
        )),
        "{edge_name}"
    );
    let target = error(&[
        ("edges", 2 * edge_width + 2, 8),
        ("edges", 3 * edge_width + 2, 9),
    ]);
    assert!(target.contains("edge 2 points to no node"), "{target}");
    let first_count = snapshot["nodes"][4].as_u64().unwrap();
    let counts = error(&[("nodes", 4, first_count + 1)]);
    assert!(
        counts.contains("the nodes' edge counts add up to 16, but the snapshot has 15 edges"),
        "{counts}"
    );
}

/// Ids and sizes past 32 bits (V8's ids fit them, other engines' need not; an embedder's native node can
/// count more) are kept whole: the node is found at its id and keeps its size.
#[test]
fn ids_and_sizes_past_32_bits_are_kept() {
    let text = r#"{"snapshot":{"meta":{"node_fields":["type","name","id","self_size","edge_count"],
"node_types":[["hidden","object","native","synthetic"],"string","number","number","number"],
"edge_fields":["type","name_or_index","to_node"],"edge_types":[["element","property"],"string_or_number","node"]},
"node_count":3,"edge_count":2},
"nodes":[3,0,1,0,2, 1,1,8589934593,16,0, 2,2,5,5368709120,0],
"edges":[1,1,5, 1,2,10],
"strings":["(root)","Thing","big native"]}"#;
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), text).unwrap();
    let g = load(file.path(), &NoProgress).unwrap().graph;
    let thing = g.node_at(8_589_934_593).expect("the node at its 33-bit id");
    assert_eq!(g.shallow_size(thing), 16);
    let native = g.node_at(5).unwrap();
    assert_eq!(g.shallow_size(native), 5 << 30);
}
