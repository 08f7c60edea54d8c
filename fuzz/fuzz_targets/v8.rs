//! Fuzzes the V8 heap snapshot reader (seeds: `fuzz/seeds/v8`); see `common` for what a run does.
#![no_main]

#[path = "common/mod.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| common::exercise("v8", data));
