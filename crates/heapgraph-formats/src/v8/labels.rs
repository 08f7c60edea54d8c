//! Edges into the graph: targets renumbered to node ids, and labels, in parallel.
//!
//! A big snapshot names millions of edges (a Map's backing table names each slot by its number, as an
//! internal edge named "65540"), so every V8 string an edge names is interned once, up front, in string
//! order, except the numbers that only internal edges use: those label the edge as the index it is,
//! `[65540]`, and interning millions of them took a third of loading. Then chunks of nodes label their
//! edges on all threads. The few labels that need a new string (hidden edges, which V8 names by number,
//! and element edges that do not retain) are made afterwards, in order.

use super::strings::StringTable;
use super::structure::{self, EdgeType, View};
use super::NONE;
use crate::edges::DANGLING;
use crate::scatter::split_by_lengths;
use hashbrown::HashMap;
use heapgraph_graph::{EdgeKind, EdgeLabel, NodeId, SharedNodeBits, StrId, StringInterner};
use rayon::prelude::*;

/// Nodes per labeling task.
const CHUNK: usize = 1 << 15;

/// Element indices up to this fit an [`EdgeLabel::index`]; larger ones are named by their digits.
const MAX_INDEX_LABEL: u32 = (1 << 29) - 1;

/// The interned id of every V8 string an edge names, and which of them name WeakMap entries.
pub struct EdgeNames {
    ids: Vec<StrId>,
    /// V8 string index -> its value + 1 when it is a number that only internal edges use (0: it is not).
    numbers: Vec<u32>,
    /// V8 string index -> the WeakMap table id its name gives.
    weakmap_tables: HashMap<u32, u64>,
}

impl EdgeNames {
    pub fn intern(
        view: &View<'_>,
        data: &[u8],
        strings: &StringTable,
        interner: &mut StringInterner,
    ) -> EdgeNames {
        let (by_internal, by_others) = (
            SharedNodeBits::new(strings.len()),
            SharedNodeBits::new(strings.len()),
        );
        (0..view.edges.names.len()).into_par_iter().for_each(|e| {
            let raw = view.edges.names[e];
            let ty = view.edge_type(e);
            if !ty.is_indexed() && (raw as usize) < strings.len() {
                match ty {
                    EdgeType::Internal => by_internal.insert(raw),
                    _ => by_others.insert(raw),
                }
            }
        });
        let (by_internal, by_others) = (by_internal.into_bits(), by_others.into_bits());
        let mut ids = vec![StrId(u32::MAX); strings.len()];
        let mut numbers = vec![0u32; strings.len()];
        let mut weakmap_tables = HashMap::new();
        let words = by_internal.words().iter().zip(by_others.words());
        for (word, (&internal, &others)) in words.enumerate() {
            let mut bits = internal | others;
            while bits != 0 {
                let bit = bits.trailing_zeros();
                bits &= bits - 1;
                let raw = word * 64 + bit as usize;
                if others & (1 << bit) == 0 {
                    if let Some(n) = strings.raw(data, raw).and_then(small_number) {
                        numbers[raw] = n + 1;
                        continue;
                    }
                }
                let text = strings.get(data, raw).unwrap_or_default();
                if let Some(table) = structure::weakmap_table(&text) {
                    weakmap_tables.insert(raw as u32, table);
                }
                ids[raw] = interner.intern(&text);
            }
        }
        EdgeNames {
            ids,
            numbers,
            weakmap_tables,
        }
    }

    /// The number V8 string `raw` spells, if only internal edges use it.
    fn number(&self, raw: u32) -> Option<u32> {
        self.numbers
            .get(raw as usize)
            .and_then(|&n| n.checked_sub(1))
    }

    /// The interned name of V8 string `raw` (an edge names it, so it was interned).
    fn id(&self, raw: u32) -> Option<StrId> {
        self.ids
            .get(raw as usize)
            .copied()
            .filter(|id| id.0 != u32::MAX)
    }
}

/// The value of a string of at most nine decimal digits without leading zeros that fits an index label.
fn small_number(raw: &[u8]) -> Option<u32> {
    let plain = !raw.is_empty() && raw.len() <= 9 && (raw.len() == 1 || raw[0] != b'0');
    if !plain || !raw.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = raw.iter().fold(0u32, |n, &d| n * 10 + (d - b'0') as u32);
    (n <= MAX_INDEX_LABEL).then_some(n)
}

/// What decides an edge's label: its type and name, and the page-ownership of its ends.
pub struct Labeler<'a> {
    pub view: &'a View<'a>,
    pub page_owned: &'a [bool],
    pub names: &'a EdgeNames,
}

impl Labeler<'_> {
    /// Whether the edge retains, by DevTools' rules (see [`structure`]).
    fn retains(&self, e: usize, from: u32, to: u32) -> bool {
        let ty = self.view.edge_type(e);
        let into_page_from_outside =
            self.page_owned[to as usize] && !self.page_owned[from as usize];
        if matches!(ty, EdgeType::Weak | EdgeType::Shortcut) || into_page_from_outside {
            return false;
        }
        let raw = self.view.edges.names[e];
        ty != EdgeType::Internal
            || self.names.weakmap_tables.is_empty()
            || self.names.weakmap_tables.get(&raw) != Some(&self.view.nodes.ids.get(from as usize))
    }

    /// The label, or `None` when it needs a string not interned yet (see [`Labeler::deferred`]).
    fn label(&self, e: usize, from: u32, to: u32) -> Option<EdgeLabel> {
        let ty = self.view.edge_type(e);
        let raw = self.view.edges.names[e];
        let retains = self.retains(e, from, to);
        if ty.is_indexed() {
            return (retains && ty == EdgeType::Element && raw <= MAX_INDEX_LABEL)
                .then(|| EdgeLabel::index(raw as u64));
        }
        if let (EdgeType::Internal, Some(n)) = (ty, self.names.number(raw)) {
            // Not interned: a weak one is named when deferred.
            return retains.then(|| EdgeLabel::index(n as u64));
        }
        let kind = match ty {
            _ if !retains => EdgeKind::Weak,
            EdgeType::Context => EdgeKind::Local,
            EdgeType::Property => EdgeKind::Attribute,
            _ => EdgeKind::Internal,
        };
        Some(EdgeLabel::named(
            kind,
            self.names.id(raw).unwrap_or_default(),
        ))
    }

    /// The label of an indexed edge that [`Labeler::label`] left: named by its number.
    fn deferred(&self, e: usize, from: u32, to: u32, interner: &mut StringInterner) -> EdgeLabel {
        let raw = self.view.edges.names[e];
        let element = self.view.edge_type(e) == EdgeType::Element;
        let text = if element {
            format!("[{raw}]")
        } else {
            raw.to_string()
        };
        let kind = if self.retains(e, from, to) {
            EdgeKind::Internal
        } else {
            EdgeKind::Weak
        };
        EdgeLabel::named(kind, interner.intern(&text))
    }
}

pub struct Resolved {
    pub offsets: Vec<u32>,
    pub targets: Vec<NodeId>,
    pub labels: Vec<EdgeLabel>,
    /// Edges into the synthetic groups, which are not nodes.
    pub dangling: u64,
}

/// The forward edges of the nodes `order` lists (node id -> snapshot ordinal); `node_of` maps back.
pub fn resolve(
    labeler: &Labeler<'_>,
    order: &[u32],
    node_of: &[NodeId],
    interner: &mut StringInterner,
) -> Resolved {
    let view = labeler.view;
    let kept = |o: u32| {
        view.edges_of(o)
            .filter(|&e| node_of[view.edges.to[e] as usize] != NONE)
            .count() as u32
    };
    let counts: Vec<u32> = order.par_iter().map(|&o| kept(o)).collect();
    let mut offsets = Vec::with_capacity(order.len() + 1);
    offsets.push(0u32);
    let mut total = 0u32;
    for c in counts {
        total += c;
        offsets.push(total);
    }
    let mut targets = vec![DANGLING; total as usize];
    let mut labels = vec![EdgeLabel::PLAIN; total as usize];
    let nodes: Vec<_> = (0..order.len())
        .step_by(CHUNK)
        .map(|start| start..(start + CHUNK).min(order.len()))
        .collect();
    let lengths = || {
        nodes
            .iter()
            .map(|n| (offsets[n.end] - offsets[n.start]) as usize)
    };
    let tasks: Vec<_> = nodes
        .iter()
        .cloned()
        .zip(split_by_lengths(&mut targets, lengths()))
        .zip(split_by_lengths(&mut labels, lengths()))
        .map(|((nodes, t), l)| (nodes, t, l))
        .collect();
    // Each task: the edges whose labels wait for a string, as (position, edge, from, to).
    let waiting: Vec<Vec<(usize, usize, u32, u32)>> = tasks
        .into_par_iter()
        .map(|(nodes, targets, labels)| {
            let base = offsets[nodes.start] as usize;
            let mut waiting = Vec::new();
            let mut at = 0;
            for &o in &order[nodes] {
                for e in view.edges_of(o) {
                    let t = view.edges.to[e];
                    let target = node_of[t as usize];
                    if target == NONE {
                        continue;
                    }
                    targets[at] = target;
                    match labeler.label(e, o, t) {
                        Some(label) => labels[at] = label,
                        None => waiting.push((base + at, e, o, t)),
                    }
                    at += 1;
                }
            }
            waiting
        })
        .collect();
    for (position, e, from, to) in waiting.into_iter().flatten() {
        labels[position] = labeler.deferred(e, from, to, interner);
    }
    let all = view.edge_ends.last().map_or(0, |&end| end as u64);
    Resolved {
        dangling: all - total as u64 - edges_from_groups(view, node_of),
        offsets,
        targets,
        labels,
    }
}

/// Edges leaving the synthetic groups: they became roots, not dangling references.
fn edges_from_groups(view: &View<'_>, node_of: &[NodeId]) -> u64 {
    (0..node_of.len() as u32)
        .filter(|&o| node_of[o as usize] == NONE)
        .map(|o| view.edges_of(o).len() as u64)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::small_number;

    #[test]
    fn only_plain_small_numbers_become_indices() {
        assert_eq!(small_number(b"0"), Some(0));
        assert_eq!(small_number(b"65540"), Some(65540));
        assert_eq!(small_number(b"536870911"), Some(536_870_911));
        for not in [
            &b""[..],
            b"007",
            b"536870912",
            b"1234567890",
            b"12a",
            b"-1",
            b"1 / part of key",
        ] {
            assert_eq!(small_number(not), None, "{}", String::from_utf8_lossy(not));
        }
    }
}
