//! HPROF reader tests on dumps written byte by byte, so every rule can be broken on purpose. Real dumps
//! from a real JVM are tested in the workspace's `e2e/` crate.

use crate::{load, Format, NoProgress};
use heapgraph_graph::{EdgeKind, Graph, RootKind};
use std::path::PathBuf;

/// A minimal HPROF writer: big-endian, ids of 4 or 8 bytes.
struct Writer {
    id_size: usize,
    bytes: Vec<u8>,
    heap: Vec<u8>,
    /// The STACK TRACE serial the object dumps written next name.
    trace: u32,
}

impl Writer {
    fn new(version: &str, id_size: usize) -> Writer {
        let mut bytes = version.as_bytes().to_vec();
        bytes.push(0);
        bytes.extend((id_size as u32).to_be_bytes());
        bytes.extend(1_795_467_723_000u64.to_be_bytes());
        Writer {
            id_size,
            bytes,
            heap: Vec::new(),
            trace: 0,
        }
    }

    fn id(&self, out: &mut Vec<u8>, v: u64) {
        out.extend(&v.to_be_bytes()[8 - self.id_size..]);
    }

    fn record(&mut self, tag: u8, body: &[u8]) {
        self.bytes.push(tag);
        self.bytes.extend(0u32.to_be_bytes());
        self.bytes.extend((body.len() as u32).to_be_bytes());
        self.bytes.extend(body);
    }

    /// A class's name and LOAD CLASS record, its serial being `name_id`.
    fn class_name(&mut self, class: u64, name_id: u64, name: &str) {
        let mut b = Vec::new();
        self.id(&mut b, name_id);
        b.extend(name.as_bytes());
        self.record(0x01, &b);
        let mut b = (name_id as u32).to_be_bytes().to_vec();
        self.id(&mut b, class);
        b.extend(0u32.to_be_bytes());
        self.id(&mut b, name_id);
        self.record(0x02, &b);
    }

    fn utf8(&mut self, name_id: u64, text: &str) {
        let mut b = Vec::new();
        self.id(&mut b, name_id);
        b.extend(text.as_bytes());
        self.record(0x01, &b);
    }

    /// A FRAME record: method `method` of the class of LOAD CLASS serial `class`, in source file
    /// `source` (string ids), at `line`.
    fn frame(&mut self, id: u64, method: u64, source: u64, class: u32, line: i32) {
        let mut b = Vec::new();
        for v in [id, method, 0, source] {
            self.id(&mut b, v);
        }
        b.extend(class.to_be_bytes());
        b.extend(line.to_be_bytes());
        self.record(0x04, &b);
    }

    /// A STACK TRACE record of `frames`, the innermost first.
    fn stack_trace(&mut self, serial: u32, frames: &[u64]) {
        let mut b = serial.to_be_bytes().to_vec();
        b.extend(1u32.to_be_bytes());
        b.extend((frames.len() as u32).to_be_bytes());
        for &f in frames {
            self.id(&mut b, f);
        }
        self.record(0x05, &b);
    }

    /// A CLASS DUMP with object statics `statics` and instance fields `(name id, type)`.
    fn class(&mut self, class: u64, super_id: u64, statics: &[(u64, u64)], fields: &[(u64, u8)]) {
        let mut h = vec![0x20];
        self.id(&mut h, class);
        h.extend(0u32.to_be_bytes());
        for v in [super_id, 0, 0, 0, 0, 0] {
            self.id(&mut h, v);
        }
        h.extend(0u32.to_be_bytes());
        h.extend(0u16.to_be_bytes());
        h.extend((statics.len() as u16).to_be_bytes());
        for &(name, value) in statics {
            self.id(&mut h, name);
            h.push(2);
            self.id(&mut h, value);
        }
        h.extend((fields.len() as u16).to_be_bytes());
        for &(name, ty) in fields {
            self.id(&mut h, name);
            h.push(ty);
        }
        self.heap.extend(h);
    }

    fn instance(&mut self, id: u64, class: u64, fields: &[u8]) {
        let mut h = vec![0x21];
        self.id(&mut h, id);
        h.extend(self.trace.to_be_bytes());
        self.id(&mut h, class);
        h.extend((fields.len() as u32).to_be_bytes());
        h.extend(fields);
        self.heap.extend(h);
    }

    fn object_array(&mut self, id: u64, class: u64, elements: &[u64]) {
        let mut h = vec![0x22];
        self.id(&mut h, id);
        h.extend(self.trace.to_be_bytes());
        h.extend((elements.len() as u32).to_be_bytes());
        self.id(&mut h, class);
        for &e in elements {
            self.id(&mut h, e);
        }
        self.heap.extend(h);
    }

    fn int_array(&mut self, id: u64, values: &[i32]) {
        let mut h = vec![0x23];
        self.id(&mut h, id);
        h.extend(self.trace.to_be_bytes());
        h.extend((values.len() as u32).to_be_bytes());
        h.push(10);
        for v in values {
            h.extend(v.to_be_bytes());
        }
        self.heap.extend(h);
    }

    fn root(&mut self, tag: u8, id: u64, extra: &[u8]) {
        let mut h = vec![tag];
        self.id(&mut h, id);
        h.extend(extra);
        self.heap.extend(h);
    }

    /// Ends the heap as one HEAP DUMP record, or as two segments and HEAP DUMP END.
    fn finish(mut self, segmented: bool, split_at: usize) -> Vec<u8> {
        let heap = std::mem::take(&mut self.heap);
        if segmented {
            self.record(0x1C, &heap[..split_at]);
            self.record(0x1C, &heap[split_at..]);
            self.record(0x2C, &[]);
        } else {
            self.record(0x0C, &heap);
        }
        self.bytes
    }
}

/// Object, Leaf {next: Leaf, value: int}, Reference {referent}, Object[], int[], and objects:
/// leaf1.next -> leaf2; array [leaf1, null, 0xdead]; ints [1, 2, 3]; ref.referent -> leaf2. The leaves
/// were allocated in `Leaf.<init>` (Leaf.java:3) called from `Leaf.main` (compiled code, no line), the
/// array in `Leaf.main`; the ints name the empty trace HotSpot gives every object, the reference none.
fn sample(version: &str, id_size: usize, segmented: bool) -> Vec<u8> {
    let mut w = Writer::new(version, id_size);
    for (class, name_id, name) in [
        (0x100, 1, "java/lang/Object"),
        (0x200, 2, "app/Leaf"),
        (0x300, 3, "java/lang/ref/Reference"),
        (0x400, 4, "[Ljava/lang/Object;"),
        (0x500, 5, "[I"),
    ] {
        w.class_name(class, name_id, name);
    }
    for (id, text) in [
        (6, "next"),
        (7, "value"),
        (8, "referent"),
        (9, "LEAF"),
        (10, "<init>"),
        (11, "main"),
        (12, "Leaf.java"),
    ] {
        w.utf8(id, text);
    }
    w.frame(0x9000, 10, 12, 2, 3);
    w.frame(0x9010, 11, 12, 2, -2);
    w.stack_trace(1, &[]);
    w.stack_trace(2, &[0x9000, 0x9010]);
    w.stack_trace(3, &[0x9010]);
    w.root(0x05, 0x200, &[]);
    w.root(0x01, 0x1040, &[0; 8][..id_size]);
    w.root(0xFF, 0x1088, &[]);
    w.class(0x100, 0, &[], &[]);
    w.class(0x200, 0x100, &[(9, 0x1000)], &[(6, 2), (7, 10)]);
    w.class(0x300, 0x100, &[], &[(8, 2)]);
    w.class(0x400, 0x100, &[], &[]);
    w.class(0x500, 0x100, &[], &[]);
    let split_at = w.heap.len();
    let leaf = |w: &Writer, next: u64, value: i32| {
        let mut f = Vec::new();
        w.id(&mut f, next);
        f.extend(value.to_be_bytes());
        f
    };
    w.trace = 2;
    let f = leaf(&w, 0x1020, 7);
    w.instance(0x1000, 0x200, &f);
    let f = leaf(&w, 0, 8);
    w.instance(0x1020, 0x200, &f);
    w.trace = 3;
    w.object_array(0x1040, 0x400, &[0x1000, 0, 0xdead]);
    w.trace = 1;
    w.int_array(0x1070, &[1, 2, 3]);
    w.trace = 0;
    let mut f = Vec::new();
    w.id(&mut f, 0x1020);
    w.instance(0x1088, 0x300, &f);
    w.finish(segmented, split_at)
}

fn write_temp(name: &str, bytes: &[u8]) -> PathBuf {
    let path = std::env::temp_dir().join(format!(
        "heapgraph-unit-{}-{name}.hprof",
        std::process::id()
    ));
    std::fs::write(&path, bytes).unwrap();
    path
}

/// The allocation stack of `node` as (function, file, line), empty when it has none.
fn stack(g: &Graph, node: u32) -> Vec<(&str, &str, u32)> {
    let sites = g.allocation_sites();
    let frames = sites.trace_of(node).map_or(&[][..], |t| sites.frames(t));
    frames
        .iter()
        .map(|&f| sites.frame(f))
        .map(|f| (f.function, f.file, f.line))
        .collect()
}

fn label_names(g: &Graph, node: u32) -> Vec<String> {
    g.out_labels(node)
        .iter()
        .map(|l| l.display(g.strings()).to_string())
        .collect()
}

#[test]
fn loads_both_id_sizes_and_both_heap_record_kinds() {
    for (version, id_size, segmented) in [
        ("JAVA PROFILE 1.0.1", 4, false),
        ("JAVA PROFILE 1.0.2", 8, true),
        ("JAVA PROFILE 1.0.3", 4, true),
    ] {
        let path = write_temp("sample", &sample(version, id_size, segmented));
        let dump = load(&path, &NoProgress).unwrap_or_else(|e| panic!("{version}: {e}"));
        std::fs::remove_file(&path).unwrap();
        let g = &dump.graph;
        assert_eq!(dump.format, Format::Hprof);
        assert_eq!(g.node_count(), 10, "5 classes and 5 objects");
        assert_eq!(dump.stats.dangling_edges, 1, "0xdead is not in the dump");
        let node = |a| g.node_at(a).unwrap();
        let (leaf1, leaf2, array, ints, reference) = (
            node(0x1000),
            node(0x1020),
            node(0x1040),
            node(0x1070),
            node(0x1088),
        );
        assert_eq!(g.type_name(g.type_of(leaf1)), "app.Leaf");
        assert_eq!(g.type_name(g.type_of(array)), "java.lang.Object[]");
        assert_eq!(g.type_name(g.type_of(ints)), "int[]");
        assert_eq!(g.type_name(g.type_of(node(0x200))), "java.lang.Class");
        assert_eq!(label_names(g, leaf1), ["<class>", ".next"]);
        assert_eq!(g.out_targets(leaf1).nth(1), Some(leaf2));
        assert_eq!(label_names(g, array), ["<class>", "[0]"]);
        assert_eq!(label_names(g, ints), ["<class>"]);
        assert_eq!(label_names(g, node(0x200)), ["<super>", ".LEAF"]);
        let referent = g.out_labels(reference)[1];
        assert_eq!(referent.kind(), EdgeKind::Weak);
        assert!(!referent.retains());
        let (edge, _) = g.node_edges(reference).nth(1).unwrap();
        assert!(!g.retains(edge));
        // Read again from the dump, labels skip the reference to 0xdead as loading did.
        for n in 0..g.node_count() as u32 {
            let labels = g.detail_source().edge_labels(n, g).unwrap();
            assert_eq!(
                labels.len(),
                g.out_targets(n).len(),
                "{version}: edges of {n}"
            );
        }
        // Without overlapping arrays no compressed references are detected: Leaf is a header of
        // id + ref, then a reference and an int, aligned to 8.
        let expected_leaf = if id_size == 8 { 32 } else { 16 };
        assert_eq!(g.shallow_size(leaf1), expected_leaf, "{version}");
        assert_eq!(dump.meta["compressed_references"], false);
        assert_eq!(dump.meta["object_alignment"], 8);
        assert_eq!(g.details(array).length, Some(3));
        assert_eq!(g.details(node(0x200)).name.as_deref(), Some("app.Leaf"));
        let mut kinds: Vec<RootKind> = g.roots().iter().map(|r| r.kind).collect();
        kinds.sort();
        assert_eq!(
            kinds,
            [
                RootKind::JniGlobal,
                RootKind::StickyClass,
                RootKind::Unknown
            ]
        );
        assert_eq!(g.find_types("Leaf").len(), 1);

        let init = ("app.Leaf.<init>", "Leaf.java", 3);
        let main = ("app.Leaf.main", "Leaf.java", 0);
        assert_eq!(stack(g, leaf1), [init, main]);
        assert_eq!(stack(g, leaf2), [init, main]);
        assert_eq!(stack(g, array), [main]);
        assert!(stack(g, ints).is_empty() && stack(g, reference).is_empty());
        assert_eq!(g.allocation_sites().trace_count(), 2);
    }
}

/// A dump whose only STACK TRACE with frames is a thread's (`ROOT THREAD OBJECT`), as HotSpot writes
/// them, has no allocation stacks even if an object names it; a frame the dump lacks is named as such;
/// a FRAME or STACK TRACE record too short for its fields is an error naming the file and the field.
#[test]
fn allocation_stacks_need_a_trace_of_their_own() {
    let dump = |thread_trace: u32, frames: &[u64]| {
        let mut w = Writer::new("JAVA PROFILE 1.0.2", 8);
        w.class_name(0x100, 1, "app/Thing");
        w.utf8(2, "run");
        w.frame(0x9000, 2, 0, 1, 5);
        w.stack_trace(7, frames);
        w.root(0x08, 0x1000, &[0, 0, 0, 1, 0, 0, 0, thread_trace as u8]);
        w.class(0x100, 0, &[], &[]);
        w.trace = 7;
        w.instance(0x1000, 0x100, &[]);
        w.finish(false, 0)
    };
    let path = write_temp("thread-traces", &dump(7, &[0x9000]));
    let thread_only = load(&path, &NoProgress).unwrap();
    assert!(thread_only.graph.allocation_sites().is_empty());

    std::fs::write(&path, dump(0, &[0x9000, 0x9999])).unwrap();
    let own = load(&path, &NoProgress).unwrap();
    assert_eq!(
        stack(&own.graph, own.graph.node_at(0x1000).unwrap()),
        [
            ("app.Thing.run", "", 5),
            ("(frame 0x9999 not in the dump)", "", 0)
        ]
    );

    let whole = dump(0, &[0x9000]);
    let frame_at = whole.windows(9).position(|w| w[0] == 0x04 && w[8] == 40);
    let trace_at = whole.windows(9).position(|w| w[0] == 0x05 && w[8] == 20);
    for (at, field) in [(frame_at, "FRAME line"), (trace_at, "TRACE frames")] {
        let mut short = whole.clone();
        let at = at.expect("the record") + 8;
        short[at] -= 4;
        std::fs::write(&path, &short).unwrap();
        let e = load(&path, &NoProgress).err().expect("a short record");
        let message = e.to_string();
        assert!(
            message.starts_with(&path.display().to_string()) && message.contains(field),
            "{message}"
        );
    }
    std::fs::remove_file(path).unwrap();
}

#[test]
fn compressed_references_are_detected_from_overlapping_arrays() {
    let mut w = Writer::new("JAVA PROFILE 1.0.2", 8);
    w.class_name(0x400, 1, "[Ljava/lang/Object;");
    w.class(0x100, 0, &[], &[]);
    w.class(0x400, 0x100, &[], &[]);
    // With 8-byte references the first array would run to 0x1000 + 16 + 4 * 8 = 0x1030.
    w.object_array(0x1000, 0x400, &[0, 0, 0, 0]);
    w.object_array(0x1020, 0x400, &[0x1000]);
    let split = w.heap.len();
    let path = write_temp("compressed", &w.finish(true, split));
    let dump = load(&path, &NoProgress).unwrap();
    std::fs::remove_file(path).unwrap();
    assert_eq!(dump.meta["compressed_references"], true);
    let array = dump.graph.node_at(0x1000).unwrap();
    // Mark word 8, class pointer 4, length 4, four 4-byte references.
    assert_eq!(dump.graph.shallow_size(array), 32);
}

#[test]
fn every_truncation_is_an_error_or_a_partial_load_with_a_warning() {
    for segmented in [true, false] {
        let bytes = sample("JAVA PROFILE 1.0.2", 8, segmented);
        let path = write_temp("cut", &bytes);
        let mut partial = 0;
        for cut in 0..bytes.len() {
            std::fs::write(&path, &bytes[..cut]).unwrap();
            match load(&path, &NoProgress) {
                Err(e) => assert!(
                    e.to_string().starts_with(&path.display().to_string()),
                    "{e}"
                ),
                Ok(dump) => {
                    partial += 1;
                    let [warning] = &dump.stats.warnings[..] else {
                        panic!("cut at {cut} loaded without exactly one warning");
                    };
                    assert!(warning.contains("cut short"), "{warning}");
                    assert!(dump.graph.node_count() <= 10);
                }
            }
        }
        assert!(partial > 0, "no cut loaded the objects before it");
        std::fs::remove_file(path).unwrap();
    }
}

#[test]
fn a_dump_cut_in_its_last_segment_loads_the_objects_before_the_cut() {
    let bytes = sample("JAVA PROFILE 1.0.2", 8, true);
    // Cut the last object (the Reference, 0x1088) in half: the END record and 30 more bytes go.
    let path = write_temp("cut-last", &bytes[..bytes.len() - 9 - 12]);
    let dump = load(&path, &NoProgress).unwrap();
    std::fs::remove_file(path).unwrap();
    assert_eq!(dump.graph.node_count(), 9);
    assert!(dump.graph.node_at(0x1070).is_some());
    assert!(dump.graph.node_at(0x1088).is_none());
    assert!(
        dump.stats.warnings[0].contains("bytes are lost"),
        "{:?}",
        dump.stats.warnings
    );
}

#[test]
fn flipped_bytes_never_panic() {
    let bytes = sample("JAVA PROFILE 1.0.2", 8, true);
    let path = write_temp("flip", &bytes);
    for corrupt in crate::flipped_copies(&bytes, 3000) {
        std::fs::write(&path, &corrupt).unwrap();
        if let Err(e) = load(&path, &NoProgress) {
            assert!(!e.message.is_empty());
        }
    }
    std::fs::remove_file(path).unwrap();
}

#[test]
fn corrupt_objects_are_explained() {
    let mut w = Writer::new("JAVA PROFILE 1.0.2", 8);
    w.class(0x100, 0, &[], &[(1, 10)]);
    w.instance(0x1000, 0x100, &[0, 0]);
    let split = w.heap.len();
    w.instance(0x1008, 0x999, &[]);
    let path = write_temp("corrupt", &w.finish(true, split));
    let e = load(&path, &NoProgress).err().unwrap();
    assert!(
        e.message.contains("2 bytes of fields") || e.message.contains("no CLASS DUMP"),
        "{e}"
    );
    let mut w = Writer::new("JAVA PROFILE 1.0.2", 8);
    w.class(0x100, 0x100, &[], &[]);
    let split = w.heap.len();
    std::fs::write(&path, w.finish(true, split)).unwrap();
    let e = load(&path, &NoProgress).err().unwrap();
    assert!(e.message.contains("its own superclass"), "{e}");
    std::fs::write(&path, b"JAVA PROFILE 9.9\0").unwrap();
    assert!(load(&path, &NoProgress).is_err());
    std::fs::remove_file(path).unwrap();
}

#[test]
fn gzip_dumps_are_inflated_and_checked() {
    use flate2::{write::GzEncoder, Compression};
    use std::io::Write;
    let gzip = |bytes: &[u8]| {
        let mut e = GzEncoder::new(Vec::new(), Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    };
    // Two gzip members, as HotSpot writes them (one per 1 MiB block).
    let bytes = sample("JAVA PROFILE 1.0.2", 8, true);
    let (a, b) = bytes.split_at(bytes.len() / 2);
    let mut members = gzip(a);
    members.extend(gzip(b));
    let path = write_temp("gzip", &members);
    let dump = load(&path, &NoProgress).unwrap();
    assert_eq!(dump.format, Format::HprofGzip);
    assert_eq!(dump.graph.node_count(), 10);

    std::fs::write(&path, &members[..members.len() - 20]).unwrap();
    let e = load(&path, &NoProgress).err().unwrap();
    assert!(
        e.to_string().starts_with(&path.display().to_string()),
        "{e}"
    );
    std::fs::write(&path, gzip(b"{\"not\": \"a heap dump\"}")).unwrap();
    let e = load(&path, &NoProgress).err().unwrap();
    assert!(e.message.contains("does not hold a heap dump"), "{e}");
    std::fs::remove_file(path).unwrap();
}

#[test]
fn a_file_of_several_heap_dumps_reads_the_one_chosen() {
    use crate::{load_with, HeapChoice, LoadOptions};
    // Two dumps, as the legacy hprof agent writes them: a HEAP DUMP record, then segments and an END.
    let mut w = Writer::new("JAVA PROFILE 1.0.2", 8);
    w.class_name(0x100, 1, "app/Thing");
    w.class(0x100, 0, &[], &[]);
    w.instance(0x1000, 0x100, &[]);
    let first = std::mem::take(&mut w.heap);
    w.record(0x0C, &first);
    let second_at = w.bytes.len();
    w.class(0x100, 0, &[], &[]);
    w.instance(0x1000, 0x100, &[]);
    w.instance(0x1010, 0x100, &[]);
    let bytes = w.finish(true, 0);
    let path = write_temp("two-heaps", &bytes);
    let read = |heap| {
        let options = LoadOptions {
            heap,
            ..LoadOptions::default()
        };
        load_with(&path, &options, &NoProgress)
    };
    let first = read(None).unwrap();
    assert_eq!(first.graph.node_count(), 2);
    assert_eq!(first.meta["heap_dump"], 1);
    assert_eq!(first.meta["heap_dumps"][1]["offset"], second_at);
    assert!(first.stats.warnings[0].contains("holds 2 heap dumps"));
    let second = read(Some(HeapChoice::Dump(2))).unwrap();
    assert_eq!(second.graph.node_count(), 3);
    assert!(second.stats.warnings.is_empty());
    let e = read(Some(HeapChoice::Dump(3))).err().unwrap();
    assert!(e.message.contains("give --heap 1 to --heap 2"), "{e}");

    // Within one dump, a class dumped twice is corrupt, and the error names the second sub-record.
    let mut w = Writer::new("JAVA PROFILE 1.0.2", 8);
    w.class(0x100, 0, &[], &[]);
    let again = w.heap.len();
    w.class(0x100, 0, &[], &[]);
    let header = w.bytes.len() + 9;
    std::fs::write(&path, w.finish(false, 0)).unwrap();
    let e = load(&path, &NoProgress).err().unwrap();
    assert_eq!(e.offset, Some((header + again) as u64), "{e}");
    assert!(e.message.contains(&format!("also at byte {header}")), "{e}");

    // So is an object dumped twice, in two segments: the error is at the later sub-record.
    let mut w = Writer::new("JAVA PROFILE 1.0.2", 8);
    w.class(0x100, 0, &[], &[]);
    w.instance(0x1000, 0x100, &[]);
    w.instance(0x1008, 0x100, &[]);
    let split = w.heap.len();
    w.instance(0x1000, 0x100, &[]);
    std::fs::write(&path, w.finish(true, split)).unwrap();
    let e = load(&path, &NoProgress).err().unwrap();
    let first = e.message.split("also at byte ").nth(1).unwrap();
    let first: u64 = first.split(')').next().unwrap().parse().unwrap();
    assert!(
        e.message.contains("object id 0x1000 is dumped twice"),
        "{e}"
    );
    assert!(e.offset.unwrap() > first, "{e}");
    std::fs::remove_file(path).unwrap();
}

/// The `hprof` fuzz target's seeds (`fuzz/seeds/make_small_hprof.py`) load, with the allocation stacks
/// they were written with: the leaves and the array made in `Leaf.<init>` called from `main`.
#[test]
fn fuzz_seeds_load_with_their_allocation_stacks() {
    let seeds = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/hprof");
    let mut seen = 0;
    for entry in std::fs::read_dir(&seeds).unwrap() {
        let path = entry.unwrap().path();
        let dump = load(&path, &NoProgress).unwrap_or_else(|e| panic!("{e}"));
        let g = &dump.graph;
        let leaf = g.node_at(0x1000).unwrap();
        let init = ("app.Leaf.<init>", "Main.java", 3);
        let main = ("app.Leaf.main", "Main.java", 12);
        assert_eq!(stack(g, leaf), [init, main], "{}", path.display());
        assert_eq!(g.allocation_sites().object_count(), 3);
        seen += 1;
    }
    assert_eq!(seen, 4);
}
