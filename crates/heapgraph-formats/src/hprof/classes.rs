//! The class table: names, type ids, and each class's flattened instance layout.
//!
//! An INSTANCE DUMP's payload is the values of its class's own fields, then its superclass's, up to
//! `java.lang.Object`, with no padding. Flattening that chain once per class turns decoding an instance
//! into a walk over a short list of reference slots (byte offset + edge label).

use super::records::Records;
use super::resolve::ExtraEdges;
use super::sizes::Layout;
use super::subrecords::{primitive_name, value_size, ClassDump, TYPE_OBJECT};
use crate::error::{err, FormatError};
// Class ids are looked up for every instance: hashbrown's default hasher is several times faster than
// std's DoS-resistant one, and class ids are VM addresses, not attacker-chosen keys that matter.
use hashbrown::HashMap;
use heapgraph_graph::{Addresses, EdgeKind, EdgeLabel, StringInterner, TypeId, TypeInfo};

/// Superclasses a class may have. Real hierarchies are a few dozen deep; the bound keeps a hostile dump
/// (a chain of a million classes, or a cycle) from making the flattening quadratic.
const MAX_HIERARCHY_DEPTH: usize = 1000;

/// Basic type codes run 1..=11; primitive array tables are indexed by them.
pub const BASIC_TYPES: usize = 12;

pub struct Class {
    pub dump: ClassDump,
    /// Java name: `java.util.HashMap$Node`, `int[]`, `java.lang.Object[]`.
    pub name: String,
    /// Reference fields of an instance: (byte offset in the payload, edge label), own fields first.
    pub ref_slots: Vec<(u32, EdgeLabel)>,
    /// Bytes of an instance payload.
    pub payload_len: usize,
    /// Edge label of each static field, parallel to `dump.statics`.
    pub static_labels: Vec<EdgeLabel>,
    /// Shallow size of an instance, set by [`ClassTable::apply_layout`].
    pub instance_size: u64,
    /// Shallow size of the class object itself (the `java.lang.Class` mirror with its statics).
    pub mirror_size: u64,
}

pub struct ClassTable {
    /// Type id `i` is class `i`; types past the classes are made up (see `types`).
    pub classes: Vec<Class>,
    pub by_id: HashMap<u64, u32>,
    pub types: Vec<TypeInfo>,
    /// The type of class objects (`java.lang.Class`).
    pub class_type: TypeId,
    /// Type and class object of each primitive array kind, by element type code.
    pub primitive_types: [TypeId; BASIC_TYPES],
    pub primitive_classes: [u64; BASIC_TYPES],
    /// Labels every class node and instance uses.
    pub labels: CommonLabels,
}

#[derive(Clone, Copy)]
pub struct CommonLabels {
    pub class: EdgeLabel,
    pub super_class: EdgeLabel,
    pub loader: EdgeLabel,
    pub signers: EdgeLabel,
    pub protection_domain: EdgeLabel,
    pub constant: EdgeLabel,
    pub defined_class: EdgeLabel,
}

impl ClassTable {
    pub fn build(
        dumps: Vec<ClassDump>,
        records: &Records,
        data: &[u8],
        id_size: usize,
        interner: &mut StringInterner,
    ) -> Result<ClassTable, FormatError> {
        let mut by_id = HashMap::with_capacity(dumps.len());
        let mut classes: Vec<Class> = Vec::with_capacity(dumps.len());
        for dump in dumps {
            if let Some(first) = by_id.insert(dump.id, classes.len() as u32) {
                return err(
                    dump.offset,
                    format!(
                        "class {:#x} is dumped twice (also at byte {}): the dump is corrupt",
                        dump.id, classes[first as usize].dump.offset
                    ),
                );
            }
            let name = match records.class_names.get(&dump.id) {
                Some(&name_id) => match records.text(data, name_id) {
                    Some(text) => java_name(&text),
                    None => format!("<class {:#x}>", dump.id),
                },
                None => format!("<class {:#x}>", dump.id),
            };
            classes.push(Class {
                dump,
                name,
                ref_slots: Vec::new(),
                payload_len: 0,
                static_labels: Vec::new(),
                instance_size: 0,
                mirror_size: 0,
            });
        }
        let name_of = |id: u64, interner: &mut StringInterner| {
            interner.intern(&records.text(data, id).unwrap_or_default())
        };
        let referent = interner.intern("referent");
        for i in 0..classes.len() {
            let mut slots = Vec::new();
            let mut at = 0usize;
            let mut class = i as u32;
            for depth in 0.. {
                if depth > MAX_HIERARCHY_DEPTH {
                    return err(
                        classes[i].dump.offset,
                        format!(
                            "class {} has more than {MAX_HIERARCHY_DEPTH} superclasses (or is its own \
                             superclass): the dump is corrupt",
                            classes[i].name
                        ),
                    );
                }
                let c = &classes[class as usize];
                let is_reference = c.name == "java.lang.ref.Reference";
                for &(name, ty) in &c.dump.fields {
                    if ty == TYPE_OBJECT {
                        let name = name_of(name, interner);
                        let label = if is_reference && name == referent {
                            EdgeLabel::named(EdgeKind::Weak, name)
                        } else {
                            EdgeLabel::named(EdgeKind::Attribute, name)
                        };
                        slots.push((at as u32, label));
                    }
                    at += value_size(ty, id_size).unwrap_or(0);
                }
                match by_id.get(&c.dump.super_id) {
                    Some(&s) => class = s,
                    None => break,
                }
            }
            classes[i].static_labels = (0..classes[i].dump.statics.len())
                .map(|s| {
                    let name = name_of(classes[i].dump.statics[s].name, interner);
                    EdgeLabel::named(EdgeKind::Attribute, name)
                })
                .collect();
            classes[i].ref_slots = slots;
            classes[i].payload_len = at;
        }
        let mut types: Vec<TypeInfo> = classes
            .iter()
            .map(|c| type_info(&c.name, c.dump.id, interner))
            .collect();
        let mut find_or_make = |name: &str, types: &mut Vec<TypeInfo>| -> (TypeId, u64) {
            match classes.iter().position(|c| c.name == name) {
                Some(i) => (i as TypeId, classes[i].dump.id),
                None => {
                    types.push(type_info(name, 0, interner));
                    ((types.len() - 1) as TypeId, 0)
                }
            }
        };
        let (class_type, _) = find_or_make("java.lang.Class", &mut types);
        let mut primitive_types = [0; BASIC_TYPES];
        let mut primitive_classes = [0; BASIC_TYPES];
        for ty in 0..BASIC_TYPES as u8 {
            if let Some(name) = primitive_name(ty) {
                let (t, id) = find_or_make(&format!("{name}[]"), &mut types);
                primitive_types[ty as usize] = t;
                primitive_classes[ty as usize] = id;
            }
        }
        let mut internal = |name: &str| EdgeLabel::named(EdgeKind::Internal, interner.intern(name));
        let labels = CommonLabels {
            class: internal("class"),
            super_class: internal("super"),
            loader: internal("loader"),
            signers: internal("signers"),
            protection_domain: internal("protection domain"),
            constant: internal("constant pool"),
            defined_class: internal("defined class"),
        };
        Ok(ClassTable {
            classes,
            by_id,
            types,
            class_type,
            primitive_types,
            primitive_classes,
            labels,
        })
    }

    /// An edge from each class loader to every class it defined: the VM keeps a class alive as long as
    /// its loader (the loader's class loader data holds it), but no field in the dump says so.
    pub fn loader_edges(&self, addresses: &Addresses) -> ExtraEdges {
        self.classes
            .iter()
            .filter_map(|c| {
                let loader = addresses.find(c.dump.loader)?;
                Some((loader, c.dump.id, self.labels.defined_class))
            })
            .collect()
    }

    /// Computes every class's instance and mirror shallow sizes under `layout`.
    pub fn apply_layout(&mut self, layout: &Layout) {
        let mut unaligned = vec![None; self.classes.len()];
        for i in 0..self.classes.len() {
            self.classes[i].instance_size =
                layout.align(self.unaligned_instance(i, layout, &mut unaligned));
        }
        let class_instance = self
            .classes
            .iter()
            .position(|c| c.name == "java.lang.Class")
            .map_or(0, |i| unaligned[i].unwrap_or(0))
            + layout.class_injected_fields();
        for c in &mut self.classes {
            let statics: u64 = c.dump.statics.iter().map(|s| layout.field_size(s.ty)).sum();
            c.mirror_size = layout.align(class_instance + statics);
        }
    }

    /// MAT's `sizeRec`: header for `java.lang.Object`, else the superclass's size plus own fields,
    /// aligned to the reference size at each level. Memoised; the chain was checked for cycles.
    fn unaligned_instance(&self, i: usize, layout: &Layout, memo: &mut [Option<u64>]) -> u64 {
        let mut chain = vec![i];
        let mut class = i;
        while memo[class].is_none() {
            match self.by_id.get(&self.classes[class].dump.super_id) {
                Some(&s) if chain.len() <= MAX_HIERARCHY_DEPTH => {
                    class = s as usize;
                    chain.push(class);
                }
                _ => {
                    memo[class] = Some(layout.header());
                    break;
                }
            }
        }
        let mut size = memo[class].unwrap_or(0);
        for &c in chain.iter().rev().skip(1) {
            let own: u64 = self.classes[c]
                .dump
                .fields
                .iter()
                .map(|&(_, ty)| layout.field_size(ty))
                .sum();
            size = layout.align_to_ref(size + own);
            memo[c] = Some(size);
        }
        size
    }
}

/// `java/util/HashMap$Node` -> `java.util.HashMap$Node`; `[Ljava/lang/Object;` -> `java.lang.Object[]`;
/// `[[I` -> `int[][]`. Names that are not valid descriptors are kept as they are.
pub fn java_name(internal: &str) -> String {
    let dims = internal.bytes().take_while(|&b| b == b'[').count();
    let element = &internal[dims..];
    let base = if dims == 0 {
        element.replace('/', ".")
    } else if let Some(class) = element.strip_prefix('L').and_then(|e| e.strip_suffix(';')) {
        class.replace('/', ".")
    } else {
        let code = match element {
            "Z" => 4,
            "C" => 5,
            "F" => 6,
            "D" => 7,
            "B" => 8,
            "S" => 9,
            "I" => 10,
            "J" => 11,
            _ => return internal.to_string(),
        };
        primitive_name(code).unwrap_or_default().to_string()
    };
    format!("{base}{}", "[]".repeat(dims))
}

/// Splits a Java name into package (the module) and the rest, so `HashMap` finds `java.util.HashMap`.
fn type_info(name: &str, object: u64, interner: &mut StringInterner) -> TypeInfo {
    let base_end = name.find('[').unwrap_or(name.len());
    let (module, short) = match name[..base_end].rfind('.') {
        Some(dot) => (&name[..dot], &name[dot + 1..]),
        None => ("", name),
    };
    TypeInfo {
        module: interner.intern(module),
        name: interner.intern(short),
        object,
    }
}
