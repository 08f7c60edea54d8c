//! Numbering objects in address order, and the forward-edge offsets that go with it.

use super::scan::ObjectEntry;
use heapgraph_graph::Addresses;
use rayon::prelude::*;

pub struct Numbering {
    /// Node id -> address, strictly ascending.
    pub addresses: Addresses,
    /// Forward CSR offsets (edges as the dump counts them, dangling ones included).
    pub edge_offsets: Vec<u32>,
    /// File index (position among OBJECT records) -> node id.
    pub node_of: Vec<u32>,
}

/// Sorts the objects by address and numbers them; an address seen twice is an error naming both objects.
pub fn number(mut objects: Vec<ObjectEntry>) -> Result<Numbering, String> {
    objects.par_sort_unstable_by_key(|o| o.address);
    if let Some(w) = objects.windows(2).find(|w| w[0].address == w[1].address) {
        let (a, b) = (
            w[0].file_index.min(w[1].file_index),
            w[0].file_index.max(w[1].file_index),
        );
        return Err(format!(
            "object address {:#x} appears twice (OBJECT records #{a} and #{b} in file order): the dump is corrupt",
            w[0].address
        ));
    }
    let n = objects.len();
    let mut edge_offsets = Vec::with_capacity(n + 1);
    let mut node_of = vec![0u32; n];
    let mut running = 0u32;
    edge_offsets.push(0);
    for (node, o) in objects.iter().enumerate() {
        // Pass 1 checked that the total fits in u32.
        running += o.edges;
        edge_offsets.push(running);
        node_of[o.file_index as usize] = node as u32;
    }
    Ok(Numbering {
        addresses: Addresses::from_fn(n, |i| objects[i].address).map_err(|e| e.to_string())?,
        edge_offsets,
        node_of,
    })
}
