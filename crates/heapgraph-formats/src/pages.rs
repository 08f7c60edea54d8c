//! Mapping a dump, and handing its pages back to the kernel once a pass has read them.

use crate::LoadError;
use memmap2::{Advice, Mmap, UncheckedAdvice};
use std::fs::File;
use std::path::Path;

/// Maps the dump read-only, for a first pass that reads it front to back.
pub(crate) fn map_dump(path: &Path, file: &File) -> Result<Mmap, LoadError> {
    // SAFETY: the map is read-only. If another process truncates the file while we read it, the kernel
    // raises SIGBUS; every memory-mapping reader shares this risk, and dumps are not rewritten in place.
    let map = unsafe { Mmap::map(file) }.map_err(|e| LoadError::io(path, e))?;
    let _ = map.advise(Advice::Sequential);
    Ok(map)
}

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
