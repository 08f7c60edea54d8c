//! The step every counting-sort CSR build shares (the reverse edges here, tree child lists and the
//! dominators' predecessor lists in the analyses).

/// Turns per-key counts into the end of each key's range, in place, and returns the total. A build then
/// places items back to front, moving each key's slot down from its end to its start: when all are
/// placed, `ends[k]..ends[k + 1]` is key `k`'s range (given one more slot than keys, counting nothing).
pub fn counts_to_ends(counts: &mut [u32]) -> u32 {
    let mut running = 0u32;
    for slot in counts.iter_mut() {
        running += *slot;
        *slot = running;
    }
    running
}

#[cfg(test)]
mod tests {
    use super::counts_to_ends;

    #[test]
    fn counts_become_range_ends() {
        let mut counts = [2, 0, 3, 1, 0];
        assert_eq!(counts_to_ends(&mut counts), 6);
        assert_eq!(counts, [2, 2, 5, 6, 6]);
        assert_eq!(counts_to_ends(&mut []), 0);
    }
}
