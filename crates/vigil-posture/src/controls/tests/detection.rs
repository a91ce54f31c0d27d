use crate::controls::fixture::*;
use crate::controls::fixture_regional::ALERTS_TOPIC;
use crate::result::Status::{Fail, NotApplicable, Pass, Unknown};
use crate::snapshot::*;

fn trails(s: &mut Snapshot) -> &mut Vec<Trail> {
    match &mut region(s).logging.trails {
        Collected::Ok(trails) => trails,
        _ => panic!("fixture has trails"),
    }
}

fn selectors(s: &mut Snapshot) -> &mut TrailSelectors {
    match &mut trails(s)[0].selectors {
        Collected::Ok(selectors) => selectors,
        _ => panic!("fixture has selectors"),
    }
}

#[test]
fn vig24_multi_region_trail_logging_management_events() {
    let mut s = good();
    expect(&s, "VIG-24", Pass);
    if let Collected::Ok(status) = &mut trails(&mut s)[0].status {
        status.is_logging = false;
    }
    let fail = expect(&s, "VIG-24", Fail);
    assert!(fail[0].reason.contains("is not logging"));
    let mut s = good();
    selectors(&mut s).event_selectors[0].read_write_type = "WriteOnly".into();
    expect(&s, "VIG-24", Fail);
    // Advanced selectors with management events, no readOnly filter: read and write.
    selectors(&mut s).event_selectors.clear();
    selectors(&mut s)
        .advanced_event_selectors
        .push(AdvancedEventSelector {
            name: Some("mgmt".into()),
            field_selectors: vec![FieldSelector {
                field: "eventCategory".into(),
                equals: vec!["Management".into()],
                ..Default::default()
            }],
        });
    expect(&s, "VIG-24", Pass);
    trails(&mut s)[0].is_multi_region_trail = false;
    expect(&s, "VIG-24", Fail);
    region(&mut s).logging.trails = denied("cloudtrail:DescribeTrails");
    expect(&s, "VIG-24", Unknown);
}

#[test]
fn trails_seen_in_several_regions_are_judged_once() {
    let mut s = good();
    let mut second = region(&mut s).clone();
    second.region = "eu-west-1".into();
    account(&mut s).regions.push(second);
    let results = run(&s, "VIG-25");
    assert_eq!(results.len(), 1, "{results:#?}");
    assert_eq!(results[0].status, Pass);
}

#[test]
fn vig25_log_file_validation() {
    let mut s = good();
    expect(&s, "VIG-25", Pass);
    trails(&mut s)[0].log_file_validation_enabled = false;
    expect(&s, "VIG-25", Fail);
    // A trail owned by another account (an organisation trail seen from a member) is
    // judged in its owner.
    trails(&mut s)[0].trail_arn = format!("arn:aws:cloudtrail:us-east-1:{OTHER}:trail/org");
    expect(&s, "VIG-25", NotApplicable);
    region(&mut s).logging.trails = denied("cloudtrail:DescribeTrails");
    expect(&s, "VIG-25", Unknown);
}

#[test]
fn vig26_config_recording_every_region() {
    let mut s = good();
    expect(&s, "VIG-26", Pass);
    if let Collected::Ok(statuses) = &mut region(&mut s).logging.config_recorder_statuses {
        statuses[0].recording = false;
    }
    let fail = expect(&s, "VIG-26", Fail);
    assert!(fail[0].reason.contains("is stopped"));
    region(&mut s).logging.config_recorders = Collected::Ok(vec![]);
    expect(&s, "VIG-26", Fail);
    region(&mut s).logging.config_recorders = denied("config:DescribeConfigurationRecorders");
    expect(&s, "VIG-26", Unknown);
}

fn buckets(s: &mut Snapshot) -> &mut Vec<Bucket> {
    match &mut account(s).buckets {
        Collected::Ok(buckets) => buckets,
        _ => panic!("fixture has buckets"),
    }
}

#[test]
fn vig27_trail_bucket_access_logging() {
    let mut s = good();
    let pass = expect(&s, "VIG-27", Pass);
    assert_eq!(pass[0].resource.id, format!("arn:aws:s3:::{TRAIL_BUCKET}"));
    buckets(&mut s)[0].logging = Collected::Ok(None);
    expect(&s, "VIG-27", Fail);
    buckets(&mut s)[0].logging = denied("s3:GetBucketLogging");
    expect(&s, "VIG-27", Unknown);
    // A bucket no scanned account owns cannot be judged.
    trails(&mut s)[0].s3_bucket_name = Some("elsewhere".into());
    expect(&s, "VIG-27", Unknown);
}

#[test]
fn vig28_trail_kms() {
    let mut s = good();
    expect(&s, "VIG-28", Pass);
    trails(&mut s)[0].kms_key_id = None;
    expect(&s, "VIG-28", Fail);
    region(&mut s).logging.trails = denied("cloudtrail:DescribeTrails");
    expect(&s, "VIG-28", Unknown);
}

#[test]
fn vig29_vpc_flow_logs() {
    let mut s = good();
    expect(&s, "VIG-29", Pass);
    if let Collected::Ok(logs) = &mut region(&mut s).network.flow_logs {
        logs[0].traffic_type = "ACCEPT".into();
    }
    expect(&s, "VIG-29", Fail);
    region(&mut s).network.flow_logs = Collected::Ok(vec![]);
    expect(&s, "VIG-29", Fail);
    region(&mut s).network.flow_logs = denied("ec2:DescribeFlowLogs");
    expect(&s, "VIG-29", Unknown);
}

#[test]
fn vig30_and_vig31_s3_data_events() {
    let mut s = good();
    expect(&s, "VIG-30", Pass);
    expect(&s, "VIG-31", Pass);
    selectors(&mut s).event_selectors[0].read_write_type = "ReadOnly".into();
    expect(&s, "VIG-30", Fail);
    expect(&s, "VIG-31", Pass);
    // Advanced selector for writes only, on every bucket.
    let mut s = good();
    selectors(&mut s).event_selectors[0].data_resources.clear();
    selectors(&mut s)
        .advanced_event_selectors
        .push(AdvancedEventSelector {
            name: None,
            field_selectors: vec![
                FieldSelector {
                    field: "eventCategory".into(),
                    equals: vec!["Data".into()],
                    ..Default::default()
                },
                FieldSelector {
                    field: "resources.type".into(),
                    equals: vec!["AWS::S3::Object".into()],
                    ..Default::default()
                },
                FieldSelector {
                    field: "readOnly".into(),
                    equals: vec!["false".into()],
                    ..Default::default()
                },
            ],
        });
    expect(&s, "VIG-30", Pass);
    expect(&s, "VIG-31", Fail);
    // One bucket only is not all buckets.
    selectors(&mut s).advanced_event_selectors[0]
        .field_selectors
        .push(FieldSelector {
            field: "resources.ARN".into(),
            starts_with: vec!["arn:aws:s3:::one-bucket/".into()],
            ..Default::default()
        });
    expect(&s, "VIG-30", Fail);
    trails(&mut s)[0].selectors = denied("cloudtrail:GetEventSelectors");
    expect(&s, "VIG-30", Unknown);
    expect(&s, "VIG-31", Unknown);
}

#[test]
fn vig32_trail_to_cloudwatch_logs() {
    let mut s = good();
    expect(&s, "VIG-32", Pass);
    if let Collected::Ok(status) = &mut trails(&mut s)[0].status {
        status.latest_cloud_watch_logs_delivery_time = Some(days_ago(3));
    }
    expect(&s, "VIG-32", Fail);
    trails(&mut s)[0].status = denied("cloudtrail:GetTrailStatus");
    expect(&s, "VIG-32", Unknown);
    trails(&mut s)[0].cloud_watch_logs_log_group_arn = None;
    expect(&s, "VIG-32", Fail);
}

fn filters(s: &mut Snapshot) -> &mut Vec<MetricFilter> {
    match &mut region(s).logging.metric_filters {
        Collected::Ok(filters) => filters,
        _ => panic!("fixture has filters"),
    }
}

#[test]
fn vig33_names_the_missing_event_classes() {
    let mut s = good();
    expect(&s, "VIG-33", Pass);
    // Drop the root-use filter and weaken the IAM one (CreatePolicyVersion must not count
    // as CreatePolicy).
    filters(&mut s).retain(|f| f.filter_name != "root-use");
    let iam = filters(&mut s)
        .iter_mut()
        .find(|f| f.filter_name == "iam-policy")
        .unwrap();
    iam.filter_pattern = iam
        .filter_pattern
        .replace("($.eventName=CreatePolicy)||", "");
    let fail = expect(&s, "VIG-33", Fail);
    assert!(fail[0].reason.starts_with("2 of 15"), "{}", fail[0].reason);
    assert!(fail[0].reason.contains("root account use (4.3)"));
    assert!(fail[0].reason.contains("IAM policy changes (4.4)"));
    let missing = fail[0].details["missing"].as_array().unwrap();
    assert_eq!(missing[0]["why"], "no metric filter");
}

#[test]
fn vig33_requires_alarm_and_confirmed_subscription() {
    let mut s = good();
    region(&mut s).logging.sns_subscriptions = Collected::Ok(vec![SnsSubscription {
        topic_arn: ALERTS_TOPIC.into(),
        subscription_arn: "PendingConfirmation".into(),
        ..Default::default()
    }]);
    let fail = expect(&s, "VIG-33", Fail);
    assert!(fail[0].reason.starts_with("15 of 15"));
    assert!(fail[0].details["missing"][0]["why"]
        .as_str()
        .unwrap()
        .contains("confirmed subscription"));
    region(&mut s).logging.metric_alarms = Collected::Ok(vec![]);
    let fail = expect(&s, "VIG-33", Fail);
    assert_eq!(
        fail[0].details["missing"][0]["why"],
        "metric filter has no enabled alarm"
    );
    region(&mut s).logging.metric_filters = denied("logs:DescribeMetricFilters");
    expect(&s, "VIG-33", Unknown);
    trails(&mut s)[0].cloud_watch_logs_log_group_arn = None;
    expect(&s, "VIG-33", Fail);
}

#[test]
fn vig34_security_hub() {
    let mut s = good();
    expect(&s, "VIG-34", Pass);
    region(&mut s).logging.security_hub = Collected::Ok(None);
    expect(&s, "VIG-34", Fail);
    region(&mut s).logging.security_hub = denied("securityhub:DescribeHub");
    expect(&s, "VIG-34", Unknown);
}

#[test]
fn vig35_guardduty() {
    let mut s = good();
    expect(&s, "VIG-35", Pass);
    if let Collected::Ok(detectors) = &mut region(&mut s).logging.guardduty_detectors {
        detectors[0].status = "DISABLED".into();
    }
    let fail = expect(&s, "VIG-35", Fail);
    assert!(fail[0].reason.contains("suspended"));
    region(&mut s).logging.guardduty_detectors = Collected::Ok(vec![]);
    expect(&s, "VIG-35", Fail);
    region(&mut s).logging.guardduty_detectors = denied("guardduty:ListDetectors");
    expect(&s, "VIG-35", Unknown);
}

#[test]
fn vig36_bucket_access_logging() {
    let mut s = good();
    expect(&s, "VIG-36", Pass);
    buckets(&mut s)[1].logging = Collected::Ok(None);
    let fail = expect_some(&s, "VIG-36", Fail);
    assert_eq!(fail[0].resource.id, "arn:aws:s3:::ir-evidence");
    account(&mut s).buckets = Collected::Ok(vec![]);
    expect(&s, "VIG-36", NotApplicable);
    account(&mut s).buckets = denied("s3:ListBuckets");
    expect(&s, "VIG-36", Unknown);
}

#[test]
fn vig37_macie() {
    let mut s = good();
    expect(&s, "VIG-37", Pass);
    region(&mut s).logging.macie_session = Collected::Ok(Some(MacieSession {
        status: "PAUSED".into(),
        created_at: None,
    }));
    expect(&s, "VIG-37", Fail);
    region(&mut s).logging.macie_session = denied("macie2:GetMacieSession");
    expect(&s, "VIG-37", Unknown);
}

#[test]
fn vig38_edge_logging() {
    let mut s = good();
    let pass = expect(&s, "VIG-38", Pass);
    assert_eq!(pass.len(), 4, "ALB, CLB, API stage, distribution");
    if let Collected::Ok(stages) = &mut region(&mut s).services.api_gateway_stages {
        stages[0].logging_level = Some("OFF".into());
    }
    let fail = expect_some(&s, "VIG-38", Fail);
    assert_eq!(fail[0].resource.kind, "AWS::ApiGateway::Stage");
    if let Collected::Ok(lbs) = &mut region(&mut s).services.load_balancers {
        lbs[0].attributes = denied("elasticloadbalancing:DescribeLoadBalancerAttributes");
    }
    expect_some(&s, "VIG-38", Unknown);
    let mut s = good();
    account(&mut s).cloudfront_distributions = Collected::Ok(vec![]);
    region(&mut s).services = ServicesData {
        load_balancers: Collected::Ok(vec![]),
        classic_load_balancers: Collected::Ok(vec![]),
        api_gateway_stages: Collected::Ok(vec![]),
        ..Default::default()
    };
    expect(&s, "VIG-38", NotApplicable);
}
