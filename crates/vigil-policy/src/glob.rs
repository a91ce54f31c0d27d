//! IAM wildcard patterns: `*` (any run of characters, also empty) and `?` (one character).
//!
//! Written here rather than taken from a crate (`wildmatch`, `globset`) because IAM needs a
//! literal `*`/`?`/`$` inside a pattern: the policy variables `${*}`, `${?}` and `${$}` stand
//! for the characters themselves, which those crates cannot express. A pattern is compiled
//! once into tokens; matching is the classic linear backtracking over the last star.

/// One element of a compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Token {
    Char(char),
    AnyOne,
    AnyRun,
}

/// A compiled wildcard pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Glob {
    tokens: Vec<Token>,
    case_insensitive: bool,
}

impl Glob {
    /// Compile `pattern`, where every `*` and `?` is a wildcard.
    pub(crate) fn new(pattern: &str, case_insensitive: bool) -> Self {
        let tokens = pattern
            .chars()
            .map(|c| match c {
                '*' => Token::AnyRun,
                '?' => Token::AnyOne,
                c => Token::Char(fold(c, case_insensitive)),
            })
            .collect();
        Glob::from_tokens(tokens, case_insensitive)
    }

    /// A pattern from tokens already built (policy variables give literal `*` and `?`).
    pub(crate) fn from_tokens(tokens: Vec<Token>, case_insensitive: bool) -> Self {
        let tokens = tokens
            .into_iter()
            .map(|t| match t {
                Token::Char(c) => Token::Char(fold(c, case_insensitive)),
                other => other,
            })
            .collect();
        Glob {
            tokens,
            case_insensitive,
        }
    }

    /// Does the whole of `text` match?
    pub(crate) fn matches(&self, text: &str) -> bool {
        let text: Vec<char> = text
            .chars()
            .map(|c| fold(c, self.case_insensitive))
            .collect();
        let (mut t, mut p) = (0usize, 0usize);
        let mut star: Option<(usize, usize)> = None;
        while t < text.len() {
            match self.tokens.get(p) {
                Some(Token::AnyRun) => {
                    star = Some((p, t));
                    p += 1;
                }
                Some(Token::AnyOne) => {
                    p += 1;
                    t += 1;
                }
                Some(Token::Char(c)) if *c == text[t] => {
                    p += 1;
                    t += 1;
                }
                _ => match star {
                    Some((sp, st)) => {
                        p = sp + 1;
                        t = st + 1;
                        star = Some((sp, st + 1));
                    }
                    None => return false,
                },
            }
        }
        self.tokens[p..].iter().all(|tok| *tok == Token::AnyRun)
    }

    /// True when the pattern has no wildcard at all.
    pub(crate) fn is_literal(&self) -> bool {
        self.tokens.iter().all(|t| matches!(t, Token::Char(_)))
    }

    /// True when the pattern matches every string (it is made only of `*`).
    pub(crate) fn matches_everything(&self) -> bool {
        !self.tokens.is_empty() && self.tokens.iter().all(|t| *t == Token::AnyRun)
    }

    /// The literal characters before the first wildcard.
    pub(crate) fn literal_prefix(&self) -> String {
        self.tokens
            .iter()
            .map_while(|t| match t {
                Token::Char(c) => Some(*c),
                _ => None,
            })
            .collect()
    }

    /// Sound test that every string matched by `other` is matched by `self`. False negatives
    /// are allowed (the caller then treats the patterns as not nested); false positives are
    /// not.
    pub(crate) fn covers(&self, other: &Glob) -> bool {
        if self.matches_everything() {
            return true;
        }
        if other.is_literal() {
            let text: String = other
                .tokens
                .iter()
                .filter_map(|t| match t {
                    Token::Char(c) => Some(*c),
                    _ => None,
                })
                .collect();
            return self.matches(&text);
        }
        if self.tokens == other.tokens {
            return true;
        }
        // `prefix*` covers any pattern that starts with the same literal prefix.
        let n = self.tokens.len();
        if n > 0
            && self.tokens[n - 1] == Token::AnyRun
            && self.tokens[..n - 1]
                .iter()
                .all(|t| matches!(t, Token::Char(_)))
        {
            let prefix = &self.tokens[..n - 1];
            return other.tokens.len() >= prefix.len() && &other.tokens[..prefix.len()] == prefix;
        }
        false
    }
}

fn fold(c: char, case_insensitive: bool) -> char {
    if case_insensitive {
        c.to_ascii_lowercase()
    } else {
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_and_question_mark() {
        let g = Glob::new("arn:aws:s3:::b/*", false);
        assert!(g.matches("arn:aws:s3:::b/x/y"));
        assert!(g.matches("arn:aws:s3:::b/"));
        assert!(!g.matches("arn:aws:s3:::bb/x"));
        let q = Glob::new("a?c", false);
        assert!(q.matches("abc"));
        assert!(!q.matches("ac"));
        assert!(Glob::new("*a*b", false).matches("xaxxb"));
        assert!(!Glob::new("*a*b", false).matches("xaxxbc"));
    }

    #[test]
    fn case_folding_only_when_asked() {
        assert!(Glob::new("s3:get*", true).matches("S3:GetObject"));
        assert!(!Glob::new("s3:get*", false).matches("S3:GetObject"));
    }

    #[test]
    fn literal_star_from_variable_is_not_a_wildcard() {
        let g = Glob::from_tokens(vec![Token::Char('a'), Token::Char('*')], false);
        assert!(g.matches("a*"));
        assert!(!g.matches("ab"));
    }

    #[test]
    fn covers_is_sound_on_prefixes() {
        let all = Glob::new("*", true);
        let get = Glob::new("s3:get*", true);
        let obj = Glob::new("s3:getobject", true);
        assert!(all.covers(&get));
        assert!(get.covers(&obj));
        assert!(get.covers(&Glob::new("s3:getobject*", true)));
        assert!(!obj.covers(&get));
        assert!(!get.covers(&Glob::new("s3:*", true)));
    }
}
