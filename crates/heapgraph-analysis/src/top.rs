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
/// rayon task keeps a bounded min-heap, so a pass is parallel with `O(n)` memory per task. When the
/// tree's preorder-to-node map is at hand (an index file keeps it), one pass reads the sizes and that
/// map in order. Otherwise the `n`-th largest size, found over the sizes in the tree's order, is a floor
/// that leaves only the nodes that can be in the answer ([`RetainedSizes::at_least`]); when ties at the
/// floor leave too many, a pass goes through the nodes and looks each size up.
pub fn top_retainers(dominators: &Dominators, retained: &RetainedSizes, n: usize) -> Vec<Retainer> {
    if n == 0 {
        return Vec::new();
    }
    let best = match dominators.made_preorder() {
        Some(preorder) => best_of(retained.in_preorder(preorder), n),
        None => {
            let floor = nth_largest(retained.sizes_in_tree_order(), n).max(1);
            match retained.at_least(floor, n.saturating_mul(64).max(1 << 16)) {
                Some(candidates) => best_of(candidates.into_par_iter(), n),
                None => best_of(retained.reachable(), n),
            }
        }
    };
    best.into_sorted_vec()
        .into_iter()
        .map(|Reverse((retained, Reverse(node)))| Retainer { node, retained })
        .collect()
}

/// The `n`-th largest of `sizes`, or 0 when there are fewer. A sweep over every object: each chunk is
/// folded as a plain loop, which inlines (3x faster than rayon's fold item by item).
fn nth_largest(sizes: impl IndexedParallelIterator<Item = u64>, n: usize) -> u64 {
    let heap = sizes
        .fold_chunks(1 << 16, BinaryHeap::new, |mut heap, key| {
            push_bounded(&mut heap, key, n);
            heap
        })
        .reduce(BinaryHeap::new, |mut a, b| {
            for Reverse(key) in b {
                push_bounded(&mut a, key, n);
            }
            a
        });
    match heap.peek() {
        Some(&Reverse(least)) if heap.len() == n => least,
        _ => 0,
    }
}

/// The `n` nodes of `sizes` retaining the most (none retaining 0 bytes), as [`largest`] keeps them:
/// among equal sizes the lower node id is the larger key.
fn best_of(
    sizes: impl ParallelIterator<Item = (NodeId, u64)>,
    n: usize,
) -> BinaryHeap<Reverse<(u64, Reverse<NodeId>)>> {
    let keys = sizes
        .filter(|&(_, bytes)| bytes > 0)
        .map(|(node, bytes)| (bytes, Reverse(node)));
    largest(keys, n)
}

/// The `n` largest of `keys`, in a min-heap: each rayon task keeps its own, bounded to `n`, and the
/// tasks' heaps merge into one.
fn largest<K: Ord + Send>(
    keys: impl ParallelIterator<Item = K>,
    n: usize,
) -> BinaryHeap<Reverse<K>> {
    keys.fold(BinaryHeap::new, |mut heap, key| {
        push_bounded(&mut heap, key, n);
        heap
    })
    .reduce(BinaryHeap::new, |mut a, b| {
        for Reverse(key) in b {
            push_bounded(&mut a, key, n);
        }
        a
    })
}

/// Adds `key` to the min-heap of the `n` largest keys seen, if it is one of them. A function rather
/// than a closure the passes share, so that it inlines into each: called once per object, it took
/// three quarters of a sweep's time as a call.
#[inline]
fn push_bounded<K: Ord>(heap: &mut BinaryHeap<Reverse<K>>, key: K, n: usize) {
    if heap.len() < n {
        heap.push(Reverse(key));
    } else if heap.peek().is_some_and(|Reverse(least)| key > *least) {
        heap.pop();
        heap.push(Reverse(key));
    }
}
