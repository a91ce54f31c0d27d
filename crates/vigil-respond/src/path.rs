//! Paths into JSON documents (findings, step outputs): `samples[*].record.requestParameters.instanceId`,
//! `resources[0]`, `check-item-detail["Access Key ID"]`.
//!
//! A key applied to an array applies to each element (as Sigma does for CloudTrail's
//! `items` lists), so `[*]` is optional; `[n]` picks one element.

use serde_json::Value;

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// An object key.
    Key(String),
    /// An array index.
    Index(usize),
    /// Every element of an array.
    Each,
}

/// A parsed path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath {
    pub segments: Vec<Segment>,
}

impl JsonPath {
    /// Parses `a.b[0].c`, `a[*].b`, `a["key with spaces"]`.
    pub fn parse(text: &str) -> Result<JsonPath, String> {
        let mut segments = Vec::new();
        let mut rest = text.trim();
        if rest.is_empty() {
            return Err("empty path".into());
        }
        let mut expect_key = true;
        while !rest.is_empty() {
            if let Some(inner) = rest.strip_prefix('[') {
                let end = bracket_end(inner).ok_or_else(|| format!("unclosed `[` in `{text}`"))?;
                segments.push(bracket_segment(&inner[..end], text)?);
                rest = &inner[end + 1..];
                expect_key = false;
            } else if let Some(after) = rest.strip_prefix('.') {
                if expect_key {
                    return Err(format!("empty key in `{text}`"));
                }
                rest = after;
                expect_key = true;
            } else {
                if !expect_key {
                    return Err(format!("expected `.` or `[` in `{text}` before `{rest}`"));
                }
                let end = rest.find(['.', '[']).unwrap_or(rest.len());
                if let Some(bad) = rest[..end]
                    .chars()
                    .find(|c| matches!(c, ']' | '"' | ' ' | '|'))
                {
                    return Err(format!(
                        "`{bad}` in a key of `{text}` (quote the key: [\"...\"])"
                    ));
                }
                segments.push(Segment::Key(rest[..end].to_string()));
                rest = &rest[end..];
                expect_key = false;
            }
        }
        if expect_key {
            return Err(format!("`{text}` ends with `.`"));
        }
        Ok(JsonPath { segments })
    }

    /// The first key, if the path starts with one.
    pub fn head(&self) -> Option<&str> {
        match self.segments.first() {
            Some(Segment::Key(key)) => Some(key),
            _ => None,
        }
    }

    /// Every value the path reaches, in document order.
    pub fn select<'v>(&self, root: &'v Value) -> Vec<&'v Value> {
        let mut current = vec![root];
        for segment in &self.segments {
            let mut next = Vec::new();
            for value in current {
                step(value, segment, &mut next);
            }
            current = next;
        }
        current
    }

    /// The path from its `n`th segment on.
    pub fn skip(&self, n: usize) -> JsonPath {
        JsonPath {
            segments: self.segments.iter().skip(n).cloned().collect(),
        }
    }
}

fn bracket_end(inner: &str) -> Option<usize> {
    if let Some(quoted) = inner.strip_prefix('"') {
        let close = quoted.find('"')?;
        let after = &quoted[close + 1..];
        after.starts_with(']').then_some(close + 2)
    } else {
        inner.find(']')
    }
}

fn bracket_segment(inner: &str, text: &str) -> Result<Segment, String> {
    if inner == "*" {
        return Ok(Segment::Each);
    }
    if let Some(key) = inner.strip_prefix('"').and_then(|k| k.strip_suffix('"')) {
        return Ok(Segment::Key(key.to_string()));
    }
    inner
        .trim()
        .parse()
        .map(Segment::Index)
        .map_err(|_| format!("`[{inner}]` in `{text}` is not an index, `*` or a quoted key"))
}

fn step<'v>(value: &'v Value, segment: &Segment, out: &mut Vec<&'v Value>) {
    match (segment, value) {
        (Segment::Key(key), Value::Object(map)) => out.extend(map.get(key)),
        (Segment::Key(_), Value::Array(items)) => {
            for item in items {
                step(item, segment, out);
            }
        }
        (Segment::Index(i), Value::Array(items)) => out.extend(items.get(*i)),
        (Segment::Each, Value::Array(items)) => out.extend(items.iter()),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn selects_keys_indexes_and_array_elements() {
        let doc = json!({
            "resources": ["arn:x", "i-1"],
            "samples": [
                {"record": {"requestParameters": {"items": [{"id": "a"}, {"id": "b"}]}}},
                {"record": {"requestParameters": {"items": [{"id": "c"}]}}}
            ],
            "check-item-detail": {"Access Key ID": "AKIA1"}
        });
        let ids = |p: &str| -> Vec<Value> {
            JsonPath::parse(p)
                .unwrap()
                .select(&doc)
                .into_iter()
                .cloned()
                .collect()
        };
        assert_eq!(ids("resources[1]"), [json!("i-1")]);
        assert_eq!(
            ids("samples[*].record.requestParameters.items[*].id"),
            [json!("a"), json!("b"), json!("c")]
        );
        assert_eq!(
            ids("samples.record.requestParameters.items.id"),
            [json!("a"), json!("b"), json!("c")]
        );
        assert_eq!(
            ids(r#"check-item-detail["Access Key ID"]"#),
            [json!("AKIA1")]
        );
        assert!(ids("nothing.here").is_empty());
    }

    #[test]
    fn malformed_paths_are_refused() {
        for bad in ["", "a..b", "a.", "a[", "a[x]", "a]b", ".a"] {
            assert!(JsonPath::parse(bad).is_err(), "{bad}");
        }
    }
}
