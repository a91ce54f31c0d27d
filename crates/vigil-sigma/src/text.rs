//! Text of JSON values and case-insensitive comparison, without allocating on the common path.
//!
//! Needles are lower-cased once when a rule is compiled. A haystack is compared with ASCII
//! case folding; only when that fails and the haystack holds non-ASCII characters is it
//! lower-cased with Unicode rules (which allocates).

use std::fmt::Write;

use memchr::memmem::Finder;
use sonic_rs::{JsonValueTrait, Value};

/// Calls `f` with the text of a JSON scalar: a string as is, a number in its shortest form,
/// a boolean as `true`/`false`. `None` for null, objects and arrays.
pub(crate) fn with_text<R>(value: &Value, f: impl FnOnce(&str) -> R) -> Option<R> {
    if let Some(s) = value.as_str() {
        return Some(f(s));
    }
    if let Some(b) = value.as_bool() {
        return Some(f(if b { "true" } else { "false" }));
    }
    if value.is_number() {
        let mut buf = NumberText::default();
        return buf.format(value).map(f);
    }
    None
}

/// The numeric value of a JSON number or of a string holding a number.
pub(crate) fn as_number(value: &Value) -> Option<f64> {
    if let Some(n) = value.as_f64() {
        return Some(n);
    }
    value.as_str().and_then(|s| s.trim().parse::<f64>().ok())
}

/// A stack buffer for formatting a number.
#[derive(Default)]
struct NumberText {
    bytes: [u8; 32],
    len: usize,
}

impl NumberText {
    fn format(&mut self, value: &Value) -> Option<&str> {
        let written = if let Some(i) = value.as_i64() {
            write!(self, "{i}")
        } else if let Some(u) = value.as_u64() {
            write!(self, "{u}")
        } else {
            write!(self, "{}", value.as_f64()?)
        };
        written.ok()?;
        std::str::from_utf8(&self.bytes[..self.len]).ok()
    }
}

impl Write for NumberText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let slot = self.bytes.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        slot.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// `hay == needle` ignoring case; `needle` is already lower-case.
pub(crate) fn eq_folded(hay: &str, needle: &str) -> bool {
    if hay.len() == needle.len() && hay.as_bytes().eq_ignore_ascii_case(needle.as_bytes()) {
        return true;
    }
    !hay.is_ascii() && hay.to_lowercase() == needle
}

/// `hay` starts with `needle` ignoring case; `needle` is already lower-case.
pub(crate) fn starts_with_folded(hay: &str, needle: &str) -> bool {
    let head = hay.as_bytes().get(..needle.len());
    if head.is_some_and(|head| head.eq_ignore_ascii_case(needle.as_bytes())) {
        return true;
    }
    !hay.is_ascii() && hay.to_lowercase().starts_with(needle)
}

/// `hay` ends with `needle` ignoring case; `needle` is already lower-case.
pub(crate) fn ends_with_folded(hay: &str, needle: &str) -> bool {
    let tail = hay
        .len()
        .checked_sub(needle.len())
        .and_then(|start| hay.as_bytes().get(start..));
    if tail.is_some_and(|tail| tail.eq_ignore_ascii_case(needle.as_bytes())) {
        return true;
    }
    !hay.is_ascii() && hay.to_lowercase().ends_with(needle)
}

thread_local! {
    /// The lower-cased copy of the value being searched, reused (values are short, but a
    /// user agent is often longer than a stack buffer worth zeroing on every call).
    static FOLDED: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// Whether lower-cased `hay` contains the (lower-cased) needle of `finder`.
pub(crate) fn contains_folded(hay: &str, finder: &Finder<'_>) -> bool {
    if !hay.is_ascii() {
        return finder.find(hay.to_lowercase().as_bytes()).is_some();
    }
    if hay.len() < finder.needle().len() {
        return false;
    }
    FOLDED.with(|folded| match folded.try_borrow_mut() {
        Ok(mut folded) => {
            folded.clear();
            folded.push_str(hay);
            folded.make_ascii_lowercase();
            finder.find(folded.as_bytes()).is_some()
        }
        Err(_) => finder.find(hay.to_ascii_lowercase().as_bytes()).is_some(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> Value {
        sonic_rs::from_str(text).unwrap()
    }

    #[test]
    fn scalar_text_for_strings_numbers_and_bools() {
        let text = |v: &str| with_text(&json(v), |s| s.to_string());
        assert_eq!(text(r#""abc""#), Some("abc".into()));
        assert_eq!(text("42"), Some("42".into()));
        assert_eq!(text("-7"), Some("-7".into()));
        assert_eq!(text("1.5"), Some("1.5".into()));
        assert_eq!(text("true"), Some("true".into()));
        assert_eq!(text("null"), None);
        assert_eq!(text("{}"), None);
    }

    #[test]
    fn folded_comparisons_ascii_and_unicode() {
        assert!(eq_folded("ConsoleLogin", "consolelogin"));
        assert!(!eq_folded("ConsoleLogin", "consolelogi"));
        assert!(eq_folded("ÉTÉ", "été"));
        assert!(starts_with_folded("DeleteTrail", "delete"));
        assert!(!starts_with_folded("Del", "delete"));
        assert!(ends_with_folded("s3.AMAZONAWS.com", "amazonaws.com"));
        assert!(!ends_with_folded("com", "amazonaws.com"));
        let finder = Finder::new(b"browser").into_owned();
        assert!(contains_folded("S3 Browser 9.5", &finder));
        assert!(!contains_folded("S3 Brow", &finder));
        let long = format!("{}S3 BROWSER", "x".repeat(600));
        assert!(contains_folded(&long, &finder));
        let accented = Finder::new("é".as_bytes()).into_owned();
        assert!(contains_folded("CAFÉ", &accented));
    }

    #[test]
    fn numbers_read_from_numbers_and_numeric_strings() {
        assert_eq!(as_number(&json("3")), Some(3.0));
        assert_eq!(as_number(&json(r#"" 4.5""#)), Some(4.5));
        assert_eq!(as_number(&json(r#""x""#)), None);
    }
}
