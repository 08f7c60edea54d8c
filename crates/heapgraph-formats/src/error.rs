//! Load errors that name the file, the byte offset and what was expected.

use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Debug)]
pub struct LoadError {
    pub path: PathBuf,
    /// Byte offset in the file where the problem was found, when there is one.
    pub offset: Option<u64>,
    pub message: String,
}

impl LoadError {
    pub fn new(path: &Path, offset: Option<u64>, message: impl Into<String>) -> LoadError {
        LoadError {
            path: path.to_path_buf(),
            offset,
            message: message.into(),
        }
    }

    /// A graph the reader built violates the graph's invariants: our bug, never the user's dump.
    pub(crate) fn graph_bug(path: &Path, e: heapgraph_graph::GraphError) -> LoadError {
        LoadError::new(
            path,
            None,
            format!("{e} (a heapgraph bug; please report it)"),
        )
    }

    pub(crate) fn io(path: &Path, err: std::io::Error) -> LoadError {
        let hint = match err.kind() {
            std::io::ErrorKind::NotFound => "; check the path",
            std::io::ErrorKind::PermissionDenied => "; check the file's permissions",
            _ => "",
        };
        LoadError::new(path, None, format!("cannot read: {err}{hint}"))
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(offset) = self.offset {
            write!(f, ": at byte {offset}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for LoadError {}

/// A problem at a byte offset of the dump; the loader adds the file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FormatError {
    pub offset: u64,
    pub message: String,
}

pub(crate) fn err<T>(offset: usize, message: impl Into<String>) -> Result<T, FormatError> {
    Err(FormatError {
        offset: offset as u64,
        message: message.into(),
    })
}
