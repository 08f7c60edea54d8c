//! `heapgraph sites`, and the allocation sites other reports show, on real dumps.

use crate::util::{heapgraph, json_of, ok, service_dump, stderr, stdout, type_rows, StackFrame};
use heapgraph_e2e::v8::{
    make_snapshots, make_tracked_snapshot, make_tracked_snapshots, v8_testdata,
};
use heapgraph_e2e::{pythons, run_fixture, Scratch};
use serde_json::Value;
use std::collections::BTreeMap;

/// A dump whose runtime recorded no allocation stacks: `sites` says how that runtime records them and
/// exits 1, from the dump and from its index; the other reports carry no sites.
#[test]
fn dumps_without_stacks_say_how_to_record_them() {
    let scratch = Scratch::new("cli-sites-none");
    make_snapshots(&scratch.0, 20);
    let snapshot = scratch.0.join("first.heapsnapshot").display().to_string();
    let python = service_dump();
    let index_dir = scratch.0.join("index").display().to_string();
    for (dump, advice) in [
        (&python, "heapgraph run --tracemalloc 25"),
        (&snapshot, "node --track-heap-objects"),
    ] {
        for _from_dump_then_index in 0..2 {
            let out = heapgraph(&["sites", dump, "--index-dir", &index_dir]);
            assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
            assert!(stdout(&out).is_empty());
            let err = stderr(&out);
            assert!(err.contains("records no allocation sites"), "{err}");
            assert!(err.contains(advice), "{err}");
        }
    }
    let retainers = json_of(&["retainers", &snapshot, "Leaky", "--json"]);
    assert_eq!(retainers["instances"], 20);
    assert!(retainers.get("allocated").is_none(), "{retainers}");
    let top = json_of(&["top", &python, "--json"]);
    let rows = top["rows"].as_array().unwrap();
    assert!(!rows.is_empty() && rows.iter().all(|r| r.get("allocated").is_none()));
}

/// A Python program tracing with tracemalloc whose cache holds Fractions: `sites` gives the standard
/// library's line that allocated them, as tracemalloc does, singles out the program's line that asked
/// for them, and ranks the site by what the Fractions retain, which is what `types` says their type
/// retains; `retainers` names both lines.
#[test]
fn python_sites_single_out_the_programs_line_past_the_standard_library() {
    let scratch = Scratch::new("cli-sites-python");
    let python = &pythons()[0];
    let dump = scratch.0.join("library.hgd");
    let facts = run_fixture(python, "fixture_sites_library.py", &dump);
    let dump = dump.display().to_string();
    let (count, file, line) = (&facts["count"], &facts["file"], &facts["line"]);
    let (library, library_line) = (&facts["library"][0], &facts["library"][1]);
    assert_eq!(facts["library_frames"], 1, "{facts}");

    let sites = json_of(&["sites", &dump, "--type", "Fraction", "--json"]);
    assert_eq!(sites["site_count"], 1, "{sites}");
    let site = &sites["rows"][0];
    assert_eq!(&site["objects"], count, "{sites}");
    assert_eq!(&site["frame"]["file"], library, "{sites}");
    assert_eq!(&site["frame"]["line"], library_line, "{sites}");
    assert_eq!(&site["user_frame"]["file"], file, "{sites}");
    assert_eq!(&site["user_frame"]["line"], line, "{sites}");
    assert_eq!(&site["user_frame"]["objects"], count, "{sites}");
    let types = type_rows(&[&dump, "--top", "0"]);
    let fraction = types
        .iter()
        .find(|r| r.0 == "fractions.Fraction")
        .expect("a Fraction row");
    assert_eq!(
        (fraction.1, fraction.3),
        (
            count.as_u64().unwrap(),
            site["retained_bytes"].as_u64().unwrap()
        )
    );

    let retainers = ok(&["retainers", &dump, "Fraction"]);
    let expected = format!(
        "5,000 × fractions.py:{library_line}, user code: {}:{line}",
        file.as_str().unwrap()
    );
    assert_eq!(count, 5000);
    assert!(retainers.contains(&expected), "{retainers}");
}

/// A traced Python program that caches a query of 20,000 bind parameters: the line that made them is
/// the first site, with all of them; the line that made the Select holding them, which retains more,
/// comes after it, holding it (through the clause list's line when that list has a site of its own);
/// `retainers` names the parameters' line.
#[test]
fn python_sites_put_the_line_that_made_a_cached_query_before_its_holders() {
    let scratch = Scratch::new("cli-sites-cache");
    let python = &pythons()[0];
    let dump = scratch.0.join("cache.hgd");
    let facts = run_fixture(python, "fixture_sites_cache.py", &dump);
    let dump = dump.display().to_string();
    let (count, file) = (facts["count"].as_u64().unwrap(), &facts["file"]);
    let sites = json_of(&["sites", &dump, "--json", "--top", "4"]);
    let rows = sites["rows"].as_array().unwrap();
    let at_line = |key: &str| {
        rows.iter()
            .position(|r| r["frame"]["file"] == *file && r["frame"]["line"] == facts[key])
            .unwrap_or_else(|| panic!("no {key} line in {sites}"))
    };
    assert_eq!(at_line("params"), 0, "{sites}");
    assert_eq!(rows[0]["objects"], count, "{sites}");
    assert!(rows[0].get("holds").is_none(), "{sites}");
    let query = at_line("query");
    let retained = |row: &Value| row["retained_bytes"].as_u64().unwrap();
    for at in 1..=query {
        let (row, before) = (&rows[at], &rows[at - 1]);
        assert_eq!(row["holds"]["rank"], at - 1, "{sites}");
        assert!(retained(row) >= retained(before), "{sites}");
        let held = row["holds"]["bytes"].as_u64().unwrap();
        assert!(held * 10 >= retained(row) * 7, "{sites}");
    }

    let retainers = ok(&["retainers", &dump, "BindParameter"]);
    let expected = format!(
        "{},{:03} × {}:{}",
        count / 1000,
        count % 1000,
        file.as_str().unwrap(),
        facts["params"]
    );
    assert!(retainers.contains(&expected), "{expected}: {retainers}");
}

/// A Node program that ran with allocation tracking: `sites` names the program's function (and the
/// line where it starts, as V8 records it) that made the leaked objects and ranks it by what they
/// retain, which is what `types` says their type retains, since all of them come from there; the index
/// answers the same; `retainers`, `top` and `suspects` name the site too.
#[test]
fn node_snapshots_with_allocation_tracking_name_the_function() {
    let scratch = Scratch::new("cli-sites-v8");
    let snapshot = scratch.0.join("tracked.heapsnapshot");
    let facts = make_tracked_snapshot(&snapshot, 400);
    let (script, line) = (
        facts["script"].as_str().unwrap(),
        &facts["lines"]["leakSessions"],
    );
    let snapshot = snapshot.display().to_string();

    let args = ["sites", &snapshot, "--type", "Session", "--json"];
    let sites = json_of(&args);
    assert_eq!(json_of(&args), sites, "from the index as from the dump");
    let top = &sites["rows"][0];
    assert_eq!(top["objects"], 400, "{sites}");
    assert_eq!(top["frame"]["function"], "leakSessions", "{sites}");
    assert_eq!(&top["frame"]["line"], line, "{sites}");
    assert_eq!(top["frame"]["file"], script, "{sites}");
    assert_eq!(top["user_frame"]["function"], "leakSessions", "{sites}");
    let types = type_rows(&[&snapshot, "--top", "0"]);
    let session = types
        .iter()
        .find(|r| r.0 == "Session")
        .expect("a Session row");
    let retained = top["retained_bytes"].as_u64().unwrap();
    assert_eq!((session.1, session.3), (400, retained));

    let site = format!("400 × {script}:{line} in leakSessions");
    let retainers = ok(&["retainers", &snapshot, "Session"]);
    assert!(retainers.contains(&site), "{retainers}");
    // The global object is the suspect; what accumulates under it includes the sessions' site.
    let suspects = ok(&["suspects", &snapshot]);
    let session_site = format!("{script}:{} in Session", facts["lines"]["Session"]);
    assert!(suspects.contains(&session_site), "{suspects}");
    // `global.sessions`, the Array leakSessions made, is among the 20 objects retaining most.
    let top = json_of(&["top", &snapshot, "--json"]);
    let sessions = top["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["path"]["steps"].as_array().unwrap().last().unwrap()["via"] == ".sessions")
        .unwrap_or_else(|| panic!("global.sessions in the top 20: {top}"));
    assert_eq!(sessions["allocated"]["frame"]["function"], "leakSessions");
    assert_eq!(&sessions["allocated"]["frame"]["line"], line);
}

/// The line where the first function of `script` whose text contains `definition` starts.
fn line_of(script: &std::path::Path, definition: &str) -> u64 {
    let text = std::fs::read_to_string(script).unwrap();
    1 + text.lines().position(|l| l.contains(definition)).unwrap() as u64
}

/// Two snapshots of one tracked Node process: `growth` says where the new objects were allocated
/// (the payload Arrays in Leaky's constructor, the Leaky objects in the script's top level, which added
/// them), and the report page lists the Leaky constructor among the sites of what accumulates under the
/// global object.
#[test]
fn node_growth_and_report_say_where_new_objects_were_allocated() {
    let scratch = Scratch::new("cli-sites-v8-growth");
    let facts = make_tracked_snapshots(&scratch.0, 400);
    let added = facts["added"].as_u64().unwrap();
    let script = v8_testdata().join("make_fixture.js");
    let leaky_line = line_of(&script, "constructor(i)");
    let first = scratch.0.join("first.heapsnapshot").display().to_string();
    let later = scratch.0.join("later.heapsnapshot").display().to_string();

    let growth = json_of(&["growth", &first, &later, "--json"]);
    let held = |name: &str| {
        growth["held"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["type_name"] == name)
            .unwrap_or_else(|| panic!("new {name} objects held: {growth}"))["allocated"]
            .clone()
    };
    let arrays = held("Array");
    assert_eq!(arrays["objects"], added, "{arrays}");
    let site = &arrays["sites"][0];
    assert_eq!(site["objects"], added, "{arrays}");
    assert_eq!(site["frame"]["function"], "Leaky", "{arrays}");
    assert_eq!(site["frame"]["line"], leaky_line, "{arrays}");
    assert_eq!(site["file"], script.display().to_string(), "{arrays}");
    let leaky = held("Leaky");
    assert_eq!(leaky["sites"][0]["objects"], added, "{leaky}");
    assert_eq!(leaky["sites"][0]["file"], script.display().to_string());
    let text = ok(&["growth", &first, &later]);
    let line = format!("{added} × {}:{leaky_line} in Leaky", script.display());
    assert!(text.contains(&line), "{text}");

    let page = scratch.0.join("page.html");
    ok(&["report", &later, "-o", &page.display().to_string()]);
    let html = std::fs::read_to_string(&page)
        .unwrap()
        .replace("&#x2f;", "/");
    let site = format!("<code>{}:{leaky_line} in Leaky</code>", script.display());
    assert!(html.contains(&site), "no {site} on the page");
}

/// The legacy hprof agent's dump of MAT's own test program: `sites` groups the objects by allocating
/// frame as an independent reader of the dump's STACK TRACE records does (`testdata/java/allocation_stacks.py`),
/// and each site's user frame is the first frame outside the JDK's packages that most of its objects
/// were allocated under, as those stacks say.
#[test]
fn hprof_agent_sites_match_an_independent_reading_of_the_stacks() {
    let dump = heapgraph_e2e::java::java_testdata()
        .join("mat/oracle_jdk7_21_hprofagent.hprof")
        .display()
        .to_string();
    let platform = ["java.", "javax.", "jdk.", "sun.", "com.sun."];
    for heap in [1u32, 2] {
        let stacks = crate::mat::allocation_stacks(&dump, heap, true);
        // Per allocating frame: objects, and objects per first frame outside the JDK.
        let mut expected: BTreeMap<StackFrame, (u64, BTreeMap<StackFrame, u64>)> = BTreeMap::new();
        for stack in stacks.values() {
            let site = expected.entry(stack[0].clone()).or_default();
            site.0 += 1;
            let user = stack
                .iter()
                .find(|f| !f.1.is_empty() && !platform.iter().any(|p| f.0.starts_with(p)));
            if let Some(user) = user {
                *site.1.entry(user.clone()).or_default() += 1;
            }
        }
        let heap = heap.to_string();
        let sites = json_of(&["sites", &dump, "--heap", &heap, "--top", "0", "--json"]);
        let rows = sites["rows"].as_array().unwrap();
        assert_eq!(rows.len(), expected.len(), "{sites}");
        assert_eq!(sites["objects"], stacks.len() as u64);
        let frame = |f: &Value| -> StackFrame {
            let text = |k: &str| f[k].as_str().unwrap().to_string();
            (text("function"), text("file"), f["line"].as_u64().unwrap())
        };
        let mut singled_out = 0;
        for row in rows {
            let (objects, users) = &expected[&frame(&row["frame"])];
            assert_eq!(&row["objects"], objects, "{row}");
            let most = users.values().max();
            let best: Vec<_> = users.iter().filter(|(_, n)| Some(*n) == most).collect();
            match best.as_slice() {
                [] => assert!(row["user_frame"].is_null(), "{row}"),
                [(user, n)] => {
                    assert_eq!(&frame(&row["user_frame"]), *user, "{row}");
                    assert_eq!(&row["user_frame"]["objects"], *n, "{row}");
                    singled_out += usize::from(frame(&row["frame"]) != **user);
                }
                _ => assert!(!row["user_frame"].is_null(), "{row}"),
            }
        }
        assert!(
            singled_out > 0,
            "some JDK site is singled out under MAT's code"
        );
    }
}
