//! What vigil found: the [`Finding`] model and the formats it leaves vigil in.
//!
//! A finding is one rule firing for one deduplication key within one time window, however
//! many events matched: a burst is one finding with a count. It carries a stable id
//! ([`Finding::stable_id`]), severity as an ASFF label and a 0–100 score ([`Severity`]),
//! first and last seen, account, region, principal, resources, source IPs, the rule's MITRE
//! ATT&CK tags ([`mitre`]), threat-intel matches, a bounded set of evidence [`Sample`]s and a
//! [`Status`] with its history. Partial findings for the same id (one per input file, one per
//! worker) combine with [`Finding::merge`].
//!
//! Output formats ([`Format`]): a human table, JSON Lines, ASFF for Security Hub
//! `BatchImportFindings`, and OCSF Detection Finding (class 2004).
//!
//! Main types: [`Finding`], [`Severity`], [`Status`], [`Sample`], [`Format`].
//!
//! ```
//! use vigil_findings::{write_findings, Finding, Format, RuleKind, Severity, Status};
//!
//! let finding = Finding {
//!     id: Finding::stable_id("aws-root-usage", "root", 0),
//!     rule_id: "aws-root-usage".into(),
//!     rule_title: "Root account used".into(),
//!     rule_kind: RuleKind::Sigma,
//!     description: "The root user signed in.".into(),
//!     severity: Severity::from_sigma_level("high").unwrap(),
//!     first_seen_ms: 1_700_000_000_000,
//!     last_seen_ms: 1_700_000_000_000,
//!     window_start_ms: 1_699_999_200_000,
//!     event_count: 1,
//!     dedup_key: "root".into(),
//!     account: Some("123456789012".into()),
//!     region: Some("us-east-1".into()),
//!     principal: Some("arn:aws:iam::123456789012:root".into()),
//!     resources: vec![],
//!     source_ips: vec!["198.51.100.7".into()],
//!     log_sources: vec![vigil_event::LogSource::CloudTrail],
//!     tags: vec!["attack.t1078.004".into(), "attack.privilege-escalation".into()],
//!     runbook: Some("runbooks/root-usage.md".into()),
//!     intel: vec![],
//!     samples: vec![],
//!     status: Status::New,
//!     history: vec![],
//! };
//! assert_eq!(finding.techniques()[0].most_specific(), "T1078.004");
//! let mut out = Vec::new();
//! write_findings(Format::Jsonl, &[finding], &mut out).unwrap();
//! assert!(String::from_utf8(out).unwrap().contains(r#""severity":{"label":"HIGH","score":75}"#));
//! ```

mod format;
mod merge;
pub mod mitre;
mod model;
mod severity;
mod source_names;

pub use format::{
    asff_finding, asff_resource_type, asff_types, jsonl_finding, ocsf_finding, write_asff,
    write_asff_with, write_findings, write_jsonl, write_ocsf, write_table, AsffOptions, Format,
    FormatError, WriteSummary, OCSF_SCHEMA_VERSION,
};
pub use mitre::{Tactic, TechniqueRef};
pub use model::{
    Finding, IntelMatch, RuleKind, Sample, Status, StatusChange, MAX_LISTED, MAX_SAMPLES,
};
pub use severity::{Severity, SeverityLabel};
