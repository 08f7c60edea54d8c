//! GC roots with their kind and a name for people (a class's name, an object's type, a frame's method
//! and thread), and the edges from each thread object to the locals
//! of its running frames (as MAT draws them), so that chains read `thread -> local in Foo.run()`.

use super::classes::java_name;
use super::records::Records;
use super::resolve::ExtraEdges;
use super::subrecords::RawRoot;
use heapgraph_graph::{Addresses, EdgeKind, EdgeLabel, NodeId, Root, RootKind, StringInterner};
use std::collections::HashMap;

pub struct Roots {
    pub roots: Vec<Root>,
    /// Thread object -> local edges, to add to the threads' own references.
    pub thread_locals: ExtraEdges,
}

/// Resolves the roots; `describe` names a node that has no thread to name it by (a class object by its
/// class name, anything else by its type).
pub fn collect(
    raw: &[RawRoot],
    records: &Records,
    data: &[u8],
    addresses: &Addresses,
    describe: &dyn Fn(NodeId) -> String,
    interner: &mut StringInterner,
) -> Roots {
    // Thread serial -> (thread object address, stack trace serial).
    let threads: HashMap<u32, (u64, u32)> = raw
        .iter()
        .filter(|r| r.kind == RootKind::ThreadObject)
        .filter_map(|r| Some((r.thread_serial?, (r.address, r.trace_serial?))))
        .collect();
    let method = |thread: u32, depth: i32| -> Option<String> {
        let &(_, trace) = threads.get(&thread)?;
        let frame = records
            .frames
            .get(records.traces.get(&trace)?.get(depth as usize)?)?;
        let class = records.class_serials.get(&frame.class_serial)?;
        let class = java_name(&records.text(data, *records.class_names.get(class)?)?);
        Some(format!("{class}.{}()", records.text(data, frame.method)?))
    };
    let mut roots = Vec::with_capacity(raw.len());
    let mut thread_locals = Vec::new();
    for r in raw {
        let Some(node) = addresses.find(r.address) else {
            continue;
        };
        let name = match r.thread_serial {
            Some(t) if r.kind == RootKind::ThreadObject => format!("#{t}"),
            Some(t) => match r.frame.and_then(|depth| method(t, depth)) {
                Some(m) => format!("in {m} [thread #{t}]"),
                None => format!("[thread #{t}]"),
            },
            None => describe(node),
        };
        roots.push(Root {
            node,
            kind: r.kind,
            name: interner.intern(&name),
        });
        if matches!(r.kind, RootKind::JavaFrame | RootKind::JniLocal) {
            let thread = r.thread_serial.and_then(|t| threads.get(&t));
            if let Some(thread) = thread.and_then(|&(a, _)| addresses.find(a)) {
                let local = match r.thread_serial.zip(r.frame).and_then(|(t, d)| method(t, d)) {
                    Some(m) => format!("in {m}"),
                    None => "in a running frame".to_string(),
                };
                let label = EdgeLabel::named(EdgeKind::Local, interner.intern(&local));
                thread_locals.push((thread, r.address, label));
            }
        }
    }
    thread_locals.sort_by_key(|e| e.0);
    Roots {
        roots,
        thread_locals,
    }
}
