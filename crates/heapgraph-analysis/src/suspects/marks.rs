//! Which steps of a suspect's path a report names: the holder and the reference to fix.
//!
//! Both are read from edge kinds and names alone, so they mean the same on every runtime: a *named*
//! reference is an attribute, field, property, mapping key or local variable; `<internal>` references
//! (a class its loader defines, a map's backing table) and `__dunder__` names (a module's `__dict__`, a
//! prototype's `__proto__`) are the runtime's plumbing, not the program's.

use crate::dominators::{Dominators, Idom};
use crate::paths::PathStep;
use heapgraph_graph::{EdgeKind, EdgeLabel, Graph};

/// The step a report names the suspect by: the target of the first named reference on the path, or the
/// path's last step when it has none.
pub fn holder(graph: &Graph, path: &[PathStep]) -> usize {
    path.iter()
        .position(|s| s.via.is_some_and(|l| is_named(graph, l)))
        .unwrap_or(path.len().saturating_sub(1))
}

/// The step whose incoming reference is the one to fix: the reference to the path's last object, moved
/// up while that object is plumbing of the one above (a backing array its owner alone keeps alive, or
/// an object reached through an `<internal>` reference), never above the holder.
pub fn fix(graph: &Graph, dominators: &Dominators, path: &[PathStep], holder: usize) -> usize {
    let mut at = path.len().saturating_sub(1);
    while at > holder {
        let step = &path[at];
        let internal = step.via.is_none_or(|l| !is_named(graph, l));
        let owned = dominators.idom(step.node) == Idom::Node(path[at - 1].node);
        let backing = owned && is_array_like(&graph.type_name(graph.type_of(step.node)));
        if internal || backing {
            at -= 1;
        } else {
            break;
        }
    }
    at
}

fn is_named(graph: &Graph, label: EdgeLabel) -> bool {
    let kind_named = matches!(
        label.kind(),
        EdgeKind::Attribute | EdgeKind::Key | EdgeKind::Local
    );
    let dunder = label.name().is_some_and(|id| {
        let name = graph.strings().get(id);
        name.len() > 4 && name.starts_with("__") && name.ends_with("__")
    });
    kind_named && !dunder
}

/// Arrays that back a collection: `Object[]`, V8's `(array)` and its DevTools names.
fn is_array_like(type_name: &str) -> bool {
    type_name.ends_with("[]")
        || type_name.starts_with("(array)")
        || type_name.starts_with("system / ")
}
