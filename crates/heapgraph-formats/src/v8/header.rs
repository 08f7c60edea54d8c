//! The snapshot's layout: the `snapshot` header (its `meta` names every field, since node field lists
//! differ between V8 versions) and where the `nodes`, `edges` and `strings` arrays lie in the file.
//!
//! Only the header is parsed as JSON (it is a few kilobytes); the arrays are located by scanning, never
//! parsed into a JSON tree: they are hundreds of megabytes.

use crate::error::{err, FormatError};
use rayon::prelude::*;
use serde_json::Value;
use std::ops::Range;

/// The file's first bytes, after optional whitespace: `{"snapshot":`.
pub const SIGNATURE: &[u8] = b"{\"snapshot\":";

/// The header's facts heapgraph uses.
pub struct Header {
    pub node_fields: Vec<String>,
    /// Names of node types, indexed by the `type` field.
    pub node_types: Vec<String>,
    pub edge_fields: Vec<String>,
    pub edge_types: Vec<String>,
    pub node_count: usize,
    pub edge_count: usize,
    /// Index of the synthetic root in `nodes` (a multiple of the node field count); 0 unless stated.
    pub root_index: usize,
    /// The fields of each entry of the `locations` array (where an object's constructor is defined);
    /// empty when the snapshot has none.
    pub location_fields: Vec<String>,
    /// The fields of each `trace_function_infos` entry and of each `trace_tree` node (allocation
    /// tracking); empty when the header does not name them.
    pub trace_function_info_fields: Vec<String>,
    pub trace_node_fields: Vec<String>,
}

/// Byte ranges of the arrays' bodies (between the brackets).
pub struct Sections {
    pub nodes: Range<usize>,
    pub edges: Range<usize>,
    pub strings: Range<usize>,
    /// The `locations` array, when there is one.
    pub locations: Option<Range<usize>>,
    /// The `trace_function_infos` and `trace_tree` arrays, when there are.
    pub trace_function_infos: Option<Range<usize>>,
    pub trace_tree: Option<Range<usize>>,
}

impl Header {
    /// The position of field `name` in each node's fields.
    pub fn node_field(&self, name: &str) -> Result<usize, FormatError> {
        field(&self.node_fields, name, "node_fields")
    }

    pub fn edge_field(&self, name: &str) -> Result<usize, FormatError> {
        field(&self.edge_fields, name, "edge_fields")
    }
}

fn field(fields: &[String], name: &str, list: &str) -> Result<usize, FormatError> {
    match fields.iter().position(|f| f == name) {
        Some(i) => Ok(i),
        None => err(
            0,
            format!("snapshot.meta.{list} has no \"{name}\" field, which heapgraph needs"),
        ),
    }
}

/// Reads the header and finds the arrays.
pub fn parse(data: &[u8]) -> Result<(Header, Sections), FormatError> {
    let start = skip_ws(data, 0);
    if !data[start..].starts_with(SIGNATURE) {
        return err(
            start,
            "expected {\"snapshot\": at the start of a V8 heap snapshot",
        );
    }
    let value_start = skip_ws(data, start + SIGNATURE.len());
    let value_end = skip_value(data, value_start)?;
    let header: Value =
        serde_json::from_slice(&data[value_start..value_end]).map_err(|e| FormatError {
            offset: value_start as u64,
            message: format!("the snapshot header is not valid JSON: {e}"),
        })?;
    let header = read_header(&header, value_start)?;
    let (mut nodes, mut edges, mut strings, mut locations) = (None, None, None, None);
    let (mut trace_function_infos, mut trace_tree) = (None, None);
    let mut at = value_end;
    loop {
        at = skip_ws(data, at);
        match data.get(at) {
            Some(b',') => at = skip_ws(data, at + 1),
            Some(b'}') => break,
            Some(_) => return err(at, "expected , or } after a top-level value"),
            None => {
                return err(
                    at,
                    "the snapshot ends inside its top-level object: it was cut short",
                )
            }
        }
        let key_end = skip_string(data, at)?;
        let key = &data[at..key_end];
        at = skip_ws(data, key_end);
        if data.get(at) != Some(&b':') {
            return err(at, "expected : after a top-level key");
        }
        at = skip_ws(data, at + 1);
        let end = match key {
            b"\"nodes\"" | b"\"edges\"" | b"\"locations\"" => number_array_end(data, at)?,
            _ => skip_value(data, at)?,
        };
        let body = at + 1..end - 1;
        match key {
            b"\"nodes\"" => nodes = Some(body),
            b"\"edges\"" => edges = Some(body),
            b"\"strings\"" => strings = Some(body),
            b"\"locations\"" => locations = Some(body),
            b"\"trace_function_infos\"" => trace_function_infos = Some(body),
            b"\"trace_tree\"" => trace_tree = Some(body),
            _ => {}
        }
        at = end;
    }
    let missing = |what: &str| FormatError {
        offset: at as u64,
        message: format!("the snapshot has no \"{what}\" array"),
    };
    Ok((
        header,
        Sections {
            nodes: nodes.ok_or_else(|| missing("nodes"))?,
            edges: edges.ok_or_else(|| missing("edges"))?,
            strings: strings.ok_or_else(|| missing("strings"))?,
            locations,
            trace_function_infos,
            trace_tree,
        },
    ))
}

fn read_header(v: &Value, at: usize) -> Result<Header, FormatError> {
    let bad = |what: &str| FormatError {
        offset: at as u64,
        message: format!("the snapshot header's {what} is missing or malformed"),
    };
    let names = |v: Option<&Value>, what: &str| -> Result<Vec<String>, FormatError> {
        v.and_then(Value::as_array)
            .and_then(|a| a.iter().map(|s| s.as_str().map(str::to_string)).collect())
            .ok_or_else(|| bad(what))
    };
    let meta = v.get("meta").ok_or_else(|| bad("meta"))?;
    let count = |name: &str| {
        v.get(name)
            .and_then(Value::as_u64)
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| bad(name))
    };
    let optional = |key: &str| match meta.get(key) {
        None => Ok(Vec::new()),
        some => names(some, &format!("meta.{key}")),
    };
    Ok(Header {
        node_fields: names(meta.get("node_fields"), "meta.node_fields")?,
        node_types: names(
            meta.get("node_types").and_then(|t| t.get(0)),
            "meta.node_types[0]",
        )?,
        edge_fields: names(meta.get("edge_fields"), "meta.edge_fields")?,
        edge_types: names(
            meta.get("edge_types").and_then(|t| t.get(0)),
            "meta.edge_types[0]",
        )?,
        node_count: count("node_count")?,
        edge_count: count("edge_count")?,
        root_index: match v.get("root_index") {
            None => 0,
            Some(_) => count("root_index")?,
        },
        location_fields: optional("location_fields")?,
        trace_function_info_fields: optional("trace_function_info_fields")?,
        trace_node_fields: optional("trace_node_fields")?,
    })
}

fn skip_ws(data: &[u8], mut at: usize) -> usize {
    while data.get(at).is_some_and(|b| b.is_ascii_whitespace()) {
        at += 1;
    }
    at
}

/// The end of the JSON string starting at `at` (just past its closing quote).
pub(super) fn skip_string(data: &[u8], at: usize) -> Result<usize, FormatError> {
    if data.get(at) != Some(&b'"') {
        return err(at, "expected a string");
    }
    let mut i = at + 1;
    loop {
        // A backslash as the file's last byte leaves `i` past the end.
        let rest = data.get(i..).unwrap_or_default();
        match memchr::memchr2(b'"', b'\\', rest) {
            Some(k) if data[i + k] == b'\\' => i += k + 2,
            Some(k) => return Ok(i + k + 1),
            None => return err(at, "a string runs to the end of the file: it was cut short"),
        }
    }
}

/// The end of the array of plain numbers starting at `at` (just past `]`): its first `]`, since such an
/// array holds no brackets; its contents are checked when it is parsed. This is the first read of most of
/// the file's pages, so both cores search, a window at a time (a window past the array's end is the
/// most either reads in vain).
fn number_array_end(data: &[u8], at: usize) -> Result<usize, FormatError> {
    const WINDOW: usize = 32 << 20;
    const PIECE: usize = 1 << 20;
    if data.get(at) != Some(&b'[') {
        return err(at, "expected [ to start an array of numbers");
    }
    for from in (at..data.len()).step_by(WINDOW) {
        let window = &data[from..(from + WINDOW).min(data.len())];
        let found = window
            .par_chunks(PIECE)
            .enumerate()
            .find_map_first(|(i, piece)| memchr::memchr(b']', piece).map(|k| i * PIECE + k));
        if let Some(k) = found {
            return Ok(from + k + 1);
        }
    }
    err(at, "an array runs to the end of the file: it was cut short")
}

/// The end of any JSON value starting at `at`, by balancing brackets outside strings.
fn skip_value(data: &[u8], at: usize) -> Result<usize, FormatError> {
    let mut depth = 0usize;
    let mut i = at;
    loop {
        match data.get(i) {
            None => return err(at, "a value runs to the end of the file: it was cut short"),
            Some(b'"') => i = skip_string(data, i)?,
            Some(b'[' | b'{') => {
                depth += 1;
                i += 1;
            }
            Some(b']' | b'}') => {
                if depth == 0 {
                    return err(i, "unbalanced bracket");
                }
                depth -= 1;
                i += 1;
            }
            Some(_) if depth == 0 => {
                // A scalar: up to the next delimiter.
                while data
                    .get(i)
                    .is_some_and(|b| !matches!(b, b',' | b'}' | b']'))
                {
                    i += 1;
                }
                return Ok(i);
            }
            Some(_) => i += 1,
        }
        if depth == 0 {
            return Ok(i);
        }
    }
}
