//! Fingerprints: one name per leak that stays the same across dumps, runs and machines.
//!
//! A fingerprint is built from what a program's code decides, and nothing a run decides: the types and
//! edge names of the suspect's path from its holder down, with element indices written `[i]`, mapping
//! keys that are numbers or addresses written `[k]`, and `<internal>` references (collection internals)
//! left out. Addresses, ids and sizes never enter it. The text is hashed with 64-bit FNV-1a, printed as
//! 16 hex digits.

use crate::paths::PathStep;
use heapgraph_graph::{EdgeKind, Graph};

/// The fingerprint of `path` (holder first); a group's type name is added to it.
pub fn of_path(graph: &Graph, path: &[PathStep], group_type: Option<&str>) -> String {
    format!(
        "{:016x}",
        fnv1a(normalized(graph, path, group_type).as_bytes())
    )
}

/// The text a fingerprint hashes: `app.Cache .entries['k'] app.Query .clauses list`.
pub fn normalized(graph: &Graph, path: &[PathStep], group_type: Option<&str>) -> String {
    let mut out = String::new();
    for step in path {
        if let Some(label) = step.via {
            let part = match label.kind() {
                EdgeKind::Internal => continue,
                EdgeKind::Index => "[i]".to_string(),
                EdgeKind::Key => {
                    let key = label.display(graph.strings()).to_string();
                    match looks_generated(&key) {
                        true => "[k]".to_string(),
                        false => key,
                    }
                }
                _ => label.display(graph.strings()).to_string(),
            };
            out.push(' ');
            out.push_str(&part);
        }
        out.push(' ');
        out.push_str(&graph.type_name(graph.type_of(step.node)));
    }
    if let Some(t) = group_type {
        out.push_str(" group ");
        out.push_str(t);
    }
    out.trim_start().to_string()
}

/// A key a run makes up: a number or an address (`['12345']`, `[0x7f..]`, `['id-42']` is kept).
fn looks_generated(key: &str) -> bool {
    let inner = key
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim_matches(|c| c == '\'' || c == '"');
    let hex = inner.strip_prefix("0x").unwrap_or(inner);
    !inner.is_empty()
        && (inner
            .chars()
            .all(|c| c.is_ascii_digit() || c == '-' || c == '.')
            || (inner.starts_with("0x") && hex.chars().all(|c| c.is_ascii_hexdigit())))
}

/// 64-bit FNV-1a.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_addresses_are_generated_keys() {
        for key in ["['12345']", "[42]", "['0x7f00aa']", "['-1.5']"] {
            assert!(looks_generated(key), "{key}");
        }
        for key in ["['CACHE']", "['id-42']", "['orders-by-users']", "['']"] {
            assert!(!looks_generated(key), "{key}");
        }
    }

    #[test]
    fn fnv1a_matches_the_reference_values() {
        // From the FNV reference test suite.
        assert_eq!(fnv1a(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a(b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x85944171f73967e8);
    }
}
