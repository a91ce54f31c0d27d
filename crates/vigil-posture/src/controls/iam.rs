//! Identity & access management: controls 1–23.

use serde_json::json;

use super::statement::statements;
use super::support::{
    account_ref, days_since, each_global, each_regional, join, resource, Out, CRITICAL, GLOBAL,
    HIGH, LOW, MEDIUM,
};
use super::{Control, Ctx};
use crate::result::{Area, ControlInfo};
use crate::snapshot::{AccountSnapshot, CredentialReportRow, PasswordPolicy, ReportValue};

pub(super) static CONTROLS: &[Control] = &[
    Control {
        info: ControlInfo {
            id: "VIG-01",
            number: 1,
            title: "Security contact registered for the account",
            description: "AWS sends security notifications (abuse reports, compromised-credential \
                warnings, Trust & Safety outreach) to the account's security alternate contact. \
                Without one they go to the root e-mail address, which is often unmonitored, and \
                an active compromise can go unnoticed.",
            severity: MEDIUM,
            area: Area::IdentityAccess,
            cis: Some("1.2"),
            security_hub: &["Account.1"],
            remediation: "Register a monitored team address: aws account put-alternate-contact \
                --alternate-contact-type SECURITY --name 'Security team' --title 'Security' \
                --email-address security@example.com --phone-number '+1-555-0100'",
            remediation_action: None,
        },
        eval: security_contact,
    },
    Control {
        info: ControlInfo {
            id: "VIG-02",
            number: 2,
            title: "The root user has no access keys",
            description: "Root access keys give unrestricted, unscoped programmatic access to the \
                whole account and cannot be limited by IAM policies or SCPs in the management \
                account. A leaked root key is a full account takeover.",
            severity: CRITICAL,
            area: Area::IdentityAccess,
            cis: Some("1.4"),
            security_hub: &["IAM.4"],
            remediation: "Sign in as root, open Security credentials in the console and delete \
                every access key (root keys cannot be deleted with a non-root CLI session). Use \
                IAM roles for programmatic access. Check with: aws iam get-account-summary \
                --query SummaryMap.AccountAccessKeysPresent",
            remediation_action: None,
        },
        eval: no_root_access_keys,
    },
    Control {
        info: ControlInfo {
            id: "VIG-03",
            number: 3,
            title: "The root user has MFA enabled",
            description: "The root user can do anything in the account, including closing it and \
                changing its contact details. A password alone is one phishing e-mail away from \
                losing the account; MFA is the minimum protection.",
            severity: CRITICAL,
            area: Area::IdentityAccess,
            cis: Some("1.5"),
            security_hub: &["IAM.9"],
            remediation: "Sign in as root and assign an MFA device under Security credentials \
                (console). Verify with: aws iam get-account-summary --query \
                SummaryMap.AccountMFAEnabled (must be 1).",
            remediation_action: None,
        },
        eval: root_mfa,
    },
    Control {
        info: ControlInfo {
            id: "VIG-04",
            number: 4,
            title: "The root user uses a hardware MFA device",
            description: "A virtual MFA seed lives on a phone or laptop that can be lost, \
                backed up to the cloud, or compromised with it. A hardware key (FIDO2 security \
                key or hardware TOTP token) for root keeps the most powerful credential off \
                general-purpose devices.",
            severity: CRITICAL,
            area: Area::IdentityAccess,
            cis: Some("1.6"),
            security_hub: &["IAM.6"],
            remediation: "Sign in as root, register a FIDO2 security key or hardware TOTP token \
                under Security credentials (console), then remove the virtual device. Check: aws \
                iam list-virtual-mfa-devices --query \"VirtualMFADevices[?User.Arn && \
                ends_with(User.Arn, ':root')]\" must be empty.",
            remediation_action: None,
        },
        eval: root_hardware_mfa,
    },
    Control {
        info: ControlInfo {
            id: "VIG-05",
            number: 5,
            title: "The root user is not used for day-to-day work",
            description: "Root actions cannot be restricted and are the first thing an intruder \
                with the root password does. Recent root sign-ins or root key use mean either \
                routine work is done as root or someone else is using it; both need attention.",
            severity: HIGH,
            area: Area::IdentityAccess,
            cis: Some("1.7"),
            security_hub: &[],
            remediation: "Do administrative work through IAM Identity Center or IAM roles; keep \
                root for the few tasks that need it. Review recent root use with: aws cloudtrail \
                lookup-events --lookup-attributes AttributeKey=Username,AttributeValue=root",
            remediation_action: None,
        },
        eval: root_not_used,
    },
    Control {
        info: ControlInfo {
            id: "VIG-06",
            number: 6,
            title: "Password policy requires at least 14 characters",
            description: "Length is the strongest defence of a password against guessing and \
                cracking. CIS requires IAM user passwords of at least 14 characters (the \
                threshold is configurable); without a policy IAM accepts 8.",
            severity: MEDIUM,
            area: Area::IdentityAccess,
            cis: Some("1.8"),
            security_hub: &["IAM.15"],
            remediation: "aws iam update-account-password-policy --minimum-password-length 14 \
                (repeat the other settings you use: the call replaces the whole policy).",
            remediation_action: None,
        },
        eval: password_length,
    },
    Control {
        info: ControlInfo {
            id: "VIG-07",
            number: 7,
            title: "Password policy prevents reuse of the last 24 passwords",
            description: "Users who may reuse old passwords rotate back to credentials that may \
                already be leaked. CIS requires remembering 24 previous passwords (the maximum; \
                configurable).",
            severity: LOW,
            area: Area::IdentityAccess,
            cis: Some("1.9"),
            security_hub: &["IAM.16"],
            remediation: "aws iam update-account-password-policy --password-reuse-prevention 24 \
                --minimum-password-length 14 (the call replaces the whole policy).",
            remediation_action: None,
        },
        eval: password_reuse,
    },
    Control {
        info: ControlInfo {
            id: "VIG-08",
            number: 8,
            title: "Every IAM user with a console password has MFA",
            description: "A console password without MFA is phishable and guessable. Every IAM \
                user that can sign in to the console must have an MFA device.",
            severity: MEDIUM,
            area: Area::IdentityAccess,
            cis: Some("1.10"),
            security_hub: &["IAM.5"],
            remediation: "Have the user enable MFA, or enforce it: aws iam \
                create-virtual-mfa-device / enable-mfa-device, or remove the password with aws \
                iam delete-login-profile --user-name USER when console access is not needed.",
            remediation_action: Some("iam.delete_login_profile"),
        },
        eval: console_users_mfa,
    },
    Control {
        info: ControlInfo {
            id: "VIG-09",
            number: 9,
            title: "No access keys created at user setup and never used",
            description: "Keys created together with a user \"just in case\" and never used are \
                long-lived secrets nobody needs. CIS asks that keys are only created when needed.",
            severity: LOW,
            area: Area::IdentityAccess,
            cis: Some("1.11"),
            security_hub: &[],
            remediation: "Delete the unused key: aws iam delete-access-key --user-name USER \
                --access-key-id AKIA…; create keys only when a workload needs them (prefer roles).",
            remediation_action: Some("iam.deactivate_access_key"),
        },
        eval: no_keys_at_setup,
    },
    Control {
        info: ControlInfo {
            id: "VIG-10",
            number: 10,
            title: "Credentials unused for 45 days or more are disabled",
            description: "Passwords and access keys nobody uses are forgotten, unmonitored and \
                still valid: ideal for an intruder. Disable any password or active key not used \
                for 45 days (configurable).",
            severity: MEDIUM,
            area: Area::IdentityAccess,
            cis: Some("1.12"),
            security_hub: &["IAM.22"],
            remediation: "aws iam update-access-key --user-name USER --access-key-id AKIA… \
                --status Inactive; aws iam delete-login-profile --user-name USER for an unused \
                password.",
            remediation_action: Some("iam.deactivate_access_key"),
        },
        eval: unused_credentials,
    },
    Control {
        info: ControlInfo {
            id: "VIG-11",
            number: 11,
            title: "Each IAM user has at most one active access key",
            description: "Two active keys are meant only for a rotation window. A user with two \
                active keys for longer usually has a forgotten key in some script or laptop.",
            severity: MEDIUM,
            area: Area::IdentityAccess,
            cis: Some("1.13"),
            security_hub: &[],
            remediation: "Find the key in use (aws iam get-access-key-last-used --access-key-id \
                AKIA…) and deactivate the other: aws iam update-access-key --user-name USER \
                --access-key-id AKIA… --status Inactive",
            remediation_action: Some("iam.deactivate_access_key"),
        },
        eval: one_active_key,
    },
    Control {
        info: ControlInfo {
            id: "VIG-12",
            number: 12,
            title: "Active access keys are rotated every 90 days",
            description: "The older a key, the more places it has been copied to and the longer \
                a leak stays useful. Rotate active access keys at least every 90 days \
                (configurable), or better, replace them with roles.",
            severity: MEDIUM,
            area: Area::IdentityAccess,
            cis: Some("1.14"),
            security_hub: &["IAM.3"],
            remediation: "aws iam create-access-key --user-name USER, deploy the new key, then \
                aws iam update-access-key --status Inactive and aws iam delete-access-key on \
                the old one.",
            remediation_action: Some("iam.deactivate_access_key"),
        },
        eval: keys_rotated,
    },
    Control {
        info: ControlInfo {
            id: "VIG-13",
            number: 13,
            title: "IAM users receive permissions only through groups",
            description: "Policies attached directly to users drift and are hard to review. \
                Granting permissions through groups (or, better, roles) keeps access consistent \
                and auditable.",
            severity: LOW,
            area: Area::IdentityAccess,
            cis: Some("1.15"),
            security_hub: &["IAM.2"],
            remediation: "Move the user into a group with the needed policies, then aws iam \
                detach-user-policy --user-name USER --policy-arn ARN and aws iam \
                delete-user-policy --user-name USER --policy-name NAME.",
            remediation_action: None,
        },
        eval: permissions_via_groups,
    },
    Control {
        info: ControlInfo {
            id: "VIG-14",
            number: 14,
            title: "No attached policy grants full \"*:*\" administrative privileges",
            description: "A policy allowing Action \"*\" on Resource \"*\" gives complete control \
                of the account. Least privilege means starting from what a principal needs; \
                full admin should be a rare, monitored role, not an attached policy.",
            severity: HIGH,
            area: Area::IdentityAccess,
            cis: Some("1.16"),
            security_hub: &["IAM.1"],
            remediation: "List the entities (aws iam list-entities-for-policy --policy-arn ARN), \
                replace the policy with scoped permissions and detach it: aws iam \
                detach-role-policy / detach-user-policy / detach-group-policy --policy-arn ARN.",
            remediation_action: None,
        },
        eval: no_full_admin_policies,
    },
    Control {
        info: ControlInfo {
            id: "VIG-15",
            number: 15,
            title: "A support role exists to manage incidents with AWS Support",
            description: "During an incident you need to open and manage AWS Support cases \
                without using root. CIS asks for a role (or group) with the AWSSupportAccess \
                managed policy.",
            severity: LOW,
            area: Area::IdentityAccess,
            cis: Some("1.17"),
            security_hub: &["IAM.18"],
            remediation:
                "aws iam create-role --role-name aws-support --assume-role-policy-document \
                file://trust.json && aws iam attach-role-policy --role-name aws-support \
                --policy-arn arn:aws:iam::aws:policy/AWSSupportAccess",
            remediation_action: None,
        },
        eval: support_role,
    },
    Control {
        info: ControlInfo {
            id: "VIG-16",
            number: 16,
            title: "EC2 instances use IAM instance roles",
            description: "Workloads on EC2 should get temporary credentials from an instance \
                profile instead of access keys stored on disk. An instance without a profile \
                either needs no AWS access or carries long-lived keys.",
            severity: MEDIUM,
            area: Area::IdentityAccess,
            cis: Some("1.18"),
            security_hub: &[],
            remediation: "aws ec2 associate-iam-instance-profile --instance-id i-… \
                --iam-instance-profile Name=PROFILE, then remove stored keys from the host.",
            remediation_action: None,
        },
        eval: instance_roles,
    },
    Control {
        info: ControlInfo {
            id: "VIG-17",
            number: 17,
            title: "Expired IAM server certificates are removed",
            description: "Expired certificates stored in IAM can be deployed by mistake to a \
                load balancer or CloudFront and break TLS or weaken trust; remove them.",
            severity: MEDIUM,
            area: Area::IdentityAccess,
            cis: Some("1.19"),
            security_hub: &["IAM.26"],
            remediation: "aws iam delete-server-certificate --server-certificate-name NAME \
                (move to AWS Certificate Manager, which renews certificates).",
            remediation_action: None,
        },
        eval: expired_certificates,
    },
    Control {
        info: ControlInfo {
            id: "VIG-18",
            number: 18,
            title: "IAM Access Analyzer is enabled in every region",
            description: "Access Analyzer finds resources shared outside the account or \
                organisation (buckets, keys, roles, queues…). Analyzers are regional: a region \
                without one has no such monitoring.",
            severity: HIGH,
            area: Area::IdentityAccess,
            cis: Some("1.20"),
            security_hub: &["IAM.28"],
            remediation: "In each region: aws accessanalyzer create-analyzer --analyzer-name \
                account-analyzer --type ACCOUNT --region REGION (or ORGANIZATION from the \
                delegated administrator).",
            remediation_action: None,
        },
        eval: access_analyzer,
    },
    Control {
        info: ControlInfo {
            id: "VIG-19",
            number: 19,
            title: "Identities are managed centrally (federation or IAM Identity Center)",
            description: "Centrally managed identities (an IdP through SAML/OIDC, or IAM \
                Identity Center) give one place to remove a leaver and short-lived credentials \
                instead of per-account IAM users.",
            severity: LOW,
            area: Area::IdentityAccess,
            cis: Some("1.21"),
            security_hub: &[],
            remediation: "Enable IAM Identity Center in the management account (console) or add \
                your IdP: aws iam create-saml-provider --name IdP --saml-metadata-document \
                file://metadata.xml",
            remediation_action: None,
        },
        eval: central_identity,
    },
    Control {
        info: ControlInfo {
            id: "VIG-20",
            number: 20,
            title: "AWSCloudShellFullAccess is not attached to anyone",
            description: "AWSCloudShellFullAccess allows file upload and download between \
                CloudShell and the internet, a ready exfiltration path. CIS asks that it is \
                attached to no user, group or role.",
            severity: MEDIUM,
            area: Area::IdentityAccess,
            cis: Some("1.22"),
            security_hub: &["IAM.27"],
            remediation: "aws iam detach-role-policy (detach-user-policy, detach-group-policy) \
                --policy-arn arn:aws:iam::aws:policy/AWSCloudShellFullAccess; grant \
                AWSCloudShellUser-style scoped permissions instead.",
            remediation_action: None,
        },
        eval: cloudshell_restricted,
    },
    Control {
        info: ControlInfo {
            id: "VIG-21",
            number: 21,
            title: "Customer managed policies allow no service-wide wildcard actions",
            description: "An Allow of \"service:*\" grants every present and future action of the \
                service, including the dangerous ones (iam:*, s3:* on all buckets). Scope \
                policies to the actions needed.",
            severity: LOW,
            area: Area::IdentityAccess,
            cis: None,
            security_hub: &["IAM.21"],
            remediation: "Replace the wildcard with the actions used (IAM Access Analyzer policy \
                generation helps) and publish a new default version: aws iam \
                create-policy-version --policy-arn ARN --policy-document file://p.json \
                --set-as-default",
            remediation_action: None,
        },
        eval: no_service_wildcards,
    },
    Control {
        info: ControlInfo {
            id: "VIG-22",
            number: 22,
            title: "No IAM policy allows kms:Decrypt on all KMS keys",
            description: "Allowing kms:Decrypt or kms:ReEncryptFrom on every key lets the \
                principal read any data encrypted under any key whose key policy delegates to \
                IAM. Scope decryption to the keys a workload needs.",
            severity: MEDIUM,
            area: Area::IdentityAccess,
            cis: None,
            security_hub: &["KMS.1", "KMS.2"],
            remediation: "Restrict Resource to key ARNs (or add kms:ViaService / \
                kms:EncryptionContext conditions) and publish the change: aws iam \
                create-policy-version --set-as-default, or aws iam put-role-policy for inline \
                policies.",
            remediation_action: None,
        },
        eval: no_decrypt_all_keys,
    },
    Control {
        info: ControlInfo {
            id: "VIG-23",
            number: 23,
            title: "The password policy is strong",
            description: "Security Hub's strong password policy: upper- and lower-case letters, \
                numbers and symbols required, minimum length and reuse prevention at the \
                configured thresholds.",
            severity: MEDIUM,
            area: Area::IdentityAccess,
            cis: None,
            security_hub: &["IAM.7"],
            remediation: "aws iam update-account-password-policy --minimum-password-length 14 \
                --require-symbols --require-numbers --require-uppercase-characters \
                --require-lowercase-characters --password-reuse-prevention 24 \
                --allow-users-to-change-password",
            remediation_action: None,
        },
        eval: strong_password_policy,
    },
];

fn security_contact(_ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    let here = account_ref(account, GLOBAL);
    match account
        .alternate_contacts
        .security
        .get("account:GetAlternateContact")
    {
        Err(gap) => out.unknown(here, gap),
        Ok(Some(contact))
            if contact
                .email_address
                .as_deref()
                .is_some_and(|e| !e.is_empty()) =>
        {
            let email = contact.email_address.as_deref().unwrap_or_default();
            out.pass(here, format!("Security contact set ({email})."));
        }
        Ok(_) => out.fail(
            here,
            "No security alternate contact: AWS security notices go to the root e-mail only.",
            json!({}),
        ),
    }
}

/// The root row of the credential report, or why it is not available.
fn root_row(account: &AccountSnapshot) -> Result<Option<&CredentialReportRow>, String> {
    account
        .iam
        .credential_report
        .get("iam:GetCredentialReport")
        .map(|rows| rows.iter().find(|row| row.is_root()))
        .map_err(|gap| gap.0)
}

fn no_root_access_keys(_ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    let here = account_ref(account, GLOBAL);
    let summary = account.iam.account_summary.get("iam:GetAccountSummary");
    let present = match summary {
        Ok(map) if map.contains_key("AccountAccessKeysPresent") => {
            map.get("AccountAccessKeysPresent").copied().unwrap_or(0) > 0
        }
        _ => match root_row(account) {
            Ok(Some(row)) => {
                ReportValue::parse(&row.access_key_1_active) == ReportValue::True
                    || ReportValue::parse(&row.access_key_2_active) == ReportValue::True
            }
            Ok(None) => return out.unknown(here, "The credential report has no root row."),
            Err(gap) => {
                let first = summary.err().map(|g| g.0).unwrap_or_default();
                return out.unknown(here, format!("{first}; {gap}"));
            }
        },
    };
    out.judge(
        here,
        !present,
        "The root user has no access keys.".into(),
        "The root user has an access key.".into(),
    );
}

fn root_mfa_enabled(account: &AccountSnapshot) -> Result<bool, String> {
    let map = account
        .iam
        .account_summary
        .get("iam:GetAccountSummary")
        .map_err(|gap| gap.0)?;
    map.get("AccountMFAEnabled")
        .map(|value| *value == 1)
        .ok_or_else(|| "iam:GetAccountSummary returned no AccountMFAEnabled".into())
}

fn root_mfa(_ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    let here = account_ref(account, GLOBAL);
    match root_mfa_enabled(account) {
        Err(gap) => out.unknown(here, gap),
        Ok(enabled) => out.judge(
            here,
            enabled,
            "The root user has MFA enabled.".into(),
            "The root user has no MFA device.".into(),
        ),
    }
}

fn root_hardware_mfa(_ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    let here = account_ref(account, GLOBAL);
    let enabled = match root_mfa_enabled(account) {
        Err(gap) => return out.unknown(here, gap),
        Ok(enabled) => enabled,
    };
    if !enabled {
        return out.fail(here, "The root user has no MFA device at all.", json!({}));
    }
    let devices = match account
        .iam
        .virtual_mfa_devices
        .get("iam:ListVirtualMFADevices")
    {
        Err(gap) => return out.unknown(here, gap),
        Ok(devices) => devices,
    };
    let virtual_root = devices.iter().find(|device| {
        device
            .user_arn
            .as_deref()
            .is_some_and(|arn| arn.ends_with(":root"))
            || device.serial_number.ends_with("root-account-mfa-device")
    });
    match virtual_root {
        Some(device) => out.fail(
            here,
            format!("The root MFA device is virtual ({}).", device.serial_number),
            json!({ "serial_number": device.serial_number }),
        ),
        None => out.pass(here, "The root user's MFA device is a hardware device."),
    }
}

fn root_not_used(ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    let here = account_ref(account, GLOBAL);
    let row = match root_row(account) {
        Err(gap) => return out.unknown(here, gap),
        Ok(None) => return out.unknown(here, "The credential report has no root row."),
        Ok(Some(row)) => row,
    };
    let limit = ctx.opts.thresholds.root_use_days;
    let uses = [
        ("password", &row.password_last_used),
        ("access key 1", &row.access_key_1_last_used_date),
        ("access key 2", &row.access_key_2_last_used_date),
    ];
    let recent: Vec<String> = uses
        .iter()
        .filter_map(|(what, cell)| {
            let when = ReportValue::parse(cell).time()?;
            let days = days_since(ctx.now, when);
            (days < limit).then(|| format!("{what} {days} day(s) ago"))
        })
        .collect();
    if recent.is_empty() {
        out.pass(
            here,
            format!("The root user was not used in the last {limit} days."),
        );
    } else {
        out.fail(
            here,
            format!("The root user was used recently: {}.", join(&recent)),
            json!({ "recent_use": recent }),
        );
    }
}

fn with_password_policy(
    account: &AccountSnapshot,
    out: &mut Out,
    judge: impl FnOnce(&PasswordPolicy, &mut Out),
) {
    let here = account_ref(account, GLOBAL);
    match account
        .iam
        .password_policy
        .get("iam:GetAccountPasswordPolicy")
    {
        Err(gap) => out.unknown(here, gap),
        Ok(None) => out.fail(
            here,
            "No account password policy is set (IAM defaults: 8 characters, no reuse prevention).",
            json!({}),
        ),
        Ok(Some(policy)) => judge(policy, out),
    }
}

fn password_length(ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    let want = ctx.opts.thresholds.password_min_length;
    with_password_policy(account, out, |policy, out| {
        let have = policy.minimum_password_length.unwrap_or(8);
        out.judge(
            account_ref(account, GLOBAL),
            have >= want,
            format!("Minimum password length is {have} (at least {want})."),
            format!("Minimum password length is {have}, below {want}."),
        );
    });
}

fn password_reuse(ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    let want = ctx.opts.thresholds.password_reuse;
    with_password_policy(account, out, |policy, out| {
        let have = policy.password_reuse_prevention.unwrap_or(0);
        out.judge(
            account_ref(account, GLOBAL),
            have >= want,
            format!("The last {have} passwords are remembered (at least {want})."),
            format!("Only the last {have} passwords are remembered, below {want}."),
        );
    });
}

fn strong_password_policy(ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    let thresholds = &ctx.opts.thresholds;
    with_password_policy(account, out, |policy, out| {
        let mut missing = Vec::new();
        let flags = [
            (policy.require_uppercase_characters, "upper-case letters"),
            (policy.require_lowercase_characters, "lower-case letters"),
            (policy.require_numbers, "numbers"),
            (policy.require_symbols, "symbols"),
        ];
        for (set, what) in flags {
            if !set {
                missing.push(format!("require {what}"));
            }
        }
        if policy.minimum_password_length.unwrap_or(8) < thresholds.password_min_length {
            missing.push(format!("length ≥ {}", thresholds.password_min_length));
        }
        if policy.password_reuse_prevention.unwrap_or(0) < thresholds.password_reuse {
            missing.push(format!("reuse prevention ≥ {}", thresholds.password_reuse));
        }
        let here = account_ref(account, GLOBAL);
        if missing.is_empty() {
            out.pass(
                here,
                "The password policy meets every strength requirement.",
            );
        } else {
            out.fail(
                here,
                format!("The password policy is missing: {}.", join(&missing)),
                json!({ "missing": missing }),
            );
        }
    });
}

fn user_ref(account: &AccountSnapshot, row: &CredentialReportRow) -> crate::result::ResourceRef {
    resource("AWS::IAM::User", row.arn.clone(), account, GLOBAL)
}

/// Judges every non-root row of the credential report.
fn each_user_row(
    account: &AccountSnapshot,
    out: &mut Out,
    noun: &str,
    judge: impl FnMut(&mut Out, &CredentialReportRow),
) {
    let mut judge = judge;
    each_global(
        out,
        account,
        "iam:GetCredentialReport",
        noun,
        &account.iam.credential_report,
        |out, row| {
            if !row.is_root() {
                judge(out, row);
            }
        },
    );
}

fn console_users_mfa(_ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    each_user_row(
        account,
        out,
        "IAM users with a console password",
        |out, row| {
            if ReportValue::parse(&row.password_enabled) != ReportValue::True {
                return;
            }
            out.judge(
                user_ref(account, row),
                ReportValue::parse(&row.mfa_active) == ReportValue::True,
                format!("{} has MFA for console sign-in.", row.user),
                format!("{} can sign in to the console without MFA.", row.user),
            );
        },
    );
}

/// The active keys of a credential-report row: (number, last rotated, last used).
fn active_keys(row: &CredentialReportRow) -> Vec<(u8, &str, &str)> {
    let keys = [
        (
            1,
            &row.access_key_1_active,
            &row.access_key_1_last_rotated,
            &row.access_key_1_last_used_date,
        ),
        (
            2,
            &row.access_key_2_active,
            &row.access_key_2_last_rotated,
            &row.access_key_2_last_used_date,
        ),
    ];
    keys.into_iter()
        .filter(|(_, active, _, _)| ReportValue::parse(active) == ReportValue::True)
        .map(|(n, _, rotated, used)| (n, rotated.as_str(), used.as_str()))
        .collect()
}

fn no_keys_at_setup(ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    let grace = ctx.opts.thresholds.user_setup_key_grace_secs;
    each_user_row(
        account,
        out,
        "IAM users with active access keys",
        |out, row| {
            let keys = active_keys(row);
            if keys.is_empty() {
                return;
            }
            let created = ReportValue::parse(&row.user_creation_time).time();
            let setup_keys: Vec<String> = keys
                .iter()
                .filter(|(_, rotated, used)| {
                    let rotated = ReportValue::parse(rotated).time();
                    let never_used = matches!(
                        ReportValue::parse(used),
                        ReportValue::NotApplicable | ReportValue::NoInformation
                    );
                    let at_setup = match (created, rotated) {
                        (Some(c), Some(r)) => (r - c).num_seconds().abs() <= grace,
                        _ => false,
                    };
                    never_used && at_setup
                })
                .map(|(n, _, _)| format!("access key {n}"))
                .collect();
            if setup_keys.is_empty() {
                out.pass(
                    user_ref(account, row),
                    format!(
                        "{}'s active keys were not created idle at user setup.",
                        row.user
                    ),
                );
            } else {
                out.fail(
                    user_ref(account, row),
                    format!(
                        "{} has {} created with the user and never used.",
                        row.user,
                        join(&setup_keys)
                    ),
                    json!({ "keys": setup_keys }),
                );
            }
        },
    );
}

fn unused_credentials(ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    let limit = ctx.opts.thresholds.credential_unused_days;
    let now = ctx.now;
    each_user_row(account, out, "IAM users with credentials", |out, row| {
        // A never-used credential counts from when it was issued.
        let idle_days = |used: &str, issued: &str| -> Option<i64> {
            let since = ReportValue::parse(used)
                .time()
                .or_else(|| ReportValue::parse(issued).time())?;
            Some(days_since(now, since))
        };
        let mut stale = Vec::new();
        let mut checked = 0;
        if ReportValue::parse(&row.password_enabled) == ReportValue::True {
            checked += 1;
            let issued = if row.password_last_changed.is_empty() {
                &row.user_creation_time
            } else {
                &row.password_last_changed
            };
            match idle_days(&row.password_last_used, issued) {
                Some(days) if days >= limit => stale.push(format!("password ({days} days)")),
                _ => {}
            }
        }
        for (n, rotated, used) in active_keys(row) {
            checked += 1;
            if let Some(days) = idle_days(used, rotated).filter(|days| *days >= limit) {
                stale.push(format!("access key {n} ({days} days)"));
            }
        }
        if checked == 0 {
            return;
        }
        let here = user_ref(account, row);
        if stale.is_empty() {
            out.pass(
                here,
                format!(
                    "{}'s credentials were used in the last {limit} days.",
                    row.user
                ),
            );
        } else {
            out.fail(
                here,
                format!(
                    "{} has credentials unused for {limit}+ days: {}.",
                    row.user,
                    join(&stale)
                ),
                json!({ "unused": stale }),
            );
        }
    });
}

fn keys_rotated(ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    let limit = ctx.opts.thresholds.key_rotation_days;
    each_user_row(
        account,
        out,
        "IAM users with active access keys",
        |out, row| {
            let keys = active_keys(row);
            if keys.is_empty() {
                return;
            }
            let mut old = Vec::new();
            for (n, rotated, _) in keys {
                match ReportValue::parse(rotated).time() {
                    Some(when) if days_since(ctx.now, when) > limit => {
                        old.push(format!(
                            "access key {n} ({} days)",
                            days_since(ctx.now, when)
                        ));
                    }
                    Some(_) => {}
                    None => {
                        return out.unknown(
                            user_ref(account, row),
                            format!("access_key_{n}_last_rotated is not a time: {rotated:?}"),
                        )
                    }
                }
            }
            let here = user_ref(account, row);
            if old.is_empty() {
                out.pass(
                    here,
                    format!("{}'s active keys are under {limit} days old.", row.user),
                );
            } else {
                out.fail(
                    here,
                    format!(
                        "{} has keys older than {limit} days: {}.",
                        row.user,
                        join(&old)
                    ),
                    json!({ "keys": old }),
                );
            }
        },
    );
}

fn one_active_key(_ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    each_global(
        out,
        account,
        "iam:ListUsers",
        "IAM users",
        &account.iam.users,
        |out, user| {
            let here = resource("AWS::IAM::User", user.arn.clone(), account, GLOBAL);
            match user.access_keys.get("iam:ListAccessKeys") {
                Err(gap) => out.unknown(here, gap),
                Ok(keys) => {
                    let active: Vec<&str> = keys
                        .iter()
                        .filter(|key| key.status == "Active")
                        .map(|key| key.access_key_id.as_str())
                        .collect();
                    if active.len() <= 1 {
                        out.pass(
                            here,
                            format!(
                                "{} has {} active access key(s).",
                                user.user_name,
                                active.len()
                            ),
                        );
                    } else {
                        out.fail(
                            here,
                            format!(
                                "{} has {} active access keys.",
                                user.user_name,
                                active.len()
                            ),
                            json!({ "active_keys": active }),
                        );
                    }
                }
            }
        },
    );
}

fn permissions_via_groups(_ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    each_global(
        out,
        account,
        "iam:ListUsers",
        "IAM users",
        &account.iam.users,
        |out, user| {
            let here = resource("AWS::IAM::User", user.arn.clone(), account, GLOBAL);
            let attached = user.attached_policies.get("iam:ListAttachedUserPolicies");
            let inline = user.inline_policies.get("iam:ListUserPolicies");
            match (attached, inline) {
                (Err(gap), _) | (_, Err(gap)) => out.unknown(here, gap),
                (Ok(attached), Ok(inline)) => {
                    let mut direct: Vec<String> =
                        attached.iter().map(|p| p.policy_name.clone()).collect();
                    direct.extend(inline.iter().map(|p| format!("{} (inline)", p.policy_name)));
                    if direct.is_empty() {
                        out.pass(
                            here,
                            format!("{} has no policies attached directly.", user.user_name),
                        );
                    } else {
                        out.fail(
                            here,
                            format!(
                                "{} has policies attached directly: {}.",
                                user.user_name,
                                join(&direct)
                            ),
                            json!({ "policies": direct }),
                        );
                    }
                }
            }
        },
    );
}

fn no_full_admin_policies(_ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    let policies = &account.iam.policies;
    each_global(
        out,
        account,
        "iam:ListPolicies",
        "attached IAM policies",
        policies,
        |out, policy| {
            if policy.attachment_count == 0 {
                return;
            }
            let here = resource("AWS::IAM::Policy", policy.arn.clone(), account, GLOBAL);
            let document = match policy.document.get("iam:GetPolicyVersion") {
                Err(gap) => return out.unknown(here, gap),
                Ok(document) => document,
            };
            match statements(document) {
                Err(why) => out.unknown(here, format!("{}: {why}", policy.policy_name)),
                Ok(list) => match list.iter().find(|s| s.is_full_admin()) {
                    Some(statement) => out.fail(
                        here,
                        format!(
                            "{} allows \"*\" on \"*\" ({}) and is attached {} time(s).",
                            policy.policy_name,
                            statement.label(),
                            policy.attachment_count
                        ),
                        json!({ "statement": statement.index }),
                    ),
                    None => out.pass(
                        here,
                        format!("{} does not grant \"*:*\".", policy.policy_name),
                    ),
                },
            }
        },
    );
}

fn with_entities(
    account: &AccountSnapshot,
    out: &mut Out,
    entities: &crate::snapshot::Collected<crate::snapshot::PolicyEntities>,
    judge: impl FnOnce(&crate::snapshot::PolicyEntities, &mut Out),
) {
    match entities.get("iam:ListEntitiesForPolicy") {
        Err(gap) => out.unknown(account_ref(account, GLOBAL), gap),
        Ok(entities) => judge(entities, out),
    }
}

fn entity_names(entities: &crate::snapshot::PolicyEntities) -> Vec<String> {
    let users = entities.users.iter().map(|n| format!("user {n}"));
    let groups = entities.groups.iter().map(|n| format!("group {n}"));
    let roles = entities.roles.iter().map(|n| format!("role {n}"));
    users.chain(groups).chain(roles).collect()
}

fn support_role(_ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    with_entities(
        account,
        out,
        &account.iam.support_access_entities,
        |entities, out| {
            let here = account_ref(account, GLOBAL);
            if entities.is_empty() {
                out.fail(
                    here,
                    "AWSSupportAccess is attached to no user, group or role.",
                    json!({}),
                );
            } else {
                out.pass(
                    here,
                    format!(
                        "AWSSupportAccess is attached to {}.",
                        join(&entity_names(entities))
                    ),
                );
            }
        },
    );
}

fn cloudshell_restricted(_ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    with_entities(
        account,
        out,
        &account.iam.cloudshell_full_access_entities,
        |entities, out| {
            let here = account_ref(account, GLOBAL);
            if entities.is_empty() {
                out.pass(here, "AWSCloudShellFullAccess is attached to no one.");
            } else {
                let names = entity_names(entities);
                out.fail(
                    here,
                    format!("AWSCloudShellFullAccess is attached to {}.", join(&names)),
                    json!({ "entities": names }),
                );
            }
        },
    );
}

fn instance_roles(_ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    each_regional(
        out,
        account,
        "ec2:DescribeInstances",
        "EC2 instances",
        |region| &region.compute.instances,
        |out, region, instance| {
            if instance.state == "terminated" || instance.state == "shutting-down" {
                return;
            }
            let id = super::support::arn(
                out,
                "ec2",
                &region.region,
                &account.account_id,
                &format!("instance/{}", instance.instance_id),
            );
            out.judge(
                resource("AWS::EC2::Instance", id, account, &region.region),
                instance.iam_instance_profile_arn.is_some(),
                format!("{} has an instance profile.", instance.instance_id),
                format!("{} has no IAM instance profile.", instance.instance_id),
            );
        },
    );
}

fn expired_certificates(ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    let certificates = &account.iam.server_certificates;
    each_global(
        out,
        account,
        "iam:ListServerCertificates",
        "IAM server certificates",
        certificates,
        |out, cert| {
            let here = resource(
                "AWS::IAM::ServerCertificate",
                cert.arn.clone(),
                account,
                GLOBAL,
            );
            match cert.expiration {
                None => out.unknown(
                    here,
                    format!("{} has no expiration date.", cert.server_certificate_name),
                ),
                Some(expiration) => out.judge(
                    here,
                    expiration > ctx.now,
                    format!(
                        "{} is valid until {}.",
                        cert.server_certificate_name,
                        expiration.date_naive()
                    ),
                    format!(
                        "{} expired on {}.",
                        cert.server_certificate_name,
                        expiration.date_naive()
                    ),
                ),
            }
        },
    );
}

fn access_analyzer(_ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    super::support::each_region(
        out,
        account,
        "access-analyzer:ListAnalyzers",
        |region| &region.logging.access_analyzers,
        |out, region, analyzers| {
            let external = analyzers.iter().find(|a| {
                a.status == "ACTIVE" && matches!(a.kind.as_str(), "ACCOUNT" | "ORGANIZATION")
            });
            let here = account_ref(account, &region.region);
            match external {
                Some(analyzer) => out.pass(here, format!("Analyzer {} is active.", analyzer.name)),
                None => out.fail(
                    here,
                    format!("No active external-access analyzer in {}.", region.region),
                    json!({ "analyzers": analyzers.iter().map(|a| &a.name).collect::<Vec<_>>() }),
                ),
            }
        },
    );
}

fn central_identity(_ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    let here = account_ref(account, GLOBAL);
    let mut found = Vec::new();
    let mut gaps = Vec::new();
    let mut note = |result: Result<usize, crate::snapshot::Gap>, what: &str| match result {
        Ok(0) => {}
        Ok(count) => found.push(format!("{count} {what}")),
        Err(gap) => gaps.push(gap.0),
    };
    note(
        account
            .iam
            .saml_providers
            .get("iam:ListSAMLProviders")
            .map(Vec::len),
        "SAML provider(s)",
    );
    note(
        account
            .iam
            .oidc_providers
            .get("iam:ListOpenIDConnectProviders")
            .map(Vec::len),
        "OIDC provider(s)",
    );
    note(
        account
            .sso_instances
            .get("sso-admin:ListInstances")
            .map(Vec::len),
        "IAM Identity Center instance(s)",
    );
    if !found.is_empty() {
        out.pass(here, format!("Central identity in use: {}.", join(&found)));
    } else if !gaps.is_empty() {
        out.unknown(here, gaps.join("; "));
    } else {
        out.fail(here, "No SAML/OIDC provider or IAM Identity Center instance: users are per-account IAM users.", json!({}));
    }
}

fn no_service_wildcards(_ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    let policies = &account.iam.policies;
    each_global(
        out,
        account,
        "iam:ListPolicies",
        "customer managed policies",
        policies,
        |out, policy| {
            if policy.is_aws_managed() {
                return;
            }
            let here = resource("AWS::IAM::Policy", policy.arn.clone(), account, GLOBAL);
            let document = match policy.document.get("iam:GetPolicyVersion") {
                Err(gap) => return out.unknown(here, gap),
                Ok(document) => document,
            };
            match statements(document) {
                Err(why) => out.unknown(here, format!("{}: {why}", policy.policy_name)),
                Ok(list) => {
                    let wildcards: Vec<String> = list
                        .iter()
                        .filter(|s| s.allow)
                        .flat_map(|s| s.service_wildcards())
                        .collect();
                    if wildcards.is_empty() {
                        out.pass(
                            here,
                            format!("{} names actions explicitly.", policy.policy_name),
                        );
                    } else {
                        out.fail(
                            here,
                            format!(
                                "{} allows service-wide wildcards: {}.",
                                policy.policy_name,
                                join(&wildcards)
                            ),
                            json!({ "actions": wildcards }),
                        );
                    }
                }
            }
        },
    );
}

/// A stand-in ARN for "some key of this account in some region": a Resource pattern that
/// matches it matches every key of the account, which is what KMS.1/KMS.2 call all keys.
fn any_key(partition: &str, account: &str) -> String {
    format!("arn:{partition}:kms:zz-vigil-1:{account}:key/00000000-0000-0000-0000-000000000000")
}

/// The statements of `document` that allow kms:Decrypt / kms:ReEncryptFrom on every key.
fn decrypt_all_statements(document: &str, any_key: &str) -> Result<Vec<String>, String> {
    Ok(statements(document)?
        .into_iter()
        .filter(|s| {
            s.allow
                && (s.covers_action("kms:Decrypt") || s.covers_action("kms:ReEncryptFrom"))
                && s.covers_resource(any_key)
        })
        .map(|s| s.label())
        .collect())
}

fn judge_decrypt(
    out: &mut Out,
    here: crate::result::ResourceRef,
    name: &str,
    documents: &[(&str, &str)],
) {
    let key = any_key(out.partition(), &here.account);
    let mut hits = Vec::new();
    for (policy, document) in documents {
        match decrypt_all_statements(document, &key) {
            Err(why) => return out.unknown(here, format!("{policy}: {why}")),
            Ok(found) => hits.extend(found.into_iter().map(|label| format!("{policy} {label}"))),
        }
    }
    if hits.is_empty() {
        out.pass(
            here,
            format!("{name} does not allow kms:Decrypt on all keys."),
        );
    } else {
        out.fail(
            here,
            format!("{name} allows kms:Decrypt on all keys: {}.", join(&hits)),
            json!({ "statements": hits }),
        );
    }
}

fn no_decrypt_all_keys(_ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    let before = out.len();
    // KMS.1: customer managed policies.
    if let Ok(policies) = account.iam.policies.get("iam:ListPolicies") {
        for policy in policies.iter().filter(|p| !p.is_aws_managed()) {
            let here = resource("AWS::IAM::Policy", policy.arn.clone(), account, GLOBAL);
            match policy.document.get("iam:GetPolicyVersion") {
                Err(gap) => out.unknown(here, gap),
                Ok(doc) => judge_decrypt(
                    out,
                    here,
                    &policy.policy_name,
                    &[(&policy.policy_name, doc)],
                ),
            }
        }
    } else if let Err(gap) = account.iam.policies.get("iam:ListPolicies") {
        out.unknown(account_ref(account, GLOBAL), gap);
    }
    // KMS.2: inline policies of users, groups and roles.
    inline_decrypt(account, out);
    if out.len() == before {
        out.not_applicable(
            account_ref(account, GLOBAL),
            "No customer managed or inline policies.",
        );
    }
}

fn inline_decrypt(account: &AccountSnapshot, out: &mut Out) {
    type Principal<'a> = (
        &'static str,
        &'a str,
        &'a str,
        &'a crate::snapshot::Collected<Vec<crate::snapshot::InlinePolicy>>,
    );
    let mut principals: Vec<Principal<'_>> = Vec::new();
    let lists = [
        account.iam.users.get("iam:ListUsers").map(|l| {
            l.iter()
                .map(|u| {
                    (
                        "AWS::IAM::User",
                        u.user_name.as_str(),
                        u.arn.as_str(),
                        &u.inline_policies,
                    )
                })
                .collect::<Vec<_>>()
        }),
        account.iam.groups.get("iam:ListGroups").map(|l| {
            l.iter()
                .map(|g| {
                    (
                        "AWS::IAM::Group",
                        g.group_name.as_str(),
                        g.arn.as_str(),
                        &g.inline_policies,
                    )
                })
                .collect()
        }),
        account.iam.roles.get("iam:ListRoles").map(|l| {
            l.iter()
                .map(|r| {
                    (
                        "AWS::IAM::Role",
                        r.role_name.as_str(),
                        r.arn.as_str(),
                        &r.inline_policies,
                    )
                })
                .collect()
        }),
    ];
    for list in lists {
        match list {
            Ok(items) => principals.extend(items),
            Err(gap) => out.unknown(account_ref(account, GLOBAL), gap),
        }
    }
    for (kind, name, arn, inline) in principals {
        let here = resource(kind, arn, account, GLOBAL);
        match inline.get("iam:GetPrincipalPolicy") {
            Err(gap) => out.unknown(here, gap),
            Ok(policies) if policies.is_empty() => {}
            Ok(policies) => {
                let docs: Vec<(&str, &str)> = policies
                    .iter()
                    .map(|p| (p.policy_name.as_str(), p.policy_document.as_str()))
                    .collect();
                judge_decrypt(out, here, name, &docs);
            }
        }
    }
}
