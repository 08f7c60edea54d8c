//! `heapgraph retainers`, `path` and their drawings, end to end on dumps whose answers are known: the
//! fixture states each chain and gc's instance count in the same process.

use crate::util::{heapgraph, heapgraph_command, json_of, service_dump};
use heapgraph_e2e::{pythons, run_fixture, Scratch};
use serde_json::Value;
use std::path::Path;

/// The branch whose whole chain reads `chain`, anywhere in the tree.
fn find_branch<'a>(branches: &'a Value, chain: &str) -> Option<&'a Value> {
    branches.as_array()?.iter().find_map(|b| {
        if b["chain"] == chain {
            Some(b)
        } else {
            find_branch(&b["children"], chain)
        }
    })
}

#[test]
fn retainers_name_each_chain_with_its_edges_and_counts() {
    let scratch = Scratch::new("retainers");
    for python in pythons() {
        let v = python.label();
        let dump = scratch.0.join(format!("retainers-{v}.hgd"));
        let facts = run_fixture(&python, "fixture_retainers.py", &dump);
        let dump = dump.to_str().unwrap();
        for class in ["Session", "Payload", "Plugin", "Secret"] {
            let expected = &facts[class];
            let count = expected["count"].as_u64().unwrap();
            let chain = expected["chain"].as_str().unwrap();
            let report = json_of(&["retainers", dump, class, "--json"]);
            assert_eq!(
                report["types"][0],
                format!("__main__.{class}"),
                "Python {v}"
            );
            assert_eq!(
                report["instances"], count,
                "Python {v}: {class} count as gc saw it"
            );
            assert_eq!(report["unreachable"], 0, "Python {v}: {class}");
            let branch = find_branch(&report["branches"], chain).unwrap_or_else(|| {
                panic!(
                    "Python {v}: no chain {chain:?} for {class}: {:#}",
                    report["branches"]
                )
            });
            assert_eq!(branch["instances"], count, "Python {v}: {chain}");
            assert!(branch["retained_bytes"].as_u64().unwrap() >= count * 16);
            match expected["held_via"].as_str() {
                Some(via) => {
                    let held = &branch["held"][0];
                    assert_eq!(held["via"], via, "Python {v}: {chain}");
                    assert_eq!(held["count"], count, "Python {v}: {chain}");
                    assert_eq!(held["type_name"], format!("__main__.{class}"));
                }
                None => {
                    // The instance is the root itself: the chain ends at it.
                    let steps = branch["steps"].as_array().unwrap();
                    assert_eq!(
                        steps.last().unwrap()["type_name"],
                        format!("__main__.{class}")
                    );
                }
            }
            let text = String::from_utf8(heapgraph(&["retainers", dump, class]).stdout).unwrap();
            assert!(text.contains(chain), "Python {v}: {chain:?} not in\n{text}");
        }

        let address = format!("{:#x}", facts["path"]["address"].as_u64().unwrap());
        let path = json_of(&["path", dump, &address, "--json"]);
        let steps = path["chain"]["steps"].as_array().unwrap();
        assert_eq!(steps.last().unwrap()["address"], address.as_str());
        assert_eq!(steps.last().unwrap()["via"], "[7]", "Python {v}");
        let text = String::from_utf8(heapgraph(&["path", dump, &address]).stdout).unwrap();
        let first_line = text.lines().next().unwrap();
        assert_eq!(
            first_line,
            facts["path"]["chain"].as_str().unwrap(),
            "Python {v}"
        );
    }
}

/// A PNG's (width, height) from its header, after checking the signature.
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(
        &bytes[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is no PNG",
        path.display()
    );
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (be(16), be(20))
}

#[test]
fn drawings_render_through_graphviz() {
    let scratch = Scratch::new("drawings");
    let svg = scratch.0.join("bind.svg");
    let out = heapgraph(&[
        "retainers",
        &service_dump(),
        "BindParameter",
        "-o",
        svg.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(
        text.starts_with("<?xml") && text.trim_end().ends_with("</svg>"),
        "{text}"
    );
    assert!(text.contains("3,000 × __main__.BindParameter"), "{text}");
    assert!(text.contains("where.clauses"), "{text}");

    let png = scratch.0.join("path.png");
    let query = json_of(&["retainers", &service_dump(), "Query", "--json"]);
    let address = query["branches"][0]["held"][0]["example"]["address"]
        .as_str()
        .unwrap()
        .to_string();
    let out = heapgraph(&[
        "path",
        &service_dump(),
        &address,
        "-o",
        png.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (w, h) = png_size(&png);
    assert!(
        w > 100 && h > 300,
        "a five-step chain drawn top to bottom: {w}x{h}"
    );

    let dot = scratch.0.join("bind.dot");
    heapgraph(&[
        "retainers",
        &service_dump(),
        "BindParameter",
        "-o",
        dot.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&dot).unwrap();
    assert!(text.starts_with("digraph heapgraph {"), "{text}");
}

#[test]
fn without_graphviz_the_dot_file_is_written_with_a_hint() {
    let scratch = Scratch::new("no-graphviz");
    let wanted = scratch.0.join("tree.png");
    let out = heapgraph_command()
        .args([
            "retainers",
            &service_dump(),
            "BindParameter",
            "-o",
            wanted.to_str().unwrap(),
        ])
        .env("PATH", &scratch.0) // an empty directory: no `dot` on it
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!wanted.exists());
    let dot = scratch.0.join("tree.dot");
    assert!(std::fs::read_to_string(&dot)
        .unwrap()
        .starts_with("digraph"));
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(
        err.contains("apt-get install graphviz") && err.contains(&dot.display().to_string()),
        "{err}"
    );
}

/// Runs `heapgraph graph` into a .dot file and returns stdout and the DOT text.
fn graph_dot(args: &[&str], scratch: &Scratch) -> (String, String) {
    let dot = scratch.0.join("g.dot");
    let (dump, dot_arg) = (service_dump(), dot.display().to_string());
    let mut all = vec!["graph", &dump];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-o", &dot_arg]);
    let out = heapgraph(&all);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8(out.stdout).unwrap(),
        std::fs::read_to_string(&dot).unwrap(),
    )
}

#[test]
fn graph_draws_backrefs_to_the_root_refs_folded_filtered_and_highlighted() {
    let scratch = Scratch::new("graph");
    // Back from the cached query to its module: every edge named, the root and the start stand out.
    let (_, dot) = graph_dot(&["Query", "--max-depth", "6"], &scratch);
    for expected in [
        "module __main__",
        "label=\".entries\"",
        "label=\"['orders-by-users']\"",
        "label=\"['CACHE']\"",
        "shape=box3d", // the root
        "penwidth=2",  // the start object
        "1.5 MiB retained",
    ] {
        assert!(dot.contains(expected), "{expected:?} not in\n{dot}");
    }
    // Forward from the IN clause to its list: 3,000 parameters, 5 drawn, the rest one node.
    let (_, dot) = graph_dot(
        &["InClause", "--refs", "--max-depth", "2", "--too-many", "5"],
        &scratch,
    );
    assert!(dot.contains("2995 more references"), "{dot}");
    assert_eq!(dot.matches("__main__.BindParameter").count(), 5, "{dot}");
    // Only InClause objects besides the start; highlighted.
    let (summary, dot) = graph_dot(
        &[
            "Query",
            "--refs",
            "--filter",
            "InClause",
            "--highlight",
            "InClause",
        ],
        &scratch,
    );
    assert!(summary.starts_with("2 objects, 1 references"), "{summary}");
    assert!(
        dot.contains("label=\".where\"") && dot.contains("#b8e6b0"),
        "{dot}"
    );
}

#[test]
fn growth_matches_gc_counts_between_the_dumps() {
    for python in pythons() {
        let v = python.label();
        // the fixture writes its second dump beside the first: both where the interpreter can write
        let scratch = python.scratch("growth");
        let old = scratch.0.join(format!("growth-{v}.hgd"));
        let facts = run_fixture(&python, "fixture_growth.py", &old);
        let new = python.host(Path::new(facts["new_dump"].as_str().unwrap()));
        let report = json_of(&[
            "growth",
            old.to_str().unwrap(),
            new.to_str().unwrap(),
            "--held",
            "6",
            "--json",
        ]);
        let types = report["types"].as_array().unwrap();
        for class in ["Order", "Session", "Plugin"] {
            let (before, after) = (
                facts["before"][class].as_i64().unwrap(),
                facts["after"][class].as_i64().unwrap(),
            );
            let row = types
                .iter()
                .find(|t| t["type_name"] == format!("__main__.{class}"))
                .unwrap_or_else(|| panic!("Python {v}: no row for {class}"));
            assert_eq!(row["old_count"], before, "Python {v}: {class}");
            assert_eq!(row["new_count"], after, "Python {v}: {class}");
            assert_eq!(row["count_delta"], after - before, "Python {v}: {class}");
            // Nothing of these classes was freed and replaced, so the new ones are exactly the growth.
            assert_eq!(
                row["new_objects"],
                (after - before).max(0),
                "Python {v}: {class}"
            );
        }
        let position = |class: &str| {
            types
                .iter()
                .position(|t| t["type_name"] == format!("__main__.{class}"))
        };
        assert!(
            position("Order") < position("Session") && position("Session") < position("Plugin"),
            "Python {v}: most grown first"
        );
        for (class, chain) in facts["held_by"].as_object().unwrap() {
            let held = report["held"]
                .as_array()
                .unwrap()
                .iter()
                .find(|h| h["type_name"] == format!("__main__.{class}"))
                .unwrap_or_else(|| panic!("Python {v}: no tree for new {class}"));
            let branch = find_branch(&held["branches"], chain.as_str().unwrap())
                .unwrap_or_else(|| panic!("Python {v}: {chain} does not hold new {class}"));
            let grown =
                facts["after"][class].as_u64().unwrap() - facts["before"][class].as_u64().unwrap();
            assert_eq!(branch["instances"], grown, "Python {v}: {class}");
            assert_eq!(branch["held"][0]["via"], "[i]");
        }
    }
}
