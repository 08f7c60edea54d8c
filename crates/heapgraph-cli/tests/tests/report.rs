//! `heapgraph report`: pages of real Python, Java and Node dumps, opened and used in headless Chromium with
//! no network, checked against the JSON of the commands each section names.

use crate::util::{heapgraph, json_of, service_dump, stderr, type_rows};
use heapgraph_e2e::java::java_testdata;
use heapgraph_e2e::v8::make_snapshots;
use heapgraph_e2e::{dumper_dir, workspace_root, Scratch};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Chromium from the distribution's packages (.ci/run installs it).
fn chromium() -> PathBuf {
    let found = ["chromium", "chromium-browser"].iter().find_map(|name| {
        let out = Command::new("which").arg(name).output().ok()?;
        let path = String::from_utf8(out.stdout).ok()?;
        (out.status.success() && !path.trim().is_empty()).then(|| PathBuf::from(path.trim()))
    });
    found.expect("Chromium is not installed: `apt-get install chromium` (as .ci/run does)")
}

/// Writes the report of `dumps` into `scratch` and checks that the page names nothing to load.
fn write_report(scratch: &Path, dumps: &[&str]) -> PathBuf {
    let page = scratch.join("report.html");
    let mut args = vec!["report"];
    args.extend(dumps);
    let page_arg = page.display().to_string();
    args.extend(["-o", &page_arg]);
    let out = heapgraph(&args);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    assert!(out.stdout.is_empty(), "the page goes to its file only");
    let html = std::fs::read_to_string(&page).unwrap();
    // Markup that loads something; names and values in the page are text, their `<` escaped.
    for outside in [
        "<img",
        "<link",
        "<iframe",
        "<object",
        "<embed",
        "<source",
        "<audio",
        "<video",
        "@import",
        "url(http",
        "href=\"http",
        "href=\"//",
    ] {
        assert!(!html.contains(outside), "the page has {outside}...");
    }
    page
}

/// Opens `page` in headless Chromium in a network namespace of its own (no network at all), uses it as
/// `testdata/report/drive_report.js` does, and returns what the script saw. The page made no request,
/// threw nothing and logged no error.
fn drive(page: &Path) -> Value {
    let out = Command::new("unshare")
        .arg("--net")
        .arg("node")
        .arg(workspace_root().join("testdata/report/drive_report.js"))
        .arg(chromium())
        .arg(page)
        .output()
        .expect("run unshare and node (.ci/run installs util-linux and Node.js)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(seen["ready"], "yes", "the script ran to its end: {seen:#}");
    assert_eq!(seen["scriptError"], Value::Null);
    for empty in ["requests", "exceptions", "consoleErrors", "logErrors"] {
        assert_eq!(seen[empty], serde_json::json!([]), "{empty}: {seen:#}");
    }
    seen
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

/// The suspects section shows every suspect of `suspects --json`, the program's and the library's, with
/// the reference to fix marked.
fn check_suspects(seen: &Value, dump: &str) {
    let report = json_of(&["suspects", dump, "--json"]);
    let all: Vec<&Value> = report["suspects"]
        .as_array()
        .unwrap()
        .iter()
        .chain(report["library"].as_array().unwrap())
        .collect();
    let sentences: Vec<String> = all
        .iter()
        .map(|s| s["sentence"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(strings(&seen["suspects"]), sentences);
    let fixes: Vec<String> = all
        .iter()
        .filter_map(|s| {
            let step = s["fix_step"].as_u64()? as usize;
            Some(s["path"]["steps"][step]["via"].as_str()?.to_string())
        })
        .collect();
    assert_eq!(strings(&seen["fixMarks"]), fixes);
}

/// Clicking the biggest box zooms into it (as `dominators` lists it first), then into its biggest
/// child; Escape zooms out one level, and clicking the zoomed-into box one more. From the keyboard the
/// picture is one Tab stop: the down arrow moves to the biggest box and Enter zooms into it.
fn check_zoom(seen: &Value, dump: &str) {
    let tree = json_of(&[
        "dominators",
        dump,
        "--json",
        "--depth",
        "2",
        "--min-share",
        "0",
    ])["tree"]
        .clone();
    let first = &tree["children"][0];
    let second = &first["children"][0];
    let label = |node: &Value| {
        let o = &node["object"];
        match o["preview"].as_str() {
            Some(p) => format!("{} {p}", o["type_name"].as_str().unwrap()),
            None => o["type_name"].as_str().unwrap().to_string(),
        }
    };
    assert_eq!(strings(&seen["icicle"]["trail"]), ["all roots"]);
    assert!(seen["icicle"]["cells"].as_u64().unwrap() > 2, "{seen:#}");
    assert_eq!(
        strings(&seen["zoomedOnce"]["trail"]),
        ["all roots".to_string(), label(first)]
    );
    assert_eq!(
        strings(&seen["zoomedTwice"]["trail"]),
        ["all roots".to_string(), label(first), label(second)]
    );
    assert_eq!(seen["escaped"]["trail"], seen["zoomedOnce"]["trail"]);
    assert_eq!(seen["clickedOut"]["trail"], seen["icicle"]["trail"]);
    assert_eq!(seen["tabStops"], 1);
    assert_eq!(seen["enteredOnce"]["trail"], seen["zoomedOnce"]["trail"]);
    // The zoomed-into box says what it retains, as `dominators` does.
    let bytes = first["retained_bytes"].as_u64().unwrap();
    let focus = seen["zoomedOnce"]["focus"].as_str().unwrap();
    assert!(
        focus.contains(&heapgraph_render::format_bytes(bytes)),
        "{focus}"
    );
}

/// Sorting by count orders the listed types by their counts in `types --json`; the filter keeps exactly
/// the types whose names contain its text; a type's link opens its retainer tree.
fn check_types(seen: &Value, dump: &str) {
    let listed: Vec<(String, u64)> = type_rows(&[dump, "--sort", "retained", "--top", "500"])
        .into_iter()
        .map(|(name, count, _, _)| (name, count))
        .collect();
    let pairs = |v: &Value| -> Vec<(String, u64)> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|p| (p[0].as_str().unwrap().to_string(), p[1].as_u64().unwrap()))
            .collect()
    };
    assert_eq!(
        pairs(&seen["typesFirst"]),
        listed,
        "retained order, as `types --sort retained`"
    );
    let by_count = pairs(&seen["byCount"]);
    assert!(
        by_count.windows(2).all(|w| w[0].1 >= w[1].1),
        "{by_count:?}"
    );
    let mut sorted = by_count.clone();
    let mut expected = listed.clone();
    sorted.sort();
    expected.sort();
    assert_eq!(sorted, expected);
    let word = seen["filterWord"].as_str().unwrap();
    let filtered: Vec<String> = pairs(&seen["filtered"]).into_iter().map(|p| p.0).collect();
    let mut want: Vec<String> = listed
        .iter()
        .filter(|(name, _)| name.to_lowercase().contains(&word.to_lowercase()))
        .map(|(name, _)| name.clone())
        .collect();
    let mut got = filtered.clone();
    want.sort();
    got.sort();
    assert!(!got.is_empty());
    assert_eq!(got, want, "filter {word:?}");
    assert_eq!(seen["retainersOpenBefore"], 0);
    let opened = strings(&seen["retainersOpened"]);
    let top: Vec<&String> = listed.iter().take(10).map(|(name, _)| name).collect();
    assert_eq!(opened.len(), 1, "{opened:?}");
    assert!(top.contains(&&opened[0]), "{opened:?} is not among {top:?}");
}

/// The report of one dump, opened and used: its suspects with `fix` the one reference to fix, zooming,
/// sorting, filtering and a type's retainers as the commands say.
fn check_report_of(name: &str, dump: &str, fix: &str) -> Value {
    let scratch = Scratch::new(name);
    let page = write_report(&scratch.0, &[dump]);
    let seen = drive(&page);
    check_suspects(&seen, dump);
    assert_eq!(strings(&seen["fixMarks"]), [fix]);
    check_zoom(&seen, dump);
    check_types(&seen, dump);
    seen
}

/// The Python service in testdata: its query cache is the suspect, `.clauses` the reference to fix.
#[test]
fn report_of_the_python_service_opens_shows_its_suspect_and_zooms() {
    let seen = check_report_of("report-python", &service_dump(), ".clauses");
    // The cache's list, where its memory accumulates, is marked in the picture.
    let marked = strings(&seen["accumulations"]);
    assert_eq!(marked.len(), 1, "{marked:?}");
    assert!(marked[0].starts_with("◆ list, 1.5 MiB"), "{marked:?}");
    assert_eq!(seen["growth"], serde_json::json!([]));
}

/// The Java fixture: the static map of HeapFixture is the suspect, `.MAP` the reference to fix.
#[test]
fn report_of_a_java_dump_opens_shows_its_suspect_and_zooms() {
    let dump = java_testdata().join("fixture.hprof").display().to_string();
    check_report_of("report-java", &dump, ".MAP");
}

/// Two Node snapshots of a program that keeps adding Leaky objects to a Map: the growth section shows the
/// growth suspects of `suspects OLD NEW`, the Map among them, and the Leaky objects added per type.
#[test]
fn report_of_two_node_snapshots_shows_what_grew() {
    let scratch = Scratch::new("report-node");
    let facts = make_snapshots(&scratch.0, 2000);
    let first = scratch.0.join("first.heapsnapshot").display().to_string();
    let later = scratch.0.join("later.heapsnapshot").display().to_string();
    let page = write_report(&scratch.0, &[&first, &later]);
    let seen = drive(&page);
    check_suspects(&seen, &later);
    check_zoom(&seen, &later);
    check_types(&seen, &later);
    let growth = json_of(&["suspects", &first, &later, "--json"]);
    let sentences: Vec<String> = growth["suspects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["sentence"].as_str().unwrap().to_string())
        .collect();
    assert!(!sentences.is_empty());
    assert_eq!(strings(&seen["growth"]), sentences);
    // The per-type changes: the Leaky objects the program added between the snapshots, as it counted them.
    let leaky = seen["typeGrowth"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row[0] == "Leaky")
        .unwrap_or_else(|| panic!("no Leaky row: {seen:#}"));
    assert_eq!(leaky[1], facts["added"], "{leaky}");
    assert!(
        sentences
            .iter()
            .any(|s| s.starts_with("Map at global global.holder.items")),
        "{sentences:?}"
    );
}

/// A dump that is not there: a clear error naming it, and no page written.
#[test]
fn report_of_a_missing_dump_fails_and_writes_nothing() {
    let scratch = Scratch::new("report-missing");
    let missing = scratch.0.join("nothing.hgd").display().to_string();
    let page = scratch.0.join("report.html");
    let out = heapgraph(&["report", &missing, "-o", &page.display().to_string()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("nothing.hgd"), "{}", stderr(&out));
    assert!(!page.exists());
}

/// `--json` prints the model the page embeds: the same reports, the commands beside them, and what the
/// caps left out; a page that cannot be written is refused before the dump is read.
#[test]
fn report_json_is_the_model_the_page_embeds() {
    let scratch = Scratch::new("report-json");
    let dump = service_dump();
    let page = std::fs::read_to_string(write_report(&scratch.0, &[&dump])).unwrap();
    let start = r#"<script type="application/json" id="heapgraph-model">"#;
    let embedded = &page[page.find(start).unwrap() + start.len()..];
    let embedded = &embedded[..embedded.find("</script>").unwrap()];
    assert!(!embedded.contains('<'));
    let mut embedded: Value = serde_json::from_str(embedded).unwrap();
    let mut printed = json_of(&["report", &dump, "--json"]);
    // How long the load took and the memory it holds differ between a read of the dump and of its index.
    for model in [&mut embedded, &mut printed] {
        for key in ["load_seconds", "graph_bytes"] {
            model["overview"]["report"][key] = Value::Null;
        }
    }
    assert_eq!(embedded, printed);
    assert_eq!(
        printed["types"]["command"],
        format!("heapgraph types {dump} --sort retained --top 500")
    );
    assert_eq!(printed["suspects"]["report"], {
        let mut s = json_of(&["suspects", &dump, "--json"]);
        s["file"] = Value::String(dump.clone());
        s
    });
    let left_out = strings(&printed["left_out"]);
    assert!(
        left_out
            .iter()
            .any(|l| l.starts_with("Dominator tree: 10 levels")),
        "{left_out:?}"
    );
    let nowhere = scratch.0.join("no/such/dir/report.html");
    let out = heapgraph(&["report", &dump, "-o", &nowhere.display().to_string()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no such directory"),
        "{}",
        stderr(&out)
    );
}

/// Runs the Python script `script` with the dumper, writing `dump`; returns the JSON it printed.
fn python_dump(script: &Path, dump: &Path) -> Value {
    let out = Command::new("python3")
        .arg(script)
        .arg(dumper_dir())
        .arg(dump)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

/// Objects the dump proves the program is done with (`testdata/python/fixture_proven.py`: a closed file
/// and socket, a finished generator and coroutine, a returned call's frame) are listed as `suspects`
/// lists them, and the proven objects on a suspect's path are marked.
#[test]
fn report_lists_proven_leaks_and_marks_them_on_paths() {
    let scratch = Scratch::new("report-proven");
    let dump = scratch.0.join("proven.hgd");
    python_dump(
        &workspace_root().join("testdata/python/fixture_proven.py"),
        &dump,
    );
    let dump = dump.display().to_string();
    let seen = drive(&write_report(&scratch.0, &[&dump]));
    check_suspects(&seen, &dump);
    let report = json_of(&["suspects", &dump, "--json"]);
    let proven = report["proven"].as_array().unwrap();
    let sentences: Vec<String> = proven
        .iter()
        .map(|p| p["sentence"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(proven.len(), 5, "{sentences:?}");
    assert_eq!(strings(&seen["proven"]), sentences);
    let facts: Vec<String> = report["suspects"]
        .as_array()
        .unwrap()
        .iter()
        .chain(report["library"].as_array().unwrap())
        .flat_map(|s| s["facts"].as_array().unwrap())
        .map(|f| format!("✕ proven: {}", f["reason"].as_str().unwrap()))
        .collect();
    assert!(!facts.is_empty());
    assert_eq!(strings(&seen["factMarks"]), facts);
}

/// Type names, keys and values that are markup (one closes the script element and opens another) show as
/// text: the page's script runs to its end, nothing is loaded and the title stays the page's own.
#[test]
fn report_shows_names_that_are_markup_as_text() {
    let scratch = Scratch::new("report-markup");
    let dump = scratch.0.join("hostile.hgd");
    let names = python_dump(
        &workspace_root().join("testdata/report/hostile_names.py"),
        &dump,
    );
    let (type_name, key) = (
        names["type_name"].as_str().unwrap(),
        names["key"].as_str().unwrap(),
    );
    let dump = dump.display().to_string();
    let page = write_report(&scratch.0, &[&dump]);
    let seen = drive(&page);
    assert_eq!(seen["title"], format!("heapgraph report: {dump}"));
    check_suspects(&seen, &dump);
    let first = &strings(&seen["suspects"])[0];
    assert!(first.contains(type_name) && first.contains(key), "{first}");
    assert_eq!(strings(&seen["fixMarks"]), [format!("['{key}']")]);
    let types = seen["typesFirst"].as_array().unwrap();
    assert!(types.iter().any(|row| row[0] == type_name), "{types:?}");
}
