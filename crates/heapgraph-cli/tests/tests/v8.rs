//! Every command on V8 heap snapshots that a real Node program writes, unchanged.

use crate::util::ok;
use heapgraph_e2e::v8::make_snapshots;
use heapgraph_e2e::Scratch;

#[test]
fn every_command_reads_v8_snapshots() {
    let scratch = Scratch::new("cli-v8");
    make_snapshots(&scratch.0, 300);
    let first = scratch.0.join("first.heapsnapshot").display().to_string();
    let later = scratch.0.join("later.heapsnapshot").display().to_string();

    let info = ok(&["info", &first]);
    assert!(info.contains("V8 heap snapshot"), "{info}");
    assert!(
        info.contains("global") && info.contains("gc root"),
        "{info}"
    );

    let types = ok(&["types", &first, "--top", "0", "--json"]);
    let types: serde_json::Value = heapgraph_e2e::parse_strict(types.as_bytes()).unwrap();
    let leaky = types["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type_name"] == "Leaky")
        .expect("a Leaky row");
    assert_eq!(leaky["count"], 300);

    let retainers = ok(&["retainers", &first, "Leaky"]);
    assert!(retainers.contains("global.holder.items"), "{retainers}");

    let top = ok(&["top", &first, "--json"]);
    let top: serde_json::Value = heapgraph_e2e::parse_strict(top.as_bytes()).unwrap();
    let holder = top["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type_name"] == "LeakHolder")
        .unwrap_or_else(|| panic!("{top}"));
    // V8 ids are the addresses: `path` takes one in decimal, as DevTools shows `@id`.
    let id = u64::from_str_radix(
        holder["address"].as_str().unwrap().trim_start_matches("0x"),
        16,
    )
    .unwrap();
    let path = ok(&["path", &first, &id.to_string()]);
    assert!(path.contains("holder"), "{path}");

    let growth = ok(&["growth", &first, &later]);
    let line = growth
        .lines()
        .find(|l| l.contains("Leaky"))
        .unwrap_or_else(|| panic!("{growth}"));
    assert!(line.contains("+150"), "{line}");

    ok(&["unreferenced", &first]);
    ok(&["dominators", &first, "--depth", "2"]);
}
