//! Object details (value preview, name, length, refcount), read from the mapped dump only when a report
//! asks for them.

use super::record::*;
use heapgraph_graph::{NodeDetailSource, NodeDetails, NodeId};
use memmap2::Mmap;

pub struct PythonDetails {
    pub map: Mmap,
    /// Node id -> offset of its OBJECT record.
    pub record_offsets: Vec<u64>,
    /// File string id -> offset of its STRING record.
    pub string_offsets: Vec<u64>,
}

impl PythonDetails {
    fn string(&self, id: u32) -> Option<String> {
        let offset = *self.string_offsets.get(id as usize)? as usize;
        let rec = record_at(&self.map, offset).ok()?;
        std::str::from_utf8(rec.payload.get(4..)?)
            .ok()
            .map(str::to_string)
    }
}

impl NodeDetailSource for PythonDetails {
    fn details(&self, node: NodeId) -> NodeDetails {
        let Some(&offset) = self.record_offsets.get(node as usize) else {
            return NodeDetails::default();
        };
        // The loader validated this record; a failure here means the file changed under us.
        let Ok(rec) = record_at(&self.map, offset as usize) else {
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
