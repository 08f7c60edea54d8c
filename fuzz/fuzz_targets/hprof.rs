//! Fuzzes the HPROF reader, plain and gzipped, and its shallow histogram (seeds: `fuzz/seeds/hprof`); see
//! `common` for what a run does.
#![no_main]

#[path = "common/mod.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| common::exercise("hprof", data));
