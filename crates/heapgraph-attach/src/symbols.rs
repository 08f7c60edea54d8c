//! Where a function or variable of a running process is: its ELF files from /proc/PID/maps, read through
//! /proc/PID/root (so a process in a container or chroot is read from its own files), their symbol tables,
//! and the address each is loaded at.

use object::{Object, ObjectSegment, ObjectSymbol};
use std::collections::HashMap;
use std::path::PathBuf;

/// One ELF file mapped into the process.
#[derive(Debug, Clone)]
pub struct MappedFile {
    /// The path /proc/PID/maps gives: the kernel writes it as seen from the reader's root, so for a
    /// target in a chroot below ours it is our path (`/srv/root/usr/bin/python3`), and for one in
    /// another mount namespace it is the path in the target's own root.
    pub path: String,
    /// Where its first page (file offset 0) is mapped.
    pub base: u64,
    /// Its inode number, which tells which of those readings of `path` is the mapped file.
    pub inode: u64,
}

/// The files a process has mapped, in the order of their first mapping (the executable usually first).
pub fn mapped_files(pid: u32) -> std::io::Result<Vec<MappedFile>> {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps"))?;
    let mut files: Vec<MappedFile> = Vec::new();
    for line in maps.lines() {
        // start-end perms offset dev inode path
        let mut fields = line.split_whitespace();
        let (Some(range), Some(_perms), Some(offset), Some(_dev), Some(inode)) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        ) else {
            continue;
        };
        let path = fields.collect::<Vec<_>>().join(" ");
        if inode == "0" || !path.starts_with('/') || u64::from_str_radix(offset, 16) != Ok(0) {
            continue;
        }
        let Some(start) = range
            .split('-')
            .next()
            .and_then(|s| u64::from_str_radix(s, 16).ok())
        else {
            continue;
        };
        if !files.iter().any(|f| f.path == path) {
            files.push(MappedFile {
                path,
                base: start,
                inode: inode.parse().unwrap_or(0),
            });
        }
    }
    Ok(files)
}

/// Finds `names` in the first mapped file (in `files`' order) that defines any of them, and returns the
/// file and the run-time address of each name it defines.
pub struct Found {
    pub file: MappedFile,
    pub addresses: HashMap<&'static str, u64>,
}

/// Looks `names` up in each of `files` whose file name satisfies `wanted`; the first file defining the
/// first name wins. Symbols come from the dynamic table first (it survives stripping), then the full one.
pub fn find(
    pid: u32,
    files: &[MappedFile],
    wanted: impl Fn(&str) -> bool,
    names: &[&'static str],
) -> Result<Option<Found>, String> {
    for file in files {
        let name = file.path.rsplit('/').next().unwrap_or("");
        if !wanted(name) {
            continue;
        }
        let on_disk = open_path(pid, file);
        let data = std::fs::read(&on_disk)
            .map_err(|e| format!("cannot read {}: {e}", on_disk.display()))?;
        // mapped data files (locales, caches) are passed over
        let Ok(elf) = object::File::parse(&*data) else {
            continue;
        };
        if elf.architecture() != object::Architecture::X86_64 {
            return Err(format!(
                "{} is built for {:?}; heapgraph attaches to x86_64 processes only",
                file.path,
                elf.architecture()
            ));
        }
        let bias = load_bias(&elf, file.base);
        let mut addresses = HashMap::new();
        for symbol in elf.dynamic_symbols().chain(elf.symbols()) {
            if !symbol.is_definition() {
                continue;
            }
            let Ok(symbol_name) = symbol.name() else {
                continue;
            };
            if let Some(name) = names.iter().find(|n| **n == symbol_name) {
                addresses
                    .entry(*name)
                    .or_insert(symbol.address().wrapping_add(bias));
            }
        }
        if addresses.contains_key(names[0]) {
            return Ok(Some(Found {
                file: file.clone(),
                addresses,
            }));
        }
    }
    Ok(None)
}

/// A path of the process's, as this process can open it: through the target's root directory, which is
/// `/` unless it runs in a chroot or another mount namespace.
pub fn target_path(pid: u32, path: &str) -> PathBuf {
    PathBuf::from(format!("/proc/{pid}/root{path}"))
}

/// Where this process opens a mapped file: through /proc/PID/root (a container's files) or by the
/// path as maps gives it (a chroot's, already written from our root), whichever is the file with the
/// mapped inode; the first that exists when neither matches (a filesystem that renumbers inodes).
pub fn open_path(pid: u32, file: &MappedFile) -> PathBuf {
    use std::os::unix::fs::MetadataExt;
    let candidates = [target_path(pid, &file.path), PathBuf::from(&file.path)];
    let inode = |p: &PathBuf| std::fs::metadata(p).ok().map(|m| m.ino());
    candidates
        .iter()
        .find(|p| inode(p) == Some(file.inode))
        .or_else(|| candidates.iter().find(|p| inode(p).is_some()))
        .unwrap_or(&candidates[0])
        .clone()
}

/// How far the file was moved from the addresses it was linked at: its first page is mapped at `base`,
/// and its lowest loadable segment was linked at the page holding that segment's start.
fn load_bias(elf: &object::File, base: u64) -> u64 {
    let linked = elf
        .segments()
        .filter(|s| s.file_range().0 == 0)
        .map(|s| s.address())
        .min()
        .or_else(|| elf.segments().map(|s| s.address()).min())
        .unwrap_or(0);
    base.wrapping_sub(linked & !0xfff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_libc_functions_of_this_process_at_their_real_addresses() {
        let pid = std::process::id();
        let files = mapped_files(pid).unwrap();
        let found = find(pid, &files, |n| n.starts_with("libc"), &["getpid", "mmap"])
            .unwrap()
            .expect("this test binary links libc dynamically");
        assert_eq!(found.addresses["getpid"], libc::getpid as *const () as u64);
        assert_eq!(found.addresses["mmap"], libc::mmap as *const () as u64);
    }

    #[test]
    fn a_name_no_file_defines_is_not_found() {
        let pid = std::process::id();
        let files = mapped_files(pid).unwrap();
        assert!(find(pid, &files, |_| true, &["no_such_symbol_anywhere"])
            .unwrap()
            .is_none());
    }
}
