use crate::controls::fixture::*;
use crate::result::Status::{Fail, NotApplicable, Pass, Unknown};
use crate::snapshot::*;

fn roles(s: &mut Snapshot) -> &mut Vec<IamRole> {
    match &mut account(s).iam.roles {
        Collected::Ok(roles) => roles,
        _ => panic!("fixture has roles"),
    }
}

#[test]
fn vig65_all_alternate_contacts() {
    let mut s = good();
    expect(&s, "VIG-65", Pass);
    account(&mut s).alternate_contacts.billing = Collected::Ok(None);
    let fail = expect(&s, "VIG-65", Fail);
    assert!(fail[0].reason.contains("billing"));
    let mut s = good();
    account(&mut s).alternate_contacts.operations = denied("account:GetAlternateContact");
    expect(&s, "VIG-65", Unknown);
}

#[test]
fn vig66_ir_role_trusts_only_the_security_account_with_mfa() {
    let mut s = good();
    expect(&s, "VIG-66", Pass);
    // Without MFA.
    roles(&mut s)[0].assume_role_policy_document = r#"{"Statement": [{"Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "sts:AssumeRole"}]}"#
        .into();
    let fail = expect(&s, "VIG-66", Fail);
    assert!(fail[0].reason.contains("without MFA"), "{}", fail[0].reason);
    // ... unless the principal is listed automation.
    let mut opts = options("VIG-66");
    opts.readiness.automation_principals = vec!["arn:aws:iam::111122223333:root".into()];
    assert_eq!(crate::evaluate(&s, &opts)[0].status, Pass);
    // Trusted from another account.
    let mut s = good();
    roles(&mut s)[0].assume_role_policy_document = IR_TRUST.replace("111122223333", OTHER);
    let fail = expect(&s, "VIG-66", Fail);
    assert!(fail[0].reason.contains("outside the security account"));
    // No such role.
    roles(&mut s).remove(0);
    expect(&s, "VIG-66", Fail);
    account(&mut s).iam.roles = denied("iam:ListRoles");
    expect(&s, "VIG-66", Unknown);
}

#[test]
fn vig67_break_glass_role_idle_and_alarmed() {
    let mut s = good();
    expect(&s, "VIG-67", Pass);
    // Without the rule naming the role, its use raises no alarm.
    let rule = region(&mut s).logging.eventbridge_rules.clone();
    if let Collected::Ok(rules) = &mut region(&mut s).logging.eventbridge_rules {
        rules.retain(|r| r.name != "break-glass-used");
    }
    let fail = expect(&s, "VIG-67", Fail);
    assert!(fail[0]
        .reason
        .contains("no metric filter or EventBridge rule"));
    region(&mut s).logging.eventbridge_rules = rule;
    expect(&s, "VIG-67", Pass);
    if let Collected::Ok(used) = &mut roles(&mut s)[1].role_last_used {
        used.last_used_date = Some(days_ago(2));
    }
    let fail = expect(&s, "VIG-67", Fail);
    assert!(fail[0].reason.contains("used 2 day(s) ago"));
    roles(&mut s)[1].role_last_used = denied("iam:GetRole");
    expect(&s, "VIG-67", Unknown);
}

fn buckets(s: &mut Snapshot) -> &mut Vec<Bucket> {
    match &mut account(s).buckets {
        Collected::Ok(buckets) => buckets,
        _ => panic!("fixture has buckets"),
    }
}

#[test]
fn vig68_evidence_bucket() {
    let mut s = good();
    expect(&s, "VIG-68", Pass);
    buckets(&mut s)[1].encryption = Collected::Ok(Some(vec![EncryptionRule {
        sse_algorithm: "AES256".into(),
        ..Default::default()
    }]));
    let fail = expect(&s, "VIG-68", Fail);
    assert!(fail[0].reason.contains("ir-evidence lacks SSE-KMS"));
    buckets(&mut s)[1].object_lock = Collected::Ok(None);
    let fail = expect(&s, "VIG-68", Fail);
    assert!(fail[0].reason.contains("No bucket with Object Lock"));
    buckets(&mut s)[1].object_lock = denied("s3:GetObjectLockConfiguration");
    expect(&s, "VIG-68", Unknown);
}

#[test]
fn vig68_is_judged_only_in_the_security_account() {
    let mut s = good();
    let mut member = s.accounts[0].clone();
    member.account_id = OTHER.into();
    member.buckets = Collected::Ok(vec![]);
    s.accounts.push(member);
    let results = run(&s, "VIG-68");
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].resource.account, ACCOUNT);
    // A security account outside the scan: every account says why it cannot tell.
    let mut opts = options("VIG-68");
    opts.readiness.security_account = Some("999999999999".into());
    let results = crate::evaluate(&s, &opts);
    assert_eq!(results.len(), 2);
    assert!(results
        .iter()
        .all(|r| r.status == Unknown && r.reason.contains("999999999999")));
}

#[test]
fn vig69_isolation_group_per_vpc_with_instances() {
    let mut s = good();
    expect(&s, "VIG-69", Pass);
    if let Collected::Ok(groups) = &mut region(&mut s).network.security_groups {
        groups.retain(|g| g.group_id != "sg-isolate");
    }
    expect(&s, "VIG-69", Fail);
    region(&mut s).compute.instances = Collected::Ok(vec![]);
    expect(&s, "VIG-69", NotApplicable);
    region(&mut s).network.security_groups = denied("ec2:DescribeSecurityGroups");
    expect(&s, "VIG-69", Unknown);
}

fn images(s: &mut Snapshot) -> &mut Vec<Image> {
    match &mut region(s).compute.images {
        Collected::Ok(images) => images,
        _ => panic!("fixture has images"),
    }
}

#[test]
fn vig70_forensic_ami_is_fresh() {
    let mut s = good();
    expect(&s, "VIG-70", Pass);
    images(&mut s)[0].creation_date = Some(days_ago(45));
    let fail = expect(&s, "VIG-70", Fail);
    assert!(fail[0].reason.contains("45 days old"));
    let mut opts = options("VIG-70");
    opts.thresholds.forensic_ami_max_age_days = 60;
    assert_eq!(crate::evaluate(&s, &opts)[0].status, Pass);
    images(&mut s)[0].name = Some("web-server".into());
    expect(&s, "VIG-70", Fail);
    images(&mut s)[0]
        .tags
        .insert("vigil:role".into(), "forensic".into());
    images(&mut s)[0].creation_date = Some(days_ago(1));
    expect(&s, "VIG-70", Pass);
    region(&mut s).compute.images = denied("ec2:DescribeImages");
    expect(&s, "VIG-70", Unknown);
}

#[test]
fn vig71_running_instances_online_in_ssm() {
    let mut s = good();
    expect(&s, "VIG-71", Pass);
    if let Collected::Ok(managed) = &mut region(&mut s).compute.ssm_managed_instances {
        managed[0].ping_status = "ConnectionLost".into();
    }
    let fail = expect(&s, "VIG-71", Fail);
    assert!(fail[0].reason.contains("1 of 1") && fail[0].reason.contains("i-1"));
    region(&mut s).compute.ssm_managed_instances = denied("ssm:DescribeInstanceInformation");
    expect(&s, "VIG-71", Unknown);
}

fn rules(s: &mut Snapshot) -> &mut Vec<EventRule> {
    match &mut region(s).logging.eventbridge_rules {
        Collected::Ok(rules) => rules,
        _ => panic!("fixture has rules"),
    }
}

#[test]
fn vig72_eventbridge_forwards_security_events() {
    let mut s = good();
    expect(&s, "VIG-72", Pass);
    rules(&mut s)[0].event_pattern = Some(r#"{"source": ["aws.guardduty"]}"#.into());
    let fail = expect(&s, "VIG-72", Fail);
    assert!(
        fail[0]
            .reason
            .contains("Security Hub findings and CloudTrail API calls"),
        "{}",
        fail[0].reason
    );
    // A prefix on source covers every AWS source, API calls included.
    rules(&mut s)[0].event_pattern = Some(r#"{"source": [{"prefix": "aws."}]}"#.into());
    expect(&s, "VIG-72", Pass);
    // Filtering on finding details forwards only some findings.
    rules(&mut s)[0].event_pattern =
        Some(r#"{"source": ["aws.guardduty"], "detail": {"severity": [8]}}"#.into());
    let fail = expect(&s, "VIG-72", Fail);
    assert!(
        fail[0]
            .reason
            .contains("GuardDuty findings, Security Hub findings and CloudTrail API calls"),
        "{}",
        fail[0].reason
    );
    // Disabled rules and rules without targets do not forward anything.
    let mut s = good();
    rules(&mut s)[0].targets = Collected::Ok(vec![]);
    expect(&s, "VIG-72", Fail);
    region(&mut s).logging.eventbridge_rules = denied("events:ListRules");
    expect(&s, "VIG-72", Unknown);
}

#[test]
fn vig73_billing_alarm() {
    let mut s = good();
    expect(&s, "VIG-73", Pass);
    if let Collected::Ok(alarms) = &mut region(&mut s).logging.metric_alarms {
        alarms.retain(|a| a.namespace.as_deref() != Some("AWS/Billing"));
    }
    expect(&s, "VIG-73", Fail);
    region(&mut s).logging.metric_alarms = denied("cloudwatch:DescribeAlarms");
    expect(&s, "VIG-73", Unknown);
    region(&mut s).region = "eu-west-1".into();
    let unknown = expect(&s, "VIG-73", Unknown);
    assert!(unknown[0].reason.contains("us-east-1"));
}

#[test]
fn vig74_trail_delivers_to_the_security_account() {
    let mut s = good();
    expect(&s, "VIG-74", Pass);
    // The security account is another scanned account that does not own the bucket.
    let mut security = s.accounts[0].clone();
    security.account_id = OTHER.into();
    security.buckets = Collected::Ok(vec![good_bucket("security-logs")]);
    s.accounts.push(security);
    let mut opts = options("VIG-74");
    opts.readiness.security_account = Some(OTHER.into());
    let results = crate::evaluate(&s, &opts);
    assert_eq!(results[0].status, Fail, "{:#?}", results[0]);
    assert!(results[0]
        .reason
        .contains(&format!("{TRAIL_BUCKET} in {ACCOUNT}")));
    // Not configured: cannot tell.
    let mut opts = options("VIG-74");
    opts.readiness.security_account = None;
    assert_eq!(crate::evaluate(&s, &opts)[0].status, Unknown);
    let mut s = good();
    region(&mut s).logging.trails = denied("cloudtrail:DescribeTrails");
    expect(&s, "VIG-74", Unknown);
}

#[test]
fn vig75_scp_guardrails() {
    let mut s = good();
    expect(&s, "VIG-75", Pass);
    if let Collected::Ok(policies) = &mut account(&mut s).service_control_policies {
        policies[0].content = policies[0]
            .content
            .replace(r#""cloudtrail:StopLogging", "#, "");
    }
    let fail = expect(&s, "VIG-75", Fail);
    assert!(fail[0].reason.contains("disabling CloudTrail"));
    // A member account reads the management account's SCPs from the same scan.
    let mut s = good();
    let mut member = s.accounts[0].clone();
    member.account_id = OTHER.into();
    member.service_control_policies = denied("organizations:ListPolicies");
    s.accounts.push(member);
    let results = run(&s, "VIG-75");
    assert!(results.iter().all(|r| r.status == Pass), "{results:#?}");
    // Not in an organisation.
    let mut s = good();
    account(&mut s).organization = Collected::Ok(None);
    expect(&s, "VIG-75", Fail);
    account(&mut s).organization = denied("organizations:DescribeOrganization");
    expect(&s, "VIG-75", Unknown);
}
