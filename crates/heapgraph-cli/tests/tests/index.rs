//! The index file: the second command on a dump answers from it exactly as the first did from the dump,
//! and a damaged, stale or foreign index is rebuilt, with a note, never trusted.

use crate::util::{heapgraph, ok_with_stderr};
use heapgraph_e2e::java::java_testdata;
use heapgraph_e2e::v8::make_snapshots;
use heapgraph_e2e::{python_testdata, Scratch};
use std::path::{Path, PathBuf};

fn index_of(dump: &Path) -> PathBuf {
    PathBuf::from(format!("{}.hgi", dump.display()))
}

/// The reports compared with and without an index, for a dump, one of its types and one address.
fn queries(dump: &str, ty: &str, addr: &str) -> Vec<Vec<String>> {
    let q = |args: &[&str]| args.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    vec![
        q(&["types", dump, "--json", "--top", "0"]),
        q(&["top", dump, "--json", "--top", "50"]),
        q(&["retainers", dump, ty, "--json"]),
        q(&["path", dump, addr, "--json"]),
        q(&["unreferenced", dump, "--json"]),
        q(&["dominators", dump, "--json", "--min-share", "0"]),
    ]
}

fn run(args: &[String], extra: &[&str]) -> (String, String) {
    let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
    all.extend_from_slice(extra);
    ok_with_stderr(&all)
}

/// Checks the whole life of an index on `dump`: none with --no-index, written by the first command,
/// answers equal to the dump's, rebuilt after every kind of damage.
fn check_index_life(dump: &Path) {
    let d = dump.display().to_string();
    let index = index_of(dump);
    let (top, _) = ok_with_stderr(&["top", &d, "--json", "--no-index"]);
    let top: serde_json::Value = heapgraph_e2e::parse_strict(top.as_bytes()).unwrap();
    let row = &top["rows"][0];
    let (ty, addr) = (
        row["type_name"].as_str().unwrap(),
        row["address"].as_str().unwrap(),
    );
    let queries = queries(&d, ty, addr);
    let expected: Vec<String> = queries.iter().map(|q| run(q, &["--no-index"]).0).collect();
    assert!(!index.exists(), "--no-index writes no index");

    let (_, stderr) = run(&queries[0], &[]);
    assert!(stderr.contains("wrote index"), "{stderr}");
    assert!(index.exists());
    for (q, want) in queries.iter().zip(&expected) {
        let (got, stderr) = run(q, &[]);
        assert_eq!(&got, want, "{q:?} from the index");
        assert!(!stderr.contains("note"), "{q:?}: {stderr}");
    }
    let (info, _) = ok_with_stderr(&["info", &d]);
    assert!(info.contains("objects"), "{info}");

    let good = std::fs::read(&index).unwrap();
    let len = good.len();
    let mut damaged: Vec<(String, Vec<u8>)> = [0, 7, 100, len / 3, len - 1]
        .into_iter()
        .map(|cut| (format!("cut at {cut}"), good[..cut].to_vec()))
        .collect();
    for at in [9, 60, len / 2, len - 3] {
        let mut bytes = good.clone();
        bytes[at] ^= 0x10;
        damaged.push((format!("byte {at} flipped"), bytes));
    }
    damaged.push(("foreign".into(), b"not an index at all".repeat(100)));
    for (what, bytes) in damaged {
        std::fs::write(&index, &bytes).unwrap();
        let (got, stderr) = run(&queries[1], &[]);
        assert_eq!(got, expected[1], "{what}: answers stay right");
        assert!(
            stderr.contains("is not usable") && stderr.contains("rebuilding"),
            "{what}: {stderr}"
        );
        let (_, stderr) = run(&queries[1], &[]);
        assert!(!stderr.contains("note"), "{what}: rebuilt once: {stderr}");
    }

    // A dump rewritten in place (here: only its time changes) makes its index stale.
    let file = std::fs::File::options().write(true).open(dump).unwrap();
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(3600);
    file.set_modified(later).unwrap();
    let (got, stderr) = run(&queries[2], &[]);
    assert_eq!(got, expected[2]);
    assert!(stderr.contains("another version of the dump"), "{stderr}");
}

/// [`check_index_life`] on a copy of the committed dump `source`, in a scratch directory of its own (the
/// test touches and damages files beside the dump).
fn check_copy_of(source: &Path) {
    let name = source.file_name().unwrap();
    let scratch = Scratch::new(&format!("index-{}", name.to_string_lossy()));
    let dump = scratch.0.join(name);
    std::fs::copy(source, &dump).unwrap();
    check_index_life(&dump);
}

#[test]
fn python_dump_index_answers_like_the_dump_and_survives_damage() {
    check_copy_of(&python_testdata().join("service.hgd"));
}

#[test]
fn hprof_index_answers_like_the_dump_and_survives_damage() {
    check_copy_of(&java_testdata().join("fixture.hprof"));
}

#[test]
fn v8_index_answers_like_the_dump_and_survives_damage() {
    let scratch = Scratch::new("index-v8");
    make_snapshots(&scratch.0, 100);
    check_index_life(&scratch.0.join("first.heapsnapshot"));
}

#[test]
fn index_dir_keeps_indexes_away_from_the_dump() {
    let scratch = Scratch::new("index-dir");
    let dump = scratch.0.join("service.hgd");
    std::fs::copy(python_testdata().join("service.hgd"), &dump).unwrap();
    let cache = scratch.0.join("cache");
    let d = dump.display().to_string();
    let c = cache.display().to_string();
    let (first, stderr) = ok_with_stderr(&["types", &d, "--index-dir", &c]);
    assert!(stderr.contains("wrote index"), "{stderr}");
    assert!(!index_of(&dump).exists());
    let kept: Vec<_> = std::fs::read_dir(&cache).unwrap().collect();
    assert_eq!(kept.len(), 1, "one index in the cache directory");
    let (again, stderr) = ok_with_stderr(&["types", &d, "--index-dir", &c]);
    assert_eq!(first, again);
    assert!(stderr.is_empty(), "{stderr}");
    let clash = heapgraph(&["types", &d, "--index-dir", &c, "--no-index"]);
    assert!(!clash.status.success());
}
