//! STIX 2.1 bundles: each current `indicator` object with a `stix` pattern becomes entries.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::stix_pattern::pattern_values;
use super::{ParsedFile, RawEntry};

pub(super) fn parse(text: &str, now: DateTime<Utc>) -> ParsedFile {
    let mut parsed = ParsedFile::default();
    let bundle: Value = match serde_json::from_str(text) {
        Ok(bundle) => bundle,
        Err(error) => {
            parsed
                .problems
                .push((error.line(), format!("invalid JSON: {error}")));
            return parsed;
        }
    };
    if bundle.get("type").and_then(Value::as_str) != Some("bundle") {
        parsed
            .problems
            .push((1, "JSON file is not a STIX 2.1 bundle".to_string()));
        return parsed;
    }
    let Some(objects) = bundle.get("objects").and_then(Value::as_array) else {
        parsed
            .problems
            .push((1, "STIX bundle has no `objects` array".to_string()));
        return parsed;
    };
    for object in objects {
        if object.get("type").and_then(Value::as_str) == Some("indicator") {
            read_indicator(object, text, now, &mut parsed);
        }
    }
    parsed
}

fn read_indicator(indicator: &Value, text: &str, now: DateTime<Utc>, parsed: &mut ParsedFile) {
    let line = line_of_id(indicator, text);
    match current_pattern(indicator, now) {
        Ok(None) => {}
        Ok(Some(pattern)) => match pattern_values(pattern) {
            Ok(values) => {
                let description = describe(indicator);
                parsed
                    .entries
                    .extend(values.into_iter().map(|value| RawEntry {
                        value,
                        description: description.clone(),
                        line,
                    }));
            }
            Err(reason) => parsed.problems.push((line, with_id(indicator, &reason))),
        },
        Err(reason) => parsed.problems.push((line, with_id(indicator, &reason))),
    }
}

/// The indicator's pattern, `None` when it is revoked or expired, or why it cannot be used.
fn current_pattern(indicator: &Value, now: DateTime<Utc>) -> Result<Option<&str>, String> {
    if indicator.get("revoked").and_then(Value::as_bool) == Some(true) {
        return Ok(None);
    }
    if let Some(until) = indicator.get("valid_until").and_then(Value::as_str) {
        let until = DateTime::parse_from_rfc3339(until)
            .map_err(|_| format!("invalid valid_until `{until}`"))?;
        if until < now {
            return Ok(None);
        }
    }
    let pattern_type = indicator.get("pattern_type").and_then(Value::as_str);
    if pattern_type != Some("stix") {
        return Err(format!(
            "unsupported pattern_type `{}`",
            pattern_type.unwrap_or("(none)")
        ));
    }
    indicator
        .get("pattern")
        .and_then(Value::as_str)
        .map(Some)
        .ok_or_else(|| "indicator has no pattern".to_string())
}

/// The indicator's name, else its description.
fn describe(indicator: &Value) -> Option<String> {
    ["name", "description"]
        .iter()
        .find_map(|key| indicator.get(*key).and_then(Value::as_str))
        .map(str::to_string)
}

fn with_id(indicator: &Value, reason: &str) -> String {
    match indicator.get("id").and_then(Value::as_str) {
        Some(id) => format!("{id}: {reason}"),
        None => reason.to_string(),
    }
}

/// The line where the indicator's id is written, so errors point into the file.
fn line_of_id(indicator: &Value, text: &str) -> usize {
    let Some(id) = indicator.get("id").and_then(Value::as_str) else {
        return 0;
    };
    text.find(&format!("\"{id}\""))
        .map_or(0, |offset| text[..offset].matches('\n').count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUNDLE: &str = r#"{
  "type": "bundle",
  "id": "bundle--1",
  "objects": [
    {"type": "indicator", "id": "indicator--a", "name": "C2 server", "pattern_type": "stix",
     "pattern": "[ipv4-addr:value = '198.51.100.7']", "valid_from": "2024-01-01T00:00:00Z"},
    {"type": "indicator", "id": "indicator--b", "pattern_type": "stix", "revoked": true,
     "pattern": "[ipv4-addr:value = '192.0.2.66']"},
    {"type": "indicator", "id": "indicator--c", "pattern_type": "stix",
     "valid_until": "2001-01-01T00:00:00Z", "pattern": "[domain-name:value = 'old.example']"},
    {"type": "indicator", "id": "indicator--d", "pattern_type": "stix",
     "valid_until": "2999-01-01T00:00:00Z", "pattern": "[domain-name:value = 'pool.example']"},
    {"type": "indicator", "id": "indicator--e", "pattern_type": "yara", "pattern": "rule x {}"},
    {"type": "indicator", "id": "indicator--f", "pattern_type": "stix",
     "pattern": "[file:hashes.MD5 = 'abc']"},
    {"type": "malware", "id": "malware--1", "name": "xmrig"}
  ]
}"#;

    #[test]
    fn current_indicators_load_and_revoked_or_expired_are_skipped() {
        let parsed = parse(BUNDLE, Utc::now());
        let values: Vec<(&str, usize)> = parsed
            .entries
            .iter()
            .map(|e| (e.value.as_str(), e.line))
            .collect();
        assert_eq!(values, vec![("198.51.100.7", 5), ("pool.example", 11)]);
        assert_eq!(parsed.entries[0].description.as_deref(), Some("C2 server"));
    }

    #[test]
    fn unsupported_indicators_are_reported_with_id_and_line() {
        let parsed = parse(BUNDLE, Utc::now());
        assert_eq!(parsed.problems.len(), 2);
        assert_eq!(parsed.problems[0].0, 13);
        assert!(parsed.problems[0]
            .1
            .starts_with("indicator--e: unsupported pattern_type `yara`"));
        assert_eq!(parsed.problems[1].0, 14);
        assert!(parsed.problems[1].1.contains("file:hashes.MD5"));
    }

    #[test]
    fn json_that_is_not_a_bundle_is_an_error() {
        assert_eq!(
            parse(r#"{"type":"indicator"}"#, Utc::now()).problems.len(),
            1
        );
        let broken = parse("{\n\"type\": \"bundle\",\n\"objects\": [", Utc::now());
        assert_eq!(broken.problems.len(), 1);
        assert!(broken.problems[0].1.starts_with("invalid JSON"));
        assert!(broken.problems[0].0 >= 3);
    }
}
