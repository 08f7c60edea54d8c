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

/// A gzipped snapshot (`.heapsnapshot.gz`, as bug reports attach them) answers as the plain one does, from
/// the dump and again from its index, and `info` gives both sizes.
#[test]
fn gzipped_snapshots_read_as_the_plain_ones() {
    let scratch = Scratch::new("cli-v8-gzip");
    make_snapshots(&scratch.0, 200);
    let plain = scratch.0.join("first.heapsnapshot");
    let status = std::process::Command::new("gzip")
        .args(["-k", "-6"])
        .arg(&plain)
        .status()
        .expect("run gzip");
    assert!(status.success());
    let gz = scratch.0.join("first.heapsnapshot.gz");
    let (plain, gz) = (plain.display().to_string(), gz.display().to_string());
    let plain_bytes = std::fs::metadata(&plain).unwrap().len();
    let gz_bytes = std::fs::metadata(&gz).unwrap().len();

    let info = crate::util::json_of(&["info", "--json", &gz]);
    assert_eq!(info["format"], "V8 heap snapshot (Node.js, Chrome; gzip)");
    assert_eq!(info["file_bytes"], plain_bytes);
    assert_eq!(info["compressed_bytes"], gz_bytes);
    let text = ok(&["info", &gz]);
    let file_line = text.lines().next().unwrap();
    assert!(
        file_line.contains("gzipped,") && file_line.ends_with("uncompressed)"),
        "{file_line}"
    );

    let plain_types = ok(&["types", &plain, "--top", "0", "--json", "--no-index"]);
    for _from_the_index_too in 0..2 {
        let gz_types = ok(&["types", &gz, "--top", "0", "--json"]);
        assert_eq!(
            gz_types.replace(&gz, "DUMP"),
            plain_types.replace(&plain, "DUMP")
        );
        let retainers = ok(&["retainers", &gz, "Leaky"]);
        assert!(retainers.contains("global.holder.items"), "{retainers}");
    }

    // A gzip stream cut short is an error that names the file.
    let bytes = std::fs::read(&gz).unwrap();
    let cut = scratch.0.join("cut.heapsnapshot.gz");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let cut = cut.display().to_string();
    let out = crate::util::heapgraph(&["info", "--no-index", &cut]);
    assert!(!out.status.success());
    let stderr = crate::util::stderr(&out);
    assert!(
        stderr.contains(&cut) && stderr.contains("cut short"),
        "{stderr}"
    );
}
