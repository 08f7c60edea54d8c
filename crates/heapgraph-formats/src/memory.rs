//! Refusing a dump whose graph surely cannot fit in the memory left, before building it.
//!
//! Without this a dump too big for the machine grows the process until the kernel's OOM killer ends it,
//! often after minutes and with no message, or pushes the machine into swap. The checks are floors, not
//! forecasts: they refuse only what surely cannot load, so a dump that would have fitted is never turned
//! away. The `.hgd` reader checks by the file's size before reading a record; the HPROF reader checks
//! once pass 1 has counted the objects (its file size says little: primitive arrays are bytes in the file
//! but nothing in the graph, and gzip hides the size); the V8 reader once it has parsed the header's
//! counts.

use crate::LoadError;
use std::path::Path;

/// An error saying what to do next if loading `path` needs at least `needed` bytes more than the memory
/// available now; `Ok` when it may fit or the available memory is unknown.
pub fn check_fits(path: &Path, needed: u64) -> Result<(), LoadError> {
    match available() {
        Some(available) => fits(path, needed, available),
        None => Ok(()),
    }
}

fn fits(path: &Path, needed: u64, available: u64) -> Result<(), LoadError> {
    if needed <= available {
        return Ok(());
    }
    let gib = |n: u64| format!("{:.1} GiB", n as f64 / (1u64 << 30) as f64);
    Err(LoadError::new(
        path,
        None,
        format!(
            "loading this dump needs at least {} of memory and only {} is available; close other programs, \
             or copy the dump to a machine with more memory (the dump can be read on any machine)",
            gib(needed),
            gib(available),
        ),
    ))
}

/// `MemAvailable` from `/proc/meminfo`: what the kernel can give without swapping (Linux only).
fn available() -> Option<u64> {
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
        let e = fits(path, 3 << 30, 1 << 30).unwrap_err().to_string();
        assert!(e.starts_with("big.hgd: "), "{e}");
        assert!(e.contains("3.0 GiB") && e.contains("1.0 GiB"), "{e}");
        assert!(e.contains("machine with more memory"), "{e}");
    }
}
