//! V8 reader tests on bytes written by hand and on the fuzzer's finds; real snapshots from Node are tested
//! in the workspace's `e2e/` crate.

use super::header::skip_string;
use crate::{load, NoProgress};

#[test]
fn a_string_cut_after_a_backslash_is_an_error() {
    assert!(skip_string(br#""abc\"#, 0).is_err());
    assert!(skip_string(br#""ab\"c"#, 0).is_err());
    assert_eq!(skip_string(br#""ab\"c" "#, 0), Ok(7));
}

/// Inputs the `v8` fuzz target once crashed on (testdata/v8/regressions): each must load or fail cleanly.
#[test]
fn fuzzer_finds_load_or_fail_cleanly() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/v8/regressions");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if let Err(e) = load(&path, &NoProgress) {
            assert!(
                e.to_string()
                    .contains(path.file_name().unwrap().to_str().unwrap()),
                "{e}"
            );
        }
        seen += 1;
    }
    assert!(seen > 0, "no regression inputs in {}", dir.display());
}
