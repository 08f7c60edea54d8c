//! Shallow sizes in 2 bytes per object.
//!
//! Almost every object is smaller than 64 KiB; the rare bigger one (a big `bytes`, a large array or hash
//! table) is kept in a side table, so that the common case costs a quarter of a `u64` array (41 MB less
//! than 4-byte slots on a 20M-object heap).

use crate::column::Column;
use crate::NodeId;
use std::collections::HashMap;

#[derive(Debug, Default, Clone)]
pub struct ShallowSizes {
    small: Column<u16>,
    big: HashMap<NodeId, u64>,
}

impl ShallowSizes {
    /// Marks a size that lives in the side table.
    const BIG: u16 = u16::MAX;

    pub fn with_len(len: usize) -> ShallowSizes {
        ShallowSizes {
            small: vec![0; len].into(),
            big: HashMap::new(),
        }
    }

    /// Sizes as [`ShallowSizes::dense`] and [`ShallowSizes::big_entries`] gave them (an index file's).
    pub fn from_saved(
        small: Column<u16>,
        big: impl IntoIterator<Item = (NodeId, u64)>,
    ) -> ShallowSizes {
        ShallowSizes {
            small,
            big: big.into_iter().collect(),
        }
    }

    /// The 2-byte slot of every node; `u16::MAX` marks a size in the side table.
    pub fn dense(&self) -> &[u16] {
        &self.small
    }

    /// The sizes too big for a dense slot, by node id.
    pub fn big_entries(&self) -> Vec<(NodeId, u64)> {
        let mut big: Vec<(NodeId, u64)> = self.big.iter().map(|(&n, &s)| (n, s)).collect();
        big.sort_unstable();
        big
    }

    pub fn set(&mut self, node: NodeId, size: u64) {
        if size >= Self::BIG as u64 {
            self.small.to_mut()[node as usize] = Self::BIG;
            self.big.insert(node, size);
        } else {
            self.small.to_mut()[node as usize] = size as u16;
            self.big.remove(&node);
        }
    }

    pub fn get(&self, node: NodeId) -> u64 {
        match self.small[node as usize] {
            // A slot marked big always has its entry, unless an index file was forged: read it as the mark.
            Self::BIG => self.big.get(&node).copied().unwrap_or(Self::BIG as u64),
            size => size as u64,
        }
    }

    pub fn len(&self) -> usize {
        self.small.len()
    }

    pub fn is_empty(&self) -> bool {
        self.small.is_empty()
    }

    /// Splits into the dense part and a setter for oversized entries, so parallel loaders can fill
    /// disjoint chunks of the dense part and report the rare big sizes afterwards.
    pub fn dense_mut(&mut self) -> &mut [u16] {
        self.small.to_mut()
    }

    /// The dense slot for `node` of `size`: the size itself, or the side-table mark, in which case
    /// `(node, size)` is added to `big` for [`ShallowSizes::extend_big`].
    pub fn slot(node: NodeId, size: u64, big: &mut Vec<(NodeId, u64)>) -> u16 {
        if size > Self::dense_limit() {
            big.push((node, size));
            Self::BIG
        } else {
            size as u16
        }
    }

    /// Records sizes that did not fit the dense part (their dense slot must hold the mark: see
    /// [`ShallowSizes::slot`]).
    pub fn extend_big(&mut self, big: impl IntoIterator<Item = (NodeId, u64)>) {
        self.big.extend(big);
    }

    /// The largest size a dense slot can hold directly.
    const fn dense_limit() -> u64 {
        Self::BIG as u64 - 1
    }

    pub fn heap_bytes(&self) -> usize {
        self.small.heap_bytes() + self.big.capacity() * 16
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_sizes_survive() {
        let mut sizes = ShallowSizes::with_len(3);
        sizes.set(0, 56);
        sizes.set(1, 10 << 32);
        sizes.set(2, u16::MAX as u64);
        assert_eq!(sizes.get(0), 56);
        assert_eq!(sizes.get(1), 10 << 32);
        assert_eq!(sizes.get(2), u16::MAX as u64);
        sizes.set(1, 7);
        assert_eq!(sizes.get(1), 7);
    }
}
