//! Refusing, before loading, an `.hgd` dump whose graph cannot fit in the memory left (the decision and
//! its message are `heapgraph_formats::memory`'s, which the HPROF reader also uses once it has counted
//! the objects).

use heapgraph_formats::{detect, memory, Format};
use std::io::Read;
use std::path::Path;

/// Memory loading an `.hgd` dump takes, per byte of the file: measured 528 MiB of peak RSS for a 720 MiB
/// dump of 10M objects (docs/benchmarks.md); pages of the mapped file are released as they are read and do
/// not count.
const HGD_LOAD_BYTES_PER_FILE_BYTE: f64 = 0.7;

/// An error saying what to do next if `path` is an `.hgd` dump that cannot load in the memory available
/// now; `Ok` when it may fit or when either side is unknown (the loader then reports what it finds).
pub fn check_fits(path: &Path) -> Result<(), String> {
    match load_estimate(path) {
        Some(needed) => memory::check_fits(path, needed).map_err(|e| e.to_string()),
        None => Ok(()),
    }
}

/// The least memory loading `path` takes, for the formats where the file's size tells.
fn load_estimate(path: &Path) -> Option<u64> {
    let mut file = std::fs::File::open(path).ok()?;
    let size = file.metadata().ok()?.len();
    let mut head = [0u8; 32];
    let n = file.read(&mut head).ok()?;
    match detect(&head[..n])? {
        Format::PythonHgd => Some((size as f64 * HGD_LOAD_BYTES_PER_FILE_BYTE) as u64),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_hgd_dumps_only() {
        let testdata = heapgraph_e2e::python_testdata();
        let hgd = testdata.join("service.hgd");
        let size = std::fs::metadata(&hgd).unwrap().len();
        let estimate = load_estimate(&hgd).unwrap();
        assert!(
            estimate > size / 2 && estimate < size,
            "{estimate} of {size}"
        );
        assert_eq!(load_estimate(&testdata.join("fixture_basic.py")), None);
        assert_eq!(load_estimate(&testdata.join("missing.hgd")), None);
    }
}
