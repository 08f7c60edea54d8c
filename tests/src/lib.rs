//! Shared helpers for heapgraph's end-to-end tests: finding the Python interpreters on the machine and
//! running the fixture programs in `testdata/python/` to make real dumps.

pub mod java;
mod json;
pub mod service;

pub use json::parse_strict;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace root")
        .to_path_buf()
}

/// Directory holding the fixture programs and small committed dumps.
pub fn python_testdata() -> PathBuf {
    workspace_root().join("testdata/python")
}

/// Directory holding `heapgraph_dump.py`.
pub fn dumper_dir() -> PathBuf {
    workspace_root().join("crates/heapgraph-formats/python")
}

/// One Python interpreter: its `major.minor` and path.
#[derive(Clone, Debug)]
pub struct Python {
    pub version: (u32, u32),
    pub path: PathBuf,
}

impl Python {
    pub fn label(&self) -> String {
        format!("{}.{}", self.version.0, self.version.1)
    }
}

/// Every CPython 3.8+ on the machine (pyenv's, then `python3` on PATH), one per minor version.
///
/// Panics when there is none: the Python tests must not pass by testing nothing.
pub fn pythons() -> Vec<Python> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    let pyenv_root = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".pyenv")));
    if let Some(root) = pyenv_root {
        if let Ok(entries) = std::fs::read_dir(root.join("versions")) {
            let mut dirs: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
            dirs.sort();
            candidates.extend(dirs.into_iter().map(|d| d.join("bin/python3")));
        }
    }
    candidates.push(PathBuf::from("python3"));
    let mut found: Vec<Python> = Vec::new();
    for path in candidates {
        let Some(version) = python_version(&path) else {
            continue;
        };
        if version >= (3, 8) && !found.iter().any(|p| p.version == version) {
            found.push(Python { version, path });
        }
    }
    assert!(
        !found.is_empty(),
        "no CPython 3.8+ found (pyenv or python3 on PATH); the Python tests need one"
    );
    found.sort_by_key(|p| p.version);
    found
}

fn python_version(path: &Path) -> Option<(u32, u32)> {
    let out = Command::new(path)
        .args([
            "-c",
            "import sys; print(sys.implementation.name, *sys.version_info[:2])",
        ])
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let mut parts = text.split_whitespace();
    if parts.next()? != "cpython" {
        return None;
    }
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// A scratch directory for one test, removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("heapgraph-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create scratch dir");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `testdata/python/<fixture>` under `python`, writing the dump to `out`; returns the JSON facts the
/// fixture measured in the same process before dumping.
pub fn run_fixture(python: &Python, fixture: &str, out: &Path) -> serde_json::Value {
    let script = python_testdata().join(fixture);
    let output = Command::new(&python.path)
        .arg(&script)
        .arg(dumper_dir())
        .arg(out)
        .output()
        .unwrap_or_else(|e| panic!("running {} failed: {e}", python.path.display()));
    assert!(
        output.status.success(),
        "{fixture} under Python {} failed:\n{}",
        python.label(),
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .unwrap_or_else(|| panic!("{fixture} printed no JSON facts:\n{stdout}"));
    serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("{fixture} printed bad JSON ({e}): {line}"))
}

/// V8 fixtures: snapshots written by `testdata/v8/make_fixture.js` under the `node` on the machine.
pub mod v8 {
    use std::path::{Path, PathBuf};
    use std::process::Command;

    pub fn v8_testdata() -> PathBuf {
        crate::workspace_root().join("testdata/v8")
    }

    /// Runs the fixture with `leaky` Leaky objects: `dir/first.heapsnapshot`, then, after `leaky / 2`
    /// more, `dir/later.heapsnapshot`. Returns the JSON facts the script printed.
    pub fn make_snapshots(dir: &Path, leaky: u32) -> serde_json::Value {
        let output = Command::new("node")
            .arg(v8_testdata().join("make_fixture.js"))
            .arg(dir.join("first.heapsnapshot"))
            .arg(leaky.to_string())
            .arg(dir.join("later.heapsnapshot"))
            .output()
            .expect("run node (install Node.js: .ci/run does)");
        assert!(
            output.status.success(),
            "make_fixture.js failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("make_fixture.js prints JSON facts")
    }
}
