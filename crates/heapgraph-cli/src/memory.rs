//! Refusing, before loading, a dump whose graph cannot fit in the memory left.
//!
//! Without this a dump too big for the machine grows the process until the kernel's OOM killer ends it,
//! often after minutes and with no message, or pushes the machine into swap. The check is a floor, not
//! a forecast: it refuses only what surely cannot load, so a dump that would have fitted is never turned
//! away.

use heapgraph_formats::{detect, Format};
use heapgraph_render::format_bytes;
use std::io::Read;
use std::path::Path;

/// Memory loading an `.hgd` dump takes, per byte of the file: measured 528 MiB of peak RSS for a 720 MiB
/// dump of 10M objects (docs/benchmarks.md); pages of the mapped file are released as they are read and do
/// not count. Other formats have no such steady ratio (HPROF's primitive arrays are bytes in the file but
/// nothing in the graph; gzip hides the size), so they are not checked.
const HGD_LOAD_BYTES_PER_FILE_BYTE: f64 = 0.7;

/// An error saying what to do next if `path` is a dump that cannot load in the memory available now;
/// `Ok` when it may fit or when either side is unknown (the loader then reports what it finds).
pub fn check_fits(path: &Path) -> Result<(), String> {
    match (load_estimate(path), available_memory()) {
        (Some(needed), Some(available)) => fits(path, needed, available),
        _ => Ok(()),
    }
}

fn fits(path: &Path, needed: u64, available: u64) -> Result<(), String> {
    if needed <= available {
        return Ok(());
    }
    Err(format!(
        "{}: loading this dump needs at least {} of memory and only {} is available; close other programs, \
         or copy the dump to a machine with more memory (the dump can be read on any machine)",
        path.display(),
        format_bytes(needed),
        format_bytes(available),
    ))
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

/// `MemAvailable` from `/proc/meminfo`: what the kernel can give without swapping (Linux only).
fn available_memory() -> Option<u64> {
    parse_mem_available(&std::fs::read_to_string("/proc/meminfo").ok()?)
}

fn parse_mem_available(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_mem_available_in_bytes() {
        let meminfo = "MemTotal:       24000000 kB\nMemFree:  100 kB\nMemAvailable:   2048 kB\n";
        assert_eq!(parse_mem_available(meminfo), Some(2048 * 1024));
        assert_eq!(parse_mem_available("MemTotal: 1 kB\n"), None);
    }

    #[test]
    fn refuses_only_what_cannot_fit_and_says_what_to_do() {
        let path = Path::new("big.hgd");
        assert!(fits(path, 1 << 30, 1 << 30).is_ok());
        let e = fits(path, 3 << 30, 1 << 30).unwrap_err();
        assert!(e.starts_with("big.hgd: "), "{e}");
        assert!(e.contains("3.0 GiB") && e.contains("1.0 GiB"), "{e}");
        assert!(e.contains("machine with more memory"), "{e}");
    }

    #[test]
    fn estimates_hgd_dumps_only() {
        let testdata = heapgraph_tests::python_testdata();
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
