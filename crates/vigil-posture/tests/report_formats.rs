//! Every report format of the hand-built scan: golden files, and each output checked for
//! validity — JSON parses, ASFF meets Security Hub's rules, OCSF matches the schema, SARIF
//! meets the standard, CSV reads back through a CSV reader.

mod report_common;

use std::collections::BTreeSet;

use report_common::{asff, ocsf, render, sarif, scan};
use serde_json::Value;
use vigil_posture::report::{summary, write_report, ReportFormat, OCSF_SCHEMA_VERSION};
use vigil_posture::{control, Status};

/// Results of the fixture per status (muted ones included): see `report_common::scan`.
const FAILED: usize = 10;
const PASSED: usize = 5;
const UNKNOWN: usize = 1;
const NOT_APPLICABLE: usize = 1;
const RESULTS: usize = FAILED + PASSED + UNKNOWN + NOT_APPLICABLE;

fn json(format: ReportFormat) -> Value {
    serde_json::from_str(&render(format, &scan())).expect("the output is JSON")
}

fn array(format: ReportFormat) -> Vec<Value> {
    match json(format) {
        Value::Array(items) => items,
        other => panic!("{format} is not a JSON array: {other}"),
    }
}

#[test]
fn every_format_matches_its_golden_file() {
    for (format, name) in [
        (ReportFormat::Table, "scan.table.txt"),
        (ReportFormat::Jsonl, "scan.jsonl"),
        (ReportFormat::Asff, "scan.asff.json"),
        (ReportFormat::Ocsf, "scan.ocsf.json"),
        (ReportFormat::Csv, "scan.csv"),
        (ReportFormat::Sarif, "scan.sarif"),
        (ReportFormat::Html, "scan.html"),
    ] {
        report_common::assert_golden(name, &render(format, &scan()));
    }
    report_common::assert_golden("scan.summary.txt", &summary(&scan()));
}

#[test]
fn jsonl_lines_carry_control_frameworks_status_and_resource() {
    let text = render(ReportFormat::Jsonl, &scan());
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is JSON"))
        .collect();
    assert_eq!(lines.len(), RESULTS);
    // VIG-02 is CIS 1.4 and Security Hub IAM.4 (CONTROLS.md).
    let root_keys = &lines[2];
    assert_eq!(root_keys["control"], "VIG-02");
    assert_eq!(root_keys["cis"], "1.4");
    assert_eq!(root_keys["security_hub"], serde_json::json!(["IAM.4"]));
    assert_eq!(root_keys["status"], "FAIL");
    assert_eq!(root_keys["resource"]["id"], "AWS::::Account:444455556666");
    assert!(root_keys.get("muted").is_some_and(Value::is_null));
    assert_eq!(lines[9]["muted"]["by"], "alice@example.com");
    assert_eq!(lines[8]["details"]["rules"][0]["port"], 22);
    let ids: BTreeSet<&str> = lines.iter().filter_map(|l| l["id"].as_str()).collect();
    assert_eq!(ids.len(), RESULTS, "every result has its own id");
}

#[test]
fn every_asff_finding_passes_the_checker() {
    for finding in array(ReportFormat::Asff) {
        let problems = asff::check(&finding);
        assert!(problems.is_empty(), "{}: {problems:#?}", finding["Id"]);
    }
}

#[test]
fn the_asff_checker_rejects_broken_findings() {
    let mut finding = array(ReportFormat::Asff).remove(0);
    finding["Compliance"]["Status"] = Value::from("BROKEN");
    finding["Compliance"]["Score"] = Value::from(3);
    finding["Note"] = serde_json::json!({ "Text": "", "UpdatedBy": "x", "UpdatedAt": "yesterday" });
    finding["FindingProviderFields"]["Severity"]["Label"] = Value::from("SEVERE");
    let problems = asff::check(&finding);
    // The status, the unknown Compliance key, the empty note text, its time, the label.
    assert_eq!(problems.len(), 5, "{problems:#?}");
}

#[test]
fn asff_compliance_maps_status_frameworks_and_mutes() {
    let findings = array(ReportFormat::Asff);
    assert_eq!(findings.len(), RESULTS);
    let count = |status: &str| {
        findings
            .iter()
            .filter(|f| f["Compliance"]["Status"] == status)
            .count()
    };
    assert_eq!(
        (
            count("FAILED"),
            count("PASSED"),
            count("WARNING"),
            count("NOT_AVAILABLE")
        ),
        (FAILED, PASSED, UNKNOWN, NOT_APPLICABLE)
    );
    let root_keys = &findings[2];
    assert_eq!(root_keys["Compliance"]["SecurityControlId"], "IAM.4");
    assert_eq!(
        root_keys["Compliance"]["RelatedRequirements"],
        serde_json::json!(["CIS AWS Foundations Benchmark v3.0.0/1.4"])
    );
    assert_eq!(root_keys["GeneratorId"], "vigil/posture/VIG-02");
    assert_eq!(root_keys["Resources"][0]["Type"], "AwsAccount");
    assert_eq!(
        root_keys["Region"], "us-east-1",
        "a global resource is reported in the first region scanned"
    );
    assert_eq!(
        root_keys["ProductArn"],
        "arn:aws:securityhub:us-east-1:444455556666:product/444455556666/default"
    );
    let kms = &findings[4];
    assert_eq!(kms["Compliance"]["SecurityControlId"], "KMS.1");
    assert_eq!(
        kms["Compliance"]["RelatedRequirements"],
        serde_json::json!(["AWS Security Hub/KMS.2"])
    );
    let sg = &findings[8];
    assert_eq!(sg["Resources"][0]["Type"], "AwsEc2SecurityGroup");
    assert_eq!(sg["Region"], "eu-west-1");
    let muted = &findings[9];
    assert_eq!(muted["Workflow"]["Status"], "SUPPRESSED");
    assert!(muted["Note"]["Text"]
        .as_str()
        .is_some_and(|t| t.contains("Vendor jump host")));
    assert_eq!(muted["Note"]["UpdatedBy"], "alice@example.com");
    let passed = &findings[0];
    assert_eq!(passed["Severity"]["Label"], "INFORMATIONAL");
    assert_eq!(passed["Workflow"]["Status"], "RESOLVED");
    assert_eq!(
        findings[15]["RecordState"], "ARCHIVED",
        "NOT_APPLICABLE is archived"
    );
    let ids: BTreeSet<&str> = findings.iter().filter_map(|f| f["Id"].as_str()).collect();
    assert_eq!(ids.len(), RESULTS);
}

#[test]
fn asff_names_the_china_partition_for_a_scan_of_china_regions() {
    let mut report = scan();
    report.regions = vec!["cn-north-1".into()];
    report.results.truncate(1);
    let text = report_common::render(ReportFormat::Asff, &report);
    let findings: Vec<Value> = serde_json::from_str(&text).expect("JSON");
    let finding = &findings[0];
    assert_eq!(
        finding["ProductArn"],
        "arn:aws-cn:securityhub:cn-north-1:111122223333:product/111122223333/default"
    );
    assert_eq!(finding["Resources"][0]["Partition"], "aws-cn");
    assert!(
        asff::check(finding).is_empty(),
        "{:#?}",
        asff::check(finding)
    );
}

#[test]
fn asff_refuses_a_result_without_an_aws_account() {
    let mut report = scan();
    report.results[3].resource.account = "unknown".into();
    let error = write_report(ReportFormat::Asff, &report, &mut Vec::new())
        .expect_err("ASFF needs an account");
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidData);
    assert!(error.to_string().contains("result 4"), "{error}");
}

#[test]
fn every_ocsf_finding_matches_the_compliance_finding_schema() {
    let schema = ocsf::Schema::load();
    assert_eq!(schema.version(), OCSF_SCHEMA_VERSION);
    for finding in array(ReportFormat::Ocsf) {
        let problems = schema.check_event(
            "events/findings/compliance_finding.json",
            "findings",
            &finding,
        );
        assert!(
            problems.is_empty(),
            "{}: {problems:#?}",
            finding["finding_info"]["uid"]
        );
    }
}

#[test]
fn the_ocsf_checker_rejects_broken_findings() {
    let schema = ocsf::Schema::load();
    let mut finding = array(ReportFormat::Ocsf).remove(0);
    finding["compliance"]["status_id"] = Value::from(7);
    finding["compliance"]["verdict"] = Value::from("ok");
    finding["class_uid"] = Value::from(2004);
    if let Some(fields) = finding.as_object_mut() {
        fields.remove("finding_info");
    }
    let problems = schema.check_event(
        "events/findings/compliance_finding.json",
        "findings",
        &finding,
    );
    // One problem each: the class, the missing finding_info, the status id out of its enum,
    // the attribute the compliance object does not define.
    assert_eq!(problems.len(), 4, "{problems:#?}");
}

#[test]
fn ocsf_compliance_carries_status_control_standards_and_resource() {
    let findings = array(ReportFormat::Ocsf);
    let statuses: Vec<u64> = findings
        .iter()
        .filter_map(|f| f["compliance"]["status_id"].as_u64())
        .collect();
    let count = |id: u64| statuses.iter().filter(|s| **s == id).count();
    // Pass 1, Warning 2 (UNKNOWN), Fail 3, Other 99 (NOT_APPLICABLE).
    assert_eq!(
        (count(3), count(1), count(2), count(99)),
        (FAILED, PASSED, UNKNOWN, NOT_APPLICABLE)
    );
    let root_keys = &findings[2];
    assert_eq!(root_keys["class_uid"], 2003);
    assert_eq!(root_keys["compliance"]["control"], "VIG-02");
    assert_eq!(
        root_keys["compliance"]["standards"][1],
        "CIS AWS Foundations Benchmark v3.0.0"
    );
    assert_eq!(
        root_keys["compliance"]["requirements"],
        serde_json::json!([
            "CIS AWS Foundations Benchmark v3.0.0/1.4",
            "AWS Security Hub/IAM.4"
        ])
    );
    assert_eq!(
        root_keys["resources"][0]["uid"],
        "AWS::::Account:444455556666"
    );
    assert_eq!(root_keys["cloud"]["account"]["uid"], "444455556666");
    assert_eq!(findings[9]["status"], "Suppressed");
}

#[test]
fn the_sarif_log_is_valid_with_one_rule_per_control_and_a_result_per_problem() {
    let log = json(ReportFormat::Sarif);
    let problems = sarif::check(&log);
    assert!(problems.is_empty(), "{problems:#?}");
    let run = &log["runs"][0];
    let rules: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .filter_map(|rule| rule["id"].as_str())
        .collect();
    let expected = [
        "VIG-01", "VIG-02", "VIG-22", "VIG-24", "VIG-35", "VIG-40", "VIG-53", "VIG-56", "VIG-58",
        "VIG-70",
    ];
    assert_eq!(rules, expected);
    let results = run["results"].as_array().expect("results");
    assert_eq!(results.len(), FAILED + UNKNOWN);
    let unknown: Vec<&Value> = results.iter().filter(|r| r["kind"] == "open").collect();
    assert_eq!(unknown.len(), UNKNOWN);
    assert_eq!(unknown[0]["level"], "none");
    assert_eq!(unknown[0]["ruleId"], "VIG-35");
    let suppressed: Vec<&Value> = results
        .iter()
        .filter(|r| r.get("suppressions").is_some())
        .collect();
    assert_eq!(suppressed.len(), 2);
    let suppression = &suppressed[0]["suppressions"][0];
    assert_eq!(suppression["status"], "accepted");
    assert!(suppression["justification"]
        .as_str()
        .is_some_and(|j| j.starts_with("Vendor jump host.")));
    assert_eq!(suppression["properties"]["by"], "alice@example.com");
    let sg = results
        .iter()
        .find(|r| r["ruleId"] == "VIG-40")
        .expect("the security group result");
    assert_eq!(
        sg["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
        "arn:aws:ec2:eu-west-1:111122223333:security-group/sg-0a1b2c3d4e5f60718"
    );
    let severe = |id: &str| control(id).is_some_and(|c| c.severity.score >= 70);
    for result in results.iter().filter(|r| r["kind"] == "fail") {
        let id = result["ruleId"].as_str().unwrap_or_default();
        assert_eq!(
            result["level"] == "error",
            severe(id),
            "{id}: {}",
            result["level"]
        );
    }
}

#[test]
fn the_sarif_checker_rejects_broken_logs() {
    let mut log = json(ReportFormat::Sarif);
    let result = &mut log["runs"][0]["results"][0];
    result["ruleIndex"] = Value::from(99);
    result["kind"] = Value::from("open");
    result["level"] = Value::from("error");
    result["message"] = serde_json::json!({});
    let problems = sarif::check(&log);
    assert_eq!(problems.len(), 3, "{problems:#?}");
}

#[test]
fn csv_reads_back_field_for_field_with_formulas_neutralised() {
    let report = scan();
    let text = render(ReportFormat::Csv, &report);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().expect("a header row").clone();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no {name} column"))
    };
    let records: Vec<csv::StringRecord> = reader
        .records()
        .collect::<Result<_, _>>()
        .expect("every row parses");
    assert_eq!(records.len(), RESULTS);
    for (record, result) in records.iter().zip(&report.results) {
        assert_eq!(record.len(), header.len());
        assert_eq!(&record[column("control")], result.control);
        assert_eq!(&record[column("resource_id")], result.resource.id);
        assert_eq!(
            &record[column("reason")],
            result.reason,
            "quotes and commas survive"
        );
        assert_eq!(&record[column("status")], result.status.as_str());
    }
    let kms = &records[4];
    assert_eq!(&kms[column("security_hub")], "KMS.1 KMS.2");
    let muted = &records[9];
    assert_eq!(&muted[column("muted")], "true");
    assert!(
        muted[column("mute_reason")].contains("\nCompensating control"),
        "newlines survive"
    );
    assert_eq!(&muted[column("mute_expires")], "2024-06-30T00:00:00.000Z");
    let formula = &records[14][column("mute_reason")];
    assert_eq!(
        formula,
        "'=HYPERLINK(\"https://evil.example/\",\"accepted\")"
    );
}

#[test]
fn the_summary_scores_each_area_and_lists_failing_controls_worst_first() {
    let text = summary(&scan());
    // Scores from the fixture by hand: identity 2 of 5, detection 1 of 2, infrastructure
    // 0 of 1 (the other result is muted), data 2 of 4, readiness 0 of 1, overall 5 of 13.
    let area = |title: &str| {
        text.lines()
            .find(|line| line.starts_with(title))
            .unwrap_or_else(|| panic!("no line for {title}:\n{text}"))
            .to_string()
    };
    let identity = control("VIG-01").expect("VIG-01").area.title();
    assert!(area(identity).contains(" 40% "), "{text}");
    assert!(area("Detection").contains(" 50% "), "{text}");
    assert!(
        area("Infrastructure protection").contains("  0% "),
        "{text}"
    );
    assert!(area("Data protection").contains(" 50% "), "{text}");
    assert!(area("Overall").contains(" 38% "), "{text}");
    let overall_line = area("Overall");
    let overall: Vec<&str> = overall_line.split_whitespace().collect();
    assert_eq!(
        &overall[overall.len() - 5..],
        ["5", "8", "1", "1", "2"],
        "{text}"
    );
    let failing: Vec<&str> = text
        .lines()
        .skip_while(|line| !line.starts_with("Failing controls"))
        .skip(1)
        .take_while(|line| line.starts_with("  "))
        .collect();
    assert_eq!(failing.len(), 8, "VIG-58's only failure is muted:\n{text}");
    let scores: Vec<u8> = failing
        .iter()
        .map(|line| {
            let id = line.split_whitespace().nth(1).unwrap_or_default();
            control(id).map_or(0, |c| c.severity.score)
        })
        .collect();
    assert!(
        scores.windows(2).all(|w| w[0] >= w[1]),
        "worst first: {scores:?}"
    );
    assert!(
        text.contains("VIG-35") && text.contains("AccessDeniedException"),
        "{text}"
    );
    assert!(text.contains("1234 API calls, 2 errors"), "{text}");
}

#[test]
fn a_result_of_an_unknown_control_is_an_error_naming_it_not_a_panic() {
    let mut report = scan();
    report.results[5].control = "VIG-99".into();
    for format in ReportFormat::ALL {
        let error = write_report(format, &report, &mut Vec::new()).expect_err("unknown control");
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidData, "{format}");
        let message = error.to_string();
        assert!(
            message.contains("result 6") && message.contains("VIG-99"),
            "{message}"
        );
    }
    let text = summary(&report);
    assert!(text.contains("1 result(s) name controls"), "{text}");
}

#[test]
fn an_empty_scan_renders_in_every_format() {
    let mut report = scan();
    report.results.clear();
    for format in ReportFormat::ALL {
        let text = render(format, &report);
        match format {
            ReportFormat::Asff | ReportFormat::Ocsf => assert_eq!(text.trim(), "[]"),
            ReportFormat::Jsonl => assert_eq!(text, ""),
            ReportFormat::Csv => assert_eq!(text.lines().count(), 1, "header only"),
            ReportFormat::Sarif => assert!(sarif::check(&json_of(&text)).is_empty()),
            ReportFormat::Table => assert!(text.starts_with("no results")),
            ReportFormat::Html => assert!(text.contains("No control fails.")),
        }
    }
    let text = summary(&report);
    assert!(text.contains("No failing controls."), "{text}");
    assert!(
        !text.contains("100%"),
        "nothing scored is not a perfect score:\n{text}"
    );
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).expect("JSON")
}

#[test]
fn muted_results_are_counted_apart_whatever_their_status() {
    let mut report = scan();
    for result in &mut report.results {
        result.muted = None;
    }
    let text = summary(&report);
    assert!(
        text.lines()
            .any(|l| l.starts_with("Overall") && l.contains(" 33% ")),
        "unmuted, 5 of 15 pass:\n{text}"
    );
    assert_eq!(report.results[9].status, Status::Fail);
}
