//! OCSF Detection Finding (class 2004 in the Findings category), one per finding.

use std::io::Write;

use serde_json::{json, Map, Value};
use vigil_event::LogSource;

use super::asff_taxonomy::{asff_resource_type, asff_types, Arn};
use super::{write_json_array, Format, FormatError, WriteSummary};
use crate::{Finding, SeverityLabel, Status, TechniqueRef};

/// The OCSF schema version vigil writes (`metadata.version`): the version of the schema copy
/// the tests check every rendered finding against (`tests/data/ocsf/version.json`).
pub const OCSF_SCHEMA_VERSION: &str = "1.9.0-dev";
const CATEGORY_UID: u32 = 2;
const CLASS_UID: u32 = 2004;
/// `activity_id` 1: Create.
const ACTIVITY_CREATE: u32 = 1;
/// `analytic.type_id` 1: Rule.
const ANALYTIC_RULE: u32 = 1;
/// `account.type_id` 10: AWS Account.
const ACCOUNT_AWS: u32 = 10;

/// Writes `findings` as a JSON array of OCSF Detection Findings.
pub fn write_ocsf(findings: &[Finding], out: &mut dyn Write) -> Result<WriteSummary, FormatError> {
    let items: Vec<Value> = findings.iter().map(ocsf_finding).collect();
    write_json_array(Format::Ocsf, &items, out)?;
    Ok(WriteSummary {
        written: items.len(),
        skipped: Vec::new(),
    })
}

/// One finding as an OCSF Detection Finding.
pub fn ocsf_finding(finding: &Finding) -> Value {
    let (status_id, status) = status(finding.status);
    let created = finding
        .history
        .first()
        .map_or(finding.first_seen_ms, |c| c.at_ms);
    let mut item = json!({
        "activity_id": ACTIVITY_CREATE,
        "activity_name": "Create",
        "category_uid": CATEGORY_UID,
        "category_name": "Findings",
        "class_uid": CLASS_UID,
        "class_name": "Detection Finding",
        "type_uid": CLASS_UID * 100 + ACTIVITY_CREATE,
        "type_name": "Detection Finding: Create",
        "severity_id": severity_id(finding.severity.label),
        "severity": severity_name(finding.severity.label),
        "status_id": status_id,
        "status": status,
        "time": created,
        "start_time": finding.first_seen_ms,
        "end_time": finding.last_seen_ms,
        "duration": finding.last_seen_ms.saturating_sub(finding.first_seen_ms),
        "count": finding.event_count,
        "message": finding.rule_title,
        "is_alert": matches!(finding.status, Status::New | Status::Notified),
        "metadata": metadata(finding),
        "finding_info": finding_info(finding, created),
        "cloud": cloud(finding),
        "resources": resources(finding),
        "evidences": evidences(finding),
        "unmapped": unmapped(finding),
    });
    if let (Some(runbook), Value::Object(fields)) = (&finding.runbook, &mut item) {
        fields.insert("remediation".into(), remediation(runbook));
    }
    item
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

fn severity_name(label: SeverityLabel) -> &'static str {
    match label {
        SeverityLabel::Informational => "Informational",
        SeverityLabel::Low => "Low",
        SeverityLabel::Medium => "Medium",
        SeverityLabel::High => "High",
        SeverityLabel::Critical => "Critical",
    }
}

/// OCSF finding status: NOTIFIED is "In Progress" (someone has been told).
fn status(status: Status) -> (u32, &'static str) {
    match status {
        Status::New => (1, "New"),
        Status::Notified => (2, "In Progress"),
        Status::Suppressed => (3, "Suppressed"),
        Status::Resolved => (4, "Resolved"),
    }
}

fn metadata(finding: &Finding) -> Value {
    json!({
        "product": {
            "name": "vigil",
            "vendor_name": "vigil",
            "version": env!("CARGO_PKG_VERSION"),
        },
        "version": OCSF_SCHEMA_VERSION,
        "profiles": ["cloud"],
        "uid": finding.id,
        "log_name": "findings",
    })
}

fn finding_info(finding: &Finding, created: i64) -> Value {
    let data_sources: Vec<&str> = finding.log_sources.iter().map(|s| s.as_str()).collect();
    let mut info = json!({
        "uid": finding.id,
        "title": finding.rule_title,
        "desc": finding.description,
        "types": asff_types(finding),
        "created_time": created,
        "first_seen_time": finding.first_seen_ms,
        "last_seen_time": finding.last_seen_ms,
        "related_events_count": finding.event_count,
        "data_sources": data_sources,
        "analytic": {
            "name": finding.rule_title,
            "uid": finding.rule_id,
            "type_id": ANALYTIC_RULE,
            "type": "Rule",
        },
        "tags": tags(&finding.tags),
    });
    let attacks = attacks(finding);
    if let (false, Value::Object(fields)) = (attacks.is_empty(), &mut info) {
        fields.insert("attacks".into(), Value::Array(attacks));
    }
    info
}

/// Rule tags as key/value objects: `attack.t1078` → `{name: attack, value: t1078}`.
fn tags(tags: &[String]) -> Vec<Value> {
    let pair = |tag: &String| match tag.split_once('.') {
        Some((name, value)) => json!({ "name": name, "value": value }),
        None => json!({ "name": "tag", "value": tag }),
    };
    tags.iter().map(pair).collect()
}

/// One attack per technique; tactics from the tags go on every attack (Sigma tags do not
/// pair techniques with tactics). Tactics alone when no technique is tagged.
fn attacks(finding: &Finding) -> Vec<Value> {
    let tactics: Vec<Value> = finding
        .tactics()
        .iter()
        .map(|t| json!({ "uid": t.id(), "name": t.name() }))
        .collect();
    let techniques = finding.techniques();
    if techniques.is_empty() {
        return tactics
            .into_iter()
            .map(|t| json!({ "tactic": t }))
            .collect();
    }
    techniques
        .iter()
        .map(|technique| attack(technique, &tactics))
        .collect()
}

fn attack(technique: &TechniqueRef, tactics: &[Value]) -> Value {
    let mut attack = Map::new();
    attack.insert("technique".into(), json!({ "uid": technique.technique }));
    if let Some(sub) = &technique.sub_technique {
        attack.insert("sub_technique".into(), json!({ "uid": sub }));
    }
    if let Some(first) = tactics.first() {
        attack.insert("tactic".into(), first.clone());
    }
    if tactics.len() > 1 {
        attack.insert("tactics".into(), Value::Array(tactics.to_vec()));
    }
    Value::Object(attack)
}

fn cloud(finding: &Finding) -> Value {
    let mut cloud = Map::new();
    cloud.insert("provider".into(), "AWS".into());
    if let Some(account) = &finding.account {
        let account = json!({ "uid": account, "type_id": ACCOUNT_AWS, "type": "AWS Account" });
        cloud.insert("account".into(), account);
    }
    if let Some(region) = &finding.region {
        cloud.insert("region".into(), region.as_str().into());
    }
    Value::Object(cloud)
}

fn resources(finding: &Finding) -> Vec<Value> {
    finding
        .resources
        .iter()
        .map(|id| {
            let mut resource = Map::new();
            resource.insert("uid".into(), id.as_str().into());
            resource.insert("type".into(), asff_resource_type(id).into());
            if let Some(arn) = Arn::parse(id) {
                resource.insert("cloud_partition".into(), arn.partition.into());
                if !arn.region.is_empty() {
                    resource.insert("region".into(), arn.region.into());
                }
            }
            Value::Object(resource)
        })
        .collect()
}

/// One evidence per sample: the original record as `data`, with the actor and the API call
/// of CloudTrail records.
fn evidences(finding: &Finding) -> Vec<Value> {
    finding
        .samples
        .iter()
        .map(|sample| {
            let record: Value = serde_json::from_str(sample.record.get()).unwrap_or(Value::Null);
            let mut evidence = Map::new();
            evidence.insert("uid".into(), sample.origin.as_str().into());
            evidence.insert("name".into(), sample.source.as_str().into());
            if sample.source == LogSource::CloudTrail {
                add_cloudtrail_evidence(&mut evidence, &record);
            }
            evidence.insert("data".into(), record);
            Value::Object(evidence)
        })
        .collect()
}

fn add_cloudtrail_evidence(evidence: &mut Map<String, Value>, record: &Value) {
    let text = |keys: &[&str]| {
        let mut value = record;
        for key in keys {
            value = value.get(key)?;
        }
        value.as_str().filter(|s| !s.is_empty())
    };
    if let Some(operation) = text(&["eventName"]) {
        let mut api = json!({ "operation": operation });
        if let (Some(service), Value::Object(fields)) = (text(&["eventSource"]), &mut api) {
            fields.insert("service".into(), json!({ "name": service }));
        }
        evidence.insert("api".into(), api);
    }
    if let Some(arn) = text(&["userIdentity", "arn"]) {
        evidence.insert("actor".into(), json!({ "user": { "uid": arn } }));
    }
    let ip = text(&["sourceIPAddress"]).filter(|ip| ip.parse::<std::net::IpAddr>().is_ok());
    if let Some(ip) = ip {
        evidence.insert("src_endpoint".into(), json!({ "ip": ip }));
    }
}

fn remediation(runbook: &str) -> Value {
    let mut remediation = json!({ "desc": format!("Follow the runbook: {runbook}") });
    let is_url = runbook.starts_with("https://") || runbook.starts_with("http://");
    if let (true, Value::Object(fields)) = (is_url, &mut remediation) {
        fields.insert("references".into(), json!([runbook]));
    }
    remediation
}

/// What OCSF has no attribute for: the deduplication key and window, the rule kind, the
/// principal and source IPs as vigil recorded them, intel matches, the runbook reference.
fn unmapped(finding: &Finding) -> Value {
    json!({
        "vigil": {
            "rule_kind": finding.rule_kind.as_str(),
            "dedup_key": finding.dedup_key,
            "window_start_ms": finding.window_start_ms,
            "principal": finding.principal,
            "source_ips": finding.source_ips,
            "intel": finding.intel,
            "severity_score": finding.severity.score,
        }
    })
}
