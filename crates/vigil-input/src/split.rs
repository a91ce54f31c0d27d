//! Splitting an array into its elements quickly, for the selective path that reads a few
//! evidence records back out of a file (`fast::pick_records`).
//!
//! [`elements`] yields exactly what [`scan::Elements::new`] yields, on any input: the same byte
//! ranges, the same error at the same place. The only difference is how the end of an object
//! or array element is found. [`scan::value_end`] walks the bytes outside strings one by one
//! and each string with `memchr2`; CloudTrail records are dense in short strings, so that
//! costs a call per key and per value. Here the element is classified 64 bytes at a time into
//! bit masks (quotes, backslashes, opening and closing brackets), strings are found from the
//! quote mask with a prefix XOR and brackets outside them are counted: a few instructions per
//! byte whatever the strings. sonic-rs does the same inside its unchecked skipping, but only
//! behind an `unsafe` API whose result on malformed text is undefined, and its checked
//! iterator validates every token of the records we skip (as costly as parsing them).
//!
//! Anything the masks cannot decide exactly like [`scan::value_end`] (a backslash outside a
//! string, which only malformed text holds, or the end of the input) hands the element to
//! [`scan::value_end`], so the result never differs from it.

use crate::scan::{self, ScanError};

/// The elements of the array whose `[` is at `open`, as byte ranges: what
/// [`scan::Elements::new`] yields, found faster. After an error the iterator ends.
pub(crate) fn elements(bytes: &[u8], open: usize) -> scan::Elements<'_> {
    scan::Elements::with_value_end(bytes, open, value_end)
}

/// The end (exclusive) of the value starting at `at`: [`scan::value_end`], with objects and
/// arrays skipped by [`container_end`] when it can decide.
fn value_end(bytes: &[u8], at: usize) -> Result<usize, ScanError> {
    if let Some(b'{' | b'[') = bytes.get(at) {
        if let Some(end) = container_end(bytes, at) {
            return Ok(end);
        }
    }
    scan::value_end(bytes, at)
}

/// The bytes classified at once.
const BLOCK: usize = 64;

/// Where the object or array whose opening bracket is at `at` ends (exclusive), counting
/// brackets outside strings by kind-blind depth as `scan::value_end` does; `None` when it
/// cannot tell exactly as that function would (a backslash outside a string, or no end
/// before the input's).
fn container_end(bytes: &[u8], at: usize) -> Option<usize> {
    let mut depth = 0usize;
    // All ones when the block starts inside a string.
    let mut in_string = 0u64;
    // Whether the first byte of the block is escaped by a backslash ending the previous one.
    let mut escaped_carry = 0u64;
    let mut start = at;
    while start < bytes.len() {
        let masks = Masks::of(bytes, start);
        // Escapes: each backslash that is not itself escaped escapes the byte after it.
        let mut escaped = escaped_carry;
        escaped_carry = 0;
        let mut escapers = masks.backslash & !escaped;
        while escapers != 0 {
            let at = escapers.trailing_zeros();
            let bit = 1u64 << at;
            if at == 63 {
                escaped_carry = 1;
            } else {
                escaped |= bit << 1;
            }
            escapers &= !(bit | bit << 1);
        }
        let quotes = masks.quote & !escaped;
        // Bit i: byte i is in a string (its opening quote included, its closing one not).
        let inside = prefix_xor(quotes) ^ in_string;
        in_string = 0u64.wrapping_sub(inside >> 63);
        // `scan::value_end` treats a backslash outside a string as an ordinary byte; the
        // escape masks above would not. Only malformed text has one: let it decide.
        if masks.backslash & !escaped & !inside != 0 {
            return None;
        }
        let open = masks.open & !inside;
        let close = masks.close & !inside;
        if close == 0 {
            depth += open.count_ones() as usize;
        } else {
            let mut brackets = open | close;
            while brackets != 0 {
                let at = brackets.trailing_zeros();
                let bit = 1u64 << at;
                if open & bit != 0 {
                    depth += 1;
                } else {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return Some(start + at as usize + 1);
                    }
                }
                brackets &= brackets - 1;
            }
        }
        start += BLOCK;
    }
    None
}

/// Bit i set when bit i of the result is the XOR of bits 0..=i of `bits`.
fn prefix_xor(mut bits: u64) -> u64 {
    bits ^= bits << 1;
    bits ^= bits << 2;
    bits ^= bits << 4;
    bits ^= bits << 8;
    bits ^= bits << 16;
    bits ^= bits << 32;
    bits
}

/// The bytes of interest among the `BLOCK` bytes at some offset: bit i for byte i.
struct Masks {
    quote: u64,
    backslash: u64,
    /// `{` or `[`.
    open: u64,
    /// `}` or `]`.
    close: u64,
}

impl Masks {
    /// Classifies `bytes[start..start + BLOCK]`; past the end of `bytes`, as spaces.
    fn of(bytes: &[u8], start: usize) -> Masks {
        match bytes.get(start..start + BLOCK) {
            Some(block) => Masks::of_block(block),
            None => {
                let mut padded = [b' '; BLOCK];
                let rest = bytes.get(start..).unwrap_or_default();
                padded[..rest.len()].copy_from_slice(rest);
                Masks::of_block(&padded)
            }
        }
    }

    /// SSE2 is part of x86_64: 16 bytes compared per instruction.
    #[cfg(target_arch = "x86_64")]
    fn of_block(block: &[u8]) -> Masks {
        use std::arch::x86_64::{
            __m128i, _mm_cmpeq_epi8, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8, _mm_set_epi64x,
        };
        let mut masks = Masks {
            quote: 0,
            backslash: 0,
            open: 0,
            close: 0,
        };
        // SAFETY: these intrinsics only require SSE2, which every x86_64 processor has (it
        // is enabled for the target by default); they take no pointers.
        unsafe {
            let quote = _mm_set1_epi8(b'"' as i8);
            let backslash = _mm_set1_epi8(b'\\' as i8);
            // `[` and `]` are `{` and `}` with bit 0x20 clear: one comparison finds both kinds.
            let case = _mm_set1_epi8(0x20);
            let open = _mm_set1_epi8(b'{' as i8);
            let close = _mm_set1_epi8(b'}' as i8);
            let mut lanes = [_mm_set1_epi8(0); 4];
            for (lane, chunk) in lanes.iter_mut().zip(block.chunks_exact(16)) {
                let word = |at: usize| {
                    let mut eight = [0u8; 8];
                    eight.copy_from_slice(&chunk[at..at + 8]);
                    i64::from_le_bytes(eight)
                };
                *lane = _mm_set_epi64x(word(8), word(0));
            }
            let bits =
                |m: __m128i, lane: usize| u64::from(_mm_movemask_epi8(m) as u16) << (lane * 16);
            // Backslashes are rare: one test for the whole block first.
            let mut any_backslash = _mm_set1_epi8(0);
            for (i, &v) in lanes.iter().enumerate() {
                let folded = _mm_or_si128(v, case);
                masks.quote |= bits(_mm_cmpeq_epi8(v, quote), i);
                masks.open |= bits(_mm_cmpeq_epi8(folded, open), i);
                masks.close |= bits(_mm_cmpeq_epi8(folded, close), i);
                any_backslash = _mm_or_si128(any_backslash, _mm_cmpeq_epi8(v, backslash));
            }
            if _mm_movemask_epi8(any_backslash) != 0 {
                for (i, &v) in lanes.iter().enumerate() {
                    masks.backslash |= bits(_mm_cmpeq_epi8(v, backslash), i);
                }
            }
        }
        masks
    }

    /// Elsewhere byte by byte (the same masks, more slowly).
    #[cfg(not(target_arch = "x86_64"))]
    fn of_block(block: &[u8]) -> Masks {
        Masks::of_bytes(block)
    }

    /// The masks byte by byte: the portable path, and the reference the SSE2 one is tested
    /// against.
    #[cfg(any(test, not(target_arch = "x86_64")))]
    fn of_bytes(block: &[u8]) -> Masks {
        let mut masks = Masks {
            quote: 0,
            backslash: 0,
            open: 0,
            close: 0,
        };
        for (i, &byte) in block.iter().enumerate() {
            let bit = 1u64 << i;
            match byte {
                b'"' => masks.quote |= bit,
                b'\\' => masks.backslash |= bit,
                b'{' | b'[' => masks.open |= bit,
                b'}' | b']' => masks.close |= bit,
                _ => {}
            }
        }
        masks
    }
}

#[cfg(test)]
mod tests {
    use std::ops::Range;

    use super::*;

    /// A small deterministic generator (xorshift64*): the tests must not depend on a seed
    /// from the environment, and this is all they need.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }

        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[self.below(items.len())]
        }
    }

    fn fast(bytes: &[u8], open: usize) -> Vec<Result<Range<usize>, ScanError>> {
        elements(bytes, open).collect()
    }

    fn careful(bytes: &[u8], open: usize) -> Vec<Result<Range<usize>, ScanError>> {
        scan::Elements::new(bytes, open).collect()
    }

    /// The raw elements sonic-rs's checked iterator splits `text` (an array) into.
    fn sonic(text: &str) -> Vec<String> {
        sonic_rs::to_array_iter(text)
            .map(|element| element.expect("valid JSON").as_raw_str().to_string())
            .collect()
    }

    fn raw<'t>(text: &'t str, split: &[Result<Range<usize>, ScanError>]) -> Vec<&'t str> {
        split
            .iter()
            .map(|element| &text[element.clone().expect("no error")])
            .collect()
    }

    /// Any text, biased towards the bytes that matter to the split.
    fn noise(rng: &mut Rng, len: usize) -> String {
        const PIECES: &[&str] = &[
            "{", "}", "[", "]", "\"", "\\", ",", ":", " ", "\n", "a", "1", "\"k\":", "é", "€",
            "😀", "\\\"", "\\\\", "{\"", "\"}", "null",
        ];
        let mut text = String::from("[");
        while text.len() < len {
            text.push_str(rng.pick(PIECES));
        }
        text
    }

    /// A random valid JSON value: nested objects and arrays, strings with escapes (quotes,
    /// backslashes, `\u`), brackets and non-ASCII text inside strings, numbers, literals.
    fn value(rng: &mut Rng, depth: usize, out: &mut String) {
        match rng.below(if depth > 3 { 3 } else { 6 }) {
            0 => string(rng, out),
            1 => out.push_str(rng.pick(&["0", "-12", "3.5e-7", "true", "false", "null"])),
            2 => string(rng, out),
            3 | 4 => {
                out.push('{');
                for i in 0..rng.below(6) {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(rng.pick(&["", " ", "\n  "]));
                    string(rng, out);
                    out.push_str(rng.pick(&[":", " : "]));
                    value(rng, depth + 1, out);
                }
                out.push('}');
            }
            _ => {
                out.push('[');
                for i in 0..rng.below(5) {
                    if i > 0 {
                        out.push_str(rng.pick(&[",", ", "]));
                    }
                    value(rng, depth + 1, out);
                }
                out.push(']');
            }
        }
    }

    fn string(rng: &mut Rng, out: &mut String) {
        const PIECES: &[&str] = &[
            "a",
            "key",
            "arn:aws:iam::123456789012:role/x",
            "{",
            "}",
            "[",
            "]",
            ",",
            ":",
            " ",
            "\\\"",
            "\\\\",
            "\\/",
            "\\n",
            "\\u00e9",
            "\\ud83d\\ude00",
            "é",
            "日本",
            "😀",
            "\\\\\\\"",
            "Mozilla/5.0 (X11; Linux x86_64)",
        ];
        out.push('"');
        for _ in 0..rng.below(40) {
            out.push_str(rng.pick(PIECES));
        }
        out.push('"');
    }

    fn valid_array(rng: &mut Rng, elements: usize) -> String {
        let mut text = String::from("[");
        for i in 0..elements {
            if i > 0 {
                text.push_str(rng.pick(&[",", ",\n", " , "]));
            }
            value(rng, 0, &mut text);
        }
        text.push(']');
        text
    }

    #[test]
    fn any_text_is_split_exactly_as_the_careful_scanner_does() {
        let mut rng = Rng(0x5eed_1234_abcd_0001);
        for case in 0..20_000 {
            let len = rng.below(if case % 10 == 0 { 2_000 } else { 300 });
            let text = noise(&mut rng, len);
            assert_eq!(
                fast(text.as_bytes(), 0),
                careful(text.as_bytes(), 0),
                "{text:?}"
            );
        }
    }

    #[test]
    fn valid_documents_are_split_as_sonic_rs_does() {
        let mut rng = Rng(0x5eed_1234_abcd_0002);
        for _ in 0..2_000 {
            let elements = rng.below(8);
            let text = valid_array(&mut rng, elements);
            assert!(
                sonic_rs::from_str::<sonic_rs::Value>(&text).is_ok(),
                "{text}"
            );
            let split = fast(text.as_bytes(), 0);
            assert_eq!(raw(&text, &split), sonic(&text), "{text}");
            assert_eq!(split, careful(text.as_bytes(), 0));
        }
    }

    #[test]
    fn damaged_documents_are_split_as_the_careful_scanner_does() {
        let mut rng = Rng(0x5eed_1234_abcd_0003);
        for _ in 0..3_000 {
            let text = valid_array(&mut rng, 4);
            let mut bytes = text.into_bytes();
            for _ in 0..1 + rng.below(3) {
                if bytes.is_empty() {
                    break;
                }
                let at = rng.below(bytes.len());
                match rng.below(3) {
                    0 => {
                        bytes.remove(at);
                    }
                    1 => bytes.insert(at, b"\"\\{}[],"[rng.below(7)]),
                    _ => bytes.truncate(at),
                }
            }
            assert_eq!(
                fast(&bytes, 0),
                careful(&bytes, 0),
                "{:?}",
                String::from_utf8_lossy(&bytes)
            );
        }
    }

    #[test]
    fn blocks_are_classified_as_byte_by_byte() {
        let mut rng = Rng(0x5eed_1234_abcd_0004);
        for _ in 0..2_000 {
            let block: Vec<u8> = (0..BLOCK)
                .map(|_| match rng.below(4) {
                    0 => b"\"\\{}[]"[rng.below(6)],
                    1 => b"{[}]"[rng.below(4)] ^ 0x80,
                    _ => rng.next() as u8,
                })
                .collect();
            let (fast, slow) = (Masks::of_block(&block), Masks::of_bytes(&block));
            assert_eq!(
                (fast.quote, fast.backslash, fast.open, fast.close),
                (slow.quote, slow.backslash, slow.open, slow.close),
                "{block:?}"
            );
        }
    }

    #[test]
    fn escapes_are_followed_across_block_boundaries() {
        // A string whose escaped quote, escaped backslash or run of backslashes falls on
        // every position around the 64-byte blocks.
        for pad in 0..(3 * BLOCK) {
            for tail in [r#"\""#, r#"\\"#, r#"\\\""#, r#"\\\\"#, r#"\"}]{["#] {
                let text = format!(
                    r#"[{{"k":"{}{tail}","n":[1,{{"x":"]"}}]}},{{"b":"{}"}}]"#,
                    "a".repeat(pad),
                    "\\\"".repeat(pad % 7)
                );
                let split = fast(text.as_bytes(), 0);
                assert_eq!(raw(&text, &split), sonic(&text), "{text}");
                assert_eq!(split, careful(text.as_bytes(), 0), "{text}");
            }
        }
    }

    #[test]
    fn real_records_are_split_as_sonic_rs_does() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/aws-samples");
        let mut records = Vec::new();
        let mut folders = vec![std::path::PathBuf::from(root)];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(folder).expect("fixture folder") {
                let path = entry.expect("fixture entry").path();
                if path.is_dir() {
                    folders.push(path);
                } else if path.extension().is_some_and(|e| e == "json") {
                    let text = std::fs::read_to_string(&path).expect("fixture");
                    records.push(text.trim().to_string());
                }
            }
        }
        assert!(records.len() > 50, "{} sample files", records.len());
        // Every sample as an element (pretty-printed as in the docs), then compacted.
        let pretty = format!("[\n{}\n]", records.join(",\n"));
        let compact = format!(
            "[{}]",
            records
                .iter()
                .map(|r| sonic_rs::from_str::<sonic_rs::Value>(r).expect("valid sample"))
                .map(|v| sonic_rs::to_string(&v).expect("serialisable"))
                .collect::<Vec<_>>()
                .join(",")
        );
        for text in [pretty, compact] {
            let split = fast(text.as_bytes(), 0);
            assert_eq!(split.len(), records.len());
            assert_eq!(raw(&text, &split), sonic(&text));
            assert_eq!(split, careful(text.as_bytes(), 0));
        }
        // Sample documents that are arrays themselves (or hold one), split from their `[`.
        for record in &records {
            if let Some(open) = record.find('[') {
                assert_eq!(
                    fast(record.as_bytes(), open),
                    careful(record.as_bytes(), open)
                );
            }
        }
    }
}
