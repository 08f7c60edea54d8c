//! Object details read from the mapped dump when a report asks: a `java.lang.String`'s text, a class
//! object's class name, an array's length, and the labels of an object's references.

use super::classes::ClassTable;
use super::cursor::{read_id, Cursor};
use super::decode::Decoder;
use super::resolve::ExtraEdges;
use super::sizes::Layout;
use super::subrecords::{self, HeapObject, SubRecord};
use crate::dump_bytes::DumpBytes;
use crate::record_offsets::RecordOffsets;
use heapgraph_graph::{
    EdgeLabel, Graph, LeakFacts, NodeDetailSource, NodeDetails, NodeId, SavedDetails,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Characters of a string's value shown in previews.
const PREVIEW_CHARS: usize = 64;

pub struct JavaDetails {
    pub bytes: DumpBytes,
    /// Node id -> offset of its sub-record. Node `n`'s address is the id right after that tag byte, so
    /// this array also finds a node by address (binary search) without a second copy of the addresses.
    pub offsets: RecordOffsets,
    pub classes: JavaClasses,
    /// The instances whose fields prove the program is done with them (a stream already closed).
    pub facts: LeakFacts,
    /// What reading an object's references again takes, for the graph's derived edge labels. Only a
    /// dump loaded from its file has it: an index keeps the labels themselves.
    pub references: Option<JavaReferences>,
}

/// The class layouts that say which bytes of a record are references and what each is called, and the
/// references no object's record holds.
pub struct JavaReferences {
    pub classes: ClassTable,
    pub layout: Layout,
    /// Thread locals and loaders' classes, sorted by node, in the order the graph's edges have them.
    pub extra: ExtraEdges,
}

/// What details need beyond per-object offsets; an index file keeps it as JSON.
#[derive(Serialize, Deserialize)]
pub struct JavaClasses {
    pub id_size: usize,
    /// Class id -> Java class name; written in id order, so that the same dump gives the same index.
    #[serde(serialize_with = "in_key_order")]
    pub class_names: HashMap<u64, String>,
    /// `java.lang.String`'s class id and the payload offsets of its `value` and `coder` fields.
    pub string: Option<StringLayout>,
}

fn in_key_order<S: serde::Serializer>(
    map: &HashMap<u64, String>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    map.iter()
        .collect::<std::collections::BTreeMap<_, _>>()
        .serialize(serializer)
}

#[derive(Clone, Copy, Serialize, Deserialize)]
pub struct StringLayout {
    pub class: u64,
    pub value: usize,
    pub coder: Option<usize>,
}

impl StringLayout {
    pub fn find(classes: &ClassTable, id_size: usize) -> Option<StringLayout> {
        let c = classes
            .classes
            .iter()
            .find(|c| c.name == "java.lang.String")?;
        let mut at = 0;
        let (mut value, mut coder) = (None, None);
        for &(_, ty) in &c.dump.fields {
            // String's own fields are all its fields (its superclass, Object, has none).
            match (ty, value, coder) {
                (subrecords::TYPE_OBJECT, None, _) => value = Some(at),
                (8, _, None) => coder = Some(at),
                _ => {}
            }
            at += subrecords::value_size(ty, id_size).unwrap_or(0);
        }
        Some(StringLayout {
            class: c.dump.id,
            value: value?,
            coder,
        })
    }
}

impl JavaDetails {
    /// Rebuilds the source from what [`NodeDetailSource::saved`] kept, reading the dump at `bytes`.
    pub fn reopen(bytes: DumpBytes, mut saved: SavedDetails) -> Option<JavaDetails> {
        let classes: JavaClasses = serde_json::from_str(&saved.text).ok()?;
        // Ids are 4 or 8 bytes in every HPROF dump; anything else would make the cursor misread.
        if ![4, 8].contains(&classes.id_size) {
            return None;
        }
        let facts = LeakFacts::take_saved(&mut saved)?;
        Some(JavaDetails {
            bytes,
            facts,
            offsets: RecordOffsets::reopen(&mut saved)?,
            classes,
            references: None,
        })
    }

    fn object(&self, node: usize) -> Option<HeapObject<'_>> {
        let id_size = self.classes.id_size;
        let mut c = Cursor::new(self.bytes.get(), self.offsets.get(node)? as usize, id_size);
        match subrecords::parse(&mut c).ok()? {
            SubRecord::Object(o) => Some(o),
            _ => None,
        }
    }

    fn node_at(&self, address: u64) -> Option<usize> {
        let address_of = |n: usize| {
            // Offsets from an index file may be forged: out of the dump reads as address 0.
            let id_size = self.classes.id_size;
            let at = (self.offsets.at(n) as usize).saturating_add(1);
            at.checked_add(id_size)
                .and_then(|end| self.bytes.get().get(at..end))
                .map_or(0, |b| read_id(b, 0, id_size))
        };
        let (mut lo, mut hi) = (0, self.offsets.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            match address_of(mid).cmp(&address) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    /// The text of a `java.lang.String` instance's payload: Latin-1 or UTF-16 `byte[]` by `coder`
    /// (JDK 9+), or a `char[]` (JDK 8).
    fn string_value(&self, layout: StringLayout, fields: &[u8]) -> Option<(String, u64)> {
        let value = read_id(
            fields.get(layout.value..layout.value + self.classes.id_size)?,
            0,
            self.classes.id_size,
        );
        let coder = layout
            .coder
            .and_then(|at| fields.get(at).copied())
            .unwrap_or(0);
        let HeapObject::PrimitiveArray { elem, data, .. } = self.object(self.node_at(value)?)?
        else {
            return None;
        };
        Some(match (elem, coder) {
            (8, 0) => (
                data.iter()
                    .take(PREVIEW_CHARS)
                    .map(|&b| b as char)
                    .collect(),
                data.len() as u64,
            ),
            // UTF-16 in the VM's byte order: little-endian on the platforms HotSpot dumps come from.
            (8, _) => utf16(
                data.chunks_exact(2)
                    .map(|p| u16::from_le_bytes([p[0], p[1]])),
            ),
            (5, _) => utf16(
                data.chunks_exact(2)
                    .map(|p| u16::from_be_bytes([p[0], p[1]])),
            ),
            _ => return None,
        })
    }
}

fn utf16(units: impl Iterator<Item = u16> + Clone) -> (String, u64) {
    let len = units.clone().count() as u64;
    let text = char::decode_utf16(units.take(PREVIEW_CHARS))
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect();
    (text, len)
}

impl NodeDetailSource for JavaDetails {
    /// Decodes the object's record again, as loading did, keeping the labels of the references whose
    /// targets are in the graph, then its extra references: the graph's edges, in their order.
    fn edge_labels(&self, node: NodeId, graph: &Graph) -> Option<Vec<EdgeLabel>> {
        let references = self.references.as_ref()?;
        let at = self.offsets.get(node as usize)?;
        let decoder = Decoder {
            data: self.bytes.get(),
            id_size: self.classes.id_size,
            classes: &references.classes,
            layout: references.layout,
        };
        let mut labels = Vec::new();
        let mut keep = |address: u64, label: EdgeLabel| {
            if graph.node_at(address).is_some() {
                labels.push(label);
            }
        };
        let decoded = decoder
            .object_at(at)
            .and_then(|o| decoder.references(&o, at, &mut keep));
        self.bytes.scattered_read_done();
        decoded.ok()?;
        let extra = &references.extra;
        let first = extra.partition_point(|e| e.0 < node);
        for &(_, address, label) in extra[first..].iter().take_while(|e| e.0 == node) {
            keep(address, label);
        }
        Some(labels)
    }

    fn saved(&self) -> SavedDetails {
        let mut saved = SavedDetails {
            text: serde_json::to_string(&self.classes).unwrap_or_default(),
            ..SavedDetails::default()
        };
        self.offsets.save(&mut saved);
        self.facts.save_into(&mut saved);
        saved
    }

    fn leak_facts(&self) -> Option<&LeakFacts> {
        Some(&self.facts)
    }

    fn details(&self, node: NodeId) -> NodeDetails {
        let Some(object) = self.object(node as usize) else {
            return NodeDetails::default();
        };
        let mut d = NodeDetails::default();
        match object {
            HeapObject::Class(dump) => d.name = self.classes.class_names.get(&dump.id).cloned(),
            HeapObject::Instance { class, fields, .. } => {
                if let Some(layout) = self.classes.string.filter(|s| s.class == class) {
                    if let Some((text, len)) = self.string_value(layout, fields) {
                        d.value = Some(text);
                        d.length = Some(len);
                    }
                }
            }
            HeapObject::ObjectArray { elements, .. } => {
                d.length = Some((elements.len() / self.classes.id_size) as u64)
            }
            HeapObject::PrimitiveArray { len, .. } => d.length = Some(len as u64),
        }
        d
    }
}
