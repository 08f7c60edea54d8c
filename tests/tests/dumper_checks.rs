//! The dumper's own checks (`testdata/python/run_dumper_checks.py`) on every CPython 3.8+ found: hostile
//! objects whose hooks must never run, other threads mutating the heap mid-dump, a full disk, the command
//! line, and every dump validated by the independent pure-Python reader `hgd_check.py`.

use heapgraph_tests::{python_testdata, pythons};
use std::process::Command;

#[test]
fn dumper_checks_pass_on_every_python() {
    let pythons = pythons();
    let mut command = Command::new(&pythons[0].path);
    command.arg(python_testdata().join("run_dumper_checks.py"));
    for python in &pythons {
        command.arg("--python").arg(&python.path);
    }
    let out = command.output().expect("run run_dumper_checks.py");
    let report = String::from_utf8_lossy(&out.stdout);
    eprintln!("{report}");
    assert!(
        out.status.success(),
        "dumper checks failed:\n{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        report.lines().filter(|l| l.contains(" ok ")).count(),
        pythons.len(),
        "one ok line per interpreter expected"
    );
}
