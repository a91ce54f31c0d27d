//! Literals a regular expression cannot match without, searched with `memmem` before the
//! regex runs.
//!
//! The `regex` crate already skips to one literal it picks (usually the prefix), but a rule's
//! regex is often tried on a field where that literal is common: `:assumed-role/[^/]+/i-…$` on
//! `userIdentity.arn` finds `:assumed-role/` in most events and then runs its automaton. Every
//! literal that any match must contain is a cheaper test: when one is missing, the value
//! cannot match.

use memchr::memmem::Finder;
use regex_syntax::hir::{Hir, HirKind};

/// The shortest literal worth a search of its own.
const MIN_LITERAL: usize = 2;

/// The literals that every match of `pattern` contains, for a regex compiled with the same
/// case sensitivity. Empty when the pattern does not parse here (the regex then runs alone)
/// or holds no such literal. Case-insensitive letters are classes, not literals, so they
/// never yield one.
pub(crate) fn required_literals(pattern: &str, case_insensitive: bool) -> Vec<Finder<'static>> {
    let parsed = regex_syntax::ParserBuilder::new()
        .case_insensitive(case_insensitive)
        .build()
        .parse(pattern);
    let mut literals = Vec::new();
    if let Ok(hir) = parsed {
        collect(&hir, &mut literals);
    }
    literals.sort();
    literals.dedup();
    literals
        .iter()
        .map(|literal| Finder::new(literal).into_owned())
        .collect()
}

/// Adds the literals every match of `hir` contains: those of a concatenation's parts, of a
/// group, of a repetition that must happen at least once. An alternation, or a repetition
/// that may not happen, guarantees none.
fn collect(hir: &Hir, out: &mut Vec<Vec<u8>>) {
    match hir.kind() {
        HirKind::Literal(literal) if literal.0.len() >= MIN_LITERAL => out.push(literal.0.to_vec()),
        HirKind::Concat(parts) => parts.iter().for_each(|part| collect(part, out)),
        HirKind::Capture(capture) => collect(&capture.sub, out),
        HirKind::Repetition(repetition) if repetition.min >= 1 => collect(&repetition.sub, out),
        _ => {}
    }
}

/// Whether `hay` holds every literal.
pub(crate) fn admits(literals: &[Finder<'static>], hay: &str) -> bool {
    literals
        .iter()
        .all(|literal| literal.find(hay.as_bytes()).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn literals(pattern: &str, insensitive: bool) -> Vec<String> {
        required_literals(pattern, insensitive)
            .iter()
            .map(|f| String::from_utf8_lossy(f.needle()).into_owned())
            .collect()
    }

    #[test]
    fn literals_of_concatenations_groups_and_required_repetitions() {
        assert_eq!(
            literals(r":assumed-role/[^/]+/i-[0-9a-f]{8,17}$", false),
            vec!["/i-", ":assumed-role/"]
        );
        assert_eq!(
            literals(r".+:assumed-role/aws:.+", false),
            vec![":assumed-role/aws:"]
        );
        assert_eq!(literals(r"(abc)+x(?:de)", false), vec!["abc", "xde"]);
    }

    #[test]
    fn optional_parts_alternations_and_ignored_case_give_nothing() {
        assert!(literals(r"(abc)?x", false).is_empty());
        assert!(literals(r"(abc)*x", false).is_empty());
        assert!(literals(r"abc|abd", false).is_empty());
        assert!(literals(r"abc", true).is_empty());
        assert!(literals(r"(?i)abc", false).is_empty());
        assert!(literals(r"a.c", false).is_empty());
        // Not a pattern this parser accepts: no prefilter.
        assert!(literals(r"(", false).is_empty());
    }

    #[test]
    fn a_missing_literal_rejects() {
        let required = required_literals(r":assumed-role/[^/]+/i-[0-9a-f]{8,17}$", false);
        assert!(admits(
            &required,
            "arn:aws:sts::1:assumed-role/r/i-0123456789abcdef0"
        ));
        assert!(!admits(&required, "arn:aws:sts::1:assumed-role/r/session"));
        assert!(admits(&[], "anything"));
    }
}
