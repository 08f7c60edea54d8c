//! Whether the target may fork the process that writes its dump.
//!
//! A forked child shares the target's pages copy-on-write, and every object the dumper visits has its
//! reference count written, so the child may end up with a private copy of every page of the heap: up to
//! the target's resident memory again. heapgraph asks for a fork only when that much fits in what the
//! kernel says is available (`MemAvailable`) and under every memory limit of the target's cgroup (v2);
//! otherwise the target dumps in place, as with `--no-fork`, and the report says why.

use std::path::{Path, PathBuf};

/// `Ok` when the target `pid` should fork the dumping process, else why it should dump in place;
/// `allowed` is false under `--no-fork`.
pub(crate) fn decide(pid: u32, allowed: bool) -> Result<(), String> {
    if !allowed {
        return Err("--no-fork".into());
    }
    let proc_dir = PathBuf::from(format!("/proc/{pid}"));
    let rss = kib_field(&proc_dir.join("status"), "VmRSS").ok_or_else(|| {
        format!("its resident memory is unknown (no VmRSS in /proc/{pid}/status)")
    })?;
    let available = kib_field(Path::new("/proc/meminfo"), "MemAvailable")
        .ok_or("the memory available is unknown (no MemAvailable in /proc/meminfo)")?;
    fits(rss, available, cgroup_room(pid))
}

/// `Ok` when a second copy of `rss` bytes fits in `available` and in the cgroup's room, else why not.
fn fits(rss: u64, available: u64, cgroup: Option<(u64, PathBuf)>) -> Result<(), String> {
    if rss > available {
        return Err(format!(
            "its resident memory ({}) is more than the memory available ({}), which a forked child \
             could need as much again",
            mib(rss),
            mib(available)
        ));
    }
    if let Some((room, dir)) = cgroup {
        if rss > room {
            return Err(format!(
                "its resident memory ({}) is more than the room left under the memory limit of its \
                 cgroup {} ({}), which a forked child could need as much again",
                mib(rss),
                dir.display(),
                mib(room)
            ));
        }
    }
    Ok(())
}

/// A `Key:   1234 kB` field of a /proc file, in bytes.
fn kib_field(path: &Path, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    let value = text
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))?;
    let kib: u64 = value.trim().strip_suffix("kB")?.trim().parse().ok()?;
    Some(kib * 1024)
}

/// The least room left under `memory.max` in the target's cgroup (v2) and its ancestors, with the cgroup
/// that leaves it; `None` when no cgroup on the way up has a memory limit (or cgroup v2 is not mounted).
fn cgroup_room(pid: u32) -> Option<(u64, PathBuf)> {
    let cgroups = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    let relative = cgroups.lines().find_map(|l| l.strip_prefix("0::"))?;
    let root = Path::new("/sys/fs/cgroup");
    let mut dir = root.join(relative.trim_start_matches('/'));
    let mut least: Option<(u64, PathBuf)> = None;
    while dir.starts_with(root) && dir != root {
        let read = |name: &str| std::fs::read_to_string(dir.join(name)).ok();
        if let (Some(max), Some(current)) = (read("memory.max"), read("memory.current")) {
            if let (Ok(max), Ok(current)) =
                (max.trim().parse::<u64>(), current.trim().parse::<u64>())
            {
                let room = max.saturating_sub(current);
                if least.as_ref().is_none_or(|(l, _)| room < *l) {
                    least = Some((room, dir.clone()));
                }
            }
        }
        if !dir.pop() {
            break;
        }
    }
    least
}

fn mib(bytes: u64) -> String {
    format!("{:.0} MiB", bytes as f64 / f64::from(1 << 20))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_fits_and_no_fork_is_obeyed() {
        let me = std::process::id();
        assert_eq!(decide(me, true), Ok(()));
        assert_eq!(decide(me, false), Err("--no-fork".into()));
    }

    #[test]
    fn a_fork_needs_the_resident_memory_again_in_memory_and_in_the_cgroup() {
        const MIB: u64 = 1 << 20;
        assert_eq!(fits(100 * MIB, 100 * MIB, None), Ok(()));
        let no = fits(101 * MIB, 100 * MIB, None).unwrap_err();
        assert!(
            no.contains("101 MiB") && no.contains("available (100 MiB)"),
            "{no}"
        );
        let cgroup = Some((50 * MIB, PathBuf::from("/sys/fs/cgroup/app.slice")));
        let no = fits(60 * MIB, 1000 * MIB, cgroup.clone()).unwrap_err();
        assert!(no.contains("/sys/fs/cgroup/app.slice (50 MiB)"), "{no}");
        assert_eq!(fits(40 * MIB, 1000 * MIB, cgroup), Ok(()));
    }

    #[test]
    fn proc_fields_in_bytes() {
        let rss = kib_field(Path::new("/proc/self/status"), "VmRSS").unwrap();
        assert!(rss > 0 && rss % 1024 == 0);
        assert_eq!(kib_field(Path::new("/proc/self/status"), "Nope"), None);
    }
}
