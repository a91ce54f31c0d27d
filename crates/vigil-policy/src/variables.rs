//! Policy variables: `${aws:username}`, `${aws:PrincipalTag/team, 'default'}`, and the
//! escapes `${*}`, `${?}`, `${$}` for the literal characters. Only policies with
//! `"Version": "2012-10-17"` substitute them; under other versions the text is literal.
//!
//! A variable whose key is absent from the request and has no default cannot be resolved;
//! the IAM documentation says the statement is then invalid, so callers treat the
//! statement as not matching.

use crate::glob::{Glob, Token};
use crate::model::PolicyVersion;

/// A part of a value that may hold variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    /// Text as written; in a pattern its `*` and `?` are wildcards.
    Text(String),
    /// `${key}` or `${key, 'default'}`.
    Variable {
        key: String,
        default: Option<String>,
    },
    /// `${*}`, `${?}` or `${$}`: the character itself, never a wildcard.
    Literal(char),
}

/// Split `value` into segments. Without variable support, the whole value is text.
pub(crate) fn segments(value: &str, version: PolicyVersion) -> Vec<Segment> {
    if !version.supports_variables() || !value.contains("${") {
        return vec![Segment::Text(value.to_string())];
    }
    let mut out = Vec::new();
    let mut text = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        let Some(len) = rest[start + 2..].find('}') else {
            break;
        };
        text.push_str(&rest[..start]);
        let inner = rest[start + 2..start + 2 + len].trim();
        if !text.is_empty() {
            out.push(Segment::Text(std::mem::take(&mut text)));
        }
        out.push(variable(inner));
        rest = &rest[start + 2 + len + 1..];
    }
    text.push_str(rest);
    if !text.is_empty() {
        out.push(Segment::Text(text));
    }
    out
}

fn variable(inner: &str) -> Segment {
    match inner {
        "*" => return Segment::Literal('*'),
        "?" => return Segment::Literal('?'),
        "$" => return Segment::Literal('$'),
        _ => {}
    }
    match inner.split_once(',') {
        Some((key, default)) => {
            let default = default.trim();
            let default = default
                .strip_prefix('\'')
                .and_then(|d| d.strip_suffix('\''))
                .unwrap_or(default);
            Segment::Variable {
                key: key.trim().to_string(),
                default: Some(default.to_string()),
            }
        }
        None => Segment::Variable {
            key: inner.to_string(),
            default: None,
        },
    }
}

/// True when the value holds a variable that needs the request (not just an escape).
pub(crate) fn has_variables(value: &str, version: PolicyVersion) -> bool {
    segments(value, version)
        .iter()
        .any(|s| matches!(s, Segment::Variable { .. }))
}

/// Resolve to plain text (for equality operators). `None` when a variable is unresolved.
pub(crate) fn resolve_text(
    value: &str,
    version: PolicyVersion,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Option<String> {
    let mut out = String::new();
    for segment in segments(value, version) {
        match segment {
            Segment::Text(t) => out.push_str(&t),
            Segment::Literal(c) => out.push(c),
            Segment::Variable { key, default } => out.push_str(&lookup(&key).or(default)?),
        }
    }
    Some(out)
}

/// Resolve to a wildcard pattern: `*` and `?` written in the policy are wildcards, those
/// coming from a variable's value or an escape are literal.
pub(crate) fn resolve_glob(
    value: &str,
    version: PolicyVersion,
    case_insensitive: bool,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Option<Glob> {
    let mut tokens = Vec::new();
    for segment in segments(value, version) {
        match segment {
            Segment::Text(t) => tokens.extend(t.chars().map(|c| match c {
                '*' => Token::AnyRun,
                '?' => Token::AnyOne,
                c => Token::Char(c),
            })),
            Segment::Literal(c) => tokens.push(Token::Char(c)),
            Segment::Variable { key, default } => {
                tokens.extend(lookup(&key).or(default)?.chars().map(Token::Char))
            }
        }
    }
    Some(Glob::from_tokens(tokens, case_insensitive))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(key: &str) -> Option<String> {
        (key == "aws:username").then(|| "alice".to_string())
    }

    #[test]
    fn substitutes_known_and_default_values() {
        let v = PolicyVersion::V2012_10_17;
        assert_eq!(
            resolve_text("home/${aws:username}/", v, &lookup).as_deref(),
            Some("home/alice/")
        );
        assert_eq!(
            resolve_text("${aws:PrincipalTag/team, 'shared'}", v, &lookup).as_deref(),
            Some("shared")
        );
        assert_eq!(resolve_text("${aws:PrincipalTag/team}", v, &lookup), None);
    }

    #[test]
    fn old_version_keeps_variables_literal() {
        let v = PolicyVersion::V2008_10_17;
        assert_eq!(
            resolve_text("${aws:username}", v, &lookup).as_deref(),
            Some("${aws:username}")
        );
        assert!(!has_variables("${aws:username}", v));
    }

    #[test]
    fn escapes_are_literal_characters_in_patterns() {
        let v = PolicyVersion::V2012_10_17;
        let g = resolve_glob("a${*}b*", v, false, &lookup).unwrap();
        assert!(g.matches("a*bzz"));
        assert!(!g.matches("axbzz"));
        assert_eq!(resolve_text("${$}{x}", v, &lookup).as_deref(), Some("${x}"));
    }
}
