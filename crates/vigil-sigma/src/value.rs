//! Compiling one rule value through its modifiers: placeholders, windash, encodings, then the
//! match type. One written value may become several alternatives (any of which matches).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::matcher::{Cidr, IntelList, ValueTest};
use crate::modifier::{MatchKind, Modifiers, NumOp, Transform};
use crate::options::LoadOptions;
use crate::pattern::{literal, literal_text, tokenize, RegexMatch, StrMatch, Tok};
use crate::placeholder;
use crate::yaml::Scalar;

/// The most alternatives one value may expand to (windash, placeholders).
pub(crate) const MAX_ALTERNATIVES: usize = 4096;

/// The dash characters `windash` makes interchangeable.
const DASHES: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];

/// Compiles one written value into its alternatives.
pub(crate) fn compile(
    raw: Scalar<'_>,
    mods: &Modifiers,
    options: &LoadOptions,
) -> Result<Vec<ValueTest>, String> {
    if raw == Scalar::Null {
        return null_value(mods);
    }
    let is_pattern = matches!(raw, Scalar::Str(_));
    let texts = if mods.expand {
        placeholder::expand(&raw.text(), &options.placeholders)?
    } else {
        vec![raw.text()]
    };
    let mut tests = Vec::new();
    for text in &texts {
        tests.extend(compile_text(text, is_pattern, mods, options)?);
    }
    Ok(tests)
}

fn null_value(mods: &Modifiers) -> Result<Vec<ValueTest>, String> {
    if mods.kind == MatchKind::Equals && mods.transforms.is_empty() && mods.time.is_none() {
        Ok(vec![ValueTest::Null])
    } else {
        Err("`null` is only valid as a plain value, without match modifiers".into())
    }
}

fn compile_text(
    text: &str,
    is_pattern: bool,
    mods: &Modifiers,
    options: &LoadOptions,
) -> Result<Vec<ValueTest>, String> {
    if let Some(part) = mods.time {
        let op = match mods.kind {
            MatchKind::Compare(op) => op,
            _ => NumOp::Eq,
        };
        return Ok(vec![ValueTest::Time(part, op, number(text)?)]);
    }
    match mods.kind {
        MatchKind::Equals | MatchKind::Contains | MatchKind::StartsWith | MatchKind::EndsWith => {
            strings(text, is_pattern, mods)
        }
        MatchKind::Regex => regex(text, mods).map(|r| {
            let flags = [mods.re_insensitive, mods.re_multiline, mods.re_dotall];
            let regex = RegexMatch::new(r, flags);
            vec![ValueTest::Str(StrMatch::Regex(Box::new(regex)))]
        }),
        MatchKind::Cidr => Ok(vec![ValueTest::Cidr(Cidr::parse(text)?)]),
        MatchKind::Compare(op) => Ok(vec![ValueTest::Number(op, number(text)?)]),
        MatchKind::Intel => intel(text, options).map(|list| vec![ValueTest::Intel(list)]),
        MatchKind::Exists | MatchKind::FieldRef(_) => {
            Err("internal: exists/fieldref values are compiled by the field".into())
        }
    }
}

fn number(text: &str) -> Result<f64, String> {
    text.trim()
        .parse::<f64>()
        .map_err(|_| format!("`{text}` is not a number (numeric modifiers need one)"))
}

fn regex(text: &str, mods: &Modifiers) -> Result<regex::Regex, String> {
    regex::RegexBuilder::new(text)
        .case_insensitive(mods.re_insensitive)
        .multi_line(mods.re_multiline)
        .dot_matches_new_line(mods.re_dotall)
        .build()
        .map_err(|e| format!("invalid regular expression `{text}`: {e}"))
}

fn intel(name: &str, options: &LoadOptions) -> Result<IntelList, String> {
    let lists = options.lists.as_ref().ok_or_else(|| {
        format!("intel list `{name}` requested but no threat-intel lists are loaded")
    })?;
    if !lists.has_list(name) {
        return Err(format!("unknown intel list `{name}`"));
    }
    Ok(IntelList {
        name: name.into(),
        lists: lists.clone(),
    })
}

/// A value on its way through the transformations.
enum Work {
    Text(Vec<Tok>),
    Bytes(Vec<u8>),
}

fn strings(text: &str, is_pattern: bool, mods: &Modifiers) -> Result<Vec<ValueTest>, String> {
    let toks = if is_pattern {
        tokenize(text)
    } else {
        literal(text)
    };
    let mut work = vec![Work::Text(toks)];
    let mut encoded = false;
    for transform in &mods.transforms {
        work = apply(*transform, work)?;
        encoded |= matches!(transform, Transform::Base64 | Transform::Base64Offset);
    }
    // Base64 output is case-sensitive by nature.
    let cased = mods.cased || encoded;
    let mut tests = Vec::with_capacity(work.len());
    for item in work {
        let Work::Text(mut toks) = item else {
            return Err("utf16 output must be base64-encoded".into());
        };
        wrap(&mut toks, mods.kind);
        tests.push(ValueTest::Str(StrMatch::compile(&toks, cased)?));
    }
    Ok(tests)
}

/// Adds the wildcards of `contains`, `startswith` and `endswith`.
fn wrap(toks: &mut Vec<Tok>, kind: MatchKind) {
    if matches!(kind, MatchKind::Contains | MatchKind::EndsWith) {
        toks.insert(0, Tok::Star);
    }
    if matches!(kind, MatchKind::Contains | MatchKind::StartsWith) {
        toks.push(Tok::Star);
    }
}

fn apply(transform: Transform, work: Vec<Work>) -> Result<Vec<Work>, String> {
    let mut out = Vec::with_capacity(work.len());
    for item in work {
        match transform {
            Transform::Windash => out.extend(
                windash(text_of(item, "windash")?)?
                    .into_iter()
                    .map(Work::Text),
            ),
            Transform::Utf16Le | Transform::Utf16Be | Transform::Utf16Bom => {
                out.push(Work::Bytes(utf16(transform, &plain(item, "utf16")?)))
            }
            Transform::Base64 => out.push(Work::Text(literal(&STANDARD.encode(bytes(item)?)))),
            Transform::Base64Offset => out.extend(
                base64_offsets(&bytes(item)?)?
                    .iter()
                    .map(|s| Work::Text(literal(s))),
            ),
        }
    }
    Ok(out)
}

fn text_of(item: Work, modifier: &str) -> Result<Vec<Tok>, String> {
    match item {
        Work::Text(toks) => Ok(toks),
        Work::Bytes(_) => Err(format!("`{modifier}` cannot follow a utf16 modifier")),
    }
}

/// The literal text of a value that is about to be encoded (wildcards cannot be encoded).
fn plain(item: Work, modifier: &str) -> Result<String, String> {
    literal_text(&text_of(item, modifier)?)
        .ok_or_else(|| format!("a value with wildcards cannot be encoded with `{modifier}`"))
}

fn bytes(item: Work) -> Result<Vec<u8>, String> {
    match item {
        Work::Bytes(bytes) => Ok(bytes),
        text => plain(text, "base64").map(String::into_bytes),
    }
}

fn utf16(transform: Transform, text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() * 2 + 2);
    if transform == Transform::Utf16Bom {
        out.extend_from_slice(&[0xFF, 0xFE]);
    }
    for unit in text.encode_utf16() {
        let pair = match transform {
            Transform::Utf16Be => unit.to_be_bytes(),
            _ => unit.to_le_bytes(),
        };
        out.extend_from_slice(&pair);
    }
    out
}

/// The three encodings of `data` shifted by 0, 1 and 2 bytes inside a longer base64 text,
/// keeping only the characters that do not depend on the surrounding bytes.
fn base64_offsets(data: &[u8]) -> Result<Vec<String>, String> {
    const START: [usize; 3] = [0, 2, 3];
    let mut variants = Vec::with_capacity(3);
    for (shift, start) in START.iter().enumerate() {
        let mut shifted = vec![0u8; shift];
        shifted.extend_from_slice(data);
        let encoded = STANDARD.encode(&shifted);
        let trim_end = match shifted.len() % 3 {
            0 => 0,
            1 => 3,
            _ => 2,
        };
        let end = encoded.len().saturating_sub(trim_end);
        if let Some(middle) = encoded.get(*start..end).filter(|m| !m.is_empty()) {
            variants.push(middle.to_string());
        }
    }
    if variants.is_empty() {
        return Err("value too short for `base64offset`".into());
    }
    Ok(variants)
}

/// Every variant of `toks` with each dash replaced by each of [`DASHES`].
fn windash(toks: Vec<Tok>) -> Result<Vec<Vec<Tok>>, String> {
    let mut variants = vec![toks.clone()];
    for (i, tok) in toks.iter().enumerate() {
        if !matches!(tok, Tok::Lit(c) if DASHES.contains(c)) {
            continue;
        }
        if variants.len() * DASHES.len() > MAX_ALTERNATIVES {
            return Err(format!(
                "`windash` yields more than {MAX_ALTERNATIVES} variants"
            ));
        }
        variants = variants
            .into_iter()
            .flat_map(|v| {
                DASHES.iter().map(move |dash| {
                    let mut variant = v.clone();
                    variant[i] = Tok::Lit(*dash);
                    variant
                })
            })
            .collect();
    }
    Ok(variants)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mods(names: &[&str]) -> Modifiers {
        Modifiers::parse(names).unwrap()
    }

    fn hits(tests: &[ValueTest], hay: &str) -> bool {
        tests
            .iter()
            .any(|t| matches!(t, ValueTest::Str(m) if m.is_match(hay)))
    }

    #[test]
    fn base64_offsets_find_the_value_at_any_alignment() {
        let variants = base64_offsets(b"http").unwrap();
        for prefix in ["", "a", "ab", "abc"] {
            let encoded = STANDARD.encode(format!("{prefix}http://x"));
            assert!(
                variants.iter().any(|v| encoded.contains(v.as_str())),
                "{prefix}"
            );
        }
        assert!(!variants
            .iter()
            .any(|v| STANDARD.encode("htp").contains(v.as_str())));
    }

    #[test]
    fn encodings_chain_in_order() {
        let opts = LoadOptions::default();
        let t = compile(Scalar::Str("cmd"), &mods(&["utf16le", "base64"]), &opts).unwrap();
        assert!(hits(&t, &STANDARD.encode([0x63, 0, 0x6d, 0, 0x64, 0])));
        let t = compile(Scalar::Str("cmd"), &mods(&["utf16be", "base64"]), &opts).unwrap();
        assert!(hits(&t, &STANDARD.encode([0, 0x63, 0, 0x6d, 0, 0x64])));
        let t = compile(Scalar::Str("cmd"), &mods(&["utf16", "base64"]), &opts).unwrap();
        assert!(hits(
            &t,
            &STANDARD.encode([0xFF, 0xFE, 0x63, 0, 0x6d, 0, 0x64, 0])
        ));
        let t = compile(Scalar::Str("cmd"), &mods(&["base64"]), &opts).unwrap();
        assert!(hits(&t, "Y21k"));
        assert!(!hits(&t, "y21K"), "base64 is case-sensitive");
    }

    #[test]
    fn windash_permutes_every_dash() {
        let t = compile(
            Scalar::Str("-a -b"),
            &mods(&["windash", "contains"]),
            &LoadOptions::default(),
        )
        .unwrap();
        assert_eq!(t.len(), 25);
        assert!(hits(&t, "x /a \u{2014}b"));
        assert!(!hits(&t, "x +a -b"));
        let err = windash(literal("-a-b-c-d-e-f")).unwrap_err();
        assert!(err.contains("variants"));
    }

    #[test]
    fn wildcards_cannot_be_encoded_and_numbers_must_be_numbers() {
        let opts = LoadOptions::default();
        assert!(compile(Scalar::Str("a*"), &mods(&["base64"]), &opts).is_err());
        assert!(compile(Scalar::Str("ten"), &mods(&["gt"]), &opts).is_err());
        assert!(compile(Scalar::Null, &mods(&["contains"]), &opts).is_err());
        assert!(compile(Scalar::Str("x"), &mods(&["intel"]), &opts).is_err());
        assert!(compile(Scalar::Str("(unclosed"), &mods(&["re"]), &opts).is_err());
    }
}
