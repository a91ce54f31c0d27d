//! AWS Security Finding Format: a JSON array of control findings that is valid `Findings`
//! input of Security Hub `BatchImportFindings`, imported as the account's own custom product
//! (`product/<account>/default`).
//!
//! Status mapping (`Compliance.Status`): PASS → `PASSED`, FAIL → `FAILED`, UNKNOWN →
//! `WARNING` (Security Hub's "some information is missing"), NOT_APPLICABLE →
//! `NOT_AVAILABLE`. As Security Hub does for its own controls, passed and not-applicable
//! findings carry severity `INFORMATIONAL` (the control's own severity stays in
//! `Severity.Original`), passed ones are workflow `RESOLVED`, not-applicable ones archived.
//!
//! Importing: with the default product ARN, `BatchImportFindings` must be called by the
//! account in `AwsAccountId`, in the region its `ProductArn` names. `Region` and that region
//! are the resource's; global resources (IAM, account settings) take the first region
//! scanned. So an importer groups findings by account and region.
//!
//! Severity and Types are also written under `FindingProviderFields`: Security Hub ignores
//! updates of the top-level ones by `BatchImportFindings` after a finding exists, so a later
//! scan's severity reaches Security Hub only through `FindingProviderFields`.

use std::io::{self, Write};

use serde_json::{json, Map, Value};

use super::view::{
    cis_requirement, is_account_id, partition, region_partition, report_region, rfc3339,
    truncate_chars, Row,
};
use crate::result::{ScanReport, Status};

/// The ASFF schema version vigil writes.
const SCHEMA_VERSION: &str = "2018-10-08";
/// ASFF limits (AWS Security Hub API reference, `AwsSecurityFinding` and `Compliance`).
const MAX_TITLE: usize = 256;
const MAX_DESCRIPTION: usize = 1024;
const MAX_RECOMMENDATION: usize = 512;
const MAX_PRODUCT_FIELD_VALUE: usize = 2048;
const MAX_NOTE: usize = 512;
const MAX_RELATED_REQUIREMENTS: usize = 32;

/// Writes every result as an ASFF finding, in report order.
pub(super) fn write(report: &ScanReport, rows: &[Row<'_>], out: &mut dyn Write) -> io::Result<()> {
    let findings = rows
        .iter()
        .map(|row| finding(report, row))
        .collect::<io::Result<Vec<Value>>>()?;
    super::write_pretty_json(&Value::Array(findings), out)
}

/// One result as an ASFF finding; an error when it has no usable AWS account.
pub(super) fn finding(report: &ScanReport, row: &Row<'_>) -> io::Result<Value> {
    let (result, control) = (row.result, row.control);
    let account = result.resource.account.as_str();
    if !is_account_id(account) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "result {} ({} on {}): account `{account}` is not a 12-digit AWS account id, which ASFF requires",
                row.index + 1,
                control.id,
                result.resource.id
            ),
        ));
    }
    let region = report_region(report, row);
    let severity = row.severity();
    let mut item = json!({
        "SchemaVersion": SCHEMA_VERSION,
        "Id": format!("vigil/posture/{}/{}", control.id, row.finding_id()),
        "ProductArn": format!(
            "arn:{}:securityhub:{region}:{account}:product/{account}/default",
            region_partition(region)
        ),
        "GeneratorId": format!("vigil/posture/{}", control.id),
        "AwsAccountId": account,
        "Region": region,
        "Types": types(row),
        "CreatedAt": rfc3339(report.finished_at),
        "UpdatedAt": rfc3339(report.finished_at),
        "FirstObservedAt": rfc3339(report.finished_at),
        "LastObservedAt": rfc3339(report.finished_at),
        "Severity": {
            "Label": severity.label.as_str(),
            "Normalized": severity.score,
            "Original": control.severity.label.as_str(),
        },
        "FindingProviderFields": {
            "Severity": {
                "Label": severity.label.as_str(),
                "Original": control.severity.label.as_str(),
            },
            "Types": types(row),
        },
        "Title": truncate_chars(&format!("{} {}", control.id, control.title), MAX_TITLE),
        "Description": truncate_chars(&description(row), MAX_DESCRIPTION),
        "Remediation": {
            "Recommendation": { "Text": truncate_chars(control.remediation, MAX_RECOMMENDATION) },
        },
        "Resources": [resource(row, region)],
        "Compliance": compliance(row),
        "ProductFields": product_fields(row),
        "Workflow": { "Status": workflow_status(row) },
        "RecordState": if result.status == Status::NotApplicable { "ARCHIVED" } else { "ACTIVE" },
    });
    if let (Some(note), Value::Object(fields)) = (note(report, row), &mut item) {
        fields.insert("Note".into(), note);
    }
    Ok(item)
}

/// The control's description, then why this resource got its status.
fn description(row: &Row<'_>) -> String {
    let reason = row.result.reason.trim();
    if reason.is_empty() {
        return row.control.description.to_string();
    }
    format!("{} Result: {reason}", row.control.description.trim_end())
}

/// `Software and Configuration Checks/...`: industry standards (CIS) when the control maps to
/// the benchmark, AWS security best practices always.
pub(super) fn types(row: &Row<'_>) -> Vec<String> {
    let mut types = Vec::new();
    if row.control.cis.is_some() {
        types.push(
            "Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark"
                .to_string(),
        );
    }
    types.push("Software and Configuration Checks/AWS Security Best Practices".to_string());
    types
}

/// `Compliance`: the status, the Security Hub control the check corresponds to (the first
/// one; the vigil id when there is none), and the CIS and other Security Hub ids as related
/// requirements.
fn compliance(row: &Row<'_>) -> Value {
    let control = row.control;
    let status = match row.result.status {
        Status::Pass => "PASSED",
        Status::Fail => "FAILED",
        Status::Unknown => "WARNING",
        Status::NotApplicable => "NOT_AVAILABLE",
    };
    let security_control = control.security_hub.first().copied().unwrap_or(control.id);
    let mut related: Vec<String> = control.cis.map(cis_requirement).into_iter().collect();
    related.extend(
        control
            .security_hub
            .iter()
            .skip(1)
            .map(|id| format!("AWS Security Hub/{id}")),
    );
    related.truncate(MAX_RELATED_REQUIREMENTS);
    let mut compliance = json!({ "Status": status, "SecurityControlId": security_control });
    if let (false, Value::Object(fields)) = (related.is_empty(), &mut compliance) {
        fields.insert("RelatedRequirements".into(), related.into());
    }
    compliance
}

/// The resource as ASFF names it: `AWS::S3::Bucket` → `AwsS3Bucket`.
fn resource(row: &Row<'_>, region: &str) -> Value {
    let id = &row.result.resource.id;
    json!({
        "Type": resource_type(&row.result.resource.kind),
        "Id": truncate_chars(id, 512),
        "Partition": partition(id, region),
        "Region": region,
    })
}

/// The ASFF resource type of a CloudFormation type name: `AWS::EC2::SecurityGroup` →
/// `AwsEc2SecurityGroup`, `AWS::RDS::DBInstance` → `AwsRdsDbInstance`, `AWS::::Account` →
/// `AwsAccount`; `Other` for anything that is not an `AWS::` name.
pub(super) fn resource_type(kind: &str) -> String {
    let mut parts = kind.split("::");
    if parts.next() != Some("AWS") {
        return "Other".to_string();
    }
    let mut name = String::from("Aws");
    for part in parts {
        for word in words(part) {
            let mut chars = word.chars();
            if let Some(first) = chars.next() {
                name.push(first.to_ascii_uppercase());
                name.extend(chars.map(|c| c.to_ascii_lowercase()));
            }
        }
    }
    if name == "Aws" {
        "Other".to_string()
    } else {
        name
    }
}

/// The words of a PascalCase name with its acronyms kept whole: `DBInstance` → `DB`,
/// `Instance`; `EC2` → `EC2`; `SecurityGroup` → `Security`, `Group`.
fn words(part: &str) -> Vec<&str> {
    let bytes = part.as_bytes();
    let mut words = Vec::new();
    let mut start = 0;
    for i in 1..bytes.len() {
        let (prev, cur) = (bytes[i - 1], bytes[i]);
        let next_lower = bytes.get(i + 1).is_some_and(u8::is_ascii_lowercase);
        let boundary = (prev.is_ascii_lowercase() && cur.is_ascii_uppercase())
            || (prev.is_ascii_uppercase() && cur.is_ascii_uppercase() && next_lower);
        if boundary {
            words.push(&part[start..i]);
            start = i;
        }
    }
    if start < part.len() {
        words.push(&part[start..]);
    }
    words
}

/// Workflow status: muted → SUPPRESSED, passed → RESOLVED, anything else NEW.
fn workflow_status(row: &Row<'_>) -> &'static str {
    match (row.is_muted(), row.result.status) {
        (true, _) => "SUPPRESSED",
        (false, Status::Pass) => "RESOLVED",
        (false, _) => "NEW",
    }
}

/// The mute, as a note: who, why, until when.
fn note(report: &ScanReport, row: &Row<'_>) -> Option<Value> {
    let mute = row.result.muted.as_ref()?;
    let mut text = format!("Muted in vigil: {}", mute.reason);
    if let Some(expires) = mute.expires {
        text.push_str(&format!(" (until {})", rfc3339(expires)));
    }
    Some(json!({
        "Text": truncate_chars(&text, MAX_NOTE),
        "UpdatedBy": truncate_chars(mute.by.as_deref().unwrap_or("vigil"), 512),
        "UpdatedAt": rfc3339(report.finished_at),
    }))
}

/// vigil's own fields, string to string.
fn product_fields(row: &Row<'_>) -> Map<String, Value> {
    let (result, control) = (row.result, row.control);
    let mut fields = vec![
        ("vigil/control_id", control.id.to_string()),
        ("vigil/area", control.area.name().to_string()),
        ("vigil/status", result.status.as_str().to_string()),
        ("vigil/resource_type", result.resource.kind.clone()),
        ("vigil/reason", result.reason.clone()),
        ("vigil/security_hub_ids", control.security_hub.join(",")),
    ];
    if let Some(cis) = control.cis {
        fields.push(("vigil/cis", cis.to_string()));
    }
    if let Some(action) = control.remediation_action {
        fields.push(("vigil/remediation_action", action.to_string()));
    }
    if !(result.details.is_null() || result.details == json!({})) {
        fields.push(("vigil/details", result.details.to_string()));
    }
    fields
        .into_iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(key, value)| {
            let value = truncate_chars(&value, MAX_PRODUCT_FIELD_VALUE);
            (key.to_string(), Value::String(value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_types_follow_the_asff_names() {
        let cases = [
            ("AWS::S3::Bucket", "AwsS3Bucket"),
            ("AWS::EC2::SecurityGroup", "AwsEc2SecurityGroup"),
            ("AWS::EC2::VPC", "AwsEc2Vpc"),
            ("AWS::RDS::DBInstance", "AwsRdsDbInstance"),
            ("AWS::IAM::AccessKey", "AwsIamAccessKey"),
            ("AWS::CloudTrail::Trail", "AwsCloudTrailTrail"),
            ("AWS::KMS::Key", "AwsKmsKey"),
            ("AWS::::Account", "AwsAccount"),
            ("AWS::EC2::NetworkAcl", "AwsEc2NetworkAcl"),
            ("Custom::Thing", "Other"),
            ("", "Other"),
            ("AWS", "Other"),
        ];
        for (kind, expected) in cases {
            assert_eq!(resource_type(kind), expected, "{kind}");
        }
    }
}
