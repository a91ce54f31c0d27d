//! Identity data: IAM, account contacts, organisation, Identity Center.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Collected;

/// The alternate contacts of the account; one account:GetAlternateContact call per type.
/// `Ok(None)` = ResourceNotFoundException (no contact of that type).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct AlternateContacts {
    /// AlternateContactType=SECURITY.
    pub security: Collected<Option<AlternateContact>>,
    /// AlternateContactType=BILLING.
    pub billing: Collected<Option<AlternateContact>>,
    /// AlternateContactType=OPERATIONS.
    pub operations: Collected<Option<AlternateContact>>,
}

/// account:GetAlternateContact → AlternateContact.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct AlternateContact {
    /// Name.
    pub name: Option<String>,
    /// Title.
    pub title: Option<String>,
    /// EmailAddress.
    pub email_address: Option<String>,
    /// PhoneNumber.
    pub phone_number: Option<String>,
}

/// Everything read from IAM (a global service) for one account.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct IamData {
    /// iam:GetAccountSummary → SummaryMap (`AccountMFAEnabled`, `AccountAccessKeysPresent`, …).
    pub account_summary: Collected<BTreeMap<String, i64>>,
    /// iam:GetAccountPasswordPolicy; `Ok(None)` = NoSuchEntity (no policy set — data).
    pub password_policy: Collected<Option<PasswordPolicy>>,
    /// iam:GenerateCredentialReport + GetCredentialReport, one row per CSV line
    /// (the `<root_account>` row included).
    pub credential_report: Collected<Vec<CredentialReportRow>>,
    /// iam:ListVirtualMFADevices (AssignmentStatus=Any).
    pub virtual_mfa_devices: Collected<Vec<VirtualMfaDevice>>,
    /// iam:ListUsers (or GetAccountAuthorizationDetails), with per-user calls below.
    pub users: Collected<Vec<IamUser>>,
    /// iam:ListGroups, with attached and inline policies.
    pub groups: Collected<Vec<IamGroup>>,
    /// iam:ListRoles + GetRole (for RoleLastUsed), with attached and inline policies.
    pub roles: Collected<Vec<IamRole>>,
    /// Managed policies: iam:ListPolicies(Scope=Local) ∪ ListPolicies(OnlyAttached=true),
    /// each with its default version document (GetPolicyVersion).
    pub policies: Collected<Vec<ManagedPolicy>>,
    /// iam:ListEntitiesForPolicy(arn:aws:iam::aws:policy/AWSSupportAccess).
    pub support_access_entities: Collected<PolicyEntities>,
    /// iam:ListEntitiesForPolicy(arn:aws:iam::aws:policy/AWSCloudShellFullAccess).
    pub cloudshell_full_access_entities: Collected<PolicyEntities>,
    /// iam:ListServerCertificates.
    pub server_certificates: Collected<Vec<ServerCertificate>>,
    /// iam:ListSAMLProviders → ARNs.
    pub saml_providers: Collected<Vec<String>>,
    /// iam:ListOpenIDConnectProviders → ARNs.
    pub oidc_providers: Collected<Vec<String>>,
}

/// iam:GetAccountPasswordPolicy → PasswordPolicy.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct PasswordPolicy {
    /// MinimumPasswordLength.
    pub minimum_password_length: Option<u32>,
    /// RequireSymbols.
    pub require_symbols: bool,
    /// RequireNumbers.
    pub require_numbers: bool,
    /// RequireUppercaseCharacters.
    pub require_uppercase_characters: bool,
    /// RequireLowercaseCharacters.
    pub require_lowercase_characters: bool,
    /// AllowUsersToChangePassword.
    pub allow_users_to_change_password: bool,
    /// ExpirePasswords.
    pub expire_passwords: bool,
    /// MaxPasswordAge (days).
    pub max_password_age: Option<u32>,
    /// PasswordReusePrevention (number of previous passwords remembered).
    pub password_reuse_prevention: Option<u32>,
    /// HardExpiry.
    pub hard_expiry: Option<bool>,
}

/// One row of the IAM credential report, values verbatim from the CSV (`true`, `false`,
/// ISO 8601 times, `N/A`, `no_information`, `not_supported`). Column names are the CSV
/// header's. Interpret with [`ReportValue::parse`].
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
#[allow(missing_docs)] // the fields are the report's documented columns
pub struct CredentialReportRow {
    pub user: String,
    pub arn: String,
    pub user_creation_time: String,
    pub password_enabled: String,
    pub password_last_used: String,
    pub password_last_changed: String,
    pub password_next_rotation: String,
    pub mfa_active: String,
    pub access_key_1_active: String,
    pub access_key_1_last_rotated: String,
    pub access_key_1_last_used_date: String,
    pub access_key_1_last_used_region: String,
    pub access_key_1_last_used_service: String,
    pub access_key_2_active: String,
    pub access_key_2_last_rotated: String,
    pub access_key_2_last_used_date: String,
    pub access_key_2_last_used_region: String,
    pub access_key_2_last_used_service: String,
    pub cert_1_active: String,
    pub cert_1_last_rotated: String,
    pub cert_2_active: String,
    pub cert_2_last_rotated: String,
}

/// A credential-report cell, interpreted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportValue {
    /// A time.
    Time(DateTime<Utc>),
    /// `true`.
    True,
    /// `false`.
    False,
    /// `N/A`: the credential does not exist (or was never used, for last-used columns).
    NotApplicable,
    /// `no_information`: never used since IAM started tracking.
    NoInformation,
    /// `not_supported` (root password columns).
    NotSupported,
    /// Empty or unparseable: treat as unknown.
    Invalid,
}

impl ReportValue {
    /// Interprets one cell.
    pub fn parse(cell: &str) -> ReportValue {
        match cell.trim() {
            "true" | "TRUE" => ReportValue::True,
            "false" | "FALSE" => ReportValue::False,
            "N/A" => ReportValue::NotApplicable,
            "no_information" => ReportValue::NoInformation,
            "not_supported" => ReportValue::NotSupported,
            other => DateTime::parse_from_rfc3339(other)
                .map(|time| ReportValue::Time(time.with_timezone(&Utc)))
                .unwrap_or(ReportValue::Invalid),
        }
    }

    /// The time, when the cell is one.
    pub fn time(self) -> Option<DateTime<Utc>> {
        match self {
            ReportValue::Time(time) => Some(time),
            _ => None,
        }
    }
}

impl CredentialReportRow {
    /// The row of the root user.
    pub fn is_root(&self) -> bool {
        self.user == "<root_account>"
    }
}

/// iam:ListVirtualMFADevices → VirtualMFADevice.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct VirtualMfaDevice {
    /// SerialNumber (`arn:aws:iam::123456789012:mfa/root-account-mfa-device`).
    pub serial_number: String,
    /// User.Arn of the assigned user (`arn:aws:iam::123456789012:root` for root).
    pub user_arn: Option<String>,
    /// EnableDate.
    pub enable_date: Option<DateTime<Utc>>,
}

/// An IAM user with the per-user calls the controls need.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct IamUser {
    /// UserName.
    pub user_name: String,
    /// UserId.
    pub user_id: String,
    /// Arn.
    pub arn: String,
    /// CreateDate.
    pub create_date: Option<DateTime<Utc>>,
    /// iam:ListAccessKeys(UserName).
    pub access_keys: Collected<Vec<AccessKey>>,
    /// iam:ListAttachedUserPolicies(UserName).
    pub attached_policies: Collected<Vec<AttachedPolicy>>,
    /// iam:ListUserPolicies + GetUserPolicy(UserName).
    pub inline_policies: Collected<Vec<InlinePolicy>>,
    /// iam:ListGroupsForUser(UserName) → group names.
    pub groups: Collected<Vec<String>>,
}

/// iam:ListAccessKeys → AccessKeyMetadata.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct AccessKey {
    /// AccessKeyId.
    pub access_key_id: String,
    /// Status: `Active` or `Inactive`.
    pub status: String,
    /// CreateDate.
    pub create_date: Option<DateTime<Utc>>,
}

/// A managed policy attached to a user, group or role (ListAttached*Policies).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct AttachedPolicy {
    /// PolicyName.
    pub policy_name: String,
    /// PolicyArn.
    pub policy_arn: String,
}

/// An inline policy (Get{User,Group,Role}Policy): name and URL-decoded JSON document.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct InlinePolicy {
    /// PolicyName.
    pub policy_name: String,
    /// PolicyDocument, URL-decoded JSON text.
    pub policy_document: String,
}

/// An IAM group.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct IamGroup {
    /// GroupName.
    pub group_name: String,
    /// Arn.
    pub arn: String,
    /// iam:ListAttachedGroupPolicies.
    pub attached_policies: Collected<Vec<AttachedPolicy>>,
    /// iam:ListGroupPolicies + GetGroupPolicy.
    pub inline_policies: Collected<Vec<InlinePolicy>>,
}

/// An IAM role.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct IamRole {
    /// RoleName.
    pub role_name: String,
    /// Arn.
    pub arn: String,
    /// Path (`/aws-service-role/` for service-linked roles).
    pub path: String,
    /// CreateDate.
    pub create_date: Option<DateTime<Utc>>,
    /// AssumeRolePolicyDocument, URL-decoded JSON text (the trust policy).
    pub assume_role_policy_document: String,
    /// iam:GetRole → RoleLastUsed.
    pub role_last_used: Collected<RoleLastUsed>,
    /// iam:ListAttachedRolePolicies.
    pub attached_policies: Collected<Vec<AttachedPolicy>>,
    /// iam:ListRolePolicies + GetRolePolicy.
    pub inline_policies: Collected<Vec<InlinePolicy>>,
    /// Tags (ListRoleTags), key → value.
    pub tags: BTreeMap<String, String>,
}

/// iam:GetRole → Role.RoleLastUsed.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct RoleLastUsed {
    /// LastUsedDate; `None` = not used in the tracking period (400 days).
    pub last_used_date: Option<DateTime<Utc>>,
    /// Region.
    pub region: Option<String>,
}

/// A managed policy with its default version (iam:ListPolicies + GetPolicyVersion).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct ManagedPolicy {
    /// PolicyName.
    pub policy_name: String,
    /// Arn (`arn:aws:iam::aws:policy/…` for AWS managed policies).
    pub arn: String,
    /// AttachmentCount.
    pub attachment_count: u32,
    /// DefaultVersionId.
    pub default_version_id: String,
    /// GetPolicyVersion(DefaultVersionId).Document, URL-decoded JSON text.
    pub document: Collected<String>,
}

impl ManagedPolicy {
    /// An AWS managed policy (its ARN's account field is `aws`).
    pub fn is_aws_managed(&self) -> bool {
        self.arn.split(':').nth(4) == Some("aws")
    }
}

/// iam:ListEntitiesForPolicy → the principals a managed policy is attached to.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct PolicyEntities {
    /// PolicyUsers[].UserName.
    pub users: Vec<String>,
    /// PolicyGroups[].GroupName.
    pub groups: Vec<String>,
    /// PolicyRoles[].RoleName.
    pub roles: Vec<String>,
}

impl PolicyEntities {
    /// No principal has the policy.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty() && self.groups.is_empty() && self.roles.is_empty()
    }
}

/// iam:ListServerCertificates → ServerCertificateMetadata.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct ServerCertificate {
    /// ServerCertificateName.
    pub server_certificate_name: String,
    /// Arn.
    pub arn: String,
    /// Expiration.
    pub expiration: Option<DateTime<Utc>>,
}

/// organizations:DescribeOrganization → Organization.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct Organization {
    /// Id (`o-…`).
    pub id: String,
    /// Arn.
    pub arn: String,
    /// MasterAccountId (the management account).
    pub master_account_id: String,
    /// FeatureSet (`ALL` or `CONSOLIDATED_BILLING`).
    pub feature_set: String,
}

/// A service control policy (organizations:DescribePolicy + ListTargetsForPolicy).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct ServiceControlPolicy {
    /// PolicySummary.Id.
    pub id: String,
    /// PolicySummary.Name.
    pub name: String,
    /// PolicySummary.Arn.
    pub arn: String,
    /// PolicySummary.AwsManaged (FullAWSAccess).
    pub aws_managed: bool,
    /// Content: the policy JSON text.
    pub content: String,
    /// ListTargetsForPolicy → TargetId (root `r-…`, OU `ou-…`, account id).
    pub targets: Vec<String>,
}

/// sso-admin:ListInstances → InstanceMetadata.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct SsoInstance {
    /// InstanceArn.
    pub instance_arn: String,
    /// IdentityStoreId.
    pub identity_store_id: String,
    /// Status (`ACTIVE`).
    pub status: Option<String>,
}
