//! OCSF Compliance Finding (class 2003 in the Findings category), one per result.
//!
//! `compliance.status_id`: PASS → 1 Pass, UNKNOWN → 2 Warning ("did not yield a result due
//! to missing information"), FAIL → 3 Fail, NOT_APPLICABLE → 99 Other (`Not Applicable`).
//! The finding's own `status_id` follows the workflow: muted → 3 Suppressed, PASS → 4
//! Resolved, NOT_APPLICABLE → 5 Archived, otherwise 1 New.

use std::io::{self, Write};

use serde_json::{json, Map, Value};
use vigil_findings::SeverityLabel;

use super::asff::types;
use super::view::{cis_requirement, is_region, partition, report_region, short_name, Row};
use super::CIS_BENCHMARK;
use crate::result::{ScanReport, Status};

/// The OCSF schema version vigil writes (`metadata.version`): the version of the schema copy
/// the tests check every rendered finding against (vigil-findings' `tests/data/ocsf/version.json`).
pub const OCSF_SCHEMA_VERSION: &str = "1.9.0-dev";
const CATEGORY_UID: u32 = 2;
const CLASS_UID: u32 = 2003;
/// `activity_id` 1: Create.
const ACTIVITY_CREATE: u32 = 1;
/// `analytic.type_id` 1: Rule.
const ANALYTIC_RULE: u32 = 1;
/// `account.type_id` 10: AWS Account.
const ACCOUNT_AWS: u32 = 10;
/// The framework every vigil control belongs to.
const PILLAR: &str = "AWS Well-Architected Framework Security Pillar";

/// Writes every result as an OCSF Compliance Finding, in report order.
pub(super) fn write(report: &ScanReport, rows: &[Row<'_>], out: &mut dyn Write) -> io::Result<()> {
    let items: Vec<Value> = rows.iter().map(|row| finding(report, row)).collect();
    super::write_pretty_json(&Value::Array(items), out)
}

/// One result as an OCSF Compliance Finding.
pub(super) fn finding(report: &ScanReport, row: &Row<'_>) -> Value {
    let (result, control) = (row.result, row.control);
    let severity = row.severity().label;
    let (status_id, status) = workflow(row);
    let time = report.finished_at.timestamp_millis();
    json!({
        "activity_id": ACTIVITY_CREATE,
        "activity_name": "Create",
        "category_uid": CATEGORY_UID,
        "category_name": "Findings",
        "class_uid": CLASS_UID,
        "class_name": "Compliance Finding",
        "type_uid": CLASS_UID * 100 + ACTIVITY_CREATE,
        "type_name": "Compliance Finding: Create",
        "severity_id": severity_id(severity),
        "severity": super::view::label_title(severity),
        "status_id": status_id,
        "status": status,
        "time": time,
        "message": result.reason,
        "metadata": metadata(row),
        "finding_info": {
            "uid": row.finding_id(),
            "title": control.title,
            "desc": control.description,
            "types": types(row),
            "created_time": time,
            "analytic": {
                "uid": control.id,
                "name": control.title,
                "category": control.area.title(),
                "type_id": ANALYTIC_RULE,
                "type": "Rule",
            },
        },
        "compliance": compliance(row),
        "cloud": cloud(report, row),
        "resources": [resource(row)],
        "remediation": { "desc": control.remediation },
        "unmapped": unmapped(row),
    })
}

fn severity_id(label: SeverityLabel) -> u32 {
    match label {
        SeverityLabel::Informational => 1,
        SeverityLabel::Low => 2,
        SeverityLabel::Medium => 3,
        SeverityLabel::High => 4,
        SeverityLabel::Critical => 5,
    }
}

fn workflow(row: &Row<'_>) -> (u32, &'static str) {
    match (row.is_muted(), row.result.status) {
        (true, _) => (3, "Suppressed"),
        (false, Status::Pass) => (4, "Resolved"),
        (false, Status::NotApplicable) => (5, "Archived"),
        (false, Status::Fail | Status::Unknown) => (1, "New"),
    }
}

fn metadata(row: &Row<'_>) -> Value {
    json!({
        "product": {
            "name": "vigil",
            "vendor_name": "vigil",
            "version": env!("CARGO_PKG_VERSION"),
        },
        "version": OCSF_SCHEMA_VERSION,
        "profiles": ["cloud"],
        "uid": row.finding_id(),
        "log_name": "posture",
    })
}

fn compliance(row: &Row<'_>) -> Value {
    let control = row.control;
    let (status_id, status) = match row.result.status {
        Status::Pass => (1, "Pass"),
        Status::Unknown => (2, "Warning"),
        Status::Fail => (3, "Fail"),
        Status::NotApplicable => (99, "Not Applicable"),
    };
    let mut standards = vec![PILLAR.to_string()];
    let mut requirements = Vec::new();
    if let Some(cis) = control.cis {
        standards.push(CIS_BENCHMARK.to_string());
        requirements.push(cis_requirement(cis));
    }
    requirements.extend(
        control
            .security_hub
            .iter()
            .map(|id| format!("AWS Security Hub/{id}")),
    );
    let mut compliance = json!({
        "control": control.id,
        "desc": control.description,
        "category": control.area.title(),
        "standards": standards,
        "status_id": status_id,
        "status": status,
        "status_code": row.result.status.as_str(),
        "status_details": [row.result.reason],
    });
    if let (false, Value::Object(fields)) = (requirements.is_empty(), &mut compliance) {
        fields.insert("requirements".into(), requirements.into());
    }
    compliance
}

fn cloud(report: &ScanReport, row: &Row<'_>) -> Value {
    let account = &row.result.resource.account;
    json!({
        "provider": "AWS",
        "account": { "uid": account, "type_id": ACCOUNT_AWS, "type": "AWS Account" },
        "region": report_region(report, row),
    })
}

fn resource(row: &Row<'_>) -> Value {
    let resource = &row.result.resource;
    let mut fields = Map::new();
    fields.insert("uid".into(), resource.id.as_str().into());
    fields.insert("name".into(), short_name(&resource.id).into());
    fields.insert("type".into(), resource.kind.as_str().into());
    fields.insert(
        "cloud_partition".into(),
        partition(&resource.id, &resource.region).into(),
    );
    if is_region(&resource.region) {
        fields.insert("region".into(), resource.region.as_str().into());
    }
    if !row.result.details.is_null() {
        fields.insert("data".into(), row.result.details.clone());
    }
    Value::Object(fields)
}

/// What OCSF has no attribute for: the area, the control's own severity, the automated
/// remediation, the mute.
fn unmapped(row: &Row<'_>) -> Value {
    let mut vigil = Map::new();
    vigil.insert("area".into(), row.control.area.name().to_string().into());
    vigil.insert("control_severity".into(), json!(row.control.severity));
    if let Some(action) = row.control.remediation_action {
        vigil.insert("remediation_action".into(), action.into());
    }
    if let Some(mute) = &row.result.muted {
        vigil.insert("muted".into(), json!(mute));
    }
    json!({ "vigil": vigil })
}
