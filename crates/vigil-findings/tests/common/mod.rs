//! Shared helpers of the format tests: hand-built findings, golden files, and checkers for
//! ASFF and OCSF.

pub mod asff;
pub mod ocsf;

use std::path::{Path, PathBuf};

use serde_json::value::RawValue;
use vigil_event::LogSource;
use vigil_findings::{Finding, IntelMatch, RuleKind, Sample, Severity, Status, StatusChange};

fn sample(origin: &str, source: LogSource, time_ms: i64, record: &str) -> Sample {
    Sample {
        origin: origin.to_string(),
        source,
        time_ms: Some(time_ms),
        record: RawValue::from_string(record.to_string()).expect("fixture records are JSON"),
    }
}

/// A root console login from a listed IP: CloudTrail, runbook URL, history, intel, samples.
pub fn root_login() -> Finding {
    let record = r#"{"eventVersion":"1.08","userIdentity":{"type":"Root","principalId":"123456789012","arn":"arn:aws:iam::123456789012:root","accountId":"123456789012"},"eventTime":"2024-03-01T10:15:00Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","userAgent":"Mozilla/5.0","responseElements":{"ConsoleLogin":"Success"},"recipientAccountId":"123456789012"}"#;
    Finding {
        id: Finding::stable_id(
            "vigil-root-console-login",
            "arn:aws:iam::123456789012:root",
            1_709_287_200_000,
        ),
        rule_id: "vigil-root-console-login".into(),
        rule_title: "Root user console login".into(),
        rule_kind: RuleKind::Sigma,
        description: "The root user of the account signed in to the console.".into(),
        severity: Severity::from_sigma_level("critical").expect("a Sigma level"),
        first_seen_ms: 1_709_288_100_000,
        last_seen_ms: 1_709_288_400_000,
        window_start_ms: 1_709_287_200_000,
        event_count: 2,
        dedup_key: "arn:aws:iam::123456789012:root".into(),
        account: Some("123456789012".into()),
        region: Some("us-east-1".into()),
        principal: Some("arn:aws:iam::123456789012:root".into()),
        resources: vec![],
        source_ips: vec!["198.51.100.7".into()],
        log_sources: vec![LogSource::CloudTrail],
        tags: vec![
            "attack.initial-access".into(),
            "attack.privilege-escalation".into(),
            "attack.t1078.004".into(),
        ],
        runbook: Some("https://example.invalid/runbooks/root-usage".into()),
        intel: vec![IntelMatch {
            field: "sourceIPAddress".into(),
            list: "tor-exits".into(),
            entry: "198.51.100.0/24".into(),
        }],
        samples: vec![sample(
            "trail/2024/03/01/a.json.gz:3",
            LogSource::CloudTrail,
            1_709_288_100_000,
            record,
        )],
        status: Status::Notified,
        history: vec![
            StatusChange {
                at_ms: 1_709_288_500_000,
                from: None,
                to: Status::New,
                by: "vigil".into(),
                reason: "detected".into(),
            },
            StatusChange {
                at_ms: 1_709_288_600_000,
                from: Some(Status::New),
                to: Status::Notified,
                by: "vigil".into(),
                reason: "sent to #security".into(),
            },
        ],
    }
}

/// An instance sending data to a malicious address: VPC flow logs, threat intel, resources.
pub fn exfiltration_flow() -> Finding {
    let record = r#"{"version":2,"account-id":"210987654321","interface-id":"eni-0a1b2c3d","srcaddr":"10.0.1.25","dstaddr":"203.0.113.50","srcport":49152,"dstport":443,"protocol":6,"packets":900,"bytes":7340032,"start":1709290800,"end":1709290860,"action":"ACCEPT","log-status":"OK"}"#;
    Finding {
        id: Finding::stable_id(
            "vigil-flow-to-malicious-ip",
            "eni-0a1b2c3d|203.0.113.50",
            1_709_290_800_000,
        ),
        rule_id: "vigil-flow-to-malicious-ip".into(),
        rule_title: "Instance talking to a known malicious IP".into(),
        rule_kind: RuleKind::ThreatIntel,
        description: String::new(),
        severity: Severity::from_score(80),
        first_seen_ms: 1_709_290_800_000,
        last_seen_ms: 1_709_291_400_000,
        window_start_ms: 1_709_290_800_000,
        event_count: 14,
        dedup_key: "eni-0a1b2c3d|203.0.113.50".into(),
        account: Some("210987654321".into()),
        region: Some("eu-west-1".into()),
        principal: None,
        resources: vec![
            "eni-0a1b2c3d".into(),
            "arn:aws:ec2:eu-west-1:210987654321:instance/i-0123456789abcdef0".into(),
        ],
        source_ips: vec!["10.0.1.25".into()],
        log_sources: vec![LogSource::VpcFlow],
        tags: vec![
            "attack.exfiltration".into(),
            "attack.command-and-control".into(),
            "attack.t1041".into(),
        ],
        runbook: Some("playbooks/malicious-ip.yaml".into()),
        intel: vec![IntelMatch {
            field: "dstaddr".into(),
            list: "c2-feed".into(),
            entry: "203.0.113.50".into(),
        }],
        samples: vec![sample(
            "flows/eni.log.gz:17",
            LogSource::VpcFlow,
            1_709_290_800_000,
            record,
        )],
        status: Status::New,
        history: vec![],
    }
}

/// Both hand-built findings.
pub fn findings() -> Vec<Finding> {
    vec![root_login(), exfiltration_flow()]
}

/// This crate's directory.
pub fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Compares `actual` with the golden file `tests/golden/<name>`; rewrites it instead when
/// `UPDATE_GOLDEN=1`.
pub fn assert_golden(name: &str, actual: &str) {
    let path = crate_dir().join("tests/golden").join(name);
    if std::env::var("UPDATE_GOLDEN").is_ok_and(|value| value == "1") {
        std::fs::write(&path, actual).expect("golden file is writable");
        return;
    }
    let expected = read(&path);
    assert!(
        expected == actual,
        "{} differs from the output; review and rerun with UPDATE_GOLDEN=1.\n--- output ---\n{actual}",
        path.display()
    );
}

/// A file's text, with its path in the panic message when it cannot be read.
pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}
