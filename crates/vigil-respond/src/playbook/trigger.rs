//! Which findings start a playbook.

use serde_json::Value;

use super::model::Playbook;
use crate::path::JsonPath;

/// Severity labels from least to most severe, as findings carry them.
const SEVERITIES: [&str; 5] = ["INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"];

/// The rank of a severity label (case-insensitive), `None` for an unknown one.
pub(crate) fn severity_rank(label: &str) -> Option<usize> {
    SEVERITIES
        .iter()
        .position(|s| s.eq_ignore_ascii_case(label))
}

/// Where GuardDuty and Security Hub put a finding's type in the records vigil keeps.
const FINDING_TYPE_PATHS: [&str; 4] = [
    "samples.record.type",
    "samples.record.detail.type",
    "samples.record.Types",
    "samples.record.detail.findings.Types",
];

impl Playbook {
    /// Whether `finding` (a finding as JSON) starts this playbook: one of its triggers
    /// matches and the finding is at least `min_severity`.
    pub fn matches(&self, finding: &Value) -> bool {
        let triggers = &self.triggers;
        if let Some(min) = triggers.min_severity.as_deref().and_then(severity_rank) {
            let label = finding.pointer("/severity/label").and_then(Value::as_str);
            if label.and_then(severity_rank).is_none_or(|rank| rank < min) {
                return false;
            }
        }
        let rule = finding.get("rule_id").and_then(Value::as_str);
        if rule.is_some_and(|rule| triggers.rules.iter().any(|r| r == rule)) {
            return true;
        }
        let tags = strings(finding.get("tags"));
        if triggers
            .tags
            .iter()
            .any(|t| tags.iter().any(|tag| tag.eq_ignore_ascii_case(t)))
        {
            return true;
        }
        if !triggers.finding_types.is_empty() {
            let types: Vec<String> = FINDING_TYPE_PATHS
                .iter()
                .filter_map(|p| JsonPath::parse(p).ok())
                .flat_map(|p| p.select(finding).into_iter().flat_map(|v| strings(Some(v))))
                .collect();
            if triggers
                .finding_types
                .iter()
                .any(|pattern| types.iter().any(|t| vigil_store::glob_match(pattern, t)))
            {
                return true;
            }
        }
        let records = finding
            .get("samples")
            .and_then(Value::as_array)
            .map(|samples| {
                samples
                    .iter()
                    .filter_map(|s| s.get("record"))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        triggers.events.iter().any(|event| {
            records.iter().any(|record| {
                event.iter().all(|(field, expected)| {
                    JsonPath::parse(field).is_ok_and(|path| {
                        path.select(record)
                            .iter()
                            .any(|found| value_matches(found, expected))
                    })
                })
            })
        })
    }
}

fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect(),
        _ => Vec::new(),
    }
}

fn value_matches(found: &Value, expected: &Value) -> bool {
    match (found, expected) {
        (Value::Array(items), _) => items.iter().any(|item| value_matches(item, expected)),
        (_, Value::Array(options)) => options.iter().any(|option| value_matches(found, option)),
        (Value::String(text), Value::String(pattern)) => vigil_store::glob_match(pattern, text),
        (found, expected) => found == expected || scalar_text(found) == scalar_text(expected),
    }
}

/// A scalar as text, so that `"80"` in a record matches `80` in a playbook.
fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
