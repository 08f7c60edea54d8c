//! The type histogram: how many objects of each type, and how many bytes they take.
//!
//! The first question about any heap, and the cheapest: one parallel pass over the node arrays. Retained
//! sizes per type join later, once the dominator tree exists, so that `heapgraph types` can show both.

use crate::retained::TypeRetained;
use heapgraph_graph::{same_lengths, Graph, GraphError, MappedColumns, SavedColumns, TypeId};
use rayon::prelude::*;

const TYPES: &str = "histogram.types";
const COUNTS: &str = "histogram.counts";
const SHALLOW: &str = "histogram.shallow";

/// One type's line in the histogram.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeRow {
    pub type_id: TypeId,
    pub type_name: String,
    pub count: u64,
    pub shallow_bytes: u64,
    /// Bytes the type's instances retain (instances dominated by another instance of the same type are
    /// not counted again); `None` until [`Histogram::add_retained`].
    pub retained_bytes: Option<u64>,
    /// `count` as a share (0..=1) of all objects.
    pub count_share: f64,
    /// `shallow_bytes` as a share of all objects' shallow bytes.
    pub shallow_share: f64,
    /// `retained_bytes` as a share of all reachable objects' shallow bytes.
    pub retained_share: Option<f64>,
}

/// What to sort the histogram by (always descending, ties by type name).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum SortKey {
    Count,
    Size,
    Retained,
}

/// Per-type counts and sizes of one graph. Only types with at least one instance have a row.
#[derive(Clone, Debug, PartialEq)]
pub struct Histogram {
    pub rows: Vec<TypeRow>,
    pub total_count: u64,
    pub total_shallow_bytes: u64,
    /// Shallow bytes of all reachable objects (the super-root's retained size), once retained sizes are in.
    pub total_reachable_bytes: Option<u64>,
}

impl Histogram {
    /// Counts every node by type (parallel reduce), sorted by shallow size.
    pub fn compute(graph: &Graph) -> Histogram {
        let types = graph.type_count();
        const CHUNK: usize = 1 << 16;
        let n = graph.node_count();
        let tally = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .fold(
                || vec![(0u64, 0u64); types],
                |mut acc, chunk| {
                    let nodes = chunk * CHUNK..((chunk + 1) * CHUNK).min(n);
                    graph.for_each_size(nodes, |node, size| {
                        let slot = &mut acc[graph.type_of(node) as usize];
                        slot.0 += 1;
                        slot.1 += size;
                    });
                    acc
                },
            )
            .reduce(
                || vec![(0u64, 0u64); types],
                |mut a, b| {
                    for (x, y) in a.iter_mut().zip(b) {
                        x.0 += y.0;
                        x.1 += y.1;
                    }
                    a
                },
            );
        Histogram::from_counts(tally.iter().enumerate().filter(|(_, t)| t.0 > 0).map(
            |(ty, &(count, bytes))| (ty as TypeId, graph.type_name(ty as TypeId), count, bytes),
        ))
    }

    /// The histogram of per-type (type id, name, count, shallow bytes), as a reader can count them without
    /// a graph; sorted by shallow size.
    pub fn from_counts(counts: impl Iterator<Item = (TypeId, String, u64, u64)>) -> Histogram {
        let counts: Vec<_> = counts.collect();
        let total_count = counts.iter().map(|c| c.2).sum();
        let total_shallow_bytes = counts.iter().map(|c| c.3).sum();
        let rows = counts
            .into_iter()
            .map(|(type_id, type_name, count, bytes)| TypeRow {
                type_id,
                type_name,
                count,
                shallow_bytes: bytes,
                retained_bytes: None,
                count_share: share(count, total_count),
                shallow_share: share(bytes, total_shallow_bytes),
                retained_share: None,
            })
            .collect();
        let mut histogram = Histogram {
            rows,
            total_count,
            total_shallow_bytes,
            total_reachable_bytes: None,
        };
        histogram.sort_by(SortKey::Size);
        histogram
    }

    /// Hands the counts to an index file: type, count and shallow bytes per row (names and shares
    /// follow from them).
    pub fn save(&self, out: &mut SavedColumns<'_>) {
        let column = |f: fn(&TypeRow) -> u64| self.rows.iter().map(f).collect::<Vec<u64>>();
        out.put_owned(
            TYPES,
            self.rows.iter().map(|r| r.type_id).collect::<Vec<_>>(),
        );
        out.put_owned(COUNTS, column(|r| r.count));
        out.put_owned(SHALLOW, column(|r| r.shallow_bytes));
    }

    /// The histogram [`Histogram::save`] wrote of `graph`, with the retained column filled (see
    /// [`Histogram::add_retained`]).
    pub fn from_columns(
        columns: &MappedColumns<'_>,
        graph: &Graph,
        total: u64,
        retained: &TypeRetained,
    ) -> Result<Histogram, GraphError> {
        let types = columns.column::<u32>(TYPES)?;
        let (counts, shallow) = (
            columns.column::<u64>(COUNTS)?,
            columns.column::<u64>(SHALLOW)?,
        );
        same_lengths("histogram", &[types.len(), counts.len(), shallow.len()])?;
        if types.iter().any(|&t| t as usize >= graph.type_count()) {
            return Err(GraphError::Saved(
                "its histogram names a type that does not exist".into(),
            ));
        }
        let rows =
            (0..types.len()).map(|i| (types[i], graph.type_name(types[i]), counts[i], shallow[i]));
        let mut histogram = Histogram::from_counts(rows);
        histogram.add_retained(total, retained);
        Ok(histogram)
    }

    /// Fills the retained column from per-type retained sizes, with shares of `total`, the shallow bytes
    /// of every reachable object.
    pub fn add_retained(&mut self, total: u64, retained: &TypeRetained) {
        self.total_reachable_bytes = Some(total);
        for row in &mut self.rows {
            let bytes = retained.of(row.type_id);
            row.retained_bytes = Some(bytes);
            row.retained_share = Some(share(bytes, total));
        }
    }

    /// Sorts rows descending by `key`; ties by type name, then type id, so output is stable.
    /// Sorting by retained size before [`Histogram::add_retained`] treats every row as 0.
    pub fn sort_by(&mut self, key: SortKey) {
        let value = |r: &TypeRow| match key {
            SortKey::Count => r.count,
            SortKey::Size => r.shallow_bytes,
            SortKey::Retained => r.retained_bytes.unwrap_or(0),
        };
        self.rows.sort_by(|a, b| {
            value(b)
                .cmp(&value(a))
                .then_with(|| a.type_name.cmp(&b.type_name))
                .then_with(|| a.type_id.cmp(&b.type_id))
        });
    }
}

/// `part / whole`, 0 when the whole is 0.
pub(crate) fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}
