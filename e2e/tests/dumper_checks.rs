//! The dumper's own checks (`testdata/python/run_dumper_checks.py`) on every CPython 3.8+ found: hostile
//! objects whose hooks must never run, other threads mutating the heap mid-dump, a full disk, the command
//! line, and every dump validated by the independent pure-Python reader `hgd_check.py`.

use heapgraph_e2e::{pythons, Python};
use std::process::Command;

/// Runs the checks under `runner` (the script's own interpreter) for `checked`; returns the report.
fn run_checks(runner: &Python, checked: &[&Python]) -> String {
    let mut command: Command = runner.command();
    command.arg(runner.testdata().join("run_dumper_checks.py"));
    for python in checked {
        command.arg("--python").arg(runner.guest(&python.path));
    }
    let out = command.output().expect("run run_dumper_checks.py");
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    eprintln!("{report}");
    assert!(
        out.status.success(),
        "dumper checks failed:\n{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    report
}

#[test]
fn dumper_checks_pass_on_every_python() {
    let pythons = pythons();
    // The interpreters of this machine in one run; each chroot's in a run inside that chroot, where
    // the script, the dumper and the temporary files are visible to them.
    let host: Vec<&Python> = pythons.iter().filter(|p| p.root.is_none()).collect();
    let mut report = run_checks(host[0], &host);
    for python in pythons.iter().filter(|p| p.root.is_some()) {
        report += &run_checks(python, &[python]);
    }
    assert_eq!(
        report.lines().filter(|l| l.contains(" ok ")).count(),
        pythons.len(),
        "one ok line per interpreter expected"
    );
}
