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
//!
//! Both passes avoid a branch per byte. The count compares each byte with the one before it, which the
//! compiler turns into vector instructions. The parse reads a number's digits eight bytes at a time
//! ([`short_number`]) and takes the comma after it in the same step; whatever that step does not expect
//! (a long number, the chunk's last bytes, anything malformed) goes to a loop over single bytes, which
//! alone raises the errors, so each error names the same byte whichever path reached it.

use crate::error::{err, FormatError};
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
    doubled_comma_at_a_split(data, &chunks)?;
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
            parse_chunk(
                data,
                chunk.clone(),
                first,
                width,
                k == last,
                Digits::Whole,
                put,
            )?;
            done(chunk.clone());
            Ok(())
        })?;
    Ok(total)
}

/// A chunk after the first starts at a comma, which its own parse checks against the number after it;
/// a comma just before it (whitespace between) would be one too many, and no chunk sees both.
fn doubled_comma_at_a_split(data: &[u8], chunks: &[Range<usize>]) -> Result<(), FormatError> {
    for pair in chunks.windows(2) {
        let before = data[pair[0].clone()]
            .iter()
            .rev()
            .find(|b| !b.is_ascii_whitespace());
        if before == Some(&b',') {
            return err(pair[1].start, "expected exactly one comma between numbers");
        }
    }
    Ok(())
}

/// Parses `data[body]` as [`parse`] does, on this thread, calling `put` for each number in order: for an
/// array read row by row into a table that is filled in order. Returns how many numbers it holds.
pub fn parse_in_order<F: Fn(usize, usize, u64)>(
    data: &[u8],
    body: Range<usize>,
    width: usize,
    put: &F,
) -> Result<usize, FormatError> {
    let count = std::cell::Cell::new(0);
    parse_chunk(data, body, 0, width, true, Digits::Whole, &|row, col, v| {
        count.set(row * width + col + 1);
        put(row, col, v)
    })?;
    Ok(count.get())
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

/// How many numbers `bytes` holds: the digits that follow a non-digit, and a digit first byte.
fn count_numbers(bytes: &[u8]) -> usize {
    let Some(&first) = bytes.first() else {
        return 0;
    };
    let mut count = usize::from(first.is_ascii_digit());
    // Each byte beside the one before it, summed in a byte per block (128 pairs cannot overflow it): the
    // compiler vectorizes that at 16 pairs an instruction; one `usize` sum over the chunk ran ten times
    // slower.
    const BLOCK: usize = 128;
    let (before, bytes) = (&bytes[..bytes.len() - 1], &bytes[1..]);
    for (before, bytes) in before.chunks(BLOCK).zip(bytes.chunks(BLOCK)) {
        let mut starts = 0u8;
        for (&a, &b) in before.iter().zip(bytes) {
            starts += u8::from(b.is_ascii_digit() & !a.is_ascii_digit());
        }
        count += usize::from(starts);
    }
    count
}

/// Every byte minus b'0', eight at a time.
const ZEROS: u64 = 0x3030_3030_3030_3030;

/// How many of the bytes of `t` (eight bytes read little-endian, [`ZEROS`] subtracted) are digits before
/// the first that is not. A byte was a digit when it is now 0..=9: its high nibble is zero and adding 6
/// does not carry into it. The subtraction borrows and the addition carries across bytes only out of a
/// non-digit, so the bytes up to the first non-digit are judged right and the ones after do not matter.
#[inline(always)]
fn digit_run(t: u64) -> usize {
    let non_digits = (t | t.wrapping_add(0x0606_0606_0606_0606)) & 0xF0F0_F0F0_F0F0_F0F0;
    (non_digits.trailing_zeros() / 8) as usize
}

/// The number written by the first `n` (1..=8) bytes of `t` (as in [`digit_run`]), the first the most
/// significant. A shift drops the bytes after the number and brings in zero bytes before it, read as
/// leading zeros; then one multiplication each combines neighbouring digits, pairs of them, and pairs
/// of those.
#[inline(always)]
fn digits_value(t: u64, n: usize) -> u64 {
    debug_assert!((1..=8).contains(&n));
    let t = t << (64 - 8 * n);
    let t = (t.wrapping_mul(10 << 8 | 1) >> 8) & 0x00FF_00FF_00FF_00FF;
    let t = (t.wrapping_mul(100 << 16 | 1) >> 16) & 0x0000_FFFF_0000_FFFF;
    t.wrapping_mul(10000 << 32 | 1) >> 32
}

const POWERS_OF_TEN: [u64; 8] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000];

/// The number that `bytes` starts with (its first byte is a digit) and how many digits it has, if fewer
/// than 16: then it fits a `u64` unchecked, and the byte after it is in `bytes`. Longer numbers are left
/// to the byte loop, which checks each digit for overflow.
#[inline(always)]
fn short_number(bytes: &[u8; 16]) -> Option<(u64, usize)> {
    let word =
        |k: usize| u64::from_le_bytes(bytes[k..k + 8].try_into().unwrap()).wrapping_sub(ZEROS);
    let low = word(0);
    let n = digit_run(low);
    if n < 8 {
        return Some((digits_value(low, n), n));
    }
    let high = word(8);
    let value = digits_value(low, 8);
    match digit_run(high) {
        0 => Some((value, 8)),
        8 => None,
        m => Some((value * POWERS_OF_TEN[m] + digits_value(high, m), 8 + m)),
    }
}

/// How [`parse_chunk`] reads a number's digits: whole words where the chunk has room, or one byte at a
/// time throughout (what the tests check the first way against).
#[derive(Clone, Copy, PartialEq)]
enum Digits {
    Whole,
    #[cfg(test)]
    ByteByByte,
}

fn parse_chunk<F: Fn(usize, usize, u64)>(
    data: &[u8],
    chunk: Range<usize>,
    first: usize,
    width: usize,
    last: bool,
    digits: Digits,
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
    // A number starting before `fast_end` can be read whole: 16 bytes for its digits and 2 for the
    // separator after them are in the chunk.
    let fast_end = match digits {
        Digits::Whole => end.saturating_sub(17),
        #[cfg(test)]
        Digits::ByteByByte => 0,
    };
    let mut i = chunk.start;
    'bytes: while i < end {
        let b = data[i];
        match b {
            b'0'..=b'9' => {
                if value.is_none() {
                    if commas != need {
                        return err(
                            i,
                            if need == 0 {
                                "a comma before the array's first number"
                            } else {
                                "expected exactly one comma between numbers"
                            },
                        );
                    }
                    // At a number's first digit: while the number is short and a comma follows it (at
                    // once or after one whitespace byte: V8 ends a row with "\n,"), take both in one step,
                    // leaving the state as the byte loop would after the comma.
                    while i < fast_end {
                        let Some((v, len)) = short_number(data[i..i + 16].try_into().unwrap())
                        else {
                            break;
                        };
                        let after = i + len;
                        let sep = data[after];
                        let comma = if sep == b',' {
                            after
                        } else if matches!(sep, b' ' | b'\n' | b'\r' | b'\t')
                            && data[after + 1] == b','
                        {
                            after + 1
                        } else {
                            // The byte loop goes on as if it had read the digits itself.
                            value = Some(v);
                            i = after;
                            continue 'bytes;
                        };
                        next(v);
                        commas = 1;
                        need = 1;
                        i = comma + 1;
                        if !data[i].is_ascii_digit() {
                            continue 'bytes;
                        }
                    }
                }
                // The fast path may have moved on to a later number's first digit.
                let b = data[i];
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
        i += 1;
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

    /// Read in order, the cells come as the parallel parse places them, in order, with the same count
    /// and the same errors.
    #[test]
    fn an_array_read_in_order_matches_the_parallel_parse() {
        // Long enough for several chunks of the parallel parse.
        let long: String = (0..400_000u64)
            .map(|k| format!("{},", k * 7919 % 100_003))
            .collect();
        let long = format!("{}1", long);
        for (text, width) in [
            (" 1,2,\n3 , 40", 2),
            ("", 3),
            ("5,6,7", 2),
            (long.as_str(), 3),
        ] {
            let data = text.as_bytes();
            let calls = std::cell::RefCell::new(Vec::new());
            let count = parse_in_order(data, 0..data.len(), width, &|r, c, v| {
                calls.borrow_mut().push((r, c, v))
            })
            .unwrap();
            let calls = calls.into_inner();
            assert_eq!(count, calls.len());
            assert!(calls.windows(2).all(|w| w[0] < w[1]), "in order");
            assert_eq!(calls, cells(text, width).unwrap());
        }
        for bad in ["1,,2", ",1", "1 2", "1,x"] {
            let data = bad.as_bytes();
            let error = parse_in_order(data, 0..data.len(), 1, &|_, _, _| {}).unwrap_err();
            assert_eq!(error.message, cells(bad, 1).unwrap_err().message, "{bad}");
        }
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

    /// A doubled comma whose second comma starts a chunk is an error, at that comma.
    #[test]
    fn a_doubled_comma_across_chunks_is_an_error() {
        let mut text = "1,".repeat(CHUNK / 2);
        text.push_str(",2");
        let e = cells(&text, 1).unwrap_err();
        assert_eq!(
            (e.offset, e.message.as_str()),
            (CHUNK as u64, "expected exactly one comma between numbers")
        );
        let mut text = " ".repeat(CHUNK);
        text.push_str(",2");
        let e = cells(&text, 1).unwrap_err();
        assert_eq!(e.message, "a comma before the array's first number");
    }

    #[test]
    fn malformed_arrays_are_errors_at_their_byte() {
        let comma_first = "a comma before the array's first number";
        let one_comma = "expected exactly one comma between numbers";
        let too_large = "a number too large for 64 bits";
        let cases = [
            ("1,,2", 3, one_comma),
            (",1", 1, comma_first),
            ("1 2", 2, one_comma),
            ("1,2,", 4, "an array of numbers ends with a comma"),
            ("1,x", 2, "unexpected byte 0x78 in an array of numbers"),
            ("-1", 0, "unexpected byte 0x2d in an array of numbers"),
            ("18446744073709551616", 19, too_large),
            ("1,2;", 3, "unexpected byte 0x3b in an array of numbers"),
        ];
        // Each alone, and after numbers and before enough bytes that whole numbers are read at once.
        let before = "123456789012345,\n1,22,\n";
        let after = ",7".repeat(20);
        for (bad, at, message) in cases {
            let expected = FormatError {
                offset: at as u64,
                message: message.into(),
            };
            assert_eq!(cells(bad, 1).unwrap_err(), expected, "{bad:?}");
            if bad.ends_with(',') {
                continue;
            }
            let padded = format!("{bad}{after}");
            assert_eq!(cells(&padded, 1).unwrap_err(), expected, "{padded:?}");
            if !bad.starts_with(',') {
                let padded = format!("{before}{bad}{after}");
                let expected = FormatError {
                    offset: (before.len() + at) as u64,
                    message: message.into(),
                };
                assert_eq!(cells(&padded, 1).unwrap_err(), expected, "{padded:?}");
            }
        }
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

    /// What parsing one chunk did: each call of `put` in order, and the result.
    #[derive(Debug, PartialEq)]
    struct Parsed {
        calls: Vec<(usize, usize, u64)>,
        result: Result<(), FormatError>,
    }

    /// `parse_chunk` on one chunk, checked against the same chunk read one byte at a time, which is
    /// how the parser read every number before it read whole words: the same calls of `put` in the same
    /// order, the same result.
    fn same_as_byte_loop(
        data: &[u8],
        chunk: Range<usize>,
        first: usize,
        width: usize,
        last: bool,
    ) -> Parsed {
        let parsed = |digits: Digits| {
            let calls = std::cell::RefCell::new(Vec::new());
            let result = parse_chunk(
                data,
                chunk.clone(),
                first,
                width,
                last,
                digits,
                &|r, c, v| calls.borrow_mut().push((r, c, v)),
            );
            Parsed {
                calls: calls.into_inner(),
                result,
            }
        };
        let got = parsed(Digits::Whole);
        let text = String::from_utf8_lossy(&data[chunk.clone()]);
        assert_eq!(
            got,
            parsed(Digits::ByteByByte),
            "first {first}, last {last}, {text:?}"
        );
        got
    }

    /// Every number of a well-formed array, split at its commas and read by the standard library.
    fn reference(text: &str, width: usize) -> Vec<(usize, usize, u64)> {
        if text.trim().is_empty() {
            return vec![];
        }
        text.split(',')
            .map(|s| {
                s.trim_matches([' ', '\n', '\r', '\t'])
                    .parse::<u64>()
                    .unwrap()
            })
            .enumerate()
            .map(|(i, v)| (i / width, i % width, v))
            .collect()
    }

    /// xorshift64*: enough randomness for test inputs, the same on every run.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32) % n
        }

        fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
            from[self.below(from.len() as u64) as usize]
        }

        /// A number of 1 to 20 digits, short ones the most likely, sometimes with leading zeros.
        fn number(&mut self) -> String {
            let digits = match self.below(8) {
                0..=4 => 1 + self.below(4),
                5 | 6 => 1 + self.below(10),
                _ => 1 + self.below(20),
            };
            let mut s: String = (0..digits)
                .map(|_| char::from(b'0' + self.below(10) as u8))
                .collect();
            if self.below(4) != 0 && digits > 1 && s.starts_with('0') {
                s.replace_range(..1, "9");
            }
            if digits == 20 && s.as_str() > "18446744073709551615" {
                s.replace_range(..2, "10");
            }
            s
        }
    }

    fn power_of_ten(k: u32) -> String {
        format!("1{}", "0".repeat(k as usize))
    }

    #[test]
    fn numbers_of_every_length_read_whole() {
        let mut numbers = vec![
            u64::MAX.to_string(),
            (u64::MAX - 1).to_string(),
            "00000000000000000000000042".to_string(),
            "000000000000000".to_string(),
        ];
        for k in 1..=20u32 {
            numbers.push("9".repeat(k as usize));
            numbers.push(power_of_ten(k - 1));
            numbers.push(format!("{}1", "0".repeat(k as usize - 1)));
            numbers.push(format!(
                "{}8",
                "1234567890".repeat(2)[..k as usize - 1].to_owned()
            ));
        }
        for separator in [",", ",\n", "\n,", ", ", " , ", "\t,\r\n"] {
            for n in &numbers {
                if n.len() == 20 && n.as_str() > "18446744073709551615" {
                    continue;
                }
                let text = format!("5{separator}{n}{separator}{}", "7,".repeat(12) + "7");
                assert_eq!(cells(&text, 2).unwrap(), reference(&text, 2), "{text:?}");
                same_as_byte_loop(text.as_bytes(), 0..text.len(), 0, 2, true);
            }
        }
    }

    #[test]
    fn numbers_beyond_64_bits_are_errors_at_their_overflowing_digit() {
        let too_large = |at: usize| FormatError {
            offset: at as u64,
            message: "a number too large for 64 bits".into(),
        };
        let pad = ",1".repeat(20);
        // (number, index of the digit that overflows)
        let cases = [
            ("18446744073709551616".to_string(), 19),
            ("28446744073709551615".to_string(), 19),
            ("99999999999999999999".to_string(), 19),
            ("100000000000000000000".to_string(), 20),
            (power_of_ten(25), 20),
            ("0000018446744073709551616".to_string(), 24),
        ];
        for (n, digit) in cases {
            for before in ["", "1,", "12345,\n"] {
                let text = format!("{before}{n}{pad}");
                assert_eq!(
                    cells(&text, 1).unwrap_err(),
                    too_large(before.len() + digit),
                    "{text:?}"
                );
                same_as_byte_loop(text.as_bytes(), 0..text.len(), 0, 1, true);
            }
        }
    }

    /// Numbers of every length ending at every distance from the end of a chunk, where whole numbers stop
    /// being read at once and the byte loop takes over.
    #[test]
    fn numbers_near_the_end_of_a_chunk() {
        for len in 1..=20 {
            let n = &"1234567890".repeat(2)[..len];
            for gap in 0..40 {
                for tail in ["", ",5", "\n,55", ", 5,"] {
                    let text = format!("{}{}{n}{tail}", "3,".repeat(3), "4,".repeat(gap));
                    let data = text.as_bytes();
                    for last in [true, false] {
                        let parsed = same_as_byte_loop(data, 0..data.len(), 0, 3, last);
                        if !tail.ends_with(',') {
                            parsed.result.unwrap();
                            assert_eq!(parsed.calls, reference(&text, 3), "{text:?}");
                        }
                    }
                    // The same text as a chunk after the first, which starts at its comma.
                    let text = format!(",{text}");
                    let data = text.as_bytes();
                    same_as_byte_loop(data, 0..data.len(), 7, 3, true);
                    // And as a chunk ending inside a larger buffer.
                    let text = format!("{text},1,2,3,4,5,6,7,8,9,10,11,12");
                    let data = text.as_bytes();
                    let end = text.len() - 27;
                    same_as_byte_loop(data, 0..end, 7, 3, false);
                }
            }
        }
    }

    #[test]
    fn counts_agree_with_a_byte_at_a_time() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let alphabet = b"0123456789,\n x-";
        for len in 0..700 {
            for _ in 0..4 {
                let bytes: Vec<u8> = (0..len)
                    .map(|_| match rng.below(3) {
                        0 => rng.below(256) as u8,
                        _ => alphabet[rng.below(alphabet.len() as u64) as usize],
                    })
                    .collect();
                let mut want = 0;
                let mut in_number = false;
                for &b in &bytes {
                    want += usize::from(b.is_ascii_digit() && !in_number);
                    in_number = b.is_ascii_digit();
                }
                assert_eq!(count_numbers(&bytes), want, "{bytes:?}");
            }
        }
    }

    /// Random well-formed arrays over several chunks, with V8's and other layouts: the same numbers as
    /// splitting at commas, and the same calls of `put` as the byte loop in every chunk.
    #[test]
    fn random_arrays_agree_with_the_reference() {
        let mut rng = Rng(0x0123_4567_89AB_CDEF);
        let mut text = String::new();
        while text.len() < 5 * CHUNK / 2 {
            if !text.is_empty() {
                text += rng.pick(&[",", ",", ",", "\n,", ",\n", ", ", " ,", "  ,\r\n\t"]);
            }
            text += &rng.number();
        }
        for width in [1, 3, 7] {
            assert_eq!(cells(&text, width).unwrap(), reference(&text, width));
        }
        let data = text.as_bytes();
        let chunks = split(data, 0..data.len());
        assert!(chunks.len() >= 3);
        let mut first = 0;
        for (k, chunk) in chunks.iter().enumerate() {
            same_as_byte_loop(data, chunk.clone(), first, 7, k == chunks.len() - 1);
            first += count_numbers(&data[chunk.clone()]);
        }
    }

    /// Random arrays with mistakes: every chunk and every error as the byte loop has them.
    #[test]
    fn random_malformed_arrays_agree_with_the_byte_loop() {
        let mut rng = Rng(0xDEAD_BEEF_CAFE_F00D);
        let separators = [
            ",", ",", ",", ",", "\n,", ",\n", ", ", ",,", "", " ", "\n", ", ,", ",\n,",
        ];
        let bad = ["x", "-", ":", "/", ".", "]", "\u{e9}", "\0", "?", "9a"];
        let mut errors = 0;
        for round in 0..6000 {
            // A chunk after the first (some numbers before it) starts at its comma.
            let first = [0, 0, 1, 6][round % 4];
            let mut text = String::from(if first > 0 { "," } else { "" });
            if rng.below(8) == 0 {
                text += rng.pick(&[",", " ", "\n,", " ,", ""]);
            }
            let numbers = 1 + rng.below(40);
            for k in 0..numbers {
                if k > 0 {
                    text += if rng.below(40) == 0 {
                        rng.pick(&separators)
                    } else {
                        rng.pick(&[",", "\n,", ",\n", ", "])
                    };
                }
                if rng.below(200) == 0 {
                    text += rng.pick(&bad);
                }
                text += &if rng.below(100) == 0 {
                    "9".repeat(16 + rng.below(10) as usize)
                } else {
                    rng.number()
                };
            }
            if rng.below(6) == 0 {
                text += rng.pick(&[",", " ", ",\n", "x", "\n"]);
            }
            let data = text.as_bytes();
            let parsed = same_as_byte_loop(data, 0..data.len(), first, 3, round % 3 != 0);
            errors += usize::from(parsed.result.is_err());
            // Cut where the array cuts it, at a comma, into chunks parsed on their own.
            let cut = rng.below(data.len() as u64 + 1) as usize;
            if let Some(k) = data[cut..].iter().position(|&b| b == b',') {
                let cut = cut + k;
                let before = count_numbers(&data[..cut]);
                same_as_byte_loop(data, 0..cut, 0, 3, false);
                same_as_byte_loop(data, cut..data.len(), before, 3, true);
            }
        }
        // Both kinds of input came up often.
        assert!((1500..4500).contains(&errors), "{errors} errors");
    }
}
