//! `cloudtrail.collect_activity`: what a principal, an access key, a resource or an IP address
//! did in a time window, saved as one evidence item (JSON Lines: a header line with the query,
//! then the CloudTrail records in time order).
//!
//! Two sources, filtered the same way ([`ActivityQuery::matches`]):
//! - the CloudTrail API (`LookupEvents`): management events of the last 90 days in one
//!   region. The API filters on one attribute only, so vigil sends the most selective one
//!   (AccessKeyId, then Username, then ResourceName) and applies every filter client-side;
//! - local log files (`logs_dir`): CloudTrail's delivery files (`{"Records": [...]}`, plain
//!   or `.json.gz`), e.g. synced from the trail's bucket, for data events, other regions and
//!   history beyond 90 days.

use std::io::Read;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use chrono::{DateTime, Utc};
use ipnet::IpNet;
use serde_json::{json, Value};
use vigil_aws::AwsContext;
use vigil_respond::action::{
    Action, ActionError, ActionInfo, ApiCall, DryRunMode, EvidenceItem, Outcome, ParamDoc, Params,
    StepEnv, StepReport,
};

use crate::common::{check, cli_value, int_param, made, optional_str, request_id, sdk_config};
use crate::ActionOptions;

/// Default and largest number of records one collection keeps.
pub const DEFAULT_MAX_EVENTS: i64 = 10_000;
const MAX_MAX_EVENTS: i64 = 1_000_000;

/// Every CloudTrail collection action, each holding `ctx`.
pub fn actions(ctx: &AwsContext, _opts: &ActionOptions) -> Vec<Arc<dyn Action>> {
    vec![Arc::new(CollectActivity { ctx: ctx.clone() })]
}

/// What to collect: at least one of the four filters, and a time window.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityQuery {
    pub principal_arn: Option<String>,
    pub access_key_id: Option<String>,
    pub resource: Option<String>,
    pub source_ip: Option<IpNet>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub max_events: usize,
}

fn time_param(params: &Params, name: &str) -> Result<Option<DateTime<Utc>>, ActionError> {
    optional_str(params, name)?
        .map(|t| {
            DateTime::parse_from_rfc3339(t)
                .map(|d| d.with_timezone(&Utc))
                .map_err(|e| {
                    ActionError::InvalidParams(format!(
                        "parameter `{name}` = {t:?} is not an RFC 3339 time: {e}"
                    ))
                })
        })
        .transpose()
}

/// Parses an IP address or CIDR (`203.0.113.7`, `203.0.113.0/24`, `2001:db8::/32`).
pub fn parse_ip_or_cidr(text: &str) -> Option<IpNet> {
    let text = text.trim();
    text.parse::<IpNet>()
        .ok()
        .or_else(|| text.parse::<IpAddr>().ok().map(IpNet::from))
}

impl ActivityQuery {
    /// Reads the query from step parameters; `end` defaults to the run's "now".
    pub fn from_params(params: &Params, now: DateTime<Utc>) -> Result<Self, ActionError> {
        let text = |n: &str| optional_str(params, n).map(|v| v.map(str::to_string));
        let source_ip = match optional_str(params, "source_ip")? {
            Some(ip) => Some(parse_ip_or_cidr(ip).ok_or_else(|| {
                ActionError::InvalidParams(format!(
                    "parameter `source_ip` = {ip:?} is not an IP address or CIDR"
                ))
            })?),
            None => None,
        };
        let query = ActivityQuery {
            principal_arn: text("principal_arn")?,
            access_key_id: text("access_key_id")?,
            resource: text("resource")?,
            source_ip,
            start: time_param(params, "start")?.ok_or_else(|| {
                ActionError::InvalidParams("missing required parameter `start`".into())
            })?,
            end: time_param(params, "end")?.unwrap_or(now),
            max_events: int_param(params, "max_events", DEFAULT_MAX_EVENTS, 1, MAX_MAX_EVENTS)?
                as usize,
        };
        if query.principal_arn.is_none()
            && query.access_key_id.is_none()
            && query.resource.is_none()
            && query.source_ip.is_none()
        {
            return Err(ActionError::InvalidParams(
                "give at least one of principal_arn, access_key_id, resource, source_ip".into(),
            ));
        }
        if query.start >= query.end {
            return Err(ActionError::InvalidParams(format!(
                "`start` ({}) must be before `end` ({})",
                query.start, query.end
            )));
        }
        Ok(query)
    }

    /// The query as JSON, for the evidence header and the report.
    pub fn to_json(&self) -> Value {
        json!({
            "principal_arn": self.principal_arn,
            "access_key_id": self.access_key_id,
            "resource": self.resource,
            "source_ip": self.source_ip.map(|n| n.to_string()),
            "start": self.start.to_rfc3339(),
            "end": self.end.to_rfc3339(),
            "max_events": self.max_events,
        })
    }

    /// The one attribute sent to `LookupEvents`: the most selective filter the API has.
    /// Role ARNs and IP addresses have no API attribute (a role's sessions carry their own
    /// names), so they are matched client-side only.
    pub fn lookup_attribute(&self) -> Option<(LookupAttributeKey, String)> {
        if let Some(key) = &self.access_key_id {
            return Some((LookupAttributeKey::AccessKeyId, key.clone()));
        }
        if let Some(name) = self.principal_arn.as_deref().and_then(principal_username) {
            return Some((LookupAttributeKey::Username, name));
        }
        self.resource
            .as_ref()
            .map(|r| (LookupAttributeKey::ResourceName, r.clone()))
    }

    /// True when `record` (one CloudTrail record) satisfies every filter and the window.
    pub fn matches(&self, record: &Value) -> bool {
        let in_window = record["eventTime"]
            .as_str()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .is_some_and(|t| t >= self.start && t <= self.end);
        in_window
            && self
                .principal_arn
                .as_deref()
                .is_none_or(|p| principal_matches(record, p))
            && self
                .access_key_id
                .as_deref()
                .is_none_or(|k| record["userIdentity"]["accessKeyId"] == k)
            && self
                .resource
                .as_deref()
                .is_none_or(|r| resource_matches(record, r))
            && self.source_ip.is_none_or(|net| {
                record["sourceIPAddress"]
                    .as_str()
                    .and_then(|ip| ip.parse::<IpAddr>().ok())
                    .is_some_and(|ip| net.contains(&ip))
            })
    }

    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(p) = &self.principal_arn {
            parts.push(format!("principal {p}"));
        }
        if let Some(k) = &self.access_key_id {
            parts.push(format!("key {k}"));
        }
        if let Some(r) = &self.resource {
            parts.push(format!("resource {r}"));
        }
        if let Some(ip) = &self.source_ip {
            parts.push(format!("ip {ip}"));
        }
        format!("{} from {} to {}", parts.join(", "), self.start, self.end)
    }
}

/// The CloudTrail `Username` of a principal ARN: a user's name, an assumed role's session
/// name, `root`. `None` for roles (each session has its own name) and anything else.
pub fn principal_username(arn: &str) -> Option<String> {
    let resource = arn.splitn(6, ':').nth(5)?;
    if resource == "root" {
        return Some("root".into());
    }
    if let Some(path) = resource.strip_prefix("user/") {
        return path.rsplit('/').next().map(str::to_string);
    }
    if let Some(rest) = resource.strip_prefix("assumed-role/") {
        return rest.split('/').nth(1).map(str::to_string);
    }
    None
}

/// The record was made by `principal`: the same identity ARN, or a session of that role.
fn principal_matches(record: &Value, principal: &str) -> bool {
    let identity = &record["userIdentity"];
    identity["arn"] == principal || identity["sessionContext"]["sessionIssuer"]["arn"] == principal
}

/// The record concerns `resource`: an ARN (or name at the end of one) in `resources`, or a
/// request parameter with exactly that value.
fn resource_matches(record: &Value, resource: &str) -> bool {
    let listed = record["resources"].as_array().is_some_and(|items| {
        items.iter().any(|r| {
            r["ARN"].as_str().is_some_and(|arn| {
                arn == resource
                    || arn.ends_with(&format!(":{resource}"))
                    || arn.ends_with(&format!("/{resource}"))
            })
        })
    });
    listed || contains_string(&record["requestParameters"], resource)
}

fn contains_string(value: &Value, wanted: &str) -> bool {
    match value {
        Value::String(s) => s == wanted,
        Value::Array(items) => items.iter().any(|v| contains_string(v, wanted)),
        Value::Object(map) => map.values().any(|v| contains_string(v, wanted)),
        _ => false,
    }
}

/// A file that could not be read, with the reason (reported, not fatal: one damaged file must
/// not stop the collection of the others).
#[derive(Debug, Clone, PartialEq)]
pub struct SkippedFile {
    pub path: PathBuf,
    pub reason: String,
}

/// Records from local CloudTrail files under `dir` that match `query`, and the files skipped.
pub fn read_local_logs(
    dir: &Path,
    query: &ActivityQuery,
) -> Result<(Vec<Value>, Vec<SkippedFile>), ActionError> {
    let mut files = Vec::new();
    list_log_files(dir, &mut files)?;
    files.sort();
    let mut records = Vec::new();
    let mut skipped = Vec::new();
    for path in files {
        match read_log_file(&path) {
            Ok(items) => records.extend(items.into_iter().filter(|r| query.matches(r))),
            Err(reason) => skipped.push(SkippedFile { path, reason }),
        }
    }
    Ok((records, skipped))
}

fn list_log_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), ActionError> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        ActionError::InvalidParams(format!("cannot read logs_dir {}: {e}", dir.display()))
    })?;
    for entry in entries {
        let entry = entry
            .map_err(|e| ActionError::Failed(format!("cannot list {}: {e}", dir.display())))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        // `file_type` does not follow symlinks: a link back up the tree cannot loop forever.
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            list_log_files(&path, out)?;
        } else if name.ends_with(".json") || name.ends_with(".json.gz") {
            out.push(path);
        }
    }
    Ok(())
}

/// The `Records` of one delivery file.
fn read_log_file(path: &Path) -> Result<Vec<Value>, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut text = Vec::new();
    let is_gzip = path.to_string_lossy().ends_with(".gz");
    let read = if is_gzip {
        flate2::read::MultiGzDecoder::new(file).read_to_end(&mut text)
    } else {
        std::io::BufReader::new(file).read_to_end(&mut text)
    };
    read.map_err(|e| format!("cannot read: {e}"))?;
    let doc: Value = serde_json::from_slice(&text)
        .map_err(|e| format!("not JSON at line {}, column {}: {e}", e.line(), e.column()))?;
    match doc.get("Records") {
        Some(Value::Array(items)) => Ok(items.clone()),
        _ => Err("no `Records` array: not a CloudTrail log file".into()),
    }
}

/// `cloudtrail.collect_activity` (read-only).
pub struct CollectActivity {
    ctx: AwsContext,
}

static COLLECT_ACTIVITY: ActionInfo = ActionInfo {
    name: "cloudtrail.collect_activity",
    summary: "Collect the CloudTrail records of a principal, key, resource or IP in a window as evidence",
    params: &[
        ParamDoc { name: "principal_arn", required: false, description: "User, role, assumed-role session or root ARN" },
        ParamDoc { name: "access_key_id", required: false, description: "Access key id (AKIA... or ASIA...)" },
        ParamDoc { name: "resource", required: false, description: "Resource name or ARN" },
        ParamDoc { name: "source_ip", required: false, description: "Source IP address or CIDR (client-side filter)" },
        ParamDoc { name: "start", required: true, description: "Window start, RFC 3339" },
        ParamDoc { name: "end", required: false, description: "Window end, RFC 3339 (default: now)" },
        ParamDoc { name: "max_events", required: false, description: "Most records kept (default 10000; newest kept)" },
        ParamDoc { name: "logs_dir", required: false, description: "Read local CloudTrail files (.json, .json.gz) instead of LookupEvents" },
    ],
    example: "- id: activity\n  action: cloudtrail.collect_activity\n  params:\n    access_key_id: \"{{ inputs.access_key_id }}\"\n    start: \"{{ context.lookback_start }}\"\n    end: \"{{ context.now }}\"\n",
    mutating: false,
    dry_run: DryRunMode::ReadOnly,
    records: "the query and the matching records (one JSON Lines evidence item)",
};

impl CollectActivity {
    /// Pages through `LookupEvents` (newest first) until the window or `max_events` ends.
    async fn lookup(
        &self,
        env: &StepEnv<'_>,
        query: &ActivityQuery,
        calls: &mut Vec<ApiCall>,
    ) -> Result<(Vec<Value>, bool), ActionError> {
        let client = aws_sdk_cloudtrail::Client::new(&sdk_config(&self.ctx, env).await?);
        let attribute = query.lookup_attribute();
        let mut records = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut req = client
                .lookup_events()
                .start_time(smithy_time(query.start))
                .end_time(smithy_time(query.end))
                .max_results(50)
                .set_next_token(token.clone());
            if let Some((key, value)) = &attribute {
                req = req.lookup_attributes(
                    LookupAttribute::builder()
                        .attribute_key(key.clone())
                        .attribute_value(value)
                        .build()
                        .map_err(|e| ActionError::InvalidParams(e.to_string()))?,
                );
            }
            let out = check("LookupEvents", req.send().await)?;
            let params = json!({
                "LookupAttributes": attribute.as_ref().map(|(k, v)| json!([{"AttributeKey": k.as_str(), "AttributeValue": v}])),
                "StartTime": query.start.to_rfc3339(),
                "EndTime": query.end.to_rfc3339(),
                "NextToken": token,
            });
            calls.push(made("cloudtrail", "LookupEvents", params, request_id(&out)));
            for event in out.events() {
                let record = event
                    .cloud_trail_event()
                    .and_then(|text| serde_json::from_str::<Value>(text).ok())
                    .unwrap_or_else(|| json!({"eventID": event.event_id(), "unparsed": event.cloud_trail_event()}));
                if query.matches(&record) {
                    records.push(record);
                    if records.len() >= query.max_events {
                        return Ok((records, true));
                    }
                }
            }
            token = out.next_token().map(str::to_string);
            if token.is_none() {
                return Ok((records, false));
            }
        }
    }
}

fn smithy_time(t: DateTime<Utc>) -> aws_smithy_types::DateTime {
    aws_smithy_types::DateTime::from_secs(t.timestamp())
}

/// Orders records by time, keeping the newest `max` when there are more.
fn newest_in_order(mut records: Vec<Value>, max: usize) -> (Vec<Value>, bool) {
    records.sort_by(|a, b| {
        let key = |r: &Value| r["eventTime"].as_str().unwrap_or_default().to_string();
        key(a).cmp(&key(b))
    });
    let truncated = records.len() > max;
    if truncated {
        records.drain(..records.len() - max);
    }
    (records, truncated)
}

/// The evidence body: a header line (`vigil_query`) then one record per line.
fn json_lines(header: &Value, records: &[Value]) -> Vec<u8> {
    let mut out = header.to_string().into_bytes();
    out.push(b'\n');
    for record in records {
        out.extend_from_slice(record.to_string().as_bytes());
        out.push(b'\n');
    }
    out
}

/// A short, file-name-safe label for the evidence item.
fn evidence_name(query: &ActivityQuery) -> String {
    let subject = query
        .access_key_id
        .clone()
        .or_else(|| {
            query
                .principal_arn
                .as_deref()
                .map(|p| p.rsplit([':', '/']).next().unwrap_or(p).to_string())
        })
        .or_else(|| query.resource.clone())
        .or_else(|| query.source_ip.map(|n| n.to_string()))
        .unwrap_or_default();
    let safe: String = subject
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    format!(
        "cloudtrail-activity-{safe}-{}.jsonl",
        query.start.format("%Y%m%dT%H%M%SZ")
    )
}

#[async_trait::async_trait]
impl Action for CollectActivity {
    fn info(&self) -> &'static ActionInfo {
        &COLLECT_ACTIVITY
    }

    fn permissions(&self, params: &Params) -> Vec<&'static str> {
        if params.contains_key("logs_dir") {
            Vec::new()
        } else {
            self.all_permissions()
        }
    }

    fn all_permissions(&self) -> Vec<&'static str> {
        vec!["cloudtrail:LookupEvents"]
    }

    fn cli(&self, params: &Params) -> Vec<String> {
        // The same attribute choice as the run: key, then user name, then resource.
        let username = optional_str(params, "principal_arn")
            .ok()
            .flatten()
            .and_then(principal_username);
        let attribute = if params.contains_key("access_key_id") {
            Some(("AccessKeyId", cli_value(params, "access_key_id")))
        } else if let Some(name) = username {
            Some(("Username", crate::common::shell_quote(&name)))
        } else if params.contains_key("resource") {
            Some(("ResourceName", cli_value(params, "resource")))
        } else {
            None
        };
        let attribute = attribute
            .map(|(k, v)| format!(" --lookup-attributes AttributeKey={k},AttributeValue={v}"))
            .unwrap_or_default();
        vec![format!(
            "aws cloudtrail lookup-events --start-time {} --end-time {}{attribute} --output json",
            cli_value(params, "start"),
            cli_value(params, "end")
        )]
    }

    async fn run(&self, env: &StepEnv<'_>, params: &Params) -> Result<StepReport, ActionError> {
        let query = ActivityQuery::from_params(params, env.now)?;
        let mut calls = Vec::new();
        let logs_dir = optional_str(params, "logs_dir")?;
        let (records, truncated, skipped, source) = match logs_dir {
            Some(dir) => {
                let (all, skipped) = read_local_logs(Path::new(dir), &query)?;
                let (records, truncated) = newest_in_order(all, query.max_events);
                (
                    records,
                    truncated,
                    skipped,
                    format!("local CloudTrail files under {dir}"),
                )
            }
            None => {
                let (found, truncated) = self.lookup(env, &query, &mut calls).await?;
                let (records, _) = newest_in_order(found, query.max_events);
                (
                    records,
                    truncated,
                    Vec::new(),
                    "cloudtrail:LookupEvents".to_string(),
                )
            }
        };
        let skipped_json: Vec<Value> = skipped
            .iter()
            .map(|s| json!({"path": s.path.display().to_string(), "reason": s.reason}))
            .collect();
        let header = json!({
            "vigil_query": query.to_json(),
            "source": source,
            "records": records.len(),
            "truncated": truncated,
            "skipped_files": skipped_json,
        });
        let sha = env
            .evidence
            .put(EvidenceItem {
                case_id: env.case_id.to_string(),
                name: evidence_name(&query),
                media_type: "application/x-ndjson".into(),
                bytes: json_lines(&header, &records),
                source: query
                    .principal_arn
                    .clone()
                    .or_else(|| query.access_key_id.clone())
                    .or_else(|| query.resource.clone()),
                account: env.account.map(str::to_string),
                region: env.region.map(str::to_string),
                method: format!(
                    "{source} by cloudtrail.collect_activity: {}",
                    query.describe()
                ),
            })
            .map_err(|e| {
                ActionError::Failed(format!("cannot store the collected activity: {e}"))
            })?;
        let mut report = StepReport::new(Outcome::Done);
        report.calls = calls;
        report.after = header;
        report.evidence.push(sha.clone());
        report
            .outputs
            .insert("records".into(), json!(records.len()));
        report.outputs.insert("evidence_sha256".into(), json!(sha));
        report.outputs.insert("truncated".into(), json!(truncated));
        if !skipped.is_empty() {
            report.note = Some(format!(
                "{} file(s) skipped: {}",
                skipped.len(),
                skipped
                    .iter()
                    .map(|s| format!("{}: {}", s.path.display(), s.reason))
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&Utc)
    }

    fn query(extra: Value) -> ActivityQuery {
        let mut params: Params = serde_json::from_value(extra).unwrap();
        params.insert("start".into(), json!("2024-05-01T00:00:00Z"));
        ActivityQuery::from_params(&params, at("2024-05-02T00:00:00Z")).unwrap()
    }

    fn record(arn: &str, issuer: &str, key: &str, ip: &str, time: &str) -> Value {
        json!({
            "eventTime": time,
            "userIdentity": {"arn": arn, "accessKeyId": key,
                "sessionContext": {"sessionIssuer": {"arn": issuer}}},
            "sourceIPAddress": ip,
            "requestParameters": {"bucketName": "loot", "nested": [{"instanceId": "i-0abc"}]},
            "resources": [{"ARN": "arn:aws:s3:::loot"}]
        })
    }

    #[test]
    fn usernames_of_principals() {
        assert_eq!(
            principal_username("arn:aws:iam::111122223333:user/ops/alice").as_deref(),
            Some("alice")
        );
        assert_eq!(
            principal_username("arn:aws:sts::111122223333:assumed-role/Admin/bob").as_deref(),
            Some("bob")
        );
        assert_eq!(
            principal_username("arn:aws:iam::111122223333:root").as_deref(),
            Some("root")
        );
        assert_eq!(
            principal_username("arn:aws:iam::111122223333:role/Admin"),
            None
        );
        assert_eq!(principal_username("not an arn"), None);
    }

    #[test]
    fn the_lookup_attribute_is_the_most_selective_filter() {
        let q = query(json!({"access_key_id": "AKIA1", "principal_arn": "arn:aws:iam::1:user/a"}));
        assert_eq!(
            q.lookup_attribute(),
            Some((LookupAttributeKey::AccessKeyId, "AKIA1".into()))
        );
        let q = query(json!({"principal_arn": "arn:aws:iam::1:role/Admin", "resource": "loot"}));
        assert_eq!(
            q.lookup_attribute(),
            Some((LookupAttributeKey::ResourceName, "loot".into()))
        );
        assert_eq!(
            query(json!({"source_ip": "10.0.0.0/8"})).lookup_attribute(),
            None
        );
    }

    #[test]
    fn records_are_filtered_on_every_field() {
        let role = "arn:aws:iam::1:role/Admin";
        let session = "arn:aws:sts::1:assumed-role/Admin/s1";
        let r = record(
            session,
            role,
            "ASIA1",
            "203.0.113.7",
            "2024-05-01T10:00:00Z",
        );
        assert!(query(json!({"principal_arn": role})).matches(&r));
        assert!(query(json!({"principal_arn": session})).matches(&r));
        assert!(!query(json!({"principal_arn": "arn:aws:iam::1:role/Other"})).matches(&r));
        assert!(query(json!({"access_key_id": "ASIA1"})).matches(&r));
        assert!(!query(json!({"access_key_id": "ASIA2"})).matches(&r));
        assert!(query(json!({"resource": "loot"})).matches(&r));
        assert!(query(json!({"resource": "arn:aws:s3:::loot"})).matches(&r));
        assert!(query(json!({"resource": "i-0abc"})).matches(&r));
        assert!(!query(json!({"resource": "loo"})).matches(&r));
        assert!(query(json!({"source_ip": "203.0.113.0/24"})).matches(&r));
        assert!(query(json!({"source_ip": "203.0.113.7"})).matches(&r));
        assert!(!query(json!({"source_ip": "198.51.100.7"})).matches(&r));
        // Every filter must hold, and the window too.
        assert!(
            !query(json!({"access_key_id": "ASIA1", "source_ip": "198.51.100.0/24"})).matches(&r)
        );
        let late = record(
            session,
            role,
            "ASIA1",
            "203.0.113.7",
            "2024-05-03T10:00:00Z",
        );
        assert!(!query(json!({"access_key_id": "ASIA1"})).matches(&late));
    }

    #[test]
    fn bad_queries_are_refused() {
        let now = at("2024-05-02T00:00:00Z");
        let p = |v: Value| -> Params { serde_json::from_value(v).unwrap() };
        assert!(
            ActivityQuery::from_params(&p(json!({"start": "2024-05-01T00:00:00Z"})), now).is_err()
        );
        assert!(ActivityQuery::from_params(&p(json!({"access_key_id": "AKIA1"})), now).is_err());
        assert!(ActivityQuery::from_params(
            &p(json!({"access_key_id": "AKIA1", "start": "yesterday"})),
            now
        )
        .is_err());
        assert!(ActivityQuery::from_params(
            &p(json!({"access_key_id": "AKIA1", "start": "2024-05-03T00:00:00Z"})),
            now
        )
        .is_err());
        assert!(ActivityQuery::from_params(
            &p(json!({"source_ip": "10.0.0.300", "start": "2024-05-01T00:00:00Z"})),
            now
        )
        .is_err());
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_loop_in_logs_dir_does_not_recurse_forever() {
        let dir = std::env::temp_dir().join(format!("vigil-ct-loop-{}", std::process::id()));
        let sub = dir.join("a");
        std::fs::create_dir_all(&sub).unwrap();
        let _ = std::os::unix::fs::symlink(&dir, sub.join("up"));
        std::fs::write(sub.join("x.json"), r#"{"Records": [{"eventTime": "2024-05-01T01:00:00Z", "sourceIPAddress": "10.0.0.1"}]}"#).unwrap();
        let q = query(json!({"source_ip": "10.0.0.0/8"}));
        let (records, skipped) = read_local_logs(&dir, &q).unwrap();
        assert_eq!(
            records.len(),
            1,
            "the file is read once, the link is not followed"
        );
        assert!(skipped.is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn newest_records_are_kept_in_time_order() {
        let r = |t: &str| json!({"eventTime": t});
        let (kept, truncated) = newest_in_order(
            vec![
                r("2024-05-01T03:00:00Z"),
                r("2024-05-01T01:00:00Z"),
                r("2024-05-01T02:00:00Z"),
            ],
            2,
        );
        assert!(truncated);
        assert_eq!(
            kept,
            vec![r("2024-05-01T02:00:00Z"), r("2024-05-01T03:00:00Z")]
        );
    }
}
