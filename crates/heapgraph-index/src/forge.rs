//! Forging index files, for the tests and the fuzz target that must reach the checks behind the
//! checksums, and the queries they run on whatever a forged file produced.

use crate::identity::DumpIdentity;
use crate::layout::{ENTRY, FIXED};
use heapgraph_analysis::{instances_of, top_retainers, Analysis, RetainerTree, TreeLimits};
use heapgraph_graph::Graph;
use heapgraph_graph::MAX_NAME;

/// Makes `file` claim the dump `identity` and rewrites every checksum that can be located to match the
/// bytes: what someone forging an index would do. Tests and the fuzz target use it to reach the checks
/// behind the checksums; it never panics, whatever `file` holds.
pub fn reseal(file: &mut [u8], identity: DumpIdentity) {
    if file.len() < FIXED {
        return;
    }
    for (i, word) in [identity.size, identity.modified_ns, identity.head_checksum]
        .into_iter()
        .enumerate()
    {
        file[16 + 8 * i..24 + 8 * i].copy_from_slice(&word.to_ne_bytes());
    }
    let count = u32::from_ne_bytes(file[40..44].try_into().expect("4 bytes")) as usize;
    let Some(table_end) = count.checked_mul(ENTRY).map(|t| t + FIXED) else {
        return;
    };
    if table_end + 8 > file.len() {
        return;
    }
    let word =
        |file: &[u8], at: usize| u64::from_ne_bytes(file[at..at + 8].try_into().expect("8 bytes"));
    for i in 0..count {
        let at = FIXED + i * ENTRY + MAX_NAME;
        let elem = u32::from_ne_bytes(file[at..at + 4].try_into().expect("4 bytes")) as u64;
        let (offset, n) = (word(file, at + 8), word(file, at + 16));
        let end = n.checked_mul(elem).and_then(|len| len.checked_add(offset));
        if let Some(end) = end.filter(|&end| end <= file.len() as u64) {
            let sum = crate::checksum::checksum(&file[offset as usize..end as usize]);
            file[at + 24..at + 32].copy_from_slice(&sum.to_ne_bytes());
        }
    }
    let sum = crate::checksum::checksum(&file[..table_end]);
    file[table_end..table_end + 8].copy_from_slice(&sum.to_ne_bytes());
}

/// Runs what the commands run on a graph and its analyses, so that a forged file that passes every check
/// is also asked every kind of question.
pub fn exercise(graph: &Graph, analysis: &Analysis) {
    for r in top_retainers(&analysis.dominators, &analysis.retained, 20) {
        let _ = analysis.paths.path_to(graph, r.node);
        let _ = analysis.dominators.children(r.node).count();
        let _ = graph.details(r.node);
    }
    if graph.node_count() == 0 {
        return;
    }
    let targets = instances_of(graph, &[graph.type_of(0)]);
    let _ = RetainerTree::build(
        graph,
        &analysis.paths,
        &analysis.dominators,
        &analysis.retained,
        &targets,
        TreeLimits {
            max_depth: 32,
            top: 10,
        },
    );
    let _ = graph.node_at(graph.address(graph.node_count() as u32 - 1));
    let _ = heapgraph_analysis::suspects::proven::find_proven(graph, analysis);
}
