//! `expand` placeholders: `%name%` in a value is replaced by each configured value.

use std::collections::HashMap;

use crate::value::MAX_ALTERNATIVES;

/// One piece of a value with placeholders.
enum Piece {
    Text(String),
    Placeholder(String),
}

/// Replaces `%name%` placeholders with each of their configured values (`\%` is a plain `%`).
pub(crate) fn expand(
    text: &str,
    placeholders: &HashMap<String, Vec<String>>,
) -> Result<Vec<String>, String> {
    let mut results = vec![String::new()];
    for piece in split_placeholders(text) {
        let choices: Vec<&str> = match &piece {
            Piece::Text(t) => vec![t.as_str()],
            Piece::Placeholder(name) => placeholders
                .get(name)
                .filter(|values| !values.is_empty())
                .ok_or_else(|| format!("unknown placeholder `%{name}%` (expand)"))?
                .iter()
                .map(String::as_str)
                .collect(),
        };
        if results.len() * choices.len() > MAX_ALTERNATIVES {
            return Err(format!(
                "placeholders expand to more than {MAX_ALTERNATIVES} values"
            ));
        }
        results = results
            .iter()
            .flat_map(|prefix| choices.iter().map(move |c| format!("{prefix}{c}")))
            .collect();
    }
    Ok(results)
}

fn split_placeholders(text: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("\\%") {
            literal.push('%');
            rest = after;
            continue;
        }
        let closing = rest.get(1..).and_then(|r| r.find('%'));
        if let (true, Some(end)) = (c == '%', closing) {
            pieces.push(Piece::Text(std::mem::take(&mut literal)));
            pieces.push(Piece::Placeholder(rest[1..=end].to_string()));
            rest = &rest[end + 2..];
            continue;
        }
        literal.push(c);
        rest = &rest[c.len_utf8()..];
    }
    pieces.push(Piece::Text(literal));
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_expand_and_unknown_ones_fail() {
        let mut values = HashMap::new();
        values.insert(
            "acct".to_string(),
            vec!["111".to_string(), "222".to_string()],
        );
        let out = expand("arn:%acct%:\\%x", &values).unwrap();
        assert_eq!(out, vec!["arn:111:%x", "arn:222:%x"]);
        assert_eq!(expand("100%", &values).unwrap(), vec!["100%"]);
        assert!(expand("%nope%", &values).unwrap_err().contains("%nope%"));
    }
}
