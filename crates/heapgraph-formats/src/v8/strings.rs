//! The `strings` array: where each string starts, and its text decoded only when asked.
//!
//! A big snapshot has millions of strings (a Map's slots are named by their numbers) and its `strings`
//! array can exceed the longest string a JavaScript engine can hold; heapgraph keeps 8 bytes per string
//! and decodes the few hundred a report shows, plus the names it interns for types and edges.

use super::header::skip_string;
use crate::error::{err, FormatError};
use heapgraph_graph::Column;
use std::borrow::Cow;
use std::ops::Range;

pub struct StringTable {
    /// Offset of each string's opening quote in the file.
    starts: Column<u64>,
}

impl StringTable {
    /// Finds every string of the array body `data[body]`.
    pub fn index(data: &[u8], body: Range<usize>) -> Result<StringTable, FormatError> {
        let mut starts = Vec::new();
        let mut at = body.start;
        let mut expect_value = true;
        while at < body.end {
            match data[at] {
                b' ' | b'\n' | b'\r' | b'\t' => at += 1,
                b',' if !expect_value => {
                    expect_value = true;
                    at += 1;
                }
                b'"' if expect_value => {
                    starts.push(at as u64);
                    at = skip_string(data, at)?;
                    expect_value = false;
                }
                b => return err(at, format!("unexpected byte {b:#04x} in the strings array")),
            }
        }
        if expect_value && !starts.is_empty() {
            return err(body.end, "the strings array ends with a comma");
        }
        Ok(StringTable {
            starts: starts.into(),
        })
    }

    pub fn len(&self) -> usize {
        self.starts.len()
    }

    /// The table as [`StringTable::starts`] gave it (an index file's).
    pub fn from_starts(starts: Column<u64>) -> StringTable {
        StringTable { starts }
    }

    /// Where each string's opening quote is in the file.
    pub fn starts(&self) -> &Column<u64> {
        &self.starts
    }

    /// String `i` as written, between its quotes (escapes not decoded).
    ///
    /// Only a comma and whitespace lie between two strings ([`StringTable::index`] checks it), so a
    /// string's closing quote is the last quote before the next one's opening quote: found in a few
    /// bytes, where scanning the string for it would read the whole string (some are scripts' sources)
    /// on every lookup. The last string is scanned.
    pub fn raw<'a>(&self, data: &'a [u8], i: usize) -> Option<&'a [u8]> {
        let start = (*self.starts.get(i)? as usize).checked_add(1)?;
        let end = match self.starts.get(i + 1) {
            Some(&next) => {
                let inside = data.get(start..usize::try_from(next).ok()?)?;
                start + inside.iter().rposition(|&b| b == b'"')?
            }
            None => skip_string(data, start - 1).ok()? - 1,
        };
        Some(&data[start..end])
    }

    /// String `i`, JSON escapes decoded; escapes that do not make valid text (a lone UTF-16 surrogate,
    /// which JavaScript strings may hold) become U+FFFD. `None` if there is no string `i`.
    pub fn get<'a>(&self, data: &'a [u8], i: usize) -> Option<Cow<'a, str>> {
        self.raw(data, i).map(decode)
    }
}

/// Decodes the inside of a JSON string leniently.
pub fn decode(raw: &[u8]) -> Cow<'_, str> {
    if !raw.contains(&b'\\') {
        return String::from_utf8_lossy(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut units: Vec<u16> = Vec::new();
    let mut i = 0;
    let flush = |units: &mut Vec<u16>, out: &mut String| {
        out.extend(char::decode_utf16(units.drain(..)).map(|c| c.unwrap_or('\u{fffd}')));
    };
    while i < raw.len() {
        if raw[i] == b'\\' && raw.get(i + 1) == Some(&b'u') {
            let unit = raw
                .get(i + 2..i + 6)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u16::from_str_radix(h, 16).ok());
            if let Some(unit) = unit {
                units.push(unit);
                i += 6;
                continue;
            }
        }
        flush(&mut units, &mut out);
        if raw[i] == b'\\' {
            let c = match raw.get(i + 1) {
                Some(b'n') => '\n',
                Some(b't') => '\t',
                Some(b'r') => '\r',
                Some(b'b') => '\u{8}',
                Some(b'f') => '\u{c}',
                Some(&c @ (b'"' | b'\\' | b'/')) => c as char,
                _ => '\u{fffd}',
            };
            out.push(c);
            i += 2;
        } else {
            let next = memchr::memchr(b'\\', &raw[i..]).map_or(raw.len(), |k| i + k);
            out.push_str(&String::from_utf8_lossy(&raw[i..next]));
            i = next;
        }
    }
    flush(&mut units, &mut out);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_escapes_surrogate_pairs_and_lone_surrogates() {
        assert_eq!(decode(br"plain"), "plain");
        assert_eq!(decode(br#"a\"b\\c\/d\ne"#), "a\"b\\c/d\ne");
        assert_eq!(decode(br"h\u00e9llo \u2713"), "héllo ✓");
        assert_eq!(decode(br"\ud83d\ude00!"), "😀!");
        assert_eq!(decode(br"x\ud83dy"), "x\u{fffd}y");
        assert_eq!(decode(br"bad \q \u12"), "bad \u{fffd} \u{fffd}12");
    }

    #[test]
    fn indexes_strings_and_rejects_junk() {
        let data = br#"["<dummy>", "a\"b" ,"c"]"#;
        let t = StringTable::index(data, 1..data.len() - 1).unwrap();
        assert_eq!(t.len(), 3);
        assert_eq!(t.get(data, 1).unwrap(), "a\"b");
        assert_eq!(t.get(data, 3), None);
        let junk = br#"["a" 1]"#;
        assert!(StringTable::index(junk, 1..junk.len() - 1).is_err());
        let trailing = br#"["a",]"#;
        assert!(StringTable::index(trailing, 1..trailing.len() - 1).is_err());
    }
}
