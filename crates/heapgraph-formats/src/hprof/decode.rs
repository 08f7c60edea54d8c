//! What one heap object becomes in the graph: its type, its shallow size and its references.
//!
//! Both the counting pass and the writing pass call [`Decoder::references`], so the edges counted and
//! the edges written can never disagree.

use super::classes::ClassTable;
use super::cursor::{read_id, Cursor};
use super::sizes::Layout;
use super::subrecords::{self, HeapObject, SubRecord, TYPE_OBJECT};
use crate::error::{err, FormatError};
use heapgraph_graph::{EdgeLabel, TypeId};

pub struct Decoder<'a> {
    pub data: &'a [u8],
    pub id_size: usize,
    pub classes: &'a ClassTable,
    pub layout: Layout,
}

impl<'a> Decoder<'a> {
    /// The object whose sub-record starts at `offset` (pass 1 framed it).
    pub fn object_at(&self, offset: u64) -> Result<HeapObject<'a>, FormatError> {
        let mut c = Cursor::new(self.data, offset as usize, self.id_size);
        match subrecords::parse(&mut c)? {
            SubRecord::Object(object) => Ok(object),
            _ => err(offset as usize, "expected an object sub-record here"),
        }
    }

    fn class_index(&self, class: u64, what: &str, id: u64, at: u64) -> Result<usize, FormatError> {
        match self.classes.by_id.get(&class) {
            Some(&i) => Ok(i as usize),
            None => err(
                at as usize,
                format!("{what} {id:#x} has class {class:#x}, which no CLASS DUMP describes"),
            ),
        }
    }

    /// The type and shallow size of `object`, whose sub-record is at `at`.
    pub fn type_and_size(
        &self,
        object: &HeapObject<'_>,
        at: u64,
    ) -> Result<(TypeId, u64), FormatError> {
        Ok(match object {
            HeapObject::Instance { id, class, .. } => {
                let i = self.class_index(*class, "instance", *id, at)?;
                (i as TypeId, self.classes.classes[i].instance_size)
            }
            HeapObject::ObjectArray {
                id,
                class,
                elements,
            } => {
                let i = self.class_index(*class, "object array", *id, at)?;
                let len = (elements.len() / self.id_size) as u64;
                (i as TypeId, self.layout.object_array(len))
            }
            HeapObject::PrimitiveArray { elem, len, .. } => (
                self.classes.primitive_types[*elem as usize],
                self.layout.primitive_array(*elem, *len as u64),
            ),
            HeapObject::Class(dump) => {
                let i = self.class_index(dump.id, "class", dump.id, at)?;
                (self.classes.class_type, self.classes.classes[i].mirror_size)
            }
        })
    }

    /// Calls `emit` for each non-null reference of `object` (whose sub-record is at `at`), in a fixed order.
    pub fn references(
        &self,
        object: &HeapObject<'_>,
        at: u64,
        mut emit: impl FnMut(u64, EdgeLabel),
    ) -> Result<(), FormatError> {
        let mut emit = |target: u64, label| {
            if target != 0 {
                emit(target, label)
            }
        };
        let labels = &self.classes.labels;
        let id_size = self.id_size;
        match object {
            HeapObject::Instance { id, class, fields } => {
                let c = &self.classes.classes[self.class_index(*class, "instance", *id, at)?];
                if fields.len() != c.payload_len {
                    return err(
                        at as usize,
                        format!(
                            "instance {id:#x} of {} has {} bytes of fields, but its class's fields add up to {}",
                            c.name,
                            fields.len(),
                            c.payload_len
                        ),
                    );
                }
                emit(*class, labels.class);
                for &(at, label) in &c.ref_slots {
                    emit(read_id(fields, at as usize, id_size), label);
                }
            }
            HeapObject::ObjectArray {
                class, elements, ..
            } => {
                emit(*class, labels.class);
                for (i, element) in elements.chunks_exact(id_size).enumerate() {
                    emit(read_id(element, 0, id_size), EdgeLabel::index(i as u64));
                }
            }
            HeapObject::PrimitiveArray { elem, .. } => {
                emit(self.classes.primitive_classes[*elem as usize], labels.class);
            }
            HeapObject::Class(dump) => {
                let c = &self.classes.classes[self.class_index(dump.id, "class", dump.id, at)?];
                emit(dump.super_id, labels.super_class);
                emit(dump.loader, labels.loader);
                emit(dump.signers, labels.signers);
                emit(dump.protection_domain, labels.protection_domain);
                for (value, &label) in dump.statics.iter().zip(&c.static_labels) {
                    if value.ty == TYPE_OBJECT {
                        emit(value.value, label);
                    }
                }
                for value in &dump.constants {
                    if value.ty == TYPE_OBJECT {
                        emit(value.value, labels.constant);
                    }
                }
            }
        }
        Ok(())
    }
}
