//! Allocation sites from Python programs that trace with tracemalloc, taken the ways users take dumps:
//! `heapgraph run --tracemalloc 25`, and `dump --pid` of a program started with `-X tracemalloc=25`
//! (forked and in place), under every CPython 3.8+ here. Each `CacheEntry` the service made must be
//! placed at the line of its source that makes them.

use crate::util::{dumps_in, heapgraph, json_of, ok};
use heapgraph_e2e::service::Service;
use heapgraph_e2e::{python_testdata, pythons, Python, Scratch};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const SERVICE: &str = "service_growing.py";

/// The line of the service's source that makes every CacheEntry.
fn entry_line() -> u32 {
    let source = std::fs::read_to_string(python_testdata().join(SERVICE)).expect("service source");
    let index = source
        .lines()
        .position(|l| l.contains("= CacheEntry(key)"))
        .expect("the line that makes CacheEntry objects");
    index as u32 + 1
}

/// Checks that `dump` records tracemalloc at 25 frames and places each of its `entries` CacheEntry
/// objects at [`entry_line`] of the service, called from the service's own code.
fn assert_entries_placed(dump: &Path, entries: usize, what: &str) {
    let loaded = heapgraph_formats::load(dump, &heapgraph_formats::NoProgress)
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let g = &loaded.graph;
    assert_eq!(loaded.meta["tracemalloc_frames"], 25, "{what}");
    let sites = g.allocation_sites();
    let ty = g.find_types("CacheEntry");
    assert_eq!(ty.len(), 1, "{what}");
    let line = entry_line();
    let mut placed = 0;
    for node in (0..g.node_count() as u32).filter(|&n| g.type_of(n) == ty[0]) {
        let trace = sites
            .trace_of(node)
            .unwrap_or_else(|| panic!("{what}: a CacheEntry has no allocation site"));
        let frames: Vec<_> = sites
            .frames(trace)
            .iter()
            .map(|&f| sites.frame(f))
            .collect();
        assert!(frames[0].file.ends_with(SERVICE), "{what}: {frames:?}");
        assert_eq!(frames[0].line, line, "{what}: {frames:?}");
        assert!(frames.len() >= 3, "{what}: its callers too: {frames:?}");
        placed += 1;
    }
    assert_eq!(placed, entries, "{what}");
}

fn only_dump_in(dir: &Path) -> PathBuf {
    let dumps = dumps_in(dir);
    assert_eq!(dumps.len(), 1, "{dumps:?}");
    dumps.into_iter().next().unwrap()
}

#[test]
fn run_with_tracemalloc_records_allocation_sites() {
    for python in pythons() {
        let v = python.label();
        let scratch = python.scratch("run-sites");
        let dir = scratch.0.join(&v);
        let mut command = python.command_of(Path::new(env!("CARGO_BIN_EXE_heapgraph")));
        command
            .args(["run", "--tracemalloc", "25", "--at-exit", "-o"])
            .arg(python.guest(&dir))
            .arg("--")
            .arg(python.guest(&python.path))
            .arg(python.testdata().join(SERVICE));
        let mut service = Service::start(command);
        assert_eq!(service.ask("grow 700")["cache"], 700);
        assert!(
            service.finish(Duration::from_secs(120)),
            "Python {v}: exits cleanly"
        );
        assert_entries_placed(&only_dump_in(&dir), 700, &format!("run, Python {v}"));
    }
}

/// The interpreter of the virtual environment with SQLAlchemy 1.3 that .ci/run makes.
fn sqlalchemy_python() -> PathBuf {
    let venv = std::env::var_os("HEAPGRAPH_SQLALCHEMY")
        .map_or_else(|| PathBuf::from("/opt/heapgraph-sqlalchemy"), PathBuf::from);
    let python = venv.join("bin/python");
    assert!(
        python.exists(),
        "no SQLAlchemy 1.3 environment at {} (HEAPGRAPH_SQLALCHEMY): make it as .ci/run does",
        venv.display()
    );
    python
}

/// The issue's own case, on real SQLAlchemy: a traced service caches a query whose IN clause made
/// 100,000 bind parameters. `sites` ranks SQLAlchemy's line that made them first, with all of them and
/// the program's line that built the query; that line is the one tracemalloc itself gives; and
/// `retainers BindParameter` names both.
#[test]
fn a_cached_sqlalchemy_in_clause_is_placed_at_its_line_and_the_programs() {
    let scratch = Scratch::new("sites-sqlalchemy");
    let program = python_testdata().join("sqlalchemy_cache.py");
    let out = heapgraph(&[
        "run",
        "--tracemalloc",
        "25",
        "--at-exit",
        "-o",
        scratch.0.to_str().unwrap(),
        "--",
        sqlalchemy_python().to_str().unwrap(),
        program.to_str().unwrap(),
        "100000",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let facts = heapgraph_e2e::parse_strict(&out.stdout).unwrap();
    assert!(
        facts["sqlalchemy"].as_str().unwrap().starts_with("1.3."),
        "{facts}"
    );
    let dump = only_dump_in(&scratch.0).display().to_string();
    let (site, count) = (&facts["site"], &facts["count"]);
    let (file, line) = (site[0].as_str().unwrap(), &site[1]);
    assert!(
        file.ends_with("/site-packages/sqlalchemy/sql/elements.py"),
        "{facts}"
    );

    let sites = json_of(&["sites", &dump, "--json", "--top", "3"]);
    let first = &sites["rows"][0];
    assert_eq!(
        (
            &first["frame"]["file"].as_str().unwrap(),
            &first["frame"]["line"]
        ),
        (&file, line),
        "{sites}"
    );
    assert_eq!(&first["objects"], count, "{sites}");
    let user = &first["user_frame"];
    assert_eq!(
        (&user["file"], &user["line"]),
        (&facts["program"], &facts["query"])
    );
    assert_eq!(&user["objects"], count, "{sites}");
    assert_eq!(sites["rows"][1]["holds"]["rank"], 0, "{sites}");

    let retainers = ok(&["retainers", &dump, "BindParameter"]);
    let expected = format!(
        "100,000 × sqlalchemy/sql/elements.py:{line}, user code: {}:{}",
        facts["program"].as_str().unwrap(),
        facts["query"]
    );
    assert_eq!(count, 100_000);
    assert!(retainers.contains(&expected), "{expected}: {retainers}");
}

#[test]
fn run_refuses_a_frame_count_tracemalloc_refuses() {
    for bad in ["0", "70000", "many"] {
        let output = heapgraph(&[
            "run",
            "--tracemalloc",
            bad,
            "--at-exit",
            "-o",
            "/tmp",
            "--",
            "true",
        ]);
        assert!(!output.status.success(), "--tracemalloc {bad} accepted");
        let text = String::from_utf8_lossy(&output.stderr);
        assert!(text.contains("--tracemalloc"), "{text}");
    }
}

/// The interpreters that run here as they are (`dump --pid` tests do not translate chroot paths).
fn local_pythons() -> Vec<Python> {
    let local: Vec<Python> = pythons().into_iter().filter(|p| p.root.is_none()).collect();
    assert!(local.len() >= 2, "pyenv's CPythons are missing");
    local
}

#[test]
fn dump_pid_picks_up_tracemalloc_forked_and_in_place() {
    for python in local_pythons() {
        let v = python.label();
        let mut command = Command::new(&python.path);
        command
            .args(["-X", "tracemalloc=25"])
            .arg(python_testdata().join(SERVICE))
            .stderr(Stdio::null());
        let mut service = Service::start(command);
        assert_eq!(service.ask("grow 600")["cache"], 600);
        let scratch = Scratch::new(&format!("pid-sites-{v}"));
        for (way, extra) in [("fork", None), ("in place", Some("--no-fork"))] {
            let out = scratch.0.join(format!("{}.hgd", way.replace(' ', "-")));
            let pid = service.pid.to_string();
            let mut args = vec!["dump", "--pid", &pid, "-o", out.to_str().unwrap(), "--json"];
            args.extend(extra);
            let output = heapgraph(&args);
            assert!(
                output.status.success(),
                "Python {v}, {way}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            assert_entries_placed(&out, 600, &format!("dump --pid {way}, Python {v}"));
            assert_eq!(
                service.ask("ping")["pong"],
                true,
                "Python {v}: answers after {way}"
            );
        }
        assert_eq!(service.ask("grow 10")["cache"], 610);
    }
}
