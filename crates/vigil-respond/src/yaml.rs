//! Playbook YAML to JSON, keeping the line of every node so that errors found later (by
//! serde or by validation) can name the line they are about.
//!
//! Why not a serde YAML crate: `serde_yaml` is unmaintained, and `serde-saphyr` (which
//! reports positions) needs a newer Rust than the workspace's minimum. vigil already parses
//! Sigma rules with `saphyr`; this converts saphyr's positioned nodes to JSON and records
//! `path -> line`, and `serde_path_to_error` supplies the path of a typing error.

use std::collections::HashMap;

use saphyr::{MarkedYaml, ScalarStyle, YamlData, YamlLoader};
use saphyr_parser::Parser;
use serde_json::{Map, Number, Value};

/// A YAML document as JSON, with the 1-based line of each node by path (`steps[2].action`).
#[derive(Debug, Clone)]
pub(crate) struct Document {
    pub value: Value,
    lines: HashMap<String, usize>,
}

/// A YAML problem: 1-based line and reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct YamlError {
    pub line: usize,
    pub reason: String,
}

impl Document {
    /// The line of the node at `path`, or of its nearest ancestor that has one.
    pub(crate) fn line(&self, path: &str) -> Option<usize> {
        let mut path = path;
        loop {
            if let Some(line) = self.lines.get(path) {
                return Some(*line);
            }
            let cut = path.rfind(['.', '['])?;
            path = &path[..cut];
        }
    }
}

/// Parses one YAML document.
pub(crate) fn parse(text: &str) -> Result<Document, YamlError> {
    let mut loader: YamlLoader<'_, MarkedYaml<'_>> = YamlLoader::default();
    loader.early_parse(false);
    let mut parser = Parser::new_from_str(text);
    let scan = parser.load(&mut loader, true).err();
    if let Some(error) = scan.or_else(|| loader.error().cloned()) {
        return Err(YamlError {
            line: error.marker().line().max(1),
            reason: error.info().to_string(),
        });
    }
    let documents = loader.into_documents();
    let root = match documents.as_slice() {
        [one] => one,
        [] => {
            return Err(YamlError {
                line: 1,
                reason: "the file is empty".into(),
            })
        }
        [_, second, ..] => {
            return Err(YamlError {
                line: line_of(second),
                reason: "a playbook file holds one YAML document".into(),
            })
        }
    };
    let mut lines = HashMap::new();
    let value = convert(root, "", &mut lines)?;
    Ok(Document { value, lines })
}

fn line_of(node: &MarkedYaml<'_>) -> usize {
    node.span.start.line().max(1)
}

fn untagged<'n, 'a>(node: &'n MarkedYaml<'a>) -> &'n MarkedYaml<'a> {
    match &node.data {
        YamlData::Tagged(_, inner) => untagged(inner),
        _ => node,
    }
}

fn convert(
    node: &MarkedYaml<'_>,
    path: &str,
    lines: &mut HashMap<String, usize>,
) -> Result<Value, YamlError> {
    lines.entry(path.to_string()).or_insert(line_of(node));
    let is_str_tag = matches!(&node.data, YamlData::Tagged(tag, _) if tag.suffix == "str");
    match &untagged(node).data {
        YamlData::Sequence(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                out.push(convert(item, &format!("{path}[{i}]"), lines)?);
            }
            Ok(Value::Array(out))
        }
        YamlData::Mapping(map) => {
            let mut out = Map::new();
            for (key, value) in map.iter() {
                let name = match convert(key, path, &mut HashMap::new())? {
                    Value::String(s) => s,
                    Value::Null => String::new(),
                    other => other.to_string(),
                };
                if out.contains_key(&name) {
                    return Err(YamlError {
                        line: line_of(key),
                        reason: format!("duplicate key `{name}`"),
                    });
                }
                let child = if path.is_empty() {
                    name.clone()
                } else {
                    format!("{path}.{name}")
                };
                // A value is reported on its key's line (`params:`), not where its block
                // starts below.
                lines.insert(child.clone(), line_of(key));
                out.insert(name, convert(value, &child, lines)?);
            }
            Ok(Value::Object(out))
        }
        YamlData::Representation(text, style, _) => {
            if *style != ScalarStyle::Plain || is_str_tag {
                Ok(Value::String(text.to_string()))
            } else {
                Ok(resolve_plain(text))
            }
        }
        YamlData::Value(scalar) => Ok(match scalar {
            saphyr::Scalar::Null => Value::Null,
            saphyr::Scalar::Boolean(b) => Value::Bool(*b),
            saphyr::Scalar::Integer(i) => Value::from(*i),
            saphyr::Scalar::FloatingPoint(f) => {
                Number::from_f64(f.into_inner()).map_or(Value::Null, Value::Number)
            }
            saphyr::Scalar::String(s) => Value::String(s.to_string()),
        }),
        YamlData::Alias(_) => Err(YamlError {
            line: line_of(node),
            reason: "YAML aliases are not supported in playbooks".into(),
        }),
        _ => Err(YamlError {
            line: line_of(node),
            reason: "unsupported YAML node".into(),
        }),
    }
}

/// YAML 1.2 core schema resolution of a plain scalar.
fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        "true" | "True" | "TRUE" => Value::Bool(true),
        "false" | "False" | "FALSE" => Value::Bool(false),
        _ => {
            if let Ok(i) = text.parse::<i64>() {
                return Value::from(i);
            }
            let numeric = text
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.'));
            match saphyr::parse_core_schema_fp(text).filter(|_| numeric) {
                Some(f) => Number::from_f64(f).map_or(Value::String(text.into()), Value::Number),
                None => Value::String(text.to_string()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_to_json_and_keeps_lines() {
        let doc = parse("id: x\nsteps:\n  - id: a\n    n: 3\n    q: '3'\n  - id: b\n").unwrap();
        assert_eq!(
            doc.value,
            serde_json::json!({"id": "x", "steps": [{"id": "a", "n": 3, "q": "3"}, {"id": "b"}]})
        );
        assert_eq!(doc.line("steps[1].id"), Some(6));
        assert_eq!(doc.line("steps[0].n"), Some(4));
        assert_eq!(doc.line("steps[0].missing.deeper"), Some(3));
    }

    #[test]
    fn syntax_errors_and_duplicate_keys_name_their_line() {
        let error = parse("id: x\nsteps: [a, b\n").unwrap_err();
        assert!(error.line >= 2, "{error:?}");
        let error = parse("id: x\ntitle: a\nid: y\n").unwrap_err();
        assert_eq!(error.line, 3);
        assert!(error.reason.contains("duplicate"), "{error:?}");
    }
}
