//! Data protection: encryption and public exposure of data stores — controls 52–64.

use serde_json::json;

use super::readiness::trusted_accounts;
use super::statement::statements;
use super::support::{
    account_ref, arn, each_global, each_region, each_regional, join, resource, Out, CRITICAL,
    GLOBAL, HIGH, LOW, MEDIUM,
};
use super::{Control, Ctx};
use crate::policy::{Exposure, PolicyQuery, PolicyResourceKind};
use crate::result::{Area, ControlInfo, ResourceRef};
use crate::snapshot::{
    AccountSnapshot, Bucket, PublicAccessBlock, ALL_USERS_URI, AUTHENTICATED_USERS_URI,
};

pub(super) static CONTROLS: &[Control] = &[
    Control {
        info: ControlInfo {
            id: "VIG-52",
            number: 52,
            title: "S3 Block Public Access is on for the account",
            description: "Account-level Block Public Access overrides any bucket ACL or policy \
                that would make data public, for every current and future bucket: the single \
                most effective guard against accidental S3 exposure.",
            severity: MEDIUM,
            area: Area::DataProtection,
            cis: Some("2.1.4"),
            security_hub: &["S3.1"],
            remediation: "aws s3control put-public-access-block --account-id ACCOUNT \
                --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,\
                BlockPublicPolicy=true,RestrictPublicBuckets=true",
            remediation_action: Some("s3.block_public_access"),
        },
        eval: account_bpa,
    },
    Control {
        info: ControlInfo {
            id: "VIG-53",
            number: 53,
            title: "S3 buckets block public access",
            description: "Each bucket should have all four Block Public Access settings in \
                force, from its own configuration or the account's, so a later policy or ACL \
                change cannot make it public.",
            severity: HIGH,
            area: Area::DataProtection,
            cis: Some("2.1.4"),
            security_hub: &["S3.8"],
            remediation: "aws s3api put-public-access-block --bucket BUCKET \
                --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,\
                BlockPublicPolicy=true,RestrictPublicBuckets=true",
            remediation_action: Some("s3.block_public_access"),
        },
        eval: bucket_bpa,
    },
    Control {
        info: ControlInfo {
            id: "VIG-54",
            number: 54,
            title: "Bucket policies deny requests over plain HTTP",
            description: "Without a Deny on aws:SecureTransport=false, clients can read and write \
                objects over unencrypted HTTP, exposing data and credentials-in-transit on the \
                network path.",
            severity: MEDIUM,
            area: Area::DataProtection,
            cis: Some("2.1.1"),
            security_hub: &["S3.5"],
            remediation: "Add to the bucket policy: {\"Effect\":\"Deny\",\"Principal\":\"*\",\
                \"Action\":\"s3:*\",\"Resource\":[\"arn:aws:s3:::BUCKET\",\
                \"arn:aws:s3:::BUCKET/*\"],\"Condition\":{\"Bool\":{\"aws:SecureTransport\":\
                \"false\"}}} with aws s3api put-bucket-policy --bucket BUCKET --policy \
                file://policy.json",
            remediation_action: None,
        },
        eval: deny_http,
    },
    Control {
        info: ControlInfo {
            id: "VIG-55",
            number: 55,
            title: "MFA Delete is enabled on versioned buckets",
            description: "MFA Delete requires the root user's MFA to permanently delete object \
                versions or suspend versioning, so stolen credentials cannot wipe a bucket's \
                history.",
            severity: LOW,
            area: Area::DataProtection,
            cis: Some("2.1.2"),
            security_hub: &["S3.20"],
            remediation: "As root with MFA: aws s3api put-bucket-versioning --bucket BUCKET \
                --versioning-configuration Status=Enabled,MFADelete=Enabled --mfa \
                'SERIAL TOKEN'",
            remediation_action: None,
        },
        eval: mfa_delete,
    },
    Control {
        info: ControlInfo {
            id: "VIG-56",
            number: 56,
            title: "Buckets are not public and cross-account access is limited to trusted accounts",
            description: "Combines the bucket policy, ACL and effective Block Public Access the \
                way S3 does: public read or write access fails (S3.2, S3.3), and so does access \
                granted to accounts outside the scanned and trusted ones (S3.6).",
            severity: CRITICAL,
            area: Area::DataProtection,
            cis: None,
            security_hub: &["S3.2", "S3.3", "S3.6"],
            remediation: "Remove public statements (aws s3api put-bucket-policy / \
                delete-bucket-policy) and public ACL grants (aws s3api put-bucket-acl --bucket \
                BUCKET --acl private), then turn on Block Public Access.",
            remediation_action: Some("s3.remove_public_policy_statements"),
        },
        eval: bucket_exposure,
    },
    Control {
        info: ControlInfo {
            id: "VIG-57",
            number: 57,
            title: "EBS encryption by default is on in every region",
            description: "With encryption by default, every new volume and snapshot copy is \
                encrypted without relying on each launch template. It is a per-region setting.",
            severity: MEDIUM,
            area: Area::DataProtection,
            cis: Some("2.2.1"),
            security_hub: &["EC2.7"],
            remediation: "aws ec2 enable-ebs-encryption-by-default --region REGION (repeat in \
                every region; optionally aws ec2 modify-ebs-default-kms-key-id --kms-key-id KEY).",
            remediation_action: None,
        },
        eval: ebs_default_encryption,
    },
    Control {
        info: ControlInfo {
            id: "VIG-58",
            number: 58,
            title: "Attached EBS volumes are encrypted",
            description: "Unencrypted volumes leave data readable from snapshots shared by \
                mistake and from the storage layer. Encryption is transparent to the instance.",
            severity: MEDIUM,
            area: Area::DataProtection,
            cis: None,
            security_hub: &["EC2.3"],
            remediation: "Snapshot the volume, aws ec2 copy-snapshot --encrypted --kms-key-id \
                KEY, create a volume from the copy and swap it in.",
            remediation_action: None,
        },
        eval: volumes_encrypted,
    },
    Control {
        info: ControlInfo {
            id: "VIG-59",
            number: 59,
            title: "RDS storage is encrypted",
            description: "RDS encryption at rest protects the database files, automated backups, \
                replicas and snapshots. It can only be set at creation.",
            severity: MEDIUM,
            area: Area::DataProtection,
            cis: Some("2.3.1"),
            security_hub: &["RDS.3"],
            remediation: "aws rds create-db-snapshot, aws rds copy-db-snapshot --kms-key-id KEY, \
                then aws rds restore-db-instance-from-db-snapshot and cut over.",
            remediation_action: None,
        },
        eval: rds_encrypted,
    },
    Control {
        info: ControlInfo {
            id: "VIG-60",
            number: 60,
            title: "EFS file systems are encrypted",
            description: "EFS encryption at rest must be chosen at creation; an unencrypted file \
                system has to be copied to a new one.",
            severity: MEDIUM,
            area: Area::DataProtection,
            cis: Some("2.4.1"),
            security_hub: &["EFS.1"],
            remediation: "aws efs create-file-system --encrypted --kms-key-id KEY, copy the data \
                (AWS DataSync), switch mounts, delete the old file system.",
            remediation_action: None,
        },
        eval: efs_encrypted,
    },
    Control {
        info: ControlInfo {
            id: "VIG-61",
            number: 61,
            title: "Customer managed KMS keys rotate automatically",
            description: "Automatic rotation creates new key material yearly (or on your \
                schedule), limiting how much data one key version protects.",
            severity: MEDIUM,
            area: Area::DataProtection,
            cis: Some("3.6"),
            security_hub: &["KMS.4"],
            remediation: "aws kms enable-key-rotation --key-id KEY (optionally \
                --rotation-period-in-days 90..2560; default 365).",
            remediation_action: None,
        },
        eval: key_rotation,
    },
    Control {
        info: ControlInfo {
            id: "VIG-62",
            number: 62,
            title: "KMS keys are not pending deletion and not public",
            description: "Deleting a key makes everything encrypted under it unrecoverable — a \
                classic destructive attack — and a key policy open to everyone lets anyone use \
                or manage the key.",
            severity: CRITICAL,
            area: Area::DataProtection,
            cis: None,
            security_hub: &["KMS.3", "KMS.5"],
            remediation: "aws kms cancel-key-deletion --key-id KEY && aws kms enable-key \
                --key-id KEY; remove public statements with aws kms put-key-policy --key-id KEY \
                --policy-name default --policy file://policy.json",
            remediation_action: Some("kms.cancel_key_deletion"),
        },
        eval: key_safety,
    },
    Control {
        info: ControlInfo {
            id: "VIG-63",
            number: 63,
            title: "EBS and RDS snapshots are not public",
            description: "A public snapshot lets any AWS account create a volume or database from \
                your data: a full copy of disks and databases, no exploit needed.",
            severity: CRITICAL,
            area: Area::DataProtection,
            cis: None,
            security_hub: &["EC2.1", "RDS.1"],
            remediation: "aws ec2 modify-snapshot-attribute --snapshot-id SNAP --attribute \
                createVolumePermission --operation-type remove --group-names all; aws rds \
                modify-db-snapshot-attribute --db-snapshot-identifier SNAP --attribute-name \
                restore --values-to-remove all",
            remediation_action: Some("ec2.make_snapshot_private"),
        },
        eval: snapshots_private,
    },
    Control {
        info: ControlInfo {
            id: "VIG-64",
            number: 64,
            title: "Secrets Manager secrets rotate automatically",
            description: "Rotation limits the life of a leaked secret and proves the application \
                can survive a credential change — exactly what incident response will need.",
            severity: MEDIUM,
            area: Area::DataProtection,
            cis: None,
            security_hub: &["SecretsManager.1"],
            remediation: "aws secretsmanager rotate-secret --secret-id SECRET \
                --rotation-lambda-arn FN_ARN --rotation-rules AutomaticallyAfterDays=30",
            remediation_action: None,
        },
        eval: secrets_rotate,
    },
];

fn account_bpa(_ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    let here = account_ref(account, GLOBAL);
    match account
        .account_public_access_block
        .get("s3control:GetPublicAccessBlock")
    {
        Err(gap) => out.unknown(here, gap),
        Ok(block) => {
            let off = block
                .map(|b| missing_settings(&b))
                .unwrap_or_else(|| missing_settings(&PublicAccessBlock::default()));
            if off.is_empty() {
                out.pass(
                    here,
                    "All four account-level Block Public Access settings are on.",
                );
            } else {
                out.fail(
                    here,
                    format!(
                        "Account-level Block Public Access is off for {}.",
                        join(&off)
                    ),
                    json!({ "off": off }),
                );
            }
        }
    }
}

fn missing_settings(block: &PublicAccessBlock) -> Vec<String> {
    [
        (block.block_public_acls, "BlockPublicAcls"),
        (block.ignore_public_acls, "IgnorePublicAcls"),
        (block.block_public_policy, "BlockPublicPolicy"),
        (block.restrict_public_buckets, "RestrictPublicBuckets"),
    ]
    .into_iter()
    .filter(|(on, _)| !on)
    .map(|(_, name)| name.to_string())
    .collect()
}

fn bucket_ref(out: &Out, account: &AccountSnapshot, bucket: &Bucket) -> ResourceRef {
    resource(
        "AWS::S3::Bucket",
        format!("arn:{}:s3:::{}", out.partition(), bucket.name),
        account,
        &bucket.region,
    )
}

/// Block Public Access in force for a bucket: account OR bucket settings.
fn effective_bpa(account: &AccountSnapshot, bucket: &Bucket) -> Result<PublicAccessBlock, String> {
    let account_level = account
        .account_public_access_block
        .get("s3control:GetPublicAccessBlock")
        .map_err(|gap| gap.0)?
        .unwrap_or_default();
    let bucket_level = bucket
        .public_access_block
        .get("s3:GetPublicAccessBlock")
        .map_err(|gap| gap.0)?
        .unwrap_or_default();
    Ok(account_level.or(&bucket_level))
}

fn bucket_bpa(_ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    each_global(
        out,
        account,
        "s3:ListBuckets",
        "S3 buckets",
        &account.buckets,
        |out, bucket| {
            let here = bucket_ref(out, account, bucket);
            match effective_bpa(account, bucket) {
                Err(gap) => out.unknown(here, gap),
                Ok(block) => {
                    let off = missing_settings(&block);
                    if off.is_empty() {
                        out.pass(
                            here,
                            format!(
                                "{} has all Block Public Access settings in force.",
                                bucket.name
                            ),
                        );
                    } else {
                        out.fail(
                            here,
                            format!(
                                "{} lacks {} (bucket or account level).",
                                bucket.name,
                                join(&off)
                            ),
                            json!({ "off": off }),
                        );
                    }
                }
            }
        },
    );
}

/// A statement denying everyone everything (or all S3 actions) when SecureTransport is false.
fn denies_http(policy: &str) -> Result<bool, String> {
    Ok(statements(policy)?.iter().any(|s| {
        !s.allow
            && s.principal_is_everyone()
            && (s.covers_action("s3:GetObject") && s.covers_action("s3:PutObject"))
            && s.condition_values("Bool", "aws:SecureTransport")
                .iter()
                .any(|v| v.eq_ignore_ascii_case("false"))
    }))
}

fn deny_http(_ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    each_global(
        out,
        account,
        "s3:ListBuckets",
        "S3 buckets",
        &account.buckets,
        |out, bucket| {
            let here = bucket_ref(out, account, bucket);
            match bucket.policy.get("s3:GetBucketPolicy") {
                Err(gap) => out.unknown(here, gap),
                Ok(None) => out.fail(
                    here,
                    format!(
                        "{} has no bucket policy, so HTTP requests are allowed.",
                        bucket.name
                    ),
                    json!({}),
                ),
                Ok(Some(policy)) => match denies_http(policy) {
                    Err(why) => out.unknown(here, format!("{}: {why}", bucket.name)),
                    Ok(denied) => out.judge(
                        here,
                        denied,
                        format!("{} denies requests without TLS.", bucket.name),
                        format!(
                            "{}'s policy does not deny aws:SecureTransport=false.",
                            bucket.name
                        ),
                    ),
                },
            }
        },
    );
}

fn mfa_delete(_ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    each_global(
        out,
        account,
        "s3:ListBuckets",
        "S3 buckets",
        &account.buckets,
        |out, bucket| {
            let here = bucket_ref(out, account, bucket);
            match bucket.versioning.get("s3:GetBucketVersioning") {
                Err(gap) => out.unknown(here, gap),
                Ok(versioning) => out.judge(
                    here,
                    versioning.mfa_delete.as_deref() == Some("Enabled"),
                    format!("{} has MFA Delete enabled.", bucket.name),
                    format!("{} does not have MFA Delete enabled.", bucket.name),
                ),
            }
        },
    );
}

fn public_acl_grants(bucket: &Bucket) -> Vec<String> {
    bucket
        .acl
        .ok()
        .map(|acl| {
            acl.grants
                .iter()
                .filter(|g| {
                    matches!(
                        g.grantee_uri.as_deref(),
                        Some(ALL_USERS_URI | AUTHENTICATED_USERS_URI)
                    )
                })
                .map(|g| {
                    format!(
                        "{} to {}",
                        g.permission,
                        g.grantee_uri
                            .as_deref()
                            .unwrap_or_default()
                            .rsplit('/')
                            .next()
                            .unwrap_or_default()
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn bucket_exposure(ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    let trusted = trusted_accounts(ctx);
    each_global(
        out,
        account,
        "s3:ListBuckets",
        "S3 buckets",
        &account.buckets,
        |out, bucket| {
            let here = bucket_ref(out, account, bucket);
            let inputs = (|| {
                let acl = bucket.acl.get("s3:GetBucketAcl").map_err(|g| g.0)?;
                let policy = bucket.policy.get("s3:GetBucketPolicy").map_err(|g| g.0)?;
                Ok::<_, String>((acl, policy, effective_bpa(account, bucket)?))
            })();
            let verdict = inputs.and_then(|(acl, policy, block)| {
                let arn = format!("arn:{}:s3:::{}", out.partition(), bucket.name);
                let query = PolicyQuery {
                    kind: PolicyResourceKind::S3Bucket,
                    resource_arn: &arn,
                    owner_account: &account.account_id,
                    trusted_accounts: &trusted,
                };
                ctx.opts
                    .policy
                    .s3_bucket(policy.as_deref(), acl, &block, &query)
            });
            match verdict {
                Ok(verdict) if verdict.exposure == Exposure::Public => {
                    let why: Vec<String> = verdict
                        .grants
                        .iter()
                        .map(|g| g.explanation.clone())
                        .chain(public_acl_grants(bucket))
                        .collect();
                    out.fail(
                        here,
                        format!("{} is public: {}.", bucket.name, join(&why)),
                        json!({ "grants": verdict.grants }),
                    );
                }
                Ok(verdict) if !verdict.external_accounts.is_empty() => {
                    let reason = format!(
                        "{} grants access outside the trusted accounts: {}.",
                        bucket.name,
                        join(&verdict.external_accounts)
                    );
                    out.fail(
                        here,
                        reason,
                        json!({ "external_accounts": verdict.external_accounts }),
                    );
                }
                Ok(_) => out.pass(
                    here,
                    format!(
                        "{} is reachable only by the owner and trusted accounts.",
                        bucket.name
                    ),
                ),
                // Without an analysis, S3's own verdict can still prove a failure, never a pass.
                Err(why) => match bucket.policy_status_is_public.ok() {
                    Some(Some(true)) => out.fail(
                        here,
                        format!("S3 reports {}'s policy as public.", bucket.name),
                        json!({ "analysis": why }),
                    ),
                    _ => out.unknown(here, why),
                },
            }
        },
    );
}

fn ebs_default_encryption(_ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    each_region(
        out,
        account,
        "ec2:GetEbsEncryptionByDefault",
        |r| &r.compute.ebs_encryption_by_default,
        |out, region, on| {
            out.judge(
                account_ref(account, &region.region),
                *on,
                format!("EBS encryption by default is on in {}.", region.region),
                format!("EBS encryption by default is off in {}.", region.region),
            );
        },
    );
}

fn volumes_encrypted(_ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    each_regional(
        out,
        account,
        "ec2:DescribeVolumes",
        "attached EBS volumes",
        |r| &r.compute.volumes,
        |out, region, volume| {
            if volume.attached_instance_ids.is_empty() {
                return;
            }
            let id = arn(
                out,
                "ec2",
                &region.region,
                &account.account_id,
                &format!("volume/{}", volume.volume_id),
            );
            out.judge(
                resource("AWS::EC2::Volume", id, account, &region.region),
                volume.encrypted,
                format!("{} is encrypted.", volume.volume_id),
                format!(
                    "{} (attached to {}) is not encrypted.",
                    volume.volume_id,
                    volume.attached_instance_ids.join(", ")
                ),
            );
        },
    );
}

fn rds_encrypted(_ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    each_regional(
        out,
        account,
        "rds:DescribeDBInstances",
        "RDS DB instances",
        |r| &r.services.db_instances,
        |out, region, db| {
            out.judge(
                resource(
                    "AWS::RDS::DBInstance",
                    db.db_instance_arn.clone(),
                    account,
                    &region.region,
                ),
                db.storage_encrypted,
                format!("{} storage is encrypted.", db.db_instance_identifier),
                format!("{} storage is not encrypted.", db.db_instance_identifier),
            );
        },
    );
}

fn efs_encrypted(_ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    each_regional(
        out,
        account,
        "elasticfilesystem:DescribeFileSystems",
        "EFS file systems",
        |r| &r.services.efs_file_systems,
        |out, region, fs| {
            out.judge(
                resource(
                    "AWS::EFS::FileSystem",
                    fs.file_system_arn.clone(),
                    account,
                    &region.region,
                ),
                fs.encrypted,
                format!("{} is encrypted.", fs.file_system_id),
                format!("{} is not encrypted.", fs.file_system_id),
            );
        },
    );
}

fn key_rotation(_ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    each_regional(
        out,
        account,
        "kms:ListKeys",
        "rotatable customer managed KMS keys",
        |r| &r.services.kms_keys,
        |out, region, key| {
            let rotatable = key.key_manager == "CUSTOMER"
                && key.key_spec == "SYMMETRIC_DEFAULT"
                && key.origin == "AWS_KMS"
                && !matches!(
                    key.key_state.as_str(),
                    "PendingDeletion" | "PendingReplicaDeletion"
                );
            if !rotatable {
                return;
            }
            let here = resource("AWS::KMS::Key", key.arn.clone(), account, &region.region);
            match key.rotation_enabled.get("kms:GetKeyRotationStatus") {
                Err(gap) => out.unknown(here, gap),
                Ok(on) => out.judge(
                    here,
                    *on,
                    format!("Key {} rotates automatically.", key.key_id),
                    format!("Key {} has automatic rotation off.", key.key_id),
                ),
            }
        },
    );
}

fn key_safety(ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    let trusted = trusted_accounts(ctx);
    each_regional(
        out,
        account,
        "kms:ListKeys",
        "customer managed KMS keys",
        |r| &r.services.kms_keys,
        |out, region, key| {
            if key.key_manager != "CUSTOMER" {
                return;
            }
            let here = resource("AWS::KMS::Key", key.arn.clone(), account, &region.region);
            if key.key_state == "PendingDeletion" {
                let when = key
                    .deletion_date
                    .map(|d| format!(" on {}", d.date_naive()))
                    .unwrap_or_default();
                return out.fail(
                    here,
                    format!("Key {} is scheduled for deletion{when}.", key.key_id),
                    json!({ "deletion_date": key.deletion_date }),
                );
            }
            let policy = match key.policy.get("kms:GetKeyPolicy") {
                Err(gap) => return out.unknown(here, gap),
                Ok(policy) => policy,
            };
            let query = PolicyQuery {
                kind: PolicyResourceKind::KmsKey,
                resource_arn: &key.arn,
                owner_account: &account.account_id,
                trusted_accounts: &trusted,
            };
            match ctx.opts.policy.resource_policy(policy, &query) {
                Err(why) => out.unknown(here, why),
                Ok(verdict) if verdict.exposure == Exposure::Public => {
                    let why: Vec<String> = verdict
                        .grants
                        .iter()
                        .map(|g| g.explanation.clone())
                        .collect();
                    out.fail(
                        here,
                        format!("Key {}'s policy is public: {}.", key.key_id, join(&why)),
                        json!({ "grants": verdict.grants }),
                    );
                }
                Ok(_) => out.pass(
                    here,
                    format!(
                        "Key {} is {} and its policy is not public.",
                        key.key_id, key.key_state
                    ),
                ),
            }
        },
    );
}

fn snapshots_private(_ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    let before = out.len();
    for region in &account.regions {
        let name = &region.region;
        match region.compute.snapshots.get("ec2:DescribeSnapshots") {
            Err(gap) => out.unknown(account_ref(account, name), gap),
            Ok(snapshots) => {
                for snap in snapshots {
                    let id = arn(
                        out,
                        "ec2",
                        name,
                        "",
                        &format!("snapshot/{}", snap.snapshot_id),
                    );
                    let here = resource("AWS::EC2::Snapshot", id, account, name);
                    match snap
                        .create_volume_permissions
                        .get("ec2:DescribeSnapshotAttribute")
                    {
                        Err(gap) => out.unknown(here, gap),
                        Ok(perms) => {
                            let public = perms.iter().any(|p| p.group.as_deref() == Some("all"));
                            let shared: Vec<&str> =
                                perms.iter().filter_map(|p| p.user_id.as_deref()).collect();
                            out.judge(
                                here,
                                !public,
                                format!(
                                    "{} is not public (shared with {} account(s)).",
                                    snap.snapshot_id,
                                    shared.len()
                                ),
                                format!(
                                    "{} is public: any AWS account can create a volume from it.",
                                    snap.snapshot_id
                                ),
                            );
                        }
                    }
                }
            }
        }
        let rds = [
            (&region.services.db_snapshots, "AWS::RDS::DBSnapshot"),
            (
                &region.services.db_cluster_snapshots,
                "AWS::RDS::DBClusterSnapshot",
            ),
        ];
        for (list, kind) in rds {
            match list.get("rds:DescribeDBSnapshots") {
                Err(gap) => out.unknown(account_ref(account, name), gap),
                Ok(snapshots) => {
                    for snap in snapshots {
                        let here = resource(kind, snap.snapshot_arn.clone(), account, name);
                        match snap
                            .restore_attribute
                            .get("rds:DescribeDBSnapshotAttributes")
                        {
                            Err(gap) => out.unknown(here, gap),
                            Ok(values) => out.judge(
                                here,
                                !values.iter().any(|v| v == "all"),
                                format!("{} is not public.", snap.snapshot_identifier),
                                format!(
                                    "{} is public: any AWS account can restore it.",
                                    snap.snapshot_identifier
                                ),
                            ),
                        }
                    }
                }
            }
        }
    }
    if out.len() == before {
        out.not_applicable(
            account_ref(account, GLOBAL),
            "No EBS or RDS snapshots owned by the account.",
        );
    }
}

fn secrets_rotate(_ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    each_regional(
        out,
        account,
        "secretsmanager:ListSecrets",
        "Secrets Manager secrets",
        |r| &r.services.secrets,
        |out, region, secret| {
            out.judge(
                resource(
                    "AWS::SecretsManager::Secret",
                    secret.arn.clone(),
                    account,
                    &region.region,
                ),
                secret.rotation_enabled,
                format!("Secret {} rotates automatically.", secret.name),
                format!("Secret {} has no automatic rotation.", secret.name),
            );
        },
    );
}
