//! Shallow sizes modelled on HotSpot's object layout, as Eclipse MAT computes them, since HPROF records
//! no sizes: an object header of one pointer plus one reference (mark word and class pointer), references
//! of 4 bytes when the VM used compressed references, and objects aligned to the VM's object alignment.
//! Both facts are detected from the dump itself, as MAT does.

#[derive(Clone, Copy, Debug)]
pub struct Layout {
    pub id_size: usize,
    /// 4 with compressed references (or 32-bit ids), else 8.
    pub ref_size: u64,
    /// Object alignment in bytes (8 unless the VM ran with a larger `ObjectAlignmentInBytes`).
    pub alignment: u64,
}

impl Layout {
    /// Mark word plus class pointer.
    pub fn header(&self) -> u64 {
        self.id_size as u64 + self.ref_size
    }

    pub fn align(&self, size: u64) -> u64 {
        size.next_multiple_of(self.alignment)
    }

    pub fn align_to_ref(&self, size: u64) -> u64 {
        size.next_multiple_of(self.ref_size)
    }

    /// Bytes a field of basic type `ty` takes in the object (references at the VM's reference size).
    pub fn field_size(&self, ty: u8) -> u64 {
        match super::subrecords::value_size(ty, self.id_size) {
            Some(_) if ty <= super::subrecords::TYPE_OBJECT => self.ref_size,
            Some(n) => n as u64,
            None => 0,
        }
    }

    /// Fields HotSpot adds to every `java.lang.Class` mirror that the dump does not list
    /// (`javaClasses.hpp`): `klass` and `array_klass` (pointers), `oop_size` and `static_oop_field_count`
    /// (ints), `protection_domain`, `signers` and `source_file` (references). MAT leaves them out and
    /// undercounts every class object; the JVM's own histogram counts them.
    pub fn class_injected_fields(&self) -> u64 {
        2 * self.id_size as u64 + 2 * 4 + 3 * self.ref_size
    }

    pub fn object_array(&self, len: u64) -> u64 {
        self.align(self.header() + 4 + len * self.ref_size)
    }

    /// A primitive array of `len` elements of basic type `elem`.
    pub fn primitive_array(&self, elem: u8, len: u64) -> u64 {
        let elem_size = super::subrecords::value_size(elem, self.id_size).unwrap_or(0) as u64;
        self.align(self.align_to_ref(self.header() + 4) + len * elem_size)
    }
}

/// What pass 1 learns about the VM's layout from the objects' addresses, one segment at a time, so both the
/// graph and the shallow histogram (which never sorts the objects) size objects by the same rule.
///
/// HotSpot writes each heap space in address order, so an object's neighbour in the file is, nearly always,
/// its neighbour in memory:
/// - Compressed references (MAT's rule): with 8-byte ids, an object array followed by an object that
///   starts before the array could end with 8-byte references (16 bytes of header, then 8 per element)
///   proves references are 4 bytes.
/// - Alignment: the greatest common divisor of the differences between addresses, clamped to 8..=256. The
///   differences between file neighbours generate the same gcd as the gaps in sorted order (every gap is a
///   sum of such differences, and the reverse), so the file's order does not matter for it.
#[derive(Clone, Copy, Debug, Default)]
pub struct LayoutEvidence {
    first: Option<u64>,
    last: u64,
    /// The last object's end if it is an object array laid out with 8-byte references.
    wide_array_end: Option<u64>,
    gcd: u64,
    compressed: bool,
}

impl LayoutEvidence {
    /// Notes the next object in file order; `object_array_len` is its length if it is an object array.
    pub fn see(&mut self, address: u64, object_array_len: Option<u64>) {
        if self.first.is_some() {
            self.gcd = gcd(self.gcd, address.abs_diff(self.last));
            self.compressed |= self
                .wide_array_end
                .is_some_and(|end| address > self.last && address < end);
        } else {
            self.first = Some(address);
        }
        self.last = address;
        self.wide_array_end = object_array_len.map(|n| {
            address
                .saturating_add(16)
                .saturating_add(n.saturating_mul(8))
        });
    }

    /// Joins the evidence of the segment that follows in the file.
    pub fn merge(&mut self, next: &LayoutEvidence) {
        let Some(next_first) = next.first else { return };
        match self.first {
            None => *self = *next,
            Some(first) => {
                self.gcd = gcd(gcd(self.gcd, next.gcd), next_first.abs_diff(first));
                self.compressed |= next.compressed;
                self.last = next.last;
                self.wide_array_end = next.wide_array_end;
            }
        }
    }

    pub fn layout(&self, id_size: usize) -> Layout {
        Layout {
            id_size,
            ref_size: if id_size == 4 || (id_size == 8 && self.compressed) {
                4
            } else {
                8
            },
            alignment: if self.gcd == 0 {
                8
            } else {
                self.gcd.clamp(8, 256)
            },
        }
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}
