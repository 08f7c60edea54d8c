//! Installing heapgraph the ways its users do, end to end: the wheel with pip into fresh virtual
//! environments of the oldest and the newest CPython on the machine, `cargo install`, and the completion
//! scripts and manual pages the command writes.
//!
//! A test binary of its own, so that its two release builds do not run beside the timing-sensitive tests
//! of the other binary. Both builds use one target directory, `target/install-test/`: `cargo install`
//! reuses the dependencies the wheel's build compiled, and a rerun rebuilds only what changed.

use heapgraph_e2e::{parse_strict, pythons, workspace_root, Python, Scratch};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn target_dir() -> PathBuf {
    workspace_root().join("target/install-test")
}

/// Runs `command`, which must succeed, and returns its stdout.
fn run(command: &mut Command) -> String {
    let out: Output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        out.status.success(),
        "{command:?} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// maturin: the one in `$HEAPGRAPH_TOOLS` (default `/opt/heapgraph-tools`, the virtual environment
/// `.ci/run` makes), else the one on PATH.
fn maturin() -> PathBuf {
    let tools = std::env::var_os("HEAPGRAPH_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/heapgraph-tools"));
    let in_tools = tools.join("bin/maturin");
    if in_tools.is_file() {
        return in_tools;
    }
    let on_path = PathBuf::from("maturin");
    let found = Command::new(&on_path).arg("--version").output();
    assert!(
        found.is_ok_and(|o| o.status.success()),
        "maturin is neither in {} nor on PATH: .ci/run installs it there (or `pip install maturin`)",
        tools.display()
    );
    on_path
}

/// Builds the wheel as `pip install .` would, with the top-level pyproject.toml, into `out`; returns
/// its path. maturin's audit runs in its check mode (pyproject.toml): it fails the build when the
/// binary needs a library or symbol version outside the manylinux policies.
fn build_wheel(out: &Path) -> PathBuf {
    run(Command::new(maturin())
        .current_dir(workspace_root())
        .args(["build", "--release", "--target-dir"])
        .arg(target_dir())
        .arg("--out")
        .arg(out));
    let wheels: Vec<PathBuf> = std::fs::read_dir(out)
        .expect("read the wheel dir")
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(wheels.len(), 1, "one wheel expected: {wheels:?}");
    let name = wheels[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    // One wheel for every CPython 3 (py3-none), and the audit's verdict in the platform tag.
    let prefix = format!("heapgraph-{VERSION}-py3-none-manylinux_");
    assert!(
        name.starts_with(&prefix) && name.ends_with(".whl"),
        "{name}: not a {prefix}* wheel"
    );
    let glibc: Vec<u32> = name[prefix.len()..]
        .split('_')
        .take(2)
        .map(|n| n.parse().expect("manylinux_X_Y"))
        .collect();
    // The audit read the binary's symbol versions: asked for an older policy than the tag it chose, it
    // refuses, naming the symbols (the release build is reused, so this costs a second).
    if glibc[..] > [2, 17][..] {
        let older = Command::new(maturin())
            .current_dir(workspace_root())
            .args(["build", "--release", "--compatibility", "manylinux_2_17"])
            .arg("--target-dir")
            .arg(target_dir())
            .arg("--out")
            .arg(out.join("older"))
            .output()
            .expect("run maturin");
        let said = String::from_utf8_lossy(&older.stderr);
        assert!(
            !older.status.success() && said.contains("too-recent versioned symbols"),
            "{name}: the audit let a manylinux_2_17 wheel through:\n{said}"
        );
    }
    wheels[0].clone()
}

/// The program a Python run prints: its pid, where it imported the dumper from, and the dump's path.
const DUMP_ITSELF: &str = r#"
import os, sys
import heapgraph_dump

class InstallProbe:
    pass

probes = [InstallProbe() for _ in range(1234)]
heapgraph_dump.dump(sys.argv[1])
print(os.getpid())
print(heapgraph_dump.__file__)
"#;

/// In a fresh virtual environment of `python`: pip installs `wheel`; the environment's `heapgraph`
/// prints its version; its Python dumps its own process with `import heapgraph_dump`; and that
/// `heapgraph` reads the dump.
fn check_wheel_in_venv(python: &Python, wheel: &Path) {
    let label = python.label();
    let scratch = python.scratch("install-wheel");
    let staged = scratch.0.join(wheel.file_name().unwrap());
    std::fs::copy(wheel, &staged).expect("copy the wheel where the interpreter sees it");
    let venv = scratch.0.join("venv");
    run(python
        .command()
        .args(["-m", "venv"])
        .arg(python.guest(&venv)));
    let in_venv = |program: &str| python.command_at(&python.guest(&venv.join("bin").join(program)));
    run(in_venv("python")
        .args([
            "-m",
            "pip",
            "install",
            "--no-index",
            "--disable-pip-version-check",
            "-q",
        ])
        .arg(python.guest(&staged)));

    let version = run(in_venv("heapgraph").arg("--version"));
    assert_eq!(version.trim(), format!("heapgraph {VERSION}"), "{label}");
    let help = run(in_venv("python").args(["-m", "heapgraph_dump", "--help"]));
    assert!(help.contains("usage:"), "{label}: {help}");

    let dump = scratch.0.join("itself.hgd");
    let printed = run(in_venv("python")
        .args(["-c", DUMP_ITSELF])
        .arg(python.guest(&dump)));
    let mut lines = printed.lines();
    let pid: u64 = lines.next().and_then(|l| l.parse().ok()).expect("a pid");
    let module = python.host(Path::new(lines.next().expect("the module's file")));
    assert!(
        module.starts_with(&venv),
        "{label}: heapgraph_dump imported from {}, not the environment",
        module.display()
    );
    assert_eq!(
        std::fs::read(&module).unwrap(),
        std::fs::read(heapgraph_e2e::dumper_dir().join("heapgraph_dump.py")).unwrap(),
        "{label}: the installed dumper is not the one the binary embeds"
    );

    let dump_arg = python.guest(&dump);
    let info = run(in_venv("heapgraph")
        .arg("info")
        .arg(&dump_arg)
        .args(["--json", "--no-index"]));
    let info = parse_strict(info.as_bytes()).unwrap();
    assert_eq!(info["pid"].as_u64(), Some(pid), "{label}: {info}");
    let runtime = info["runtime"].as_str().unwrap_or_default();
    assert!(
        runtime.starts_with(&format!("cpython {label}.")),
        "{label}: runtime {runtime:?}"
    );
    let types = run(in_venv("heapgraph").arg("types").arg(&dump_arg).args([
        "--json",
        "--no-index",
        "--top",
        "0",
    ]));
    let types = parse_strict(types.as_bytes()).unwrap();
    let probes: Vec<u64> = types["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .filter(|r| {
            r["type_name"]
                .as_str()
                .unwrap_or_default()
                .ends_with("InstallProbe")
        })
        .filter_map(|r| r["count"].as_u64())
        .collect();
    assert_eq!(probes, [1234], "{label}: InstallProbe rows");
}

#[test]
fn the_wheel_installs_the_command_and_the_dumper_in_the_oldest_and_newest_python() {
    let wheels = Scratch::new("install-wheels");
    let wheel = build_wheel(&wheels.0);
    let pythons = pythons();
    let oldest = pythons.first().expect("a Python");
    let newest = pythons.last().expect("a Python");
    assert!(oldest.version < newest.version, "{pythons:?}");
    for python in [oldest, newest] {
        check_wheel_in_venv(python, &wheel);
    }
}

#[test]
fn cargo_install_puts_a_working_command_in_its_root() {
    let root = Scratch::new("install-cargo-root");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    run(Command::new(cargo)
        .current_dir(workspace_root())
        .env("CARGO_TARGET_DIR", target_dir())
        .args([
            "install",
            "--locked",
            "--path",
            "crates/heapgraph-cli",
            "--root",
        ])
        .arg(&root.0));
    let dump = workspace_root().join("testdata/python/service.hgd");
    let installed = run(Command::new(root.0.join("bin/heapgraph"))
        .arg("top")
        .arg(&dump)
        .args(["--json", "--no-index"]));
    let built_here = run(Command::new(env!("CARGO_BIN_EXE_heapgraph"))
        .arg("top")
        .arg(&dump)
        .args(["--json", "--no-index"]));
    assert_eq!(
        parse_strict(installed.as_bytes()).unwrap(),
        parse_strict(built_here.as_bytes()).unwrap()
    );
    let text = run(Command::new(root.0.join("bin/heapgraph"))
        .arg("top")
        .arg(&dump)
        .arg("--no-index"));
    assert!(text.lines().count() > 20, "{text}");
}

/// Runs the heapgraph this package builds with `args`; it must succeed. Returns its stdout.
fn heapgraph(args: &[&str]) -> String {
    run(Command::new(env!("CARGO_BIN_EXE_heapgraph")).args(args))
}

/// The subcommands `heapgraph --help` lists, but `help`.
fn subcommands() -> Vec<String> {
    let help = heapgraph(&["--help"]);
    let listed = help
        .split("Commands:\n")
        .nth(1)
        .expect("a Commands section");
    let names: Vec<String> = listed
        .lines()
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.strip_prefix("  "))
        .filter(|l| !l.starts_with(' '))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect();
    assert!(names.len() > 10, "{help}");
    names
}

/// What `shell` completes for `line` with the script `heapgraph completions SHELL` wrote into `dir`.
fn complete(dir: &Path, shell: &str, line: &str) -> Vec<String> {
    let script = dir.join(format!("heapgraph.{shell}"));
    std::fs::write(&script, heapgraph(&["completions", shell])).unwrap();
    let program = match shell {
        // The function clap's script registers, called as bash calls it on <Tab> (after a space, the word
        // being completed is empty).
        "bash" => format!(
            "source {}; COMP_WORDS=({line}{}); COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 )); \
             _heapgraph heapgraph \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; \
             printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display(),
            if line.ends_with(' ') { "''" } else { "" }
        ),
        // fish lists the completions of a command line itself, one per line with a tab before the
        // description.
        "fish" => format!("source {}; complete -C '{line}'", script.display()),
        _ => unreachable!("{shell}"),
    };
    let out = run(Command::new(shell).arg("-c").arg(program));
    out.lines()
        .map(|l| l.split('\t').next().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn bash_and_fish_complete_subcommands_and_options_from_the_script() {
    let dir = Scratch::new("install-completions");
    for shell in ["bash", "fish"] {
        assert_eq!(complete(&dir.0, shell, "heapgraph to"), ["top"], "{shell}");
        assert_eq!(
            complete(&dir.0, shell, "heapgraph top --no-"),
            ["--no-index"],
            "{shell}"
        );
        let all = complete(&dir.0, shell, "heapgraph ");
        for name in subcommands() {
            assert!(
                all.contains(&name),
                "{shell} does not complete {name}: {all:?}"
            );
        }
    }
}

#[test]
fn zsh_reads_its_completion_script() {
    let dir = Scratch::new("install-zsh");
    let script = dir.0.join("_heapgraph");
    let text = heapgraph(&["completions", "zsh"]);
    assert!(text.starts_with("#compdef heapgraph\n"), "{text}");
    std::fs::write(&script, text).unwrap();
    // -n: parse without running, so a syntax error fails here.
    run(Command::new("zsh").arg("-n").arg(&script));
}

#[test]
fn man_writes_a_page_for_the_command_and_each_subcommand() {
    let dir = Scratch::new("install-man");
    heapgraph(&["man", "-o", &dir.0.display().to_string()]);
    let main = std::fs::read_to_string(dir.0.join("heapgraph.1")).expect("heapgraph.1");
    assert!(main.contains(".TH heapgraph 1"), "{main}");
    let names = subcommands();
    for name in &names {
        let page = std::fs::read_to_string(dir.0.join(format!("heapgraph-{name}.1")))
            .unwrap_or_else(|e| panic!("heapgraph-{name}.1: {e}"));
        assert!(page.contains(&format!(".TH heapgraph-{name} 1")), "{page}");
        assert!(
            main.contains(&format!("heapgraph\\-{name}(1)")),
            "heapgraph.1 does not list {name}"
        );
    }
    let pages = std::fs::read_dir(&dir.0).unwrap().count();
    assert_eq!(pages, names.len() + 1);
    let top = std::fs::read_to_string(dir.0.join("heapgraph-top.1")).unwrap();
    assert!(top.contains("\\-\\-no\\-index"), "{top}");

    let missing = heapgraph_command_fails(&["man", "-o", "/nonexistent/man"]);
    assert!(
        missing.contains("/nonexistent/man: not a directory"),
        "{missing}"
    );
}

/// Runs the heapgraph this package builds with `args`; it must fail. Returns its stderr.
fn heapgraph_command_fails(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_heapgraph"))
        .args(args)
        .output()
        .expect("run heapgraph");
    assert!(!out.status.success(), "{args:?} succeeded");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn every_published_crate_packages_with_the_metadata_a_registry_needs() {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let metadata = run(Command::new(&cargo).current_dir(workspace_root()).args([
        "metadata",
        "--format-version",
        "1",
        "--no-deps",
    ]));
    let metadata = parse_strict(metadata.as_bytes()).unwrap();
    let published: Vec<&serde_json::Value> = metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .filter(|p| p["publish"] != serde_json::json!([]))
        .collect();
    assert!(published.len() >= 7, "{published:?}");
    for package in &published {
        let name = package["name"].as_str().unwrap();
        for field in ["description", "license", "readme"] {
            let value = package[field].as_str().unwrap_or_default();
            assert!(!value.is_empty(), "{name}: no {field}");
        }
        for field in ["keywords", "categories"] {
            let values = package[field].as_array().map_or(0, Vec::len);
            assert!((1..=5).contains(&values), "{name}: {values} {field}");
        }
    }
    // What a registry upload checks before building: a version on every path dependency, and the readme
    // copied into each package.
    run(Command::new(&cargo)
        .current_dir(workspace_root())
        .env("CARGO_TARGET_DIR", target_dir())
        .args(["package", "--workspace", "--exclude", "heapgraph-e2e"])
        .args(["--no-verify", "--allow-dirty", "--quiet"]));
    // The dumper the formats crate embeds lies inside that crate, so its package carries it.
    let files = run(Command::new(&cargo).current_dir(workspace_root()).args([
        "package",
        "--list",
        "--allow-dirty",
        "-p",
        "heapgraph-formats",
    ]));
    assert!(
        files.lines().any(|f| f == "python/heapgraph_dump.py"),
        "{files}"
    );
}
