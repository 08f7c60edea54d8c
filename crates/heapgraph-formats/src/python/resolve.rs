//! Pass 2: read every object's header and edges, in parallel chunks of the file, straight into the graph's
//! arrays at the object's node id.

use super::number::Numbering;
use super::record::*;
use super::scan::{Scan, CHUNK_OBJECTS};
use crate::edges::{drop_dangling, DANGLING};
use crate::record_offsets::RecordOffsets;
use crate::scatter::Scatter;
use heapgraph_graph::{Addresses, EdgeLabel, NodeId, ShallowSizes, SizesWriter, TypeId};
use rayon::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};

pub struct Resolved {
    pub types: Vec<TypeId>,
    pub sizes: ShallowSizes,
    /// Refcounts saturated to u32 (`u32::MAX` = immortal or enormous).
    pub refcounts: Vec<u32>,
    /// Node id -> offset of its OBJECT record, for reading details later.
    pub record_offsets: RecordOffsets,
    pub offsets: Vec<u32>,
    pub targets: Vec<NodeId>,
    pub labels: Vec<EdgeLabel>,
    pub dangling_edges: u64,
}

/// Where each object's record offset goes: 4 bytes when the dump is under 4 GiB, else 8.
enum OffsetSink<'a> {
    Narrow(Scatter<'a, u32>),
    Wide(Scatter<'a, u64>),
}

impl OffsetSink<'_> {
    /// # Safety
    /// Each index is written once (see [`Scatter::write`]).
    unsafe fn write(&self, index: usize, offset: usize) {
        // SAFETY: the caller writes each index once; a narrow sink only takes a dump under 4 GiB.
        unsafe {
            match self {
                OffsetSink::Narrow(s) => s.write(index, offset as u32),
                OffsetSink::Wide(s) => s.write(index, offset as u64),
            }
        }
    }
}

/// Everything one chunk task needs to write.
struct Sinks<'a> {
    types: Scatter<'a, TypeId>,
    sizes: &'a SizesWriter,
    refcounts: Scatter<'a, u32>,
    record_offsets: OffsetSink<'a>,
    targets: Scatter<'a, NodeId>,
    labels: Scatter<'a, EdgeLabel>,
}

pub fn resolve(
    data: &[u8],
    scan: &Scan,
    numbering: Numbering,
    advance: &(dyn Fn(u64) + Sync),
    release: &(dyn Fn(usize, usize) + Sync),
) -> Result<(Resolved, Addresses), FormatError> {
    let n = numbering.addresses.len();
    let m = *numbering.edge_offsets.last().unwrap_or(&0) as usize;
    let mut types = vec![0 as TypeId; n];
    let sizes = SizesWriter::new(n);
    let mut refcounts = vec![0u32; n];
    // 4 bytes an object when the dump is under 4 GiB, as an index file keeps them.
    let narrow = data.len() <= u32::MAX as usize;
    let mut narrow_offsets = vec![0u32; if narrow { n } else { 0 }];
    let mut wide_offsets = vec![0u64; if narrow { 0 } else { n }];
    let mut targets = vec![0 as NodeId; m];
    let mut labels = vec![EdgeLabel::PLAIN; m];
    let dangling = AtomicU64::new(0);
    let chunk_ends: Vec<usize> = scan
        .chunks
        .iter()
        .skip(1)
        .map(|&(offset, _)| offset)
        .chain(std::iter::once(scan.end_offset))
        .collect();

    {
        let sinks = Sinks {
            types: Scatter::new(&mut types),
            sizes: &sizes,
            refcounts: Scatter::new(&mut refcounts),
            record_offsets: match narrow {
                true => OffsetSink::Narrow(Scatter::new(&mut narrow_offsets)),
                false => OffsetSink::Wide(Scatter::new(&mut wide_offsets)),
            },
            targets: Scatter::new(&mut targets),
            labels: Scatter::new(&mut labels),
        };
        let results: Vec<Result<(), FormatError>> = scan
            .chunks
            .par_iter()
            .zip(chunk_ends.par_iter())
            .map(|(&(start, first_index), &end)| {
                let chunk = Chunk {
                    data,
                    scan,
                    numbering: &numbering,
                    sinks: &sinks,
                };
                let out = chunk.run(start, end, first_index, &dangling);
                release(start, end);
                advance(CHUNK_OBJECTS as u64);
                out
            })
            .collect();
        for r in results {
            r?;
        }
    }

    let dangling_edges = dangling.into_inner();
    let mut offsets = numbering.edge_offsets;
    if dangling_edges > 0 {
        drop_dangling(&mut offsets, &mut targets, &mut labels);
    }
    Ok((
        Resolved {
            types,
            sizes: sizes.finish(),
            refcounts,
            record_offsets: match narrow {
                true => RecordOffsets::Narrow(narrow_offsets.into()),
                false => RecordOffsets::Wide(wide_offsets.into()),
            },
            offsets,
            targets,
            labels,
            dangling_edges,
        },
        numbering.addresses,
    ))
}

struct Chunk<'a> {
    data: &'a [u8],
    scan: &'a Scan,
    numbering: &'a Numbering,
    sinks: &'a Sinks<'a>,
}

impl Chunk<'_> {
    /// Reads the OBJECT records in `start..end`.
    fn run(
        &self,
        start: usize,
        end: usize,
        mut file_index: u32,
        dangling: &AtomicU64,
    ) -> Result<(), FormatError> {
        let mut offset = start;
        let mut lost = 0u64;
        while offset < end {
            let rec = record_at(self.data, offset)?;
            offset += RECORD_PREFIX + rec.payload.len();
            if rec.tag != TAG_OBJECT {
                continue;
            }
            let header = ObjectHeader::parse(&rec)?;
            let node = self.numbering.node_of[file_index as usize];
            file_index += 1;
            lost += self.object(node, &rec, &header)?;
        }
        dangling.fetch_add(lost, Ordering::Relaxed);
        Ok(())
    }

    /// Writes one object's fields and edges; returns how many of its edges dangle.
    fn object(
        &self,
        node: NodeId,
        rec: &Record<'_>,
        header: &ObjectHeader,
    ) -> Result<u64, FormatError> {
        let Some(&ty) = self.scan.type_ids.get(&header.type_address) else {
            return err(
                rec.offset,
                format!(
                    "object {:#x} has type {:#x}, which no TYPE record describes",
                    header.address, header.type_address
                ),
            );
        };
        let s = self.sinks;
        let id = node as usize;
        let refcount = header.refcount.min(u32::MAX as u64) as u32;
        let first_edge = self.numbering.edge_offsets[id] as usize;
        let mut lost = 0;
        s.sizes.set(node as usize, header.size);
        // SAFETY (all writes): slot `id` and edge slots `first_edge..first_edge + edges` belong to this
        // object alone; the numbering maps each OBJECT record to a distinct node.
        unsafe {
            s.types.write(id, ty);
            s.refcounts.write(id, refcount);
            s.record_offsets.write(id, rec.offset);
        }
        for e in 0..header.edges as usize {
            let at = OBJECT_HEADER + e * EDGE_LEN;
            let target_addr = u64_at(rec.payload, at);
            let label = self.label(u32_at(rec.payload, at + 8), rec.offset)?;
            let target = match self.numbering.addresses.find(target_addr) {
                Some(t) => t,
                None => {
                    lost += 1;
                    DANGLING
                }
            };
            unsafe {
                s.targets.write(first_edge + e, target);
                s.labels.write(first_edge + e, label);
            }
        }
        Ok(lost)
    }

    /// Decodes a label from the file, mapping its string id to the graph's.
    #[inline]
    fn label(&self, raw: u32, offset: usize) -> Result<EdgeLabel, FormatError> {
        let Some(label) = EdgeLabel::from_raw(raw) else {
            return err(
                offset,
                format!("edge label {raw:#010x} has a reserved kind"),
            );
        };
        let Some(file_id) = label.name() else {
            return Ok(label);
        };
        match self.scan.file_strings.get(file_id.0 as usize) {
            Some(&graph_id) => Ok(EdgeLabel::named(label.kind(), graph_id)),
            None => err(
                offset,
                format!(
                    "edge label names string id {}, which is not defined",
                    file_id.0
                ),
            ),
        }
    }
}

/// Counts, per node, the edges that hold a reference to it (weak edges do not; self-references do).
pub fn retaining_in_degrees(
    node_count: usize,
    targets: &[NodeId],
    labels: &[EdgeLabel],
) -> Vec<u32> {
    let mut degrees = vec![0u32; node_count];
    for (&t, &l) in targets.iter().zip(labels) {
        if l.retains() {
            degrees[t as usize] = degrees[t as usize].saturating_add(1);
        }
    }
    degrees
}
