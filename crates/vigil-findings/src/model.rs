//! The finding: what a rule found, how often, about whom, with evidence and a status history.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use vigil_event::LogSource;

use crate::Severity;

/// What kind of rule produced a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// A Sigma detection rule.
    Sigma,
    /// A Sigma correlation rule (counts, value counts, sequences).
    Correlation,
    /// A first-seen baseline rule.
    FirstSeen,
    /// A threat-intelligence list match.
    ThreatIntel,
    /// A posture control that failed on a resource (`vigil scan`).
    Posture,
}

impl RuleKind {
    /// The snake_case name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::Sigma => "sigma",
            RuleKind::Correlation => "correlation",
            RuleKind::FirstSeen => "first_seen",
            RuleKind::ThreatIntel => "threat_intel",
            RuleKind::Posture => "posture",
        }
    }
}

/// Where a finding is in its lifecycle (the ASFF workflow statuses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    /// Not yet looked at.
    New,
    /// Someone was told (a notification went out).
    Notified,
    /// Dealt with.
    Resolved,
    /// Muted by a suppression or by hand; kept, not lost.
    Suppressed,
}

impl Status {
    /// Every status.
    pub const ALL: [Status; 4] = [
        Status::New,
        Status::Notified,
        Status::Resolved,
        Status::Suppressed,
    ];

    /// The upper-case name (`NEW`), as ASFF `Workflow.Status` spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "NEW",
            Status::Notified => "NOTIFIED",
            Status::Resolved => "RESOLVED",
            Status::Suppressed => "SUPPRESSED",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Status::ALL
            .into_iter()
            .find(|status| status.as_str().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| format!("unknown status `{text}` (new, notified, resolved, suppressed)"))
    }
}

/// One status transition: who moved the finding where, when and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    /// When, epoch milliseconds.
    pub at_ms: i64,
    /// The status before (`None` when the finding was created).
    pub from: Option<Status>,
    /// The status after.
    pub to: Status,
    /// Who: a user name, `vigil` for the engine, `suppression:<id>` for a suppression.
    pub by: String,
    /// Why.
    pub reason: String,
}

/// A threat-intelligence entry that matched an event of the finding.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct IntelMatch {
    /// The event field that matched (`sourceIPAddress`).
    pub field: String,
    /// The list's name.
    pub list: String,
    /// The list entry that matched (an IP, a CIDR, a domain...).
    pub entry: String,
}

/// One evidence record kept with a finding.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sample {
    /// Where the record was read, `file:record`.
    pub origin: String,
    /// The record's telemetry source.
    #[serde(with = "crate::source_names::one")]
    pub source: LogSource,
    /// The record's time, epoch milliseconds.
    pub time_ms: Option<i64>,
    /// The original record, embedded as JSON.
    pub record: Box<RawValue>,
}

impl Sample {
    /// The order samples are kept in: earliest first (records without a time last), then by
    /// origin.
    pub fn sort_key(&self) -> (i64, &str) {
        (self.time_ms.unwrap_or(i64::MAX), &self.origin)
    }
}

impl Sample {
    /// The evidence sample of an event: its origin, source, time and original record.
    ///
    /// Fails only if the event's record does not serialise to valid JSON.
    pub fn from_event(event: &vigil_event::Event) -> Result<Sample, serde_json::Error> {
        Ok(Sample {
            origin: event.origin.to_string(),
            source: event.source,
            time_ms: event.time_ms,
            record: RawValue::from_string(event.record_json())?,
        })
    }
}

impl PartialEq for Sample {
    fn eq(&self, other: &Self) -> bool {
        self.origin == other.origin
            && self.source == other.source
            && self.time_ms == other.time_ms
            && self.record.get() == other.record.get()
    }
}

/// What a rule found: one per rule, deduplication key and time window, however many events
/// matched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable id: see [`Finding::stable_id`].
    pub id: String,
    /// The rule's own id (for a Sigma rule its `id`).
    pub rule_id: String,
    /// The rule's title.
    #[serde(rename = "title")]
    pub rule_title: String,
    /// The kind of rule.
    pub rule_kind: RuleKind,
    /// What the finding means.
    pub description: String,
    /// How bad it is.
    pub severity: Severity,
    /// Time of the earliest matching event, epoch milliseconds.
    pub first_seen_ms: i64,
    /// Time of the latest matching event, epoch milliseconds.
    pub last_seen_ms: i64,
    /// Start of the deduplication window, epoch milliseconds.
    pub window_start_ms: i64,
    /// How many events matched.
    pub event_count: u64,
    /// The rule's deduplication key for this finding (by default rule + principal + resource).
    pub dedup_key: String,
    /// AWS account id.
    pub account: Option<String>,
    /// AWS region.
    pub region: Option<String>,
    /// Who acted.
    pub principal: Option<String>,
    /// Resources involved (at most [`MAX_LISTED`]).
    pub resources: Vec<String>,
    /// Source IP addresses seen (at most [`MAX_LISTED`]).
    pub source_ips: Vec<String>,
    /// The telemetry the evidence came from.
    #[serde(with = "crate::source_names::list")]
    pub log_sources: Vec<LogSource>,
    /// The rule's tags, `attack.*` included.
    pub tags: Vec<String>,
    /// The runbook or playbook that handles this finding.
    pub runbook: Option<String>,
    /// Threat-intelligence matches (at most [`MAX_LISTED`]).
    pub intel: Vec<IntelMatch>,
    /// The earliest evidence records (at most [`MAX_SAMPLES`]).
    pub samples: Vec<Sample>,
    /// Current status.
    pub status: Status,
    /// Every status change, oldest first.
    pub history: Vec<StatusChange>,
}

/// How many resources, source IPs and intel matches a finding lists.
pub const MAX_LISTED: usize = 20;
/// How many evidence samples a finding keeps.
pub const MAX_SAMPLES: usize = 5;

impl Finding {
    /// The id of the finding for `rule_id`, `dedup_key` and the window starting at
    /// `window_start_ms`: the first 32 hex digits of the SHA-256 of the three fields, so the
    /// same burst detected twice, anywhere, gets the same id.
    pub fn stable_id(rule_id: &str, dedup_key: &str, window_start_ms: i64) -> String {
        let mut hasher = Sha256::new();
        // Each field is length-prefixed so that no two field lists hash the same input.
        for field in [rule_id.as_bytes(), dedup_key.as_bytes()] {
            hasher.update((field.len() as u64).to_be_bytes());
            hasher.update(field);
        }
        hasher.update(window_start_ms.to_be_bytes());
        let digest = hasher.finalize();
        digest
            .iter()
            .take(16)
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }

    /// The MITRE ATT&CK tactics of the rule's tags.
    pub fn tactics(&self) -> Vec<crate::Tactic> {
        crate::mitre::tactics(&self.tags)
    }

    /// The MITRE ATT&CK techniques of the rule's tags.
    pub fn techniques(&self) -> Vec<crate::TechniqueRef> {
        crate::mitre::techniques(&self.tags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_ids_are_32_hex_digits_and_depend_on_every_field() {
        let id = Finding::stable_id("rule", "alice|bucket", 3_600_000);
        assert_eq!(id.len(), 32);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(id, Finding::stable_id("rule", "alice|bucket", 3_600_000));
        assert_ne!(id, Finding::stable_id("rule2", "alice|bucket", 3_600_000));
        assert_ne!(id, Finding::stable_id("rule", "alice|bucket2", 3_600_000));
        assert_ne!(id, Finding::stable_id("rule", "alice|bucket", 0));
        assert_ne!(
            Finding::stable_id("ab", "c", 0),
            Finding::stable_id("a", "bc", 0)
        );
    }

    #[test]
    fn statuses_parse_in_any_case() {
        for status in Status::ALL {
            let lower = status.as_str().to_lowercase();
            assert_eq!(lower.parse::<Status>(), Ok(status));
        }
        assert!("open".parse::<Status>().is_err());
    }

    #[test]
    fn samples_without_time_sort_last() {
        let record = || RawValue::from_string("{}".to_string()).expect("valid JSON");
        let (a, b) = (record(), record());
        let timed = Sample {
            origin: "b:1".into(),
            source: LogSource::CloudTrail,
            time_ms: Some(5),
            record: a,
        };
        let untimed = Sample {
            origin: "a:1".into(),
            time_ms: None,
            record: b,
            ..timed.clone()
        };
        assert!(timed.sort_key() < untimed.sort_key());
    }
}
