//! gzip-compressed dumps: HPROF (`jcmd GC.heap_dump -gz=1`, `-XX:HeapDumpGzipLevel`) and V8 snapshots
//! (`.heapsnapshot.gz`, as bug reports attach them). What is inside is told from its first inflated bytes
//! ([`peek`]); the whole stream is then inflated once, sequentially, into an unnamed temporary file, which
//! the reader maps like any dump.
//!
//! A temporary file rather than memory because the dumps worth compressing are the big ones: the inflated
//! bytes live in the page cache, which the kernel can write out under pressure, instead of in our heap. The
//! file has no name (`O_TMPFILE` where available), so nothing is left behind if heapgraph is killed.
//! HotSpot writes independent gzip members of 1 MiB each; they are inflated one after another (plain gzip
//! and `gzip -c` output read the same way).

use crate::{detect, Format, LoadError, LoadProgress};
use flate2::read::MultiGzDecoder;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::Path;

/// The gzip signature: ID1, ID2 and the deflate method.
pub const GZIP_MAGIC: [u8; 3] = [0x1f, 0x8b, 0x08];

/// The format of the dump gzipped in `file`, from its first inflated bytes: HPROF or V8 (their gzipped
/// variants), or `None` for anything else.
pub fn peek(mut file: &File) -> Option<Format> {
    file.seek(SeekFrom::Start(0)).ok()?;
    let mut head = [0u8; 32];
    let mut input = MultiGzDecoder::new(file);
    let mut filled = 0;
    while filled < head.len() {
        match input.read(&mut head[filled..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => filled += n,
        }
    }
    match detect(&head[..filled])? {
        Format::Hprof => Some(Format::HprofGzip),
        Format::V8Snapshot => Some(Format::V8SnapshotGzip),
        _ => None,
    }
}

/// Inflates `file` into an unnamed temporary file (in `TMPDIR`); [`peek`] has said what it holds.
pub fn inflate(
    path: &Path,
    mut file: File,
    progress: &dyn LoadProgress,
) -> Result<File, LoadError> {
    // Format detection has read the first bytes.
    file.seek(SeekFrom::Start(0))
        .map_err(|e| LoadError::new(path, None, format!("cannot read: {e}")))?;
    let compressed = file.metadata().map_or(0, |m| m.len());
    progress.phase("decompressing", compressed);
    let tmp_dir = std::env::temp_dir();
    let mut out = tempfile::tempfile_in(&tmp_dir).map_err(|e| {
        LoadError::new(
            path,
            None,
            format!(
                "cannot create a temporary file in {} to decompress into: {e}; set TMPDIR to a directory \
                 with room for the uncompressed dump",
                tmp_dir.display()
            ),
        )
    })?;
    let mut input = MultiGzDecoder::new(BufReader::with_capacity(
        1 << 20,
        Counting {
            inner: file,
            progress,
        },
    ));
    let mut buf = vec![0u8; 1 << 20];
    let mut inflated = 0u64;
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                return Err(LoadError::new(
                    path,
                    None,
                    format!(
                        "the gzip stream is corrupt or cut short after {inflated} decompressed bytes: {e}"
                    ),
                ))
            }
        };
        out.write_all(&buf[..n]).map_err(|e| {
            LoadError::new(
                path,
                None,
                format!(
                    "cannot write the decompressed dump to {}: {e}",
                    tmp_dir.display()
                ),
            )
        })?;
        inflated += n as u64;
    }
    Ok(out)
}

/// Reports the compressed bytes read as progress.
struct Counting<'a> {
    inner: File,
    progress: &'a dyn LoadProgress,
}

impl Read for Counting<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.advance(n as u64);
        Ok(n)
    }
}
