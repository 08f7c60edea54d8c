//! Numbering objects in address order, then pass 2: every object's type, size and references, written in
//! parallel chunks of node ids straight into the graph's arrays.

use super::decode::Decoder;
use super::scan::ObjectEntry;
use crate::edges::{compact, DANGLING};
use crate::error::{err, FormatError};
use crate::record_offsets::RecordOffsets;
use heapgraph_graph::{Addresses, EdgeLabel, NodeId, ShallowSizes, TypeId, WeakEdges};
use rayon::prelude::*;
use std::ops::Range;

/// Nodes per pass-2 task: small enough to balance threads, large enough to amortize a task.
const CHUNK: usize = 1 << 16;

/// Objects in address order: node id -> address and sub-record offset.
pub struct Numbering {
    pub addresses: Addresses,
    pub offsets: RecordOffsets,
}

/// Sorts by address (dumps need not be in address order); an address seen twice is an error. The objects'
/// sub-records lie in a dump of `dump_len` bytes.
pub fn number(mut objects: Vec<ObjectEntry>, dump_len: u64) -> Result<Numbering, FormatError> {
    objects.par_sort_unstable_by_key(|o| o.address);
    if let Some(w) = objects.windows(2).find(|w| w[0].address == w[1].address) {
        return err(
            w[1].offset.max(w[0].offset) as usize,
            format!(
                "object id {:#x} is dumped twice (also at byte {}): the dump is corrupt",
                w[0].address,
                w[1].offset.min(w[0].offset)
            ),
        );
    }
    if objects.len() >= NodeId::MAX as usize - 2 {
        return err(
            0,
            format!("{} objects: more than heapgraph's limit", objects.len()),
        );
    }
    let addresses: Vec<u64> = objects.par_iter().map(|o| o.address).collect();
    let numbering = Numbering {
        addresses: Addresses::new(&addresses).or_else(|e| err(0, e.0))?,
        offsets: RecordOffsets::new(dump_len, objects.len(), |i| objects[i].offset),
    };
    Ok(numbering)
}

/// References a format adds beyond the objects' own: a thread's stack locals, sorted by thread node.
pub type ExtraEdges = Vec<(NodeId, u64, EdgeLabel)>;

/// A chunk of objects pass 2 has finished with: for progress, and so the caller can hand the file's pages
/// under them back to the kernel. Without that, the mapped pages of the whole dump stay in our resident set
/// until the end of pass 2, on top of the graph being built (2.6 GiB instead of 1.1 GiB on a 1.7 GB dump).
pub struct ChunkDone {
    /// Objects in the chunk, counted once they are resolved (the counting pass reports 0).
    pub objects: u64,
    /// From the first object's sub-record to the start of the last one. Objects are numbered by address,
    /// which HotSpot writes in nearly the same order as file offsets, so this span stays short.
    pub first: u64,
    pub last: u64,
}

impl ChunkDone {
    fn read(offsets: &RecordOffsets, nodes: Range<usize>, resolved: bool) -> ChunkDone {
        let objects = if resolved { nodes.len() as u64 } else { 0 };
        let (first, last) = offsets.span(nodes);
        ChunkDone {
            objects,
            first,
            last,
        }
    }
}

/// What one pass-2 task reports: its dangling references and the sizes too big for the dense array.
type ChunkOutcome = (u64, Vec<(NodeId, u64)>);

/// The graph's per-node and per-edge arrays. Edge labels are not kept: the graph reads them again from
/// the dump when a report asks (see `details.rs`), so only which edges are weak is.
pub struct Resolved {
    pub types: Vec<TypeId>,
    pub sizes: ShallowSizes,
    pub offsets: Vec<u32>,
    pub targets: Vec<NodeId>,
    pub weak: WeakEdges,
    pub dangling_edges: u64,
}

pub fn resolve(
    decoder: &Decoder<'_>,
    numbering: &Numbering,
    extra: &ExtraEdges,
    done: &(dyn Fn(ChunkDone) + Sync),
) -> Result<Resolved, FormatError> {
    let n = numbering.addresses.len();
    // Edge counts (the objects' own references, then the extra ones), then their prefix sum.
    let counts: Vec<Vec<u32>> = (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .map(|chunk| {
            let nodes = chunk * CHUNK..((chunk + 1) * CHUNK).min(n);
            let counts = nodes
                .clone()
                .map(|i| {
                    let at = numbering.offsets.at(i);
                    let mut count = 0u32;
                    decoder.references(&decoder.object_at(at)?, at, |_, _| count += 1)?;
                    Ok(count)
                })
                .collect::<Result<_, FormatError>>()?;
            done(ChunkDone::read(&numbering.offsets, nodes, false));
            Ok(counts)
        })
        .collect::<Result<_, FormatError>>()?;
    let mut counts = counts.concat();
    for &(node, _, _) in extra {
        counts[node as usize] += 1;
    }
    let mut offsets = Vec::with_capacity(n + 1);
    offsets.push(0u32);
    let mut total = 0u64;
    for &c in &counts {
        total += c as u64;
        if total > u32::MAX as u64 {
            return err(
                0,
                "more than 4,294,967,295 references: more than this heapgraph's limit",
            );
        }
        offsets.push(total as u32);
    }
    drop(counts);

    let mut types = vec![0 as TypeId; n];
    let mut sizes = ShallowSizes::with_len(n);
    let mut targets = vec![0 as NodeId; total as usize];
    let weak = WeakEdges::atomic(total as usize);
    // Split every array at chunk boundaries so each task owns its nodes' slots and edge ranges.
    let mut tasks = Vec::new();
    {
        let (mut types, mut sizes) = (&mut types[..], sizes.dense_mut());
        let mut targets = &mut targets[..];
        for start in (0..n).step_by(CHUNK) {
            let end = (start + CHUNK).min(n);
            let edges = (offsets[end] - offsets[start]) as usize;
            let (t, rest) = types.split_at_mut(end - start);
            types = rest;
            let (s, rest) = sizes.split_at_mut(end - start);
            sizes = rest;
            let (tg, rest) = targets.split_at_mut(edges);
            targets = rest;
            tasks.push((start, t, s, tg));
        }
    }
    let results: Vec<Result<ChunkOutcome, FormatError>> = tasks
        .into_par_iter()
        .map(|(start, types, sizes, targets)| {
            let mut dangling = 0u64;
            let mut big = Vec::new();
            let mut edge = 0usize;
            let first_edge = offsets[start] as usize;
            // This chunk's extra edges, consumed in node order.
            let mut extra_at = extra.partition_point(|e| (e.0 as usize) < start);
            for i in 0..types.len() {
                let node = (start + i) as NodeId;
                let at = numbering.offsets.at(start + i);
                let object = decoder.object_at(at)?;
                let (ty, size) = decoder.type_and_size(&object, at)?;
                types[i] = ty;
                sizes[i] = if size > ShallowSizes::dense_limit() {
                    big.push((node, size));
                    u32::MAX
                } else {
                    size as u32
                };
                let mut put = |address: u64, label: EdgeLabel| {
                    let target = numbering.addresses.find(address);
                    dangling += target.is_none() as u64;
                    targets[edge] = target.unwrap_or(DANGLING);
                    if !label.retains() {
                        WeakEdges::set_atomic(&weak, first_edge + edge);
                    }
                    edge += 1;
                };
                decoder.references(&object, at, &mut put)?;
                while let Some(&(_, address, label)) = extra.get(extra_at).filter(|e| e.0 == node) {
                    put(address, label);
                    extra_at += 1;
                }
            }
            done(ChunkDone::read(
                &numbering.offsets,
                start..start + types.len(),
                true,
            ));
            Ok((dangling, big))
        })
        .collect();
    let mut dangling_edges = 0;
    for r in results {
        let (d, big) = r?;
        dangling_edges += d;
        sizes.extend_big(big);
    }
    let mut weak: Vec<u64> = weak.into_iter().map(|w| w.into_inner()).collect();
    if dangling_edges > 0 {
        compact(&mut offsets, &mut targets, |from, to| {
            WeakEdges::move_bit(&mut weak, from, to)
        });
    }
    Ok(Resolved {
        types,
        sizes,
        offsets,
        weak: WeakEdges::from_words(weak, targets.len()),
        targets,
        dangling_edges,
    })
}
