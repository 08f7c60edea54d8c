//! Telling formats apart by their first bytes.

/// A dump format heapgraph reads.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Format {
    /// heapgraph's own Python dump (`docs/formats.md`).
    PythonHgd,
    /// Java HPROF heap dump (`JAVA PROFILE 1.0.x`).
    Hprof,
    /// A gzip-compressed HPROF dump (`jcmd GC.heap_dump -gz=1`).
    HprofGzip,
    /// V8 heap snapshot (`.heapsnapshot`: Node.js, Chrome), JSON starting `{"snapshot":`.
    V8Snapshot,
    /// A gzip-compressed V8 heap snapshot (`.heapsnapshot.gz`).
    V8SnapshotGzip,
}

impl Format {
    /// Every format, for files that store one by its position here (index files).
    pub const ALL: [Format; 5] = [
        Format::PythonHgd,
        Format::Hprof,
        Format::HprofGzip,
        Format::V8Snapshot,
        Format::V8SnapshotGzip,
    ];

    /// Whether the file is gzip-compressed (and read through an inflated copy).
    pub fn is_gzip(self) -> bool {
        matches!(self, Format::HprofGzip | Format::V8SnapshotGzip)
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::PythonHgd => "heapgraph Python dump (.hgd)",
            Format::Hprof => "Java HPROF heap dump",
            Format::HprofGzip => "Java HPROF heap dump (gzip)",
            Format::V8Snapshot => "V8 heap snapshot (Node.js, Chrome)",
            Format::V8SnapshotGzip => "V8 heap snapshot (Node.js, Chrome; gzip)",
        }
    }
}

/// The format whose signature `head` starts with. gzip-compressed data is `HprofGzip` here;
/// [`crate::gzip::peek`] tells what is inside.
pub fn detect(head: &[u8]) -> Option<Format> {
    if head.starts_with(&crate::python::MAGIC) {
        Some(Format::PythonHgd)
    } else if head.starts_with(crate::hprof::MAGIC_PREFIX) {
        Some(Format::Hprof)
    } else if head.starts_with(&crate::gzip::GZIP_MAGIC) {
        Some(Format::HprofGzip)
    } else if head.trim_ascii_start().starts_with(crate::v8::SIGNATURE) {
        Some(Format::V8Snapshot)
    } else {
        None
    }
}
