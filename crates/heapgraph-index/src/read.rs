//! Opening an index file: every check before anything is trusted, then the graph and the analyses
//! assembled from arrays read in place.
//!
//! Checked in this order, each failure a reason to rebuild: the header (kind, version, byte order, its
//! own checksum, every section inside the file), the dump's identity, every section's checksum (all in
//! parallel: about 40 ms per GB when the file is cached), then each structure's own invariants as the
//! graph and the analyses check them, so that even a file forged with matching checksums cannot make a
//! query read out of bounds.

use crate::error::IndexError;
use crate::identity::DumpIdentity;
use crate::layout::Header;
use crate::sections::{Meta, MetaWriter, META};
use heapgraph_analysis::Analysis;
use heapgraph_formats::{Dump, Format, LoadStats};
use heapgraph_graph::{Backing, Column, ColumnPlace, Graph, MappedColumns};
use rayon::prelude::*;
use std::path::Path;
use std::time::Instant;

/// Reads the index in `backing` for the dump at `dump_path`, whose identity now is `identity`.
pub fn read_index(
    backing: &Backing,
    dump_path: &Path,
    identity: DumpIdentity,
) -> Result<(Dump, Analysis), IndexError> {
    let started = Instant::now();
    let file: &[u8] = (**backing).as_ref();
    let header = Header::decode(file)?;
    if header.identity != identity {
        return Err(IndexError::stale(
            "it was made from another version of the dump (size, time or first bytes differ)",
        ));
    }
    let damaged = header.sections.par_iter().find_any(|s| {
        let bytes = &file[s.offset as usize..(s.offset + s.byte_len()) as usize];
        crate::checksum::checksum(bytes) != s.checksum
    });
    if let Some(s) = damaged {
        return Err(IndexError::corrupt(format!(
            "section {} at offset {} does not match its checksum",
            s.name, s.offset
        )));
    }
    let mut columns = MappedColumns::new(backing);
    for s in &header.sections {
        let (Ok(offset), Ok(count)) = (usize::try_from(s.offset), usize::try_from(s.count)) else {
            return Err(IndexError::corrupt(format!(
                "section {} does not fit in memory",
                s.name
            )));
        };
        let place = ColumnPlace {
            offset,
            count,
            elem_size: s.elem_size,
        };
        columns.insert(s.name.clone(), place).map_err(corrupt)?;
    }
    let meta_bytes: Column<u8> = columns.column(META).map_err(corrupt)?;
    // The checksums held, so a summary that does not parse was written by another heapgraph, unless it
    // names this version, when it was forged or written by a bug.
    let meta: Meta = serde_json::from_slice(&meta_bytes).map_err(|e| {
        let why = format!("its summary section is not what this heapgraph writes: {e}");
        match serde_json::from_slice::<MetaWriter>(&meta_bytes) {
            Ok(w) if w.heapgraph == env!("CARGO_PKG_VERSION") => IndexError::corrupt(why),
            Ok(_) => IndexError::stale(why),
            Err(_) => IndexError::corrupt(why),
        }
    })?;
    if meta.heapgraph != env!("CARGO_PKG_VERSION") {
        return Err(IndexError::stale(format!(
            "it was written by heapgraph {}, this is {}",
            meta.heapgraph,
            env!("CARGO_PKG_VERSION")
        )));
    }
    // Past the checks above the file is sound and this heapgraph's own, so whatever the remaining
    // checks refuse was forged or broken by a bug: the sections below are all corrupt if wrong.
    let format = *Format::ALL
        .get(meta.format)
        .ok_or_else(|| IndexError::corrupt("it names an unknown dump format"))?;
    let graph = Graph::from_columns(&columns, |details| {
        heapgraph_formats::reopen_details(dump_path, format, details)
    })
    .map_err(corrupt)?;
    let analysis = Analysis::from_columns(&columns, &graph).map_err(corrupt)?;
    let Meta {
        dump_meta,
        file_bytes,
        dangling_edges,
        warnings,
        ..
    } = meta;
    let dump = Dump {
        path: dump_path.to_path_buf(),
        format,
        graph,
        meta: dump_meta,
        stats: LoadStats {
            file_bytes,
            dangling_edges,
            load_time: started.elapsed(),
            warnings,
        },
    };
    Ok((dump, analysis))
}

/// A structure refused its columns: past the checksums, so forged or written by a bug.
fn corrupt(e: heapgraph_graph::GraphError) -> IndexError {
    IndexError::corrupt(e.what())
}
