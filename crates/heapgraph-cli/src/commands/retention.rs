//! What the "why is it alive" commands compute before they print: the dominator tree and retained sizes
//! on one core, the shortest paths from the roots on the other.

use heapgraph_analysis::{Dominators, RetainedSizes, RetainerTree, ShortestPaths, TreeLimits};
use heapgraph_graph::{Graph, NodeId};

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

impl Retention {
    /// The merged chains from the roots to `targets`.
    pub fn retainer_tree(
        &self,
        graph: &Graph,
        targets: &[NodeId],
        limits: TreeLimits,
    ) -> RetainerTree {
        RetainerTree::build(
            graph,
            &self.paths,
            &self.dominators,
            &self.retained,
            targets,
            limits,
        )
    }
}
