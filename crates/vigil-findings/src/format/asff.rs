//! AWS Security Finding Format: a JSON array that is valid `Findings` input of Security Hub
//! `BatchImportFindings`.

use std::io::Write;
use std::net::IpAddr;

use serde_json::{json, Map, Value};
use vigil_event::time::format_rfc3339_ms;
use vigil_event::LogSource;

use super::asff_taxonomy::{asff_resource_type, asff_types, Arn};
use super::{truncate_chars, write_json_array, Format, FormatError, WriteSummary};
use crate::{Finding, Status};

/// The ASFF schema version vigil writes.
const SCHEMA_VERSION: &str = "2018-10-08";
/// ASFF limits (AWS Security Hub API reference, `AwsSecurityFinding`).
const MAX_TITLE: usize = 256;
const MAX_DESCRIPTION: usize = 1024;
const MAX_RESOURCES: usize = 32;
const MAX_PRODUCT_FIELDS: usize = 50;
const MAX_PRODUCT_FIELD_VALUE: usize = 2048;
const MAX_RECOMMENDATION: usize = 512;

/// Where findings without an account or region go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AsffOptions {
    /// The account for findings that name none (Security Hub requires one). Without it such
    /// findings are left out and reported in the [`WriteSummary`].
    pub default_account: Option<String>,
    /// The region for findings that name none; `us-east-1` when unset.
    pub default_region: Option<String>,
}

/// Writes `findings` as a JSON array of ASFF findings, leaving out those without an account.
pub fn write_asff(findings: &[Finding], out: &mut dyn Write) -> Result<WriteSummary, FormatError> {
    write_asff_with(findings, &AsffOptions::default(), out)
}

/// Writes `findings` as a JSON array of ASFF findings, with `options` for missing accounts
/// and regions.
pub fn write_asff_with(
    findings: &[Finding],
    options: &AsffOptions,
    out: &mut dyn Write,
) -> Result<WriteSummary, FormatError> {
    let mut summary = WriteSummary::default();
    let mut items = Vec::with_capacity(findings.len());
    for finding in findings {
        match asff_finding(finding, options) {
            Some(item) => items.push(item),
            None => summary.skipped.push((
                finding.id.clone(),
                "no AWS account: Security Hub requires AwsAccountId".to_string(),
            )),
        }
    }
    write_json_array(Format::Asff, &items, out)?;
    summary.written = items.len();
    Ok(summary)
}

/// One finding in ASFF; `None` when it has no account and `options` gives none.
pub fn asff_finding(finding: &Finding, options: &AsffOptions) -> Option<Value> {
    let account = finding
        .account
        .as_deref()
        .filter(|account| is_account_id(account))
        .or(options.default_account.as_deref())?;
    let region = finding
        .region
        .as_deref()
        .or(options.default_region.as_deref())
        .unwrap_or("us-east-1");
    let mut item = json!({
        "SchemaVersion": SCHEMA_VERSION,
        "Id": finding.id,
        "ProductArn": format!("arn:aws:securityhub:{region}:{account}:product/{account}/default"),
        "GeneratorId": finding.rule_id,
        "AwsAccountId": account,
        "Region": region,
        "Types": asff_types(finding),
        "CreatedAt": format_rfc3339_ms(created_ms(finding)),
        "UpdatedAt": format_rfc3339_ms(updated_ms(finding)),
        "FirstObservedAt": format_rfc3339_ms(finding.first_seen_ms),
        "LastObservedAt": format_rfc3339_ms(finding.last_seen_ms),
        "Severity": {
            "Label": finding.severity.label.as_str(),
            "Normalized": finding.severity.score,
        },
        "Title": truncate_chars(&finding.rule_title, MAX_TITLE),
        "Description": truncate_chars(description(finding), MAX_DESCRIPTION),
        "Resources": resources(finding, account, region),
        "ProductFields": product_fields(finding),
        "Workflow": { "Status": finding.status.as_str() },
        "RecordState": record_state(finding.status),
    });
    if let Value::Object(fields) = &mut item {
        add_optional(fields, finding);
    }
    Some(item)
}

fn add_optional(fields: &mut Map<String, Value>, finding: &Finding) {
    if let Some(remediation) = finding.runbook.as_deref().map(remediation) {
        fields.insert("Remediation".into(), remediation);
    }
    if let Some(ip) = first_ip(finding) {
        fields.insert("Network".into(), network(ip));
        fields.insert("Action".into(), action(finding, ip));
    }
}

fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

/// Creation time: the first history entry, else the first event.
fn created_ms(finding: &Finding) -> i64 {
    finding
        .history
        .first()
        .map_or(finding.first_seen_ms, |change| change.at_ms)
}

/// Last update: the latest of the last event and the last status change, never before
/// creation.
fn updated_ms(finding: &Finding) -> i64 {
    let changed = finding
        .history
        .last()
        .map_or(i64::MIN, |change| change.at_ms);
    finding.last_seen_ms.max(changed).max(created_ms(finding))
}

fn description(finding: &Finding) -> &str {
    if finding.description.trim().is_empty() {
        &finding.rule_title
    } else {
        &finding.description
    }
}

/// RESOLVED findings are archived (the issue is gone); every other status stays active.
fn record_state(status: Status) -> &'static str {
    match status {
        Status::Resolved => "ARCHIVED",
        Status::New | Status::Notified | Status::Suppressed => "ACTIVE",
    }
}

/// The finding's resources, or the account itself when it names none (ASFF needs one).
fn resources(finding: &Finding, account: &str, region: &str) -> Vec<Value> {
    let mut list: Vec<Value> = finding
        .resources
        .iter()
        .take(MAX_RESOURCES)
        .map(|id| resource(id, region))
        .collect();
    if list.is_empty() {
        list.push(json!({
            "Type": "AwsAccount",
            "Id": format!("AWS::::Account:{account}"),
            "Partition": "aws",
            "Region": region,
        }));
    }
    list
}

fn resource(id: &str, default_region: &str) -> Value {
    let arn = Arn::parse(id);
    let partition = arn
        .map(|arn| arn.partition)
        .filter(|p| ["aws", "aws-cn", "aws-us-gov"].contains(p))
        .unwrap_or("aws");
    let region = arn
        .map(|arn| arn.region)
        .filter(|r| !r.is_empty())
        .unwrap_or(default_region);
    json!({
        "Type": asff_resource_type(id),
        "Id": truncate_chars(id, 512),
        "Partition": partition,
        "Region": region,
    })
}

/// vigil's own fields, string to string, bounded in number and length.
fn product_fields(finding: &Finding) -> Map<String, Value> {
    let mut fields: Vec<(String, String)> = vec![
        ("vigil/rule_id".into(), finding.rule_id.clone()),
        ("vigil/rule_kind".into(), finding.rule_kind.as_str().into()),
        ("vigil/event_count".into(), finding.event_count.to_string()),
        ("vigil/dedup_key".into(), finding.dedup_key.clone()),
        ("vigil/tags".into(), finding.tags.join(",")),
        ("vigil/log_sources".into(), joined(&finding.log_sources)),
    ];
    let optional = [
        ("vigil/principal", finding.principal.clone()),
        ("vigil/runbook", finding.runbook.clone()),
    ];
    fields.extend(
        optional
            .into_iter()
            .filter_map(|(k, v)| Some((k.into(), v?))),
    );
    if !finding.source_ips.is_empty() {
        fields.push(("vigil/source_ips".into(), finding.source_ips.join(",")));
    }
    let intel = finding.intel.iter().enumerate().map(|(n, hit)| {
        let value = format!("{}: {} = {}", hit.list, hit.field, hit.entry);
        (format!("vigil/intel/{n}"), value)
    });
    fields.extend(intel);
    let samples = finding.samples.iter().enumerate();
    fields.extend(samples.map(|(n, s)| (format!("vigil/sample/{n}"), s.origin.clone())));
    fields
        .into_iter()
        .filter(|(_, value)| !value.is_empty())
        .take(MAX_PRODUCT_FIELDS)
        .map(|(key, value)| (key, truncate_chars(&value, MAX_PRODUCT_FIELD_VALUE).into()))
        .collect()
}

fn joined(sources: &[LogSource]) -> String {
    let names: Vec<&str> = sources.iter().map(|source| source.as_str()).collect();
    names.join(",")
}

fn remediation(runbook: &str) -> Value {
    let mut recommendation = Map::new();
    if runbook.starts_with("https://") || runbook.starts_with("http://") {
        recommendation.insert("Text".into(), "Follow the runbook at the URL.".into());
        recommendation.insert("Url".into(), runbook.into());
    } else {
        let text = truncate_chars(
            &format!("Follow the runbook: {runbook}"),
            MAX_RECOMMENDATION,
        );
        recommendation.insert("Text".into(), text.into());
    }
    json!({ "Recommendation": recommendation })
}

/// The first source address that is an IP (CloudTrail writes service names there too).
fn first_ip(finding: &Finding) -> Option<IpAddr> {
    finding.source_ips.iter().find_map(|ip| ip.parse().ok())
}

fn ip_field(ip: IpAddr, v4: &str, v6: &str) -> (String, Value) {
    let key = if ip.is_ipv4() { v4 } else { v6 };
    (key.to_string(), ip.to_string().into())
}

fn network(ip: IpAddr) -> Value {
    let (key, value) = ip_field(ip, "SourceIpV4", "SourceIpV6");
    let mut network = Map::new();
    network.insert("Direction".into(), "IN".into());
    network.insert(key, value);
    Value::Object(network)
}

/// An API call for CloudTrail findings, a network connection for flow-log findings.
fn action(finding: &Finding, ip: IpAddr) -> Value {
    let (key, value) = ip_field(ip, "IpAddressV4", "IpAddressV6");
    let remote = Value::Object(Map::from_iter([(key, value)]));
    let flow_only = finding.log_sources.iter().all(|s| *s == LogSource::VpcFlow);
    if flow_only && !finding.log_sources.is_empty() {
        return json!({
            "ActionType": "NETWORK_CONNECTION",
            "NetworkConnectionAction": { "ConnectionDirection": "INBOUND", "RemoteIpDetails": remote },
        });
    }
    let mut call = Map::new();
    call.insert("CallerType".into(), "remoteIp".into());
    call.insert("RemoteIpDetails".into(), remote);
    call.insert(
        "FirstSeen".into(),
        format_rfc3339_ms(finding.first_seen_ms).into(),
    );
    call.insert(
        "LastSeen".into(),
        format_rfc3339_ms(finding.last_seen_ms).into(),
    );
    if let Some((service, api)) = first_api_call(finding) {
        call.insert("ServiceName".into(), service.into());
        call.insert("Api".into(), api.into());
    }
    json!({ "ActionType": "AWS_API_CALL", "AwsApiCallAction": call })
}

/// `eventSource` and `eventName` of the first CloudTrail sample, when there is one.
fn first_api_call(finding: &Finding) -> Option<(String, String)> {
    let sample = finding
        .samples
        .iter()
        .find(|s| s.source == LogSource::CloudTrail)?;
    let record: Value = serde_json::from_str(sample.record.get()).ok()?;
    let text = |key: &str| record.get(key)?.as_str().map(str::to_string);
    Some((text("eventSource")?, text("eventName")?))
}
