//! Which dump an index belongs to: its size, its modification time and a checksum of its first bytes.
//!
//! Size and time change whenever a dump is rewritten, and cost one `stat`; the head checksum tells apart
//! two dumps of one size copied with their times preserved (the header of a dump names its process and
//! time). Hashing the whole dump would make every warm command read gigabytes.

use crate::checksum::checksum;
use std::io::Read;
use std::path::Path;
use std::time::UNIX_EPOCH;

/// How much of the dump the head checksum covers.
const HEAD_BYTES: u64 = 64 << 10;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct DumpIdentity {
    pub size: u64,
    /// Modification time, nanoseconds since 1970 (0 if the file system has none).
    pub modified_ns: u64,
    pub head_checksum: u64,
}

impl DumpIdentity {
    /// The identity of the dump at `path` as it is now.
    pub fn of(path: &Path) -> std::io::Result<DumpIdentity> {
        let file = std::fs::File::open(path)?;
        let meta = file.metadata()?;
        let modified_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos() as u64);
        let mut head = Vec::with_capacity(HEAD_BYTES as usize);
        file.take(HEAD_BYTES).read_to_end(&mut head)?;
        Ok(DumpIdentity {
            size: meta.len(),
            modified_ns,
            head_checksum: checksum(&head),
        })
    }
}
