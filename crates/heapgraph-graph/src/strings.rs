//! Interned strings: type names, edge names, root names.

use hashbrown::{DefaultHashBuilder, HashTable};
use std::hash::BuildHasher;

/// An index into a [`Strings`] table.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct StrId(pub u32);

/// A frozen string table: all texts in one buffer, so millions of short names cost one allocation.
#[derive(Debug, Default, Clone)]
pub struct Strings {
    text: String,
    /// `ends[i]` is where string `i` ends in `text`; it starts where string `i - 1` ends.
    ends: Vec<usize>,
}

impl Strings {
    /// The text of `id`; an unknown id reads as the empty string (ids come from our own interner).
    pub fn get(&self, id: StrId) -> &str {
        let i = id.0 as usize;
        let Some(&end) = self.ends.get(i) else {
            return "";
        };
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..end]
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// The table as [`Strings::text`] and [`Strings::ends`] gave it (an index file's), checked: every end
    /// ascending, within the text and on a character boundary.
    pub fn from_saved(text: String, ends: &[u64]) -> Result<Strings, String> {
        let mut last = 0;
        let ends = ends
            .iter()
            .map(|&end| {
                let end = usize::try_from(end).map_err(|e| e.to_string())?;
                if end < last || !text.is_char_boundary(end) {
                    return Err(format!("string end {end} is not a boundary after {last}"));
                }
                last = end;
                Ok(end)
            })
            .collect::<Result<Vec<usize>, String>>()?;
        Ok(Strings { text, ends })
    }

    /// All texts, one after another.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Where each string ends in [`Strings::text`].
    pub fn ends(&self) -> impl Iterator<Item = u64> + '_ {
        self.ends.iter().map(|&e| e as u64)
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Bytes held by the table.
    pub fn heap_bytes(&self) -> usize {
        self.text.capacity() + self.ends.capacity() * std::mem::size_of::<usize>()
    }
}

/// Builds a [`Strings`] table, giving equal texts one id.
///
/// The hash table stores ids and hashes (8 bytes each), never the text, so a dump with millions of distinct
/// dict keys costs the text plus a few bytes per string, not a boxed copy per key.
#[derive(Default)]
pub struct StringInterner {
    strings: Strings,
    /// Each string's id with its hash (32 bits of it): growing the table then moves entries without
    /// reading their text again (a random read per string, at every doubling).
    ids: HashTable<(u32, StrId)>,
    hasher: DefaultHashBuilder,
}

impl std::fmt::Debug for StringInterner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StringInterner")
            .field("strings", &self.strings.len())
            .finish()
    }
}

impl StringInterner {
    pub fn intern(&mut self, text: &str) -> StrId {
        let short = self.hasher.hash_one(text) as u32;
        let strings = &self.strings;
        if let Some(&(_, id)) = self.ids.find(spread(short), |&(h, id)| {
            h == short && strings.get(id) == text
        }) {
            return id;
        }
        let id = StrId(self.strings.ends.len() as u32);
        self.strings.text.push_str(text);
        self.strings.ends.push(self.strings.text.len());
        self.ids
            .insert_unique(spread(short), (short, id), |&(h, _)| spread(h));
        id
    }

    /// Makes room for `additional` more distinct strings at once: growing the table step by step moves
    /// every string interned so far at each step, which a reader that knows its count can avoid.
    pub fn reserve(&mut self, additional: usize) {
        self.ids.reserve(additional, |&(h, _)| spread(h));
        self.strings.ends.reserve(additional);
    }

    /// The table so far, for lookups while building.
    pub fn strings(&self) -> &Strings {
        &self.strings
    }

    pub fn freeze(self) -> Strings {
        self.strings
    }
}

/// A string's 32-bit hash as the 64 bits the table reads: the low half picks the bucket, the top seven
/// bits the tag that most mismatches stop at.
fn spread(short: u32) -> u64 {
    (short as u64) << 32 | short as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_texts_share_an_id() {
        let mut interner = StringInterner::default();
        let a = interner.intern("alpha");
        let b = interner.intern("");
        let c = interner.intern("alpha");
        assert_eq!(a, c);
        assert_ne!(a, b);
        let strings = interner.freeze();
        assert_eq!(strings.get(a), "alpha");
        assert_eq!(strings.get(b), "");
        assert_eq!(strings.get(StrId(99)), "");
        assert_eq!(strings.len(), 2);
    }
}
