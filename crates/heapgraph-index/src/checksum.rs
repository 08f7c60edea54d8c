//! A fast checksum for index sections: the index must notice a damaged or edited file before trusting
//! it, and hashing 700 MB must cost a fraction of the 0.3 s a warm command may take.
//!
//! Not cryptographic: it catches accidents (a truncated copy, a flipped bit, a file from elsewhere), not
//! someone who recomputes it; the reader's structural checks keep a forged file from reading out of bounds.
//! Four independent multiply-rotate lanes per 1 MiB chunk keep the CPU's multipliers busy, chunks hash in
//! parallel, and the chunk hashes are combined in order, so the result does not depend on threads.

use rayon::prelude::*;

const CHUNK: usize = 1 << 20;
const MULTIPLIER: u64 = 0x9E37_79B9_7F4A_7C15;

/// The checksum of `bytes`.
pub fn checksum(bytes: &[u8]) -> u64 {
    let chunks: Vec<u64> = bytes.par_chunks(CHUNK).map(chunk_hash).collect();
    chunks
        .iter()
        .fold(bytes.len() as u64, |acc, &h| mix(acc ^ h))
}

fn chunk_hash(chunk: &[u8]) -> u64 {
    let mut lanes = [1u64, 2, 3, 4];
    let mut blocks = chunk.chunks_exact(32);
    for block in &mut blocks {
        for (lane, word) in lanes.iter_mut().zip(block.chunks_exact(8)) {
            let w = u64::from_le_bytes(word.try_into().expect("8-byte word"));
            *lane = (*lane ^ w).wrapping_mul(MULTIPLIER).rotate_left(29);
        }
    }
    let mut tail = [0u8; 32];
    let rest = blocks.remainder();
    tail[..rest.len()].copy_from_slice(rest);
    let last = u64::from_le_bytes(tail[..8].try_into().expect("8 bytes"))
        ^ u64::from_le_bytes(tail[8..16].try_into().expect("8 bytes")).rotate_left(17)
        ^ u64::from_le_bytes(tail[16..24].try_into().expect("8 bytes")).rotate_left(31)
        ^ u64::from_le_bytes(tail[24..].try_into().expect("8 bytes")).rotate_left(47);
    let folded =
        lanes[0] ^ lanes[1].rotate_left(7) ^ lanes[2].rotate_left(13) ^ lanes[3].rotate_left(19);
    mix(folded ^ mix(last ^ rest.len() as u64))
}

/// A finaliser that spreads every input bit over the output (splitmix64's).
fn mix(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_flipped_bit_and_every_cut_changes_the_checksum() {
        let bytes: Vec<u8> = (0..3 * CHUNK / 2 + 77)
            .map(|i| (i * 31 % 251) as u8)
            .collect();
        let whole = checksum(&bytes);
        assert_eq!(whole, checksum(&bytes.clone()), "deterministic");
        let mut copy = bytes.clone();
        for at in (0..bytes.len())
            .step_by(4099)
            .chain([bytes.len() - 1, CHUNK - 1, CHUNK])
        {
            for bit in [0, 5] {
                copy[at] ^= 1 << bit;
                assert_ne!(checksum(&copy), whole, "bit {bit} of byte {at}");
                copy[at] ^= 1 << bit;
            }
        }
        for cut in [0, 1, 31, 32, 33, CHUNK, bytes.len() - 1] {
            assert_ne!(checksum(&bytes[..cut]), whole, "cut at {cut}");
        }
        assert_ne!(
            checksum(&[0; 5]),
            checksum(&[0; 6]),
            "zero tails of other lengths"
        );
    }
}
