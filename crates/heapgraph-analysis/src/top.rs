//! The objects that retain the most: where a leak hunt usually starts.

use crate::dominators::Dominators;
use crate::retained::RetainedSizes;
use heapgraph_graph::NodeId;
use rayon::prelude::*;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// An object and the bytes it retains.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Retainer {
    pub node: NodeId,
    pub retained: u64,
}

/// The `n` nodes with the largest retained sizes (the super-root and nodes retaining 0 bytes excluded),
/// largest first; ties go to the lower node id, so the answer does not depend on thread timing. Each
/// rayon task keeps a bounded min-heap, so this is one parallel pass and `O(n)` memory per task. When the
/// tree's preorder-to-node map is at hand (an index file keeps it), the pass reads the sizes and that map
/// in order; otherwise it goes through the nodes and looks each size up.
pub fn top_retainers(dominators: &Dominators, retained: &RetainedSizes, n: usize) -> Vec<Retainer> {
    if n == 0 {
        return Vec::new();
    }
    let best = match dominators.made_preorder() {
        Some(preorder) => best_of(retained.in_preorder(preorder), n),
        None => best_of(retained.reachable(), n),
    };
    best.into_sorted_vec()
        .into_iter()
        .map(|Reverse((retained, Reverse(node)))| Retainer { node, retained })
        .collect()
}

/// Heap order: smallest retained first, and among equals the highest node id first (evicted first).
type Key = Reverse<(u64, Reverse<NodeId>)>;

fn best_of(sizes: impl ParallelIterator<Item = (NodeId, u64)>, n: usize) -> BinaryHeap<Key> {
    let push = |heap: &mut BinaryHeap<Key>, key: Key| {
        if heap.len() < n {
            heap.push(key);
        } else if heap.peek().is_some_and(|top| key < *top) {
            heap.pop();
            heap.push(key);
        }
    };
    sizes
        .fold(BinaryHeap::new, |mut heap, (node, bytes)| {
            if bytes > 0 {
                push(&mut heap, Reverse((bytes, Reverse(node))));
            }
            heap
        })
        .reduce(BinaryHeap::new, |mut a, b| {
            for key in b {
                push(&mut a, key);
            }
            a
        })
}
