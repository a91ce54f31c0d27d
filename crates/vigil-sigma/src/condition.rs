//! The `condition:` grammar: `and`, `or`, `not`, parentheses, `1 of x*`, `all of them`,
//! `any of x`, `N of x*`, with precedence not > and > or.

/// A parsed condition, before selection names are resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    /// A selection by name.
    Selection(String),
    /// `N of target` (`all of` is `Quantity::All`).
    Of(Quantity, Target),
}

/// How many selections of an `of` expression must match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Quantity {
    All,
    AtLeast(usize),
}

/// The selections an `of` expression ranges over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// `them`: every selection not starting with `_`.
    Them,
    /// A name pattern with `*` wildcards.
    Pattern(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Open,
    Close,
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        if c.is_whitespace() || c == '(' || c == ')' {
            if !word.is_empty() {
                tokens.push(Token::Word(std::mem::take(&mut word)));
            }
            match c {
                '(' => tokens.push(Token::Open),
                ')' => tokens.push(Token::Close),
                _ => {}
            }
        } else if c.is_alphanumeric() || "_-*.".contains(c) {
            word.push(c);
        } else {
            return Err(format!("unexpected character `{c}` in condition"));
        }
    }
    if !word.is_empty() {
        tokens.push(Token::Word(word));
    }
    Ok(tokens)
}

/// Parses a condition expression (without any `| aggregation` part).
pub(crate) fn parse(text: &str) -> Result<Expr, String> {
    let tokens = tokenize(text)?;
    let mut parser = Parser { tokens, pos: 0 };
    let expr = parser.or_expr()?;
    match parser.peek() {
        None => Ok(expr),
        Some(token) => Err(format!("unexpected `{}` in condition", describe(token))),
    }
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

fn describe(token: &Token) -> &str {
    match token {
        Token::Word(w) => w,
        Token::Open => "(",
        Token::Close => ")",
    }
}

fn is_keyword(word: &str, keyword: &str) -> bool {
    word.eq_ignore_ascii_case(keyword)
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        token
    }

    fn peek_keyword(&self, keyword: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if is_keyword(w, keyword))
    }

    fn or_expr(&mut self) -> Result<Expr, String> {
        let mut terms = vec![self.and_expr()?];
        while self.peek_keyword("or") {
            self.pos += 1;
            terms.push(self.and_expr()?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Expr::Or(terms)
        })
    }

    fn and_expr(&mut self) -> Result<Expr, String> {
        let mut terms = vec![self.not_expr()?];
        while self.peek_keyword("and") {
            self.pos += 1;
            terms.push(self.not_expr()?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Expr::And(terms)
        })
    }

    fn not_expr(&mut self) -> Result<Expr, String> {
        if self.peek_keyword("not") {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.not_expr()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, String> {
        match self.next() {
            None => Err("condition ends where an expression was expected".into()),
            Some(Token::Open) => {
                let inner = self.or_expr()?;
                match self.next() {
                    Some(Token::Close) => Ok(inner),
                    _ => Err("missing `)` in condition".into()),
                }
            }
            Some(Token::Close) => Err("unexpected `)` in condition".into()),
            Some(Token::Word(word)) => self.word(word),
        }
    }

    fn word(&mut self, word: String) -> Result<Expr, String> {
        if let Some(quantity) = quantity(&word) {
            if self.peek_keyword("of") {
                self.pos += 1;
                return Ok(Expr::Of(quantity, self.target()?));
            }
        }
        if ["and", "or", "not", "of", "them"]
            .iter()
            .any(|k| is_keyword(&word, k))
        {
            return Err(format!("unexpected `{word}` in condition"));
        }
        Ok(Expr::Selection(word))
    }

    fn target(&mut self) -> Result<Target, String> {
        match self.next() {
            Some(Token::Word(w)) if is_keyword(&w, "them") => Ok(Target::Them),
            Some(Token::Word(w)) if !["and", "or", "not"].iter().any(|k| is_keyword(&w, k)) => {
                Ok(Target::Pattern(w))
            }
            _ => Err("`of` must be followed by `them` or a selection name pattern".into()),
        }
    }
}

fn quantity(word: &str) -> Option<Quantity> {
    if is_keyword(word, "all") {
        return Some(Quantity::All);
    }
    if is_keyword(word, "any") {
        return Some(Quantity::AtLeast(1));
    }
    word.parse::<usize>().ok().map(Quantity::AtLeast)
}

/// Whether a selection name matches an `of` pattern (`*` matches any run of characters).
pub(crate) fn name_matches(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let [first, middle @ .., last] = parts.as_slice() else {
        return pattern == name;
    };
    let Some(mut rest) = name.strip_prefix(first) else {
        return false;
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(name: &str) -> Expr {
        Expr::Selection(name.into())
    }

    #[test]
    fn precedence_is_not_then_and_then_or() {
        let e = parse("a or b and not c").unwrap();
        assert_eq!(
            e,
            Expr::Or(vec![
                sel("a"),
                Expr::And(vec![sel("b"), Expr::Not(Box::new(sel("c")))])
            ])
        );
        let e = parse("(a or b) and c").unwrap();
        assert_eq!(
            e,
            Expr::And(vec![Expr::Or(vec![sel("a"), sel("b")]), sel("c")])
        );
        let e = parse("not not a").unwrap();
        assert_eq!(e, Expr::Not(Box::new(Expr::Not(Box::new(sel("a"))))));
    }

    #[test]
    fn quantifiers_parse() {
        let e = parse("selection and not 1 of filter_*").unwrap();
        let of = Expr::Of(Quantity::AtLeast(1), Target::Pattern("filter_*".into()));
        assert_eq!(
            e,
            Expr::And(vec![sel("selection"), Expr::Not(Box::new(of))])
        );
        assert_eq!(
            parse("all of them").unwrap(),
            Expr::Of(Quantity::All, Target::Them)
        );
        assert_eq!(
            parse("any of x*").unwrap(),
            Expr::Of(Quantity::AtLeast(1), Target::Pattern("x*".into()))
        );
        assert_eq!(
            parse("2 of them").unwrap(),
            Expr::Of(Quantity::AtLeast(2), Target::Them)
        );
    }

    #[test]
    fn malformed_conditions_are_rejected() {
        assert!(parse("a and").is_err());
        assert!(parse("(a or b").is_err());
        assert!(parse("a b").is_err());
        assert!(parse("a )").is_err());
        assert!(parse("1 of").is_err());
        assert!(parse("a = b").is_err());
        assert!(parse("").is_err());
    }

    #[test]
    fn name_patterns_use_stars() {
        assert!(name_matches("filter_*", "filter_main"));
        assert!(name_matches("filter*", "filter"));
        assert!(!name_matches("filter_*", "selection"));
        assert!(name_matches("*_a*b", "x_a1b"));
        assert!(!name_matches("a*a", "a"));
        assert!(name_matches("exact", "exact"));
    }
}
