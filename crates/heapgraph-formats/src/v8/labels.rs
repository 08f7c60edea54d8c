//! Edges into the graph: targets renumbered to node ids, and labels, in parallel.
//!
//! A big snapshot names millions of edges (a Map's backing table names each slot by its number), so every
//! V8 string an edge names is interned once, up front, in string order; then chunks of nodes label their
//! edges on all threads. The few labels that need a new string (hidden edges, which V8 names by number,
//! and element edges that do not retain) are made afterwards, in order.

use super::strings::StringTable;
use super::structure::{self, EdgeType, View};
use super::NONE;
use crate::edges::DANGLING;
use hashbrown::HashMap;
use heapgraph_graph::{EdgeKind, EdgeLabel, NodeId, StrId, StringInterner};
use rayon::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};

/// Nodes per labeling task.
const CHUNK: usize = 1 << 15;

/// Element indices up to this fit an [`EdgeLabel::index`]; larger ones are named by their digits.
const MAX_INDEX_LABEL: u32 = (1 << 29) - 1;

/// The interned id of every V8 string an edge names, and which of them name WeakMap entries.
pub struct EdgeNames {
    ids: Vec<StrId>,
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
        let used: Vec<AtomicU64> = (0..strings.len().div_ceil(64))
            .map(|_| AtomicU64::new(0))
            .collect();
        (0..view.edges.names.len()).into_par_iter().for_each(|e| {
            let raw = view.edges.names[e] as usize;
            if !view.edge_type(e).is_indexed() && raw < strings.len() {
                used[raw / 64].fetch_or(1 << (raw % 64), Ordering::Relaxed);
            }
        });
        let mut ids = vec![StrId(u32::MAX); strings.len()];
        let mut weakmap_tables = HashMap::new();
        interner.reserve(strings.len());
        for (word, bits) in used.iter().enumerate() {
            let mut bits = bits.load(Ordering::Relaxed);
            while bits != 0 {
                let raw = word * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                let text = strings.get(data, raw).unwrap_or_default();
                if let Some(table) = structure::weakmap_table(&text) {
                    weakmap_tables.insert(raw as u32, table);
                }
                ids[raw] = interner.intern(&text);
            }
        }
        EdgeNames {
            ids,
            weakmap_tables,
        }
    }

    /// The interned name of V8 string `raw` (an edge names it, so it was interned).
    fn id(&self, raw: u32) -> Option<StrId> {
        self.ids
            .get(raw as usize)
            .copied()
            .filter(|id| id.0 != u32::MAX)
    }
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
            || self.names.weakmap_tables.get(&raw) != Some(&self.view.nodes.ids[from as usize])
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
    let mut tasks = Vec::new();
    {
        let (mut targets, mut labels) = (&mut targets[..], &mut labels[..]);
        for start in (0..order.len()).step_by(CHUNK) {
            let end = (start + CHUNK).min(order.len());
            let len = (offsets[end] - offsets[start]) as usize;
            let (t, rest) = targets.split_at_mut(len);
            targets = rest;
            let (l, rest) = labels.split_at_mut(len);
            labels = rest;
            tasks.push((start..end, t, l));
        }
    }
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
    let all: u64 = view.first_edge[view.first_edge.len() - 1];
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
