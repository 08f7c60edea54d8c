//! `heapgraph dump --pid` on running HotSpot JVMs (`testdata/java/AttachTarget.java`), through the JVM's
//! attach protocol spoken by heapgraph: the dumps count what the JVM's own `GC.class_histogram` counts,
//! live only and with its garbage, and the JVM keeps answering; a JVM of another user and one in its own
//! pid and mount namespaces (a container's) are dumped by root; a user who may not is told why.

use crate::util::{heapgraph, heapgraph_command, json_of};
use heapgraph_e2e::java::{java_testdata, read_histogram};
use heapgraph_e2e::service::Service;
use heapgraph_e2e::Scratch;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

const HELD: u64 = 3000;
const DROPPED: u64 = 20_000;
/// The test's classes, as the histogram and heapgraph name them.
const CLASSES: [&str; 3] = [
    "AttachTarget$Held",
    "AttachTarget$Leaf",
    "AttachTarget$Dropped",
];

/// `AttachTarget` compiled into a directory every user can read, outside /tmp (which a test mounts over).
fn classes() -> PathBuf {
    static COMPILED: OnceLock<PathBuf> = OnceLock::new();
    COMPILED.get_or_init(compile).clone()
}

fn compile() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("attach-target-classes-{}", std::process::id()));
    let output = Command::new("javac")
        .arg("-d")
        .arg(&dir)
        .arg(java_testdata().join("AttachTarget.java"))
        .output()
        .expect("run javac (install a JDK: .ci/run does)");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    dir
}

/// `java … AttachTarget HELD DROPPED`, with a young generation large enough that no GC runs on its own.
fn java() -> Command {
    java_with_class_path(&classes())
}

fn java_with_class_path(class_path: &Path) -> Command {
    let mut command = Command::new("java");
    command
        .args(["-XX:+UseSerialGC", "-Xmn64m", "-Xmx256m", "-cp"])
        .arg(class_path)
        .args(["AttachTarget", &HELD.to_string(), &DROPPED.to_string()]);
    command
}

/// `jcmd PID GC.class_histogram [ARGS]`: instances of the test's classes as the JVM counts them.
fn histogram(pid: u32, args: &[&str]) -> HashMap<String, u64> {
    let output = Command::new("jcmd")
        .arg(pid.to_string())
        .arg("GC.class_histogram")
        .args(args)
        .output()
        .expect("run jcmd");
    assert!(output.status.success(), "{output:?}");
    let scratch = Scratch::new(&format!("histogram-{pid}"));
    let file = scratch.0.join("histogram.txt");
    std::fs::write(&file, &output.stdout).unwrap();
    let classes = read_histogram(&file);
    CLASSES
        .iter()
        .map(|c| (c.to_string(), classes.get(*c).map_or(0, |&(n, _)| n)))
        .collect()
}

/// Instances of the test's classes in `dump`, as `heapgraph types` counts them.
fn counted(dump: &Path) -> HashMap<String, u64> {
    let report = json_of(&["types", dump.to_str().unwrap(), "--json", "--top", "0"]);
    let rows = report["rows"].as_array().expect("types --json has rows");
    CLASSES
        .iter()
        .map(|class| {
            let count = rows
                .iter()
                .find(|r| r["type_name"] == *class)
                .map_or(0, |r| r["count"].as_u64().unwrap());
            (class.to_string(), count)
        })
        .collect()
}

fn dump(pid: u32, out: &Path, extra: &[&str]) -> serde_json::Value {
    let pid = pid.to_string();
    let mut args = vec!["dump", "--pid", &pid, "-o", out.to_str().unwrap(), "--json"];
    args.extend_from_slice(extra);
    json_of(&args)
}

fn expect(held: u64, dropped: u64) -> HashMap<String, u64> {
    HashMap::from([
        ("AttachTarget$Held".to_string(), held),
        ("AttachTarget$Leaf".to_string(), held),
        ("AttachTarget$Dropped".to_string(), dropped),
    ])
}

#[test]
fn a_running_jvm_is_dumped_by_pid_and_counts_what_its_histogram_counts() {
    let scratch = Scratch::new("dump-pid-jvm");
    let mut jvm = Service::start(java());

    // First with its garbage (no GC): the histogram of every object, taken right after, agrees.
    let all = scratch.0.join("all.hprof");
    let report = dump(jvm.pid, &all, &["--no-collect"]);
    assert_eq!(report["summary"]["live_only"], false, "{report}");
    assert!(
        report["reached"]
            .as_str()
            .unwrap()
            .contains("started with SIGQUIT"),
        "{report}"
    );
    assert!(
        report["runtime"].as_str().unwrap().contains("VM"),
        "{report}"
    );
    assert!(report["paused_seconds"].as_f64().unwrap() > 0.0, "{report}");
    let jvm_counts = histogram(jvm.pid, &["-all"]);
    assert_eq!(
        jvm_counts,
        expect(HELD, DROPPED),
        "no GC ran before the dump"
    );
    assert_eq!(counted(&all), jvm_counts);

    // Then live objects only, gzipped: the JVM's full GC took the garbage, as its histogram's does.
    let live = scratch.0.join("live.hprof.gz");
    let report = dump(jvm.pid, &live, &[]);
    assert_eq!(report["summary"]["live_only"], true, "{report}");
    assert_eq!(report["summary"]["gzip"], true, "{report}");
    assert!(report["reached"]
        .as_str()
        .unwrap()
        .contains("already running"));
    assert_eq!(&std::fs::read(&live).unwrap()[..2], b"\x1f\x8b", "gzip");
    let jvm_counts = histogram(jvm.pid, &[]);
    assert_eq!(jvm_counts, expect(HELD, 0));
    assert_eq!(counted(&live), jvm_counts);

    // It goes on: it grows, and a third dump sees the growth.
    assert_eq!(jvm.ask("grow 500")["held"], HELD + 500);
    // without -o, the file is named after the pid with the JVM's extension, in the working directory
    let output = heapgraph_command()
        .args(["dump", "--pid", &jvm.pid.to_string(), "--collect"])
        .current_dir(&scratch.0)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let grown = scratch.0.join(format!("heapgraph-{}.hprof", jvm.pid));
    assert_eq!(counted(&grown), expect(HELD + 500, 0));
    assert_eq!(jvm.ask("ping")["pong"], true);
    let jvm_pid = jvm.pid;
    assert!(jvm.finish(Duration::from_secs(10)), "the JVM exits cleanly");

    let mut left: Vec<String> = std::fs::read_dir(&scratch.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".hgi"))
        .collect();
    left.sort();
    assert_eq!(
        left,
        [
            "all.hprof".to_string(),
            format!("heapgraph-{}.hprof", jvm_pid),
            "live.hprof.gz".to_string()
        ],
        "no staging directory is left"
    );
}

#[test]
fn a_jvm_of_another_user_is_dumped_by_root_and_refused_to_others() {
    let scratch = Scratch::new("dump-pid-jvm-users");
    // the classes where nobody may read them, whatever the permissions above the build directory
    let readable = scratch.0.join("classes");
    std::fs::create_dir(&readable).unwrap();
    for class in std::fs::read_dir(classes()).unwrap() {
        let class = class.unwrap().path();
        std::fs::copy(&class, readable.join(class.file_name().unwrap())).unwrap();
    }
    for dir in [&scratch.0, &readable] {
        std::fs::set_permissions(dir, PermissionsExt::from_mode(0o755)).unwrap();
    }
    let mut as_nobody = java_with_class_path(&readable);
    as_nobody.uid(65534).gid(65534).current_dir("/");
    let mut jvm = Service::start(as_nobody);
    let out = scratch.0.join("nobody.hprof");
    let report = dump(jvm.pid, &out, &[]);
    assert_eq!(counted(&out), expect(HELD, 0), "{report}");
    assert_eq!(jvm.ask("ping")["pong"], true);
    assert!(
        !Path::new(&format!("/.attach_pid{}", jvm.pid)).exists(),
        "the trigger file is removed"
    );

    // a JVM of root's, asked by nobody: refused before anything is sent to it
    let mut ours = Service::start(java());
    std::fs::set_permissions(&scratch.0, PermissionsExt::from_mode(0o777)).unwrap();
    let refused = scratch.0.join("refused.hprof");
    let output = heapgraph_command()
        .args(["dump", "--pid", &ours.pid.to_string(), "-o"])
        .arg(&refused)
        .uid(65534)
        .gid(65534)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("belongs to another user (uid 0)")
            && stderr.contains("run heapgraph as that user"),
        "{stderr}"
    );
    assert!(!refused.exists());
    assert!(
        !Path::new(&format!("/tmp/.java_pid{}", ours.pid)).exists(),
        "its attach listener was not started"
    );
    assert_eq!(ours.ask("ping")["pong"], true);
}

/// A JVM in its own pid and mount namespaces, with a /tmp of its own, as in a container: its attach files
/// are named after its pid there and sit in its /tmp, reached through /proc/PID/root.
#[test]
fn a_jvm_in_its_own_namespaces_is_dumped_through_its_root() {
    let scratch = Scratch::new("dump-pid-jvm-namespace");
    // The classes are copied into the JVM's own /tmp from the working directory (which stays reachable when
    // /tmp, where it may be, is mounted over), and it runs there.
    let java = java_with_class_path(Path::new("/tmp/classes"));
    let command_line: Vec<String> = std::iter::once(java.get_program())
        .chain(java.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let mut unshare = Command::new("unshare")
        .args(["--pid", "--fork", "--mount", "--propagation", "private"])
        .args(["--mount-proc", "sh", "-c"])
        .arg(format!(
            "mount -t tmpfs tmpfs /tmp && mkdir /tmp/classes && cp ./*.class /tmp/classes && \
             cd /tmp/classes && exec {}",
            command_line.join(" ")
        ))
        .current_dir(classes())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run unshare (util-linux)");
    let mut lines = BufReader::new(unshare.stdout.take().unwrap()).lines();
    let ready = lines.next().expect("a first line").unwrap();
    assert!(
        ready.contains("\"ready\": 1,"),
        "pid 1 in its namespace: {ready}"
    );
    let pid = descendant_named(unshare.id(), "java").expect("the JVM under unshare");
    assert_ne!(pid, 1);

    let out = scratch.0.join("contained.hprof");
    let report = dump(pid, &out, &[]);
    assert_eq!(counted(&out), expect(HELD, 0), "{report}");
    assert!(
        Path::new(&format!("/proc/{pid}/root/tmp/.java_pid1")).exists(),
        "the JVM's socket is in its own /tmp"
    );
    assert!(
        !Path::new(&format!("/proc/{pid}/cwd/.attach_pid1")).exists(),
        "the trigger file is removed from its working directory"
    );
    let mut left: Vec<_> = std::fs::read_dir(format!("/proc/{pid}/root/tmp"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with("hsperfdata_") && n != ".java_pid1" && n != "classes")
        .collect();
    left.sort();
    assert!(
        left.is_empty(),
        "nothing else is left in its /tmp: {left:?}"
    );
    assert!(
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok(),
        "the JVM keeps running"
    );
    drop(unshare.stdin.take());
    let status = unshare.wait().unwrap();
    assert!(
        status.success(),
        "the JVM exits cleanly at the end of its input"
    );
}

/// The first process named `name` below `pid` (its child, or a child of that).
fn descendant_named(pid: u32, name: &str) -> Option<u32> {
    for _ in 0..200 {
        let children: Vec<(u32, u32, String)> = std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(|e| {
                let p: u32 = e.ok()?.file_name().to_str()?.parse().ok()?;
                let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).ok()?;
                let (comm, rest) = stat.split_once(" (")?.1.rsplit_once(") ")?;
                let ppid = rest.split_whitespace().nth(1)?.parse().ok()?;
                Some((p, ppid, comm.to_string()))
            })
            .collect();
        let mut parents = vec![pid];
        while let Some(parent) = parents.pop() {
            for (child, ppid, comm) in &children {
                if *ppid == parent {
                    if comm == name {
                        return Some(*child);
                    }
                    parents.push(*child);
                }
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

#[test]
fn a_jvm_with_attach_disabled_gets_an_error_saying_so_and_keeps_running() {
    let scratch = Scratch::new("dump-pid-jvm-disabled");
    let mut disabled = Command::new("java");
    disabled
        .arg("-XX:+DisableAttachMechanism")
        .args(java().get_args().collect::<Vec<_>>())
        .current_dir(&scratch.0);
    let mut jvm = Service::start(disabled);
    let out = scratch.0.join("never.hprof");
    let output = heapgraph(&[
        "dump",
        "--pid",
        &jvm.pid.to_string(),
        "-o",
        out.to_str().unwrap(),
        "--timeout",
        "2",
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("did not open its attach socket")
            && stderr.contains("-XX:+DisableAttachMechanism"),
        "{stderr}"
    );
    assert!(!out.exists());
    assert!(
        !scratch.0.join(format!(".attach_pid{}", jvm.pid)).exists(),
        "the trigger file is removed"
    );
    assert!(jvm.is_running(), "SIGQUIT only made it print its threads");
}
