//! The `heapgraph` binary end to end: real output on the committed dump, clear errors on bad input.

use crate::util::{heapgraph, json_of, service_dump, stderr, stdout};
use heapgraph_e2e::{python_testdata, pythons, Scratch};
use std::path::Path;
use std::process::Command;

#[test]
fn info_describes_the_committed_dump() {
    let out = heapgraph(&["info", &service_dump()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for expected in [
        "heapgraph Python dump (.hgd)",
        "cpython 3.",
        "objects",
        "roots",
        "local",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    let json: serde_json::Value =
        heapgraph_e2e::parse_strict(&heapgraph(&["info", &service_dump(), "--json"]).stdout)
            .unwrap();
    assert!(json["objects"].as_u64().unwrap() > 10_000);
    assert!(json["roots_by_kind"]["module"].as_u64().unwrap() > 10);
    assert_eq!(json["dangling_edges"], 0);
}

#[test]
fn types_counts_the_classes_the_service_built() {
    let out = heapgraph(&["types", &service_dump(), "--top", "0", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = heapgraph_e2e::parse_strict(&out.stdout).unwrap();
    let rows = json["rows"].as_array().unwrap();
    let count = |name: &str| {
        rows.iter()
            .find(|r| r["type_name"] == name)
            .and_then(|r| r["count"].as_u64())
    };
    // make_service_dump.py builds one IN clause of 3,000 parameters, each with an _anonymous_label key.
    assert_eq!(count("__main__.BindParameter"), Some(3000));
    assert_eq!(count("__main__._anonymous_label"), Some(3000));
    assert_eq!(count("__main__.InClause"), Some(1));
    let text = stdout(&heapgraph(&[
        "types",
        &service_dump(),
        "--top",
        "3",
        "--sort",
        "count",
    ]));
    assert_eq!(
        text.lines().next().unwrap().split_whitespace().next(),
        Some("type")
    );
    assert!(text.contains("more types"), "{text}");
}

#[test]
fn dumper_writes_a_script_that_runs() {
    let scratch = Scratch::new("dumper");
    let dir = scratch.0.display().to_string();
    let out = heapgraph(&["dumper", "-o", &dir]);
    assert!(out.status.success(), "{}", stderr(&out));
    let script = scratch.0.join("heapgraph_dump.py");
    assert_eq!(
        std::fs::read_to_string(&script).unwrap(),
        heapgraph_formats::python::DUMPER_SOURCE
    );
    let python = &pythons()[0];
    let help = Command::new(&python.path)
        .arg(&script)
        .arg("--help")
        .output()
        .unwrap();
    assert!(help.status.success(), "{}", stderr(&help));
    assert!(stdout(&help).contains("dump"));
}

/// Every failure is exit code 1 with a message naming the file: never a panic (101) or silence.
fn assert_clear_error(args: &[&str], file: &Path, words: &[&str]) {
    let out = heapgraph(args);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
    assert!(err.starts_with("heapgraph: error: "), "{err}");
    assert!(err.contains(&file.display().to_string()), "{err}");
    for w in words {
        assert!(err.contains(w), "{args:?}: expected {w:?} in {err}");
    }
    assert!(stdout(&out).is_empty());
}

#[test]
fn bad_input_gets_a_clear_error() {
    let scratch = Scratch::new("bad-input");
    let bytes = std::fs::read(python_testdata().join("service.hgd")).unwrap();

    let cut = scratch.0.join("cut.hgd");
    for at in [10, 100, bytes.len() / 2, bytes.len() - 1] {
        std::fs::write(&cut, &bytes[..at]).unwrap();
        assert_clear_error(&["info", cut.to_str().unwrap()], &cut, &["cut short"]);
    }

    let corrupt = scratch.0.join("corrupt.hgd");
    let mut flipped = bytes.clone();
    let end_record = bytes.len() - 45; // the END record: 5-byte prefix, 40-byte payload
    flipped[end_record + 5] ^= 0xff;
    std::fs::write(&corrupt, &flipped).unwrap();
    assert_clear_error(
        &["types", corrupt.to_str().unwrap()],
        &corrupt,
        &["corrupt"],
    );

    let text = scratch.0.join("notes.txt");
    std::fs::write(&text, "not a dump").unwrap();
    assert_clear_error(
        &["info", text.to_str().unwrap()],
        &text,
        &["not a heap dump"],
    );

    let missing = scratch.0.join("missing.hgd");
    assert_clear_error(
        &["info", missing.to_str().unwrap()],
        &missing,
        &["check the path"],
    );
    assert_clear_error(
        &["info", &scratch.0.display().to_string()],
        &scratch.0,
        &["directory"],
    );
}

/// An unknown type or address is the user's slip, not the dump's: exit 1, and the message names the command
/// that lists what the dump does hold.
#[test]
fn unknown_type_or_address_says_where_to_look() {
    let dump = service_dump();
    let dump_path = Path::new(&dump);
    assert_clear_error(
        &["retainers", &dump, "NoSuchType"],
        dump_path,
        &["no type named \"NoSuchType\"", "heapgraph types"],
    );
    assert_clear_error(
        &["path", &dump, "0xdeadbeef"],
        dump_path,
        &["no object at address 0xdeadbeef", "heapgraph top"],
    );
    let nonsense = heapgraph(&["path", &dump, "nonsense"]);
    assert_eq!(nonsense.status.code(), Some(1));
    assert!(stderr(&nonsense).contains("give one as hex"));
}

#[test]
fn wrong_arguments_exit_with_usage() {
    let out = heapgraph(&["types", &service_dump(), "--sort", "nonsense"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("possible values"));
}

#[test]
fn top_names_the_chain_that_holds_the_in_clause() {
    let json = json_of(&["top", &service_dump(), "--top", "10", "--json"]);
    let rows = json["rows"].as_array().unwrap();
    let retained: Vec<u64> = rows
        .iter()
        .map(|r| r["retained_bytes"].as_u64().unwrap())
        .collect();
    assert!(retained.windows(2).all(|w| w[0] >= w[1]), "{retained:?}");
    let in_clause = rows
        .iter()
        .find(|r| r["type_name"] == "__main__.InClause")
        .expect("the IN clause retains the most");
    // 3,000 parameters, each an instance plus its label (a str subclass with a dict of its own).
    assert!(in_clause["retained_bytes"].as_u64().unwrap() > 3000 * 200);
    let steps = in_clause["path"]["steps"].as_array().unwrap();
    let vias: Vec<&str> = steps.iter().filter_map(|s| s["via"].as_str()).collect();
    assert_eq!(
        vias[vias.len() - 2..],
        ["['orders-by-users']", ".where"][..],
        "{vias:?}"
    );
    let text = stdout(&heapgraph(&["top", &service_dump(), "--top", "5"]));
    assert!(text.contains(".entries['orders-by-users'].where"), "{text}");
}

#[test]
fn dominator_tree_starts_anywhere_and_folds_small_children() {
    let tree = json_of(&["dominators", &service_dump(), "--depth", "2", "--json"]);
    assert!((tree["tree"]["share"].as_f64().unwrap() - 1.0).abs() < 1e-9);
    let kids = tree["tree"]["children"].as_array().unwrap();
    let sizes: Vec<u64> = kids
        .iter()
        .map(|k| k["retained_bytes"].as_u64().unwrap())
        .collect();
    assert!(sizes.windows(2).all(|w| w[0] >= w[1]));
    assert!(kids.iter().all(|k| k["share"].as_f64().unwrap() >= 0.01));
    assert!(tree["tree"]["folded"]["count"].as_u64().unwrap() > 100);

    let top = json_of(&["top", &service_dump(), "--top", "10", "--json"]);
    let in_clause = top["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type_name"] == "__main__.InClause")
        .unwrap();
    let address = in_clause["address"].as_str().unwrap();
    let sub = json_of(&[
        "dominators",
        &service_dump(),
        address,
        "--depth",
        "1",
        "--json",
    ]);
    assert_eq!(sub["tree"]["object"]["address"], address);
    assert_eq!(sub["tree"]["retained_bytes"], in_clause["retained_bytes"]);
    assert_eq!(sub["tree"]["children"][0]["object"]["type_name"], "list");

    let missing = heapgraph(&["dominators", &service_dump(), "0x10"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("no object at address 0x10"));
    let nonsense = heapgraph(&["dominators", &service_dump(), "zzz"]);
    assert!(stderr(&nonsense).contains("not an address"));
}

#[test]
fn unreferenced_groups_add_up() {
    let json = json_of(&["unreferenced", &service_dump(), "--json"]);
    for group in [
        "held_from_outside",
        "frame_locals",
        "garbage",
        "unreachable",
    ] {
        let g = &json[group];
        let by_type: u64 = g["by_type"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["count"].as_u64().unwrap())
            .sum();
        assert_eq!(Some(by_type), g["count"].as_u64(), "{group}");
    }
    assert!(json["held_from_outside"]["count"].as_u64().unwrap() > 0);
    let text = stdout(&heapgraph(&["unreferenced", &service_dump()]));
    assert!(text.contains("held from outside"), "{text}");
}
