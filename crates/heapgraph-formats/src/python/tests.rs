//! Loader tests on dumps written byte by byte here, so that every rule of the format can be broken on
//! purpose. Real dumps from real interpreters are tested in the workspace's `e2e/` crate.

use super::record::*;
use crate::{load, NoProgress};
use heapgraph_graph::{EdgeKind, RootKind};
use std::path::PathBuf;

/// A minimal `.hgd` writer for tests.
struct Writer {
    bytes: Vec<u8>,
    objects: u64,
    edges: u64,
    roots: u64,
}

impl Writer {
    fn new() -> Writer {
        let mut bytes = MAGIC.to_vec();
        bytes.extend(VERSION.to_le_bytes());
        bytes.extend(0u32.to_le_bytes());
        let mut w = Writer {
            bytes,
            objects: 0,
            edges: 0,
            roots: 0,
        };
        w.record(TAG_META, br#"{"format":"heapgraph-python","python_version":"3.11.7","implementation":"cpython","pid":42}"#);
        w
    }

    fn record(&mut self, tag: u8, payload: &[u8]) {
        self.bytes.push(tag);
        self.bytes.extend((payload.len() as u32).to_le_bytes());
        self.bytes.extend(payload);
    }

    fn string(&mut self, id: u32, text: &str) {
        let mut p = id.to_le_bytes().to_vec();
        p.extend(text.as_bytes());
        self.record(TAG_STRING, &p);
    }

    fn ty(&mut self, addr: u64, module: u32, name: u32) {
        let mut p = addr.to_le_bytes().to_vec();
        p.extend(module.to_le_bytes());
        p.extend(name.to_le_bytes());
        self.record(TAG_TYPE, &p);
    }

    fn object(
        &mut self,
        addr: u64,
        ty: u64,
        size: u64,
        refcount: u64,
        edges: &[(u64, u32)],
        value: Option<&str>,
    ) {
        let mut p = Vec::new();
        for v in [addr, ty, size, refcount] {
            p.extend(v.to_le_bytes());
        }
        p.extend((edges.len() as u32).to_le_bytes());
        p.push(if value.is_some() { FLAG_VALUE } else { 0 });
        p.extend([0, 0, 0]);
        for &(target, label) in edges {
            p.extend(target.to_le_bytes());
            p.extend(label.to_le_bytes());
        }
        if let Some(v) = value {
            p.extend((v.len() as u16).to_le_bytes());
            p.extend(v.as_bytes());
        }
        self.record(TAG_OBJECT, &p);
        self.objects += 1;
        self.edges += edges.len() as u64;
    }

    fn root(&mut self, addr: u64, kind: u8, name: u32) {
        let mut p = addr.to_le_bytes().to_vec();
        p.push(kind);
        p.extend(name.to_le_bytes());
        self.record(TAG_ROOT, &p);
        self.roots += 1;
    }

    fn finish(mut self) -> Vec<u8> {
        let mut p = Vec::new();
        for v in [self.objects, self.edges, self.roots, 1_000_000, 1 << 20] {
            p.extend(v.to_le_bytes());
        }
        self.record(TAG_END, &p);
        self.bytes
    }
}

const ATTR: u32 = 2 << 29;
const WEAK: u32 = 6 << 29;

/// module -> list -> [leaf, leaf]; leaf0.name -> str; a weakref to leaf1; a string held from outside.
fn sample() -> Vec<u8> {
    let mut w = Writer::new();
    for (i, s) in [
        "builtins", "list", "app", "Leaf", "str", "name", "app", "weakref", "referent",
    ]
    .iter()
    .enumerate()
    {
        w.string(i as u32, s);
    }
    w.ty(0xa0, 0, 1);
    w.ty(0xb0, 2, 3);
    w.ty(0xc0, 0, 4);
    w.ty(0xd0, 0, 7);
    w.object(
        0x1000,
        0xa0,
        72,
        1,
        &[(0x2000, 1 << 29), (0x3000, (1 << 29) | 1), (0xdead, 0)],
        None,
    );
    w.object(0x2000, 0xb0, 48, 1, &[(0x4000, ATTR | 5)], None);
    w.object(0x3000, 0xb0, 48, 1, &[], None);
    w.object(0x4000, 0xc0, 53, 3, &[], Some("hello"));
    w.object(0x5000, 0xd0, 64, 1, &[(0x3000, WEAK | 8)], None);
    w.root(0x1000, 1, 6);
    w.finish()
}

fn write_temp(name: &str, bytes: &[u8]) -> PathBuf {
    let path =
        std::env::temp_dir().join(format!("heapgraph-unit-{}-{name}.hgd", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn loads_objects_edges_roots_and_details() {
    let path = write_temp("sample", &sample());
    let dump = load(&path, &NoProgress).unwrap();
    let g = &dump.graph;
    assert_eq!(g.node_count(), 5);
    assert_eq!(g.edge_count(), 4, "the dangling edge is dropped");
    assert_eq!(dump.stats.dangling_edges, 1);
    let list = g.node_at(0x1000).unwrap();
    let leaf0 = g.node_at(0x2000).unwrap();
    let s = g.node_at(0x4000).unwrap();
    assert_eq!(g.type_name(g.type_of(leaf0)), "app.Leaf");
    assert!(g.out_targets(list).eq([leaf0, g.node_at(0x3000).unwrap()]));
    let labels: Vec<String> = g
        .out_labels(leaf0)
        .iter()
        .map(|l| l.display(g.strings()).to_string())
        .collect();
    assert_eq!(labels, [".name"]);
    assert_eq!(
        g.out_labels(g.node_at(0x5000).unwrap())[0].kind(),
        EdgeKind::Weak
    );
    assert_eq!(g.details(s).value.as_deref(), Some("hello"));
    assert_eq!(g.details(s).refcount, Some(3));
    // The module root; held from outside: the list (refcount 1, no edge), the str (refcount 3, one edge)
    // and the weakref (refcount 1, no edge). The weak edge to leaf1 does not count as a reference.
    let mut roots: Vec<(u64, RootKind)> = g
        .roots()
        .iter()
        .map(|r| (g.address(r.node), r.kind))
        .collect();
    roots.sort();
    assert_eq!(
        roots,
        [
            (0x1000, RootKind::Module),
            (0x1000, RootKind::External),
            (0x4000, RootKind::External),
            (0x5000, RootKind::External)
        ]
    );
    assert_eq!(dump.meta["pid"], 42);
    std::fs::remove_file(path).unwrap();
}

#[test]
fn every_truncation_is_an_error_naming_the_file() {
    let bytes = sample();
    let path = write_temp("cut", &bytes);
    for cut in 0..bytes.len() {
        std::fs::write(&path, &bytes[..cut]).unwrap();
        let e = load(&path, &NoProgress)
            .err()
            .unwrap_or_else(|| panic!("cut at {cut} loaded"));
        let text = e.to_string();
        assert!(text.starts_with(&path.display().to_string()), "{text}");
    }
    std::fs::remove_file(path).unwrap();
}

#[test]
fn flipped_bytes_never_panic() {
    let bytes = sample();
    let path = write_temp("flip", &bytes);
    for corrupt in crate::flipped_copies(&bytes, 3000) {
        std::fs::write(&path, &corrupt).unwrap();
        if let Err(e) = load(&path, &NoProgress) {
            assert!(e.offset.is_some() || !e.message.is_empty());
        }
    }
    std::fs::remove_file(path).unwrap();
}

#[test]
fn wrong_version_and_duplicates_are_explained() {
    let mut bytes = sample();
    bytes[8] = 9;
    let path = write_temp("version", &bytes);
    let e = load(&path, &NoProgress).err().unwrap();
    assert!(e.message.contains("version 9"), "{e}");

    let mut w = Writer::new();
    w.string(0, "builtins");
    w.string(1, "object");
    w.ty(0xa0, 0, 1);
    w.object(0x10, 0xa0, 16, 1, &[], None);
    w.object(0x10, 0xa0, 16, 1, &[], None);
    std::fs::write(&path, w.finish()).unwrap();
    let e = load(&path, &NoProgress).err().unwrap();
    assert!(e.message.contains("appears twice"), "{e}");
    std::fs::remove_file(path).unwrap();
}

/// The memory floor the reader checks before loading an `.hgd` is most of the file's size, never all of
/// it: mapped pages are released as they are read.
#[test]
fn the_memory_floor_is_most_of_the_files_size() {
    let hgd = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/python/service.hgd");
    let size = std::fs::metadata(&hgd).unwrap().len();
    let estimate = super::load_floor(size);
    assert!(
        estimate > size / 2 && estimate < size,
        "{estimate} of {size}"
    );
}

/// FACT records: a known fact lands on its object; a fact of a code this build does not know, or about
/// an address not in the dump, is dropped; a FACT record of the wrong length names its offset.
#[test]
fn facts_land_on_their_objects() {
    let mut w = Writer::new();
    w.string(0, "builtins");
    w.string(1, "generator");
    w.ty(0xa0, 0, 1);
    w.object(0x10, 0xa0, 16, 1, &[], None);
    w.object(0x20, 0xa0, 16, 1, &[], None);
    for (address, code) in [(0x10u64, 3u8), (0x20, 250), (0xdead, 1)] {
        let mut p = address.to_le_bytes().to_vec();
        p.push(code);
        w.record(TAG_FACT, &p);
    }
    let path = write_temp("facts", &w.finish());
    let dump = load(&path, &NoProgress).unwrap();
    let g = &dump.graph;
    let facts: Vec<_> = g.leak_facts().map(|(n, f)| (g.address(n), f)).collect();
    assert_eq!(
        facts,
        [(0x10, heapgraph_graph::LeakFact::GeneratorFinished)]
    );

    let mut w = Writer::new();
    w.record(TAG_FACT, &[0; 8]);
    std::fs::write(&path, w.finish()).unwrap();
    let e = load(&path, &NoProgress).err().unwrap();
    assert!(e.message.contains("FACT record must be 9 bytes"), "{e}");
    std::fs::remove_file(path).unwrap();
}

fn trace_record(id: u32, frames: &[(u32, u32)]) -> Vec<u8> {
    let mut p = id.to_le_bytes().to_vec();
    for &(file, line) in frames {
        p.extend(file.to_le_bytes());
        p.extend(line.to_le_bytes());
    }
    p
}

fn allocated_record(pairs: &[(u64, u32)]) -> Vec<u8> {
    let mut p = Vec::new();
    for &(address, trace) in pairs {
        p.extend(address.to_le_bytes());
        p.extend(trace.to_le_bytes());
    }
    p
}

/// TRACE and ALLOCATED records: each object gets its traceback (allocating frame first), equal
/// tracebacks share one trace, an address not in the dump is dropped; a dump without them has none.
#[test]
fn allocation_sites_land_on_their_objects() {
    let mut w = Writer::new();
    w.string(0, "builtins");
    w.string(1, "object");
    w.string(2, "lib.py");
    w.string(3, "app.py");
    w.ty(0xa0, 0, 1);
    w.object(0x10, 0xa0, 16, 1, &[], None);
    w.object(0x20, 0xa0, 16, 1, &[], None);
    w.object(0x30, 0xa0, 16, 1, &[], None);
    w.record(TAG_TRACE, &trace_record(0, &[(2, 120), (3, 88)]));
    w.record(TAG_TRACE, &trace_record(1, &[(2, 120), (3, 88)]));
    w.record(TAG_TRACE, &trace_record(2, &[(3, 7)]));
    w.record(
        TAG_ALLOCATED,
        &allocated_record(&[(0x10, 0), (0x20, 1), (0xdead, 2)]),
    );
    w.record(TAG_ALLOCATED, &allocated_record(&[(0x30, 2)]));
    let path = write_temp("sites", &w.finish());
    let dump = load(&path, &NoProgress).unwrap();
    let g = &dump.graph;
    let sites = g.allocation_sites();
    assert_eq!(sites.object_count(), 3);
    assert_eq!(sites.trace_count(), 2, "equal tracebacks share a trace");
    let frames = |address: u64| -> Vec<(String, u32)> {
        let trace = sites.trace_of(g.node_at(address).unwrap()).unwrap();
        let frames = sites.frames(trace).iter().map(|&f| sites.frame(f));
        frames.map(|f| (f.file.to_string(), f.line)).collect()
    };
    assert_eq!(
        frames(0x20),
        [("lib.py".to_string(), 120), ("app.py".into(), 88)]
    );
    assert_eq!(frames(0x30), [("app.py".to_string(), 7)]);
    std::fs::remove_file(&path).unwrap();

    let plain = write_temp("no-sites", &sample());
    assert!(load(&plain, &NoProgress)
        .unwrap()
        .graph
        .allocation_sites()
        .is_empty());
    std::fs::remove_file(plain).unwrap();
}

/// A record to write: tag and payload.
type Record = (u8, Vec<u8>);

/// A malformed TRACE or ALLOCATED record is an error naming the file and the record's offset.
#[test]
fn malformed_allocation_sites_are_explained() {
    let cases: [(&[Record], &str); 5] = [
        (
            &[(TAG_TRACE, vec![0; 7])],
            "TRACE record must be 4 bytes plus 8",
        ),
        (
            &[(TAG_TRACE, trace_record(1, &[]))],
            "TRACE id 1 out of order",
        ),
        (&[(TAG_TRACE, trace_record(0, &[(9, 1)]))], "string id 9"),
        (&[(TAG_ALLOCATED, vec![0; 13])], "12 bytes per object"),
        (
            &[(TAG_ALLOCATED, allocated_record(&[(0x10, 0)]))],
            "names trace 0, which no TRACE record defines",
        ),
    ];
    let path = write_temp("bad-sites", &[]);
    for (records, expected) in cases {
        let mut w = Writer::new();
        for (tag, payload) in records {
            w.record(*tag, payload);
        }
        std::fs::write(&path, w.finish()).unwrap();
        let e = load(&path, &NoProgress).err().unwrap();
        assert!(e.message.contains(expected), "{e}");
        assert!(e.offset.is_some(), "{e}");
        assert!(
            e.to_string().starts_with(&path.display().to_string()),
            "{e}"
        );
    }
    std::fs::remove_file(path).unwrap();
}

/// Objects over several of the scan's chunks all load, in order; a bad OBJECT header in a later chunk is
/// the error even when a record after it is bad too: the scan reports the first error in the file.
#[test]
fn objects_over_many_chunks_load_and_the_first_error_is_reported() {
    use super::scan::CHUNK_OBJECTS;
    let count = 2 * CHUNK_OBJECTS as u64 + 5;
    let dump = |bad_object: Option<u64>, bad_string_after: bool| {
        let mut w = Writer::new();
        w.string(0, "builtins");
        w.string(1, "object");
        w.ty(0xa0, 0, 1);
        for i in 0..count {
            // Each object points at the next; the last one at the first.
            let next = 0x10_0000 + ((i + 1) % count) * 16;
            w.object(0x10_0000 + i * 16, 0xa0, 16, 1, &[(next, 0)], None);
            if Some(i) == bad_object {
                // The object's edge count says one edge more than its record holds.
                let at = w.bytes.len() - (OBJECT_HEADER + EDGE_LEN) + 32;
                w.bytes[at] = 2;
            }
        }
        if bad_string_after {
            w.string(7, "out of order");
        }
        w.root(0x10_0000, 1, 1);
        w.finish()
    };
    let path = write_temp("chunks", &dump(None, false));
    let loaded = load(&path, &NoProgress).map_err(|e| e.to_string()).unwrap();
    let g = &loaded.graph;
    assert_eq!(g.node_count() as u64, count);
    assert_eq!(g.edge_count() as u64, count);
    assert!((0..count as u32).all(|n| g.node_edges(n).map(|(_, t)| t).eq([(n + 1) % count as u32])));

    let bad = CHUNK_OBJECTS as u64 + 7;
    std::fs::write(&path, dump(Some(bad), true)).unwrap();
    let e = load(&path, &NoProgress).err().unwrap();
    assert!(e.message.contains("OBJECT record claims 2 edges"), "{e}");
    std::fs::write(&path, dump(None, true)).unwrap();
    let e = load(&path, &NoProgress).err().unwrap();
    assert!(e.message.contains("STRING id 7 out of order"), "{e}");
    std::fs::remove_file(path).unwrap();
}
