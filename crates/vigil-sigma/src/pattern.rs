//! Sigma string values: wildcards (`*`, `?`) and escapes (`\*`, `\?`, `\\`), compiled to the
//! cheapest string matcher at load time.

use memchr::memmem::Finder;
use regex::Regex;
use rustc_hash::FxHashSet;

use crate::matcher::ValueTest;
use crate::memo::Memo;
use crate::prefilter;
use crate::text;

/// One element of a Sigma string value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tok {
    Lit(char),
    /// `*`: any run of characters, possibly empty.
    Star,
    /// `?`: exactly one character.
    One,
}

/// Splits a Sigma value into literal characters and wildcards, resolving escapes as the
/// specification says: `\` escapes `*`, `?` and `\`; any other backslash is literal.
pub(crate) fn tokenize(value: &str) -> Vec<Tok> {
    let mut toks = Vec::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.peek() {
                Some(&next @ ('*' | '?' | '\\')) => {
                    chars.next();
                    toks.push(Tok::Lit(next));
                }
                _ => toks.push(Tok::Lit('\\')),
            },
            '*' => toks.push(Tok::Star),
            '?' => toks.push(Tok::One),
            other => toks.push(Tok::Lit(other)),
        }
    }
    toks
}

/// Literal tokens of a plain string.
pub(crate) fn literal(value: &str) -> Vec<Tok> {
    value.chars().map(Tok::Lit).collect()
}

/// The literal text of tokens, `None` if they hold a wildcard.
pub(crate) fn literal_text(toks: &[Tok]) -> Option<String> {
    toks.iter()
        .map(|t| match t {
            Tok::Lit(c) => Some(*c),
            _ => None,
        })
        .collect()
}

/// A compiled string test.
#[derive(Debug, Clone)]
pub(crate) enum StrMatch {
    /// `*`: any string.
    Any,
    Exact {
        needle: Box<str>,
        cased: bool,
    },
    Prefix {
        needle: Box<str>,
        cased: bool,
    },
    Suffix {
        needle: Box<str>,
        cased: bool,
    },
    Contains {
        finder: Box<Finder<'static>>,
        cased: bool,
    },
    /// Several case-insensitive plain values of one field (see [`merge_exact`]), lower-cased.
    ExactSet(Box<FxHashSet<Box<str>>>),
    /// A general wildcard pattern or a `re` value.
    Regex(Box<RegexMatch>),
}

/// The fewest neighbouring case-insensitive plain values worth one hash lookup instead of a
/// comparison each (`eventSource: [iam.amazonaws.com, sts.amazonaws.com, ...]`).
const EXACT_SET_MIN: usize = 4;

/// Joins each run of at least [`EXACT_SET_MIN`] neighbouring case-insensitive plain values
/// into one [`StrMatch::ExactSet`]: the tests of a list are alternatives without side
/// effects, so a run of them answers the same as one set lookup of the lower-cased value.
pub(crate) fn merge_exact(tests: Vec<ValueTest>) -> Vec<ValueTest> {
    let mut merged = Vec::with_capacity(tests.len());
    let mut run: Vec<Box<str>> = Vec::new();
    for test in tests {
        match test {
            ValueTest::Str(StrMatch::Exact {
                needle,
                cased: false,
            }) => run.push(needle),
            other => {
                flush_exact(&mut run, &mut merged);
                merged.push(other);
            }
        }
    }
    flush_exact(&mut run, &mut merged);
    merged
}

fn flush_exact(run: &mut Vec<Box<str>>, out: &mut Vec<ValueTest>) {
    if run.len() >= EXACT_SET_MIN {
        let set = run.drain(..).collect();
        out.push(ValueTest::Str(StrMatch::ExactSet(Box::new(set))));
    } else {
        out.extend(run.drain(..).map(|needle| {
            ValueTest::Str(StrMatch::Exact {
                needle,
                cased: false,
            })
        }));
    }
}

/// A compiled regex and the literals every match of it contains, tested first.
#[derive(Debug, Clone)]
pub(crate) struct RegexMatch {
    regex: Regex,
    /// The builder's flags the regex was compiled with (case-insensitive, multi-line, dot
    /// matches new line), which its source does not show: two regexes are the same test only
    /// when source and flags are equal (see [`crate::share`]). Read through `Debug` only.
    #[allow(dead_code)]
    flags: [bool; 3],
    required: Box<[Finder<'static>]>,
}

impl RegexMatch {
    /// Wraps `regex`, compiled from its source with `flags` as the builder's flags
    /// (case-insensitive, multi-line, dot matches new line).
    pub(crate) fn new(regex: Regex, flags: [bool; 3]) -> RegexMatch {
        let required = prefilter::required_literals(regex.as_str(), flags[0]);
        RegexMatch {
            regex,
            flags,
            required: required.into(),
        }
    }

    fn is_match(&self, hay: &str) -> bool {
        prefilter::admits(&self.required, hay) && self.regex.is_match(hay)
    }
}

impl StrMatch {
    /// Compiles tokens; `cased` keeps case, otherwise needles are lower-cased.
    pub(crate) fn compile(toks: &[Tok], cased: bool) -> Result<StrMatch, String> {
        let toks = collapse_stars(toks);
        let lead = toks.first() == Some(&Tok::Star);
        let trail = toks.len() > 1 && toks.last() == Some(&Tok::Star);
        let inner = &toks[usize::from(lead)..toks.len() - usize::from(trail)];
        if inner.is_empty() && lead {
            return Ok(StrMatch::Any);
        }
        let Some(text) = literal_text(inner) else {
            // The flags are inline in the source (`(?si)`).
            return glob_regex(&toks, cased)
                .map(|r| StrMatch::Regex(Box::new(RegexMatch::new(r, [false; 3]))));
        };
        let needle: Box<str> = if cased {
            text.into()
        } else {
            text.to_lowercase().into()
        };
        Ok(match (lead, trail) {
            (false, false) => StrMatch::Exact { needle, cased },
            (false, true) => StrMatch::Prefix { needle, cased },
            (true, false) => StrMatch::Suffix { needle, cased },
            (true, true) => StrMatch::Contains {
                finder: Box::new(Finder::new(needle.as_bytes()).into_owned()),
                cased,
            },
        })
    }

    /// Whether `hay` matches.
    pub(crate) fn is_match(&self, hay: &str) -> bool {
        match self {
            StrMatch::Any => true,
            StrMatch::Exact {
                needle,
                cased: true,
            } => hay == &**needle,
            StrMatch::Exact { needle, .. } => text::eq_folded(hay, needle),
            StrMatch::Prefix {
                needle,
                cased: true,
            } => hay.starts_with(&**needle),
            StrMatch::Prefix { needle, .. } => text::starts_with_folded(hay, needle),
            StrMatch::Suffix {
                needle,
                cased: true,
            } => hay.ends_with(&**needle),
            StrMatch::Suffix { needle, .. } => text::ends_with_folded(hay, needle),
            StrMatch::Contains {
                finder,
                cased: true,
            } => finder.find(hay.as_bytes()).is_some(),
            StrMatch::Contains { finder, .. } => text::contains_folded(hay, finder),
            StrMatch::ExactSet(set) => set.contains(&*fold(hay)),
            StrMatch::Regex(regex) => regex.is_match(hay),
        }
    }

    /// [`StrMatch::is_match`] on the text of the event value at address `key`, lower-casing it
    /// through `memo` for a case-insensitive `contains`: the rules that search one value (a
    /// user agent) then share one lower-cased copy.
    pub(crate) fn is_match_in(&self, hay: &str, key: usize, memo: &mut Memo<'_>) -> bool {
        match self {
            StrMatch::Contains {
                finder,
                cased: false,
            } => {
                // An ASCII value shorter than the needle cannot hold it.
                if hay.len() < finder.needle().len() && hay.is_ascii() {
                    return false;
                }
                finder.find(memo.folded(key, hay).as_bytes()).is_some()
            }
            StrMatch::ExactSet(set) => set.contains(memo.folded(key, hay)),
            _ => self.is_match(hay),
        }
    }

    /// Whether this matcher is a plain equality (one value or a set), which never looks
    /// inside an object.
    pub(crate) fn is_equality(&self) -> bool {
        matches!(self, StrMatch::Exact { .. } | StrMatch::ExactSet(_))
    }

    /// The values of a merged set of plain values (for index hints).
    pub(crate) fn exact_set(&self) -> Option<&FxHashSet<Box<str>>> {
        match self {
            StrMatch::ExactSet(set) => Some(set),
            _ => None,
        }
    }

    /// The exact value this matcher requires, if it is a plain equality (for index hints).
    pub(crate) fn exact(&self) -> Option<&str> {
        match self {
            StrMatch::Exact { needle, .. } => Some(needle),
            _ => None,
        }
    }

    /// The prefix this matcher requires, if it is a plain `startswith` (for index hints).
    pub(crate) fn prefix(&self) -> Option<&str> {
        match self {
            StrMatch::Prefix { needle, .. } => Some(needle),
            _ => None,
        }
    }
}

/// `hay` lower-cased as [`crate::memo::Memo`] does it, borrowed when it already is.
fn fold(hay: &str) -> std::borrow::Cow<'_, str> {
    if !hay.is_ascii() {
        return hay.to_lowercase().into();
    }
    if hay.bytes().any(|b| b.is_ascii_uppercase()) {
        return hay.to_ascii_lowercase().into();
    }
    hay.into()
}

fn collapse_stars(toks: &[Tok]) -> Vec<Tok> {
    let mut out: Vec<Tok> = Vec::with_capacity(toks.len());
    for &tok in toks {
        if !(tok == Tok::Star && out.last() == Some(&Tok::Star)) {
            out.push(tok);
        }
    }
    out
}

/// An anchored regex for a wildcard pattern.
fn glob_regex(toks: &[Tok], cased: bool) -> Result<Regex, String> {
    let mut source = String::from(if cased { "(?s)^" } else { "(?si)^" });
    let mut buf = [0u8; 4];
    for tok in toks {
        match tok {
            Tok::Star => source.push_str(".*"),
            Tok::One => source.push('.'),
            Tok::Lit(c) => source.push_str(&regex::escape(c.encode_utf8(&mut buf))),
        }
    }
    source.push('$');
    Regex::new(&source).map_err(|e| format!("wildcard pattern does not compile: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(value: &str) -> StrMatch {
        StrMatch::compile(&tokenize(value), false).unwrap()
    }

    #[test]
    fn escapes_follow_the_specification() {
        use Tok::*;
        assert_eq!(tokenize(r"a\*"), vec![Lit('a'), Lit('*')]);
        assert_eq!(tokenize(r"\?"), vec![Lit('?')]);
        assert_eq!(tokenize(r"\\*"), vec![Lit('\\'), Star]);
        assert_eq!(tokenize(r"\\\*"), vec![Lit('\\'), Lit('*')]);
        assert_eq!(tokenize(r"\\\\"), vec![Lit('\\'), Lit('\\')]);
        assert_eq!(
            tokenize(r"c:\x"),
            vec![Lit('c'), Lit(':'), Lit('\\'), Lit('x')]
        );
    }

    #[test]
    fn cheapest_matcher_is_chosen() {
        assert!(matches!(matcher("abc"), StrMatch::Exact { .. }));
        assert!(matches!(matcher("abc*"), StrMatch::Prefix { .. }));
        assert!(matches!(matcher("*abc"), StrMatch::Suffix { .. }));
        assert!(matches!(matcher("*abc**"), StrMatch::Contains { .. }));
        assert!(matches!(matcher("**"), StrMatch::Any));
        assert!(matches!(matcher("a*c"), StrMatch::Regex(_)));
        assert!(matches!(matcher("a?c"), StrMatch::Regex(_)));
    }

    #[test]
    fn wildcards_match_case_insensitively() {
        assert!(matcher("list*").is_match("ListBuckets"));
        assert!(!matcher("list*").is_match("GetBucket"));
        assert!(matcher("*Trail").is_match("deletetrail"));
        assert!(matcher("arn:*:root").is_match("ARN:aws:iam::1:root"));
        assert!(!matcher("arn:*:root").is_match("arn:aws:iam::1:user"));
        assert!(matcher("a?c").is_match("abc"));
        assert!(!matcher("a?c").is_match("abbc"));
        assert!(matcher(r"a\*c").is_match("a*c"));
        assert!(!matcher(r"a\*c").is_match("abc"));
        assert!(matcher("*").is_match(""));
    }

    #[test]
    fn cased_values_keep_case() {
        let cased = StrMatch::compile(&tokenize("*Browser*"), true).unwrap();
        assert!(cased.is_match("S3 Browser"));
        assert!(!cased.is_match("s3 browser"));
        let exact = StrMatch::compile(&tokenize("Root"), true).unwrap();
        assert!(!exact.is_match("root"));
        assert!(StrMatch::compile(&tokenize("a*B"), true)
            .unwrap()
            .is_match("axB"));
        assert!(!StrMatch::compile(&tokenize("a*B"), true)
            .unwrap()
            .is_match("axb"));
    }
}
