//! Which frames of an allocation stack are the program's own code, and which belong to the runtime or a
//! library it installed.
//!
//! The allocating frame is often a library's (SQLAlchemy's constructor, `Array.prototype.push`,
//! `java.util.HashMap.resize`); what a person wants next is the first line of their own code on the
//! stack. A frame is someone else's code when its file or function says so:
//!
//! - Python: a file under an installed-packages directory (`site-packages`, `dist-packages`), under the
//!   standard library (`.../lib/pythonX.Y/`), or frozen into the interpreter (`<frozen importlib...>`);
//! - Node.js: Node's own modules (`node:internal/...`, `node:fs`), installed packages (`node_modules`),
//!   and V8's built-ins, which have no script;
//! - Java: the platform's packages (`java.`, `javax.`, `jdk.`, `sun.`, `com.sun.`, and Android's
//!   `android.`, `dalvik.`, `libcore.`, `com.android.`), by function or by file.
//!
//! A frame without a file (a native function, an unknown script) is not the user's either, nor one in
//! heapgraph's own Python dumper (`heapgraph_dump.py`), which the program imports to dump itself, nor
//! Python code without a source file, named in angle brackets: frozen modules, tracemalloc's
//! `<unknown>`, code that a library generates and runs with `exec` (`<string>`, `<sqlalchemy generated
//! ...>`); only the interactive prompt's `<stdin>` and IPython's `<ipython-input-...>` cells are the
//! user's.

use crate::java_platform::JAVA_PLATFORM_PACKAGES;
use heapgraph_graph::Frame;

/// Whether `frame` is in the program's own code, as the module docs define it.
pub fn is_user_frame(frame: &Frame<'_>) -> bool {
    let file = frame.file.replace('\\', "/");
    let file = file.as_str();
    let generated = file.starts_with('<')
        && !(file.starts_with("<stdin>") || file.starts_with("<ipython-input-"));
    if file.is_empty()
        || generated
        || file.starts_with("node:")
        || file.ends_with("/heapgraph_dump.py")
    {
        return false;
    }
    let library_dirs = ["/site-packages/", "/dist-packages/", "/node_modules/"];
    if library_dirs.iter().any(|dir| file.contains(dir))
        || file.starts_with("node_modules/")
        || in_python_stdlib(file)
    {
        return false;
    }
    // Android's runtime besides the platform's packages; by function, or by the file's package path.
    let android_runtime = ["dalvik.", "libcore.", "com.android."];
    let mut java_platform = JAVA_PLATFORM_PACKAGES.iter().chain(&android_runtime);
    !java_platform.any(|p| frame.function.starts_with(p) || file.starts_with(&p.replace('.', "/")))
}

/// Whether `file` is under a CPython standard library directory, `.../lib/pythonX.Y/` (installed
/// packages were excluded before).
fn in_python_stdlib(file: &str) -> bool {
    file.match_indices("/lib/python").any(|(at, marker)| {
        let rest = &file[at + marker.len()..];
        let version = rest
            .find('/')
            .filter(|&end| end > 0)
            .map(|end| &rest[..end]);
        version.is_some_and(|v| {
            let mut parts = v.split('.');
            let numeric = |p: Option<&str>| {
                p.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
            };
            // `3.12`, and free-threaded builds' `3.13t`.
            let major = parts.next();
            let minor = parts.next().map(|m| m.trim_end_matches('t'));
            numeric(major) && numeric(minor) && parts.next().is_none()
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(function: &str, file: &str) -> bool {
        is_user_frame(&Frame {
            function,
            file,
            line: 1,
        })
    }

    #[test]
    fn libraries_and_runtimes_are_not_user_code() {
        let py = "/usr/lib/python3.12/site-packages/sqlalchemy/sql/elements.py";
        assert!(!user("__init__", py));
        assert!(!user(
            "f",
            "/usr/lib/python3/dist-packages/yaml/__init__.py"
        ));
        assert!(!user(
            "f",
            "/root/.pyenv/versions/3.11.9/lib/python3.11/json/decoder.py"
        ));
        assert!(!user(
            "f",
            "/opt/py/lib/python3.13t/collections/__init__.py"
        ));
        assert!(!user("_load", "<frozen importlib._bootstrap>"));
        assert!(!user("", "<unknown>"));
        assert!(!user("", "<string>"));
        assert!(!user(
            "",
            "<sqlalchemy generated _generative() wrapper for Select.where>"
        ));
        assert!(!user("dump", "/opt/heapgraph/python/heapgraph_dump.py"));
        assert!(!user("readFile", "node:fs"));
        assert!(!user("emit", "node:internal/event_target"));
        assert!(!user("f", "/srv/app/node_modules/express/lib/router.js"));
        assert!(!user("push", ""));
        assert!(!user("java.util.HashMap.resize", "HashMap.java"));
        assert!(!user("resize", "java/util/HashMap.java"));
        assert!(!user("android.app.Activity.onCreate", "Activity.java"));
        assert!(!user("dalvik.system.VMRuntime.newArray", ""));
        assert!(!user("f", r"C:\Python312\Lib\site-packages\x.py"));
    }

    #[test]
    fn the_programs_own_code_is() {
        assert!(user("build_query", "/srv/app/reports.py"));
        assert!(user("build_query", "app/reports.py"));
        assert!(user("", "<stdin>"));
        assert!(user("", "<ipython-input-3-5f1c>"));
        // A project that happens to live in a directory named lib, or a library of its own.
        assert!(user("f", "/home/me/lib/python/tools.py"));
        assert!(user("f", "/home/me/lib/python3.x/tools.py"));
        assert!(user("leak", "/srv/app/server.js"));
        assert!(user("leak", "file:///srv/app/server.mjs"));
        assert!(user("com.example.Cache.put", "Cache.java"));
    }
}
