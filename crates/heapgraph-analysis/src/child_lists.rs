//! Child lists from parent links, for the trees the analyses build (the dominator tree, the retainer
//! trie): a counting sort, sequential because building a CSR is memory-bound (the graph's reverse edges
//! measured the same).

use heapgraph_graph::counts_to_ends;

/// The children of each of `n` nodes given each node's parent (`None` for a root): the children of `p`
/// are `kids[offsets[p]..offsets[p + 1]]`, in ascending order.
///
/// Placing nodes from the last down, each at the end of its parent's range, keeps children ascending and
/// needs no cursor array.
pub(crate) fn child_lists(n: usize, parent: impl Fn(usize) -> Option<u32>) -> (Vec<u32>, Vec<u32>) {
    let mut offsets = vec![0u32; n + 1];
    for i in 0..n {
        if let Some(p) = parent(i) {
            offsets[p as usize] += 1;
        }
    }
    let running = counts_to_ends(&mut offsets);
    let mut kids = vec![0u32; running as usize];
    for i in (0..n).rev() {
        if let Some(p) = parent(i) {
            let slot = &mut offsets[p as usize];
            *slot -= 1;
            kids[*slot as usize] = i as u32;
        }
    }
    (offsets, kids)
}

#[cfg(test)]
mod tests {
    use super::child_lists;

    #[test]
    fn children_come_ascending_under_their_parents() {
        // 0 is a root with children 1 and 3; 1 has 2 and 4; 5 is a second root.
        let parents = [None, Some(0), Some(1), Some(0), Some(1), None];
        let (offsets, kids) = child_lists(parents.len(), |i| parents[i]);
        assert_eq!(offsets, vec![0, 2, 4, 4, 4, 4, 4]);
        assert_eq!(kids, vec![1, 3, 2, 4]);
    }
}
