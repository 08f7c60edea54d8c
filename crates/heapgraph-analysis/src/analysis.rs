//! Everything at once, for the CLI: the dominator tree and retained sizes on one core while the BFS,
//! the histogram and the referrer scan share the other.
//!
//! The dominator DFS and main loop are inherently sequential (research notes: `shared/research/algo.md`),
//! so the other passes are overlapped with them instead of parallelized after them.

use crate::dominators::Dominators;
use crate::histogram::Histogram;
use crate::paths::ShortestPaths;
use crate::retained::RetainedSizes;
use crate::unreferenced::{referenced, UnreferencedReport};
use heapgraph_graph::Graph;

/// All analyses of one graph.
pub struct Analysis {
    pub dominators: Dominators,
    pub retained: RetainedSizes,
    pub paths: ShortestPaths,
    /// Sorted by shallow size, with the retained column filled.
    pub histogram: Histogram,
    pub unreferenced: UnreferencedReport,
}

/// Runs every analysis on `graph`.
pub fn analyze(graph: &Graph) -> Analysis {
    let ((dominators, retained), (paths, mut histogram, unreferenced)) = rayon::join(
        || {
            let dominators = Dominators::compute(graph);
            let retained = RetainedSizes::compute(graph, &dominators);
            (dominators, retained)
        },
        || {
            let (paths, (histogram, has_referrer)) = rayon::join(
                || ShortestPaths::compute(graph),
                || rayon::join(|| Histogram::compute(graph), || referenced(graph)),
            );
            let unreferenced =
                UnreferencedReport::compute(graph, &has_referrer, |n| paths.is_reached(n));
            (paths, histogram, unreferenced)
        },
    );
    histogram.add_retained(&retained);
    Analysis {
        dominators,
        retained,
        paths,
        histogram,
        unreferenced,
    }
}
