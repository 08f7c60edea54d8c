//! What the snapshot's synthetic nodes mean, and which edges retain, following DevTools' rules
//! (`HeapSnapshot.ts`) so that dominators and retained sizes agree with Chrome's and memlab's.
//!
//! - The synthetic root, "(GC roots)" with its categories ("(Strong roots)", "(Stack roots)", ...) and the
//!   embedder's groups ("C++ roots") only say why objects are alive. They become
//!   heapgraph roots, not nodes: each object they reference is a root of kind "gc root" (named by its
//!   category) or "embedder", and the root's shortcut targets (the global object, each Window) are roots
//!   of kind "global", listed first.
//! - An edge does not retain (DevTools: not "essential") when it is weak; when it is a shortcut from any
//!   node but the root; when it is the table-to-value half of a WeakMap entry (the key-to-value half is
//!   kept); and when it leads from a node the page does not own into one it owns. Page-owned nodes are
//!   those reachable, over non-weak edges, from the global objects and "(Document DOM trees)": an object
//!   a page holds is explained by the page, not by a debugger handle that also holds it.

use super::columns::{Edges, Nodes};
use heapgraph_graph::RootKind;

/// DevTools' edge type names, as `meta.edge_types` lists them.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum EdgeType {
    Context,
    Element,
    Property,
    Internal,
    Hidden,
    Shortcut,
    Weak,
    Other,
}

impl EdgeType {
    pub fn table(names: &[String]) -> Vec<EdgeType> {
        names
            .iter()
            .map(|n| match n.as_str() {
                "context" => EdgeType::Context,
                "element" => EdgeType::Element,
                "property" => EdgeType::Property,
                "internal" => EdgeType::Internal,
                "hidden" => EdgeType::Hidden,
                "shortcut" => EdgeType::Shortcut,
                "weak" => EdgeType::Weak,
                _ => EdgeType::Other,
            })
            .collect()
    }

    /// Whether `name_or_index` is an index rather than a string.
    pub fn is_indexed(self) -> bool {
        matches!(self, EdgeType::Element | EdgeType::Hidden)
    }
}

/// An object held from outside the heap: by a synthetic node of the snapshot.
pub struct RootRecord {
    pub ordinal: u32,
    pub kind: RootKind,
    /// What holds it: the category ("(Strong roots)"), the embedder group, or the global's edge name.
    pub name: String,
}

pub struct Structure {
    /// The synthetic nodes that only group roots (those of size 0); they are not graph nodes.
    pub structural: Vec<bool>,
    pub page_owned: Vec<bool>,
    pub roots: Vec<RootRecord>,
}

/// The snapshot seen through its edge ranges: node `o`'s edges end at `edge_ends[o]` and start where the
/// previous node's end.
pub struct View<'a> {
    pub nodes: &'a Nodes,
    pub edges: &'a Edges,
    pub edge_ends: &'a [u32],
    pub edge_types: &'a [EdgeType],
    pub synthetic_type: Option<u8>,
    pub root: u32,
}

impl View<'_> {
    pub fn edges_of(&self, o: u32) -> std::ops::Range<usize> {
        let o = o as usize;
        let start = if o == 0 { 0 } else { self.edge_ends[o - 1] };
        start as usize..self.edge_ends[o] as usize
    }

    pub fn edge_type(&self, e: usize) -> EdgeType {
        self.edge_types[self.edges.types[e] as usize]
    }

    fn is_synthetic(&self, o: u32) -> bool {
        Some(self.nodes.types[o as usize]) == self.synthetic_type
    }
}

/// Finds the structural nodes, the roots and the page-owned nodes. `name` gives a node's name.
pub fn analyze(view: &View<'_>, name: &dyn Fn(u32) -> String) -> Structure {
    let n = view.nodes.types.len();
    let mut structural = vec![false; n];
    // Each structural node and the root's child it hangs from ("(GC roots)", "C++ roots", ...).
    let mut queue: Vec<(u32, Option<u32>)> = vec![(view.root, None)];
    structural[view.root as usize] = true;
    let mut head = 0;
    while let Some(&(s, group)) = queue.get(head) {
        head += 1;
        for e in view.edges_of(s) {
            let t = view.edges.to[e];
            // A synthetic node with a size of its own (Node's "Node / Environment") is an object
            // DevTools lists; only the empty ones group roots.
            if view.is_synthetic(t)
                && !structural[t as usize]
                && view.nodes.sizes.get(t as usize) == 0
            {
                structural[t as usize] = true;
                queue.push((t, group.or(Some(t))));
            }
        }
    }

    let page_seeds: Vec<u32> = view
        .edges_of(view.root)
        .filter(|&e| {
            let t = view.edges.to[e];
            view.edge_type(e) == EdgeType::Shortcut
                || (structural[t as usize] && name(t) == "(Document DOM trees)")
        })
        .map(|e| view.edges.to[e])
        .collect();
    let page_owned = reachable(view, &page_seeds);

    let mut globals = Vec::new();
    let mut others = Vec::new();
    for &(s, group) in &queue {
        let in_gc_roots = group.is_some_and(|g| name(g) == "(GC roots)");
        let holder = if s == view.root {
            "(root)".to_string()
        } else {
            name(s)
        };
        for e in view.edges_of(s) {
            let t = view.edges.to[e];
            let ty = view.edge_type(e);
            if structural[t as usize] || ty == EdgeType::Weak {
                continue;
            }
            // DevTools exempts the root's own edges from the page rule.
            if s != view.root && page_owned[t as usize] && !page_owned[s as usize] {
                continue;
            }
            if s == view.root && ty == EdgeType::Shortcut {
                globals.push(RootRecord {
                    ordinal: t,
                    kind: RootKind::GlobalObject,
                    name: name(t),
                });
                continue;
            }
            others.push(RootRecord {
                ordinal: t,
                kind: if in_gc_roots {
                    RootKind::GcRoot
                } else {
                    RootKind::Embedder
                },
                name: holder.clone(),
            });
        }
    }
    globals.extend(others);
    Structure {
        structural,
        page_owned,
        roots: globals,
    }
}

/// Nodes reachable from `seeds` over non-weak edges.
fn reachable(view: &View<'_>, seeds: &[u32]) -> Vec<bool> {
    let mut seen = vec![false; view.nodes.types.len()];
    let mut stack = Vec::new();
    for &s in seeds {
        if !seen[s as usize] {
            seen[s as usize] = true;
            stack.push(s);
        }
    }
    while let Some(u) = stack.pop() {
        for e in view.edges_of(u) {
            let t = view.edges.to[e];
            if view.edge_type(e) != EdgeType::Weak && !seen[t as usize] {
                seen[t as usize] = true;
                stack.push(t);
            }
        }
    }
    seen
}

/// The table id in a WeakMap entry's edge name
/// (`"12 / part of key (Key @6163) -> value (Val @78231) pair in WeakMap (table @78221)"`), if it is one.
pub fn weakmap_table(edge_name: &str) -> Option<u64> {
    // Most internal edges are named by a number (a hash table's slots): rule them out cheaply.
    if !edge_name.ends_with(')') {
        return None;
    }
    let (index, rest) = edge_name.split_once(" / part of key (")?;
    if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (_, table) = rest.rsplit_once(" pair in WeakMap (table @")?;
    table.strip_suffix(')')?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_table_of_weakmap_entry_names() {
        assert_eq!(
            weakmap_table(
                "12 / part of key (Key @6163) -> value (Val @78231) pair in WeakMap (table @78221)"
            ),
            Some(78221)
        );
        assert_eq!(
            weakmap_table("part of key (K @1) -> value (V @2) pair in WeakMap (table @3)"),
            None
        );
        assert_eq!(weakmap_table("12 / something else"), None);
        assert_eq!(weakmap_table("elements"), None);
    }
}
