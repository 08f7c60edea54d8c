//! Forward edges whose targets turned out not to be in the dump.

use heapgraph_graph::{EdgeLabel, NodeId};

/// Marks an edge whose target is not in the dump until it is dropped.
pub(crate) const DANGLING: NodeId = NodeId::MAX;

/// Removes edges marked [`DANGLING`] in place, fixing the offsets.
pub(crate) fn drop_dangling(
    offsets: &mut [u32],
    targets: &mut Vec<NodeId>,
    labels: &mut Vec<EdgeLabel>,
) {
    let mut write = 0usize;
    let mut read_start = offsets[0] as usize;
    for node in 0..offsets.len() - 1 {
        let read_end = offsets[node + 1] as usize;
        for i in read_start..read_end {
            if targets[i] != DANGLING {
                targets[write] = targets[i];
                labels[write] = labels[i];
                write += 1;
            }
        }
        read_start = read_end;
        offsets[node + 1] = write as u32;
    }
    targets.truncate(write);
    labels.truncate(write);
    targets.shrink_to_fit();
    labels.shrink_to_fit();
}
