//! Details of a node, read from the snapshot on demand: a string's text, a function's or a number's
//! name. The strings table stays in the mapped file; decoding a few hundred strings for a report is
//! instant, decoding millions up front would not be.

use super::strings::StringTable;
use heapgraph_graph::{NodeDetailSource, NodeDetails, NodeId};
use memmap2::Mmap;

/// Longest value preview, in characters.
const PREVIEW: usize = 200;

/// How a node's name reads, by its node type.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum NameIs {
    /// Strings and numbers: the name is the value.
    Value,
    /// Objects and natives: the name is the class, already the node's type.
    Class,
    /// Closures, code, regexps, hidden objects: the name is the object's own.
    Name,
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
}

pub struct V8Details {
    pub map: Mmap,
    pub strings: StringTable,
    /// Per node id: its name's index in the strings table and how that name reads.
    pub names: Vec<u32>,
    pub name_is: Vec<NameIs>,
    pub kinds: Vec<u8>,
}

impl NodeDetailSource for V8Details {
    fn details(&self, node: NodeId) -> NodeDetails {
        let mut d = NodeDetails::default();
        let (Some(&name), Some(&kind)) =
            (self.names.get(node as usize), self.kinds.get(node as usize))
        else {
            return d;
        };
        let Some(text) = self.strings.get(&self.map, name as usize) else {
            return d;
        };
        match self.name_is[kind as usize] {
            // No length: V8 cuts names at 1024 characters, so the name's length is not the string's.
            NameIs::Value => d.value = Some(text.chars().take(PREVIEW).collect()),
            NameIs::Name if !text.is_empty() => d.name = Some(text.into_owned()),
            _ => {}
        }
        d
    }
}
