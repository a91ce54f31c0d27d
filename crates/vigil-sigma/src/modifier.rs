//! Value modifiers (`field|contains|all`): parsed and checked once per selection key.

/// How a value is compared with the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MatchKind {
    /// Plain equality (with wildcards).
    Equals,
    Contains,
    StartsWith,
    EndsWith,
    /// `re` with its `i`, `m`, `s` sub-modifiers.
    Regex,
    Cidr,
    Compare(NumOp),
    Exists,
    /// `fieldref`, optionally with `contains`/`startswith`/`endswith`.
    FieldRef(StrKind),
    /// vigil's `intel`: the value names a threat-intel list.
    Intel,
}

/// The string comparison of a `fieldref`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StrKind {
    Equals,
    Contains,
    StartsWith,
    EndsWith,
}

/// A numeric comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NumOp {
    Lt,
    Lte,
    Gt,
    Gte,
    Eq,
}

impl NumOp {
    pub(crate) fn holds(self, left: f64, right: f64) -> bool {
        match self {
            NumOp::Lt => left < right,
            NumOp::Lte => left <= right,
            NumOp::Gt => left > right,
            NumOp::Gte => left >= right,
            NumOp::Eq => left == right,
        }
    }
}

/// A value transformation, applied in the order written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transform {
    Windash,
    Base64,
    Base64Offset,
    Utf16Le,
    Utf16Be,
    /// UTF-16 little endian with a byte order mark.
    Utf16Bom,
}

/// A part of a timestamp, compared as a number (`field|hour|gte: 22`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimePart {
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

/// The parsed modifier chain of one selection key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Modifiers {
    pub kind: MatchKind,
    pub transforms: Vec<Transform>,
    pub expand: bool,
    pub all: bool,
    pub cased: bool,
    pub neq: bool,
    pub time: Option<TimePart>,
    pub re_insensitive: bool,
    pub re_multiline: bool,
    pub re_dotall: bool,
}

impl Default for Modifiers {
    fn default() -> Self {
        Modifiers {
            kind: MatchKind::Equals,
            transforms: Vec::new(),
            expand: false,
            all: false,
            cased: false,
            neq: false,
            time: None,
            re_insensitive: false,
            re_multiline: false,
            re_dotall: false,
        }
    }
}

impl Modifiers {
    /// Parses a modifier chain, rejecting unknown modifiers and invalid combinations.
    pub(crate) fn parse(names: &[&str]) -> Result<Modifiers, String> {
        let mut mods = Modifiers::default();
        for name in names {
            mods.apply(name)?;
        }
        mods.check()?;
        Ok(mods)
    }

    fn apply(&mut self, name: &str) -> Result<(), String> {
        match name {
            "contains" => self.set_kind(MatchKind::Contains, name),
            "startswith" => self.set_kind(MatchKind::StartsWith, name),
            "endswith" => self.set_kind(MatchKind::EndsWith, name),
            "re" => self.set_kind(MatchKind::Regex, name),
            "cidr" => self.set_kind(MatchKind::Cidr, name),
            "lt" => self.set_kind(MatchKind::Compare(NumOp::Lt), name),
            "lte" => self.set_kind(MatchKind::Compare(NumOp::Lte), name),
            "gt" => self.set_kind(MatchKind::Compare(NumOp::Gt), name),
            "gte" => self.set_kind(MatchKind::Compare(NumOp::Gte), name),
            "exists" => self.set_kind(MatchKind::Exists, name),
            "fieldref" => self.set_kind(MatchKind::FieldRef(StrKind::Equals), name),
            "intel" => self.set_kind(MatchKind::Intel, name),
            "i" | "m" | "s" => self.set_regex_flag(name),
            "all" => set_flag(&mut self.all, name),
            "cased" => set_flag(&mut self.cased, name),
            "neq" => set_flag(&mut self.neq, name),
            "expand" => set_flag(&mut self.expand, name),
            _ => self.apply_value_modifier(name),
        }
    }

    fn apply_value_modifier(&mut self, name: &str) -> Result<(), String> {
        let transform = match name {
            "windash" => Transform::Windash,
            "base64" => Transform::Base64,
            "base64offset" => Transform::Base64Offset,
            "utf16le" | "wide" => Transform::Utf16Le,
            "utf16be" => Transform::Utf16Be,
            "utf16" => Transform::Utf16Bom,
            _ => return self.set_time_part(name),
        };
        self.transforms.push(transform);
        Ok(())
    }

    fn set_time_part(&mut self, name: &str) -> Result<(), String> {
        let part = match name {
            "minute" => TimePart::Minute,
            "hour" => TimePart::Hour,
            "day" => TimePart::Day,
            "week" => TimePart::Week,
            "month" => TimePart::Month,
            "year" => TimePart::Year,
            "" => return Err("empty modifier (`||` or a trailing `|`)".into()),
            _ => return Err(format!("unknown modifier `{name}`")),
        };
        if self.time.replace(part).is_some() {
            return Err(format!("`{name}`: only one time part modifier is allowed"));
        }
        Ok(())
    }

    fn set_regex_flag(&mut self, name: &str) -> Result<(), String> {
        if self.kind != MatchKind::Regex {
            return Err(format!(
                "`{name}` is a sub-modifier of `re` and must follow it"
            ));
        }
        match name {
            "i" => set_flag(&mut self.re_insensitive, name),
            "m" => set_flag(&mut self.re_multiline, name),
            _ => set_flag(&mut self.re_dotall, name),
        }
    }

    fn set_kind(&mut self, kind: MatchKind, name: &str) -> Result<(), String> {
        use MatchKind as K;
        let combined = match (self.kind, kind) {
            (K::Equals, k) => k,
            (K::FieldRef(StrKind::Equals), K::Contains) => K::FieldRef(StrKind::Contains),
            (K::FieldRef(StrKind::Equals), K::StartsWith) => K::FieldRef(StrKind::StartsWith),
            (K::FieldRef(StrKind::Equals), K::EndsWith) => K::FieldRef(StrKind::EndsWith),
            (K::Contains, K::FieldRef(_)) => K::FieldRef(StrKind::Contains),
            (K::StartsWith, K::FieldRef(_)) => K::FieldRef(StrKind::StartsWith),
            (K::EndsWith, K::FieldRef(_)) => K::FieldRef(StrKind::EndsWith),
            (previous, _) => {
                return Err(format!(
                    "modifier `{name}` cannot be combined with `{}`",
                    kind_name(previous)
                ))
            }
        };
        self.kind = combined;
        Ok(())
    }

    /// Combination rules that depend on the whole chain.
    fn check(&self) -> Result<(), String> {
        let string_kind = matches!(
            self.kind,
            MatchKind::Equals | MatchKind::Contains | MatchKind::StartsWith | MatchKind::EndsWith
        );
        if !self.transforms.is_empty() && !string_kind {
            return Err(format!(
                "encoding and windash modifiers only apply to string matches, not `{}`",
                kind_name(self.kind)
            ));
        }
        self.check_utf16_order()?;
        if self.time.is_some() && !matches!(self.kind, MatchKind::Equals | MatchKind::Compare(_)) {
            return Err("time part modifiers combine only with lt/lte/gt/gte or equality".into());
        }
        if self.neq && self.kind == MatchKind::Exists {
            return Err("`neq` cannot be combined with `exists`".into());
        }
        if self.expand && matches!(self.kind, MatchKind::Exists | MatchKind::FieldRef(_)) {
            return Err(format!(
                "`expand` cannot be combined with `{}`",
                kind_name(self.kind)
            ));
        }
        Ok(())
    }

    /// UTF-16 output is binary: a base64 modifier must encode it afterwards.
    fn check_utf16_order(&self) -> Result<(), String> {
        let is_utf16 = |t: &Transform| {
            matches!(
                t,
                Transform::Utf16Le | Transform::Utf16Be | Transform::Utf16Bom
            )
        };
        for (i, transform) in self.transforms.iter().enumerate() {
            let encoded_later = self.transforms[i + 1..]
                .iter()
                .any(|t| matches!(t, Transform::Base64 | Transform::Base64Offset));
            if is_utf16(transform) && !encoded_later {
                return Err(
                    "utf16 modifiers must be followed by `base64` or `base64offset`".into(),
                );
            }
        }
        Ok(())
    }
}

fn set_flag(flag: &mut bool, name: &str) -> Result<(), String> {
    if std::mem::replace(flag, true) {
        return Err(format!("modifier `{name}` is repeated"));
    }
    Ok(())
}

fn kind_name(kind: MatchKind) -> &'static str {
    match kind {
        MatchKind::Equals => "equals",
        MatchKind::Contains => "contains",
        MatchKind::StartsWith => "startswith",
        MatchKind::EndsWith => "endswith",
        MatchKind::Regex => "re",
        MatchKind::Cidr => "cidr",
        MatchKind::Compare(_) => "lt/lte/gt/gte",
        MatchKind::Exists => "exists",
        MatchKind::FieldRef(_) => "fieldref",
        MatchKind::Intel => "intel",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_parse() {
        let m = Modifiers::parse(&["contains", "all", "cased"]).unwrap();
        assert_eq!(m.kind, MatchKind::Contains);
        assert!(m.all && m.cased);
        let m = Modifiers::parse(&["re", "i", "m", "s"]).unwrap();
        assert!(m.re_insensitive && m.re_multiline && m.re_dotall);
        let m = Modifiers::parse(&["utf16le", "base64offset", "contains"]).unwrap();
        assert_eq!(
            m.transforms,
            vec![Transform::Utf16Le, Transform::Base64Offset]
        );
        let m = Modifiers::parse(&["fieldref", "endswith", "neq"]).unwrap();
        assert_eq!(m.kind, MatchKind::FieldRef(StrKind::EndsWith));
        let m = Modifiers::parse(&["hour", "gte"]).unwrap();
        assert_eq!(m.time, Some(TimePart::Hour));
    }

    #[test]
    fn bad_chains_are_rejected_with_a_reason() {
        let err = |names: &[&str]| Modifiers::parse(names).unwrap_err();
        assert!(err(&["contain"]).contains("unknown modifier `contain`"));
        assert!(err(&["contains", "endswith"]).contains("cannot be combined"));
        assert!(err(&["i"]).contains("sub-modifier of `re`"));
        assert!(err(&["cidr", "base64"]).contains("only apply to string"));
        assert!(err(&["utf16le", "contains"]).contains("followed by `base64`"));
        assert!(err(&["all", "all"]).contains("repeated"));
        assert!(err(&["exists", "neq"]).contains("neq"));
        assert!(err(&["hour", "contains"]).contains("time part"));
    }
}
