//! Object details (value preview, name, length, refcount), read from the mapped dump only when a report
//! asks for them.

use super::record::*;
use crate::dump_bytes::DumpBytes;
use crate::record_offsets::RecordOffsets;
use heapgraph_graph::{Column, LeakFacts, SavedDetails};
use heapgraph_graph::{NodeDetailSource, NodeDetails, NodeId};

pub struct PythonDetails {
    pub bytes: DumpBytes,
    /// Node id -> offset of its OBJECT record.
    pub record_offsets: RecordOffsets,
    /// File string id -> offset of its STRING record.
    pub string_offsets: Column<u64>,
    /// What FACT records state about objects.
    pub facts: LeakFacts,
}

impl PythonDetails {
    fn string(&self, id: u32) -> Option<String> {
        let offset = *self.string_offsets.get(id as usize)? as usize;
        let rec = record_at(self.bytes.get(), offset).ok()?;
        std::str::from_utf8(rec.payload.get(4..)?)
            .ok()
            .map(str::to_string)
    }
}

impl PythonDetails {
    /// Rebuilds the source from what [`NodeDetailSource::saved`] kept, reading the dump at `bytes`.
    pub fn reopen(bytes: DumpBytes, mut saved: SavedDetails) -> Option<PythonDetails> {
        let facts = LeakFacts::take_saved(&mut saved)?;
        let string_offsets = saved.u64s.pop()?;
        let record_offsets = RecordOffsets::reopen(&mut saved)?;
        Some(PythonDetails {
            bytes,
            record_offsets,
            string_offsets,
            facts,
        })
    }
}

impl NodeDetailSource for PythonDetails {
    fn saved(&self) -> SavedDetails {
        let mut saved = SavedDetails::default();
        self.record_offsets.save(&mut saved);
        saved.u64s.push(self.string_offsets.clone());
        self.facts.save_into(&mut saved);
        saved
    }

    fn leak_facts(&self) -> Option<&LeakFacts> {
        Some(&self.facts)
    }

    fn details(&self, node: NodeId) -> NodeDetails {
        let Some(offset) = self.record_offsets.get(node as usize) else {
            return NodeDetails::default();
        };
        // The loader validated this record; a failure here means the file changed under us.
        let Ok(rec) = record_at(self.bytes.get(), offset as usize) else {
            return NodeDetails::default();
        };
        let Ok(header) = ObjectHeader::parse(&rec) else {
            return NodeDetails::default();
        };
        let tail = ObjectTail::parse(&header, rec.payload);
        NodeDetails {
            value: tail.value.map(|v| String::from_utf8_lossy(v).into_owned()),
            name: tail.name.and_then(|id| self.string(id)),
            length: tail.length,
            refcount: Some(header.refcount),
        }
    }
}
