//! S3: buckets and their settings (global listing, each bucket with its region).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Collected;

/// S3 Block Public Access settings (s3control:GetPublicAccessBlock for the account,
/// s3:GetPublicAccessBlock for a bucket) → PublicAccessBlockConfiguration.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(default)]
pub struct PublicAccessBlock {
    /// BlockPublicAcls.
    pub block_public_acls: bool,
    /// IgnorePublicAcls.
    pub ignore_public_acls: bool,
    /// BlockPublicPolicy.
    pub block_public_policy: bool,
    /// RestrictPublicBuckets.
    pub restrict_public_buckets: bool,
}

impl PublicAccessBlock {
    /// All four settings on.
    pub fn all_on(&self) -> bool {
        self.block_public_acls
            && self.ignore_public_acls
            && self.block_public_policy
            && self.restrict_public_buckets
    }

    /// The settings in force when both levels apply: each is on if on at either level.
    pub fn or(&self, other: &PublicAccessBlock) -> PublicAccessBlock {
        PublicAccessBlock {
            block_public_acls: self.block_public_acls || other.block_public_acls,
            ignore_public_acls: self.ignore_public_acls || other.ignore_public_acls,
            block_public_policy: self.block_public_policy || other.block_public_policy,
            restrict_public_buckets: self.restrict_public_buckets || other.restrict_public_buckets,
        }
    }
}

/// An S3 bucket (s3:ListBuckets) and the per-bucket calls. `Ok(None)` values are the
/// "not configured" answers (NoSuchBucketPolicy, NoSuchPublicAccessBlockConfiguration,
/// ServerSideEncryptionConfigurationNotFoundError, ObjectLockConfigurationNotFoundError).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct Bucket {
    /// Name.
    pub name: String,
    /// s3:GetBucketLocation (`us-east-1` for the null constraint).
    pub region: String,
    /// CreationDate.
    pub creation_date: Option<DateTime<Utc>>,
    /// s3:GetBucketAcl.
    pub acl: Collected<BucketAcl>,
    /// s3:GetBucketPolicy → Policy JSON text.
    pub policy: Collected<Option<String>>,
    /// s3:GetBucketPolicyStatus → PolicyStatus.IsPublic (S3's own verdict).
    pub policy_status_is_public: Collected<Option<bool>>,
    /// s3:GetPublicAccessBlock.
    pub public_access_block: Collected<Option<PublicAccessBlock>>,
    /// s3:GetBucketVersioning.
    pub versioning: Collected<BucketVersioning>,
    /// s3:GetBucketLogging → LoggingEnabled (`None` = logging off).
    pub logging: Collected<Option<BucketLogging>>,
    /// s3:GetBucketEncryption → ServerSideEncryptionConfiguration.Rules.
    pub encryption: Collected<Option<Vec<EncryptionRule>>>,
    /// s3:GetObjectLockConfiguration.
    pub object_lock: Collected<Option<ObjectLockConfiguration>>,
}

/// s3:GetBucketAcl → Owner and Grants.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct BucketAcl {
    /// Owner.ID (canonical user id).
    pub owner_id: String,
    /// Grants.
    pub grants: Vec<AclGrant>,
}

/// One ACL grant.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct AclGrant {
    /// Grantee.Type: `CanonicalUser`, `Group`, `AmazonCustomerByEmail`.
    pub grantee_type: String,
    /// Grantee.ID (canonical user).
    pub grantee_id: Option<String>,
    /// Grantee.URI (groups: `http://acs.amazonaws.com/groups/global/AllUsers`, …).
    pub grantee_uri: Option<String>,
    /// Permission: `READ`, `WRITE`, `READ_ACP`, `WRITE_ACP`, `FULL_CONTROL`.
    pub permission: String,
}

/// The URI of the everyone group.
pub const ALL_USERS_URI: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
/// The URI of the any-AWS-account group.
pub const AUTHENTICATED_USERS_URI: &str =
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";

/// s3:GetBucketVersioning.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct BucketVersioning {
    /// Status: `Enabled`, `Suspended`, or absent (never enabled).
    pub status: Option<String>,
    /// MFADelete: `Enabled`, `Disabled`, or absent.
    pub mfa_delete: Option<String>,
}

/// s3:GetBucketLogging → LoggingEnabled.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct BucketLogging {
    /// TargetBucket.
    pub target_bucket: String,
    /// TargetPrefix.
    pub target_prefix: String,
}

/// One server-side encryption rule.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct EncryptionRule {
    /// ApplyServerSideEncryptionByDefault.SSEAlgorithm: `AES256`, `aws:kms`, `aws:kms:dsse`.
    pub sse_algorithm: String,
    /// ApplyServerSideEncryptionByDefault.KMSMasterKeyID.
    pub kms_master_key_id: Option<String>,
    /// BucketKeyEnabled.
    pub bucket_key_enabled: bool,
}

/// s3:GetObjectLockConfiguration → ObjectLockConfiguration.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct ObjectLockConfiguration {
    /// ObjectLockEnabled (`Enabled`).
    pub object_lock_enabled: Option<String>,
    /// Rule.DefaultRetention.Mode: `GOVERNANCE` or `COMPLIANCE`.
    pub default_retention_mode: Option<String>,
    /// Rule.DefaultRetention.Days.
    pub default_retention_days: Option<u32>,
    /// Rule.DefaultRetention.Years.
    pub default_retention_years: Option<u32>,
}
