//! What the "why is it alive" commands compute before they print: the dominator tree and retained sizes
//! on one core, the shortest paths from the roots on the other.

use heapgraph_analysis::{Dominators, RetainedSizes, ShortestPaths};
use heapgraph_graph::Graph;

pub struct Retention {
    pub dominators: Dominators,
    pub retained: RetainedSizes,
    pub paths: ShortestPaths,
}

/// Computes [`Retention`] for `graph`, with a spinner on a terminal.
pub fn retention(graph: &Graph) -> Retention {
    crate::progress::spin("analyzing (dominator tree, retained sizes, paths)", || {
        let ((dominators, retained), paths) = rayon::join(
            || {
                let dominators = Dominators::compute(graph);
                let retained = RetainedSizes::compute(graph, &dominators);
                (dominators, retained)
            },
            || ShortestPaths::compute(graph),
        );
        Retention {
            dominators,
            retained,
            paths,
        }
    })
}
