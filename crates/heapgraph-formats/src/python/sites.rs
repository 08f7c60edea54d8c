//! TRACE and ALLOCATED records: the allocation traceback tracemalloc recorded for each object, read into
//! the graph's allocation-site table.
//!
//! The dumper writes each distinct traceback once (a TRACE record, ids counting up from 0) and then
//! (address, trace id) pairs. Addresses are resolved to nodes once the objects are numbered; a pair whose
//! address has no OBJECT record is dropped, as a dangling edge is.

use super::record::*;
use heapgraph_graph::{Addresses, AllocationSites, AllocationSitesBuilder, TraceId};

/// Bytes per (address u64, trace u32) pair of an ALLOCATED record.
const PAIR_LEN: usize = 12;
/// Bytes per (file u32, line u32) frame of a TRACE record.
const FRAME_LEN: usize = 8;

#[derive(Default)]
pub struct SiteRecords {
    builder: AllocationSitesBuilder,
    /// File trace id -> the builder's trace id (equal tracebacks share one).
    traces: Vec<TraceId>,
    /// (object address, builder trace id), in file order.
    allocated: Vec<(u64, TraceId)>,
}

impl SiteRecords {
    /// A TRACE record: `trace u32`, then `(file u32, line u32)` per frame, the allocating frame first.
    /// `file_text` gives the text of a file string id defined before the record.
    pub fn read_trace<'s>(
        &mut self,
        rec: &Record<'_>,
        file_text: impl Fn(u32) -> Result<&'s str, FormatError>,
    ) -> Result<(), FormatError> {
        let p = rec.payload;
        if p.len() < 4 || (p.len() - 4) % FRAME_LEN != 0 {
            return err(
                rec.offset,
                format!(
                    "TRACE record must be 4 bytes plus 8 per frame, not {}",
                    p.len()
                ),
            );
        }
        let id = u32_at(p, 0);
        if id as usize != self.traces.len() {
            return err(
                rec.offset,
                format!(
                    "TRACE id {id} out of order: ids must count up from 0, expected {}",
                    self.traces.len()
                ),
            );
        }
        let mut frames = Vec::with_capacity((p.len() - 4) / FRAME_LEN);
        for at in (4..p.len()).step_by(FRAME_LEN) {
            let file = file_text(u32_at(p, at))?;
            frames.push(self.builder.frame("", file, u32_at(p, at + 4)));
        }
        self.traces.push(self.builder.trace(&frames));
        Ok(())
    }

    /// An ALLOCATED record: `(address u64, trace u32)` pairs, each trace defined by an earlier TRACE.
    pub fn read_allocated(&mut self, rec: &Record<'_>) -> Result<(), FormatError> {
        let p = rec.payload;
        if p.len() % PAIR_LEN != 0 {
            return err(
                rec.offset,
                format!(
                    "ALLOCATED record must be 12 bytes per object, not {}",
                    p.len()
                ),
            );
        }
        self.allocated.reserve(p.len() / PAIR_LEN);
        for at in (0..p.len()).step_by(PAIR_LEN) {
            let trace = u32_at(p, at + 8);
            let Some(&id) = self.traces.get(trace as usize) else {
                return err(
                    rec.offset,
                    format!(
                        "ALLOCATED names trace {trace}, which no TRACE record defines before it"
                    ),
                );
            };
            self.allocated.push((u64_at(p, at), id));
        }
        Ok(())
    }

    /// The table, with every address the dump has an object at resolved to its node.
    pub fn finish(self, addresses: &Addresses) -> AllocationSites {
        let mut builder = self.builder;
        for (address, trace) in self.allocated {
            if let Some(node) = addresses.find(address) {
                builder.object(node, trace);
            }
        }
        builder.finish()
    }
}
