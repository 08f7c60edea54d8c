//! Files heapgraph and its target both open, when the target may run in another root (a chroot, a
//! container's mount namespace): the target opens paths in its own root, heapgraph reaches that root
//! through /proc/PID/root.

use crate::process::{our_uid, Process};
use crate::symbols::target_path;
use crate::AttachError;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// A directory as heapgraph opens it (`here`) and as the target opens it (`there`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedDir {
    pub here: PathBuf,
    pub there: PathBuf,
}

/// Creates directory `name` where process `pid` can open it too: in `parent` (an absolute path) when the
/// target sees that very directory at the same path, which is the case unless it runs in another root;
/// else in the target's own /tmp, reached through /proc/PID/root. When heapgraph may not look into the
/// target's root (no ptrace rights on it), the target is taken to share heapgraph's root.
pub fn create_shared_dir(pid: u32, parent: &Path, name: &str) -> io::Result<SharedDir> {
    let here = parent.join(name);
    std::fs::create_dir(&here)?;
    let as_target_sees_it = target_path(pid, &here.to_string_lossy());
    let same = match (
        std::fs::metadata(&here),
        std::fs::metadata(&as_target_sees_it),
    ) {
        (Ok(ours), Ok(theirs)) => ours.dev() == theirs.dev() && ours.ino() == theirs.ino(),
        (Ok(_), Err(e)) if e.kind() == io::ErrorKind::PermissionDenied => true,
        (Ok(_), Err(_)) => false,
        (Err(e), _) => return Err(e),
    };
    if same {
        return Ok(SharedDir {
            there: here.clone(),
            here,
        });
    }
    std::fs::remove_dir(&here)?;
    let there = Path::new("/tmp").join(name);
    let here = target_path(pid, &there.to_string_lossy());
    std::fs::create_dir(&here).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!(
                "pid {pid} runs in another root directory (a chroot or container), so the hand-over \
                 directory goes in its /tmp, and {} cannot be created: {e}",
                here.display()
            ),
        )
    })?;
    Ok(SharedDir { here, there })
}

/// Creates directory `name` beside `output`, or in the target's /tmp when it runs in another root
/// ([`create_shared_dir`]), for the target to write in: when heapgraph runs as root, it is given to the
/// target's user.
pub fn create_dir_for_target(
    process: &Process,
    output: &Path,
    name: &str,
) -> Result<SharedDir, AttachError> {
    let parent = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let parent = parent
        .canonicalize()
        .map_err(|e| AttachError::io_path(&parent, e))?;
    let shared = create_shared_dir(process.pid, &parent, name)
        .map_err(|e| AttachError::io_path(&parent.join(name), e))?;
    if our_uid() == 0 && process.uid != 0 {
        std::os::unix::fs::chown(&shared.here, Some(process.uid), Some(process.gid))
            .map_err(|e| AttachError::io_path(&shared.here, e))?;
    }
    Ok(shared)
}

/// Moves `from` to `to`: a rename, or, across filesystems (the target's root on another one), a copy
/// to a temporary name beside `to` renamed into place, so that `to` is never seen half-written.
pub fn move_file(from: &Path, to: &Path) -> io::Result<()> {
    match std::fs::rename(from, to) {
        Err(e) if e.raw_os_error() == Some(libc::EXDEV) => {}
        other => return other,
    }
    copy_then_remove(from, to)
}

/// The move across filesystems: copy, rename into place, remove the original.
fn copy_then_remove(from: &Path, to: &Path) -> io::Result<()> {
    let name = to.file_name().unwrap_or_default().to_string_lossy();
    let partial = to.with_file_name(format!(".{name}.heapgraph-partial"));
    let copied = std::fs::copy(from, &partial).and_then(|_| std::fs::rename(&partial, to));
    if copied.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    copied?;
    std::fs::remove_file(from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_in_our_root_gets_the_directory_where_it_was_asked_for() {
        let parent = std::env::temp_dir().canonicalize().unwrap();
        let name = format!(".heapgraph-target-fs-test-{}", std::process::id());
        let shared = create_shared_dir(std::process::id(), &parent, &name).unwrap();
        assert_eq!(shared.here, parent.join(&name));
        assert_eq!(shared.there, shared.here);
        assert!(shared.here.is_dir());
        std::fs::remove_dir(&shared.here).unwrap();
    }

    #[test]
    fn moving_a_file_renames_it() {
        let dir = std::env::temp_dir().join(format!("heapgraph-move-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (from, to) = (dir.join("a"), dir.join("b"));
        std::fs::write(&from, b"dump").unwrap();
        move_file(&from, &to).unwrap();
        assert!(!from.exists());
        assert_eq!(std::fs::read(&to).unwrap(), b"dump");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn moving_across_filesystems_copies_into_place_and_removes_the_original() {
        let dir = std::env::temp_dir().join(format!("heapgraph-copy-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (from, to) = (dir.join("a"), dir.join("b"));
        std::fs::write(&from, b"dump").unwrap();
        copy_then_remove(&from, &to).unwrap();
        assert!(!from.exists());
        assert_eq!(std::fs::read(&to).unwrap(), b"dump");
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            1,
            "no partial file left"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
