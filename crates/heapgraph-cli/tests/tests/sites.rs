//! `heapgraph sites`, and the allocation sites other reports show, on real dumps.

use crate::util::{heapgraph, json_of, ok, service_dump, stderr, stdout, type_rows};
use heapgraph_e2e::v8::make_snapshots;
use heapgraph_e2e::{pythons, run_fixture, Scratch};

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
