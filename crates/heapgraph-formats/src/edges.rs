//! Forward edges whose targets turned out not to be in the dump.

use heapgraph_graph::{EdgeLabel, NodeId};

/// Marks an edge whose target is not in the dump until it is dropped.
pub(crate) const DANGLING: NodeId = NodeId::MAX;

/// Removes edges marked [`DANGLING`] in place, fixing the offsets, and their labels with them.
pub(crate) fn drop_dangling(
    offsets: &mut [u32],
    targets: &mut Vec<NodeId>,
    labels: &mut Vec<EdgeLabel>,
) {
    compact(offsets, targets, |from, to| labels[to] = labels[from]);
    labels.truncate(targets.len());
    labels.shrink_to_fit();
}

/// Removes edges marked [`DANGLING`] in place, fixing the offsets; `moved(from, to)` moves whatever else
/// the format keeps per edge along with each kept target (`to <= from`).
pub(crate) fn compact(
    offsets: &mut [u32],
    targets: &mut Vec<NodeId>,
    mut moved: impl FnMut(usize, usize),
) {
    let mut write = 0usize;
    let mut read_start = offsets[0] as usize;
    for node in 0..offsets.len() - 1 {
        let read_end = offsets[node + 1] as usize;
        for i in read_start..read_end {
            if targets[i] != DANGLING {
                targets[write] = targets[i];
                moved(i, write);
                write += 1;
            }
        }
        read_start = read_end;
        offsets[node + 1] = write as u32;
    }
    targets.truncate(write);
    targets.shrink_to_fit();
}
