//! SARIF 2.1.0 (OASIS Static Analysis Results Interchange Format): one run of the tool
//! `vigil`, one rule per control that has results in the scan, one result per FAIL and per
//! UNKNOWN. PASS and NOT_APPLICABLE results are left out: SARIF consumers list problems.
//!
//! - FAIL → `kind: fail`, `level` from the control's severity (critical and high `error`,
//!   medium `warning`, low and informational `note`).
//! - UNKNOWN → `kind: open` ("could not determine whether the result passes or fails"). The
//!   standard (§3.27.9) requires `level: none` for any kind other than `fail`, so UNKNOWN is
//!   not a `note`.
//! - Muted results keep their place with an accepted external `suppressions` entry.
//! - Locations are logical: the resource's ARN as `fullyQualifiedName`, kind `resource`
//!   (there is no file to point at).
//! - Each rule carries `security-severity` (the control's score over 10, the convention of
//!   GitHub code scanning) and its CIS and Security Hub ids as tags.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde_json::{json, Map, Value};
use vigil_findings::SeverityLabel;

use super::view::{rfc3339, short_name, Row};
use crate::result::{controls, ControlInfo, ScanReport, Status};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Writes the SARIF log.
pub(super) fn write(report: &ScanReport, rows: &[Row<'_>], out: &mut dyn Write) -> io::Result<()> {
    super::write_pretty_json(&log(report, rows), out)
}

/// The whole SARIF log.
pub(super) fn log(report: &ScanReport, rows: &[Row<'_>]) -> Value {
    let rules = evaluated_controls(rows);
    let index: BTreeMap<&str, usize> = rules
        .iter()
        .enumerate()
        .map(|(n, control)| (control.id, n))
        .collect();
    let results: Vec<Value> = rows
        .iter()
        .filter(|row| matches!(row.result.status, Status::Fail | Status::Unknown))
        .map(|row| result(row, index.get(row.control.id).copied().unwrap_or_default()))
        .collect();
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": driver(&rules) },
            "invocations": [invocation(report)],
            "results": results,
            "columnKind": "unicodeCodePoints",
        }],
    })
}

/// The controls with at least one result, in catalogue order.
fn evaluated_controls(rows: &[Row<'_>]) -> Vec<&'static ControlInfo> {
    controls()
        .iter()
        .filter(|control| rows.iter().any(|row| row.control.id == control.id))
        .collect()
}

fn driver(rules: &[&'static ControlInfo]) -> Value {
    json!({
        "name": "vigil",
        "fullName": "vigil posture scan",
        "semanticVersion": env!("CARGO_PKG_VERSION"),
        "rules": rules.iter().map(|control| rule(control)).collect::<Vec<_>>(),
    })
}

fn rule(control: &ControlInfo) -> Value {
    let mut tags = vec!["security".to_string(), control.area.name().to_string()];
    if let Some(cis) = control.cis {
        tags.push(format!("CIS {cis}"));
    }
    tags.extend(
        control
            .security_hub
            .iter()
            .map(|id| format!("SecurityHub {id}")),
    );
    let mut properties = Map::new();
    properties.insert("tags".into(), tags.into());
    properties.insert(
        "security-severity".into(),
        format!("{:.1}", f64::from(control.severity.score) / 10.0).into(),
    );
    properties.insert("area".into(), control.area.title().into());
    if let Some(cis) = control.cis {
        properties.insert("cis".into(), cis.into());
    }
    properties.insert("securityHub".into(), control.security_hub.into());
    if let Some(action) = control.remediation_action {
        properties.insert("remediationAction".into(), action.into());
    }
    json!({
        "id": control.id,
        "name": pascal_case(control.title),
        "shortDescription": { "text": control.title },
        "fullDescription": { "text": control.description },
        "help": {
            "text": control.remediation,
            "markdown": format!("**{}**\n\n{}\n\n**Remediation**\n\n{}", control.title, control.description, control.remediation),
        },
        "defaultConfiguration": { "level": level(control.severity.label) },
        "properties": properties,
    })
}

/// A rule's `name`: the title as one PascalCase identifier (`No root access keys` →
/// `NoRootAccessKeys`), as SARIF suggests for names shown to users.
fn pascal_case(title: &str) -> String {
    title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(|word| {
            let mut chars = word.chars();
            let first = chars.next().map(|c| c.to_ascii_uppercase());
            first.into_iter().chain(chars).collect::<String>()
        })
        .collect()
}

fn level(label: SeverityLabel) -> &'static str {
    match label {
        SeverityLabel::Critical | SeverityLabel::High => "error",
        SeverityLabel::Medium => "warning",
        SeverityLabel::Low | SeverityLabel::Informational => "note",
    }
}

fn result(row: &Row<'_>, rule_index: usize) -> Value {
    let resource = &row.result.resource;
    let (kind, level) = match row.result.status {
        Status::Fail => ("fail", level(row.control.severity.label)),
        _ => ("open", "none"),
    };
    let mut result = json!({
        "ruleId": row.control.id,
        "ruleIndex": rule_index,
        "kind": kind,
        "level": level,
        "message": { "text": message(row) },
        "locations": [{
            "logicalLocations": [{
                "name": short_name(&resource.id),
                "fullyQualifiedName": resource.id,
                "kind": "resource",
            }],
        }],
        "partialFingerprints": { "vigilFindingId/v1": row.finding_id() },
        "properties": {
            "status": row.result.status.as_str(),
            "account": resource.account,
            "region": resource.region,
            "resourceType": resource.kind,
        },
    });
    if let (false, Some(properties)) = (
        row.result.details.is_null(),
        result.get_mut("properties").and_then(Value::as_object_mut),
    ) {
        properties.insert("details".into(), row.result.details.clone());
    }
    if let (Some(mute), Value::Object(fields)) = (&row.result.muted, &mut result) {
        let mut suppression = json!({
            "kind": "external",
            "status": "accepted",
            "justification": mute.reason,
        });
        let mut properties = Map::new();
        if let Some(by) = &mute.by {
            properties.insert("by".into(), by.as_str().into());
        }
        if let Some(expires) = mute.expires {
            properties.insert("expires".into(), rfc3339(expires).into());
        }
        if let (false, Value::Object(s)) = (properties.is_empty(), &mut suppression) {
            s.insert("properties".into(), Value::Object(properties));
        }
        fields.insert("suppressions".into(), json!([suppression]));
    }
    result
}

/// `VIG-02 No root access keys: <reason> (arn:…)`.
fn message(row: &Row<'_>) -> String {
    let reason = row.result.reason.trim();
    let verdict = if row.result.status == Status::Fail {
        reason.to_string()
    } else {
        format!("Could not be evaluated: {reason}")
    };
    format!(
        "{}: {} ({})",
        row.control.title, verdict, row.result.resource.id
    )
}

fn invocation(report: &ScanReport) -> Value {
    json!({
        "executionSuccessful": true,
        "startTimeUtc": rfc3339(report.started_at),
        "endTimeUtc": rfc3339(report.finished_at),
        "properties": {
            "accounts": report.accounts,
            "regions": report.regions,
            "apiCalls": report.api_calls,
            "apiErrors": report.api_errors,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_names_are_pascal_case_identifiers() {
        assert_eq!(pascal_case("No root access keys"), "NoRootAccessKeys");
        assert_eq!(
            pascal_case("S3 buckets: not public (ACL/policy)"),
            "S3BucketsNotPublicACLPolicy"
        );
    }
}
