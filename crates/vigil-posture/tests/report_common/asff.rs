//! A checker for the ASFF that Security Hub `BatchImportFindings` accepts: required
//! top-level attributes, their types and the documented limits (AWS Security Hub user guide,
//! "Required top-level ASFF attributes", "Types taxonomy for ASFF", and the API reference of
//! `AwsSecurityFinding`, `Compliance` and `Note`).
//!
//! Adapted from vigil-findings' `tests/common/asff.rs` (same checks for the common
//! attributes), with the control-finding attributes `Compliance` and `Note` added and the
//! threat-finding attributes `Network` and `Action` dropped.

use serde_json::{Map, Value};

/// Required top-level attributes.
const REQUIRED: [&str; 12] = [
    "AwsAccountId",
    "CreatedAt",
    "Description",
    "GeneratorId",
    "Id",
    "ProductArn",
    "Resources",
    "SchemaVersion",
    "Severity",
    "Title",
    "Types",
    "UpdatedAt",
];

/// Optional top-level attributes vigil's posture findings may carry.
const OPTIONAL: [&str; 10] = [
    "Region",
    "FindingProviderFields",
    "FirstObservedAt",
    "LastObservedAt",
    "ProductFields",
    "Workflow",
    "RecordState",
    "Remediation",
    "Compliance",
    "Note",
];

const NAMESPACES: [&str; 5] = [
    "Software and Configuration Checks",
    "TTPs",
    "Effects",
    "Unusual Behaviors",
    "Sensitive Data Identifications",
];

/// Every problem of one ASFF finding; empty when it is valid.
pub fn check(finding: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let Some(fields) = finding.as_object() else {
        return vec!["a finding is not a JSON object".into()];
    };
    for name in REQUIRED {
        if !fields.contains_key(name) {
            problems.push(format!("missing required {name}"));
        }
    }
    for name in fields.keys() {
        if !REQUIRED.contains(&name.as_str()) && !OPTIONAL.contains(&name.as_str()) {
            problems.push(format!("unexpected top-level attribute {name}"));
        }
    }
    check_identity(fields, &mut problems);
    check_text(fields, &mut problems);
    check_times(fields, &mut problems);
    check_types(fields, &mut problems);
    check_severity(fields, &mut problems);
    check_resources(fields, &mut problems);
    check_product_fields(fields, &mut problems);
    check_workflow(fields, &mut problems);
    check_compliance(fields, &mut problems);
    check_note(fields, &mut problems);
    check_finding_provider_fields(fields, &mut problems);
    problems
}

fn text<'a>(fields: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    fields.get(name).and_then(Value::as_str)
}

fn check_identity(fields: &Map<String, Value>, problems: &mut Vec<String>) {
    if text(fields, "SchemaVersion") != Some("2018-10-08") {
        problems.push("SchemaVersion is not 2018-10-08".into());
    }
    let account = text(fields, "AwsAccountId").unwrap_or("");
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        problems.push(format!("AwsAccountId `{account}` is not 12 digits"));
    }
    let arn = text(fields, "ProductArn").unwrap_or("");
    let parts: Vec<&str> = arn.split(':').collect();
    let product = format!("product/{account}/default");
    let valid_arn = parts.len() == 6
        && parts[0] == "arn"
        && ["aws", "aws-cn", "aws-us-gov"].contains(&parts[1])
        && parts[2] == "securityhub"
        && !parts[3].is_empty()
        && parts[4] == account
        && parts[5] == product;
    if !valid_arn {
        problems.push(format!(
            "ProductArn `{arn}` is not a default product ARN of {account}"
        ));
    }
    for (name, max) in [("Id", 512), ("GeneratorId", 512)] {
        let value = text(fields, name).unwrap_or("");
        if value.is_empty() || value.chars().count() > max {
            problems.push(format!("{name} is empty or longer than {max}"));
        }
    }
}

fn check_text(fields: &Map<String, Value>, problems: &mut Vec<String>) {
    for (name, max) in [("Title", 256), ("Description", 1024)] {
        let value = text(fields, name).unwrap_or("");
        if value.trim().is_empty() || value.chars().count() > max {
            problems.push(format!("{name} is empty or longer than {max} characters"));
        }
    }
    let recommendation = fields
        .get("Remediation")
        .and_then(|r| r.get("Recommendation"));
    if let Some(recommendation) = recommendation {
        let text = recommendation
            .get("Text")
            .and_then(Value::as_str)
            .unwrap_or("");
        if text.is_empty() || text.chars().count() > 512 {
            problems.push("Remediation.Recommendation.Text is empty or over 512".into());
        }
    }
}

fn is_timestamp(value: &str) -> bool {
    !value.contains(' ')
        && (value.ends_with('Z') || value.contains('+'))
        && chrono::DateTime::parse_from_rfc3339(value).is_ok()
}

fn check_times(fields: &Map<String, Value>, problems: &mut Vec<String>) {
    for name in [
        "CreatedAt",
        "UpdatedAt",
        "FirstObservedAt",
        "LastObservedAt",
    ] {
        match text(fields, name) {
            Some(value) if is_timestamp(value) => {}
            None if !REQUIRED.contains(&name) => {}
            other => problems.push(format!("{name} {other:?} is not an RFC 3339 time")),
        }
    }
    let (created, updated) = (text(fields, "CreatedAt"), text(fields, "UpdatedAt"));
    let parse = |t: Option<&str>| t.and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
    if let (Some(created), Some(updated)) = (parse(created), parse(updated)) {
        if updated < created {
            problems.push("UpdatedAt is before CreatedAt".into());
        }
    }
}

fn check_types(fields: &Map<String, Value>, problems: &mut Vec<String>) {
    let types = fields.get("Types").and_then(Value::as_array);
    let Some(types) = types.filter(|t| !t.is_empty() && t.len() <= 50) else {
        return problems.push("Types must hold 1 to 50 entries".into());
    };
    for kind in types {
        let kind = kind.as_str().unwrap_or("");
        let parts: Vec<&str> = kind.split('/').collect();
        if parts.len() > 3 || !NAMESPACES.contains(&parts[0]) || parts.iter().any(|p| p.is_empty())
        {
            problems.push(format!(
                "type `{kind}` is not namespace/category/classifier"
            ));
        }
    }
}

fn check_severity(fields: &Map<String, Value>, problems: &mut Vec<String>) {
    let severity = fields.get("Severity");
    let label = severity
        .and_then(|s| s.get("Label"))
        .and_then(Value::as_str);
    let labels = ["INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"];
    if !label.is_some_and(|label| labels.contains(&label)) {
        problems.push(format!("Severity.Label {label:?} is not an ASFF label"));
    }
    let normalized = severity
        .and_then(|s| s.get("Normalized"))
        .and_then(Value::as_u64);
    if normalized.is_none_or(|n| n > 100) {
        problems.push("Severity.Normalized is not 0-100".into());
    }
}

fn check_resources(fields: &Map<String, Value>, problems: &mut Vec<String>) {
    let resources = fields.get("Resources").and_then(Value::as_array);
    let Some(resources) = resources.filter(|r| !r.is_empty() && r.len() <= 32) else {
        return problems.push("Resources must hold 1 to 32 entries".into());
    };
    for resource in resources {
        let field = |name| resource.get(name).and_then(Value::as_str).unwrap_or("");
        if field("Type").is_empty() || field("Type").len() > 256 {
            problems.push(format!("resource type `{}` is invalid", field("Type")));
        }
        if field("Id").is_empty() || field("Id").chars().count() > 512 {
            problems.push("resource Id is empty or over 512".into());
        }
        if !["aws", "aws-cn", "aws-us-gov"].contains(&field("Partition")) {
            problems.push(format!(
                "resource Partition `{}` is invalid",
                field("Partition")
            ));
        }
    }
}

fn check_product_fields(fields: &Map<String, Value>, problems: &mut Vec<String>) {
    let Some(product_fields) = fields.get("ProductFields") else {
        return;
    };
    let Some(map) = product_fields.as_object().filter(|m| m.len() <= 50) else {
        return problems.push("ProductFields is not a map of at most 50 pairs".into());
    };
    for (key, value) in map {
        let value = value.as_str();
        let valid = key.chars().count() <= 128 && value.is_some_and(|v| v.chars().count() <= 2048);
        if !valid || key.starts_with("aws/") {
            problems.push(format!("ProductFields `{key}` breaks the key/value limits"));
        }
    }
}

fn check_workflow(fields: &Map<String, Value>, problems: &mut Vec<String>) {
    let status = fields
        .get("Workflow")
        .and_then(|w| w.get("Status"))
        .and_then(Value::as_str);
    if let Some(status) = status {
        if !["NEW", "NOTIFIED", "RESOLVED", "SUPPRESSED"].contains(&status) {
            problems.push(format!("Workflow.Status `{status}` is invalid"));
        }
    }
    if let Some(state) = text(fields, "RecordState") {
        if !["ACTIVE", "ARCHIVED"].contains(&state) {
            problems.push(format!("RecordState `{state}` is invalid"));
        }
    }
}

fn check_compliance(fields: &Map<String, Value>, problems: &mut Vec<String>) {
    let Some(compliance) = fields.get("Compliance") else {
        return;
    };
    let status = compliance.get("Status").and_then(Value::as_str);
    if !matches!(
        status,
        Some("PASSED" | "WARNING" | "FAILED" | "NOT_AVAILABLE")
    ) {
        problems.push(format!("Compliance.Status {status:?} is invalid"));
    }
    if let Some(id) = compliance.get("SecurityControlId") {
        if id.as_str().is_none_or(str::is_empty) {
            problems.push("Compliance.SecurityControlId is not a non-empty string".into());
        }
    }
    if let Some(related) = compliance.get("RelatedRequirements") {
        let valid = related.as_array().is_some_and(|list| {
            list.len() <= 32
                && list
                    .iter()
                    .all(|r| r.as_str().is_some_and(|r| !r.is_empty()))
        });
        if !valid {
            problems.push("Compliance.RelatedRequirements is not 0-32 strings".into());
        }
    }
    let known = [
        "Status",
        "SecurityControlId",
        "RelatedRequirements",
        "AssociatedStandards",
        "StatusReasons",
    ];
    for key in compliance.as_object().into_iter().flat_map(|c| c.keys()) {
        if !known.contains(&key.as_str()) {
            problems.push(format!("Compliance.{key} is not an ASFF attribute"));
        }
    }
}

/// `FindingProviderFields` holds Confidence, Criticality, RelatedFindings, Severity (Label,
/// Original) and Types, with the same rules as the top-level ones.
fn check_finding_provider_fields(fields: &Map<String, Value>, problems: &mut Vec<String>) {
    let Some(provider) = fields.get("FindingProviderFields") else {
        return;
    };
    let Some(provider) = provider.as_object() else {
        return problems.push("FindingProviderFields is not an object".into());
    };
    let known = [
        "Confidence",
        "Criticality",
        "RelatedFindings",
        "Severity",
        "Types",
    ];
    for key in provider.keys() {
        if !known.contains(&key.as_str()) {
            problems.push(format!(
                "FindingProviderFields.{key} is not an ASFF attribute"
            ));
        }
    }
    if let Some(severity) = provider.get("Severity") {
        let label = severity.get("Label").and_then(Value::as_str);
        let labels = ["INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"];
        if !label.is_some_and(|label| labels.contains(&label)) {
            problems.push(format!(
                "FindingProviderFields.Severity.Label {label:?} is invalid"
            ));
        }
    }
    if provider.contains_key("Types") {
        let mut inner = Map::new();
        inner.insert("Types".into(), provider["Types"].clone());
        check_types(&inner, problems);
    }
}

fn check_note(fields: &Map<String, Value>, problems: &mut Vec<String>) {
    let Some(note) = fields.get("Note") else {
        return;
    };
    for (name, max) in [("Text", 512), ("UpdatedBy", 512)] {
        let value = note.get(name).and_then(Value::as_str).unwrap_or("");
        if value.is_empty() || value.chars().count() > max {
            problems.push(format!("Note.{name} is empty or longer than {max}"));
        }
    }
    let updated = note.get("UpdatedAt").and_then(Value::as_str).unwrap_or("");
    if !is_timestamp(updated) {
        problems.push(format!(
            "Note.UpdatedAt `{updated}` is not an RFC 3339 time"
        ));
    }
}
