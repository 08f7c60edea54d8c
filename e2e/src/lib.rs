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
        .expect("e2e/ sits in the workspace root")
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

/// The Debian unstable chroot carrying CPython 3.14 and 3.15 (`testdata/python/make_sid_chroot.sh`, which
/// `.ci/run` runs): `$HEAPGRAPH_SID_CHROOT`, else `/opt/heapgraph-sid`.
pub fn sid_chroot() -> PathBuf {
    std::env::var_os("HEAPGRAPH_SID_CHROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/heapgraph-sid"))
}

/// The minor versions of CPython 3 that the chroot carries.
pub const CHROOT_MINORS: [u32; 2] = [14, 15];

/// One Python interpreter: its `major.minor`, path, and the chroot it runs in, if any.
///
/// An interpreter in a chroot sees only the files under its root, by other paths: build its commands
/// with [`Python::command`] and pass files through [`Python::guest`] (or make them where it can see them:
/// [`Python::scratch`], [`Python::dumper_dir`], [`Python::testdata`]).
#[derive(Clone, Debug)]
pub struct Python {
    pub version: (u32, u32),
    /// The interpreter's file on this machine (under `root` for a chroot's).
    pub path: PathBuf,
    /// The chroot it runs in (`chroot ROOT /usr/bin/python3.14 ...`); None: it runs here.
    pub root: Option<PathBuf>,
}

impl Python {
    pub fn label(&self) -> String {
        format!("{}.{}", self.version.0, self.version.1)
    }

    /// A command running this interpreter; arguments naming files must be [`Python::guest`] paths.
    pub fn command(&self) -> Command {
        self.command_at(&self.guest(&self.path))
    }

    /// A command running `program`, a [`Python::guest`] path: a file where this interpreter runs (such
    /// as a program in a virtual environment it made).
    pub fn command_at(&self, program: &Path) -> Command {
        match &self.root {
            None => Command::new(program),
            Some(root) => {
                let mut command = Command::new("chroot");
                command.arg(root).arg(program);
                command
            }
        }
    }

    /// A command running `program`, a file of this machine (such as the heapgraph binary), where this
    /// interpreter runs: as it is, or copied into the chroot and run there.
    pub fn command_of(&self, program: &Path) -> Command {
        match &self.root {
            None => Command::new(program),
            Some(root) => {
                let copy = stage(root)
                    .join("bin")
                    .join(program.file_name().expect("a file"));
                let command = self.command_at(&self.guest(&copy));
                let _guard = STAGING.lock().unwrap_or_else(|e| e.into_inner());
                if !copy.exists() {
                    std::fs::create_dir_all(copy.parent().unwrap())
                        .expect("make the chroot's bin dir");
                    std::fs::copy(program, &copy).expect("copy a program into the chroot");
                }
                command
            }
        }
    }

    /// The path by which this interpreter sees `host`, a path of this machine (under the root for a
    /// chroot's interpreter: panics otherwise, since the file would be invisible to it).
    pub fn guest(&self, host: &Path) -> PathBuf {
        match &self.root {
            None => host.to_path_buf(),
            Some(root) => {
                let inside = host.strip_prefix(root).unwrap_or_else(|_| {
                    panic!(
                        "{} is outside the chroot {} of Python {}",
                        host.display(),
                        root.display(),
                        self.label()
                    )
                });
                Path::new("/").join(inside)
            }
        }
    }

    /// The path on this machine of `guest`, a path this interpreter printed.
    pub fn host(&self, guest: &Path) -> PathBuf {
        match &self.root {
            None => guest.to_path_buf(),
            Some(root) => root.join(guest.strip_prefix("/").unwrap_or(guest)),
        }
    }

    /// A scratch directory this interpreter can write to and this machine can read (under the root's
    /// `/tmp` for a chroot's interpreter); its path here is `.0`, [`Python::guest`] gives its path there.
    pub fn scratch(&self, name: &str) -> Scratch {
        match &self.root {
            None => Scratch::new(name),
            Some(root) => Scratch::in_dir(&root.join("tmp"), &format!("{name}-{}", self.label())),
        }
    }

    /// Directory holding `heapgraph_dump.py`, as this interpreter sees it.
    pub fn dumper_dir(&self) -> PathBuf {
        match &self.root {
            None => dumper_dir(),
            Some(root) => self.guest(&stage(root).join(DUMPER_DIR)),
        }
    }

    /// `testdata/python`, as this interpreter sees it (in a chroot: a copy of its programs, without the
    /// committed dumps).
    pub fn testdata(&self) -> PathBuf {
        match &self.root {
            None => python_testdata(),
            Some(root) => self.guest(&stage(root).join(PYTHON_TESTDATA)),
        }
    }
}

const DUMPER_DIR: &str = "crates/heapgraph-formats/python";
const PYTHON_TESTDATA: &str = "testdata/python";
static STAGING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// This test process's copy, under the chroot's `/tmp`, of the dumper and the Python test programs, in
/// the workspace's layout (the programs find the dumper by relative path). Copied once per process;
/// copies left by processes that have ended are removed then.
fn stage(root: &Path) -> PathBuf {
    let _guard = STAGING.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = root.join("tmp");
    let dir = tmp.join(format!("heapgraph-src-{}", std::process::id()));
    if dir.join(DUMPER_DIR).join("heapgraph_dump.py").exists() {
        return dir;
    }
    if let Ok(entries) = std::fs::read_dir(&tmp) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(pid) = name.strip_prefix("heapgraph-src-") {
                if !Path::new("/proc").join(pid).exists() {
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        }
    }
    for (from, to) in [
        (dumper_dir(), DUMPER_DIR),
        (python_testdata(), PYTHON_TESTDATA),
    ] {
        let to = dir.join(to);
        std::fs::create_dir_all(&to).expect("make the chroot's copy of the sources");
        for entry in std::fs::read_dir(&from)
            .expect("read a source dir")
            .flatten()
        {
            let path = entry.path();
            if path.is_file() && path.extension().is_some_and(|e| e == "py" || e == "sh") {
                std::fs::copy(&path, to.join(entry.file_name())).expect("copy into the chroot");
            }
        }
    }
    dir
}

/// Every CPython 3.8+ on the machine, one per minor version: pyenv's, then `python3` on PATH, then the
/// chroot's 3.14 and 3.15 ([`sid_chroot`]).
///
/// Panics when there is none, or when the chroot's are missing: the Python tests must not pass by
/// testing nothing, nor by leaving out the versions only the chroot has.
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
        let python = Python {
            version: (0, 0),
            path,
            root: None,
        };
        let Some(version) = python_version(&python) else {
            continue;
        };
        if version >= (3, 8) && !found.iter().any(|p| p.version == version) {
            found.push(Python { version, ..python });
        }
    }
    assert!(
        !found.is_empty(),
        "no CPython 3.8+ found (pyenv or python3 on PATH); the Python tests need one"
    );
    let root = sid_chroot();
    for minor in CHROOT_MINORS {
        let python = Python {
            version: (3, minor),
            path: root.join(format!("usr/bin/python3.{minor}")),
            root: Some(root.clone()),
        };
        let version = python_version(&python);
        assert_eq!(
            version,
            Some((3, minor)),
            "CPython 3.{minor} does not run in the chroot {} (make it with `bash \
             testdata/python/make_sid_chroot.sh`, which .ci/run does)",
            root.display()
        );
        found.retain(|p| p.version != (3, minor));
        found.push(python);
    }
    found.sort_by_key(|p| p.version);
    found
}

fn python_version(python: &Python) -> Option<(u32, u32)> {
    let out = python
        .command()
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
        Scratch::in_dir(&std::env::temp_dir(), name)
    }

    /// A scratch directory under `parent`.
    pub fn in_dir(parent: &Path, name: &str) -> Scratch {
        let dir = parent.join(format!("heapgraph-{name}-{}", std::process::id()));
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
/// fixture measured in the same process before dumping. `out` may be anywhere: a chroot's interpreter
/// writes into its own scratch directory and the dump is moved to `out`.
pub fn run_fixture(python: &Python, fixture: &str, out: &Path) -> serde_json::Value {
    run_fixture_with(python, fixture, out, &[]).0
}

/// [`run_fixture`] with environment variables set for the interpreter; also returns what it wrote on
/// stderr.
pub fn run_fixture_with(
    python: &Python,
    fixture: &str,
    out: &Path,
    env: &[(&str, &str)],
) -> (serde_json::Value, String) {
    // where the interpreter can write: `out` itself, or a scratch directory of its chroot
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let visible = match &python.root {
        None => true,
        Some(root) => out.starts_with(root),
    };
    let scratch = (!visible).then(|| {
        let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        python.scratch(&format!("fixture-{run}"))
    });
    let written = scratch
        .as_ref()
        .map_or_else(|| out.to_path_buf(), |s| s.0.join("dump.hgd"));
    let mut command = python.command();
    command
        .arg(python.testdata().join(fixture))
        .arg(python.dumper_dir())
        .arg(python.guest(&written))
        .envs(env.iter().copied());
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("running {} failed: {e}", python.path.display()));
    assert!(
        output.status.success(),
        "{fixture} under Python {} failed:\n{}",
        python.label(),
        String::from_utf8_lossy(&output.stderr)
    );
    if written != out && std::fs::rename(&written, out).is_err() {
        std::fs::copy(&written, out).expect("copy the dump out of the chroot");
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .unwrap_or_else(|| panic!("{fixture} printed no JSON facts:\n{stdout}"));
    let facts = serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("{fixture} printed bad JSON ({e}): {line}"));
    (facts, String::from_utf8_lossy(&output.stderr).into_owned())
}

/// V8 fixtures: snapshots written by `testdata/v8/make_fixture.js` under the `node` on the machine.
pub mod v8 {
    use std::ffi::OsStr;
    use std::path::{Path, PathBuf};
    use std::process::Command;

    pub fn v8_testdata() -> PathBuf {
        crate::workspace_root().join("testdata/v8")
    }

    /// Runs the fixture with `leaky` Leaky objects: `dir/first.heapsnapshot`, then, after `leaky / 2`
    /// more, `dir/later.heapsnapshot`. Returns the JSON facts the script printed.
    pub fn make_snapshots(dir: &Path, leaky: u32) -> serde_json::Value {
        let (first, later) = (
            dir.join("first.heapsnapshot"),
            dir.join("later.heapsnapshot"),
        );
        run_node(
            &[],
            "make_fixture.js",
            &[&first, &leaky.to_string(), &later],
        )
    }

    /// [`make_snapshots`] under `node --track-heap-objects`: both snapshots carry V8's allocation
    /// stacks.
    pub fn make_tracked_snapshots(dir: &Path, leaky: u32) -> serde_json::Value {
        let (first, later) = (
            dir.join("first.heapsnapshot"),
            dir.join("later.heapsnapshot"),
        );
        let args = [&first as &dyn AsRef<OsStr>, &leaky.to_string(), &later];
        run_node(&["--track-heap-objects"], "make_fixture.js", &args)
    }

    /// `testdata/v8/make_tracked_snapshot.js` under `node --track-heap-objects`: `out`, a snapshot of
    /// `sessions` leaked sessions with their allocation stacks. Returns the JSON facts it printed.
    pub fn make_tracked_snapshot(out: &Path, sessions: u32) -> serde_json::Value {
        let args = [&out as &dyn AsRef<OsStr>, &sessions.to_string()];
        run_node(&["--track-heap-objects"], "make_tracked_snapshot.js", &args)
    }

    /// Runs `testdata/v8/<script>` under `node` with `flags`, which must succeed and print JSON facts.
    fn run_node(flags: &[&str], script: &str, args: &[&dyn AsRef<OsStr>]) -> serde_json::Value {
        let output = Command::new("node")
            .args(flags)
            .arg(v8_testdata().join(script))
            .args(args.iter().map(|a| a.as_ref()))
            .output()
            .expect("run node (install Node.js: .ci/run does)");
        assert!(
            output.status.success(),
            "{script} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("{script} prints JSON facts: {e}"))
    }
}
