//! Incident-response readiness (AWS Security Incident Response Guide, preparation) —
//! controls 65–75.

use std::collections::HashSet;

use serde_json::json;

use super::statement::statements;
use super::support::{
    account_ref, arn, days_since, join, resource, Out, GLOBAL, HIGH, LOW, MEDIUM,
};
use super::trails::{self, BucketIndex};
use super::{Control, Ctx};
use crate::policy::{Exposure, PolicyQuery, PolicyResourceKind};
use crate::result::{Area, ControlInfo};
use crate::snapshot::{AccountSnapshot, IamRole};

pub(super) static CONTROLS: &[Control] = &[
    Control {
        info: ControlInfo {
            id: "VIG-65",
            number: 65,
            title: "Security, billing and operations contacts are all set",
            description: "AWS reaches out through the alternate contacts: abuse reports to \
                security, unusual charges (a common first sign of compromise) to billing, \
                service events to operations. All three must reach a monitored team.",
            severity: MEDIUM,
            area: Area::IncidentResponse,
            cis: None,
            security_hub: &[],
            remediation: "aws account put-alternate-contact --alternate-contact-type BILLING \
                (and OPERATIONS, SECURITY) --name … --title … --email-address … --phone-number …",
            remediation_action: None,
        },
        eval: all_contacts,
    },
    Control {
        info: ControlInfo {
            id: "VIG-66",
            number: 66,
            title: "An incident-response role exists, assumable only from the security account with MFA",
            description: "Responders need pre-provisioned access in every account, not \
                emergency permission requests. The role's trust policy must admit only the \
                security account, and humans only with MFA (automation principals listed in \
                the configuration are exempt).",
            severity: HIGH,
            area: Area::IncidentResponse,
            cis: None,
            security_hub: &[],
            remediation: "aws iam create-role --role-name incident-response \
                --assume-role-policy-document file://trust.json (Principal: the security \
                account's responder role; Condition Bool aws:MultiFactorAuthPresent true), then \
                attach the response permissions (e.g. SecurityAudit plus the vigil action policy).",
            remediation_action: None,
        },
        eval: ir_role,
    },
    Control {
        info: ControlInfo {
            id: "VIG-67",
            number: 67,
            title: "A break-glass role exists, is unused day to day, and its use alarms",
            description: "When SSO or the IdP fails during an incident, an emergency-access role \
                keeps the account reachable. It must not be used routinely, must not be \
                publicly assumable, and every use must raise an alarm (a metric filter or \
                EventBridge rule naming it).",
            severity: MEDIUM,
            area: Area::IncidentResponse,
            cis: None,
            security_hub: &[],
            remediation: "aws iam create-role --role-name break-glass …; add an EventBridge rule \
                on AssumeRole for its ARN: aws events put-rule --name break-glass-used \
                --event-pattern '{\"detail\":{\"requestParameters\":{\"roleArn\":[\"ROLE_ARN\"]}}}' \
                and a target that pages the on-call team.",
            remediation_action: None,
        },
        eval: break_glass,
    },
    Control {
        info: ControlInfo {
            id: "VIG-68",
            number: 68,
            title: "An immutable evidence bucket exists in the security account",
            description: "Evidence (disk images, memory, logs) must be stored where the \
                compromised principal cannot alter it: a bucket with Object Lock, versioning \
                and SSE-KMS in the security account.",
            severity: HIGH,
            area: Area::IncidentResponse,
            cis: None,
            security_hub: &[],
            remediation: "aws s3api create-bucket --bucket ir-evidence \
                --object-lock-enabled-for-bucket && aws s3api put-object-lock-configuration \
                --bucket ir-evidence --object-lock-configuration \
                '{\"ObjectLockEnabled\":\"Enabled\",\"Rule\":{\"DefaultRetention\":{\"Mode\":\
                \"COMPLIANCE\",\"Days\":365}}}' && aws s3api put-bucket-encryption …aws:kms…",
            remediation_action: Some("s3.enable_default_encryption"),
        },
        eval: evidence_bucket,
    },
    Control {
        info: ControlInfo {
            id: "VIG-69",
            number: 69,
            title: "Every VPC running instances has an isolation security group ready",
            description: "Isolating a compromised instance means swapping its security groups \
                for one with no rules. Creating that group mid-incident costs time and needs \
                extra permissions; have one ready in each VPC with instances.",
            severity: MEDIUM,
            area: Area::IncidentResponse,
            cis: None,
            security_hub: &[],
            remediation: "aws ec2 create-security-group --group-name vigil-isolation \
                --description 'forensic isolation' --vpc-id VPC && aws ec2 \
                revoke-security-group-egress --group-id SG --ip-permissions \
                IpProtocol=-1,IpRanges=[{CidrIp=0.0.0.0/0}]",
            remediation_action: None,
        },
        eval: isolation_groups,
    },
    Control {
        info: ControlInfo {
            id: "VIG-70",
            number: 70,
            title: "A current forensic workstation AMI exists",
            description: "A pre-built forensic workstation (SIFT or your own) lets responders \
                mount evidence volumes within minutes. It must be rebuilt regularly (30 days by \
                default) so its tools and patches are current.",
            severity: LOW,
            area: Area::IncidentResponse,
            cis: None,
            security_hub: &[],
            remediation: "Rebuild with EC2 Image Builder (aws imagebuilder \
                start-image-pipeline-execution --image-pipeline-arn ARN) or aws ec2 create-image \
                --instance-id i-… --name forensic-workstation-YYYY-MM-DD.",
            remediation_action: None,
        },
        eval: forensic_ami,
    },
    Control {
        info: ControlInfo {
            id: "VIG-71",
            number: 71,
            title: "Running instances are online in Systems Manager for volatile-data capture",
            description: "Memory, processes and network connections vanish at shutdown. Capturing \
                them remotely needs the SSM Agent online (ping status Online) on every running \
                instance; the result lists the instances that are not.",
            severity: MEDIUM,
            area: Area::IncidentResponse,
            cis: None,
            security_hub: &[],
            remediation: "Attach AmazonSSMManagedInstanceCore to the instance roles, make sure the \
                agent runs and reaches SSM (VPC endpoints for private subnets); check with aws \
                ssm describe-instance-information.",
            remediation_action: None,
        },
        eval: ssm_online,
    },
    Control {
        info: ControlInfo {
            id: "VIG-72",
            number: 72,
            title: "EventBridge forwards security events to the response pipeline",
            description: "Event-driven response needs GuardDuty findings, Security Hub findings \
                and CloudTrail API calls routed to the responder (vigil's queue, a SIEM, a \
                chat channel) in every region: an enabled rule with a target for each.",
            severity: MEDIUM,
            area: Area::IncidentResponse,
            cis: None,
            security_hub: &[],
            remediation: "aws events put-rule --name to-vigil --event-pattern \
                '{\"source\":[\"aws.guardduty\",\"aws.securityhub\"]}' && aws events \
                put-targets --rule to-vigil --targets Id=1,Arn=QUEUE_ARN (and a rule on \
                detail-type \"AWS API Call via CloudTrail\").",
            remediation_action: None,
        },
        eval: event_forwarding,
    },
    Control {
        info: ControlInfo {
            id: "VIG-73",
            number: 73,
            title: "A billing alarm watches estimated charges",
            description: "A spike in charges is often the first visible sign of stolen \
                credentials (crypto-mining, mass instance launches). A CloudWatch alarm on \
                AWS/Billing EstimatedCharges (us-east-1) catches it within hours.",
            severity: LOW,
            area: Area::IncidentResponse,
            cis: None,
            security_hub: &[],
            remediation: "Enable billing alerts in Billing preferences, then aws cloudwatch \
                put-metric-alarm --region us-east-1 --alarm-name billing --namespace AWS/Billing \
                --metric-name EstimatedCharges --dimensions Name=Currency,Value=USD --statistic \
                Maximum --period 21600 --threshold LIMIT --comparison-operator \
                GreaterThanThreshold --evaluation-periods 1 --alarm-actions SNS_TOPIC",
            remediation_action: None,
        },
        eval: billing_alarm,
    },
    Control {
        info: ControlInfo {
            id: "VIG-74",
            number: 74,
            title: "CloudTrail is delivered to the security account's bucket",
            description: "Logs kept only in the account they describe can be deleted by whoever \
                compromised it. An organisation trail (or a trail per account) delivering to a \
                bucket in the security account keeps them out of reach.",
            severity: HIGH,
            area: Area::IncidentResponse,
            cis: None,
            security_hub: &[],
            remediation: "From the management account: aws cloudtrail create-trail --name \
                org-trail --is-organization-trail --is-multi-region-trail --s3-bucket-name \
                SECURITY_ACCOUNT_BUCKET && aws cloudtrail start-logging --name org-trail",
            remediation_action: Some("cloudtrail.start_logging"),
        },
        eval: central_trail,
    },
    Control {
        info: ControlInfo {
            id: "VIG-75",
            number: 75,
            title: "SCPs stop leaving the organisation and disabling CloudTrail, GuardDuty and Config",
            description: "An intruder with admin in a member account will try to blind you \
                first. Service control policies that deny organizations:LeaveOrganization and \
                the calls that stop CloudTrail, GuardDuty and Config hold even against the \
                account's own administrators.",
            severity: HIGH,
            area: Area::IncidentResponse,
            cis: None,
            security_hub: &[],
            remediation: "aws organizations create-policy --type SERVICE_CONTROL_POLICY --name \
                security-guardrails --content file://deny.json (Deny \
                organizations:LeaveOrganization, cloudtrail:StopLogging, cloudtrail:DeleteTrail, \
                guardduty:DeleteDetector, config:StopConfigurationRecorder, …) && aws \
                organizations attach-policy --policy-id P --target-id ROOT_ID",
            remediation_action: None,
        },
        eval: scp_guardrails,
    },
];

/// Accounts whose access is not "external": configured, the security account and every
/// scanned account.
pub(crate) fn trusted_accounts(ctx: &Ctx<'_>) -> Vec<String> {
    let readiness = &ctx.opts.readiness;
    let mut trusted: Vec<String> = readiness.trusted_accounts.clone();
    trusted.extend(readiness.security_account.clone());
    trusted.extend(ctx.snapshot.accounts.iter().map(|a| a.account_id.clone()));
    trusted.sort();
    trusted.dedup();
    trusted
}

/// The security account for `account`: the configured one, or the account itself when
/// none is configured (a single-account setup).
fn security_account<'a>(ctx: &'a Ctx<'_>, account: &'a AccountSnapshot) -> &'a str {
    ctx.opts
        .readiness
        .security_account
        .as_deref()
        .unwrap_or(&account.account_id)
}

/// Whether a security-account-only control evaluates `account`: yes for the security
/// account, and for every account when the security account is not in the scan (then
/// with an UNKNOWN explaining it, returned as `Err`).
fn in_security_scope(ctx: &Ctx<'_>, account: &AccountSnapshot) -> Option<Result<(), String>> {
    let security = security_account(ctx, account);
    if security == account.account_id {
        Some(Ok(()))
    } else if ctx.snapshot.account(security).is_none() {
        Some(Err(format!(
            "The security account {security} is not in this scan."
        )))
    } else {
        None
    }
}

fn name_matches(name: &str, patterns: &[String]) -> bool {
    let lower = name.to_ascii_lowercase();
    patterns
        .iter()
        .any(|p| lower.contains(&p.to_ascii_lowercase()))
}

fn all_contacts(_ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    let here = account_ref(account, GLOBAL);
    let contacts = &account.alternate_contacts;
    let mut missing = Vec::new();
    let mut gaps = Vec::new();
    for (kind, value) in [
        ("security", &contacts.security),
        ("billing", &contacts.billing),
        ("operations", &contacts.operations),
    ] {
        match value.get("account:GetAlternateContact") {
            Err(gap) => gaps.push(gap.0),
            Ok(Some(c)) if c.email_address.as_deref().is_some_and(|e| !e.is_empty()) => {}
            Ok(_) => missing.push(kind.to_string()),
        }
    }
    if !missing.is_empty() {
        out.fail(
            here,
            format!("No {} alternate contact.", join(&missing)),
            json!({ "missing": missing }),
        );
    } else if !gaps.is_empty() {
        out.unknown(here, gaps.join("; "));
    } else {
        out.pass(here, "Security, billing and operations contacts are set.");
    }
}

/// The roles whose names match, or why the role list is unavailable.
fn roles_named<'a>(
    account: &'a AccountSnapshot,
    patterns: &[String],
) -> Result<Vec<&'a IamRole>, String> {
    let roles = account.iam.roles.get("iam:ListRoles").map_err(|g| g.0)?;
    Ok(roles
        .iter()
        .filter(|r| name_matches(&r.role_name, patterns))
        .collect())
}

fn role_ref(account: &AccountSnapshot, role: &IamRole) -> crate::result::ResourceRef {
    resource("AWS::IAM::Role", role.arn.clone(), account, GLOBAL)
}

fn principal_account(principal: &str) -> Option<&str> {
    if principal.len() == 12 && principal.bytes().all(|b| b.is_ascii_digit()) {
        return Some(principal);
    }
    principal.split(':').nth(4).filter(|a| !a.is_empty())
}

fn ir_role(ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    let readiness = &ctx.opts.readiness;
    let here = account_ref(account, GLOBAL);
    let roles = match roles_named(account, &readiness.ir_role_names) {
        Err(gap) => return out.unknown(here, gap),
        Ok(roles) => roles,
    };
    if roles.is_empty() {
        let reason = format!(
            "No incident-response role (names containing {}).",
            join(&readiness.ir_role_names)
        );
        return out.fail(here, reason, json!({}));
    }
    let security = security_account(ctx, account);
    let trusted = trusted_accounts(ctx);
    for role in roles {
        let here = role_ref(account, role);
        let query = PolicyQuery {
            kind: PolicyResourceKind::IamRoleTrust,
            resource_arn: &role.arn,
            owner_account: &account.account_id,
            trusted_accounts: &trusted,
        };
        let verdict = match ctx
            .opts
            .policy
            .resource_policy(&role.assume_role_policy_document, &query)
        {
            Err(why) => {
                out.unknown(here, why);
                continue;
            }
            Ok(verdict) => verdict,
        };
        let mut problems = Vec::new();
        if verdict.exposure == Exposure::Public {
            problems.push("its trust policy is public".to_string());
        }
        for grant in &verdict.grants {
            if readiness.automation_principals.contains(&grant.principal) {
                continue;
            }
            if principal_account(&grant.principal) != Some(security) {
                problems.push(format!(
                    "it trusts {} outside the security account {security}",
                    grant.principal
                ));
            } else if !grant.condition_keys.iter().any(|k| {
                k.eq_ignore_ascii_case("aws:MultiFactorAuthPresent")
                    || k.eq_ignore_ascii_case("aws:MultiFactorAuthAge")
            }) {
                problems.push(format!("{} may assume it without MFA", grant.principal));
            }
        }
        if problems.is_empty() {
            out.pass(
                here,
                format!(
                    "{} is assumable only from {security} with MFA.",
                    role.role_name
                ),
            );
        } else {
            out.fail(
                here,
                format!("{}: {}.", role.role_name, join(&problems)),
                json!({ "problems": problems }),
            );
        }
    }
}

/// Metric filter patterns and EventBridge rule patterns of the account, lower-cased.
fn alerting_patterns(account: &AccountSnapshot) -> Vec<String> {
    let mut patterns = Vec::new();
    for region in &account.regions {
        if let Some(filters) = region.logging.metric_filters.ok() {
            patterns.extend(
                filters
                    .iter()
                    .map(|f| f.filter_pattern.to_ascii_lowercase()),
            );
        }
        if let Some(rules) = region.logging.eventbridge_rules.ok() {
            let enabled = rules.iter().filter(|r| r.state == "ENABLED");
            patterns.extend(
                enabled
                    .filter_map(|r| r.event_pattern.as_deref())
                    .map(str::to_ascii_lowercase),
            );
        }
    }
    patterns
}

fn break_glass(ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    let readiness = &ctx.opts.readiness;
    let here = account_ref(account, GLOBAL);
    let roles = match roles_named(account, &readiness.break_glass_role_names) {
        Err(gap) => return out.unknown(here, gap),
        Ok(roles) => roles,
    };
    if roles.is_empty() {
        let reason = format!(
            "No break-glass role (names containing {}).",
            join(&readiness.break_glass_role_names)
        );
        return out.fail(here, reason, json!({}));
    }
    let trusted = trusted_accounts(ctx);
    let patterns = alerting_patterns(account);
    let recent = ctx.opts.thresholds.break_glass_recent_use_days;
    for role in roles {
        let here = role_ref(account, role);
        let query = PolicyQuery {
            kind: PolicyResourceKind::IamRoleTrust,
            resource_arn: &role.arn,
            owner_account: &account.account_id,
            trusted_accounts: &trusted,
        };
        let exposure = match ctx
            .opts
            .policy
            .resource_policy(&role.assume_role_policy_document, &query)
        {
            Err(why) => {
                out.unknown(here, why);
                continue;
            }
            Ok(verdict) => verdict.exposure,
        };
        let last_used = match role.role_last_used.get("iam:GetRole") {
            Err(gap) => {
                out.unknown(here, gap);
                continue;
            }
            Ok(used) => used.last_used_date,
        };
        let mut problems = Vec::new();
        if exposure == Exposure::Public {
            problems.push("its trust policy is public".to_string());
        }
        if let Some(days) = last_used
            .map(|t| days_since(ctx.now, t))
            .filter(|d| *d < recent)
        {
            problems.push(format!("it was used {days} day(s) ago (day-to-day use)"));
        }
        let name = role.role_name.to_ascii_lowercase();
        if !patterns.iter().any(|p| p.contains(&name)) {
            problems.push("no metric filter or EventBridge rule alarms on its use".to_string());
        }
        if problems.is_empty() {
            out.pass(
                here,
                format!(
                    "{} is idle, not public, and its use alarms.",
                    role.role_name
                ),
            );
        } else {
            out.fail(
                here,
                format!("{}: {}.", role.role_name, join(&problems)),
                json!({ "problems": problems }),
            );
        }
    }
}

fn evidence_bucket(ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    let here = account_ref(account, GLOBAL);
    match in_security_scope(ctx, account) {
        None => return,
        Some(Err(why)) => return out.unknown(here, why),
        Some(Ok(())) => {}
    }
    let buckets = match account.buckets.get("s3:ListBuckets") {
        Err(gap) => return out.unknown(here, gap),
        Ok(buckets) => buckets,
    };
    let wanted = &ctx.opts.readiness.evidence_buckets;
    let candidates = buckets
        .iter()
        .filter(|b| wanted.is_empty() || wanted.contains(&b.name));
    let mut near_misses = Vec::new();
    let mut gaps = Vec::new();
    for bucket in candidates {
        let lock = bucket.object_lock.get("s3:GetObjectLockConfiguration");
        let versioning = bucket.versioning.get("s3:GetBucketVersioning");
        let encryption = bucket.encryption.get("s3:GetBucketEncryption");
        let (lock, versioning, encryption) = match (lock, versioning, encryption) {
            (Ok(l), Ok(v), Ok(e)) => (l, v, e),
            (Err(g), _, _) | (_, Err(g), _) | (_, _, Err(g)) => {
                gaps.push(format!("{}: {g}", bucket.name));
                continue;
            }
        };
        let locked = lock
            .as_ref()
            .is_some_and(|l| l.object_lock_enabled.as_deref() == Some("Enabled"));
        if !locked {
            continue;
        }
        let mut missing = Vec::new();
        if versioning.status.as_deref() != Some("Enabled") {
            missing.push("versioning");
        }
        let kms = encryption
            .as_ref()
            .is_some_and(|rules| rules.iter().any(|r| r.sse_algorithm.starts_with("aws:kms")));
        if !kms {
            missing.push("SSE-KMS");
        }
        if missing.is_empty() {
            let bucket_arn = format!("arn:{}:s3:::{}", out.partition(), bucket.name);
            let reason = format!("{} has Object Lock, versioning and SSE-KMS.", bucket.name);
            return out.pass(
                resource("AWS::S3::Bucket", bucket_arn, account, &bucket.region),
                reason,
            );
        }
        near_misses.push(format!("{} lacks {}", bucket.name, missing.join(" and ")));
    }
    if !gaps.is_empty() && near_misses.is_empty() {
        return out.unknown(here, gaps.join("; "));
    }
    let reason = if near_misses.is_empty() {
        "No bucket with Object Lock exists for evidence.".to_string()
    } else {
        format!("No complete evidence bucket: {}.", join(&near_misses))
    };
    out.fail(here, reason, json!({ "candidates": near_misses }));
}

fn isolation_groups(_ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    let before = out.len();
    for region in &account.regions {
        let instances = region.compute.instances.get("ec2:DescribeInstances");
        let groups = region
            .network
            .security_groups
            .get("ec2:DescribeSecurityGroups");
        let (instances, groups) = match (instances, groups) {
            (Err(gap), _) | (_, Err(gap)) => {
                out.unknown(account_ref(account, &region.region), gap);
                continue;
            }
            (Ok(i), Ok(g)) => (i, g),
        };
        let busy: HashSet<&str> = instances
            .iter()
            .filter(|i| !matches!(i.state.as_str(), "terminated" | "shutting-down"))
            .filter_map(|i| i.vpc_id.as_deref())
            .collect();
        let ready: HashSet<&str> = groups
            .iter()
            .filter(|g| {
                g.group_name != "default"
                    && g.ip_permissions.is_empty()
                    && g.ip_permissions_egress.is_empty()
            })
            .filter_map(|g| g.vpc_id.as_deref())
            .collect();
        let mut vpcs: Vec<&str> = busy.into_iter().collect();
        vpcs.sort_unstable();
        for vpc in vpcs {
            let id = arn(
                out,
                "ec2",
                &region.region,
                &account.account_id,
                &format!("vpc/{vpc}"),
            );
            out.judge(
                resource("AWS::EC2::VPC", id, account, &region.region),
                ready.contains(vpc),
                format!("{vpc} has a rule-less security group ready for isolation."),
                format!(
                    "{vpc} runs instances but has no security group without rules for isolation."
                ),
            );
        }
    }
    if out.len() == before {
        out.not_applicable(account_ref(account, GLOBAL), "No VPC runs instances.");
    }
}

fn forensic_ami(ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    let here = account_ref(account, GLOBAL);
    match in_security_scope(ctx, account) {
        None => return,
        Some(Err(why)) => return out.unknown(here, why),
        Some(Ok(())) => {}
    }
    let patterns = &ctx.opts.readiness.forensic_ami_names;
    let mut newest: Option<(&str, &str, chrono::DateTime<chrono::Utc>)> = None;
    let mut gaps = Vec::new();
    for region in &account.regions {
        match region.compute.images.get("ec2:DescribeImages") {
            Err(gap) => gaps.push(format!("{}: {gap}", region.region)),
            Ok(images) => {
                for image in images.iter().filter(|i| i.state == "available") {
                    let tagged = image
                        .tags
                        .get("vigil:role")
                        .is_some_and(|v| name_matches(v, patterns));
                    let named = image
                        .name
                        .as_deref()
                        .is_some_and(|n| name_matches(n, patterns));
                    if let (true, Some(created)) = (tagged || named, image.creation_date) {
                        if newest.is_none_or(|(_, _, t)| created > t) {
                            newest = Some((&image.image_id, &region.region, created));
                        }
                    }
                }
            }
        }
    }
    let max_age = ctx.opts.thresholds.forensic_ami_max_age_days;
    match newest {
        Some((id, region, created)) => {
            let age = days_since(ctx.now, created);
            let image_arn = arn(out, "ec2", region, "", &format!("image/{id}"));
            out.judge(
                resource("AWS::EC2::Image", image_arn, account, region),
                age <= max_age,
                format!("Forensic AMI {id} was built {age} day(s) ago."),
                format!("The newest forensic AMI {id} is {age} days old (limit {max_age})."),
            );
        }
        None if !gaps.is_empty() => out.unknown(here, gaps.join("; ")),
        None => out.fail(
            here,
            format!(
                "No forensic workstation AMI (names or vigil:role tags containing {}).",
                join(patterns)
            ),
            json!({}),
        ),
    }
}

fn ssm_online(_ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    let before = out.len();
    for region in &account.regions {
        let here = account_ref(account, &region.region);
        let instances = region.compute.instances.get("ec2:DescribeInstances");
        let managed = region
            .compute
            .ssm_managed_instances
            .get("ssm:DescribeInstanceInformation");
        let (instances, managed) = match (instances, managed) {
            (Err(gap), _) | (_, Err(gap)) => {
                out.unknown(here, gap);
                continue;
            }
            (Ok(i), Ok(m)) => (i, m),
        };
        let online: HashSet<&str> = managed
            .iter()
            .filter(|m| m.ping_status == "Online")
            .map(|m| m.instance_id.as_str())
            .collect();
        let running: Vec<&str> = instances
            .iter()
            .filter(|i| i.state == "running")
            .map(|i| i.instance_id.as_str())
            .collect();
        if running.is_empty() {
            continue;
        }
        let offline: Vec<String> = running
            .iter()
            .filter(|id| !online.contains(*id))
            .map(|id| id.to_string())
            .collect();
        if offline.is_empty() {
            out.pass(
                here,
                format!(
                    "All {} running instance(s) in {} are online in SSM.",
                    running.len(),
                    region.region
                ),
            );
        } else {
            let reason = format!(
                "{} of {} running instance(s) in {} are not online in SSM: {}.",
                offline.len(),
                running.len(),
                region.region,
                join(&offline)
            );
            out.fail(here, reason, json!({ "offline": offline }));
        }
    }
    if out.len() == before {
        out.not_applicable(account_ref(account, GLOBAL), "No running instances.");
    }
}

/// The classes of security events a rule pattern forwards. A field absent from the
/// pattern matches every event; a pattern that filters on anything beyond source,
/// detail-type, account or region (detail fields, resources) forwards only some events
/// and counts for no class.
fn forwarded_classes(pattern: &str) -> Vec<&'static str> {
    let Ok(serde_json::Value::Object(value)) = serde_json::from_str::<serde_json::Value>(pattern)
    else {
        return Vec::new();
    };
    let narrowed = value
        .keys()
        .any(|k| !matches!(k.as_str(), "source" | "detail-type" | "account" | "region"));
    if narrowed {
        return Vec::new();
    }
    let matches = |field: &str, wanted: &str| match value.get(field) {
        None => true,
        Some(serde_json::Value::Array(items)) => items.iter().any(|item| match item {
            serde_json::Value::String(s) => s == wanted,
            serde_json::Value::Object(op) => op
                .get("prefix")
                .and_then(|p| p.as_str())
                .is_some_and(|p| wanted.starts_with(p)),
            _ => false,
        }),
        Some(_) => false,
    };
    let mut classes = Vec::new();
    if matches("source", "aws.guardduty") && matches("detail-type", "GuardDuty Finding") {
        classes.push("GuardDuty findings");
    }
    let hub = "Security Hub Findings - Imported";
    if matches("source", "aws.securityhub") && matches("detail-type", hub) {
        classes.push("Security Hub findings");
    }
    // API calls of every service: named by detail-type, or all events of all (or of
    // prefix-matched) sources; a list of specific sources forwards only theirs.
    let broad_source = match value.get("source") {
        None => true,
        Some(serde_json::Value::Array(items)) => items.iter().any(|i| i.is_object()),
        Some(_) => false,
    };
    let api_calls = "AWS API Call via CloudTrail";
    if matches("detail-type", api_calls) && (value.contains_key("detail-type") || broad_source) {
        classes.push("CloudTrail API calls");
    }
    classes
}

fn event_forwarding(_ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    const CLASSES: [&str; 3] = [
        "GuardDuty findings",
        "Security Hub findings",
        "CloudTrail API calls",
    ];
    for region in &account.regions {
        let here = account_ref(account, &region.region);
        let rules = match region.logging.eventbridge_rules.get("events:ListRules") {
            Err(gap) => {
                out.unknown(here, gap);
                continue;
            }
            Ok(rules) => rules,
        };
        let mut covered: HashSet<&str> = HashSet::new();
        for rule in rules.iter().filter(|r| r.state == "ENABLED") {
            let has_target = rule.targets.ok().is_some_and(|t| !t.is_empty());
            if let (true, Some(pattern)) = (has_target, rule.event_pattern.as_deref()) {
                covered.extend(forwarded_classes(pattern));
            }
        }
        let missing: Vec<String> = CLASSES
            .iter()
            .filter(|c| !covered.contains(*c))
            .map(|c| c.to_string())
            .collect();
        if missing.is_empty() {
            out.pass(
                here,
                format!(
                    "GuardDuty, Security Hub and CloudTrail events are forwarded in {}.",
                    region.region
                ),
            );
        } else {
            out.fail(
                here,
                format!(
                    "No enabled rule with a target forwards {} in {}.",
                    join(&missing),
                    region.region
                ),
                json!({ "missing": missing }),
            );
        }
    }
}

fn billing_alarm(_ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    let here = account_ref(account, GLOBAL);
    let Some(us_east_1) = account.regions.iter().find(|r| r.region == "us-east-1") else {
        return out.unknown(
            here,
            "Billing metrics live in us-east-1, which was not scanned.",
        );
    };
    match us_east_1
        .logging
        .metric_alarms
        .get("cloudwatch:DescribeAlarms")
    {
        Err(gap) => out.unknown(here, gap),
        Ok(alarms) => {
            let alarm = alarms.iter().find(|a| {
                a.namespace.as_deref() == Some("AWS/Billing")
                    && a.metric_name.as_deref() == Some("EstimatedCharges")
            });
            match alarm {
                Some(a) if a.actions_enabled && !a.alarm_actions.is_empty() => out.pass(
                    here,
                    format!(
                        "Billing alarm {} notifies on estimated charges.",
                        a.alarm_name
                    ),
                ),
                Some(a) => out.fail(
                    here,
                    format!("Billing alarm {} has no enabled action.", a.alarm_name),
                    json!({}),
                ),
                None => out.fail(
                    here,
                    "No CloudWatch alarm on AWS/Billing EstimatedCharges.",
                    json!({}),
                ),
            }
        }
    }
}

fn central_trail(ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    let here = account_ref(account, GLOBAL);
    let Some(security) = ctx.opts.readiness.security_account.as_deref() else {
        return out.unknown(
            here,
            "Set readiness.security_account to check where trails deliver.",
        );
    };
    let view = trails::visible(account);
    let buckets = BucketIndex::new(ctx.snapshot);
    let mut seen = Vec::new();
    for trail in &view.trails {
        let logging = trail.status.ok().is_some_and(|s| s.is_logging);
        let Some(bucket) = trail
            .s3_bucket_name
            .as_deref()
            .filter(|_| logging && trail.is_multi_region_trail)
        else {
            continue;
        };
        match buckets.find(bucket) {
            Some((owner, _)) if owner == security => {
                let kind = if trail.is_organization_trail {
                    "Organisation trail"
                } else {
                    "Trail"
                };
                return out.pass(
                    here,
                    format!(
                        "{kind} {} delivers to {bucket} in the security account.",
                        trail.name
                    ),
                );
            }
            Some((owner, _)) => {
                seen.push(format!("{} delivers to {bucket} in {owner}", trail.name))
            }
            None if buckets.unreadable.contains(security)
                || ctx.snapshot.account(security).is_none() =>
            {
                seen.push(format!(
                    "{} delivers to {bucket}, whose owner is unknown",
                    trail.name
                ));
            }
            None => seen.push(format!(
                "{} delivers to {bucket}, not a security-account bucket",
                trail.name
            )),
        }
    }
    let undecided = seen.iter().any(|s| s.ends_with("owner is unknown"));
    if !view.gaps.is_empty() || undecided {
        let mut why = view.gaps.clone();
        why.extend(seen);
        return out.unknown(here, why.join("; "));
    }
    let reason = if seen.is_empty() {
        "No logging multi-region trail.".to_string()
    } else {
        format!(
            "No trail delivers to the security account {security}: {}.",
            join(&seen)
        )
    };
    out.fail(here, reason, json!({ "trails": seen }));
}

/// The guardrails control 75 wants: (name, actions an SCP must deny).
const GUARDRAILS: [(&str, &[&str]); 4] = [
    (
        "leaving the organisation",
        &["organizations:LeaveOrganization"],
    ),
    (
        "disabling CloudTrail",
        &["cloudtrail:StopLogging", "cloudtrail:DeleteTrail"],
    ),
    (
        "disabling GuardDuty",
        &[
            "guardduty:DeleteDetector",
            "guardduty:DisassociateFromMasterAccount",
        ],
    ),
    (
        "disabling Config",
        &[
            "config:StopConfigurationRecorder",
            "config:DeleteConfigurationRecorder",
        ],
    ),
];

fn scp_guardrails(ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    let here = account_ref(account, GLOBAL);
    let organization = match account
        .organization
        .get("organizations:DescribeOrganization")
    {
        Err(gap) => return out.unknown(here, gap),
        Ok(None) => {
            return out.fail(
                here,
                "The account is not in an AWS Organization: no SCP guardrails are possible.",
                json!({}),
            )
        }
        Ok(Some(org)) => org,
    };
    // Member accounts cannot read SCPs: use those read by any scanned account of the same
    // organisation (normally the management account).
    let readable = std::iter::once(account)
        .chain(ctx.snapshot.accounts.iter())
        .filter(|a| {
            a.organization
                .ok()
                .and_then(|o| o.as_ref())
                .is_some_and(|o| o.id == organization.id)
        })
        .find_map(|a| a.service_control_policies.ok());
    let Some(policies) = readable else {
        let gap = account
            .service_control_policies
            .get("organizations:ListPolicies")
            .err()
            .map(|g| g.0);
        return out.unknown(
            here,
            gap.unwrap_or_else(|| "No scanned account could read the organisation's SCPs.".into()),
        );
    };
    let mut missing = Vec::new();
    for (name, actions) in GUARDRAILS {
        let denied = |action: &str| {
            policies.iter().filter(|p| !p.targets.is_empty()).any(|p| {
                statements(&p.content).is_ok_and(|list| {
                    list.iter()
                        .any(|s| !s.allow && s.covers_action(action) && s.covers_resource("*"))
                })
            })
        };
        if !actions.iter().all(|a| denied(a)) {
            missing.push(name.to_string());
        }
    }
    if missing.is_empty() {
        out.pass(here, "Attached SCPs deny leaving the organisation and disabling CloudTrail, GuardDuty and Config.");
    } else {
        out.fail(
            here,
            format!("No attached SCP denies {}.", join(&missing)),
            json!({ "missing": missing }),
        );
    }
}
