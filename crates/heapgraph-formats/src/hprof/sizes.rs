//! Shallow sizes modelled on HotSpot's object layout, as Eclipse MAT computes them, since HPROF records
//! no sizes: an object header of one pointer plus one reference (mark word and class pointer), references
//! of 4 bytes when the VM used compressed references, and objects aligned to the VM's object alignment.
//! Both facts are detected from the dump itself, as MAT does.

use rayon::prelude::*;

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

    pub fn primitive_array(&self, len: u64, elem_size: u64) -> u64 {
        self.align(self.align_to_ref(self.header() + 4) + len * elem_size)
    }
}

/// Detects reference size and alignment from the objects' addresses, ascending; `object_array_len`
/// gives the length of node `i` if it is an object array.
///
/// Compressed references (MAT's rule): with 8-byte ids, an object array whose successor starts before the
/// array could end with 8-byte references (16 bytes of header, then 8 per element) proves references are
/// 4 bytes. Alignment: the greatest common divisor of the gaps between neighbouring objects, clamped to
/// 8..=256.
pub fn detect(
    id_size: usize,
    addresses: &[u64],
    object_array_len: &(dyn Fn(usize) -> Option<u64> + Sync),
) -> Layout {
    let compressed = id_size == 8
        && (1..addresses.len()).into_par_iter().any(|i| {
            object_array_len(i - 1).is_some_and(|n| {
                let end = addresses[i - 1]
                    .saturating_add(16)
                    .saturating_add(n.saturating_mul(8));
                addresses[i] < end
            })
        });
    let gcd = addresses
        .par_windows(2)
        .map(|w| w[1] - w[0])
        .reduce(|| 0, gcd);
    Layout {
        id_size,
        ref_size: if id_size == 4 || compressed { 4 } else { 8 },
        alignment: if gcd == 0 { 8 } else { gcd.clamp(8, 256) },
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}
