//! Heap dump sub-records: GC roots, class dumps, instances and arrays, as they sit inside HEAP DUMP and
//! HEAP DUMP SEGMENT bodies. One parser serves both passes: pass 1 frames and collects, pass 2 parses
//! the same record again at its offset to write its edges.

use super::cursor::Cursor;
use crate::error::{err, FormatError};
use heapgraph_graph::RootKind;

pub const TAG_CLASS_DUMP: u8 = 0x20;
pub const TAG_INSTANCE: u8 = 0x21;
pub const TAG_OBJECT_ARRAY: u8 = 0x22;
pub const TAG_PRIMITIVE_ARRAY: u8 = 0x23;
/// Dalvik: a primitive array dumped without its elements.
pub const TAG_PRIMITIVE_ARRAY_NODATA: u8 = 0xC3;
/// Android: the objects that follow belong to the named heap (app, zygote, image).
const TAG_HEAP_DUMP_INFO: u8 = 0xFE;

/// Basic type code of an object reference; 1 ("array object") appears only in the legacy agent's dumps.
pub const TYPE_OBJECT: u8 = 2;
const TYPE_ARRAY_OBJECT: u8 = 1;

/// Size in the dump of a value of basic type `ty`, or `None` for an unknown type code.
#[inline]
pub fn value_size(ty: u8, id_size: usize) -> Option<usize> {
    Some(match ty {
        TYPE_ARRAY_OBJECT | TYPE_OBJECT => id_size,
        4 | 8 => 1,  // boolean, byte
        5 | 9 => 2,  // char, short
        6 | 10 => 4, // float, int
        7 | 11 => 8, // double, long
        _ => return None,
    })
}

/// Java's name for a primitive basic type code.
pub fn primitive_name(ty: u8) -> Option<&'static str> {
    Some(match ty {
        4 => "boolean",
        5 => "char",
        6 => "float",
        7 => "double",
        8 => "byte",
        9 => "short",
        10 => "int",
        11 => "long",
        _ => return None,
    })
}

/// A GC root sub-record, not yet resolved to a node.
#[derive(Clone, Debug)]
pub struct RawRoot {
    pub address: u64,
    pub kind: RootKind,
    /// The thread whose stack holds it (frame, JNI local, native stack, thread block, thread object).
    pub thread_serial: Option<u32>,
    /// Depth of the frame on that thread's stack (frame and JNI local roots; -1 when unknown).
    pub frame: Option<i32>,
    /// A thread object's stack trace serial.
    pub trace_serial: Option<u32>,
}

/// A value of a static field or constant-pool entry; only object values (ids) become edges.
pub struct Value {
    pub name: u64,
    pub ty: u8,
    pub value: u64,
}

/// A CLASS DUMP: the class object's references and its own (not inherited) instance fields.
pub struct ClassDump {
    /// File offset of the sub-record, for errors about the class.
    pub offset: usize,
    pub id: u64,
    pub super_id: u64,
    pub loader: u64,
    pub signers: u64,
    pub protection_domain: u64,
    /// Static fields with their values.
    pub statics: Vec<Value>,
    /// Constant-pool entries (their `name` is 0); HotSpot writes none, the legacy agent did.
    pub constants: Vec<Value>,
    /// Own instance fields: (name string id, basic type), in the order instance payloads store them.
    pub fields: Vec<(u64, u8)>,
}

pub enum HeapObject<'a> {
    Class(ClassDump),
    Instance {
        id: u64,
        class: u64,
        fields: &'a [u8],
    },
    ObjectArray {
        id: u64,
        class: u64,
        elements: &'a [u8],
    },
    PrimitiveArray {
        id: u64,
        elem: u8,
        len: u32,
        data: &'a [u8],
    },
}

impl HeapObject<'_> {
    pub fn id(&self) -> u64 {
        match self {
            HeapObject::Class(c) => c.id,
            HeapObject::Instance { id, .. }
            | HeapObject::ObjectArray { id, .. }
            | HeapObject::PrimitiveArray { id, .. } => *id,
        }
    }
}

pub enum SubRecord<'a> {
    Root(RawRoot),
    Object(HeapObject<'a>),
    /// Android's HEAP DUMP INFO: the objects that follow belong to the heap named by this string id.
    HeapInfo {
        name: u64,
    },
}

/// Parses the sub-record at the cursor and moves past it.
pub fn parse<'a>(c: &mut Cursor<'a>) -> Result<SubRecord<'a>, FormatError> {
    let at = c.pos();
    let tag = c.u1("a heap sub-record tag")?;
    let root = |kind| RawRoot {
        address: 0,
        kind,
        thread_serial: None,
        frame: None,
        trace_serial: None,
    };
    let simple = |c: &mut Cursor<'a>, kind| -> Result<SubRecord<'a>, FormatError> {
        let mut r = root(kind);
        r.address = c.id("a root's object id")?;
        Ok(SubRecord::Root(r))
    };
    Ok(match tag {
        0xFF => simple(c, RootKind::Unknown)?,
        0x05 => simple(c, RootKind::StickyClass)?,
        0x07 => simple(c, RootKind::MonitorUsed)?,
        0x89 | 0x8A | 0x8B | 0x8C | 0x8D | 0x90 => simple(c, RootKind::VmInternal)?,
        0x01 => {
            let r = simple(c, RootKind::JniGlobal)?;
            c.id("a JNI global's reference id")?;
            r
        }
        0x02 | 0x03 | 0x8E => {
            let kind = match tag {
                0x02 => RootKind::JniLocal,
                0x03 => RootKind::JavaFrame,
                _ => RootKind::MonitorUsed,
            };
            let mut r = root(kind);
            r.address = c.id("a root's object id")?;
            r.thread_serial = Some(c.u4("a root's thread serial")?);
            r.frame = Some(c.u4("a root's frame number")? as i32);
            SubRecord::Root(r)
        }
        0x04 | 0x06 => {
            let mut r = root(if tag == 0x04 {
                RootKind::NativeStack
            } else {
                RootKind::ThreadBlock
            });
            r.address = c.id("a root's object id")?;
            r.thread_serial = Some(c.u4("a root's thread serial")?);
            SubRecord::Root(r)
        }
        0x08 => {
            let mut r = root(RootKind::ThreadObject);
            r.address = c.id("a thread root's object id")?;
            r.thread_serial = Some(c.u4("a thread root's serial")?);
            r.trace_serial = Some(c.u4("a thread root's stack trace serial")?);
            SubRecord::Root(r)
        }
        TAG_CLASS_DUMP => SubRecord::Object(HeapObject::Class(class_dump(c, at)?)),
        TAG_INSTANCE => {
            let id = c.id("an instance's id")?;
            c.u4("an instance's stack trace serial")?;
            let class = c.id("an instance's class id")?;
            let n = c.u4("an instance's field byte count")? as usize;
            let fields = c.bytes(n, "an instance's field values")?;
            SubRecord::Object(HeapObject::Instance { id, class, fields })
        }
        TAG_OBJECT_ARRAY => {
            let id = c.id("an object array's id")?;
            c.u4("an object array's stack trace serial")?;
            let n = c.u4("an object array's length")? as usize;
            let class = c.id("an object array's class id")?;
            let elements = c.bytes(n.saturating_mul(c.id_size()), "an object array's elements")?;
            SubRecord::Object(HeapObject::ObjectArray {
                id,
                class,
                elements,
            })
        }
        TAG_PRIMITIVE_ARRAY | TAG_PRIMITIVE_ARRAY_NODATA => {
            let id = c.id("a primitive array's id")?;
            c.u4("a primitive array's stack trace serial")?;
            let len = c.u4("a primitive array's length")?;
            let type_at = c.pos();
            let elem = c.u1("a primitive array's element type")?;
            let Some(size) = value_size(elem, c.id_size()).filter(|_| elem > TYPE_OBJECT) else {
                return err(
                    type_at,
                    format!("primitive array of unknown element type {elem}"),
                );
            };
            let data = if tag == TAG_PRIMITIVE_ARRAY {
                c.bytes(
                    (len as usize).saturating_mul(size),
                    "a primitive array's elements",
                )?
            } else {
                &[]
            };
            SubRecord::Object(HeapObject::PrimitiveArray {
                id,
                elem,
                len,
                data,
            })
        }
        TAG_HEAP_DUMP_INFO => {
            c.u4("a heap dump info's heap id")?;
            let name = c.id("a heap dump info's name id")?;
            SubRecord::HeapInfo { name }
        }
        _ => return err(at, format!("unknown heap dump sub-record tag {tag:#04x}")),
    })
}

fn class_dump(c: &mut Cursor<'_>, offset: usize) -> Result<ClassDump, FormatError> {
    let id = c.id("a class dump's class id")?;
    c.u4("a class dump's stack trace serial")?;
    let super_id = c.id("a class dump's superclass id")?;
    let loader = c.id("a class dump's class loader id")?;
    let signers = c.id("a class dump's signers id")?;
    let protection_domain = c.id("a class dump's protection domain id")?;
    c.id("a class dump's reserved id")?;
    c.id("a class dump's reserved id")?;
    c.u4("a class dump's instance size")?;
    let mut constants = Vec::new();
    for _ in 0..c.u2("a class dump's constant pool size")? {
        c.u2("a constant pool index")?;
        constants.push(typed_value(c, 0)?);
    }
    let mut statics = Vec::new();
    for _ in 0..c.u2("a class dump's static field count")? {
        let name = c.id("a static field's name id")?;
        statics.push(typed_value(c, name)?);
    }
    let mut fields = Vec::new();
    for _ in 0..c.u2("a class dump's instance field count")? {
        let name = c.id("an instance field's name id")?;
        let at = c.pos();
        let ty = c.u1("an instance field's type")?;
        if value_size(ty, c.id_size()).is_none() {
            return err(at, format!("instance field of unknown type {ty}"));
        }
        fields.push((name, ty));
    }
    Ok(ClassDump {
        offset,
        id,
        super_id,
        loader,
        signers,
        protection_domain,
        statics,
        constants,
        fields,
    })
}

fn typed_value(c: &mut Cursor<'_>, name: u64) -> Result<Value, FormatError> {
    let at = c.pos();
    let ty = c.u1("a value's type")?;
    let Some(size) = value_size(ty, c.id_size()) else {
        return err(at, format!("value of unknown type {ty}"));
    };
    let b = c.bytes(size, "a value")?;
    let value = b.iter().fold(0u64, |v, &x| (v << 8) | x as u64);
    Ok(Value { name, ty, value })
}
