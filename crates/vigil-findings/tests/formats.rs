//! Output formats of the two hand-built findings: golden files, and every rendered finding
//! checked against ASFF's rules and the OCSF schema.

mod common;

use serde_json::Value;
use vigil_findings::{
    asff_finding, ocsf_finding, write_asff, write_asff_with, write_findings, write_jsonl,
    write_ocsf, write_table, AsffOptions, Finding, Format, OCSF_SCHEMA_VERSION,
};

fn render(format: Format, findings: &[Finding]) -> String {
    let mut out = Vec::new();
    write_findings(format, findings, &mut out).expect("writing to memory works");
    String::from_utf8(out).expect("output is UTF-8")
}

#[test]
fn jsonl_matches_golden() {
    common::assert_golden(
        "findings.jsonl",
        &render(Format::Jsonl, &common::findings()),
    );
}

#[test]
fn asff_matches_golden() {
    common::assert_golden(
        "findings.asff.json",
        &render(Format::Asff, &common::findings()),
    );
}

#[test]
fn ocsf_matches_golden() {
    common::assert_golden(
        "findings.ocsf.json",
        &render(Format::Ocsf, &common::findings()),
    );
}

#[test]
fn jsonl_lines_carry_the_contract_fields_and_embedded_records() {
    let text = render(Format::Jsonl, &common::findings());
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is JSON"))
        .collect();
    assert_eq!(lines.len(), 2);
    let first = &lines[0];
    for key in [
        "id",
        "rule_id",
        "title",
        "severity",
        "event_count",
        "first_seen",
        "last_seen",
        "tags",
        "samples",
    ] {
        assert!(first.get(key).is_some(), "missing {key}");
    }
    assert_eq!(first["first_seen"], "2024-03-01T10:15:00.000Z");
    assert_eq!(first["samples"][0]["record"]["eventName"], "ConsoleLogin");
    let back: Finding = serde_json::from_str(text.lines().next().unwrap_or_default())
        .expect("a JSONL line reads back as a finding");
    assert_eq!(back, common::root_login());
}

#[test]
fn every_asff_finding_passes_the_checker() {
    let mut variants = common::findings();
    let mut long = common::root_login();
    long.rule_title = "t".repeat(400);
    long.description = "d".repeat(3000);
    long.resources = (0..40)
        .map(|n| format!("arn:aws:s3:::bucket-{n}"))
        .collect();
    long.tags = vec![];
    variants.push(long);
    for finding in &variants {
        let item = asff_finding(finding, &AsffOptions::default()).expect("has an account");
        let problems = common::asff::check(&item);
        assert!(problems.is_empty(), "{}: {problems:#?}", finding.id);
    }
}

#[test]
fn the_asff_checker_rejects_broken_findings() {
    let good = asff_finding(&common::root_login(), &AsffOptions::default()).expect("account");
    let mut broken = good.clone();
    broken["Title"] = Value::String("x".repeat(300));
    broken["Types"] = serde_json::json!(["Bad Namespace/Thing"]);
    broken["AwsAccountId"] = Value::String("12345".into());
    if let Some(fields) = broken.as_object_mut() {
        fields.remove("Resources");
    }
    let problems = common::asff::check(&broken);
    // Missing Resources counts twice (required, and 1 to 32 entries); the ProductArn no
    // longer names the account.
    assert_eq!(problems.len(), 6, "{problems:#?}");
}

#[test]
fn asff_leaves_out_findings_without_an_account_unless_given_one() {
    let mut orphan = common::exfiltration_flow();
    orphan.account = None;
    let mut out = Vec::new();
    let summary = write_asff(&[orphan.clone()], &mut out).expect("writes");
    assert_eq!((summary.written, summary.skipped.len()), (0, 1));
    assert_eq!(summary.skipped[0].0, orphan.id);
    let options = AsffOptions {
        default_account: Some("111122223333".into()),
        default_region: None,
    };
    let summary = write_asff_with(&[orphan], &options, &mut Vec::new()).expect("writes");
    assert_eq!((summary.written, summary.skipped.len()), (1, 0));
}

#[test]
fn asff_maps_tactics_resources_and_status() {
    let root = asff_finding(&common::root_login(), &AsffOptions::default()).expect("account");
    assert_eq!(
        root["Types"],
        serde_json::json!(["TTPs/Initial Access", "TTPs/Privilege Escalation"])
    );
    assert_eq!(root["Resources"][0]["Type"], "AwsAccount");
    assert_eq!(root["Workflow"]["Status"], "NOTIFIED");
    assert_eq!(root["Action"]["AwsApiCallAction"]["Api"], "ConsoleLogin");
    let flow =
        asff_finding(&common::exfiltration_flow(), &AsffOptions::default()).expect("account");
    assert_eq!(
        flow["Types"],
        serde_json::json!(["Effects/Data Exfiltration", "TTPs/Command and Control"])
    );
    assert_eq!(flow["Resources"][0]["Type"], "AwsEc2NetworkInterface");
    assert_eq!(flow["Resources"][1]["Type"], "AwsEc2Instance");
    assert_eq!(flow["Action"]["ActionType"], "NETWORK_CONNECTION");
    assert_eq!(
        flow["Description"], flow["Title"],
        "an empty description falls back to the title"
    );
}

#[test]
fn every_ocsf_finding_matches_the_schema() {
    let schema = common::ocsf::Schema::load();
    let mut variants = common::findings();
    let mut bare = common::exfiltration_flow();
    (bare.account, bare.region, bare.runbook) = (None, None, None);
    (bare.tags, bare.samples, bare.resources) = (vec![], vec![], vec![]);
    variants.push(bare);
    for finding in &variants {
        let event = ocsf_finding(finding);
        let problems =
            schema.check_event("events/findings/detection_finding.json", "findings", &event);
        assert!(problems.is_empty(), "{}: {problems:#?}", finding.id);
    }
}

#[test]
fn the_ocsf_checker_rejects_broken_findings() {
    let schema = common::ocsf::Schema::load();
    let mut event = ocsf_finding(&common::root_login());
    event["severity_id"] = Value::from(7);
    event["finding_info"]["analytic"]["colour"] = Value::from("red");
    event["type_uid"] = Value::from(200402);
    if let Some(cloud) = event["cloud"].as_object_mut() {
        cloud.remove("provider");
    }
    let problems = schema.check_event("events/findings/detection_finding.json", "findings", &event);
    assert_eq!(problems.len(), 4, "{problems:#?}");
}

#[test]
fn ocsf_names_the_schema_version_it_is_checked_against() {
    let schema = common::ocsf::Schema::load();
    assert_eq!(schema.version(), OCSF_SCHEMA_VERSION);
    let event = ocsf_finding(&common::root_login());
    assert_eq!(event["metadata"]["version"], OCSF_SCHEMA_VERSION);
    let attack = &event["finding_info"]["attacks"][0];
    assert_eq!(attack["sub_technique"]["uid"], "T1078.004");
    assert_eq!(attack["tactic"]["uid"], "TA0001");
}

#[test]
fn the_table_shows_one_row_per_finding() {
    let mut out = Vec::new();
    write_table(&common::findings(), &mut out).expect("writes");
    let text = String::from_utf8(out).expect("UTF-8");
    assert!(
        text.contains("CRITICAL") && text.contains("Root user console login"),
        "{text}"
    );
    assert!(text.contains("eni-0a1b2c3d (+1)"), "{text}");
    assert!(!text.contains('\u{1b}'), "no colour codes");
    let mut empty = Vec::new();
    write_table(&[], &mut empty).expect("writes");
    assert_eq!(String::from_utf8_lossy(&empty), "no findings\n");
}

#[test]
fn writers_report_what_they_wrote() {
    let findings = common::findings();
    let mut sink = Vec::new();
    assert_eq!(
        write_jsonl(&findings, &mut sink).map(|s| s.written).ok(),
        Some(2)
    );
    assert_eq!(
        write_ocsf(&findings, &mut sink).map(|s| s.written).ok(),
        Some(2)
    );
}
