//! Everything at once, for the CLI, in two rounds on two cores: the dominator tree beside the histogram
//! and the referrer scan, then the retained sizes beside the BFS.
//!
//! The dominator DFS and main loop are inherently sequential, so the other passes are overlapped with them
//! instead of parallelized after them. The BFS waits for the second round because the dominators' working
//! arrays are the analyses' memory peak: its result (4 bytes per object) and its frontier (millions of
//! objects at its widest on a large Java dump) would add to that peak, where beside the retained sizes they
//! take the place of what the dominators freed, at the cost of a little wall time.
//!
//! A report that fills no index needs less: [`retained_sizes`] runs only the dominator tree and the sizes.

use crate::dominators::Dominators;
use crate::histogram::Histogram;
use crate::paths::ShortestPaths;
use crate::retained::{RetainedSizes, TypeRetained};
use crate::unreferenced::{referenced, UnreferencedReport};
use heapgraph_graph::timings::phase;
use heapgraph_graph::{release_freed_heap, Graph, GraphError, MappedColumns, SavedColumns};

/// All analyses of one graph.
pub struct Analysis {
    pub dominators: Dominators,
    pub retained: RetainedSizes,
    pub type_retained: TypeRetained,
    pub paths: ShortestPaths,
    /// Sorted by shallow size, with the retained column filled.
    pub histogram: Histogram,
    pub unreferenced: UnreferencedReport,
}

impl Analysis {
    /// Hands every analysis's arrays to an index file.
    pub fn save<'a>(&'a self, out: &mut SavedColumns<'a>) {
        self.dominators.save(out);
        self.retained.save(out);
        self.type_retained.save(out);
        self.paths.save(out);
        self.histogram.save(out);
        self.unreferenced.save(out);
    }

    /// The analyses [`Analysis::save`] wrote of `graph`, each checked against it.
    pub fn from_columns(
        columns: &MappedColumns<'_>,
        graph: &Graph,
    ) -> Result<Analysis, GraphError> {
        let n = graph.node_count();
        let dominators = Dominators::from_columns(columns, n)?;
        let retained = RetainedSizes::from_columns(columns, &dominators)?;
        let type_retained = TypeRetained::from_columns(columns, graph.type_count())?;
        let paths = ShortestPaths::from_columns(columns, n, graph.edge_count())?;
        let histogram = Histogram::from_columns(columns, graph, retained.total(), &type_retained)?;
        let unreferenced =
            UnreferencedReport::from_columns(columns, graph, histogram.total_shallow_bytes)?;
        Ok(Analysis {
            dominators,
            retained,
            type_retained,
            paths,
            histogram,
            unreferenced,
        })
    }
}

/// The dominator tree and the objects' retained sizes of `graph` alone, for a report that needs nothing
/// else. They run on one core: each is sequential, and the other analyses are what overlapped them.
pub fn retained_sizes(graph: &Graph) -> (Dominators, RetainedSizes) {
    let dominators = phase("dominators", || Dominators::in_dfs_order(graph));
    let dominators = phase("dominators: renumbering", || dominators.renumber());
    release_freed_heap();
    let retained = phase("retained sizes", || {
        RetainedSizes::compute(graph, &dominators)
    });
    (dominators, retained)
}

/// Runs every analysis on `graph`.
pub fn analyze(graph: &Graph) -> Analysis {
    let (dfs_dominators, (mut histogram, has_referrer)) = rayon::join(
        || phase("dominators", || Dominators::in_dfs_order(graph)),
        || {
            rayon::join(
                || phase("histogram", || Histogram::compute(graph)),
                || phase("referrer scan", || referenced(graph)),
            )
        },
    );
    // Each round's temporaries are freed now; give their pages back before the next round peaks.
    release_freed_heap();
    // The BFS takes longer than the renumbering and the retained sizes together, so the renumbering
    // costs no time here; in round 1 it kept the second core idle.
    let ((dominators, retained, type_retained), paths) = rayon::join(
        || {
            let dominators = phase("dominators: renumbering", || dfs_dominators.renumber());
            let retained = phase("retained sizes", || {
                RetainedSizes::compute(graph, &dominators)
            });
            let type_retained = TypeRetained::compute(graph, &dominators, &retained);
            (dominators, retained, type_retained)
        },
        || phase("shortest paths", || ShortestPaths::compute(graph)),
    );
    release_freed_heap();
    let unreferenced = phase("unreferenced", || {
        UnreferencedReport::compute(graph, &has_referrer, |n| paths.is_reached(n))
    });
    histogram.add_retained(retained.total(), &type_retained);
    Analysis {
        dominators,
        retained,
        type_retained,
        paths,
        histogram,
        unreferenced,
    }
}
