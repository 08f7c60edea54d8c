//! Roots: those the dumper recorded, and those the loader derives from refcounts.
//!
//! CPython has no root set; its cycle collector treats an object as held from outside when its refcount
//! exceeds the references it can see from other objects. The loader applies the same rule to the whole
//! dump: refcount minus retaining in-edges > 0 means something outside the dump (C code, an extension, the
//! interpreter) holds the object.

use super::record::{err, FormatError};
use super::scan::RawRoot;
use heapgraph_graph::{Addresses, Root, RootKind, StringInterner};

/// Refcounts from here up mark objects that are never freed: CPython 3.12+ immortal objects report
/// 2^32 - 1 or more (saturated to `u32::MAX` by the loader), and 3.11's statically allocated
/// ("deep-frozen") code objects and constants report exactly 999,999,999. No real object holds a billion
/// references, so treating these as held by the interpreter instead of as refcount excess keeps thousands
/// of static strings and code objects out of the "held from outside" roots.
const IMMORTAL: u32 = 999_999_999;

pub fn collect(
    raw_roots: &[RawRoot],
    interner: &mut StringInterner,
    addresses: &Addresses,
    refcounts: &[u32],
    in_degrees: &[u32],
) -> Result<Vec<Root>, FormatError> {
    let mut roots = Vec::with_capacity(raw_roots.len());
    for raw in raw_roots {
        let kind = match raw.kind {
            1 => RootKind::Module,
            2 => RootKind::Interpreter,
            3 => RootKind::Frame,
            4 => RootKind::Local,
            k => return err(raw.offset, format!("ROOT record has unknown kind {k}")),
        };
        if let Some(node) = addresses.find(raw.address) {
            roots.push(Root {
                node,
                kind,
                name: raw.name,
            });
        }
    }
    let external_name = interner.intern("held from outside the dump (refcount exceeds references)");
    let immortal_name = interner.intern("immortal, referenced by nothing in the dump");
    for (node, (&refcount, &in_degree)) in refcounts.iter().zip(in_degrees).enumerate() {
        let kind = if refcount >= IMMORTAL {
            (in_degree == 0).then_some((RootKind::Immortal, immortal_name))
        } else {
            (refcount > in_degree).then_some((RootKind::External, external_name))
        };
        if let Some((kind, name)) = kind {
            roots.push(Root {
                node: node as u32,
                kind,
                name,
            });
        }
    }
    Ok(roots)
}
