//! Where a graph's edge labels live: one per edge in memory, or re-read from the dump when asked.
//!
//! The analyses' hot loops ask one thing of a label: whether the edge [retains](EdgeLabel::retains) its
//! target. That is one bit per edge ([`WeakEdges`]), which every graph keeps. The label itself (`.next`,
//! `[3]`) is only printed, for the few hundred edges a report shows. A format that can read an object's
//! references again from its dump (HPROF: the object's sub-record) lets the graph derive labels on
//! demand instead of holding 4 bytes per edge (185 MB on a 20M-object Java heap); the others store them.

use crate::column::Column;
use crate::label::EdgeLabel;
use crate::NodeId;
use rayon::prelude::*;
use std::sync::{Arc, Mutex};

/// One bit per edge, set when the edge does not retain its target.
#[derive(Clone, Debug, Default)]
pub struct WeakEdges {
    words: Column<u64>,
}

impl WeakEdges {
    /// The weak bits of `labels`.
    pub fn of(labels: &[EdgeLabel]) -> WeakEdges {
        let words = labels
            .par_chunks(64)
            .map(|chunk| {
                chunk
                    .iter()
                    .enumerate()
                    .filter(|(_, l)| !l.retains())
                    .fold(0u64, |word, (i, _)| word | 1 << i)
            })
            .collect::<Vec<u64>>();
        WeakEdges {
            words: words.into(),
        }
    }

    /// Bits as [`WeakEdges::saved`] gave them (an index file's): there must be one per edge.
    pub fn from_saved(words: Column<u64>, edges: usize) -> Result<WeakEdges, String> {
        if words.len() != edges.div_ceil(64) {
            return Err(format!(
                "{} words of weak-edge bits for {edges} edges",
                words.len()
            ));
        }
        Ok(WeakEdges { words })
    }

    pub fn saved(&self) -> &Column<u64> {
        &self.words
    }

    /// Whether edge `edge` (a position in the forward CSR) keeps its target alive.
    #[inline]
    pub fn retains(&self, edge: usize) -> bool {
        self.words[edge / 64] & (1 << (edge % 64)) == 0
    }

    /// Bits for `edges` edges; bits past the last edge are cleared.
    pub fn from_words(mut words: Vec<u64>, edges: usize) -> WeakEdges {
        words.truncate(edges.div_ceil(64));
        if edges % 64 != 0 {
            if let Some(last) = words.last_mut() {
                *last &= (1 << (edges % 64)) - 1;
            }
        }
        words.shrink_to_fit();
        WeakEdges {
            words: words.into(),
        }
    }

    pub fn heap_bytes(&self) -> usize {
        self.words.heap_bytes()
    }

    pub(crate) fn word_count(&self) -> usize {
        self.words.len()
    }
}

/// A graph's edge labels, as a format hands them over.
pub struct EdgeLabels {
    /// One per edge, or `None` when the graph's detail source derives them.
    pub(crate) stored: Option<Column<EdgeLabel>>,
    pub(crate) weak: WeakEdges,
}

impl EdgeLabels {
    /// One label per edge, kept.
    pub fn stored(labels: Column<EdgeLabel>) -> EdgeLabels {
        let weak = WeakEdges::of(&labels);
        EdgeLabels {
            stored: Some(labels),
            weak,
        }
    }

    /// Labels the graph's detail source reads from the dump when asked
    /// ([`NodeDetailSource::edge_labels`](crate::NodeDetailSource::edge_labels)); only the weak bits are kept.
    pub fn derived(weak: WeakEdges) -> EdgeLabels {
        EdgeLabels { stored: None, weak }
    }

    /// Labels and weak bits an index file kept (the labels' bits are not recomputed: that would read
    /// every label).
    pub fn saved(labels: Column<EdgeLabel>, weak: WeakEdges) -> EdgeLabels {
        EdgeLabels {
            stored: Some(labels),
            weak,
        }
    }
}

/// Labels derived for nodes with many edges, kept for the next question: a retainer tree asks for the
/// label of one edge of the same 2M-element array once per element it passes through.
#[derive(Default)]
pub(crate) struct DerivedCache {
    /// Most recently used last.
    entries: Mutex<Vec<(NodeId, Arc<Vec<EdgeLabel>>)>>,
}

impl DerivedCache {
    /// Nodes with fewer edges are derived again each time: one object's record, quickly read.
    pub const MIN_EDGES: usize = 256;
    /// Labels kept at most, over all entries: 32 MB.
    const MAX_LABELS: usize = 8 << 20;

    pub fn get(&self, node: NodeId) -> Option<Arc<Vec<EdgeLabel>>> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let at = entries.iter().position(|(n, _)| *n == node)?;
        let entry = entries.remove(at);
        let labels = entry.1.clone();
        entries.push(entry);
        Some(labels)
    }

    pub fn put(&self, node: NodeId, labels: Arc<Vec<EdgeLabel>>) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.push((node, labels));
        while entries.len() > 1
            && entries.iter().map(|(_, l)| l.len()).sum::<usize>() > Self::MAX_LABELS
        {
            entries.remove(0);
        }
    }
}
