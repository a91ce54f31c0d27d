use crate::controls::fixture::*;
use crate::result::Status::{Fail, NotApplicable, Pass, Unknown};
use crate::snapshot::*;

#[test]
fn vig01_security_contact() {
    let mut s = good();
    expect(&s, "VIG-01", Pass);
    account(&mut s).alternate_contacts.security = Collected::Ok(None);
    expect(&s, "VIG-01", Fail);
    account(&mut s).alternate_contacts.security = denied("account:GetAlternateContact");
    let unknown = expect(&s, "VIG-01", Unknown);
    assert!(unknown[0].reason.contains("AccessDenied"));
}

#[test]
fn vig02_root_access_keys_from_summary_or_credential_report() {
    let mut s = good();
    expect(&s, "VIG-02", Pass);
    let summary = account(&mut s).iam.account_summary.clone();
    if let Collected::Ok(mut map) = summary {
        map.insert("AccountAccessKeysPresent".into(), 1);
        account(&mut s).iam.account_summary = Collected::Ok(map);
    }
    expect(&s, "VIG-02", Fail);
    // Summary denied: the credential report's root row decides.
    account(&mut s).iam.account_summary = denied("iam:GetAccountSummary");
    expect(&s, "VIG-02", Pass);
    if let Collected::Ok(rows) = &mut account(&mut s).iam.credential_report {
        rows[0].access_key_2_active = "true".into();
    }
    expect(&s, "VIG-02", Fail);
    account(&mut s).iam.credential_report = denied("iam:GetCredentialReport");
    let unknown = expect(&s, "VIG-02", Unknown);
    assert!(unknown[0].reason.contains("iam:GetAccountSummary"));
    assert!(unknown[0].reason.contains("iam:GetCredentialReport"));
}

fn set_summary(s: &mut Snapshot, key: &str, value: i64) {
    if let Collected::Ok(map) = &mut account(s).iam.account_summary {
        map.insert(key.into(), value);
    }
}

#[test]
fn vig03_root_mfa() {
    let mut s = good();
    expect(&s, "VIG-03", Pass);
    set_summary(&mut s, "AccountMFAEnabled", 0);
    expect(&s, "VIG-03", Fail);
    account(&mut s).iam.account_summary = denied("iam:GetAccountSummary");
    expect(&s, "VIG-03", Unknown);
}

#[test]
fn vig04_root_hardware_mfa() {
    let mut s = good();
    expect(&s, "VIG-04", Pass);
    if let Collected::Ok(devices) = &mut account(&mut s).iam.virtual_mfa_devices {
        devices.push(VirtualMfaDevice {
            serial_number: "arn:aws:iam::111122223333:mfa/root-account-mfa-device".into(),
            user_arn: Some("arn:aws:iam::111122223333:root".into()),
            enable_date: None,
        });
    }
    let fail = expect(&s, "VIG-04", Fail);
    assert!(fail[0].reason.contains("virtual"));
    account(&mut s).iam.virtual_mfa_devices = denied("iam:ListVirtualMFADevices");
    expect(&s, "VIG-04", Unknown);
    set_summary(&mut s, "AccountMFAEnabled", 0);
    expect(&s, "VIG-04", Fail);
}

fn rows(s: &mut Snapshot) -> &mut Vec<CredentialReportRow> {
    match &mut account(s).iam.credential_report {
        Collected::Ok(rows) => rows,
        _ => panic!("fixture has a credential report"),
    }
}

#[test]
fn vig05_root_not_used_recently() {
    let mut s = good();
    expect(&s, "VIG-05", Pass);
    rows(&mut s)[0].password_last_used = cell(3);
    let fail = expect(&s, "VIG-05", Fail);
    assert!(
        fail[0].reason.contains("password 3 day(s) ago"),
        "{}",
        fail[0].reason
    );
    // The threshold is configurable: 2 days back, a 3-day-old sign-in is fine.
    let mut opts = options("VIG-05");
    opts.thresholds.root_use_days = 2;
    let results = crate::evaluate(&s, &opts);
    assert_eq!(results[0].status, Pass);
    account(&mut s).iam.credential_report = denied("iam:GetCredentialReport");
    expect(&s, "VIG-05", Unknown);
}

fn set_policy(s: &mut Snapshot, edit: impl FnOnce(&mut PasswordPolicy)) {
    if let Collected::Ok(Some(policy)) = &mut account(s).iam.password_policy {
        edit(policy);
    }
}

#[test]
fn vig06_password_length_with_threshold() {
    let mut s = good();
    expect(&s, "VIG-06", Pass);
    set_policy(&mut s, |p| p.minimum_password_length = Some(12));
    let fail = expect(&s, "VIG-06", Fail);
    assert!(fail[0].reason.contains("12, below 14"));
    let mut opts = options("VIG-06");
    opts.thresholds.password_min_length = 12;
    assert_eq!(crate::evaluate(&s, &opts)[0].status, Pass);
    account(&mut s).iam.password_policy = Collected::Ok(None);
    let none = expect(&s, "VIG-06", Fail);
    assert!(none[0].reason.contains("No account password policy"));
    account(&mut s).iam.password_policy = denied("iam:GetAccountPasswordPolicy");
    expect(&s, "VIG-06", Unknown);
}

#[test]
fn vig07_password_reuse() {
    let mut s = good();
    expect(&s, "VIG-07", Pass);
    set_policy(&mut s, |p| p.password_reuse_prevention = Some(5));
    expect(&s, "VIG-07", Fail);
    set_policy(&mut s, |p| p.password_reuse_prevention = None);
    expect(&s, "VIG-07", Fail);
    account(&mut s).iam.password_policy = denied("iam:GetAccountPasswordPolicy");
    expect(&s, "VIG-07", Unknown);
}

#[test]
fn vig08_console_users_need_mfa() {
    let mut s = good();
    expect(&s, "VIG-08", Pass);
    rows(&mut s)[1].mfa_active = "false".into();
    let fail = expect(&s, "VIG-08", Fail);
    assert!(fail[0].resource.id.ends_with(":user/alice"));
    // A user without a console password is not in scope.
    rows(&mut s)[1].password_enabled = "false".into();
    expect(&s, "VIG-08", NotApplicable);
    account(&mut s).iam.credential_report = denied("iam:GetCredentialReport");
    expect(&s, "VIG-08", Unknown);
}

#[test]
fn vig09_no_idle_keys_from_user_setup() {
    let mut s = good();
    expect(&s, "VIG-09", Pass);
    let row = &mut rows(&mut s)[1];
    row.access_key_1_last_rotated = row.user_creation_time.clone();
    row.access_key_1_last_used_date = "N/A".into();
    expect(&s, "VIG-09", Fail);
    // The same key, once used, is fine.
    rows(&mut s)[1].access_key_1_last_used_date = cell(1);
    expect(&s, "VIG-09", Pass);
    account(&mut s).iam.credential_report = denied("iam:GetCredentialReport");
    expect(&s, "VIG-09", Unknown);
}

#[test]
fn vig10_unused_credentials() {
    let mut s = good();
    expect(&s, "VIG-10", Pass);
    rows(&mut s)[1].access_key_1_last_used_date = cell(60);
    let fail = expect(&s, "VIG-10", Fail);
    assert!(
        fail[0].reason.contains("access key 1 (60 days)"),
        "{}",
        fail[0].reason
    );
    // A never-used password counts from when it was set.
    let mut s = good();
    rows(&mut s)[1].password_last_used = "no_information".into();
    rows(&mut s)[1].password_last_changed = cell(50);
    expect(&s, "VIG-10", Fail);
    let mut opts = options("VIG-10");
    opts.thresholds.credential_unused_days = 90;
    assert_eq!(crate::evaluate(&s, &opts)[0].status, Pass);
    account(&mut s).iam.credential_report = denied("iam:GetCredentialReport");
    expect(&s, "VIG-10", Unknown);
}

fn users(s: &mut Snapshot) -> &mut Vec<IamUser> {
    match &mut account(s).iam.users {
        Collected::Ok(users) => users,
        _ => panic!("fixture has users"),
    }
}

#[test]
fn vig11_one_active_key_per_user() {
    let mut s = good();
    expect(&s, "VIG-11", Pass);
    if let Collected::Ok(keys) = &mut users(&mut s)[0].access_keys {
        keys.push(AccessKey {
            access_key_id: "AKIAALICE2".into(),
            status: "Active".into(),
            create_date: None,
        });
    }
    expect(&s, "VIG-11", Fail);
    users(&mut s)[0].access_keys = denied("iam:ListAccessKeys");
    expect(&s, "VIG-11", Unknown);
    account(&mut s).iam.users = denied("iam:ListUsers");
    expect(&s, "VIG-11", Unknown);
}

#[test]
fn vig12_keys_rotated() {
    let mut s = good();
    expect(&s, "VIG-12", Pass);
    rows(&mut s)[1].access_key_1_last_rotated = cell(120);
    expect(&s, "VIG-12", Fail);
    let mut opts = options("VIG-12");
    opts.thresholds.key_rotation_days = 180;
    assert_eq!(crate::evaluate(&s, &opts)[0].status, Pass);
    rows(&mut s)[1].access_key_1_last_rotated = "garbage".into();
    expect(&s, "VIG-12", Unknown);
}

#[test]
fn vig13_permissions_only_through_groups() {
    let mut s = good();
    expect(&s, "VIG-13", Pass);
    users(&mut s)[0].inline_policies = Collected::Ok(vec![InlinePolicy {
        policy_name: "extra".into(),
        policy_document: SCOPED_POLICY.into(),
    }]);
    let fail = expect(&s, "VIG-13", Fail);
    assert!(fail[0].reason.contains("extra (inline)"));
    users(&mut s)[0].attached_policies = denied("iam:ListAttachedUserPolicies");
    expect(&s, "VIG-13", Unknown);
}

fn policies(s: &mut Snapshot) -> &mut Vec<ManagedPolicy> {
    match &mut account(s).iam.policies {
        Collected::Ok(policies) => policies,
        _ => panic!("fixture has policies"),
    }
}

#[test]
fn vig14_no_full_admin_policies_attached() {
    let mut s = good();
    expect(&s, "VIG-14", Pass);
    policies(&mut s).push(ManagedPolicy {
        policy_name: "AdministratorAccess".into(),
        arn: "arn:aws:iam::aws:policy/AdministratorAccess".into(),
        attachment_count: 2,
        default_version_id: "v1".into(),
        document: Collected::Ok(ADMIN_POLICY.into()),
    });
    let fail = expect_some(&s, "VIG-14", Fail);
    assert!(fail[0].resource.id.ends_with("AdministratorAccess"));
    // Not attached: out of scope.
    policies(&mut s)[1].attachment_count = 0;
    expect(&s, "VIG-14", Pass);
    policies(&mut s)[0].document = denied("iam:GetPolicyVersion");
    expect(&s, "VIG-14", Unknown);
}

#[test]
fn vig15_support_role() {
    let mut s = good();
    expect(&s, "VIG-15", Pass);
    account(&mut s).iam.support_access_entities = Collected::Ok(PolicyEntities::default());
    expect(&s, "VIG-15", Fail);
    account(&mut s).iam.support_access_entities = denied("iam:ListEntitiesForPolicy");
    expect(&s, "VIG-15", Unknown);
}

fn instances(s: &mut Snapshot) -> &mut Vec<Instance> {
    match &mut region(s).compute.instances {
        Collected::Ok(list) => list,
        _ => panic!("fixture has instances"),
    }
}

#[test]
fn vig16_instances_use_roles() {
    let mut s = good();
    let pass = expect(&s, "VIG-16", Pass);
    assert_eq!(
        pass[0].resource.id,
        "arn:aws:ec2:us-east-1:111122223333:instance/i-1"
    );
    instances(&mut s)[0].iam_instance_profile_arn = None;
    expect(&s, "VIG-16", Fail);
    instances(&mut s)[0].state = "terminated".into();
    expect(&s, "VIG-16", NotApplicable);
    region(&mut s).compute.instances = denied("ec2:DescribeInstances");
    expect(&s, "VIG-16", Unknown);
}

#[test]
fn vig17_expired_server_certificates() {
    let mut s = good();
    expect(&s, "VIG-17", Pass);
    if let Collected::Ok(certs) = &mut account(&mut s).iam.server_certificates {
        certs[0].expiration = Some(days_ago(1));
    }
    expect(&s, "VIG-17", Fail);
    account(&mut s).iam.server_certificates = Collected::Ok(vec![]);
    expect(&s, "VIG-17", NotApplicable);
    account(&mut s).iam.server_certificates = denied("iam:ListServerCertificates");
    expect(&s, "VIG-17", Unknown);
}

#[test]
fn vig18_access_analyzer_every_region() {
    let mut s = good();
    expect(&s, "VIG-18", Pass);
    if let Collected::Ok(list) = &mut region(&mut s).logging.access_analyzers {
        list[0].status = "DISABLED".into();
    }
    expect(&s, "VIG-18", Fail);
    // An unused-access analyzer does not watch external access.
    region(&mut s).logging.access_analyzers = Collected::Ok(vec![AccessAnalyzer {
        name: "unused".into(),
        kind: "ACCOUNT_UNUSED_ACCESS".into(),
        status: "ACTIVE".into(),
        ..Default::default()
    }]);
    expect(&s, "VIG-18", Fail);
    region(&mut s).logging.access_analyzers = denied("access-analyzer:ListAnalyzers");
    let unknown = expect(&s, "VIG-18", Unknown);
    assert_eq!(unknown[0].resource.region, REGION);
}

#[test]
fn vig19_central_identity() {
    let mut s = good();
    expect(&s, "VIG-19", Pass);
    account(&mut s).sso_instances = Collected::Ok(vec![]);
    expect(&s, "VIG-19", Fail);
    account(&mut s).iam.saml_providers =
        Collected::Ok(vec!["arn:aws:iam::1:saml-provider/okta".into()]);
    expect(&s, "VIG-19", Pass);
    account(&mut s).iam.saml_providers = denied("iam:ListSAMLProviders");
    expect(&s, "VIG-19", Unknown);
}

#[test]
fn vig20_cloudshell_full_access() {
    let mut s = good();
    expect(&s, "VIG-20", Pass);
    account(&mut s).iam.cloudshell_full_access_entities = Collected::Ok(PolicyEntities {
        users: vec!["bob".into()],
        ..Default::default()
    });
    let fail = expect(&s, "VIG-20", Fail);
    assert!(fail[0].reason.contains("user bob"));
    account(&mut s).iam.cloudshell_full_access_entities = denied("iam:ListEntitiesForPolicy");
    expect(&s, "VIG-20", Unknown);
}

#[test]
fn vig21_no_service_wildcards_in_customer_policies() {
    let mut s = good();
    expect(&s, "VIG-21", Pass);
    policies(&mut s)[0].document = Collected::Ok(
        r#"{"Statement": [{"Effect": "Allow", "Action": ["s3:*", "ec2:Describe*"], "Resource": "*"}]}"#
            .into(),
    );
    let fail = expect(&s, "VIG-21", Fail);
    assert!(fail[0].reason.contains("s3:*") && !fail[0].reason.contains("Describe"));
    policies(&mut s)[0].document = Collected::Ok("not json".into());
    expect(&s, "VIG-21", Unknown);
}

#[test]
fn vig22_no_decrypt_on_all_keys() {
    let mut s = good();
    expect(&s, "VIG-22", Pass);
    // KMS.2: an inline role policy with kms:* on every key.
    if let Collected::Ok(roles) = &mut account(&mut s).iam.roles {
        roles[0].inline_policies = Collected::Ok(vec![InlinePolicy {
            policy_name: "crypto".into(),
            policy_document:
                r#"{"Statement": {"Effect": "Allow", "Action": "kms:*", "Resource": "arn:aws:kms:*:111122223333:key/*"}}"#
                    .into(),
        }]);
    }
    let fail = expect_some(&s, "VIG-22", Fail);
    assert!(fail[0].resource.kind == "AWS::IAM::Role");
    // KMS.1: NotAction that leaves kms:Decrypt allowed on "*".
    let mut s = good();
    policies(&mut s)[0].document = Collected::Ok(
        r#"{"Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]}"#.into(),
    );
    expect_some(&s, "VIG-22", Fail);
    account(&mut s).iam.policies = denied("iam:ListPolicies");
    expect_some(&s, "VIG-22", Unknown);
}

#[test]
fn vig23_strong_password_policy() {
    let mut s = good();
    expect(&s, "VIG-23", Pass);
    set_policy(&mut s, |p| {
        p.require_symbols = false;
        p.minimum_password_length = Some(10);
    });
    let fail = expect(&s, "VIG-23", Fail);
    assert!(fail[0].reason.contains("require symbols"));
    assert!(fail[0].reason.contains("length ≥ 14"));
    account(&mut s).iam.password_policy = denied("iam:GetAccountPasswordPolicy");
    expect(&s, "VIG-23", Unknown);
}
