//! Telling formats apart by their first bytes.

/// A dump format heapgraph reads.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Format {
    /// heapgraph's own Python dump (`docs/formats.md`).
    PythonHgd,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::PythonHgd => "heapgraph Python dump (.hgd)",
        }
    }
}

/// The format whose signature `head` starts with.
pub fn detect(head: &[u8]) -> Option<Format> {
    if head.starts_with(&crate::python::MAGIC) {
        Some(Format::PythonHgd)
    } else {
        None
    }
}
