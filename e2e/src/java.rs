//! Java fixtures: the committed HPROF dump of `testdata/java/HeapFixture.java`, fresh dumps of it made on
//! demand with the JDK on the machine, and the JVM's own class histogram to check them against.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Directory holding the Java fixture, its script and the committed dump.
pub fn java_testdata() -> PathBuf {
    crate::workspace_root().join("testdata/java")
}

/// Whether `javac`, `java` and `jcmd` all run here.
pub fn jdk_available() -> bool {
    [("javac", "-version"), ("java", "-version"), ("jcmd", "-h")]
        .iter()
        .all(|(tool, arg)| {
            Command::new(tool)
                .arg(arg)
                .output()
                .is_ok_and(|o| o.status.success())
        })
}

/// Compiles `testdata/java/<source>` into the directory `classes`, against the classes already there.
pub fn compile_java(source: &str, classes: &Path) {
    let javac = Command::new("javac")
        .arg("-d")
        .arg(classes)
        .arg("-cp")
        .arg(classes)
        .arg(java_testdata().join(source))
        .output()
        .expect("run javac (install a JDK: .ci/run does)");
    assert!(
        javac.status.success(),
        "javac {source}: {}",
        String::from_utf8_lossy(&javac.stderr)
    );
}

/// Runs `make_dump.sh` into `dir`: `dir/fixture.hprof` and the histogram taken right after it (the script
/// also leaves a `-gz=1` dump of the same heap in `dir/fixture.hprof.gz`).
pub fn make_java_dump(dir: &Path) -> (PathBuf, PathBuf) {
    let output = Command::new("sh")
        .arg(java_testdata().join("make_dump.sh"))
        .arg(dir)
        .output()
        .expect("running make_dump.sh");
    assert!(
        output.status.success(),
        "make_dump.sh failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    (dir.join("fixture.hprof"), dir.join("histogram.txt"))
}

/// One class in `jcmd GC.class_histogram`: instances and bytes, by the class's Java name.
pub fn read_histogram(path: &Path) -> HashMap<String, (u64, u64)> {
    let text = std::fs::read_to_string(path).expect("reading the histogram");
    let mut classes = HashMap::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() < 4 || !fields[0].ends_with(':') {
            continue;
        }
        let (Ok(count), Ok(bytes)) = (fields[1].parse(), fields[2].parse()) else {
            continue;
        };
        classes.insert(histogram_name(fields[3]), (count, bytes));
    }
    classes
}

/// The histogram's `[Ljava.lang.Object;` is `java.lang.Object[]` in heapgraph, `[I` is `int[]`; hidden
/// classes print as `Foo$$Lambda$1/0x...` there and `Foo$$Lambda$1+0x...` in the dump.
fn histogram_name(name: &str) -> String {
    let dims = name.bytes().take_while(|&b| b == b'[').count();
    let element = &name[dims..];
    let base = if dims == 0 {
        element.to_string()
    } else if let Some(class) = element.strip_prefix('L').and_then(|e| e.strip_suffix(';')) {
        class.to_string()
    } else {
        match element {
            "Z" => "boolean",
            "C" => "char",
            "F" => "float",
            "D" => "double",
            "B" => "byte",
            "S" => "short",
            "I" => "int",
            "J" => "long",
            other => other,
        }
        .to_string()
    };
    format!("{}{}", base.replace("/0x", "+0x"), "[]".repeat(dims))
}
