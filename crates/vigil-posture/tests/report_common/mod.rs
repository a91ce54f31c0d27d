//! Shared helpers of the report tests: one hand-built scan, golden files, checkers for
//! ASFF, OCSF and SARIF, and headless Chromium.

#![allow(dead_code)] // each test binary uses part of the harness

pub mod asff;
pub mod chromium;
/// The OCSF checker and schema subset of vigil-findings, shared rather than copied.
#[path = "../../../vigil-findings/tests/common/ocsf.rs"]
pub mod ocsf;
pub mod sarif;

use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeZone, Utc};
use serde_json::json;
use vigil_posture::report::{write_report, ReportFormat};
use vigil_posture::{ControlResult, Mute, ResourceRef, ScanReport, Status};

const PROD: &str = "111122223333";
const DEV: &str = "444455556666";

fn at(hour: u32, minute: u32, second: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, 1, hour, minute, second)
        .single()
        .expect("a valid fixed time")
}

fn resource(id: &str, kind: &str, account: &str, region: &str) -> ResourceRef {
    ResourceRef {
        id: id.into(),
        kind: kind.into(),
        account: account.into(),
        region: region.into(),
    }
}

fn account(id: &str) -> ResourceRef {
    resource(
        &format!("AWS::::Account:{id}"),
        "AWS::::Account",
        id,
        "global",
    )
}

fn result(control: &str, status: Status, resource: ResourceRef, reason: &str) -> ControlResult {
    ControlResult {
        control: control.into(),
        status,
        resource,
        reason: reason.into(),
        details: serde_json::Value::Null,
        muted: None,
    }
}

/// A scan of two accounts in two regions, with every status, muted results, text that
/// needs quoting in CSV and escaping in HTML, and a mute reason that is a spreadsheet
/// formula. The comments give what each result means for the counts the tests check.
pub fn scan() -> ScanReport {
    let sg = "arn:aws:ec2:eu-west-1:111122223333:security-group/sg-0a1b2c3d4e5f60718";
    let rdp = "arn:aws:ec2:eu-west-1:111122223333:security-group/sg-0ffee0ddba11c0de1";
    let mut results = vec![
        // Identity: 2 PASS, 3 FAIL.
        result("VIG-01", Status::Pass, account(PROD), "A SECURITY alternate contact is registered."),
        result("VIG-01", Status::Fail, account(DEV), "No SECURITY alternate contact is registered."),
        result("VIG-02", Status::Fail, account(DEV), "The root user has an active access key, last used 2024-02-27."),
        result("VIG-02", Status::Pass, account(PROD), "The root user has no access keys."),
        result(
            "VIG-22",
            Status::Fail,
            resource("arn:aws:iam::111122223333:policy/DataReaders", "AWS::IAM::ManagedPolicy", PROD, "global"),
            "Statement \"AllowDecrypt\" allows kms:Decrypt, kms:ReEncrypt* on Resource \"*\".",
        ),
        // Detection: 1 PASS, 1 FAIL, 1 UNKNOWN.
        result(
            "VIG-24",
            Status::Fail,
            resource("arn:aws:cloudtrail:us-east-1:111122223333:trail/org-trail", "AWS::CloudTrail::Trail", PROD, "us-east-1"),
            "The only multi-region trail is not logging (IsLogging=false).",
        ),
        result("VIG-35", Status::Pass, resource("AWS::::Account:111122223333", "AWS::::Account", PROD, "us-east-1"), "Detector 12abc34d567e8fa901bc2d34e56789f0 is enabled."),
        result(
            "VIG-35",
            Status::Unknown,
            resource("AWS::::Account:444455556666", "AWS::::Account", DEV, "eu-west-1"),
            "guardduty:ListDetectors failed: AccessDeniedException (User is not authorized).",
        ),
        // Infrastructure: 1 FAIL, 1 FAIL muted.
        result("VIG-40", Status::Fail, resource(sg, "AWS::EC2::SecurityGroup", PROD, "eu-west-1"),
            "Security group \"<img src=x onerror=alert(1)>\" allows ingress from 0.0.0.0/0 to port 22 (tcp)."),
        result("VIG-40", Status::Fail, resource(rdp, "AWS::EC2::SecurityGroup", PROD, "eu-west-1"),
            "Security group \"vendor-jump\" allows ingress from 0.0.0.0/0 to port 3389 (tcp)."),
        // Data: 2 PASS, 2 FAIL, 1 FAIL muted, 1 NOT_APPLICABLE.
        result("VIG-53", Status::Fail, resource("arn:aws:s3:::acme-public-assets", "AWS::S3::Bucket", PROD, "us-east-1"),
            "The bucket blocks neither public ACLs nor public policies."),
        result("VIG-53", Status::Pass, resource("arn:aws:s3:::acme-logs", "AWS::S3::Bucket", PROD, "us-east-1"),
            "All four Block Public Access settings are on."),
        result("VIG-56", Status::Fail, resource("arn:aws:s3:::acme-public-assets", "AWS::S3::Bucket", PROD, "us-east-1"),
            "The bucket policy grants s3:GetObject to Principal \"*\"."),
        result("VIG-58", Status::Pass, resource("arn:aws:ec2:us-east-1:111122223333:volume/vol-0123456789abcdef0", "AWS::EC2::Volume", PROD, "us-east-1"),
            "The volume is encrypted with alias/aws/ebs."),
        result("VIG-58", Status::Fail, resource("arn:aws:ec2:eu-west-1:444455556666:volume/vol-0fedcba9876543210", "AWS::EC2::Volume", DEV, "eu-west-1"),
            "The attached volume is not encrypted."),
        result("VIG-58", Status::NotApplicable, resource("AWS::::Account:111122223333", "AWS::::Account", PROD, "eu-west-1"),
            "No EBS volumes in eu-west-1."),
        // Incident response: 1 FAIL.
        result("VIG-70", Status::Fail, account(PROD),
            "No image tagged vigil:forensic=true is younger than 30 days (newest: 2023-12-02)."),
    ];
    results[8].details = json!({ "group_name": "<img src=x onerror=alert(1)>", "rules": [{ "protocol": "tcp", "port": 22, "cidr": "0.0.0.0/0" }] });
    results[9].muted = Some(Mute {
        reason: "Vendor jump host.\nCompensating control: source allow-list on the firewall, reviewed monthly".into(),
        expires: Some(at(0, 0, 0) + chrono::Duration::days(121)),
        by: Some("alice@example.com".into()),
    });
    results[14].muted = Some(Mute {
        reason: "=HYPERLINK(\"https://evil.example/\",\"accepted\")".into(),
        expires: None,
        by: Some("mallory".into()),
    });
    ScanReport {
        started_at: at(10, 0, 0),
        finished_at: at(10, 2, 13),
        accounts: vec![PROD.into(), DEV.into()],
        regions: vec!["us-east-1".into(), "eu-west-1".into()],
        results,
        api_calls: 1234,
        api_errors: 2,
    }
}

/// `report` rendered in `format`.
pub fn render(format: ReportFormat, report: &ScanReport) -> String {
    let mut out = Vec::new();
    write_report(format, report, &mut out).expect("writing to memory works");
    String::from_utf8(out).expect("output is UTF-8")
}

/// This crate's directory.
pub fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Compares `actual` with the golden file `tests/golden/<name>`; rewrites it instead when
/// `VIGIL_BLESS=1`. Review the diff of a rewritten golden file before committing it.
pub fn assert_golden(name: &str, actual: &str) {
    let path = crate_dir().join("tests/golden").join(name);
    if std::env::var("VIGIL_BLESS").is_ok_and(|value| value == "1") {
        std::fs::write(&path, actual).expect("golden file is writable");
        return;
    }
    let expected = read(&path);
    assert!(
        expected == actual,
        "{} differs from the output; review it and rerun with VIGIL_BLESS=1.\n--- output ---\n{actual}",
        path.display()
    );
}

/// A file's text, with its path in the panic message when it cannot be read.
pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}
