//! Detection: logging, monitoring and threat detection — controls 24–38.

use serde_json::json;

use super::metric_filters;
use super::support::{
    account_ref, arn, each_global, each_region, each_regional, join, resource, Out, GLOBAL, HIGH,
    LOW, MEDIUM,
};
use super::trails::{self, covers_s3_objects, logs_management_events};
use super::{Control, Ctx};
use crate::result::{Area, ControlInfo};
use crate::snapshot::AccountSnapshot;

pub(super) static CONTROLS: &[Control] = &[
    Control {
        info: ControlInfo {
            id: "VIG-24",
            number: 24,
            title: "A multi-region CloudTrail trail logs all management events",
            description: "CloudTrail is the record of who did what in the account: without a \
                logging multi-region trail capturing read and write management events, an \
                investigation has only the 90-day event history of one region at a time, and \
                activity in unused regions goes unseen.",
            severity: HIGH,
            area: Area::Detection,
            cis: Some("3.1"),
            security_hub: &["CloudTrail.1"],
            remediation: "aws cloudtrail create-trail --name org-trail --s3-bucket-name BUCKET \
                --is-multi-region-trail --enable-log-file-validation && aws cloudtrail \
                start-logging --name org-trail; make sure its event selectors include \
                management events with ReadWriteType All.",
            remediation_action: Some("cloudtrail.start_logging"),
        },
        eval: multi_region_trail,
    },
    Control {
        info: ControlInfo {
            id: "VIG-25",
            number: 25,
            title: "CloudTrail log file validation is enabled",
            description: "Log file validation writes signed digest files so you can prove the \
                logs were not modified or deleted after delivery — essential when logs are \
                evidence.",
            severity: LOW,
            area: Area::Detection,
            cis: Some("3.2"),
            security_hub: &["CloudTrail.4"],
            remediation: "aws cloudtrail update-trail --name TRAIL --enable-log-file-validation",
            remediation_action: None,
        },
        eval: log_file_validation,
    },
    Control {
        info: ControlInfo {
            id: "VIG-26",
            number: 26,
            title: "AWS Config records all resources in every region",
            description: "AWS Config's configuration history answers \"what did this look like \
                when it happened\" during an investigation. It must record all supported \
                resource types and be running in every region.",
            severity: MEDIUM,
            area: Area::Detection,
            cis: Some("3.3"),
            security_hub: &["Config.1"],
            remediation: "aws configservice put-configuration-recorder --configuration-recorder \
                name=default,roleARN=ROLE --recording-group allSupported=true,\
                includeGlobalResourceTypes=true, put-delivery-channel, then aws configservice \
                start-configuration-recorder --configuration-recorder-name default (each region).",
            remediation_action: Some("config.start_recorder"),
        },
        eval: config_recording,
    },
    Control {
        info: ControlInfo {
            id: "VIG-27",
            number: 27,
            title: "The CloudTrail bucket has server access logging",
            description: "Access logs on the bucket holding CloudTrail logs show who read, \
                changed or deleted the audit trail itself.",
            severity: LOW,
            area: Area::Detection,
            cis: Some("3.4"),
            security_hub: &["CloudTrail.7"],
            remediation: "aws s3api put-bucket-logging --bucket TRAIL_BUCKET \
                --bucket-logging-status '{\"LoggingEnabled\":{\"TargetBucket\":\"LOG_BUCKET\",\
                \"TargetPrefix\":\"cloudtrail/\"}}'",
            remediation_action: None,
        },
        eval: trail_bucket_logging,
    },
    Control {
        info: ControlInfo {
            id: "VIG-28",
            number: 28,
            title: "CloudTrail logs are encrypted with a KMS key",
            description: "SSE-KMS adds a second permission (kms:Decrypt on the key) to read the \
                logs and records every decryption, so a bucket-policy mistake alone does not \
                expose the audit trail.",
            severity: MEDIUM,
            area: Area::Detection,
            cis: Some("3.5"),
            security_hub: &["CloudTrail.2"],
            remediation: "Create a key whose policy allows cloudtrail.amazonaws.com to \
                GenerateDataKey*, then aws cloudtrail update-trail --name TRAIL --kms-key-id \
                KEY_ARN",
            remediation_action: None,
        },
        eval: trail_kms,
    },
    Control {
        info: ControlInfo {
            id: "VIG-29",
            number: 29,
            title: "VPC flow logs are enabled in every VPC",
            description: "Flow logs are the only record of network connections in a VPC: which \
                host talked to which address, how much, and what was rejected. Without them \
                lateral movement and exfiltration cannot be reconstructed.",
            severity: MEDIUM,
            area: Area::Detection,
            cis: Some("3.7"),
            security_hub: &["EC2.6"],
            remediation: "aws ec2 create-flow-logs --resource-type VPC --resource-ids VPC_ID \
                --traffic-type ALL --log-destination-type s3 --log-destination \
                arn:aws:s3:::FLOW_LOG_BUCKET",
            remediation_action: None,
        },
        eval: vpc_flow_logs,
    },
    Control {
        info: ControlInfo {
            id: "VIG-30",
            number: 30,
            title: "S3 object-level write events are logged",
            description: "Management events do not include PutObject or DeleteObject. Without \
                S3 data events for writes, ransomware-style deletion or tampering with objects \
                leaves no trace in CloudTrail.",
            severity: MEDIUM,
            area: Area::Detection,
            cis: Some("3.8"),
            security_hub: &["S3.22"],
            remediation: "aws cloudtrail put-event-selectors --trail-name TRAIL \
                --event-selectors '[{\"ReadWriteType\":\"WriteOnly\",\
                \"IncludeManagementEvents\":true,\"DataResources\":[{\"Type\":\
                \"AWS::S3::Object\",\"Values\":[\"arn:aws:s3\"]}]}]' (or All).",
            remediation_action: None,
        },
        eval: s3_write_events,
    },
    Control {
        info: ControlInfo {
            id: "VIG-31",
            number: 31,
            title: "S3 object-level read events are logged",
            description: "GetObject calls are how data leaves S3. Without S3 read data events \
                you cannot say which objects an attacker downloaded, which decides breach \
                notification.",
            severity: MEDIUM,
            area: Area::Detection,
            cis: Some("3.9"),
            security_hub: &["S3.23"],
            remediation: "aws cloudtrail put-event-selectors --trail-name TRAIL \
                --event-selectors '[{\"ReadWriteType\":\"ReadOnly\",\
                \"IncludeManagementEvents\":true,\"DataResources\":[{\"Type\":\
                \"AWS::S3::Object\",\"Values\":[\"arn:aws:s3\"]}]}]' (or All).",
            remediation_action: None,
        },
        eval: s3_read_events,
    },
    Control {
        info: ControlInfo {
            id: "VIG-32",
            number: 32,
            title: "CloudTrail delivers to CloudWatch Logs",
            description: "Sending the trail to CloudWatch Logs enables real-time metric filters \
                and alarms on API activity (control 33); delivery must also be current (within \
                a day).",
            severity: LOW,
            area: Area::Detection,
            cis: None,
            security_hub: &["CloudTrail.5"],
            remediation: "aws cloudtrail update-trail --name TRAIL \
                --cloud-watch-logs-log-group-arn LOG_GROUP_ARN --cloud-watch-logs-role-arn \
                ROLE_ARN",
            remediation_action: None,
        },
        eval: trail_cloudwatch,
    },
    Control {
        info: ControlInfo {
            id: "VIG-33",
            number: 33,
            title: "Metric filters and alarms watch the 15 CIS event classes",
            description: "CIS 4.1–4.15: a metric filter on the trail's log group, an alarm on \
                its metric and a subscribed SNS topic for each of unauthorized API calls, \
                console sign-in without MFA, root use, IAM policy changes, CloudTrail changes, \
                console authentication failures, CMK disable/deletion, S3 bucket policy \
                changes, Config changes, security group, NACL, network gateway, route table, \
                VPC and Organizations changes. The result names the missing classes.",
            severity: MEDIUM,
            area: Area::Detection,
            cis: Some("4.1"),
            security_hub: &[],
            remediation: "For each missing class: aws logs put-metric-filter --log-group-name \
                CLOUDTRAIL_GROUP --filter-name NAME --metric-transformations \
                metricName=NAME,metricNamespace=CISBenchmark,metricValue=1 --filter-pattern \
                'PATTERN' && aws cloudwatch put-metric-alarm --alarm-name NAME --metric-name \
                NAME --namespace CISBenchmark --statistic Sum --period 300 --threshold 1 \
                --comparison-operator GreaterThanOrEqualToThreshold --evaluation-periods 1 \
                --alarm-actions SNS_TOPIC_ARN (patterns in the CIS benchmark, section 4).",
            remediation_action: None,
        },
        eval: metric_filters::evaluate,
    },
    Control {
        info: ControlInfo {
            id: "VIG-34",
            number: 34,
            title: "AWS Security Hub is enabled in every region",
            description: "Security Hub aggregates findings from GuardDuty, Inspector, Macie, \
                Access Analyzer and its own control checks. It is regional: a region without \
                it has no consolidated view.",
            severity: MEDIUM,
            area: Area::Detection,
            cis: Some("4.16"),
            security_hub: &[],
            remediation: "aws securityhub enable-security-hub --enable-default-standards \
                --region REGION (or enable centrally from the delegated administrator).",
            remediation_action: None,
        },
        eval: security_hub_enabled,
    },
    Control {
        info: ControlInfo {
            id: "VIG-35",
            number: 35,
            title: "Amazon GuardDuty is enabled in every region",
            description: "GuardDuty detects credential misuse, crypto-mining, reconnaissance and \
                malware from CloudTrail, DNS and flow data. Attackers use regions you do not \
                watch; enable it everywhere.",
            severity: HIGH,
            area: Area::Detection,
            cis: None,
            security_hub: &["GuardDuty.1"],
            remediation: "aws guardduty create-detector --enable --region REGION (or \
                aws guardduty update-detector --detector-id ID --enable for a disabled one).",
            remediation_action: Some("guardduty.enable_detector"),
        },
        eval: guardduty_enabled,
    },
    Control {
        info: ControlInfo {
            id: "VIG-36",
            number: 36,
            title: "S3 buckets have server access logging",
            description: "Server access logs record every request to a bucket, including the \
                anonymous and failed ones CloudTrail data events may not show; they are cheap \
                evidence for data-access investigations.",
            severity: MEDIUM,
            area: Area::Detection,
            cis: None,
            security_hub: &["S3.9"],
            remediation: "aws s3api put-bucket-logging --bucket BUCKET --bucket-logging-status \
                '{\"LoggingEnabled\":{\"TargetBucket\":\"LOG_BUCKET\",\"TargetPrefix\":\
                \"BUCKET/\"}}'",
            remediation_action: None,
        },
        eval: bucket_access_logging,
    },
    Control {
        info: ControlInfo {
            id: "VIG-37",
            number: 37,
            title: "Amazon Macie is enabled",
            description: "Macie discovers sensitive data (PII, credentials, financial data) in \
                S3. Knowing where sensitive data lives decides the impact of an exposure.",
            severity: MEDIUM,
            area: Area::Detection,
            cis: Some("2.1.3"),
            security_hub: &["Macie.1"],
            remediation: "aws macie2 enable-macie --region REGION, then create automated \
                sensitive data discovery or a classification job.",
            remediation_action: None,
        },
        eval: macie_enabled,
    },
    Control {
        info: ControlInfo {
            id: "VIG-38",
            number: 38,
            title: "Load balancers, API Gateway stages and CloudFront log requests",
            description: "Edge and application request logs hold the client IPs, paths and \
                user agents of attacks against public endpoints; CloudTrail does not see them.",
            severity: MEDIUM,
            area: Area::Detection,
            cis: None,
            security_hub: &["ELB.5", "APIGateway.1", "CloudFront.5"],
            remediation: "ALB: aws elbv2 modify-load-balancer-attributes --load-balancer-arn ARN \
                --attributes Key=access_logs.s3.enabled,Value=true \
                Key=access_logs.s3.bucket,Value=BUCKET; API Gateway: aws apigateway \
                update-stage --patch-operations op=replace,path=/*/*/logging/loglevel,value=INFO; \
                CloudFront: enable standard logging in the distribution config.",
            remediation_action: None,
        },
        eval: edge_logging,
    },
];

fn multi_region_trail(_ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    let view = trails::visible(account);
    let here = account_ref(account, GLOBAL);
    let mut rejected = Vec::new();
    for trail in &view.trails {
        let why_not = match trail.status.get("cloudtrail:GetTrailStatus") {
            Err(gap) => Some(gap.0),
            Ok(status) if !status.is_logging => Some("is not logging".into()),
            Ok(_) if !trail.is_multi_region_trail => Some("is single-region".into()),
            Ok(_) => match trail.selectors.get("cloudtrail:GetEventSelectors") {
                Err(gap) => Some(gap.0),
                Ok(selectors) if !logs_management_events(selectors) => {
                    Some("does not log all read and write management events".into())
                }
                Ok(_) => None,
            },
        };
        match why_not {
            None => {
                return out.pass(
                    here,
                    format!(
                        "Trail {} is multi-region, logging, and records all management events.",
                        trail.name
                    ),
                );
            }
            Some(why) => rejected.push(format!("{} {why}", trail.name)),
        }
    }
    if !view.gaps.is_empty() {
        return out.unknown(here, view.gaps.join("; "));
    }
    let reason = if rejected.is_empty() {
        "No CloudTrail trail exists.".to_string()
    } else {
        format!("No trail qualifies: {}.", join(&rejected))
    };
    out.fail(here, reason, json!({ "trails": rejected }));
}

/// Judges each trail owned by the account (organisation trails are judged in the
/// management account that owns them).
fn each_own_trail(
    account: &AccountSnapshot,
    out: &mut Out,
    mut judge: impl FnMut(&mut Out, crate::result::ResourceRef, &crate::snapshot::Trail),
) {
    let view = trails::visible(account);
    let before = out.len();
    for gap in &view.gaps {
        out.unknown(account_ref(account, GLOBAL), gap);
    }
    for trail in view.trails.iter().filter(|t| trails::owned_by(t, account)) {
        let here = resource(
            "AWS::CloudTrail::Trail",
            trail.trail_arn.clone(),
            account,
            &trail.home_region,
        );
        judge(out, here, trail);
    }
    if out.len() == before {
        out.not_applicable(
            account_ref(account, GLOBAL),
            "The account owns no CloudTrail trail.",
        );
    }
}

fn log_file_validation(_ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    each_own_trail(account, out, |out, here, trail| {
        out.judge(
            here,
            trail.log_file_validation_enabled,
            format!("Trail {} validates log files.", trail.name),
            format!("Trail {} has log file validation disabled.", trail.name),
        );
    });
}

fn trail_kms(_ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    each_own_trail(account, out, |out, here, trail| {
        out.judge(
            here,
            trail.kms_key_id.as_deref().is_some_and(|k| !k.is_empty()),
            format!("Trail {} is encrypted with a KMS key.", trail.name),
            format!(
                "Trail {} uses S3-managed encryption only (no KMS key).",
                trail.name
            ),
        );
    });
}

fn trail_cloudwatch(ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    each_own_trail(account, out, |out, here, trail| {
        if trail
            .cloud_watch_logs_log_group_arn
            .as_deref()
            .is_none_or(str::is_empty)
        {
            let reason = format!("Trail {} does not send to CloudWatch Logs.", trail.name);
            return out.fail(here, reason, json!({}));
        }
        match trail.status.get("cloudtrail:GetTrailStatus") {
            Err(gap) => out.unknown(here, gap),
            Ok(status) => {
                let fresh = status
                    .latest_cloud_watch_logs_delivery_time
                    .is_some_and(|t| (ctx.now - t).num_hours() < 24);
                out.judge(
                    here,
                    fresh,
                    format!("Trail {} delivered to CloudWatch Logs within the last day.", trail.name),
                    format!("Trail {} is configured for CloudWatch Logs but delivered nothing in the last day.", trail.name),
                );
            }
        }
    });
}

fn trail_bucket_logging(ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    let buckets = trails::BucketIndex::new(ctx.snapshot);
    each_own_trail(account, out, |out, _, trail| {
        let Some(name) = trail.s3_bucket_name.as_deref() else {
            return;
        };
        let bucket_arn = format!("arn:{}:s3:::{name}", out.partition());
        let mut here = resource("AWS::S3::Bucket", bucket_arn, account, GLOBAL);
        let Some((owner, bucket)) = buckets.find(name) else {
            let gap = format!("Trail bucket {name} is not in any scanned account's bucket list.");
            return out.unknown(here, gap);
        };
        here.account = owner.to_string();
        here.region = bucket.region.clone();
        match bucket.logging.get("s3:GetBucketLogging") {
            Err(gap) => out.unknown(here, gap),
            Ok(logging) => out.judge(
                here,
                logging.is_some(),
                format!("Trail bucket {name} has server access logging."),
                format!("Trail bucket {name} has no server access logging."),
            ),
        }
    });
}

fn config_recording(_ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    for region in &account.regions {
        let here = account_ref(account, &region.region);
        let recorders = region
            .logging
            .config_recorders
            .get("config:DescribeConfigurationRecorders");
        let statuses = region
            .logging
            .config_recorder_statuses
            .get("config:DescribeConfigurationRecorderStatus");
        let (recorders, statuses) = match (recorders, statuses) {
            (Err(gap), _) | (_, Err(gap)) => {
                out.unknown(here, gap);
                continue;
            }
            (Ok(r), Ok(s)) => (r, s),
        };
        let Some(recorder) = recorders.first() else {
            out.fail(
                here,
                format!("No AWS Config recorder in {}.", region.region),
                json!({}),
            );
            continue;
        };
        let all = recorder.all_supported
            || recorder.recording_strategy.as_deref() == Some("ALL_SUPPORTED_RESOURCE_TYPES");
        let status = statuses.iter().find(|s| s.name == recorder.name);
        let recording = status.is_some_and(|s| s.recording);
        let failing = status
            .and_then(|s| s.last_status.as_deref())
            .is_some_and(|s| s.eq_ignore_ascii_case("failure"));
        let mut problems = Vec::new();
        if !all {
            problems.push("does not record all resource types".to_string());
        }
        if !recording {
            problems.push("is stopped".to_string());
        }
        if failing {
            problems.push("last delivery failed".to_string());
        }
        if problems.is_empty() {
            out.pass(
                here,
                format!("Recorder {} records all resources.", recorder.name),
            );
        } else {
            let reason = format!("Recorder {} {}.", recorder.name, join(&problems));
            out.fail(here, reason, json!({ "problems": problems }));
        }
    }
}

fn vpc_flow_logs(_ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    each_regional(
        out,
        account,
        "ec2:DescribeVpcs",
        "VPCs",
        |r| &r.network.vpcs,
        |out, region, vpc| {
            let id = arn(
                out,
                "ec2",
                &region.region,
                &account.account_id,
                &format!("vpc/{}", vpc.vpc_id),
            );
            let here = resource("AWS::EC2::VPC", id, account, &region.region);
            match region.network.flow_logs.get("ec2:DescribeFlowLogs") {
                Err(gap) => out.unknown(here, gap),
                Ok(logs) => {
                    let covered = logs.iter().any(|log| {
                        log.resource_id == vpc.vpc_id
                            && log.flow_log_status == "ACTIVE"
                            && matches!(log.traffic_type.as_str(), "ALL" | "REJECT")
                    });
                    out.judge(
                        here,
                        covered,
                        format!("{} has an active flow log.", vpc.vpc_id),
                        format!(
                            "{} has no active flow log capturing rejected traffic.",
                            vpc.vpc_id
                        ),
                    );
                }
            }
        },
    );
}

fn s3_data_events(account: &AccountSnapshot, out: &mut Out, write: bool) {
    let kind = if write { "write" } else { "read" };
    let view = trails::visible(account);
    let here = account_ref(account, GLOBAL);
    let mut gaps = view.gaps.clone();
    for trail in view.trails.iter().filter(|t| t.is_multi_region_trail) {
        let logging = trail.status.get("cloudtrail:GetTrailStatus");
        let selectors = trail.selectors.get("cloudtrail:GetEventSelectors");
        match (logging, selectors) {
            (Ok(status), Ok(selectors)) => {
                if status.is_logging && covers_s3_objects(selectors, write) {
                    let reason = format!(
                        "Trail {} logs S3 object-level {kind} events for all buckets.",
                        trail.name
                    );
                    return out.pass(here, reason);
                }
            }
            (Err(gap), _) | (_, Err(gap)) => gaps.push(gap.0),
        }
    }
    if gaps.is_empty() {
        let reason = format!(
            "No logging multi-region trail records S3 object-level {kind} events for all buckets."
        );
        out.fail(here, reason, json!({}));
    } else {
        out.unknown(here, gaps.join("; "));
    }
}

fn s3_write_events(_ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    s3_data_events(account, out, true);
}

fn s3_read_events(_ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    s3_data_events(account, out, false);
}

fn security_hub_enabled(_ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    each_region(
        out,
        account,
        "securityhub:DescribeHub",
        |r| &r.logging.security_hub,
        |out, region, hub| {
            out.judge(
                account_ref(account, &region.region),
                hub.is_some(),
                format!("Security Hub is enabled in {}.", region.region),
                format!("Security Hub is not enabled in {}.", region.region),
            );
        },
    );
}

fn guardduty_enabled(_ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    each_region(
        out,
        account,
        "guardduty:ListDetectors",
        |r| &r.logging.guardduty_detectors,
        |out, region, detectors| {
            let here = account_ref(account, &region.region);
            match detectors.iter().find(|d| d.status == "ENABLED") {
                Some(d) => out.pass(
                    here,
                    format!(
                        "GuardDuty detector {} is enabled in {}.",
                        d.detector_id, region.region
                    ),
                ),
                None if detectors.is_empty() => out.fail(
                    here,
                    format!("GuardDuty has no detector in {}.", region.region),
                    json!({}),
                ),
                None => out.fail(
                    here,
                    format!("The GuardDuty detector in {} is suspended.", region.region),
                    json!({}),
                ),
            }
        },
    );
}

fn macie_enabled(_ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    each_region(
        out,
        account,
        "macie2:GetMacieSession",
        |r| &r.logging.macie_session,
        |out, region, session| {
            let status = session.as_ref().map(|s| s.status.as_str());
            out.judge(
                account_ref(account, &region.region),
                status == Some("ENABLED"),
                format!("Macie is enabled in {}.", region.region),
                match status {
                    Some(other) => format!("Macie is {other} in {}.", region.region),
                    None => format!("Macie is not enabled in {}.", region.region),
                },
            );
        },
    );
}

fn bucket_access_logging(_ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    each_global(
        out,
        account,
        "s3:ListBuckets",
        "S3 buckets",
        &account.buckets,
        |out, bucket| {
            let here = resource(
                "AWS::S3::Bucket",
                format!("arn:{}:s3:::{}", out.partition(), bucket.name),
                account,
                &bucket.region,
            );
            match bucket.logging.get("s3:GetBucketLogging") {
                Err(gap) => out.unknown(here, gap),
                Ok(logging) => out.judge(
                    here,
                    logging.is_some(),
                    format!(
                        "{} logs to {}.",
                        bucket.name,
                        logging
                            .as_ref()
                            .map(|l| l.target_bucket.as_str())
                            .unwrap_or_default()
                    ),
                    format!("{} has no server access logging.", bucket.name),
                ),
            }
        },
    );
}

fn edge_logging(_ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    let before = out.len();
    for region in &account.regions {
        let name = &region.region;
        let services = &region.services;
        match services
            .load_balancers
            .get("elasticloadbalancing:DescribeLoadBalancers")
        {
            Err(gap) => out.unknown(account_ref(account, name), gap),
            Ok(list) => {
                for lb in list.iter().filter(|lb| lb.kind == "application") {
                    let here = resource(
                        "AWS::ElasticLoadBalancingV2::LoadBalancer",
                        lb.load_balancer_arn.clone(),
                        account,
                        name,
                    );
                    match lb
                        .attributes
                        .get("elasticloadbalancing:DescribeLoadBalancerAttributes")
                    {
                        Err(gap) => out.unknown(here, gap),
                        Ok(attributes) => out.judge(
                            here,
                            attributes
                                .get("access_logs.s3.enabled")
                                .is_some_and(|v| v == "true"),
                            format!("ALB {} writes access logs.", lb.load_balancer_name),
                            format!("ALB {} has access logs disabled.", lb.load_balancer_name),
                        ),
                    }
                }
            }
        }
        match services
            .classic_load_balancers
            .get("elasticloadbalancing:DescribeLoadBalancers")
        {
            Err(gap) => out.unknown(account_ref(account, name), gap),
            Ok(list) => {
                for lb in list {
                    let id = arn(
                        out,
                        "elasticloadbalancing",
                        name,
                        &account.account_id,
                        &format!("loadbalancer/{}", lb.load_balancer_name),
                    );
                    let here =
                        resource("AWS::ElasticLoadBalancing::LoadBalancer", id, account, name);
                    match lb
                        .access_log_enabled
                        .get("elasticloadbalancing:DescribeLoadBalancerAttributes")
                    {
                        Err(gap) => out.unknown(here, gap),
                        Ok(enabled) => out.judge(
                            here,
                            *enabled,
                            format!("Classic LB {} writes access logs.", lb.load_balancer_name),
                            format!(
                                "Classic LB {} has access logs disabled.",
                                lb.load_balancer_name
                            ),
                        ),
                    }
                }
            }
        }
        match services.api_gateway_stages.get("apigateway:GetStages") {
            Err(gap) => out.unknown(account_ref(account, name), gap),
            Ok(stages) => {
                for stage in stages {
                    let id = format!(
                        "arn:{}:apigateway:{name}::/restapis/{}/stages/{}",
                        out.partition(),
                        stage.rest_api_id,
                        stage.stage_name
                    );
                    let level = stage.logging_level.as_deref().unwrap_or("OFF");
                    out.judge(
                        resource("AWS::ApiGateway::Stage", id, account, name),
                        matches!(level, "ERROR" | "INFO"),
                        format!(
                            "API {} stage {} logs at {level}.",
                            stage.rest_api_name, stage.stage_name
                        ),
                        format!(
                            "API {} stage {} has execution logging off.",
                            stage.rest_api_name, stage.stage_name
                        ),
                    );
                }
            }
        }
    }
    match account
        .cloudfront_distributions
        .get("cloudfront:ListDistributions")
    {
        Err(gap) => out.unknown(account_ref(account, GLOBAL), gap),
        Ok(list) => {
            for dist in list {
                out.judge(
                    resource(
                        "AWS::CloudFront::Distribution",
                        dist.arn.clone(),
                        account,
                        GLOBAL,
                    ),
                    dist.logging_enabled,
                    format!("Distribution {} has standard logging.", dist.id),
                    format!("Distribution {} has standard logging disabled.", dist.id),
                );
            }
        }
    }
    if out.len() == before {
        out.not_applicable(
            account_ref(account, GLOBAL),
            "No ALB, classic load balancer, API Gateway stage or CloudFront distribution.",
        );
    }
}
