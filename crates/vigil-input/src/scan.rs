//! A structural JSON scanner: finds where values begin and end by following only strings and
//! brackets, without parsing them. It splits a document into its records so that each record
//! is parsed on its own (one bad record is rejected, the rest still read) and so that the
//! record text is borrowed from the document instead of copied.

use std::ops::Range;

/// Why the structure of a document could not be followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScanError {
    /// The document ends inside a value.
    UnexpectedEnd,
    /// A byte that cannot appear here.
    Unexpected { at: usize, found: u8 },
}

impl std::fmt::Display for ScanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScanError::UnexpectedEnd => {
                f.write_str("malformed JSON: the document ends inside a value")
            }
            ScanError::Unexpected { at, found } => write!(
                f,
                "malformed JSON at byte {at}: unexpected {}",
                describe_byte(*found)
            ),
        }
    }
}

fn describe_byte(byte: u8) -> String {
    match byte {
        0x21..=0x7e => format!("`{}`", byte as char),
        _ => format!("byte 0x{byte:02x}"),
    }
}

fn is_ws(byte: u8) -> bool {
    matches!(byte, b' ' | b'\n' | b'\r' | b'\t')
}

/// The index of the first non-whitespace byte at or after `at` (or `bytes.len()`).
pub(crate) fn skip_ws(bytes: &[u8], at: usize) -> usize {
    let rest = bytes.get(at..).unwrap_or_default();
    at + rest.iter().position(|&b| !is_ws(b)).unwrap_or(rest.len())
}

/// The end (exclusive) of the string whose opening quote is at `at`.
fn string_end(bytes: &[u8], at: usize) -> Result<usize, ScanError> {
    let mut i = at + 1;
    loop {
        let rest = bytes.get(i..).ok_or(ScanError::UnexpectedEnd)?;
        let found = memchr::memchr2(b'"', b'\\', rest).ok_or(ScanError::UnexpectedEnd)?;
        match rest.get(found) {
            Some(b'"') => return Ok(i + found + 1),
            // A backslash escapes the byte after it, whatever it is.
            _ => i += found + 2,
        }
    }
}

/// The end (exclusive) of the object or array whose opening bracket is at `at`. Brackets
/// are only counted, not matched by kind: a mismatch is the parser's to report.
fn container_end(bytes: &[u8], at: usize) -> Result<usize, ScanError> {
    let mut depth = 0usize;
    let mut i = at;
    while let Some(&byte) = bytes.get(i) {
        match byte {
            b'"' => {
                i = string_end(bytes, i)?;
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Ok(i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    Err(ScanError::UnexpectedEnd)
}

/// The end (exclusive) of the value starting at `at` (which must not be whitespace).
pub(crate) fn value_end(bytes: &[u8], at: usize) -> Result<usize, ScanError> {
    match bytes.get(at) {
        None => Err(ScanError::UnexpectedEnd),
        Some(b'"') => string_end(bytes, at),
        Some(b'{' | b'[') => container_end(bytes, at),
        Some(&found @ (b'}' | b']' | b',' | b':')) => Err(ScanError::Unexpected { at, found }),
        Some(_) => {
            let rest = bytes.get(at..).unwrap_or_default();
            let len = rest
                .iter()
                .position(|&b| is_ws(b) || matches!(b, b',' | b'}' | b']'))
                .unwrap_or(rest.len());
            Ok(at + len)
        }
    }
}

/// Whether `bytes` holds exactly one JSON value, surrounded by whitespace only.
pub(crate) fn is_single_value(bytes: &[u8]) -> bool {
    let start = skip_ws(bytes, 0);
    match value_end(bytes, start) {
        Ok(end) => skip_ws(bytes, end) == bytes.len(),
        Err(_) => false,
    }
}

/// How the end of one element is found: [`value_end`], or a faster equivalent.
pub(crate) type ValueEnd = fn(&[u8], usize) -> Result<usize, ScanError>;

/// The elements of the array whose `[` is at `open`, as byte ranges. After an error the
/// iterator ends: without the structure there is no telling where the next element starts.
pub(crate) struct Elements<'a> {
    bytes: &'a [u8],
    at: usize,
    first: bool,
    done: bool,
    value_end: ValueEnd,
}

impl<'a> Elements<'a> {
    pub(crate) fn new(bytes: &'a [u8], open: usize) -> Self {
        Self::with_value_end(bytes, open, value_end)
    }

    /// The same elements, each element's end found by `value_end`, which must answer
    /// exactly what [`value_end`] answers (`split.rs` finds it faster).
    pub(crate) fn with_value_end(bytes: &'a [u8], open: usize, value_end: ValueEnd) -> Self {
        Elements {
            bytes,
            at: open + 1,
            first: true,
            done: false,
            value_end,
        }
    }

    fn step(&mut self) -> Result<Option<Range<usize>>, ScanError> {
        let mut i = skip_ws(self.bytes, self.at);
        match self.bytes.get(i) {
            None => return Err(ScanError::UnexpectedEnd),
            Some(b']') => return Ok(None),
            Some(b',') if !self.first => i = skip_ws(self.bytes, i + 1),
            Some(&found) if !self.first => return Err(ScanError::Unexpected { at: i, found }),
            Some(_) => {}
        }
        self.first = false;
        let end = (self.value_end)(self.bytes, i)?;
        self.at = end;
        Ok(Some(i..end))
    }
}

impl Iterator for Elements<'_> {
    type Item = Result<Range<usize>, ScanError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let step = self.step();
        if !matches!(step, Ok(Some(_))) {
            self.done = true;
        }
        step.transpose()
    }
}

/// The top-level entries of the object whose `{` is at `open`: each key as written (with its
/// quotes) and where its value begins. A value is skipped only when the next entry is asked
/// for, so a caller can stop at a key whose value is broken further on.
pub(crate) struct Entries<'a> {
    bytes: &'a [u8],
    at: usize,
    pending_value: Option<usize>,
    done: bool,
}

impl<'a> Entries<'a> {
    pub(crate) fn new(bytes: &'a [u8], open: usize) -> Self {
        Entries {
            bytes,
            at: open + 1,
            pending_value: None,
            done: false,
        }
    }

    fn step(&mut self) -> Result<Option<(Range<usize>, usize)>, ScanError> {
        let bytes = self.bytes;
        let mut i = skip_ws(bytes, self.at);
        if let Some(value) = self.pending_value.take() {
            i = skip_ws(bytes, value_end(bytes, value)?);
            match bytes.get(i) {
                Some(b',') => i = skip_ws(bytes, i + 1),
                Some(b'}') => return Ok(None),
                Some(&found) => return Err(ScanError::Unexpected { at: i, found }),
                None => return Err(ScanError::UnexpectedEnd),
            }
        } else if bytes.get(i) == Some(&b'}') {
            return Ok(None);
        }
        match bytes.get(i) {
            Some(b'"') => {}
            Some(&found) => return Err(ScanError::Unexpected { at: i, found }),
            None => return Err(ScanError::UnexpectedEnd),
        }
        let key = i..string_end(bytes, i)?;
        i = skip_ws(bytes, key.end);
        match bytes.get(i) {
            Some(b':') => {}
            Some(&found) => return Err(ScanError::Unexpected { at: i, found }),
            None => return Err(ScanError::UnexpectedEnd),
        }
        let value = skip_ws(bytes, i + 1);
        self.pending_value = Some(value);
        self.at = value;
        Ok(Some((key, value)))
    }
}

impl Iterator for Entries<'_> {
    type Item = Result<(Range<usize>, usize), ScanError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let step = self.step();
        if !matches!(step, Ok(Some(_))) {
            self.done = true;
        }
        step.transpose()
    }
}

/// Where the value of the first top-level key of the object at `open` that is in `wanted`
/// begins, with that key. Keys are compared as written (the keys vigil looks for have no
/// escapes). `None` when no key matches before the end or before the structure breaks.
pub(crate) fn find_key<'k>(
    bytes: &[u8],
    open: usize,
    wanted: &[&'k str],
) -> Option<(&'k str, usize)> {
    for entry in Entries::new(bytes, open) {
        let (key, value) = entry.ok()?;
        let name = bytes.get(key.start + 1..key.end - 1)?;
        if let Some(found) = wanted.iter().find(|w| w.as_bytes() == name) {
            return Some((found, value));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn elements(text: &str) -> Vec<Result<&str, ScanError>> {
        let open = text.find('[').unwrap();
        Elements::new(text.as_bytes(), open)
            .map(|r| r.map(|range| &text[range]))
            .collect()
    }

    #[test]
    fn elements_are_split_around_strings_with_brackets_and_escapes() {
        let text = r#"[ {"a":"x]}\"[{"}, [1,2] ,"s\\",-3.5e2,true , null ]"#;
        let found: Vec<_> = elements(text).into_iter().map(Result::unwrap).collect();
        assert_eq!(
            found,
            vec![
                r#"{"a":"x]}\"[{"}"#,
                "[1,2]",
                r#""s\\""#,
                "-3.5e2",
                "true",
                "null"
            ]
        );
        assert!(elements("[]").is_empty());
        assert!(elements(" [ \n ] ").is_empty());
    }

    #[test]
    fn a_syntax_error_inside_an_element_does_not_stop_the_split() {
        let found = elements(r#"[{"a" 1}, {"b": tru}, {"c": 3}]"#);
        assert_eq!(found.len(), 3);
        assert_eq!(found[2], Ok(r#"{"c": 3}"#));
    }

    #[test]
    fn broken_structure_ends_with_an_error() {
        let found = elements(r#"[{"a": 1} {"b": 2}]"#);
        assert_eq!(found[0], Ok(r#"{"a": 1}"#));
        assert_eq!(
            found[1],
            Err(ScanError::Unexpected {
                at: 10,
                found: b'{'
            })
        );
        assert_eq!(found.len(), 2);
        let truncated = elements(r#"[{"a": 1}, {"b": "#);
        assert_eq!(truncated.last(), Some(&Err(ScanError::UnexpectedEnd)));
    }

    #[test]
    fn keys_are_found_at_the_top_level_only() {
        let text = br#"{"NextToken": "x", "inner": {"Records": 1}, "Events": [1]}"#;
        let (key, at) = find_key(text, 0, &["Records", "Events"]).unwrap();
        assert_eq!(key, "Events");
        assert_eq!(text[at], b'[');
        assert_eq!(find_key(br#"{"a": 1}"#, 0, &["Records"]), None);
        assert_eq!(
            find_key(br#"{"a" 1, "Records": []}"#, 0, &["Records"]),
            None
        );
    }

    #[test]
    fn entries_stop_at_a_broken_value_only_when_it_is_skipped() {
        let text = br#"{"Records": [{"a": 1}, {"b": ], "x": 1}"#;
        let mut entries = Entries::new(text, 0);
        let (key, value) = entries.next().unwrap().unwrap();
        assert_eq!(&text[key], br#""Records""#);
        assert_eq!(text[value], b'[');
        assert!(entries.next().unwrap().is_err());
        assert!(entries.next().is_none());
        let keys: Vec<_> = Entries::new(br#"{ "a" : "}", "b":{"c":[]} }"#, 0)
            .map(|e| e.unwrap().0.len())
            .collect();
        assert_eq!(keys, vec![3, 3]);
    }

    /// A plain state machine over every byte, to check the skipping scanner against.
    fn slow_container_end(bytes: &[u8], at: usize) -> Result<usize, ScanError> {
        let (mut depth, mut i, mut in_string) = (0usize, at, false);
        while let Some(&b) = bytes.get(i) {
            match (in_string, b) {
                (true, b'\\') => i += 1,
                (true, b'"') => in_string = false,
                (false, b'"') => in_string = true,
                (false, b'{' | b'[') => depth += 1,
                (false, b'}' | b']') => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(i + 1);
                    }
                }
                _ => {}
            }
            i += 1;
        }
        Err(ScanError::UnexpectedEnd)
    }

    #[test]
    fn skipping_scanner_agrees_with_a_byte_state_machine() {
        let alphabet = br#"{}[]"\ab:,{}"\"#;
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            let len = 1 + (state % 40) as usize;
            let mut text = vec![b'{'];
            for _ in 0..len {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                text.push(alphabet[(state % alphabet.len() as u64) as usize]);
            }
            assert_eq!(
                container_end(&text, 0),
                slow_container_end(&text, 0),
                "{:?}",
                String::from_utf8_lossy(&text)
            );
        }
    }

    #[test]
    fn single_values_are_told_from_partial_ones() {
        assert!(is_single_value(br#" {"a": [1, "}"]} "#));
        assert!(!is_single_value(br#"{"a": [1, "}"]"#));
        assert!(!is_single_value(br#"{"a": 1} {"b": 2}"#));
        assert!(!is_single_value(b""));
    }
}
