//! What a scan produces: one [`ControlResult`] per control and resource, gathered in a
//! [`ScanReport`], and the static description of every control ([`ControlInfo`]).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use vigil_findings::Severity;

/// The outcome of one control for one resource.
#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    /// The resource meets the control.
    Pass,
    /// The resource does not meet the control.
    Fail,
    /// The data the control needs could not be read (denied, unsupported, not collected):
    /// the reason says which call failed. Never counted as a pass.
    Unknown,
    /// The control does not apply (no resources of that kind, or a kind it does not cover).
    NotApplicable,
}

impl Status {
    /// The upper-case spelling used in every output (`NOT_APPLICABLE`).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Unknown => "UNKNOWN",
            Status::NotApplicable => "NOT_APPLICABLE",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The five areas of the AWS Well-Architected Security Pillar vigil groups controls by
/// (incident response is scored as *readiness*).
#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Area {
    /// Identity and access management.
    IdentityAccess,
    /// Detection: logging, monitoring, threat detection.
    Detection,
    /// Infrastructure protection: networks and compute.
    InfrastructureProtection,
    /// Data protection: encryption, public exposure of data stores.
    DataProtection,
    /// Incident-response readiness.
    IncidentResponse,
}

impl Area {
    /// Every area, in the Security Pillar's order.
    pub const ALL: [Area; 5] = [
        Area::IdentityAccess,
        Area::Detection,
        Area::InfrastructureProtection,
        Area::DataProtection,
        Area::IncidentResponse,
    ];

    /// The human title ("Identity & access management").
    pub fn title(&self) -> &'static str {
        match self {
            Area::IdentityAccess => "Identity & access management",
            Area::Detection => "Detection",
            Area::InfrastructureProtection => "Infrastructure protection",
            Area::DataProtection => "Data protection",
            Area::IncidentResponse => "Incident-response readiness",
        }
    }

    /// The snake_case name used in configuration and on the command line.
    pub fn name(&self) -> &'static str {
        match self {
            Area::IdentityAccess => "identity_access",
            Area::Detection => "detection",
            Area::InfrastructureProtection => "infrastructure_protection",
            Area::DataProtection => "data_protection",
            Area::IncidentResponse => "incident_response",
        }
    }
}

/// The static description of a control: what it checks, why, the frameworks it maps to and
/// how to fix a failure.
#[derive(Serialize, Clone, Debug)]
pub struct ControlInfo {
    /// `VIG-01` … `VIG-75`.
    pub id: &'static str,
    /// 1 … 75.
    pub number: u8,
    /// Short title ("Root account has MFA enabled").
    pub title: &'static str,
    /// What the control checks and why it matters.
    pub description: &'static str,
    /// Severity of a failure.
    pub severity: Severity,
    /// Security Pillar area.
    pub area: Area,
    /// CIS AWS Foundations Benchmark v3.0 recommendation ("1.5"), when there is one.
    pub cis: Option<&'static str>,
    /// AWS Security Hub control ids (`["IAM.9"]`), possibly empty.
    pub security_hub: &'static [&'static str],
    /// How to fix a failure, with the AWS CLI command.
    pub remediation: &'static str,
    /// The vigil response action that fixes a failure (`s3.block_public_access`), if any.
    pub remediation_action: Option<&'static str>,
}

/// The resource a result is about.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ResourceRef {
    /// The ARN when the resource has one; account-level results use `AWS::::Account:<id>`.
    pub id: String,
    /// CloudFormation / ASFF type name (`AWS::S3::Bucket`, `AWS::::Account`).
    pub kind: String,
    /// Account id.
    pub account: String,
    /// Region, or `global` for global resources (IAM, account settings).
    pub region: String,
}

/// Why a result is muted (accepted risk), by whom, until when.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Mute {
    /// Why the risk is accepted.
    pub reason: String,
    /// When the mute stops applying; `None` = until removed.
    pub expires: Option<DateTime<Utc>>,
    /// Who accepted the risk.
    pub by: Option<String>,
}

/// One control evaluated for one resource (or one account / region).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ControlResult {
    /// Control id (`VIG-03`).
    pub control: String,
    /// Outcome.
    pub status: Status,
    /// What was evaluated.
    pub resource: ResourceRef,
    /// Why, in one sentence — for PASS too.
    pub reason: String,
    /// Structured evidence for the outcome (the offending rule, missing classes, …).
    #[serde(default)]
    pub details: serde_json::Value,
    /// Set when a mute applies; muted results do not count in scores.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub muted: Option<Mute>,
}

/// A whole scan: when, where, what came out, and how many API calls it took.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct ScanReport {
    /// Start of the scan (collection).
    pub started_at: DateTime<Utc>,
    /// End of the scan (evaluation).
    pub finished_at: DateTime<Utc>,
    /// Accounts scanned.
    pub accounts: Vec<String>,
    /// Regions scanned.
    pub regions: Vec<String>,
    /// Every result.
    pub results: Vec<ControlResult>,
    /// AWS API calls made while collecting.
    pub api_calls: u64,
    /// AWS API calls that failed (their controls are UNKNOWN).
    pub api_errors: u64,
}

/// How many results have each status.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatusCounts {
    /// PASS results.
    pub pass: usize,
    /// FAIL results.
    pub fail: usize,
    /// UNKNOWN results.
    pub unknown: usize,
    /// NOT_APPLICABLE results.
    pub not_applicable: usize,
    /// Muted results (of any status; not counted in the other fields).
    pub muted: usize,
}

impl ScanReport {
    /// Percentage (0–100) of PASS among PASS + FAIL results, for one area or all; muted
    /// results are left out. 100.0 when nothing passed or failed: nothing is known to be
    /// wrong — look at [`ScanReport::counts`] to tell that apart from a clean bill.
    pub fn score(&self, area: Option<Area>) -> f64 {
        let counts = self.counts(area);
        let scored = counts.pass + counts.fail;
        if scored == 0 {
            return 100.0;
        }
        counts.pass as f64 * 100.0 / scored as f64
    }

    /// Results per status, for one area or all (results of unknown controls count under
    /// no area).
    pub fn counts(&self, area: Option<Area>) -> StatusCounts {
        let mut counts = StatusCounts::default();
        let in_area = |result: &&ControlResult| match area {
            None => true,
            Some(area) => control(&result.control).is_some_and(|info| info.area == area),
        };
        for result in self.results.iter().filter(in_area) {
            if result.muted.is_some() {
                counts.muted += 1;
                continue;
            }
            match result.status {
                Status::Pass => counts.pass += 1,
                Status::Fail => counts.fail += 1,
                Status::Unknown => counts.unknown += 1,
                Status::NotApplicable => counts.not_applicable += 1,
            }
        }
        counts
    }
}

/// The control with this id (`VIG-03`; case-insensitive, `VIG-3` and `3` accepted).
pub fn control(id: &str) -> Option<&'static ControlInfo> {
    let number = parse_control_number(id)?;
    controls().iter().find(|info| info.number == number)
}

/// Every control, in number order.
pub fn controls() -> &'static [ControlInfo] {
    crate::controls::catalog()
}

/// `VIG-03`, `vig-3`, `3` → 3.
pub(crate) fn parse_control_number(id: &str) -> Option<u8> {
    let trimmed = id.trim();
    let digits = match trimmed.get(..4) {
        Some(prefix) if prefix.eq_ignore_ascii_case("VIG-") => &trimmed[4..],
        _ => trimmed,
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(control: &str, status: Status, muted: bool) -> ControlResult {
        ControlResult {
            control: control.into(),
            status,
            resource: ResourceRef {
                id: "AWS::::Account:111122223333".into(),
                kind: "AWS::::Account".into(),
                account: "111122223333".into(),
                region: "global".into(),
            },
            reason: "test".into(),
            details: serde_json::Value::Null,
            muted: muted.then(|| Mute {
                reason: "accepted".into(),
                expires: None,
                by: None,
            }),
        }
    }

    fn report(results: Vec<ControlResult>) -> ScanReport {
        ScanReport {
            started_at: DateTime::UNIX_EPOCH,
            finished_at: DateTime::UNIX_EPOCH,
            accounts: vec![],
            regions: vec![],
            results,
            api_calls: 0,
            api_errors: 0,
        }
    }

    #[test]
    fn score_counts_pass_among_pass_and_fail_and_skips_muted() {
        let report = report(vec![
            result("VIG-03", Status::Pass, false),
            result("VIG-03", Status::Fail, false),
            result("VIG-03", Status::Fail, false),
            result("VIG-03", Status::Fail, true),
            result("VIG-03", Status::Unknown, false),
            result("VIG-24", Status::Pass, false),
        ]);
        assert_eq!(report.score(Some(Area::IdentityAccess)), 100.0 / 3.0);
        assert_eq!(report.score(Some(Area::Detection)), 100.0);
        assert_eq!(report.score(None), 50.0);
        let counts = report.counts(None);
        assert_eq!((counts.unknown, counts.muted), (1, 1));
        assert_eq!(report.score(Some(Area::DataProtection)), 100.0);
    }

    #[test]
    fn status_and_area_serialise_as_documented() {
        let text = serde_json::to_string(&[Status::Pass, Status::NotApplicable]).unwrap();
        assert_eq!(text, r#"["PASS","NOT_APPLICABLE"]"#);
        let area = serde_json::to_string(&Area::InfrastructureProtection).unwrap();
        assert_eq!(area, r#""infrastructure_protection""#);
        for area in Area::ALL {
            assert_eq!(
                serde_json::to_string(&area).unwrap(),
                format!("\"{}\"", area.name())
            );
        }
    }

    #[test]
    fn control_ids_parse_loosely() {
        assert_eq!(parse_control_number("VIG-03"), Some(3));
        assert_eq!(parse_control_number("vig-75"), Some(75));
        assert_eq!(parse_control_number("12"), Some(12));
        assert_eq!(parse_control_number("VIG-"), None);
        assert_eq!(parse_control_number("IAM.4"), None);
        assert_eq!(control("VIG-3").map(|c| c.id), Some("VIG-03"));
        assert!(control("VIG-99").is_none());
    }

    #[test]
    fn muted_results_round_trip_and_unmuted_omit_the_field() {
        let plain = serde_json::to_value(result("VIG-01", Status::Fail, false)).unwrap();
        assert!(plain.get("muted").is_none());
        let muted = result("VIG-01", Status::Fail, true);
        let back: ControlResult =
            serde_json::from_str(&serde_json::to_string(&muted).unwrap()).unwrap();
        assert_eq!(back, muted);
    }
}
