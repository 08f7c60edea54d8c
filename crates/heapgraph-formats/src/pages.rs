//! Handing pages of a mapped dump back to the kernel once a pass has read them.

use memmap2::{Mmap, UncheckedAdvice};

/// Tells the kernel we are done with the whole pages inside `start..end`, so they leave our resident set
/// (they stay in the page cache; reading them again just maps them back).
pub(crate) fn release_pages(map: &Mmap, start: usize, end: usize) {
    const PAGE: usize = 4096;
    let first = start.div_ceil(PAGE) * PAGE;
    let last = end / PAGE * PAGE;
    if last > first {
        // SAFETY: MADV_DONTNEED on a read-only private file mapping only drops our view of clean page-cache
        // pages; later reads fault them back in with the same contents.
        let _ =
            unsafe { map.unchecked_advise_range(UncheckedAdvice::DontNeed, first, last - first) };
    }
}
