//! Numbering objects in address order, then pass 2: every object's type, size and references, written in
//! parallel chunks of node ids straight into the graph's arrays.

use super::decode::Decoder;
use super::sorted_runs::{SegmentLists, SortedRuns};
use crate::error::{err, FormatError};
use crate::record_offsets::RecordOffsets;
use crate::scatter::split_by_lengths;
use heapgraph_graph::{
    Addresses, EdgeLabel, NodeId, ShallowSizes, SizesWriter, TypeId, WeakEdges, MAX_EDGES,
};
use rayon::prelude::*;
use std::ops::Range;

/// Nodes per pass-2 task: small enough to balance threads, large enough to amortize a task.
const CHUNK: usize = 1 << 16;

/// Objects in address order: node id -> address and sub-record offset.
pub struct Numbering {
    pub addresses: Addresses,
    pub offsets: RecordOffsets,
}

/// Numbers pass 1's objects (lists each sorted by address, see [`SortedRuns`]) in address order; an
/// address seen twice is an error. The objects' sub-records lie in a dump of `dump_len` bytes.
pub fn number(runs: Vec<SegmentLists>, dump_len: u64) -> Result<Numbering, FormatError> {
    let objects = SortedRuns::new(runs);
    if let Some((a, b)) = objects.duplicate() {
        return err(
            b.offset.max(a.offset) as usize,
            format!(
                "object id {:#x} is dumped twice (also at byte {}): the dump is corrupt",
                a.address,
                b.offset.min(a.offset)
            ),
        );
    }
    if objects.len() >= NodeId::MAX as usize - 2 {
        return err(
            0,
            format!("{} objects: more than heapgraph's limit", objects.len()),
        );
    }
    let numbering = Numbering {
        addresses: Addresses::from_fn(objects.len(), |i| objects.get(i).address)
            .or_else(|e| err(0, e.what().to_string()))?,
        offsets: RecordOffsets::new(dump_len, objects.len(), |i| objects.get(i).offset),
    };
    Ok(numbering)
}

/// References a format adds beyond the objects' own: a thread's stack locals, sorted by thread node.
pub type ExtraEdges = Vec<(NodeId, u64, EdgeLabel)>;

/// A chunk of objects pass 2 has finished with: for progress, and so the caller can hand the file's pages
/// under them back to the kernel. Without that, the mapped pages of the whole dump stay in our resident set
/// until the end of pass 2, on top of the graph being built (2.6 GiB instead of 1.1 GiB on a 1.7 GB dump).
pub struct ChunkDone {
    /// Objects in the chunk.
    pub objects: u64,
    /// From the first object's sub-record to the start of the last one. Objects are numbered by address,
    /// which HotSpot writes in nearly the same order as file offsets, so this span stays short.
    pub first: u64,
    pub last: u64,
}

impl ChunkDone {
    fn read(offsets: &RecordOffsets, nodes: Range<usize>) -> ChunkDone {
        let objects = nodes.len() as u64;
        let (first, last) = offsets.span(nodes);
        ChunkDone {
            objects,
            first,
            last,
        }
    }
}

/// One pass-2 task's edges, in its nodes' order: they are only placed once every task before it is done.
struct ChunkEdges {
    /// Edges per node.
    degrees: Vec<u32>,
    targets: Vec<NodeId>,
    /// Positions in `targets` of the edges that do not retain.
    weak: Vec<u32>,
    /// References to addresses not in the dump: no edge.
    dangling: u64,
}

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

/// Pass 2: decodes every object once, in parallel chunks of node ids, writing its type and size in place
/// and collecting its edges per chunk; the chunks' edges are then laid end to end. (Counting the edges
/// first, to write them in place too, decoded every object twice: 0.65 s more on a 20M-object dump, for
/// a transient copy of the edges that costs less than the analyses' peak.)
pub fn resolve(
    decoder: &Decoder<'_>,
    numbering: &Numbering,
    extra: &ExtraEdges,
    done: &(dyn Fn(ChunkDone) + Sync),
) -> Result<Resolved, FormatError> {
    let n = numbering.addresses.len();
    let mut types = vec![0 as TypeId; n];
    let sizes = SizesWriter::new(n);
    let tasks: Vec<_> = types
        .chunks_mut(CHUNK)
        .enumerate()
        .map(|(k, types)| (k * CHUNK, types))
        .collect();
    let chunks: Vec<Result<ChunkEdges, FormatError>> = tasks
        .into_par_iter()
        .map(|(start, types)| {
            let mut out = ChunkEdges {
                degrees: Vec::with_capacity(types.len()),
                targets: Vec::new(),
                weak: Vec::new(),
                dangling: 0,
            };
            // This chunk's extra edges, consumed in node order.
            let mut extra_at = extra.partition_point(|e| (e.0 as usize) < start);
            for (i, type_slot) in types.iter_mut().enumerate() {
                let node = (start + i) as NodeId;
                let at = numbering.offsets.at(start + i);
                let object = decoder.object_at(at)?;
                let (ty, size) = decoder.type_and_size(&object, at)?;
                *type_slot = ty;
                sizes.set(node as usize, size);
                let first = out.targets.len();
                let mut put =
                    |address: u64, label: EdgeLabel| match numbering.addresses.find(address) {
                        Some(target) => {
                            if !label.retains() {
                                out.weak.push(out.targets.len() as u32);
                            }
                            out.targets.push(target);
                        }
                        None => out.dangling += 1,
                    };
                decoder.references(&object, at, &mut put)?;
                while let Some(&(_, address, label)) = extra.get(extra_at).filter(|e| e.0 == node) {
                    put(address, label);
                    extra_at += 1;
                }
                out.degrees.push((out.targets.len() - first) as u32);
            }
            out.targets.shrink_to_fit();
            done(ChunkDone::read(
                &numbering.offsets,
                start..start + types.len(),
            ));
            Ok(out)
        })
        .collect();

    let total: usize = chunks.iter().flatten().map(|c| c.targets.len()).sum();
    if total > MAX_EDGES {
        return err(
            0,
            format!("{total} references: more than this heapgraph's limit of {MAX_EDGES}"),
        );
    }
    let chunks = chunks.into_iter().collect::<Result<Vec<_>, _>>()?;
    // Where each chunk's edges start. Laying them end to end copies hundreds of megabytes into fresh
    // pages: each chunk is copied on whichever core is free.
    let bases: Vec<usize> = chunks
        .iter()
        .scan(0, |next, c| {
            let base = *next;
            *next += c.targets.len();
            Some(base)
        })
        .collect();
    let mut weak = vec![0u64; total.div_ceil(64)];
    for (chunk, &base) in chunks.iter().zip(&bases) {
        for &w in &chunk.weak {
            let e = base + w as usize;
            weak[e / 64] |= 1 << (e % 64);
        }
    }
    let dangling_edges = chunks.iter().map(|c| c.dangling).sum();
    let mut offsets = vec![0u32; n + 1];
    let mut targets = vec![0 as NodeId; total];
    let pieces = split_by_lengths(&mut targets, chunks.iter().map(|c| c.targets.len()));
    // Each chunk goes as soon as it is copied: the edges are never held twice over.
    offsets[1..]
        .par_chunks_mut(CHUNK)
        .zip(pieces)
        .zip(chunks.into_par_iter().zip(bases))
        .for_each(|((offsets, targets), (chunk, base))| {
            let mut running = base as u32;
            for (offset, &degree) in offsets.iter_mut().zip(&chunk.degrees) {
                running += degree;
                *offset = running;
            }
            targets.copy_from_slice(&chunk.targets);
        });
    Ok(Resolved {
        types,
        sizes: sizes.finish(),
        offsets,
        weak: WeakEdges::from_words(weak, targets.len()),
        targets,
        dangling_edges,
    })
}
