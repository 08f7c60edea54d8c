//! The file header: `JAVA PROFILE 1.0.x\0`, the identifier size and the time the dump was taken.

use super::cursor::Cursor;
use crate::error::{err, FormatError};

/// What every HPROF file starts with; the version digit follows.
pub const MAGIC_PREFIX: &[u8] = b"JAVA PROFILE 1.0";

/// The versions we read: 1.0.1 (one HEAP DUMP record), 1.0.2 (HEAP DUMP SEGMENTs, HotSpot), 1.0.3 (Android).
const VERSIONS: [&str; 3] = [
    "JAVA PROFILE 1.0.1",
    "JAVA PROFILE 1.0.2",
    "JAVA PROFILE 1.0.3",
];

pub struct Header {
    pub version: &'static str,
    /// 4 or 8: the size of object ids and string ids. HotSpot writes 8 on 64-bit VMs even with
    /// compressed references.
    pub id_size: usize,
    /// Milliseconds since the Unix epoch.
    pub timestamp_ms: u64,
    /// Offset of the first record.
    pub body_start: usize,
}

pub fn parse(data: &[u8]) -> Result<Header, FormatError> {
    let Some(nul) = data.iter().take(64).position(|&b| b == 0) else {
        return err(
            0,
            "truncated or not HPROF: the version string has no terminating NUL",
        );
    };
    let text = &data[..nul];
    let Some(&version) = VERSIONS.iter().find(|v| v.as_bytes() == text) else {
        return err(
            0,
            format!(
                "HPROF version {:?} is not one heapgraph reads ({})",
                String::from_utf8_lossy(text),
                VERSIONS.join(", ")
            ),
        );
    };
    let mut c = Cursor::new(data, nul + 1, 4);
    let id_size = c.u4("the identifier size")? as usize;
    if id_size != 4 && id_size != 8 {
        return err(
            nul + 1,
            format!("identifier size {id_size}: only 4 and 8 exist"),
        );
    }
    let timestamp_ms = c.u8("the header's timestamp")?;
    Ok(Header {
        version,
        id_size,
        timestamp_ms,
        body_start: c.pos(),
    })
}
