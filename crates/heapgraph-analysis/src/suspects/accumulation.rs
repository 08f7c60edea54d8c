//! Where a suspect's memory accumulates.

use super::SuspectOptions;
use crate::dominators::Dominators;
use crate::paths::ShortestPaths;
use crate::retained::RetainedSizes;
use heapgraph_graph::{Graph, NodeId};

/// From `top` down the dominator tree to the biggest child while that child retains at least `big_drop`
/// of its parent: the last object before the drop (MAT's accumulation point). Ties go to the lower node
/// id.
pub fn walk_down(
    dominators: &Dominators,
    retained: &RetainedSizes,
    top: NodeId,
    big_drop: f64,
) -> NodeId {
    let mut at = top;
    loop {
        let parent = retained.of(at);
        let biggest = dominators
            .numbered_children(at)
            .map(|(n, v)| (retained.of_number(v), std::cmp::Reverse(n)))
            .max();
        match biggest {
            Some((bytes, std::cmp::Reverse(child))) if bytes as f64 >= big_drop * parent as f64 => {
                at = child
            }
            _ => return at,
        }
    }
}

/// The last object of the path that more than [`SuspectOptions::coverage`] of a sample of `instances`
/// share from the roots (MAT's common path of a group), or `None` when no object is on that many.
/// The sample is every `k`-th instance in node order, so it is the same on every run.
pub fn common_path(
    graph: &Graph,
    paths: &ShortestPaths,
    instances: &[NodeId],
    options: &SuspectOptions,
) -> Option<NodeId> {
    let step = instances.len().div_ceil(options.sample.max(1)).max(1);
    let sampled: Vec<Vec<NodeId>> = instances
        .iter()
        .step_by(step)
        .filter_map(|&n| paths.path_to(graph, n))
        .map(|p| p.into_iter().map(|s| s.node).collect())
        .collect();
    let needed = options.coverage * sampled.len() as f64;
    let mut common: Option<NodeId> = None;
    for depth in 0.. {
        let mut counts: std::collections::BTreeMap<NodeId, usize> = Default::default();
        for p in &sampled {
            // Only paths that pass through the common path so far count.
            let on_path = depth == 0 || (p.len() > depth && Some(p[depth - 1]) == common);
            if on_path {
                *counts.entry(p[depth]).or_default() += 1;
            }
        }
        let best = counts
            .into_iter()
            .max_by_key(|&(n, c)| (c, std::cmp::Reverse(n)));
        match best {
            Some((node, count)) if count as f64 > needed => common = Some(node),
            _ => return common,
        }
    }
    common
}
