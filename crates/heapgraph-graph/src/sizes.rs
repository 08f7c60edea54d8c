//! Shallow sizes in 4 bytes per object.
//!
//! Almost every object is smaller than 4 GiB; the rare bigger one (a huge `bytes`, a giant array) is kept in
//! a side table so that the common case costs half of a `u64` array.

use crate::column::Column;
use crate::NodeId;
use std::collections::HashMap;

#[derive(Debug, Default, Clone)]
pub struct ShallowSizes {
    small: Column<u32>,
    big: HashMap<NodeId, u64>,
}

impl ShallowSizes {
    /// Marks a size that lives in the side table.
    const BIG: u32 = u32::MAX;

    pub fn with_len(len: usize) -> ShallowSizes {
        ShallowSizes {
            small: vec![0; len].into(),
            big: HashMap::new(),
        }
    }

    /// Sizes as [`ShallowSizes::dense`] and [`ShallowSizes::big_entries`] gave them (an index file's).
    pub fn from_saved(
        small: Column<u32>,
        big: impl IntoIterator<Item = (NodeId, u64)>,
    ) -> ShallowSizes {
        ShallowSizes {
            small,
            big: big.into_iter().collect(),
        }
    }

    /// The 4-byte slot of every node; [`ShallowSizes::dense_limit`] + 1 marks a size in the side table.
    pub fn dense(&self) -> &[u32] {
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
            self.small.to_mut()[node as usize] = size as u32;
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
    pub fn dense_mut(&mut self) -> &mut [u32] {
        self.small.to_mut()
    }

    /// Records sizes that did not fit the dense part (their dense slot must already hold `u32::MAX`).
    pub fn extend_big(&mut self, big: impl IntoIterator<Item = (NodeId, u64)>) {
        self.big.extend(big);
    }

    /// The largest size a dense slot can hold directly.
    pub const fn dense_limit() -> u64 {
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
        sizes.set(2, u32::MAX as u64);
        assert_eq!(sizes.get(0), 56);
        assert_eq!(sizes.get(1), 10 << 32);
        assert_eq!(sizes.get(2), u32::MAX as u64);
        sizes.set(1, 7);
        assert_eq!(sizes.get(1), 7);
    }
}
