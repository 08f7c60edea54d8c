//! Details of a node, read from the snapshot on demand: a string's text, a function's or a number's
//! name. The strings table stays in the mapped file; decoding a few hundred strings for a report is
//! instant, decoding millions up front would not be.

use super::strings::StringTable;
use crate::dump_bytes::DumpBytes;
use heapgraph_graph::{Column, LeakFacts, NodeDetailSource, NodeDetails, NodeId, SavedDetails};

/// Longest value preview, in characters.
const PREVIEW: usize = 200;

/// How a node's name reads, by its node type.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum NameIs {
    /// Strings and numbers: the name is the value.
    Value = 0,
    /// Objects and natives: the name is the class, already the node's type.
    Class = 1,
    /// Closures, code, regexps, hidden objects: the name is the object's own.
    Name = 2,
}

impl NameIs {
    pub fn of(node_type: &str) -> NameIs {
        match node_type {
            "string" | "concatenated string" | "sliced string" | "number" | "bigint" => {
                NameIs::Value
            }
            "object" | "native" => NameIs::Class,
            _ => NameIs::Name,
        }
    }

    fn from_code(code: u8) -> NameIs {
        match code {
            0 => NameIs::Value,
            1 => NameIs::Class,
            _ => NameIs::Name,
        }
    }
}

pub struct V8Details {
    pub bytes: DumpBytes,
    pub strings: StringTable,
    /// Per node id: its name's index in the strings table and its V8 node type.
    pub names: Column<u32>,
    pub kinds: Column<u8>,
    /// How a name reads, per V8 node type.
    pub name_is: Vec<NameIs>,
    /// The DOM nodes the snapshot marks detached.
    pub facts: LeakFacts,
}

impl V8Details {
    /// Rebuilds the source from what [`NodeDetailSource::saved`] kept, reading the dump at `bytes`.
    pub fn reopen(bytes: DumpBytes, mut saved: SavedDetails) -> Option<V8Details> {
        let facts = LeakFacts::take_saved(&mut saved)?;
        let name_is = saved.u8s.pop()?;
        let kinds = saved.u8s.pop()?;
        Some(V8Details {
            bytes,
            strings: StringTable::from_starts(saved.u64s.pop()?),
            names: saved.u32s.pop()?,
            kinds,
            name_is: name_is.iter().map(|&c| NameIs::from_code(c)).collect(),
            facts,
        })
    }
}

impl NodeDetailSource for V8Details {
    fn saved(&self) -> SavedDetails {
        let mut saved = SavedDetails {
            u64s: vec![self.strings.starts().clone()],
            u32s: vec![self.names.clone()],
            u8s: vec![
                self.kinds.clone(),
                self.name_is.iter().map(|&n| n as u8).collect(),
            ],
            ..SavedDetails::default()
        };
        self.facts.save_into(&mut saved);
        saved
    }

    fn leak_facts(&self) -> Option<&LeakFacts> {
        Some(&self.facts)
    }

    fn details(&self, node: NodeId) -> NodeDetails {
        let mut d = NodeDetails::default();
        let (Some(&name), Some(&kind)) =
            (self.names.get(node as usize), self.kinds.get(node as usize))
        else {
            return d;
        };
        let Some(text) = self.strings.get(self.bytes.get(), name as usize) else {
            return d;
        };
        match self
            .name_is
            .get(kind as usize)
            .copied()
            .unwrap_or(NameIs::Name)
        {
            // No length: V8 cuts names at 1024 characters, so the name's length is not the string's.
            NameIs::Value => d.value = Some(text.chars().take(PREVIEW).collect()),
            NameIs::Name if !text.is_empty() => d.name = Some(text.into_owned()),
            _ => {}
        }
        d
    }
}
