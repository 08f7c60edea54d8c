//! What grew between two dumps of one process: objgraph's `show_growth`, offline, plus which objects are
//! new.
//!
//! Types are matched across the dumps by qualified name (type ids are per dump). An object of NEW is *new*
//! when OLD has no object at its address with the same type name: CPython reuses freed addresses, so an
//! address alone would call a new object old whenever it landed where a freed one of another type was.
//! What it cannot tell apart is an object freed and replaced by another of the same type at the same
//! address; such an object counts as old.

use crate::histogram::Histogram;
use heapgraph_graph::{Graph, NodeId, TypeId};
use rayon::prelude::*;
use std::collections::HashMap;

/// One type's change between the dumps.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TypeGrowth {
    pub type_name: String,
    pub old_count: u64,
    pub new_count: u64,
    pub count_delta: i64,
    pub old_bytes: u64,
    pub new_bytes: u64,
    pub bytes_delta: i64,
    /// Objects of the type in NEW that OLD did not have, and their shallow bytes.
    pub new_objects: u64,
    pub new_objects_bytes: u64,
}

/// Per-type changes, most grown first, and the new objects themselves.
#[derive(Clone, Debug, Default)]
pub struct Growth {
    /// Types whose count changed or that have new objects, by count delta (largest first), then name.
    pub types: Vec<TypeGrowth>,
    pub old_objects: u64,
    pub new_objects_total: u64,
    /// Node ids (in NEW) of the new objects, ascending.
    pub new_nodes: Vec<NodeId>,
}

impl Growth {
    pub fn compute(old: &Graph, new: &Graph) -> Growth {
        let (old_hist, new_hist) =
            rayon::join(|| Histogram::compute(old), || Histogram::compute(new));
        // One number per type name, shared by both dumps.
        let mut names: HashMap<String, u32> = HashMap::new();
        let mut name_of = |name: String| {
            let next = names.len() as u32;
            *names.entry(name).or_insert(next)
        };
        let old_names: Vec<u32> = (0..old.type_count() as TypeId)
            .map(|t| name_of(old.type_name(t)))
            .collect();
        let new_names: Vec<u32> = (0..new.type_count() as TypeId)
            .map(|t| name_of(new.type_name(t)))
            .collect();
        // Addresses are decoded a chunk at a time: looking up each node's alone costs a directory search.
        const CHUNK: usize = 1 << 16;
        let new_nodes: Vec<NodeId> = (0..new.node_count().div_ceil(CHUNK))
            .into_par_iter()
            .flat_map_iter(|chunk| {
                let first = chunk * CHUNK;
                let nodes = first as NodeId..(first + CHUNK).min(new.node_count()) as NodeId;
                nodes
                    .zip(new.addresses().iter_from(first))
                    .filter(|&(n, address)| {
                        let same = old.node_at(address).is_some_and(|o| {
                            old_names[old.type_of(o) as usize] == new_names[new.type_of(n) as usize]
                        });
                        !same
                    })
                    .map(|(n, _)| n)
            })
            .collect();

        let mut rows_by_name: HashMap<u32, TypeGrowth> = HashMap::new();
        for (hist, names, is_new) in [
            (&old_hist, &old_names, false),
            (&new_hist, &new_names, true),
        ] {
            for r in &hist.rows {
                let e = row(&mut rows_by_name, names[r.type_id as usize], &r.type_name);
                let (count, bytes) = if is_new {
                    (&mut e.new_count, &mut e.new_bytes)
                } else {
                    (&mut e.old_count, &mut e.old_bytes)
                };
                *count += r.count;
                *bytes += r.shallow_bytes;
            }
        }
        for &n in &new_nodes {
            let ty = new.type_of(n);
            let e = row(&mut rows_by_name, new_names[ty as usize], "");
            e.new_objects += 1;
            e.new_objects_bytes += new.shallow_size(n);
        }
        let mut types: Vec<TypeGrowth> = rows_by_name
            .into_values()
            .map(|mut t| {
                t.count_delta = t.new_count as i64 - t.old_count as i64;
                t.bytes_delta = t.new_bytes as i64 - t.old_bytes as i64;
                t
            })
            .filter(|t| t.count_delta != 0 || t.new_objects > 0)
            .collect();
        types.sort_by(|a, b| {
            b.count_delta
                .cmp(&a.count_delta)
                .then_with(|| b.new_objects.cmp(&a.new_objects))
                .then_with(|| a.type_name.cmp(&b.type_name))
        });
        Growth {
            types,
            old_objects: old.node_count() as u64,
            new_objects_total: new_nodes.len() as u64,
            new_nodes,
        }
    }

    /// The new objects whose type is named `type_name` (node ids in NEW).
    pub fn new_of_type(&self, new: &Graph, type_name: &str) -> Vec<NodeId> {
        self.new_nodes
            .iter()
            .copied()
            .filter(|&n| new.type_name(new.type_of(n)) == type_name)
            .collect()
    }
}

/// The row of the type numbered `name_id`, created empty under `type_name` on first use. (The new-object
/// tally passes no name: every new object's type already has a row from NEW's histogram.)
fn row<'a>(
    rows: &'a mut HashMap<u32, TypeGrowth>,
    name_id: u32,
    type_name: &str,
) -> &'a mut TypeGrowth {
    rows.entry(name_id).or_insert_with(|| TypeGrowth {
        type_name: type_name.to_string(),
        ..TypeGrowth::default()
    })
}
