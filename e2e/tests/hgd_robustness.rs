//! The committed real dump `testdata/python/service.hgd`, damaged on purpose: cut at record boundaries of
//! every kind and at random offsets, and with random bytes flipped. Whatever the damage, loading ends in an
//! `Err` that names the file and a byte offset, or in a graph; never in a panic.
//!
//! The formats crate's unit tests do the same exhaustively on a tiny hand-written dump; this test uses a
//! real one, so that damage lands in places only a real interpreter's output has (long edge lists, value
//! previews, thousands of strings). Cuts and flips are chosen by a fixed-seed generator, so a failure
//! reproduces.

use heapgraph_e2e::{python_testdata, Scratch};
use heapgraph_formats::{load, NoProgress};
use std::collections::BTreeMap;
use std::path::Path;

/// File header, then records of tag u8 + length u32 (LE) + payload (docs/formats.md).
const HEADER_LEN: usize = 16;
const RECORD_PREFIX: usize = 5;

/// Cut points taken per record kind: enough to reach each kind at the start, the end and in between,
/// few enough that the whole test runs in seconds.
const CUTS_PER_KIND: usize = 8;
const RANDOM_CUTS: usize = 40;
const FLIPS: usize = 40;

/// `(tag, offset)` of every record in the file, walked by their length prefixes.
fn records(bytes: &[u8]) -> Vec<(u8, usize)> {
    let mut at = HEADER_LEN;
    let mut out = Vec::new();
    while at + RECORD_PREFIX <= bytes.len() {
        let len = u32::from_le_bytes(bytes[at + 1..at + 5].try_into().unwrap()) as usize;
        out.push((bytes[at], at));
        at += RECORD_PREFIX + len;
    }
    assert_eq!(at, bytes.len(), "the committed dump is framed exactly");
    out
}

/// Offsets to cut at: for each record kind its first and last record's start and evenly spaced ones
/// between, plus the byte after each (a cut inside the prefix).
fn boundary_cuts(bytes: &[u8]) -> Vec<usize> {
    let mut by_kind: BTreeMap<u8, Vec<usize>> = BTreeMap::new();
    for (tag, at) in records(bytes) {
        by_kind.entry(tag).or_default().push(at);
    }
    assert_eq!(
        by_kind.keys().copied().collect::<Vec<_>>(),
        [1, 2, 3, 4, 5, 6],
        "the committed dump has every record kind"
    );
    let mut cuts = Vec::new();
    for starts in by_kind.values() {
        let step = (starts.len() / CUTS_PER_KIND).max(1);
        let picked = starts.iter().step_by(step).chain(starts.last());
        for &at in picked {
            cuts.extend([at, at + 1]);
        }
    }
    cuts
}

/// xorshift64: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// Loads `bytes` from `path`; an error must name the file and an offset, and say something.
fn assert_loads_or_explains(path: &Path, bytes: &[u8], what: &str) -> bool {
    std::fs::write(path, bytes).unwrap();
    match load(path, &NoProgress) {
        Ok(_) => true,
        Err(e) => {
            let text = e.to_string();
            assert!(
                text.starts_with(&path.display().to_string()),
                "{what}: {text}"
            );
            assert!(e.offset.is_some(), "{what}: no offset in {text}");
            assert!(e.message.len() > 10, "{what}: {text}");
            false
        }
    }
}

#[test]
fn the_real_dump_cut_anywhere_is_an_error_naming_file_and_offset() {
    let bytes = std::fs::read(python_testdata().join("service.hgd")).unwrap();
    let scratch = Scratch::new("hgd-cuts");
    let path = scratch.0.join("service-cut.hgd");
    let mut rng = Rng(0x2545f4914f6cdd1d);
    let random = (0..RANDOM_CUTS).map(|_| rng.below(bytes.len()));
    for cut in boundary_cuts(&bytes).into_iter().chain(random) {
        let loaded = assert_loads_or_explains(&path, &bytes[..cut], &format!("cut at {cut}"));
        assert!(!loaded, "a dump cut at {cut} loaded as if whole");
    }
}

#[test]
fn the_real_dump_with_flipped_bytes_never_panics() {
    let bytes = std::fs::read(python_testdata().join("service.hgd")).unwrap();
    let scratch = Scratch::new("hgd-flips");
    let path = scratch.0.join("service-flipped.hgd");
    let mut rng = Rng(0x9e3779b97f4a7c15);
    let mut corrupt = bytes.clone();
    for _ in 0..FLIPS {
        let at = rng.below(bytes.len());
        let mask = 1 + rng.below(255) as u8;
        corrupt[at] ^= mask;
        assert_loads_or_explains(&path, &corrupt, &format!("byte {at} ^ {mask:#x}"));
        corrupt[at] = bytes[at];
    }
}
