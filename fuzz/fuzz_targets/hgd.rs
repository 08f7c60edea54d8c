//! Fuzzes the Python `.hgd` reader (seeds: `fuzz/seeds/hgd`); see `common` for what a run does.
#![no_main]

#[path = "common/mod.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| common::exercise("hgd", data));
