//! The `nodes` and `edges` arrays: hundreds of millions of unsigned integers in JSON, parsed in parallel.
//!
//! The body is cut into chunks at commas; a first parallel pass counts the numbers in each chunk, so each
//! chunk knows the index of its first number; a second pass parses every chunk and hands each number to
//! `put(row, column, value)`, rows being `width` numbers wide (a node's or an edge's fields). Each cell is
//! put exactly once, which lets callers scatter the values into per-field arrays from all threads. The
//! row and column are counted, not divided out of the index: a division per number was a fifth of the
//! parse. After each pass over a chunk, `done` hears of its bytes, so that a caller reading a mapped file
//! can hand those pages back: the arrays are most of a snapshot, and the columns they fill would
//! otherwise sit beside the whole file in memory.

use crate::error::{err, FormatError};
use crate::scatter::Scatter;
use rayon::prelude::*;
use std::ops::Range;

/// Bytes per parsing task.
const CHUNK: usize = 1 << 20;

/// Parses `data[body]` (an array's contents: numbers, commas, whitespace) and returns how many numbers it
/// holds, after calling `put` for each. Anything else in the array, a missing or doubled comma, or a
/// number beyond `u64` is an error at its offset.
pub fn parse<F: Fn(usize, usize, u64) + Sync>(
    data: &[u8],
    body: Range<usize>,
    width: usize,
    put: &F,
    done: &(dyn Fn(Range<usize>) + Sync),
) -> Result<usize, FormatError> {
    let chunks = split(data, body);
    let counts: Vec<usize> = chunks
        .par_iter()
        .map(|c| {
            let count = count_numbers(&data[c.clone()]);
            done(c.clone());
            count
        })
        .collect();
    let mut first = Vec::with_capacity(chunks.len());
    let mut total = 0usize;
    for c in &counts {
        first.push(total);
        total += c;
    }
    let last = chunks.len().saturating_sub(1);
    chunks
        .par_iter()
        .zip(first)
        .enumerate()
        .try_for_each(|(k, (chunk, first))| {
            parse_chunk(data, chunk.clone(), first, width, k == last, put)?;
            done(chunk.clone());
            Ok(())
        })?;
    Ok(total)
}

/// Every number of `data[body]`, in order: for a small array read whole (see [`parse`] for the errors).
pub fn parse_all(data: &[u8], body: Range<usize>) -> Result<Vec<u64>, FormatError> {
    let count: usize = split(data, body.clone())
        .par_iter()
        .map(|c| count_numbers(&data[c.clone()]))
        .sum();
    let mut numbers = vec![0; count];
    let slots = Scatter::new(&mut numbers);
    // SAFETY: `parse` puts each number once, at its own index, below the count just made.
    parse(
        data,
        body,
        1,
        &|i, _, v| unsafe { slots.write(i, v) },
        &|_| {},
    )?;
    Ok(numbers)
}

/// Chunks of about [`CHUNK`] bytes, each but the first starting at a comma.
fn split(data: &[u8], body: Range<usize>) -> Vec<Range<usize>> {
    let mut chunks = Vec::new();
    let mut start = body.start;
    while start < body.end {
        let mut end = (start + CHUNK).min(body.end);
        if end < body.end {
            end = memchr::memchr(b',', &data[end..body.end]).map_or(body.end, |k| end + k);
        }
        chunks.push(start..end);
        start = end;
    }
    chunks
}

fn count_numbers(bytes: &[u8]) -> usize {
    let mut count = 0;
    let mut in_number = false;
    for &b in bytes {
        let digit = b.is_ascii_digit();
        count += (digit && !in_number) as usize;
        in_number = digit;
    }
    count
}

fn parse_chunk<F: Fn(usize, usize, u64)>(
    data: &[u8],
    chunk: Range<usize>,
    first: usize,
    width: usize,
    last: bool,
    put: &F,
) -> Result<(), FormatError> {
    let (mut row, mut col) = (first / width, first % width);
    let mut next = |v: u64| {
        put(row, col, v);
        col += 1;
        if col == width {
            col = 0;
            row += 1;
        }
    };
    let mut value: Option<u64> = None;
    // Commas since the last number, and how many the next number needs: none before the array's first
    // number, exactly one before every other. A chunk after the first starts at the comma it needs.
    let mut commas = 0usize;
    let mut need = usize::from(first > 0);
    let end = chunk.end;
    for i in chunk {
        let b = data[i];
        match b {
            b'0'..=b'9' => {
                if value.is_none() && commas != need {
                    return err(
                        i,
                        if need == 0 {
                            "a comma before the array's first number"
                        } else {
                            "expected exactly one comma between numbers"
                        },
                    );
                }
                let v = value.unwrap_or(0);
                value = Some(
                    v.checked_mul(10)
                        .and_then(|v| v.checked_add((b - b'0') as u64))
                        .ok_or_else(|| FormatError {
                            offset: i as u64,
                            message: "a number too large for 64 bits".into(),
                        })?,
                );
            }
            b',' | b' ' | b'\n' | b'\r' | b'\t' => {
                if let Some(v) = value.take() {
                    next(v);
                    commas = 0;
                    need = 1;
                }
                commas += usize::from(b == b',');
            }
            _ => {
                return err(
                    i,
                    format!("unexpected byte {b:#04x} in an array of numbers"),
                )
            }
        }
    }
    if let Some(v) = value {
        next(v);
    } else if last && commas > 0 {
        return err(end, "an array of numbers ends with a comma");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn cells(text: &str, width: usize) -> Result<Vec<(usize, usize, u64)>, FormatError> {
        let got = Mutex::new(Vec::new());
        let data = text.as_bytes();
        let n = parse(
            data,
            0..data.len(),
            width,
            &|r, c, v| got.lock().unwrap().push((r, c, v)),
            &|_| {},
        )?;
        let mut got = got.into_inner().unwrap();
        got.sort();
        assert_eq!(got.len(), n);
        Ok(got)
    }

    #[test]
    fn numbers_land_in_their_row_and_column() {
        assert_eq!(
            cells(" 1,2,\n3 , 40", 2).unwrap(),
            vec![(0, 0, 1), (0, 1, 2), (1, 0, 3), (1, 1, 40)]
        );
        assert_eq!(cells("", 3).unwrap(), vec![]);
        assert_eq!(
            cells("18446744073709551615", 1).unwrap(),
            vec![(0, 0, u64::MAX)]
        );
    }

    #[test]
    fn malformed_arrays_are_errors_at_their_byte() {
        for bad in [
            "1,,2",
            ",1",
            "1 2",
            "1,2,",
            "1,x",
            "-1",
            "18446744073709551616",
        ] {
            assert!(cells(bad, 1).is_err(), "{bad:?}");
        }
        assert_eq!(cells("1,2;", 1).unwrap_err().offset, 3);
    }

    /// Across chunk boundaries every number keeps its place: 3 MB of "i," rows of width 3.
    #[test]
    fn chunks_agree_with_one_sequential_count() {
        let text: Vec<String> = (0..400_000u64).map(|i| i.to_string()).collect();
        let text = text.join(",\n");
        let got = cells(&text, 3).unwrap();
        assert_eq!(got.len(), 400_000);
        for (i, &(r, c, v)) in got.iter().enumerate() {
            assert_eq!((r, c, v), (i / 3, i % 3, i as u64));
        }
    }
}
