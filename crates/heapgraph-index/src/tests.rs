//! Damage to an index file, at the library level where thousands of cases run in seconds: every cut
//! and every flipped bit is caught before anything is trusted, and a file forged to pass the checksums
//! is either refused by the structural checks or answers queries without panicking.

use crate::identity::DumpIdentity;
use crate::layout::Header;
use crate::IndexError;
use heapgraph_analysis::analyze;
use heapgraph_formats::NoProgress;
use std::path::PathBuf;

/// A Python dump, its identity and its index bytes, written in a scratch directory.
struct Fixture {
    _dir: tempfile::TempDir,
    dump: PathBuf,
    identity: DumpIdentity,
    index: Vec<u8>,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("service.hgd");
    std::fs::copy(heapgraph_e2e::python_testdata().join("service.hgd"), &dump).unwrap();
    let loaded = heapgraph_formats::load(&dump, &NoProgress).unwrap();
    let analysis = analyze(&loaded.graph);
    let identity = DumpIdentity::of(&dump).unwrap();
    let path = dir.path().join("index.hgi");
    crate::write_index(&path, identity, &loaded, &analysis, &NoProgress).unwrap();
    let index = std::fs::read(&path).unwrap();
    Fixture {
        _dir: dir,
        dump,
        identity,
        index,
    }
}

impl Fixture {
    /// Opens `bytes` as this dump's index (through a file, so the map is page-aligned as in use).
    fn open(
        &self,
        bytes: &[u8],
    ) -> Result<(heapgraph_formats::Dump, heapgraph_analysis::Analysis), IndexError> {
        let path = self.dump.with_extension("damaged");
        std::fs::write(&path, bytes).unwrap();
        crate::open(&path, &self.dump, self.identity).expect("the file exists")
    }
}

/// xorshift: the same pseudo-random positions on every run, so failures reproduce.
fn positions(len: usize, count: usize) -> impl Iterator<Item = (usize, u8)> {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    (0..count).map(move |_| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        ((seed % len as u64) as usize, 1 << (seed >> 61))
    })
}

#[test]
fn the_index_reads_back_what_was_written() {
    let f = fixture();
    let (dump, analysis) = f.open(&f.index).unwrap();
    let loaded = heapgraph_formats::load(&f.dump, &NoProgress).unwrap();
    let fresh = analyze(&loaded.graph);
    let (g, h) = (&dump.graph, &loaded.graph);
    assert_eq!(g.node_count(), h.node_count());
    assert!(g.addresses().iter_from(0).eq(h.addresses().iter_from(0)));
    // Every column the graph and the analyses save comes back byte for byte: mapped offsets against
    // packed ones, shared first targets and sizes, retained sizes in both widths.
    let columns = |graph: &heapgraph_graph::Graph, analysis: &heapgraph_analysis::Analysis| {
        let mut out = heapgraph_graph::SavedColumns::default();
        graph.save(&mut out);
        analysis.save(&mut out);
        out.columns()
            .iter()
            .map(|c| (c.name.clone(), c.elem_size, c.bytes().to_vec()))
            .collect::<Vec<_>>()
    };
    let (read, written) = (columns(g, &analysis), columns(h, &fresh));
    assert_eq!(read.len(), written.len());
    for (r, w) in read.iter().zip(&written) {
        assert!(r == w, "column {} reads back differently", w.0);
    }
    let shared_bits = written
        .iter()
        .find(|c| c.0 == "graph.edges.shared_bits")
        .unwrap();
    assert!(
        shared_bits.2.iter().any(|&b| b != 0),
        "some first targets are shared"
    );
    assert!((0..g.node_count() as u32).all(|n| g.node_edges(n).eq(h.node_edges(n))));
    assert!((0..g.edge_count()).all(|e| g.edge_source(e) == h.edge_source(e)));
    assert_eq!(g.all_labels(), h.all_labels());
    assert_eq!(g.types(), h.types());
    assert_eq!(g.roots(), h.roots());
    assert_eq!(analysis.histogram, fresh.histogram);
    assert_eq!(analysis.unreferenced, fresh.unreferenced);
    for n in 0..g.node_count() as u32 {
        assert_eq!(g.shallow_size(n), h.shallow_size(n));
        assert_eq!(g.details(n), h.details(n), "details of node {n}");
        assert_eq!(analysis.dominators.idom(n), fresh.dominators.idom(n));
        assert_eq!(analysis.paths.parent(g, n), fresh.paths.parent(h, n));
        assert_eq!(g.node_at(g.address(n)), Some(n));
    }
}

#[test]
fn every_cut_and_flipped_bit_is_refused() {
    let f = fixture();
    let header = Header::decode(&f.index).unwrap();
    let mut cuts: Vec<usize> = header
        .sections
        .iter()
        .flat_map(|s| {
            let (start, end) = (s.offset as usize, (s.offset + s.byte_len()) as usize);
            [start, start + 1, end.saturating_sub(1)]
        })
        .chain(positions(f.index.len(), 60).map(|(at, _)| at))
        .chain([0, 8, 47, 48, 100])
        .filter(|&c| c < f.index.len())
        .collect();
    cuts.sort_unstable();
    cuts.dedup();
    for cut in cuts {
        assert!(
            f.open(&f.index[..cut]).is_err(),
            "cut at {cut} was accepted"
        );
    }
    for (at, bit) in positions(f.index.len(), 300) {
        let mut bytes = f.index.clone();
        bytes[at] ^= bit;
        // Padding between sections is covered by no checksum and may change freely.
        let in_padding = header
            .sections
            .iter()
            .all(|s| !(s.offset as usize..(s.offset + s.byte_len()) as usize).contains(&at))
            && at >= Header::encoded_len(header.sections.len()) as usize;
        if !in_padding {
            assert!(f.open(&bytes).is_err(), "byte {at} ^ {bit:#x} was accepted");
        }
    }
}

/// A caller tells an index of another dump version from a damaged or forged one by its variant, and
/// each still reads as the sentence the user sees.
#[test]
fn stale_and_corrupt_indexes_are_different_errors() {
    let f = fixture();
    let mut other = f.identity;
    other.size += 1;
    let path = f.dump.with_extension("stale");
    std::fs::write(&path, &f.index).unwrap();
    match crate::open(&path, &f.dump, other).expect("the file exists") {
        Err(e @ IndexError::Stale { .. }) => assert_eq!(
            e.to_string(),
            "it was made from another version of the dump (size, time or first bytes differ)"
        ),
        other => panic!("a stale index gave {:?}", other.err()),
    }

    let header = Header::decode(&f.index).unwrap();
    let s = header.sections.iter().find(|s| s.count > 0).unwrap();
    let mut damaged = f.index.clone();
    damaged[s.offset as usize] ^= 1;
    match f.open(&damaged) {
        Err(e @ IndexError::Corrupt { .. }) => assert_eq!(
            e.to_string(),
            format!(
                "section {} at offset {} does not match its checksum",
                s.name, s.offset
            )
        ),
        other => panic!("a damaged index gave {:?}", other.err()),
    }

    // Forged past the checksums: whatever the structural checks refuse is corrupt, never stale.
    let header_len = Header::encoded_len(header.sections.len()) as usize;
    for (at, bit) in positions(f.index.len() - header_len, 100) {
        let mut bytes = f.index.clone();
        bytes[header_len + at] ^= bit;
        crate::forge::reseal(&mut bytes, f.identity);
        if let Err(e) = f.open(&bytes) {
            assert!(
                matches!(e, IndexError::Corrupt { .. }),
                "a forged index gave {e:?}"
            );
        }
    }

    let mut not_index = f.index.clone();
    not_index[0] ^= 1;
    assert!(matches!(f.open(&not_index), Err(IndexError::NotAnIndex)));
}

#[test]
fn forged_files_are_refused_or_answer_without_panicking() {
    let f = fixture();
    let header_len = Header::encoded_len(Header::decode(&f.index).unwrap().sections.len()) as usize;
    let (mut accepted, mut refused) = (0, 0);
    for (at, bit) in positions(f.index.len() - header_len, 400) {
        let mut bytes = f.index.clone();
        bytes[header_len + at] ^= bit;
        crate::forge::reseal(&mut bytes, f.identity);
        match f.open(&bytes) {
            Err(_) => refused += 1,
            Ok((dump, analysis)) => {
                accepted += 1;
                crate::forge::exercise(&dump.graph, &analysis);
            }
        }
    }
    assert!(
        refused > 0 && accepted > 0,
        "{refused} refused, {accepted} accepted"
    );
}

/// The two inputs the `index` fuzz target crashed on, rebuilt from a valid index so the test does not
/// depend on the fuzzer's file: a Python record offset past the dump's end (it once underflowed in
/// `record_at`) and retained sizes whose sums overflow u64 (they once overflowed in the retainer tree).
/// Each forged file must open, since neither value is checked on open, and answer without panicking.
#[test]
fn fuzz_found_forgeries_open_and_answer_without_panicking() {
    let f = fixture();
    let header = Header::decode(&f.index).unwrap();
    let section = |name: &str| {
        let s = header.sections.iter().find(|s| s.name == name).unwrap();
        (s.offset as usize, s.count as usize, s.elem_size as usize)
    };
    // Writes `value(i)` into element `i`, in the section's own element size.
    let forge = |name: &str, value: &dyn Fn(usize) -> u64| {
        let (offset, count, elem) = section(name);
        let mut bytes = f.index.clone();
        for i in 0..count {
            let at = offset + elem * i;
            match elem {
                4 => bytes[at..at + 4].copy_from_slice(&(value(i) as u32).to_ne_bytes()),
                _ => bytes[at..at + 8].copy_from_slice(&value(i).to_ne_bytes()),
            }
        }
        crate::forge::reseal(&mut bytes, f.identity);
        let (dump, analysis) = f.open(&bytes).expect("the forged file passes the checks");
        crate::forge::exercise(&dump.graph, &analysis);
        (dump, analysis)
    };

    let dump_len = std::fs::metadata(&f.dump).unwrap().len();
    let past_end = [dump_len + 1, dump_len + 7, u64::MAX, u64::MAX - 3];
    // The fixture's dump is under 4 GiB: its record offsets are 4 bytes each.
    let (dump, _) = forge("details.u32.0", &|i| past_end[i % past_end.len()]);
    for n in 0..dump.graph.node_count() as u32 {
        assert_eq!(dump.graph.details(n), Default::default(), "node {n}");
    }

    // Every vertex marked as retaining 4 GiB or more, with no size in the side table: each reads as the
    // mark, and sums of them in the retainer tree must not overflow either.
    let (_, analysis) = forge("retained.by_vertex", &|_| u32::MAX as u64);
    assert_eq!(analysis.retained.total(), u32::MAX as u64);
}
