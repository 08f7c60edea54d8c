//! Telling formats apart by their first bytes.

/// A dump format heapgraph reads.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Format {
    /// heapgraph's own Python dump (`docs/formats.md`).
    PythonHgd,
    /// Java HPROF heap dump (`JAVA PROFILE 1.0.x`).
    Hprof,
    /// gzip-compressed data, read as HPROF (`jcmd GC.heap_dump -gz=1`); the loader checks what it inflates.
    HprofGzip,
    /// V8 heap snapshot (`.heapsnapshot`: Node.js, Chrome), JSON starting `{"snapshot":`.
    V8Snapshot,
}

impl Format {
    /// Every format, for files that store one by its position here (index files).
    pub const ALL: [Format; 4] = [
        Format::PythonHgd,
        Format::Hprof,
        Format::HprofGzip,
        Format::V8Snapshot,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Format::PythonHgd => "heapgraph Python dump (.hgd)",
            Format::Hprof => "Java HPROF heap dump",
            Format::HprofGzip => "Java HPROF heap dump (gzip)",
            Format::V8Snapshot => "V8 heap snapshot (Node.js, Chrome)",
        }
    }
}

/// The format whose signature `head` starts with.
pub fn detect(head: &[u8]) -> Option<Format> {
    if head.starts_with(&crate::python::MAGIC) {
        Some(Format::PythonHgd)
    } else if head.starts_with(crate::hprof::MAGIC_PREFIX) {
        Some(Format::Hprof)
    } else if head.starts_with(&crate::hprof::GZIP_MAGIC) {
        Some(Format::HprofGzip)
    } else if head.trim_ascii_start().starts_with(crate::v8::SIGNATURE) {
        Some(Format::V8Snapshot)
    } else {
        None
    }
}
