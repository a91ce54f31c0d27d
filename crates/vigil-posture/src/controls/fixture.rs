//! Test fixtures: one account that passes every control, built in code, and helpers to
//! evaluate one control. Each control's test breaks one thing in this baseline (FAIL), and
//! replaces its data with a failed call (UNKNOWN).

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use crate::options::{EvalOptions, Selection};
use crate::policy::{Exposure, GrantSummary, PolicyQuery, PolicyVerdict, PolicyVerdicts};
use crate::result::{ControlResult, Status};
use crate::snapshot::*;

use super::statement::statements;

pub const ACCOUNT: &str = "111122223333";
pub const OTHER: &str = "444455556666";
pub const REGION: &str = "us-east-1";
pub const TRAIL_BUCKET: &str = "org-cloudtrail-logs";
pub const LOG_GROUP: &str = "arn:aws:logs:us-east-1:111122223333:log-group:cloudtrail:*";

pub fn now() -> DateTime<Utc> {
    "2024-06-01T00:00:00Z".parse().expect("fixed time")
}

pub fn days_ago(days: i64) -> DateTime<Utc> {
    now() - Duration::days(days)
}

/// A credential-report time cell.
pub fn cell(days: i64) -> String {
    days_ago(days).to_rfc3339()
}

/// A test double for the policy analyzer: reads the Allow statements' principals and
/// condition keys literally. Enough to drive the controls' logic; the real analysis is
/// `vigil-policy`'s and is tested there.
pub struct LiteralPolicies;

impl LiteralPolicies {
    fn verdict(policy: &str, query: &PolicyQuery<'_>) -> Result<PolicyVerdict, String> {
        let mut grants = Vec::new();
        let mut exposure = Exposure::OwnerOnly;
        let mut external = Vec::new();
        for statement in statements(policy)?.into_iter().filter(|s| s.allow) {
            let principals: Vec<String> = match &statement.principal {
                Some(serde_json::Value::String(star)) => vec![star.clone()],
                Some(serde_json::Value::Object(map)) => map
                    .values()
                    .flat_map(|v| match v {
                        serde_json::Value::String(s) => vec![s.clone()],
                        serde_json::Value::Array(a) => a
                            .iter()
                            .filter_map(|x| x.as_str().map(String::from))
                            .collect(),
                        _ => vec![],
                    })
                    .collect(),
                _ => vec![],
            };
            let condition_keys: Vec<String> = statement
                .condition
                .as_object()
                .map(|ops| {
                    ops.values()
                        .filter_map(|keys| keys.as_object())
                        .flat_map(|keys| keys.keys().cloned())
                        .collect()
                })
                .unwrap_or_default();
            for principal in principals {
                let account = principal_account(&principal);
                if principal == "*" {
                    exposure = Exposure::Public;
                } else if let Some(account) = account
                    .filter(|a| a != query.owner_account && !query.trusted_accounts.contains(a))
                {
                    exposure = exposure.max(Exposure::CrossAccount);
                    external.push(account);
                }
                grants.push(GrantSummary {
                    principal: principal.clone(),
                    actions: statement.actions.clone(),
                    condition_keys: condition_keys.clone(),
                    explanation: format!("{principal} is allowed"),
                });
            }
        }
        Ok(PolicyVerdict {
            exposure,
            external_accounts: external,
            grants,
        })
    }
}

fn principal_account(principal: &str) -> Option<String> {
    if principal.len() == 12 && principal.bytes().all(|b| b.is_ascii_digit()) {
        return Some(principal.into());
    }
    principal
        .split(':')
        .nth(4)
        .filter(|a| !a.is_empty())
        .map(String::from)
}

impl PolicyVerdicts for LiteralPolicies {
    fn resource_policy(
        &self,
        policy: &str,
        query: &PolicyQuery<'_>,
    ) -> Result<PolicyVerdict, String> {
        LiteralPolicies::verdict(policy, query)
    }

    fn s3_bucket(
        &self,
        policy: Option<&str>,
        acl: &BucketAcl,
        block: &PublicAccessBlock,
        query: &PolicyQuery<'_>,
    ) -> Result<PolicyVerdict, String> {
        let mut verdict = match policy {
            Some(policy) => LiteralPolicies::verdict(policy, query)?,
            None => PolicyVerdict {
                exposure: Exposure::OwnerOnly,
                external_accounts: vec![],
                grants: vec![],
            },
        };
        let public_acl = acl
            .grants
            .iter()
            .any(|g| g.grantee_uri.as_deref() == Some(ALL_USERS_URI));
        if public_acl && !block.ignore_public_acls {
            verdict.exposure = Exposure::Public;
        }
        if block.restrict_public_buckets && verdict.exposure == Exposure::Public && !public_acl {
            verdict.exposure = Exposure::OwnerOnly;
        }
        Ok(verdict)
    }
}

/// Options for tests: one control, the literal policy double, the account as its own
/// security account, and the fixed clock.
pub fn options(control: &str) -> EvalOptions {
    let mut opts = EvalOptions {
        selection: Selection::parse(control, "").expect("control id"),
        now: Some(now()),
        policy: Arc::new(LiteralPolicies),
        ..Default::default()
    };
    opts.readiness.security_account = Some(ACCOUNT.into());
    opts
}

pub fn run(snapshot: &Snapshot, control: &str) -> Vec<ControlResult> {
    crate::evaluate(snapshot, &options(control))
}

/// Asserts every result of `control` has `status` (and that there is at least one);
/// returns the results for further checks.
#[track_caller]
pub fn expect(snapshot: &Snapshot, control: &str, status: Status) -> Vec<ControlResult> {
    let results = run(snapshot, control);
    assert!(!results.is_empty(), "{control}: no results");
    for result in &results {
        assert_eq!(result.status, status, "{control}: {result:#?}");
    }
    results
}

/// Asserts at least one result of `control` has `status`; returns those results.
#[track_caller]
pub fn expect_some(snapshot: &Snapshot, control: &str, status: Status) -> Vec<ControlResult> {
    let results: Vec<ControlResult> = run(snapshot, control)
        .into_iter()
        .filter(|r| r.status == status)
        .collect();
    assert!(!results.is_empty(), "{control}: no {status} result");
    results
}

pub fn denied<T>(call: &str) -> Collected<T> {
    Collected::error(call, "AccessDenied", "User is not authorized")
}

pub fn account(snapshot: &mut Snapshot) -> &mut AccountSnapshot {
    &mut snapshot.accounts[0]
}

pub fn region(snapshot: &mut Snapshot) -> &mut RegionSnapshot {
    &mut snapshot.accounts[0].regions[0]
}

/// A baseline snapshot: one account, one region, compliant with every control.
pub fn good() -> Snapshot {
    Snapshot {
        collected_at: now(),
        regions: vec![REGION.into()],
        accounts: vec![good_account()],
        ..Default::default()
    }
}

fn good_account() -> AccountSnapshot {
    let contact = |name: &str| {
        Collected::Ok(Some(AlternateContact {
            name: Some(name.into()),
            email_address: Some(format!("{name}@example.com")),
            ..Default::default()
        }))
    };
    AccountSnapshot {
        account_id: ACCOUNT.into(),
        alias: Some("prod".into()),
        alternate_contacts: AlternateContacts {
            security: contact("security"),
            billing: contact("billing"),
            operations: contact("operations"),
        },
        iam: good_iam(),
        account_public_access_block: Collected::Ok(Some(all_blocked())),
        buckets: Collected::Ok(vec![good_bucket(TRAIL_BUCKET), evidence_bucket()]),
        cloudfront_distributions: Collected::Ok(vec![CloudFrontDistribution {
            id: "E1".into(),
            arn: "arn:aws:cloudfront::111122223333:distribution/E1".into(),
            domain_name: "d1.cloudfront.net".into(),
            logging_enabled: true,
            logging_bucket: Some("cf-logs.s3.amazonaws.com".into()),
        }]),
        organization: Collected::Ok(Some(Organization {
            id: "o-abc123".into(),
            arn: "arn:aws:organizations::111122223333:organization/o-abc123".into(),
            master_account_id: ACCOUNT.into(),
            feature_set: "ALL".into(),
        })),
        service_control_policies: Collected::Ok(vec![guardrail_scp()]),
        sso_instances: Collected::Ok(vec![SsoInstance {
            instance_arn: "arn:aws:sso:::instance/ssoins-1".into(),
            identity_store_id: "d-1".into(),
            status: Some("ACTIVE".into()),
        }]),
        regions: vec![good_region()],
    }
}

pub fn all_blocked() -> PublicAccessBlock {
    PublicAccessBlock {
        block_public_acls: true,
        ignore_public_acls: true,
        block_public_policy: true,
        restrict_public_buckets: true,
    }
}

pub const TLS_ONLY_POLICY: &str = r#"{"Version": "2012-10-17", "Statement": [
  {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
   "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
   "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
  {"Sid": "CloudTrail", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
   "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/*",
   "Condition": {"StringEquals": {"aws:SourceArn":
     "arn:aws:cloudtrail:us-east-1:111122223333:trail/org-trail"}}}]}"#;

pub fn good_bucket(name: &str) -> Bucket {
    Bucket {
        name: name.into(),
        region: REGION.into(),
        creation_date: Some(days_ago(400)),
        acl: Collected::Ok(BucketAcl {
            owner_id: "owner".into(),
            grants: vec![AclGrant {
                grantee_type: "CanonicalUser".into(),
                grantee_id: Some("owner".into()),
                grantee_uri: None,
                permission: "FULL_CONTROL".into(),
            }],
        }),
        policy: Collected::Ok(Some(TLS_ONLY_POLICY.into())),
        policy_status_is_public: Collected::Ok(Some(false)),
        public_access_block: Collected::Ok(Some(all_blocked())),
        versioning: Collected::Ok(BucketVersioning {
            status: Some("Enabled".into()),
            mfa_delete: Some("Enabled".into()),
        }),
        logging: Collected::Ok(Some(BucketLogging {
            target_bucket: "access-logs".into(),
            target_prefix: format!("{name}/"),
        })),
        encryption: Collected::Ok(Some(vec![EncryptionRule {
            sse_algorithm: "aws:kms".into(),
            kms_master_key_id: Some("arn:aws:kms:us-east-1:111122223333:key/k1".into()),
            bucket_key_enabled: true,
        }])),
        object_lock: Collected::Ok(None),
    }
}

fn evidence_bucket() -> Bucket {
    Bucket {
        object_lock: Collected::Ok(Some(ObjectLockConfiguration {
            object_lock_enabled: Some("Enabled".into()),
            default_retention_mode: Some("COMPLIANCE".into()),
            default_retention_days: Some(365),
            default_retention_years: None,
        })),
        ..good_bucket("ir-evidence")
    }
}

pub const ADMIN_POLICY: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}"#;
pub const SCOPED_POLICY: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
  "Action": ["s3:GetObject", "kms:Decrypt"],
  "Resource": ["arn:aws:s3:::app/*", "arn:aws:kms:us-east-1:111122223333:key/k1"]}]}"#;
pub const IR_TRUST: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
  "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "sts:AssumeRole",
  "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]}"#;

fn good_iam() -> IamData {
    let summary: BTreeMap<String, i64> = [
        ("AccountMFAEnabled".to_string(), 1),
        ("AccountAccessKeysPresent".to_string(), 0),
    ]
    .into();
    IamData {
        account_summary: Collected::Ok(summary),
        password_policy: Collected::Ok(Some(PasswordPolicy {
            minimum_password_length: Some(14),
            require_symbols: true,
            require_numbers: true,
            require_uppercase_characters: true,
            require_lowercase_characters: true,
            allow_users_to_change_password: true,
            password_reuse_prevention: Some(24),
            ..Default::default()
        })),
        credential_report: Collected::Ok(vec![root_row(), alice_row()]),
        virtual_mfa_devices: Collected::Ok(vec![VirtualMfaDevice {
            serial_number: "arn:aws:iam::111122223333:mfa/alice".into(),
            user_arn: Some("arn:aws:iam::111122223333:user/alice".into()),
            enable_date: Some(days_ago(300)),
        }]),
        users: Collected::Ok(vec![alice()]),
        groups: Collected::Ok(vec![IamGroup {
            group_name: "developers".into(),
            arn: "arn:aws:iam::111122223333:group/developers".into(),
            attached_policies: Collected::Ok(vec![AttachedPolicy {
                policy_name: "app-read".into(),
                policy_arn: "arn:aws:iam::111122223333:policy/app-read".into(),
            }]),
            inline_policies: Collected::Ok(vec![]),
        }]),
        roles: Collected::Ok(vec![ir_role(), break_glass_role()]),
        policies: Collected::Ok(vec![ManagedPolicy {
            policy_name: "app-read".into(),
            arn: "arn:aws:iam::111122223333:policy/app-read".into(),
            attachment_count: 1,
            default_version_id: "v1".into(),
            document: Collected::Ok(SCOPED_POLICY.into()),
        }]),
        support_access_entities: Collected::Ok(PolicyEntities {
            roles: vec!["aws-support".into()],
            ..Default::default()
        }),
        cloudshell_full_access_entities: Collected::Ok(PolicyEntities::default()),
        server_certificates: Collected::Ok(vec![ServerCertificate {
            server_certificate_name: "web".into(),
            arn: "arn:aws:iam::111122223333:server-certificate/web".into(),
            expiration: Some(days_ago(-200)),
        }]),
        saml_providers: Collected::Ok(vec![]),
        oidc_providers: Collected::Ok(vec![]),
    }
}

fn root_row() -> CredentialReportRow {
    CredentialReportRow {
        user: "<root_account>".into(),
        arn: "arn:aws:iam::111122223333:root".into(),
        user_creation_time: cell(1000),
        password_enabled: "not_supported".into(),
        password_last_used: cell(200),
        password_last_changed: "not_supported".into(),
        password_next_rotation: "not_supported".into(),
        mfa_active: "true".into(),
        access_key_1_active: "false".into(),
        access_key_1_last_rotated: "N/A".into(),
        access_key_1_last_used_date: "N/A".into(),
        access_key_2_active: "false".into(),
        access_key_2_last_rotated: "N/A".into(),
        access_key_2_last_used_date: "N/A".into(),
        ..Default::default()
    }
}

pub fn alice_row() -> CredentialReportRow {
    CredentialReportRow {
        user: "alice".into(),
        arn: "arn:aws:iam::111122223333:user/alice".into(),
        user_creation_time: cell(500),
        password_enabled: "true".into(),
        password_last_used: cell(2),
        password_last_changed: cell(100),
        mfa_active: "true".into(),
        access_key_1_active: "true".into(),
        access_key_1_last_rotated: cell(30),
        access_key_1_last_used_date: cell(1),
        access_key_2_active: "false".into(),
        access_key_2_last_rotated: "N/A".into(),
        access_key_2_last_used_date: "N/A".into(),
        ..Default::default()
    }
}

pub fn alice() -> IamUser {
    IamUser {
        user_name: "alice".into(),
        user_id: "AIDAALICE".into(),
        arn: "arn:aws:iam::111122223333:user/alice".into(),
        create_date: Some(days_ago(500)),
        access_keys: Collected::Ok(vec![AccessKey {
            access_key_id: "AKIAALICE1".into(),
            status: "Active".into(),
            create_date: Some(days_ago(30)),
        }]),
        attached_policies: Collected::Ok(vec![]),
        inline_policies: Collected::Ok(vec![]),
        groups: Collected::Ok(vec!["developers".into()]),
    }
}

fn ir_role() -> IamRole {
    IamRole {
        role_name: "incident-response".into(),
        arn: "arn:aws:iam::111122223333:role/incident-response".into(),
        path: "/".into(),
        assume_role_policy_document: IR_TRUST.into(),
        role_last_used: Collected::Ok(RoleLastUsed::default()),
        attached_policies: Collected::Ok(vec![]),
        inline_policies: Collected::Ok(vec![]),
        ..Default::default()
    }
}

fn break_glass_role() -> IamRole {
    IamRole {
        role_name: "break-glass".into(),
        arn: "arn:aws:iam::111122223333:role/break-glass".into(),
        role_last_used: Collected::Ok(RoleLastUsed {
            last_used_date: Some(days_ago(200)),
            region: Some(REGION.into()),
        }),
        ..ir_role()
    }
}

fn guardrail_scp() -> ServiceControlPolicy {
    ServiceControlPolicy {
        id: "p-guard".into(),
        name: "security-guardrails".into(),
        arn: "arn:aws:organizations::111122223333:policy/o-abc123/service_control_policy/p-guard"
            .into(),
        aws_managed: false,
        content: r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": [
            "organizations:LeaveOrganization", "cloudtrail:StopLogging", "cloudtrail:DeleteTrail",
            "cloudtrail:UpdateTrail", "cloudtrail:PutEventSelectors",
            "guardduty:DeleteDetector", "guardduty:DisassociateFromMasterAccount",
            "guardduty:DisassociateFromAdministratorAccount", "guardduty:UpdateDetector",
            "config:StopConfigurationRecorder", "config:DeleteConfigurationRecorder",
            "config:DeleteDeliveryChannel"], "Resource": "*"}]}"#
            .into(),
        targets: vec!["r-root".into()],
    }
}

fn good_region() -> RegionSnapshot {
    RegionSnapshot {
        region: REGION.into(),
        network: super::fixture_regional::good_network(),
        compute: super::fixture_regional::good_compute(),
        logging: super::fixture_regional::good_logging(),
        services: super::fixture_regional::good_services(),
    }
}
