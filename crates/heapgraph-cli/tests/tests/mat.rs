//! Eclipse MAT's published test dumps (`testdata/java/mat/`, see SOURCE.md there) against the expectations
//! of MAT's own tests.

use crate::util::{
    allocation_stack, heapgraph, json_of, ok_with_stderr, stderr, type_rows, StackFrame,
};
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

/// A jmap class histogram line's class name as MAT and heapgraph write it: `[Ljava.lang.String;` is
/// `java.lang.String[]`, `[[I` is `int[][]`.
fn java_name(jmap: &str) -> String {
    let dims = jmap.bytes().take_while(|&b| b == b'[').count();
    if dims == 0 {
        return jmap.to_string();
    }
    let element = &jmap[dims..];
    let base = match element.strip_prefix('L').and_then(|e| e.strip_suffix(';')) {
        Some(class) => class,
        None => match element {
            "Z" => "boolean",
            "B" => "byte",
            "C" => "char",
            "S" => "short",
            "I" => "int",
            "J" => "long",
            "F" => "float",
            "D" => "double",
            other => panic!("unknown array element {other}"),
        },
    };
    format!("{base}{}", "[]".repeat(dims))
}

/// MAT's `TestInstanceSizes`: against the JVM's own class histogram (jmap) taken with each dump, every
/// class's instance size is the JVM's, and every array class's total size when the counts agree. MAT
/// expects no mismatch on these dumps (32-bit, 64-bit with and without compressed references).
#[test]
fn instance_sizes_are_the_jvms() {
    for (histogram, dump) in [
        ("histogram_sun_jdk6_18_x32.txt", "sun_jdk6_18_x32.hprof.gz"),
        (
            "sun_jdk6_30_x64_compressedOops.notes.txt",
            "sun_jdk6_30_x64_compressedOops.hprof.gz",
        ),
        (
            "sun_jdk6_30_x64_nocompressedOops.notes.txt",
            "sun_jdk6_30_x64_nocompressedOops.hprof.gz",
        ),
    ] {
        let types = json_of(&[
            "types",
            "--json",
            "--no-index",
            "--top",
            "0",
            &mat_dump(dump),
        ]);
        let rows: BTreeMap<&str, (u64, u64)> = types["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["type_name"].as_str().unwrap(),
                    (
                        r["count"].as_u64().unwrap(),
                        r["shallow_bytes"].as_u64().unwrap(),
                    ),
                )
            })
            .collect();
        let text = std::fs::read_to_string(java_testdata().join("mat").join(histogram)).unwrap();
        let (mut checked, mut wrong) = (0, Vec::new());
        for line in text.lines() {
            // `  12:   340   23360  java.lang.String`, the rank left out in some files.
            let words: Vec<&str> = line.split_whitespace().collect();
            let words = match words[0].ends_with(':') {
                true => &words[1..],
                false => &words[..],
            };
            let count: u64 = words[0].parse().unwrap();
            let bytes: u64 = words[1].parse().unwrap();
            let class = java_name(words[2]);
            // Class objects and the VM's own structures (`<methodKlass>`) are sized apart, as MAT's test says.
            if class.starts_with('<') || class == "java.lang.Class" {
                continue;
            }
            let Some(&(our_count, our_bytes)) = rows.get(class.as_str()) else {
                continue;
            };
            if class.ends_with("[]") {
                if our_count == count {
                    checked += 1;
                    if our_bytes != bytes {
                        wrong.push((class, bytes, our_bytes));
                    }
                }
            } else {
                checked += 1;
                if our_bytes / our_count != bytes / count {
                    wrong.push((class, bytes / count, our_bytes / our_count));
                }
            }
        }
        assert!(checked > 100, "{dump}: only {checked} classes to compare");
        assert!(
            wrong.is_empty(),
            "{dump}: (class, JVM, heapgraph) {wrong:?}"
        );
    }
}

/// MAT's `QueriesTest.testCustomRetainedSet`: `java.lang.System`'s class object, with WeakReference's and
/// SoftReference's `referent` excluded, retains objects of 17 types. heapgraph's dominator subtree has 19:
/// every `java.lang.ref.Reference.referent` is weak in heapgraph, FinalReference's too, while MAT's query
/// keeps the `java.lang.ref.Finalizer` referents strong. The two more types are System.in's and
/// System.out's file streams, which Finalizers reference (they are registered for finalization): when
/// System goes, they are finalized and freed, so heapgraph counts them as System's (docs/formats.md).
#[test]
fn system_retains_mats_set_and_the_finalizable_streams() {
    let dump = mat_dump("sun_jdk6_18_x32.hprof.gz");
    let system = "0x2ca48ee8";
    let tree = json_of(&[
        "dominators",
        "--json",
        "--no-index",
        "--depth",
        "1000",
        "--min-share",
        "0",
        &dump,
        system,
    ])["tree"]
        .clone();
    assert_eq!(tree["object"]["preview"], "java.lang.System", "{tree}");
    let mut subtree = Vec::new();
    let mut stack = vec![&tree];
    while let Some(node) = stack.pop() {
        assert!(node["folded"].is_null(), "the whole subtree is shown");
        let object = &node["object"];
        subtree.push((
            object["type_name"].as_str().unwrap().to_string(),
            object["address"].as_str().unwrap().to_string(),
        ));
        stack.extend(node["children"].as_array().unwrap());
    }
    let types: BTreeSet<&str> = subtree.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(types.len(), 19, "{types:?}");

    // The objects in System's subtree that a Finalizer references, read from the dump's own graph.
    let loaded =
        heapgraph_formats::load(std::path::Path::new(&dump), &heapgraph_formats::NoProgress)
            .unwrap();
    let g = &loaded.graph;
    let in_subtree: BTreeSet<u64> = subtree
        .iter()
        .map(|(_, a)| u64::from_str_radix(a.trim_start_matches("0x"), 16).unwrap())
        .collect();
    let mut finalizable = BTreeSet::new();
    for n in 0..g.node_count() as heapgraph_graph::NodeId {
        if g.type_name(g.type_of(n)) != "java.lang.ref.Finalizer" {
            continue;
        }
        for (target, label) in g.out_edges(n) {
            let held = g.address(target);
            if label.display(g.strings()).to_string().contains("referent")
                && in_subtree.contains(&held)
            {
                finalizable.insert(g.type_name(g.type_of(target)));
            }
        }
    }
    assert_eq!(
        finalizable,
        ["java.io.FileInputStream", "java.io.FileOutputStream"]
            .map(String::from)
            .into(),
    );
    // Each of those types has only that one instance in the subtree: without them, MAT's 17 types.
    for class in &finalizable {
        assert_eq!(subtree.iter().filter(|(t, _)| t == class).count(), 1);
    }
    assert_eq!(types.len() - finalizable.len(), 17);
}

/// Two heap dumps of one file compare as two files would: `growth --old-heap 1 --heap 2` gives each
/// type's counts as `types --heap 1` and `--heap 2` count them.
#[test]
fn growth_compares_two_heap_dumps_of_one_file() {
    let dump = mat_dump("oracle_jdk7_21_hprofagent.hprof");
    let growth = json_of(&[
        "growth",
        "--json",
        "--old-heap",
        "1",
        "--heap",
        "2",
        "--top",
        "1000",
        &dump,
        &dump,
    ]);
    assert_eq!(growth["old_file"], format!("{dump} #1"));
    assert_eq!(growth["new_file"], format!("{dump} #2"));
    let counts = |heap: &str| -> BTreeMap<String, u64> {
        type_rows(&["--top", "0", "--heap", heap, &dump])
            .into_iter()
            .map(|(name, count, _, _)| (name, count))
            .collect()
    };
    let (one, two) = (counts("1"), counts("2"));
    let rows = growth["types"].as_array().unwrap();
    assert!(!rows.is_empty());
    for row in rows {
        let name = row["type_name"].as_str().unwrap();
        assert_eq!(
            row["old_count"],
            one.get(name).copied().unwrap_or(0),
            "{name}"
        );
        assert_eq!(
            row["new_count"],
            two.get(name).copied().unwrap_or(0),
            "{name}"
        );
    }
}

/// The allocation stack of every object of heap dump `heap` of `dump` that has one, by address: as
/// heapgraph reads them, or as `testdata/java/allocation_stacks.py` reads them on its own.
pub fn allocation_stacks(dump: &str, heap: u32, oracle: bool) -> BTreeMap<u64, Vec<StackFrame>> {
    if oracle {
        let out = std::process::Command::new("python3")
            .arg(java_testdata().join("allocation_stacks.py"))
            .arg(dump)
            .arg(heap.to_string())
            .output()
            .expect("run python3");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stacks: BTreeMap<String, Vec<StackFrame>> =
            serde_json::from_slice(&out.stdout).unwrap();
        return stacks
            .into_iter()
            .map(|(a, s)| (a.parse().unwrap(), s))
            .collect();
    }
    let options = heapgraph_formats::LoadOptions {
        heap: Some(heapgraph_formats::HeapChoice::Dump(heap)),
        ..Default::default()
    };
    let loaded = heapgraph_formats::load_with(
        std::path::Path::new(dump),
        &options,
        &heapgraph_formats::NoProgress,
    )
    .unwrap();
    let g = &loaded.graph;
    let stack = |node| allocation_stack(g, node).expect("a stack");
    g.allocation_sites()
        .iter()
        .map(|(node, _)| (g.address(node), stack(node)))
        .collect()
}

/// The hprof agent recorded where each object was allocated (STACK TRACE and STACK FRAME records): in
/// both heap dumps of its file, every object's stack is the one an independent reader finds, and MAT's
/// sample objects name their constructors in CreateSampleDump.java, called from the constructor that
/// makes them, called from `main`. HotSpot's own dumps (JDK 6's, and JDK 17's `jcmd GC.heap_dump` of
/// `fixture.hprof`), whose only traces with frames are the threads' stacks, have none.
#[test]
fn allocation_stacks_are_read_from_the_hprof_agent_dump() {
    let dump = mat_dump("oracle_jdk7_21_hprofagent.hprof");
    for heap in [1, 2] {
        let ours = allocation_stacks(&dump, heap, false);
        let theirs = allocation_stacks(&dump, heap, true);
        assert!(ours.len() > 400, "{} objects with a stack", ours.len());
        assert!(
            ours == theirs,
            "heap dump #{heap}: {} and {} stacks differ",
            ours.len(),
            theirs.len()
        );
    }
    let ours = allocation_stacks(&dump, 1, false);
    let sample = |class: &str| {
        ours.values().any(|s| {
            s[0].0 == format!("org.eclipse.mat.tests.CreateSampleDump${class}.<init>")
                && s[0].1 == "CreateSampleDump.java"
                && s[0].2 > 0
        })
    };
    for class in [
        "DominatorTestData",
        "DominatorTestData$A",
        "ReferenceTestData",
    ] {
        assert!(sample(class), "{class}");
    }
    let a = ours
        .values()
        .find(|s| s[0].0.ends_with("DominatorTestData$A.<init>"))
        .unwrap();
    let callers: Vec<&str> = a[1..].iter().map(|f| f.0.as_str()).collect();
    assert_eq!(
        callers,
        [
            "org.eclipse.mat.tests.CreateSampleDump$DominatorTestData.<init>",
            "org.eclipse.mat.tests.CreateSampleDump.main"
        ]
    );
    let hotspot = mat_dump("sun_jdk6_30_x64_compressedOops.hprof.gz");
    assert!(allocation_stacks(&hotspot, 1, false).is_empty());
    let jdk17 = java_testdata().join("fixture.hprof").display().to_string();
    assert!(allocation_stacks(&jdk17, 1, false).is_empty());
    assert!(allocation_stacks(&jdk17, 1, true).is_empty());
}
