//! An Android dump (`testdata/java/android/`, see SOURCE.md there): perflib's expected counts, and the
//! named heaps `info` lists and `--heap NAME` reads, against an independent count of each heap's objects.

use crate::util::{heapgraph, json_of, ok_with_stderr, stderr, type_rows};
use heapgraph_e2e::java::java_testdata;
use heapgraph_e2e::Scratch;
use serde_json::Value;
use std::collections::BTreeMap;
use std::process::Command;

#[test]
fn info_names_the_heaps_of_an_android_dump() {
    let dir = java_testdata().join("android");
    let dump = dir.join("dialer.android-hprof.gz").display().to_string();

    let types = type_rows(&["--no-index", "--top", "0", &dump]);
    let count = |name: &str| types.iter().find(|r| r.0 == name).map(|r| r.1);
    // perflib's HprofParserTest.
    assert_eq!(count("byte[]"), Some(1406));
    assert_eq!(count("java.lang.String[]"), Some(1396));
    assert_eq!(count("int[][]"), Some(37));

    let info = json_of(&["info", "--json", "--no-index", &dump]);
    let heaps = info["heaps"].as_array().unwrap();
    let ours: BTreeMap<String, u64> = heaps
        .iter()
        .map(|h| {
            (
                h["name"].as_str().unwrap().to_string(),
                h["objects"].as_u64().unwrap(),
            )
        })
        .collect();
    let bytes: u64 = heaps.iter().map(|h| h["bytes"].as_u64().unwrap()).sum();
    assert_eq!(bytes, info["total_shallow_bytes"].as_u64().unwrap());

    let scratch = Scratch::new("android-heaps");
    let raw = scratch.0.join("dialer.hprof");
    let inflated = Command::new("gzip")
        .arg("-dc")
        .arg(&dump)
        .output()
        .expect("run gzip");
    assert!(inflated.status.success());
    std::fs::write(&raw, inflated.stdout).unwrap();
    let oracle = Command::new("python3")
        .arg(dir.join("heap_counts.py"))
        .arg(&raw)
        .output()
        .expect("run python3");
    assert!(
        oracle.status.success(),
        "{}",
        String::from_utf8_lossy(&oracle.stderr)
    );
    let theirs: BTreeMap<String, Value> = serde_json::from_slice(&oracle.stdout).unwrap();
    let theirs: BTreeMap<String, u64> = theirs
        .into_iter()
        .map(|(k, v)| (k, v.as_u64().unwrap()))
        .collect();
    assert_eq!(ours, theirs);
    assert_eq!(ours.keys().collect::<Vec<_>>(), ["app", "zygote"]);

    // One heap read alone, as Android Studio shows it: its objects only, held by the other heaps' roots.
    for (heap, objects) in &theirs {
        let (text, warning) = ok_with_stderr(&["info", "--heap", heap, &dump]);
        assert!(
            warning.contains(&format!("read the {heap} heap alone")),
            "{warning}"
        );
        assert!(text.contains("unknown"), "{text}");
        let info = json_of(&["info", "--json", "--heap", heap, &dump]);
        assert_eq!(info["objects"], *objects, "{heap}");
        let rows = type_rows(&["--top", "0", "--heap", heap, &dump]);
        assert_eq!(rows.iter().map(|r| r.1).sum::<u64>(), *objects);
        ok_with_stderr(&["top", "--heap", heap, &dump]);
    }
    let out = heapgraph(&["info", "--heap", "image", &dump]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("no heap named image; its heaps are zygote, app"),
        "{}",
        stderr(&out)
    );
}
