//! Eclipse MAT's published test dumps (`testdata/java/mat/`, see SOURCE.md there) against the expectations
//! of MAT's own tests.

use crate::util::{heapgraph, json_of, ok_with_stderr, stderr};
use heapgraph_e2e::java::java_testdata;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

fn mat_dump(name: &str) -> String {
    java_testdata().join("mat").join(name).display().to_string()
}

fn objects(info: &Value) -> u64 {
    info["objects"].as_u64().unwrap()
}

/// MAT's `MultipleSnapshots`: the hprof agent's file holds dumps `#1` and `#2`, of different object counts.
#[test]
fn each_heap_dump_of_a_file_is_read_on_its_own() {
    let dump = mat_dump("oracle_jdk7_21_hprofagent.hprof");
    let (text, warning) = ok_with_stderr(&["info", "--no-index", &dump]);
    assert!(
        warning.contains("holds 2 heap dumps; this is #1, the first"),
        "{warning}"
    );
    assert!(
        text.contains("heap dumps  2 in the file; this is #1"),
        "{text}"
    );
    assert!(text.contains("#1 at byte 92,694"), "{text}");
    assert!(text.contains("#2 at byte 333,133"), "{text}");

    let first = json_of(&["info", "--json", "--no-index", &dump]);
    let one = json_of(&["info", "--json", "--heap", "1", &dump]);
    let two = json_of(&["info", "--json", "--heap", "2", &dump]);
    assert_eq!(objects(&first), objects(&one));
    assert_ne!(objects(&one), objects(&two));
    assert_eq!(two["heap_dump"], 2);
    let numbers: Vec<&Value> = two["heap_dumps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| &d["number"])
        .collect();
    assert_eq!(numbers, [1, 2]);

    // Every reader of the dump takes --heap: the shallow count and the graph agree on #2.
    for heap in ["1", "2"] {
        let total = |extra: &[&str]| {
            let mut args = vec!["types", "--json", "--heap", heap, &dump];
            args.extend(extra);
            json_of(&args)["total_count"].as_u64().unwrap()
        };
        assert_eq!(total(&[]), total(&["--shallow"]));
    }
    let two_count = json_of(&["types", "--json", "--heap", "2", &dump])["total_count"].clone();
    assert_eq!(two_count, two["objects"]);
    for command in ["top", "unreferenced", "dominators"] {
        ok_with_stderr(&[command, "--heap", "2", &dump]);
    }

    let out = heapgraph(&["types", "--heap", "3", &dump]);
    assert!(!out.status.success());
    let e = stderr(&out);
    assert!(e.contains(&dump) && e.contains("at byte 92694"), "{e}");
    assert!(e.contains("give --heap 1 to --heap 2"), "{e}");
}

/// Parent -> children in the dominator tree below the JSON `node`, by the last two characters of their
/// class names (`$R`, `$A`, ...), as MAT's `DominatorTreeTest` names them.
fn dominated(node: &Value, tree: &mut BTreeMap<String, BTreeSet<String>>) {
    let name = |n: &Value| {
        let t = n["object"]["type_name"].as_str().unwrap();
        t[t.len() - 2..].to_string()
    };
    for child in node["children"].as_array().unwrap() {
        tree.entry(name(node)).or_default().insert(name(child));
        dominated(child, tree);
    }
}

/// MAT's `DominatorTreeTest`: `DominatorTestData$R` immediately dominates 8 objects, retains 13 (itself
/// included) and as many bytes as MAT says for each JVM; the tree below it is MAT's.
#[test]
fn the_dominator_test_data_has_mats_tree_and_sizes() {
    for (file, retained) in [
        ("sun_jdk5_64bit.hprof.gz", 376),
        ("sun_jdk6_32bit.hprof.gz", 224),
    ] {
        let dump = mat_dump(file);
        let r_type = "org.eclipse.mat.tests.CreateSampleDump$DominatorTestData$R";
        let retainers = json_of(&["retainers", "--json", "--no-index", &dump, r_type]);
        let text = serde_json::to_string(&retainers).unwrap();
        let address = text
            .split(r#""address":""#)
            .map(|s| &s[..s.find('"').unwrap()])
            .find(|a| a.starts_with("0x"))
            .unwrap_or_else(|| panic!("{text}"))
            .to_string();
        let tree = json_of(&[
            "dominators",
            "--json",
            "--no-index",
            "--depth",
            "10",
            "--min-share",
            "0",
            &dump,
            &address,
        ])["tree"]
            .clone();
        assert_eq!(tree["object"]["type_name"], r_type, "{file}: {tree}");
        assert_eq!(tree["retained_bytes"], retained, "{file}");
        let mut children = BTreeMap::new();
        dominated(&tree, &mut children);
        let expected: BTreeMap<String, BTreeSet<String>> = [
            ("$R", &["$A", "$B", "$C", "$D", "$E", "$H", "$I", "$K"][..]),
            ("$C", &["$F", "$G"]),
            ("$D", &["$L"]),
            ("$G", &["$J"]),
        ]
        .into_iter()
        .map(|(p, c)| (p.to_string(), c.iter().map(|s| s.to_string()).collect()))
        .collect();
        assert_eq!(children, expected, "{file}");
        let in_subtree = 1 + children.values().map(BTreeSet::len).sum::<usize>();
        assert_eq!(in_subtree, 13, "{file}");
    }
}
