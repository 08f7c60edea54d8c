//! Why an index cannot be read or written, in variants a caller can match on. Each variant displays
//! as the sentence the user reads in the note that says the index is being rebuilt or not written.

use std::fmt;
use std::path::PathBuf;

/// What an index file operation was doing when the system refused it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoAction {
    Map,
    Write,
}

/// Why an index cannot be used or written.
#[derive(Debug)]
pub enum IndexError {
    /// The system refused to map or write the file.
    Io {
        action: IoAction,
        path: PathBuf,
        error: std::io::Error,
    },
    /// The file does not start as a heapgraph index does.
    NotAnIndex,
    /// A sound index for something else: another version of the dump, another heapgraph or index
    /// format version, or a machine of the other byte order. Rebuilding it is the normal fix.
    Stale { why: String },
    /// The file is damaged or forged: cut short, a checksum that does not match, or values that break
    /// the invariants of the graph and analyses.
    Corrupt { what: String },
    /// The dump holds something an index cannot represent, so none is written.
    Unwritable { why: String },
}

impl IndexError {
    pub(crate) fn stale(why: impl Into<String>) -> IndexError {
        IndexError::Stale { why: why.into() }
    }

    pub(crate) fn corrupt(what: impl Into<String>) -> IndexError {
        IndexError::Corrupt { what: what.into() }
    }
}

impl fmt::Display for IndexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IndexError::Io {
                action,
                path,
                error,
            } => {
                let verb = match action {
                    IoAction::Map => "map",
                    IoAction::Write => "write",
                };
                write!(f, "cannot {verb} {}: {error}", path.display())
            }
            IndexError::NotAnIndex => f.write_str(
                "offset 0: not a heapgraph index file (its first bytes are not HGINDEX)",
            ),
            IndexError::Stale { why } => f.write_str(why),
            IndexError::Corrupt { what } => f.write_str(what),
            IndexError::Unwritable { why } => f.write_str(why),
        }
    }
}

impl std::error::Error for IndexError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            IndexError::Io { error, .. } => Some(error),
            _ => None,
        }
    }
}
