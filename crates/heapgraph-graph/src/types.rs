//! Object types (classes).

use crate::strings::{StrId, Strings};

/// An index into the graph's type table.
pub type TypeId = u32;

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
