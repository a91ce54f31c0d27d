//! The SigmaHQ AWS CloudTrail rules bundled in tests/data/sigma: all load, the legacy ones
//! keep their aggregation, and a handful really match hand-written CloudTrail records (and do
//! not match a near miss).

mod common;

use common::{event, sigma_data};
use vigil_correlation::{CompareOp, CorrelationKind};
use vigil_event::LogSource;
use vigil_sigma::{load_path, LoadOptions, LoadReport, Rule};

fn sigmahq() -> LoadReport {
    load_path(sigma_data("aws"), &LoadOptions::default())
}

fn by_id<'a>(report: &'a LoadReport, id: &str) -> &'a Rule {
    report
        .rules
        .iter()
        .find(|r| r.id == id)
        .expect("rule is loaded")
}

#[test]
fn all_57_sigmahq_aws_rules_load_without_errors() {
    let report = sigmahq();
    assert!(report.errors.is_empty(), "{:#?}", report.errors);
    assert_eq!(report.rules.len(), 57);
    assert!(report
        .rules
        .iter()
        .all(|r| r.sources == vec![LogSource::CloudTrail]));
    assert!(report.rules.iter().all(|r| r.legacy_aggregation.is_none()));
}

#[test]
fn legacy_aggregation_rules_load_with_their_aggregation() {
    let report = load_path(
        sigma_data("aws-legacy-aggregation"),
        &LoadOptions::default(),
    );
    assert!(report.errors.is_empty(), "{:#?}", report.errors);
    let counted: Vec<&Rule> = report
        .rules
        .iter()
        .filter(|r| r.legacy_aggregation.is_some())
        .collect();
    assert_eq!(counted.len(), 6, "six rules use `| count()`");
    for rule in &counted {
        let agg = rule.legacy_aggregation.as_ref().expect("aggregation");
        assert_eq!(agg.function, "count");
        assert_eq!(agg.op, CompareOp::Gt);
    }
    let macie = report
        .rules
        .iter()
        .find(|r| r.file.ends_with("aws_macic_evasion.yml"))
        .expect("macie");
    let agg = macie.legacy_aggregation.as_ref().expect("aggregation");
    assert_eq!(
        (agg.group_by.as_deref(), agg.threshold),
        (Some("sourceIPAddress"), 5)
    );
    assert_eq!(agg.timeframe_ms, Some(10 * 60 * 1000));
    let userdata = report
        .rules
        .iter()
        .find(|r| r.file.ends_with("aws_ec2_download_userdata.yml"))
        .expect("userdata");
    let agg = userdata.legacy_aggregation.as_ref().expect("aggregation");
    assert_eq!(
        (agg.group_by.as_deref(), agg.threshold, agg.timeframe_ms),
        (None, 10, Some(30 * 60 * 1000))
    );
    // The detection before `|` is what each event is matched against.
    assert!(userdata.matches(&event(
        r#"{"eventSource":"ec2.amazonaws.com","eventName":"DescribeInstanceAttribute","requestParameters":{"attribute":"userData"}}"#
    )));
}

#[test]
fn legacy_near_becomes_base_rules_and_a_temporal_correlation() {
    let report = load_path(
        sigma_data("aws-legacy-aggregation"),
        &LoadOptions::default(),
    );
    assert_eq!(report.correlations.len(), 1);
    let correlation = &report.correlations[0];
    assert_eq!(correlation.kind, CorrelationKind::Temporal);
    assert_eq!(correlation.rules.len(), 2);
    for id in &correlation.rules {
        let base = report
            .rules
            .iter()
            .find(|r| &r.id == id)
            .expect("base rule exists");
        assert!(base.id.starts_with(correlation.id.as_deref().expect("id")));
    }
    let created = report
        .rules
        .iter()
        .find(|r| r.id == correlation.rules[0])
        .expect("first");
    let invoked = report
        .rules
        .iter()
        .find(|r| r.id == correlation.rules[1])
        .expect("second");
    let create = event(r#"{"eventSource":"lambda.amazonaws.com","eventName":"CreateFunction"}"#);
    assert!(created.matches(&create) && !invoked.matches(&create));
    // 6 count rules + the SES rule + 2 base rules of the `near` rule.
    assert_eq!(report.rules.len(), 9);
}

#[test]
fn stop_logging_matches_and_start_logging_does_not() {
    let report = sigmahq();
    let rule = by_id(&report, "4db60cc0-36fb-42b7-9b58-a5b53019fb74");
    let record = |name: &str| {
        event(&format!(
            r#"{{"eventVersion":"1.08","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/mallory"}},
               "eventTime":"2024-05-01T10:00:00Z","eventSource":"cloudtrail.amazonaws.com","eventName":"{name}",
               "awsRegion":"us-east-1","sourceIPAddress":"203.0.113.7","requestParameters":{{"name":"main-trail"}},
               "responseElements":null,"recipientAccountId":"111122223333"}}"#
        ))
    };
    assert!(rule.matches(&record("StopLogging")));
    assert!(rule.matches(&record("DeleteTrail")));
    assert!(!rule.matches(&record("StartLogging")));
}

#[test]
fn root_usage_matches_except_aws_service_events() {
    let report = sigmahq();
    let rule = by_id(&report, "8ad1600d-e9dc-4251-b0ee-a65268f29add");
    let root = r#"{"userIdentity":{"type":"Root","arn":"arn:aws:iam::111122223333:root"},
        "eventSource":"iam.amazonaws.com","eventName":"CreateUser","eventType":"AwsApiCall"}"#;
    assert!(rule.matches(&event(root)));
    assert!(!rule.matches(&event(&root.replace("AwsApiCall", "AwsServiceEvent"))));
    assert!(!rule.matches(&event(&root.replace("\"Root\"", "\"IAMUser\""))));
}

#[test]
fn console_login_without_mfa_matches_only_without_mfa() {
    let report = sigmahq();
    let rule = by_id(&report, "77caf516-34e5-4df9-b4db-20744fea0a60");
    let login = r#"{"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin",
        "additionalEventData":{"LoginTo":"https://console.aws.amazon.com","MobileVersion":"No","MFAUsed":"No"},
        "responseElements":{"ConsoleLogin":"Success"}}"#;
    assert!(
        rule.matches(&event(login)),
        "case-insensitive: `No` matches `NO`"
    );
    assert!(!rule.matches(&event(
        &login.replace("\"MFAUsed\":\"No\"", "\"MFAUsed\":\"Yes\"")
    )));
    assert!(!rule.matches(&event(&login.replace("Success", "Failure"))));
}

#[test]
fn imds_credentials_outside_aws_use_regex_and_filters() {
    let report = sigmahq();
    let rule = by_id(&report, "352a918a-34d8-4882-8470-44830c507aa3");
    let call = r#"{"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/aws:ec2-instance/i-0abc"},
        "eventSource":"s3.amazonaws.com","eventName":"ListBuckets","sourceIPAddress":"198.51.100.23"}"#;
    assert!(rule.matches(&event(call)));
    assert!(!rule.matches(&event(&call.replace("198.51.100.23", "AWS Internal"))));
    assert!(!rule.matches(&event(
        &call.replace("s3.amazonaws.com", "ssm.amazonaws.com")
    )));
    assert!(!rule.matches(&event(
        &call.replace("assumed-role/aws:", "assumed-role/admin")
    )));
}

#[test]
fn bucket_deleted_counts_a_missing_error_code_as_success() {
    let report = sigmahq();
    let rule = report
        .rules
        .iter()
        .find(|r| r.file.ends_with("aws_cloudtrail_bucket_deleted.yml"))
        .expect("rule");
    let success = r#"{"eventSource":"s3.amazonaws.com","eventName":"DeleteBucket","requestParameters":{"bucketName":"b"}}"#;
    assert!(
        rule.matches(&event(success)),
        "CloudTrail omits errorCode on success"
    );
    let denied = r#"{"eventSource":"s3.amazonaws.com","eventName":"DeleteBucket","errorCode":"AccessDenied"}"#;
    assert!(!rule.matches(&event(denied)));
    let null = r#"{"eventName":"DeleteBucket","errorCode":null}"#;
    assert!(rule.matches(&event(null)));
}

#[test]
fn bucket_versioning_suspended_searches_inside_request_parameters() {
    let report = sigmahq();
    let rule = by_id(&report, "a136ac98-b2bc-4189-a14d-f0d0388e57a7");
    let put = r#"{"eventSource":"s3.amazonaws.com","eventName":"PutBucketVersioning",
        "requestParameters":{"bucketName":"logs","VersioningConfiguration":{"Status":"Suspended","xmlns":"http://s3.amazonaws.com/doc/2006-03-01/"}}}"#;
    assert!(rule.matches(&event(put)));
    assert!(!rule.matches(&event(&put.replace("Suspended", "Enabled"))));
}

#[test]
fn vm_export_failure_ignores_exports_with_errors() {
    let report = sigmahq();
    let rule = by_id(&report, "54b9a76a-3c71-4673-b4b3-2edb4566ea7b");
    let export = r#"{"eventSource":"ec2.amazonaws.com","eventName":"CreateInstanceExportTask",
        "responseElements":{"exportTask":{"state":"active"}}}"#;
    assert!(rule.matches(&event(export)));
    let failed = r#"{"eventSource":"ec2.amazonaws.com","eventName":"CreateInstanceExportTask",
        "errorCode":"Client.UnsupportedOperation","errorMessage":"not allowed"}"#;
    assert!(!rule.matches(&event(failed)));
    assert!(!rule.matches(&event(&export.replace("active", "Failure"))));
}

#[test]
fn login_profile_update_by_the_user_themself_is_filtered_by_fieldref() {
    let report = sigmahq();
    let rule = by_id(&report, "055fb148-60f8-462d-ad16-26926ce050f1");
    let other = r#"{"eventSource":"iam.amazonaws.com","eventName":"UpdateLoginProfile",
        "userIdentity":{"arn":"arn:aws:iam::111122223333:user/admin"},"requestParameters":{"userName":"alice"}}"#;
    assert!(rule.matches(&event(other)));
    let same = r#"{"eventSource":"iam.amazonaws.com","eventName":"UpdateLoginProfile",
        "userIdentity":{"arn":"alice"},"requestParameters":{"userName":"alice"}}"#;
    assert!(!rule.matches(&event(same)));
}

#[test]
fn s3browser_policy_template_needs_every_fragment() {
    let report = sigmahq();
    let rule = by_id(&report, "db014773-7375-4f4e-b83b-133337c0ffee");
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::<YOUR-BUCKET-NAME>/*"]}]}"#;
    let call = format!(
        r#"{{"eventSource":"iam.amazonaws.com","eventName":"PutUserPolicy","userAgent":"S3 Browser 11.4.5",
           "requestParameters":{{"userName":"u","policyName":"p","policyDocument":{}}}}}"#,
        serde_json::to_string(policy).expect("string")
    );
    assert!(rule.matches(&event(&call)));
    assert!(!rule.matches(&event(&call.replace("s3:GetObject", "s3:PutObject"))));
}
