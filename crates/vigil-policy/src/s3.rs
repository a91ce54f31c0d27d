//! An S3 bucket's final exposure: its bucket policy, its ACL and the effective Block Public
//! Access settings, combined the way S3 combines them ("Blocking public access to your
//! Amazon S3 storage", "The meaning of public"):
//!
//! - an ACL is public when it grants anything to `AllUsers` or `AuthenticatedUsers`;
//!   `IgnorePublicAcls` makes S3 ignore those grants; `BlockPublicAcls` only rejects *new*
//!   public ACLs and leaves existing ones in force;
//! - a policy is public unless it grants only to fixed principals or under fixed-value
//!   conditions; `RestrictPublicBuckets` then limits a public policy to AWS service
//!   principals and the bucket owner's account (cross-account grants in it stop working
//!   too); `BlockPublicPolicy` only rejects *new* public policies;
//! - settings at account and bucket level combine: the most restrictive wins.
//!
//! Object ACLs and access point policies are not analysed here.

use serde::{Deserialize, Serialize};

use crate::actions::summarize;
use crate::analyze::{analyze, Analysis, Grant, GrantSource, PrincipalClass, Verdict};
use crate::context::AnalysisContext;
use crate::model::Policy;

/// S3's predefined groups, by URI.
pub const ALL_USERS_URI: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
pub const AUTHENTICATED_USERS_URI: &str =
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
pub const LOG_DELIVERY_URI: &str = "http://acs.amazonaws.com/groups/s3/LogDelivery";

/// The grantee of an ACL grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AclGrantee {
    /// `AllUsers`: anyone, including anonymous callers.
    AllUsers,
    /// `AuthenticatedUsers`: any AWS account.
    AuthenticatedUsers,
    /// `LogDelivery`: S3 server access log delivery.
    LogDelivery,
    /// Another predefined group, by URI.
    Group(String),
    CanonicalUser(String),
    Email(String),
}

impl AclGrantee {
    /// The grantee for a group URI (`http://acs.amazonaws.com/groups/global/AllUsers`).
    pub fn from_group_uri(uri: &str) -> AclGrantee {
        let trimmed = uri.trim().trim_end_matches('/');
        let https = trimmed.replacen("https://", "http://", 1);
        match https.as_str() {
            ALL_USERS_URI => AclGrantee::AllUsers,
            AUTHENTICATED_USERS_URI => AclGrantee::AuthenticatedUsers,
            LOG_DELIVERY_URI => AclGrantee::LogDelivery,
            _ => AclGrantee::Group(uri.to_string()),
        }
    }
}

/// An ACL permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AclPermission {
    Read,
    Write,
    ReadAcp,
    WriteAcp,
    FullControl,
}

impl AclPermission {
    /// `READ`, `WRITE`, `READ_ACP`, `WRITE_ACP`, `FULL_CONTROL`.
    pub fn parse(text: &str) -> Option<AclPermission> {
        match text {
            "READ" => Some(AclPermission::Read),
            "WRITE" => Some(AclPermission::Write),
            "READ_ACP" => Some(AclPermission::ReadAcp),
            "WRITE_ACP" => Some(AclPermission::WriteAcp),
            "FULL_CONTROL" => Some(AclPermission::FullControl),
            _ => None,
        }
    }

    /// The bucket operations a bucket ACL permission allows.
    fn actions(self) -> Vec<String> {
        let list = [
            "s3:ListBucket",
            "s3:ListBucketVersions",
            "s3:ListBucketMultipartUploads",
        ];
        let write = ["s3:PutObject", "s3:DeleteObject"];
        let v: Vec<&str> = match self {
            AclPermission::Read => list.to_vec(),
            AclPermission::Write => write.to_vec(),
            AclPermission::ReadAcp => vec!["s3:GetBucketAcl"],
            AclPermission::WriteAcp => vec!["s3:PutBucketAcl"],
            AclPermission::FullControl => list
                .iter()
                .chain(write.iter())
                .chain(["s3:GetBucketAcl", "s3:PutBucketAcl"].iter())
                .copied()
                .collect(),
        };
        v.into_iter().map(String::from).collect()
    }
}

/// One ACL grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AclGrant {
    pub grantee: AclGrantee,
    pub permission: AclPermission,
}

/// A bucket ACL.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct S3Acl {
    /// The owner's canonical id: grants to it are the owner's own.
    #[serde(default)]
    pub owner_canonical_id: Option<String>,
    #[serde(default)]
    pub grants: Vec<AclGrant>,
    /// Object Ownership is `BucketOwnerEnforced`: ACLs are disabled and grant nothing.
    #[serde(default)]
    pub acls_disabled: bool,
}

/// Block Public Access settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BlockPublicAccess {
    #[serde(default)]
    pub block_public_acls: bool,
    #[serde(default)]
    pub ignore_public_acls: bool,
    #[serde(default)]
    pub block_public_policy: bool,
    #[serde(default)]
    pub restrict_public_buckets: bool,
}

impl BlockPublicAccess {
    /// All four settings on.
    pub fn all() -> Self {
        BlockPublicAccess {
            block_public_acls: true,
            ignore_public_acls: true,
            block_public_policy: true,
            restrict_public_buckets: true,
        }
    }

    /// The settings S3 applies: each one on if on at the account or at the bucket.
    pub fn effective(
        account: Option<&BlockPublicAccess>,
        bucket: Option<&BlockPublicAccess>,
    ) -> Self {
        let a = account.copied().unwrap_or_default();
        let b = bucket.copied().unwrap_or_default();
        BlockPublicAccess {
            block_public_acls: a.block_public_acls || b.block_public_acls,
            ignore_public_acls: a.ignore_public_acls || b.ignore_public_acls,
            block_public_policy: a.block_public_policy || b.block_public_policy,
            restrict_public_buckets: a.restrict_public_buckets || b.restrict_public_buckets,
        }
    }
}

/// The exposure of an S3 bucket from its policy (if any), ACL and effective Block Public
/// Access settings.
pub fn analyze_s3(
    policy: Option<&Policy>,
    acl: &S3Acl,
    bpa: &BlockPublicAccess,
    ctx: &AnalysisContext,
) -> Analysis {
    let (mut grants, mut notes) = match policy {
        Some(policy) => {
            let analysis = analyze(policy, ctx);
            let public = analysis.is_public();
            let (grants, mut notes) = (analysis.grants, analysis.notes);
            let grants = if public && bpa.restrict_public_buckets {
                restrict_public_buckets(grants, ctx, &mut notes)
            } else {
                grants
            };
            if public && bpa.block_public_policy && !bpa.restrict_public_buckets {
                notes.push("BlockPublicPolicy only rejects new public policies: the current public policy is in force (RestrictPublicBuckets would limit it)".into());
            }
            (grants, notes)
        }
        None => (Vec::new(), Vec::new()),
    };
    grants.extend(acl_grants(acl, bpa, ctx, &mut notes));
    notes.push("object ACLs and access point policies are not part of this analysis".into());
    Analysis::from_parts(grants, notes)
}

/// RestrictPublicBuckets: only AWS service principals and the owner's account keep access.
fn restrict_public_buckets(
    grants: Vec<Grant>,
    ctx: &AnalysisContext,
    notes: &mut Vec<String>,
) -> Vec<Grant> {
    let owner_arn_prefix = format!(":{}:", ctx.owner_account);
    grants
        .into_iter()
        .filter(|g| {
            let keep = match &g.principal {
                PrincipalClass::Service(_) | PrincipalClass::AnyService => true,
                PrincipalClass::Account(a) => *a == ctx.owner_account,
                PrincipalClass::AwsPrincipal(arn) => arn.contains(&owner_arn_prefix),
                _ => false,
            };
            if !keep {
                notes.push(format!(
                    "RestrictPublicBuckets blocks (the policy is public): {}",
                    g.explanation
                ));
            }
            keep
        })
        .collect()
}

fn acl_grants(
    acl: &S3Acl,
    bpa: &BlockPublicAccess,
    ctx: &AnalysisContext,
    notes: &mut Vec<String>,
) -> Vec<Grant> {
    if acl.acls_disabled {
        if !acl.grants.is_empty() {
            notes.push("ACLs are disabled (Object Ownership BucketOwnerEnforced): the bucket ACL grants nothing".into());
        }
        return Vec::new();
    }
    let mut out = Vec::new();
    for (index, grant) in acl.grants.iter().enumerate() {
        let (principal, exposure) = match &grant.grantee {
            AclGrantee::AllUsers => (PrincipalClass::Public, Verdict::Public),
            AclGrantee::AuthenticatedUsers => {
                (PrincipalClass::AnyAwsAccount, Verdict::AnyAuthenticated)
            }
            AclGrantee::LogDelivery => (
                PrincipalClass::Service("logging.s3.amazonaws.com".into()),
                Verdict::Internal,
            ),
            AclGrantee::CanonicalUser(id)
                if acl.owner_canonical_id.as_deref() == Some(id.as_str()) =>
            {
                continue
            }
            AclGrantee::CanonicalUser(id) => (
                PrincipalClass::CanonicalUser(id.clone()),
                Verdict::CrossAccount,
            ),
            AclGrantee::Email(e) => (
                PrincipalClass::CanonicalUser(e.clone()),
                Verdict::CrossAccount,
            ),
            AclGrantee::Group(uri) => (
                PrincipalClass::CanonicalUser(uri.clone()),
                Verdict::CrossAccount,
            ),
        };
        let public = exposure.is_public();
        let actions = grant.permission.actions();
        let bucket = ctx
            .resource_arn
            .clone()
            .unwrap_or_else(|| "the bucket".into());
        let explanation = format!(
            "{}: {} can {} on {} (bucket ACL grant {index}, {:?})",
            exposure.label(),
            principal.describe(),
            actions.join(", "),
            bucket,
            grant.permission
        );
        if public && bpa.ignore_public_acls {
            notes.push(format!(
                "IgnorePublicAcls: S3 ignores this public ACL grant: {explanation}"
            ));
            continue;
        }
        if public && bpa.block_public_acls {
            notes.push("BlockPublicAcls only rejects new public ACLs: the existing public grant is in force (IgnorePublicAcls would ignore it)".into());
        }
        out.push(Grant {
            source: GrantSource::BucketAcl,
            statement: index,
            sid: None,
            principal,
            exposure,
            access: summarize(&actions, false),
            actions,
            not_action: false,
            resources: ctx.resource_arn.iter().cloned().collect(),
            not_resource: false,
            restrictions: Vec::new(),
            non_restricting: Vec::new(),
            explanation,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effective_settings_are_the_most_restrictive_of_account_and_bucket() {
        let account = BlockPublicAccess {
            ignore_public_acls: true,
            ..BlockPublicAccess::default()
        };
        let bucket = BlockPublicAccess {
            restrict_public_buckets: true,
            ..BlockPublicAccess::default()
        };
        let e = BlockPublicAccess::effective(Some(&account), Some(&bucket));
        assert!(e.ignore_public_acls && e.restrict_public_buckets);
        assert!(!e.block_public_acls && !e.block_public_policy);
        assert_eq!(
            BlockPublicAccess::effective(None, None),
            BlockPublicAccess::default()
        );
        assert_eq!(
            BlockPublicAccess::effective(Some(&BlockPublicAccess::all()), None),
            BlockPublicAccess::all()
        );
    }

    #[test]
    fn group_uris() {
        assert_eq!(
            AclGrantee::from_group_uri(ALL_USERS_URI),
            AclGrantee::AllUsers
        );
        assert_eq!(
            AclGrantee::from_group_uri(
                "https://acs.amazonaws.com/groups/global/AuthenticatedUsers"
            ),
            AclGrantee::AuthenticatedUsers
        );
        assert_eq!(
            AclGrantee::from_group_uri(LOG_DELIVERY_URI),
            AclGrantee::LogDelivery
        );
        assert!(matches!(
            AclGrantee::from_group_uri("http://example.com/g"),
            AclGrantee::Group(_)
        ));
        assert_eq!(
            AclPermission::parse("FULL_CONTROL"),
            Some(AclPermission::FullControl)
        );
        assert_eq!(AclPermission::parse("full_control"), None);
    }

    #[test]
    fn bpa_reads_the_s3_api_field_names() {
        let bpa: BlockPublicAccess =
            serde_json::from_str(r#"{"BlockPublicAcls": true, "RestrictPublicBuckets": true}"#)
                .unwrap();
        assert!(bpa.block_public_acls && bpa.restrict_public_buckets && !bpa.ignore_public_acls);
    }
}
