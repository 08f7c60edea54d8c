//! Edge labels: what kind of reference an edge is, and its name.
//!
//! A label is one `u32` so that the forward edge arrays stay at 8 bytes per edge: the top three bits are
//! the [`EdgeKind`], the low 29 bits an index or a string id. The Python dump format stores labels in
//! exactly this encoding (see `docs/formats.md`).

use crate::strings::{StrId, Strings};
use std::fmt;

/// What kind of reference an edge is. The numeric values are part of the `.hgd` format.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum EdgeKind {
    /// An unnamed reference.
    Plain = 0,
    /// A sequence element: `[3]`.
    Index = 1,
    /// An attribute or field: `.name`.
    Attribute = 2,
    /// A mapping value, named by its key's repr: `['user']`.
    Key = 3,
    /// A local variable of a running frame: `local x`.
    Local = 4,
    /// A named reference that is not an attribute: `<key>` (a dict's reference to one of its keys).
    Internal = 5,
    /// A weak reference: never keeps its target alive.
    Weak = 6,
}

impl EdgeKind {
    fn from_bits(bits: u32) -> Option<EdgeKind> {
        Some(match bits {
            0 => EdgeKind::Plain,
            1 => EdgeKind::Index,
            2 => EdgeKind::Attribute,
            3 => EdgeKind::Key,
            4 => EdgeKind::Local,
            5 => EdgeKind::Internal,
            6 => EdgeKind::Weak,
            _ => return None,
        })
    }
}

/// A packed edge label: kind in the top 3 bits, payload (index or string id) in the low 29.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Default)]
#[repr(transparent)]
pub struct EdgeLabel(u32);

// SAFETY: a transparent `u32`; every bit pattern is a label (an unknown kind reads as plain).
unsafe impl crate::column::Plain for EdgeLabel {}

impl EdgeLabel {
    /// Bits available for the payload.
    pub const PAYLOAD_BITS: u32 = 29;
    /// The largest payload; larger indices are clamped to it.
    pub const MAX_PAYLOAD: u32 = (1 << Self::PAYLOAD_BITS) - 1;
    /// The unnamed label.
    pub const PLAIN: EdgeLabel = EdgeLabel(0);

    /// Decodes a raw label as stored in a dump; `None` for the reserved kind 7 or a plain label with a payload.
    pub fn from_raw(raw: u32) -> Option<EdgeLabel> {
        let kind = EdgeKind::from_bits(raw >> Self::PAYLOAD_BITS)?;
        if kind == EdgeKind::Plain && raw != 0 {
            return None;
        }
        Some(EdgeLabel(raw))
    }

    /// A label with a string payload (attribute, key, local, internal or weak).
    pub fn named(kind: EdgeKind, name: StrId) -> EdgeLabel {
        debug_assert!(!matches!(kind, EdgeKind::Plain | EdgeKind::Index));
        EdgeLabel(((kind as u32) << Self::PAYLOAD_BITS) | (name.0 & Self::MAX_PAYLOAD))
    }

    /// An element index, clamped to [`Self::MAX_PAYLOAD`].
    pub fn index(i: u64) -> EdgeLabel {
        let i = i.min(Self::MAX_PAYLOAD as u64) as u32;
        EdgeLabel(((EdgeKind::Index as u32) << Self::PAYLOAD_BITS) | i)
    }

    /// The raw encoding.
    pub fn raw(self) -> u32 {
        self.0
    }

    pub fn kind(self) -> EdgeKind {
        EdgeKind::from_bits(self.0 >> Self::PAYLOAD_BITS).unwrap_or(EdgeKind::Plain)
    }

    pub fn payload(self) -> u32 {
        self.0 & Self::MAX_PAYLOAD
    }

    /// The string id of a named label.
    pub fn name(self) -> Option<StrId> {
        match self.kind() {
            EdgeKind::Plain | EdgeKind::Index => None,
            _ => Some(StrId(self.payload())),
        }
    }

    /// Whether this edge keeps its target alive. The one place that decides which edges the dominator
    /// tree, retained sizes, retainer paths and refcount accounting ignore.
    pub fn retains(self) -> bool {
        self.kind() != EdgeKind::Weak
    }

    /// Formats the label for people: `.name`, `['key']`, `[3]`, `local x`, `<key>`, `weak referent`.
    pub fn display<'a>(self, strings: &'a Strings) -> LabelDisplay<'a> {
        LabelDisplay {
            label: self,
            strings,
        }
    }
}

impl fmt::Debug for EdgeLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}({})", self.kind(), self.payload())
    }
}

/// A label ready to print, with its string table.
pub struct LabelDisplay<'a> {
    label: EdgeLabel,
    strings: &'a Strings,
}

impl fmt::Display for LabelDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = || self.strings.get(StrId(self.label.payload()));
        match self.label.kind() {
            EdgeKind::Plain => Ok(()),
            EdgeKind::Index => write!(f, "[{}]", self.label.payload()),
            EdgeKind::Attribute => write!(f, ".{}", name()),
            EdgeKind::Key => write!(f, "[{}]", name()),
            EdgeKind::Local => write!(f, "local {}", name()),
            EdgeKind::Internal => write!(f, "<{}>", name()),
            EdgeKind::Weak => write!(f, "weak {}", name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strings::StringInterner;

    #[test]
    fn labels_round_trip_and_print() {
        let mut interner = StringInterner::default();
        let x = interner.intern("x");
        let user = interner.intern("'user'");
        let strings = interner.freeze();
        let cases = [
            (EdgeLabel::PLAIN, ""),
            (EdgeLabel::index(3), "[3]"),
            (EdgeLabel::named(EdgeKind::Attribute, x), ".x"),
            (EdgeLabel::named(EdgeKind::Key, user), "['user']"),
            (EdgeLabel::named(EdgeKind::Local, x), "local x"),
            (EdgeLabel::named(EdgeKind::Internal, x), "<x>"),
            (EdgeLabel::named(EdgeKind::Weak, x), "weak x"),
        ];
        for (label, text) in cases {
            assert_eq!(label.display(&strings).to_string(), text);
            assert_eq!(EdgeLabel::from_raw(label.raw()), Some(label));
        }
    }

    #[test]
    fn only_weak_edges_do_not_retain() {
        assert!(EdgeLabel::PLAIN.retains());
        assert!(EdgeLabel::index(1).retains());
        assert!(!EdgeLabel::named(EdgeKind::Weak, StrId(0)).retains());
    }

    #[test]
    fn reserved_kind_and_plain_payload_are_rejected() {
        assert_eq!(EdgeLabel::from_raw(7 << 29), None);
        assert_eq!(EdgeLabel::from_raw(5), None);
        assert_eq!(EdgeLabel::index(u64::MAX).payload(), EdgeLabel::MAX_PAYLOAD);
    }
}
