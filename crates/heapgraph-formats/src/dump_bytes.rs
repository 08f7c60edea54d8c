//! The dump's bytes as detail sources read them: the map a reader made while loading, or, when the graph
//! came from an index file, the dump mapped again (decompressed again, if gzipped) on the first report
//! that asks for a detail. Commands that print no value previews never touch the dump at all.

use crate::{gzip, pages, NoProgress};
use memmap2::Mmap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

pub struct DumpBytes {
    map: OnceLock<Option<Mmap>>,
    /// Where to find the bytes again, for a source rebuilt from an index; `None` once loaded.
    reopen: Option<Reopen>,
    /// Records read by [`DumpBytes::scattered_read_done`]'s callers.
    scattered_reads: AtomicU32,
}

struct Reopen {
    path: PathBuf,
    gzip: bool,
}

impl DumpBytes {
    /// The map a reader has just read the dump through.
    pub fn loaded(map: Mmap) -> DumpBytes {
        DumpBytes {
            map: OnceLock::from(Some(map)),
            reopen: None,
            scattered_reads: AtomicU32::new(0),
        }
    }

    /// The dump at `path`, mapped on first use.
    pub fn reopen(path: PathBuf, gzip: bool) -> DumpBytes {
        DumpBytes {
            map: OnceLock::new(),
            reopen: Some(Reopen { path, gzip }),
            scattered_reads: AtomicU32::new(0),
        }
    }

    /// Counts one record read from anywhere in the dump, and every few thousand hands the pages such
    /// reads mapped back to the kernel: a walk that reads millions of scattered records (the edge labels of
    /// a retainer tree over every `String`) would otherwise map most of the dump into our resident set.
    pub fn scattered_read_done(&self) {
        const READS: u32 = 4096;
        if self.scattered_reads.fetch_add(1, Ordering::Relaxed) % READS == READS - 1 {
            if let Some(Some(map)) = self.map.get() {
                pages::release_pages(map, 0, map.len());
            }
        }
    }

    /// The bytes; empty if the dump can no longer be read (details then come back empty, as for a record
    /// that no longer parses).
    pub fn get(&self) -> &[u8] {
        let map = self.map.get_or_init(|| {
            let Reopen { path, gzip } = self.reopen.as_ref()?;
            let file = std::fs::File::open(path).ok()?;
            let file = match gzip {
                true => gzip::inflate(path, file, &NoProgress).ok()?,
                false => file,
            };
            pages::map_dump(path, &file).ok()
        });
        map.as_deref().unwrap_or(&[])
    }
}
