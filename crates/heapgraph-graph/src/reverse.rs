//! Reverse edges by counting sort.
//!
//! Measured on 2 cores: building a CSR is memory-bound, and a sequential counting sort beat every rayon
//! variant (see `shared/research/algo.md`), so this stays sequential.

use crate::csr::counts_to_ends;
use crate::edge_offsets::EdgeOffsets;
use crate::NodeId;

/// Builds the reverse CSR of a forward CSR: `(offsets, sources)`, sources of each node in ascending order.
///
/// No cursor array: `offsets[t]` first holds the end of `t`'s range and walks down to its start as the
/// sources are placed back to front.
pub(crate) fn reverse_csr(offsets: &EdgeOffsets, targets: &[NodeId]) -> (Vec<u32>, Vec<NodeId>) {
    let nodes = offsets.len() - 1;
    let mut rev_offsets = vec![0u32; nodes + 1];
    for &t in targets {
        rev_offsets[t as usize] += 1;
    }
    counts_to_ends(&mut rev_offsets);
    let mut sources = vec![0 as NodeId; targets.len()];
    for source in (0..nodes).rev() {
        for &t in targets[offsets.range(source)].iter().rev() {
            let slot = &mut rev_offsets[t as usize];
            *slot -= 1;
            sources[*slot as usize] = source as NodeId;
        }
    }
    (rev_offsets, sources)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reverses_a_small_graph_with_multi_edges() {
        // 0 -> 1, 0 -> 2, 1 -> 2, 2 -> 0, 2 -> 2, 0 -> 2
        let offsets = EdgeOffsets::new(vec![0, 3, 4, 6].into());
        let targets = [1, 2, 2, 2, 0, 2];
        let (ro, rs) = reverse_csr(&offsets, &targets);
        assert_eq!(ro, vec![0, 1, 2, 6]);
        assert_eq!(rs, vec![2, 0, 0, 0, 1, 2]);
    }
}
