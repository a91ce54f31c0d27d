//! The subset of the STIX 2.1 patterning language that describes list entries: observation
//! expressions of equality (or `ISSUBSET` for networks) comparisons, joined with `OR`.
//!
//! `[ipv4-addr:value = '198.51.100.7' OR ipv4-addr:value ISSUBSET '203.0.113.0/24']
//! OR [domain-name:value = 'pool.example']` yields three values. Anything a list cannot hold
//! (`AND`, `FOLLOWEDBY`, qualifiers, `LIKE`, file hashes...) is refused with the reason.

use crate::prefix::IpPrefix;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Open,
    Close,
    Word(String),
    Operator(String),
    Literal(String),
}

/// Object paths whose value is an IP address or network.
const NETWORK_PATHS: &[&str] = &[
    "ipv4-addr:value",
    "ipv6-addr:value",
    "network-traffic:src_ref.value",
    "network-traffic:dst_ref.value",
];

/// Object paths whose value is a domain, URL or other exact text.
const TEXT_PATHS: &[&str] = &["domain-name:value", "url:value", "email-addr:value"];

/// The values a pattern lists, or why it is not supported.
pub(super) fn pattern_values(pattern: &str) -> Result<Vec<String>, String> {
    let tokens = tokenize(pattern)?;
    let mut values = Vec::new();
    let mut rest = tokens.as_slice();
    loop {
        rest = observation(rest, &mut values)?;
        match rest.split_first() {
            None => return Ok(values),
            Some((Token::Word(word), tail)) if word == "OR" => rest = tail,
            Some((token, _)) => return Err(format!("unsupported pattern: {}", describe(token))),
        }
    }
}

/// `[ comparison (OR comparison)* ]`; returns the tokens after `]`.
fn observation<'t>(tokens: &'t [Token], values: &mut Vec<String>) -> Result<&'t [Token], String> {
    let Some((Token::Open, mut rest)) = tokens.split_first() else {
        return Err("unsupported pattern: expected `[`".to_string());
    };
    loop {
        let (value, tail) = comparison(rest)?;
        values.push(value);
        match tail.split_first() {
            Some((Token::Close, after)) => return Ok(after),
            Some((Token::Word(word), after)) if word == "OR" => rest = after,
            Some((token, _)) => return Err(format!("unsupported pattern: {}", describe(token))),
            None => return Err("unsupported pattern: missing `]`".to_string()),
        }
    }
}

/// `path = 'value'` or `path ISSUBSET 'network'`.
fn comparison(tokens: &[Token]) -> Result<(String, &[Token]), String> {
    let [Token::Word(path), operator, Token::Literal(value), rest @ ..] = tokens else {
        return Err("unsupported pattern: expected `object:path = 'value'`".to_string());
    };
    let operator = match operator {
        Token::Operator(op) | Token::Word(op) => op.as_str(),
        other => return Err(format!("unsupported pattern: {}", describe(other))),
    };
    let is_network = NETWORK_PATHS.contains(&path.as_str());
    let supported = match operator {
        "=" => is_network || TEXT_PATHS.contains(&path.as_str()),
        "ISSUBSET" => is_network,
        _ => false,
    };
    if !supported {
        return Err(format!("unsupported comparison `{path} {operator}`"));
    }
    if is_network {
        IpPrefix::parse(value)?;
    }
    Ok((value.clone(), rest))
}

fn describe(token: &Token) -> String {
    match token {
        Token::Open => "unexpected `[`".to_string(),
        Token::Close => "unexpected `]`".to_string(),
        Token::Word(word) => format!("`{word}`"),
        Token::Operator(op) => format!("operator `{op}`"),
        Token::Literal(text) => format!("unexpected '{text}'"),
    }
}

fn tokenize(pattern: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = pattern.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '[' | ']' => {
                chars.next();
                tokens.push(if c == '[' { Token::Open } else { Token::Close });
            }
            '\'' => {
                chars.next();
                tokens.push(Token::Literal(literal(&mut chars)?));
            }
            '=' | '!' | '<' | '>' => {
                let end = run_end(pattern, start, |c| matches!(c, '=' | '!' | '<' | '>'));
                tokens.push(Token::Operator(pattern[start..end].to_string()));
                advance_to(&mut chars, end);
            }
            c if is_word_char(c) => {
                let end = run_end(pattern, start, is_word_char);
                tokens.push(Token::Word(pattern[start..end].to_string()));
                advance_to(&mut chars, end);
            }
            other => return Err(format!("unsupported pattern: character `{other}`")),
        }
    }
    Ok(tokens)
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.')
}

fn run_end(text: &str, start: usize, keep: impl Fn(char) -> bool) -> usize {
    text[start..]
        .char_indices()
        .find(|(_, c)| !keep(*c))
        .map_or(text.len(), |(offset, _)| start + offset)
}

fn advance_to(chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>, end: usize) {
    while chars.peek().is_some_and(|(index, _)| *index < end) {
        chars.next();
    }
}

/// A quoted string after its opening `'`, with `\'` and `\\` escapes.
fn literal(chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>) -> Result<String, String> {
    let mut text = String::new();
    while let Some((_, c)) = chars.next() {
        match c {
            '\'' => return Ok(text),
            '\\' => match chars.next() {
                Some((_, escaped @ ('\'' | '\\'))) => text.push(escaped),
                _ => return Err("invalid escape in pattern string".to_string()),
            },
            c => text.push(c),
        }
    }
    Err("unterminated string in pattern".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equality_subset_and_ors_yield_every_value() {
        let values = pattern_values(
            "[ipv4-addr:value = '198.51.100.7' OR ipv4-addr:value ISSUBSET '203.0.113.0/24'] \
             OR [domain-name:value='pool.example'] OR [ipv6-addr:value = '2001:db8::1']",
        );
        assert_eq!(
            values,
            Ok(vec![
                "198.51.100.7".to_string(),
                "203.0.113.0/24".to_string(),
                "pool.example".to_string(),
                "2001:db8::1".to_string(),
            ])
        );
    }

    #[test]
    fn escapes_in_strings() {
        assert_eq!(
            pattern_values(r"[url:value = 'http://x.example/it\'s']"),
            Ok(vec!["http://x.example/it's".to_string()])
        );
    }

    #[test]
    fn what_a_list_cannot_hold_is_refused() {
        let refused = [
            "[ipv4-addr:value = '1.2.3.4' AND domain-name:value = 'a.example']",
            "[file:hashes.'SHA-256' = 'abc']",
            "[ipv4-addr:value != '1.2.3.4']",
            "[domain-name:value ISSUBSET 'a.example']",
            "[ipv4-addr:value = 'not-an-ip']",
            "[ipv4-addr:value = '1.2.3.4'] WITHIN 5 SECONDS",
            "[ipv4-addr:value = '1.2.3.4'",
            "[ipv4-addr:value = '1.2.3.4]",
            "ipv4-addr:value = '1.2.3.4'",
            "",
        ];
        for pattern in refused {
            assert!(pattern_values(pattern).is_err(), "accepted {pattern}");
        }
    }
}
