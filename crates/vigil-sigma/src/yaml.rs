//! The YAML layer: documents parsed with positions, and small typed accessors over them.
//!
//! Scalars are loaded unresolved (`early_parse(false)`) so a Sigma value keeps its text: a
//! quoted `'100'` stays a string, and only plain scalars are resolved to null, booleans and
//! numbers by the YAML 1.2 core schema.

use saphyr::{MarkedYaml, ScalarStyle, YamlData, YamlLoader};
use saphyr_parser::Parser;

/// A YAML node with its position in the file.
pub(crate) type Node<'a> = MarkedYaml<'a>;

/// A YAML syntax error: 1-based line and the parser's message.
#[derive(Debug)]
pub(crate) struct SyntaxError {
    pub line: usize,
    pub reason: String,
}

/// Parses every document of a (possibly multi-document) YAML text.
pub(crate) fn parse_documents(text: &str) -> Result<Vec<Node<'_>>, SyntaxError> {
    let mut loader: YamlLoader<'_, MarkedYaml<'_>> = YamlLoader::default();
    loader.early_parse(false);
    let mut parser = Parser::new_from_str(text);
    let scan = parser.load(&mut loader, true).err();
    let error = scan.or_else(|| loader.error().cloned());
    match error {
        Some(error) => Err(SyntaxError {
            line: error.marker().line(),
            reason: error.info().to_string(),
        }),
        None => Ok(loader.into_documents()),
    }
}

/// 1-based line where a node starts.
pub(crate) fn line(node: &Node<'_>) -> usize {
    node.span.start.line().max(1)
}

/// A resolved scalar, keeping the text it was written as.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Scalar<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'a str),
}

impl Scalar<'_> {
    /// The scalar as text (numbers in canonical form, null as empty).
    pub(crate) fn text(&self) -> String {
        match self {
            Scalar::Null => String::new(),
            Scalar::Bool(b) => b.to_string(),
            Scalar::Int(i) => i.to_string(),
            Scalar::Float(f) => f.to_string(),
            Scalar::Str(s) => (*s).to_string(),
        }
    }
}

/// The node without any tag wrapper.
fn untagged<'n, 'a>(node: &'n Node<'a>) -> &'n Node<'a> {
    match &node.data {
        YamlData::Tagged(_, inner) => untagged(inner),
        _ => node,
    }
}

/// The scalar value of a node, or `None` for collections.
pub(crate) fn scalar<'n>(node: &'n Node<'_>) -> Option<Scalar<'n>> {
    let is_str_tag = matches!(&node.data, YamlData::Tagged(tag, _) if tag.suffix == "str");
    match &untagged(node).data {
        YamlData::Representation(text, style, _) => {
            if *style != ScalarStyle::Plain || is_str_tag {
                Some(Scalar::Str(text))
            } else {
                Some(resolve_plain(text))
            }
        }
        YamlData::Value(value) => Some(match value {
            saphyr::Scalar::Null => Scalar::Null,
            saphyr::Scalar::Boolean(b) => Scalar::Bool(*b),
            saphyr::Scalar::Integer(i) => Scalar::Int(*i),
            saphyr::Scalar::FloatingPoint(f) => Scalar::Float(f.into_inner()),
            saphyr::Scalar::String(s) => Scalar::Str(s),
        }),
        _ => None,
    }
}

/// YAML 1.2 core schema resolution of a plain scalar.
fn resolve_plain(text: &str) -> Scalar<'_> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => Scalar::Null,
        "true" | "True" | "TRUE" => Scalar::Bool(true),
        "false" | "False" | "FALSE" => Scalar::Bool(false),
        _ => resolve_number(text).unwrap_or(Scalar::Str(text)),
    }
}

fn resolve_number(text: &str) -> Option<Scalar<'_>> {
    let first = text.chars().next()?;
    if !(first.is_ascii_digit() || first == '-' || first == '+' || first == '.') {
        return None;
    }
    if let Ok(i) = text.parse::<i64>() {
        return Some(Scalar::Int(i));
    }
    if let Some(hex) = text.strip_prefix("0x") {
        return i64::from_str_radix(hex, 16).ok().map(Scalar::Int);
    }
    if let Some(oct) = text.strip_prefix("0o") {
        return i64::from_str_radix(oct, 8).ok().map(Scalar::Int);
    }
    saphyr::parse_core_schema_fp(text).map(Scalar::Float)
}

/// The string of a scalar node (any scalar, as text), `None` for collections and null.
pub(crate) fn text(node: &Node<'_>) -> Option<String> {
    match scalar(node)? {
        Scalar::Null => None,
        other => Some(other.text()),
    }
}

/// The entries of a mapping node, in document order.
pub(crate) fn entries<'n, 'a>(node: &'n Node<'a>) -> Option<Vec<(&'n Node<'a>, &'n Node<'a>)>> {
    match &untagged(node).data {
        YamlData::Mapping(map) => Some(map.iter().collect()),
        _ => None,
    }
}

/// The items of a sequence node.
pub(crate) fn items<'n, 'a>(node: &'n Node<'a>) -> Option<&'n [Node<'a>]> {
    match &untagged(node).data {
        YamlData::Sequence(items) => Some(items),
        _ => None,
    }
}

/// The value under `key` in a mapping node, with the key node (for its line).
pub(crate) fn get<'n, 'a>(node: &'n Node<'a>, key: &str) -> Option<(&'n Node<'a>, &'n Node<'a>)> {
    entries(node)?
        .into_iter()
        .find(|(k, _)| matches!(scalar(k), Some(Scalar::Str(s)) if s == key))
}

/// A string or a list of strings (`tags`, `references`, `falsepositives`, `author`...).
pub(crate) fn strings(node: &Node<'_>) -> Vec<String> {
    match items(node) {
        Some(list) => list.iter().filter_map(text).collect(),
        None => text(node).into_iter().collect(),
    }
}

/// Converts a node to JSON (for `vigil:` blocks and test events).
pub(crate) fn to_json(node: &Node<'_>) -> serde_json::Value {
    use serde_json::Value as J;
    if let Some(list) = items(node) {
        return J::Array(list.iter().map(to_json).collect());
    }
    if let Some(map) = entries(node) {
        let object = map
            .into_iter()
            .map(|(k, v)| (scalar(k).map(|s| s.text()).unwrap_or_default(), to_json(v)))
            .collect();
        return J::Object(object);
    }
    match scalar(node) {
        None | Some(Scalar::Null) => J::Null,
        Some(Scalar::Bool(b)) => J::Bool(b),
        Some(Scalar::Int(i)) => J::from(i),
        Some(Scalar::Float(f)) => serde_json::Number::from_f64(f).map_or(J::Null, J::Number),
        Some(Scalar::Str(s)) => J::String(s.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_keep_quoted_text_and_resolve_plain_ones() {
        let docs =
            parse_documents("a: '100'\nb: 100\nc: null\nd: true\ne: 1.5\nf: x\ng:\n").unwrap();
        let doc = &docs[0];
        let value = |k| scalar(get(doc, k).unwrap().1).unwrap();
        assert_eq!(value("a"), Scalar::Str("100"));
        assert_eq!(value("b"), Scalar::Int(100));
        assert_eq!(value("c"), Scalar::Null);
        assert_eq!(value("d"), Scalar::Bool(true));
        assert_eq!(value("e"), Scalar::Float(1.5));
        assert_eq!(value("f"), Scalar::Str("x"));
        assert_eq!(value("g"), Scalar::Null);
    }

    #[test]
    fn lines_are_one_based_and_multi_documents_split() {
        let docs = parse_documents("a: 1\n---\nb:\n  c: 2\n").unwrap();
        assert_eq!(docs.len(), 2);
        let (key, value) = get(&docs[1], "b").unwrap();
        assert_eq!(line(key), 3);
        let (inner, _) = get(value, "c").unwrap();
        assert_eq!(line(inner), 4);
    }

    #[test]
    fn syntax_errors_carry_a_line() {
        let error = parse_documents("a: 1\nb: [1, 2\nc: 3\n").unwrap_err();
        assert!(error.line >= 2, "line {}", error.line);
        let dup = parse_documents("a: 1\na: 2\n").unwrap_err();
        assert_eq!(dup.line, 2);
    }

    #[test]
    fn json_conversion_types_values() {
        let docs = parse_documents("x: {a: 1, b: [true, 'q'], c: ~}").unwrap();
        let json = to_json(get(&docs[0], "x").unwrap().1);
        assert_eq!(
            json,
            serde_json::json!({"a": 1, "b": [true, "q"], "c": null})
        );
    }
}
