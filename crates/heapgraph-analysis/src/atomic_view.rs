//! Plain arrays viewed as atomics, for sweeps that fill them from several threads.

use std::sync::atomic::AtomicU32;

/// `values` viewed as atomics.
pub(crate) fn as_atomic(values: &mut [u32]) -> &[AtomicU32] {
    // SAFETY: `AtomicU32` has the same size, alignment and bit validity as `u32`, and the exclusive
    // borrow guarantees nothing else reads the values non-atomically while the view lives.
    unsafe { &*(values as *mut [u32] as *const [AtomicU32]) }
}
