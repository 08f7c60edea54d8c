//! Writing a dump's graph and analyses into an index file.
//!
//! The arrays are written as they sit in memory: no encoding, so that a later command maps them and
//! reads them in place. The file appears under its final name only once complete (written to a
//! temporary name in the same directory, then renamed), so a crash mid-write leaves no half index.

use crate::error::{IndexError, IoAction};
use crate::identity::DumpIdentity;
use crate::layout::{Header, Section, ALIGN};
use crate::sections::{Meta, META};
use heapgraph_analysis::Analysis;
use heapgraph_formats::{Dump, Format, LoadProgress};
use heapgraph_graph::{SavedColumn, SavedColumns, MAX_NAME};
use rayon::prelude::*;
use std::io::Write;
use std::path::Path;

/// Writes the index of `dump` (whose identity is `identity`) and `analysis` to `path`; returns its size.
pub fn write_index(
    path: &Path,
    identity: DumpIdentity,
    dump: &Dump,
    analysis: &Analysis,
    progress: &dyn LoadProgress,
) -> Result<u64, IndexError> {
    let meta = Meta {
        heapgraph: env!("CARGO_PKG_VERSION").to_string(),
        format: Format::ALL
            .iter()
            .position(|&f| f == dump.format)
            .unwrap_or(0),
        dump_meta: dump.meta.clone(),
        file_bytes: dump.stats.file_bytes,
        dangling_edges: dump.stats.dangling_edges,
        warnings: dump.stats.warnings.clone(),
    };
    let meta =
        serde_json::to_vec(&meta).map_err(|e| IndexError::Unwritable { why: e.to_string() })?;
    let mut columns = SavedColumns::default();
    columns.put_owned(META, meta);
    dump.graph.save(&mut columns);
    analysis.save(&mut columns);
    if let Some(c) = columns.columns().iter().find(|c| c.name.len() > MAX_NAME) {
        return Err(IndexError::Unwritable {
            why: format!("the column name {} is longer than an index holds", c.name),
        });
    }
    write_arrays(path, identity, columns.columns(), progress)
}

/// Lays the arrays out after the header, checksums them and writes the file under a temporary name,
/// renaming it to `path` once complete.
fn write_arrays(
    path: &Path,
    identity: DumpIdentity,
    arrays: &[SavedColumn<'_>],
    progress: &dyn LoadProgress,
) -> Result<u64, IndexError> {
    // An empty column lies at the first section's place and takes no room, so the file ends with the
    // last column that has bytes, never with padding a damaged byte could hide in.
    let first = Header::encoded_len(arrays.len()).next_multiple_of(ALIGN);
    let mut at = first;
    let sections: Vec<Section> = arrays
        .par_iter()
        .map(|a| (a, crate::checksum::checksum(a.bytes())))
        .collect::<Vec<_>>()
        .into_iter()
        .map(|(a, checksum)| {
            let len = a.bytes().len() as u64;
            let section = Section {
                name: a.name.clone(),
                elem_size: a.elem_size,
                offset: if len == 0 { first } else { at },
                count: len / a.elem_size as u64,
                checksum,
            };
            if len > 0 {
                at = (at + len).next_multiple_of(ALIGN);
            }
            section
        })
        .collect();
    let header = Header { identity, sections }.encode();
    progress.phase("writing the index", at);
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp{}", std::process::id()));
    let tmp = std::path::PathBuf::from(tmp);
    let written = (|| -> std::io::Result<u64> {
        let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&tmp)?);
        out.write_all(&header)?;
        let mut pos = header.len() as u64;
        for a in arrays.iter().filter(|a| !a.bytes().is_empty()) {
            let start = pos.next_multiple_of(ALIGN);
            out.write_all(&[0u8; ALIGN as usize][..(start - pos) as usize])?;
            out.write_all(a.bytes())?;
            pos = start + a.bytes().len() as u64;
            progress.advance(a.bytes().len() as u64);
        }
        out.flush()?;
        std::fs::rename(&tmp, path)?;
        Ok(pos)
    })();
    written.map_err(|error| {
        let _ = std::fs::remove_file(&tmp);
        IndexError::Io {
            action: IoAction::Write,
            path: path.to_path_buf(),
            error,
        }
    })
}
