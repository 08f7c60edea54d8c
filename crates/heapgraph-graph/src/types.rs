//! Object types (classes).

use crate::column::Column;
use crate::strings::{StrId, Strings};
use crate::NodeId;
use rayon::prelude::*;

/// An index into the graph's type table.
pub type TypeId = u32;

/// Each node's type: 2 bytes a node when the type table has at most 65,536 types, as it nearly always
/// does (a JVM heap of 20M objects has a few hundred classes), else 4.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeTypes {
    Narrow(Column<u16>),
    Wide(Column<TypeId>),
}

impl NodeTypes {
    /// The types of a graph whose type table has `type_count` types, narrowed when that many fit.
    pub fn new(types: Vec<TypeId>, type_count: usize) -> NodeTypes {
        if type_count <= 1 << 16 {
            NodeTypes::Narrow(
                types
                    .par_iter()
                    .map(|&t| t as u16)
                    .collect::<Vec<_>>()
                    .into(),
            )
        } else {
            NodeTypes::Wide(types.into())
        }
    }

    #[inline]
    pub fn get(&self, node: NodeId) -> TypeId {
        match self {
            NodeTypes::Narrow(types) => types[node as usize] as TypeId,
            NodeTypes::Wide(types) => types[node as usize],
        }
    }

    /// Starts loading `node`'s type, for a walk that reads it a few steps later.
    #[inline]
    pub fn prefetch(&self, node: NodeId) {
        match self {
            NodeTypes::Narrow(types) => crate::prefetch::prefetch(&types[node as usize]),
            NodeTypes::Wide(types) => crate::prefetch::prefetch(&types[node as usize]),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            NodeTypes::Narrow(types) => types.len(),
            NodeTypes::Wide(types) => types.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether every type is below `type_count`.
    pub fn all_below(&self, type_count: usize) -> bool {
        match self {
            NodeTypes::Narrow(types) => types.par_iter().all(|&t| (t as usize) < type_count),
            NodeTypes::Wide(types) => types.par_iter().all(|&t| (t as usize) < type_count),
        }
    }

    pub fn heap_bytes(&self) -> usize {
        match self {
            NodeTypes::Narrow(types) => types.heap_bytes(),
            NodeTypes::Wide(types) => types.heap_bytes(),
        }
    }
}

/// One type: a class, or an array of some element type. Two distinct type objects with the same names
/// (a class defined twice) are two types, told apart by `object`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct TypeInfo {
    /// Module or package (`builtins`, `collections`, `java.util`); empty when the runtime has none.
    pub module: StrId,
    /// The type's own (qualified) name within its module: `dict`, `Outer.Inner`, `HashMap`.
    pub name: StrId,
    /// Address of the type object in the dump, or 0 when the runtime has none.
    pub object: u64,
}

impl TypeInfo {
    /// The name people know the type by: `dict` for built-ins, `module.Name` otherwise.
    pub fn qualified_name(&self, strings: &Strings) -> String {
        let module = strings.get(self.module);
        let name = strings.get(self.name);
        if module.is_empty() || module == "builtins" {
            name.to_string()
        } else {
            format!("{module}.{name}")
        }
    }

    /// Whether `query` names this type, by its short name (`Leaf`), its qualified name (`app.Leaf`) or,
    /// for nested classes, the last part of its qualified name.
    pub fn matches(&self, query: &str, strings: &Strings) -> bool {
        let name = strings.get(self.name);
        name == query
            || name.rsplit('.').next() == Some(query)
            || self.qualified_name(strings) == query
    }
}
