//! S3 buckets: listed once per account, each bucket's settings read in its own region.

use aws_config::{Region, SdkConfig};
use aws_sdk_s3::types as s3;
use aws_sdk_s3::Client;
use futures_util::future::join_all;
use vigil_posture::snapshot::{
    AclGrant, Bucket, BucketAcl, BucketLogging, BucketVersioning, EncryptionRule,
    ObjectLockConfiguration, PublicAccessBlock,
};
use vigil_posture::Collected;

use crate::call::{collected, optional, Group};
use crate::convert::{opt, opt_time, text};
use crate::run::Env;

/// The S3 client for a configuration: path-style addressing against an emulator, where
/// bucket names do not resolve as host names.
pub(crate) fn client(cfg: &SdkConfig, emulator: bool) -> Client {
    let conf = aws_sdk_s3::config::Builder::from(cfg)
        .force_path_style(emulator)
        .build();
    Client::from_conf(conf)
}

/// Every bucket of the account with its settings.
pub(crate) async fn collect(env: &Env, cfg: &SdkConfig, region: &str) -> Collected<Vec<Bucket>> {
    let Some(g) = env.group("s3", region) else {
        return Collected::NotCollected;
    };
    let home = client(cfg, env.emulator);
    let pages = home.list_buckets().into_paginator().send();
    let listed = match g
        .pages("ListBuckets", pages, |p| p.buckets.unwrap_or_default())
        .await
    {
        Ok(listed) => listed,
        Err(err) => return err.collected(),
    };
    let buckets = listed.iter().map(|b| {
        let (g, home) = (&g, &home);
        async move {
            let name = text(b.name());
            let location = g
                .call(
                    "GetBucketLocation",
                    home.get_bucket_location().bucket(&name).send(),
                )
                .await
                .map(|out| bucket_region(out.location_constraint().map(|c| c.as_str())));
            let mut bucket = Bucket {
                name,
                creation_date: opt_time(b.creation_date()),
                ..Bucket::default()
            };
            match location {
                Ok(region) => {
                    let cfg = cfg
                        .clone()
                        .into_builder()
                        .region(Region::new(region.clone()))
                        .build();
                    bucket.region = region;
                    settings(g, &client(&cfg, env.emulator), &mut bucket).await;
                }
                // Without the region the per-bucket calls cannot be addressed: each setting
                // carries the location error.
                Err(err) => {
                    bucket.acl = err.collected();
                    bucket.policy = err.collected();
                    bucket.policy_status_is_public = err.collected();
                    bucket.public_access_block = err.collected();
                    bucket.versioning = err.collected();
                    bucket.logging = err.collected();
                    bucket.encryption = err.collected();
                    bucket.object_lock = err.collected();
                }
            }
            bucket
        }
    });
    Collected::Ok(join_all(buckets).await)
}

/// The region of a GetBucketLocation answer: the null constraint is us-east-1 and the
/// legacy `EU` is eu-west-1.
pub(crate) fn bucket_region(constraint: Option<&str>) -> String {
    match constraint {
        None | Some("") => "us-east-1".to_string(),
        Some("EU") => "eu-west-1".to_string(),
        Some(region) => region.to_string(),
    }
}

async fn settings(g: &Group, c: &Client, bucket: &mut Bucket) {
    let name = bucket.name.as_str();
    let (acl, policy, status, block, versioning, logging, encryption, lock) = tokio::join!(
        g.call("GetBucketAcl", c.get_bucket_acl().bucket(name).send()),
        g.call("GetBucketPolicy", c.get_bucket_policy().bucket(name).send()),
        g.call(
            "GetBucketPolicyStatus",
            c.get_bucket_policy_status().bucket(name).send()
        ),
        g.call(
            "GetPublicAccessBlock",
            c.get_public_access_block().bucket(name).send()
        ),
        g.call(
            "GetBucketVersioning",
            c.get_bucket_versioning().bucket(name).send()
        ),
        g.call(
            "GetBucketLogging",
            c.get_bucket_logging().bucket(name).send()
        ),
        g.call(
            "GetBucketEncryption",
            c.get_bucket_encryption().bucket(name).send()
        ),
        g.call(
            "GetObjectLockConfiguration",
            c.get_object_lock_configuration().bucket(name).send()
        ),
    );
    bucket.acl = collected(acl.map(|out| {
        BucketAcl {
            owner_id: out
                .owner()
                .and_then(|o| o.id())
                .unwrap_or_default()
                .to_string(),
            grants: out.grants().iter().map(grant).collect(),
        }
    }));
    bucket.policy = flatten(optional(
        policy.map(|out| opt(out.policy())),
        &["NoSuchBucketPolicy"],
    ));
    bucket.policy_status_is_public = flatten(optional(
        status.map(|out| out.policy_status().and_then(|s| s.is_public())),
        &["NoSuchBucketPolicy"],
    ));
    bucket.public_access_block = flatten(optional(
        block.map(|out| {
            out.public_access_block_configuration()
                .map(public_access_block)
        }),
        &["NoSuchPublicAccessBlockConfiguration"],
    ));
    bucket.versioning = collected(versioning.map(|out| BucketVersioning {
        status: out.status().map(|s| s.as_str().to_string()),
        mfa_delete: out.mfa_delete().map(|s| s.as_str().to_string()),
    }));
    bucket.logging = collected(logging.map(|out| {
        out.logging_enabled().map(|l| BucketLogging {
            target_bucket: l.target_bucket().to_string(),
            target_prefix: l.target_prefix().to_string(),
        })
    }));
    bucket.encryption = flatten(optional(
        encryption.map(|out| {
            out.server_side_encryption_configuration()
                .map(|c| c.rules().iter().map(encryption_rule).collect())
        }),
        &["ServerSideEncryptionConfigurationNotFoundError"],
    ));
    bucket.object_lock = flatten(optional(
        lock.map(|out| out.object_lock_configuration().map(object_lock)),
        &["ObjectLockConfigurationNotFoundError"],
    ));
}

/// `Ok(Some(None))` (the call answered without the element) reads as not configured.
fn flatten<T>(value: Collected<Option<Option<T>>>) -> Collected<Option<T>> {
    match value {
        Collected::Ok(inner) => Collected::Ok(inner.flatten()),
        Collected::Error {
            call,
            code,
            message,
        } => Collected::Error {
            call,
            code,
            message,
        },
        Collected::NotCollected => Collected::NotCollected,
    }
}

fn public_access_block(c: &s3::PublicAccessBlockConfiguration) -> PublicAccessBlock {
    PublicAccessBlock {
        block_public_acls: c.block_public_acls().unwrap_or(false),
        ignore_public_acls: c.ignore_public_acls().unwrap_or(false),
        block_public_policy: c.block_public_policy().unwrap_or(false),
        restrict_public_buckets: c.restrict_public_buckets().unwrap_or(false),
    }
}

fn grant(g: &s3::Grant) -> AclGrant {
    let grantee = g.grantee();
    AclGrant {
        grantee_type: grantee
            .map(|g| g.r#type().as_str().to_string())
            .unwrap_or_default(),
        grantee_id: grantee.and_then(|g| opt(g.id())),
        grantee_uri: grantee.and_then(|g| opt(g.uri())),
        permission: g
            .permission()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default(),
    }
}

fn encryption_rule(r: &s3::ServerSideEncryptionRule) -> EncryptionRule {
    let default = r.apply_server_side_encryption_by_default();
    EncryptionRule {
        sse_algorithm: default
            .map(|d| d.sse_algorithm().as_str().to_string())
            .unwrap_or_default(),
        kms_master_key_id: default.and_then(|d| opt(d.kms_master_key_id())),
        bucket_key_enabled: r.bucket_key_enabled().unwrap_or(false),
    }
}

fn object_lock(c: &s3::ObjectLockConfiguration) -> ObjectLockConfiguration {
    let retention = c.rule().and_then(|r| r.default_retention());
    let number = |n: Option<i32>| n.and_then(|n| u32::try_from(n).ok());
    ObjectLockConfiguration {
        object_lock_enabled: c.object_lock_enabled().map(|e| e.as_str().to_string()),
        default_retention_mode: retention
            .and_then(|r| r.mode())
            .map(|m| m.as_str().to_string()),
        default_retention_days: number(retention.and_then(|r| r.days())),
        default_retention_years: number(retention.and_then(|r| r.years())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_locations_map_to_regions() {
        assert_eq!(bucket_region(None), "us-east-1");
        assert_eq!(bucket_region(Some("")), "us-east-1");
        assert_eq!(bucket_region(Some("EU")), "eu-west-1");
        assert_eq!(bucket_region(Some("ap-south-1")), "ap-south-1");
    }

    #[test]
    fn an_answer_without_the_element_is_not_configured() {
        let answered: Collected<Option<Option<u8>>> = Collected::Ok(Some(None));
        assert_eq!(flatten(answered), Collected::Ok(None));
        let err: Collected<Option<Option<u8>>> = Collected::error("s3:X", "AccessDenied", "no");
        assert!(flatten(err).is_error());
    }
}
