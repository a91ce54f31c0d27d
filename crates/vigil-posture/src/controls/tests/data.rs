use crate::controls::fixture::*;
use crate::controls::fixture_regional::OWNER_ONLY_KEY_POLICY;
use crate::result::Status::{Fail, NotApplicable, Pass, Unknown};
use crate::snapshot::*;

fn buckets(s: &mut Snapshot) -> &mut Vec<Bucket> {
    match &mut account(s).buckets {
        Collected::Ok(buckets) => buckets,
        _ => panic!("fixture has buckets"),
    }
}

#[test]
fn vig52_account_block_public_access() {
    let mut s = good();
    expect(&s, "VIG-52", Pass);
    account(&mut s).account_public_access_block = Collected::Ok(Some(PublicAccessBlock {
        restrict_public_buckets: false,
        ..all_blocked()
    }));
    let fail = expect(&s, "VIG-52", Fail);
    assert!(fail[0].reason.contains("RestrictPublicBuckets"));
    account(&mut s).account_public_access_block = Collected::Ok(None);
    expect(&s, "VIG-52", Fail);
    account(&mut s).account_public_access_block = denied("s3control:GetPublicAccessBlock");
    expect(&s, "VIG-52", Unknown);
}

#[test]
fn vig53_bucket_block_public_access_account_or_bucket() {
    let mut s = good();
    expect(&s, "VIG-53", Pass);
    buckets(&mut s)[0].public_access_block = Collected::Ok(None);
    // The account-level settings still apply.
    expect(&s, "VIG-53", Pass);
    account(&mut s).account_public_access_block = Collected::Ok(None);
    let fail = expect_some(&s, "VIG-53", Fail);
    assert!(fail[0].resource.id.ends_with(TRAIL_BUCKET));
    buckets(&mut s)[0].public_access_block = denied("s3:GetPublicAccessBlock");
    expect_some(&s, "VIG-53", Unknown);
}

#[test]
fn vig54_bucket_policy_denies_http() {
    let mut s = good();
    expect(&s, "VIG-54", Pass);
    buckets(&mut s)[0].policy = Collected::Ok(None);
    let fail = expect_some(&s, "VIG-54", Fail);
    assert!(fail[0].reason.contains("no bucket policy"));
    // A Deny on only s3:GetObject leaves writes over HTTP allowed.
    buckets(&mut s)[0].policy = Collected::Ok(Some(
        TLS_ONLY_POLICY.replace(r#""Action": "s3:*""#, r#""Action": "s3:GetObject""#),
    ));
    expect_some(&s, "VIG-54", Fail);
    buckets(&mut s)[0].policy = denied("s3:GetBucketPolicy");
    expect_some(&s, "VIG-54", Unknown);
}

#[test]
fn vig55_mfa_delete() {
    let mut s = good();
    expect(&s, "VIG-55", Pass);
    buckets(&mut s)[1].versioning = Collected::Ok(BucketVersioning {
        status: Some("Enabled".into()),
        mfa_delete: Some("Disabled".into()),
    });
    expect_some(&s, "VIG-55", Fail);
    buckets(&mut s)[1].versioning = denied("s3:GetBucketVersioning");
    expect_some(&s, "VIG-55", Unknown);
}

#[test]
fn vig56_bucket_public_or_cross_account() {
    let mut s = good();
    expect(&s, "VIG-56", Pass);
    // A public ACL grant with IgnorePublicAcls off at both levels.
    account(&mut s).account_public_access_block = Collected::Ok(None);
    buckets(&mut s)[0].public_access_block = Collected::Ok(None);
    if let Collected::Ok(acl) = &mut buckets(&mut s)[0].acl {
        acl.grants.push(AclGrant {
            grantee_type: "Group".into(),
            grantee_uri: Some(ALL_USERS_URI.into()),
            permission: "READ".into(),
            ..Default::default()
        });
    }
    let fail = expect_some(&s, "VIG-56", Fail);
    assert!(
        fail[0].reason.contains("READ to AllUsers"),
        "{}",
        fail[0].reason
    );
    // Cross-account access to an account outside the scan and trust list.
    let mut s = good();
    buckets(&mut s)[1].policy = Collected::Ok(Some(format!(
        r#"{{"Statement": [{{"Effect": "Allow", "Principal": {{"AWS": "arn:aws:iam::{OTHER}:root"}}, "Action": "s3:GetObject", "Resource": "*"}}]}}"#
    )));
    let fail = expect_some(&s, "VIG-56", Fail);
    assert!(fail[0].reason.contains(OTHER));
    let mut opts = options("VIG-56");
    opts.readiness.trusted_accounts = vec![OTHER.into()];
    assert!(crate::evaluate(&s, &opts).iter().all(|r| r.status == Pass));
    buckets(&mut s)[1].acl = denied("s3:GetBucketAcl");
    expect_some(&s, "VIG-56", Unknown);
}

#[test]
fn vig56_without_analysis_s3s_own_public_verdict_still_fails() {
    let mut s = good();
    buckets(&mut s)[0].policy_status_is_public = Collected::Ok(Some(true));
    let mut opts = options("VIG-56");
    opts.policy = std::sync::Arc::new(crate::UnwiredPolicyAnalyzer);
    let results = crate::evaluate(&s, &opts);
    assert_eq!(results[0].status, Fail);
    assert_eq!(results[1].status, Unknown);
}

#[test]
fn vig57_ebs_default_encryption() {
    let mut s = good();
    expect(&s, "VIG-57", Pass);
    region(&mut s).compute.ebs_encryption_by_default = Collected::Ok(false);
    expect(&s, "VIG-57", Fail);
    region(&mut s).compute.ebs_encryption_by_default = denied("ec2:GetEbsEncryptionByDefault");
    expect(&s, "VIG-57", Unknown);
}

#[test]
fn vig58_attached_volumes_encrypted() {
    let mut s = good();
    expect(&s, "VIG-58", Pass);
    if let Collected::Ok(volumes) = &mut region(&mut s).compute.volumes {
        volumes[0].encrypted = false;
        volumes.push(Volume {
            volume_id: "vol-spare".into(),
            state: "available".into(),
            ..Default::default()
        });
    }
    let results = expect(&s, "VIG-58", Fail);
    assert_eq!(results.len(), 1, "detached volumes are out of scope");
    region(&mut s).compute.volumes = denied("ec2:DescribeVolumes");
    expect(&s, "VIG-58", Unknown);
}

#[test]
fn vig59_rds_encrypted() {
    let mut s = good();
    expect(&s, "VIG-59", Pass);
    if let Collected::Ok(dbs) = &mut region(&mut s).services.db_instances {
        dbs[0].storage_encrypted = false;
    }
    expect(&s, "VIG-59", Fail);
    region(&mut s).services.db_instances = denied("rds:DescribeDBInstances");
    expect(&s, "VIG-59", Unknown);
}

#[test]
fn vig60_efs_encrypted() {
    let mut s = good();
    expect(&s, "VIG-60", Pass);
    if let Collected::Ok(list) = &mut region(&mut s).services.efs_file_systems {
        list[0].encrypted = false;
    }
    expect(&s, "VIG-60", Fail);
    region(&mut s).services.efs_file_systems = denied("elasticfilesystem:DescribeFileSystems");
    expect(&s, "VIG-60", Unknown);
}

fn keys(s: &mut Snapshot) -> &mut Vec<KmsKey> {
    match &mut region(s).services.kms_keys {
        Collected::Ok(keys) => keys,
        _ => panic!("fixture has keys"),
    }
}

#[test]
fn vig61_key_rotation() {
    let mut s = good();
    expect(&s, "VIG-61", Pass);
    keys(&mut s)[0].rotation_enabled = Collected::Ok(false);
    expect(&s, "VIG-61", Fail);
    keys(&mut s)[0].rotation_enabled = denied("kms:GetKeyRotationStatus");
    expect(&s, "VIG-61", Unknown);
    // Asymmetric keys cannot rotate: out of scope.
    keys(&mut s)[0].key_spec = "RSA_2048".into();
    expect(&s, "VIG-61", NotApplicable);
}

#[test]
fn vig62_keys_not_pending_deletion_or_public() {
    let mut s = good();
    expect(&s, "VIG-62", Pass);
    keys(&mut s)[0].key_state = "PendingDeletion".into();
    keys(&mut s)[0].deletion_date = Some(days_ago(-7));
    let fail = expect(&s, "VIG-62", Fail);
    assert!(fail[0]
        .reason
        .contains("scheduled for deletion on 2024-06-08"));
    let mut s = good();
    keys(&mut s)[0].policy = Collected::Ok(
        OWNER_ONLY_KEY_POLICY.replace(r#"{"AWS": "arn:aws:iam::111122223333:root"}"#, r#""*""#),
    );
    expect(&s, "VIG-62", Fail);
    keys(&mut s)[0].policy = denied("kms:GetKeyPolicy");
    expect(&s, "VIG-62", Unknown);
}

#[test]
fn vig63_snapshots_not_public() {
    let mut s = good();
    expect(&s, "VIG-63", Pass);
    if let Collected::Ok(snaps) = &mut region(&mut s).compute.snapshots {
        snaps[0].create_volume_permissions = Collected::Ok(vec![CreateVolumePermission {
            group: Some("all".into()),
            user_id: None,
        }]);
    }
    let fail = expect_some(&s, "VIG-63", Fail);
    assert_eq!(
        fail[0].resource.id,
        "arn:aws:ec2:us-east-1::snapshot/snap-1"
    );
    let mut s = good();
    if let Collected::Ok(snaps) = &mut region(&mut s).services.db_snapshots {
        snaps[0].restore_attribute = Collected::Ok(vec!["all".into()]);
    }
    expect_some(&s, "VIG-63", Fail);
    region(&mut s).compute.snapshots = denied("ec2:DescribeSnapshots");
    expect_some(&s, "VIG-63", Unknown);
}

#[test]
fn vig64_secret_rotation() {
    let mut s = good();
    expect(&s, "VIG-64", Pass);
    if let Collected::Ok(secrets) = &mut region(&mut s).services.secrets {
        secrets[0].rotation_enabled = false;
    }
    expect(&s, "VIG-64", Fail);
    region(&mut s).services.secrets = denied("secretsmanager:ListSecrets");
    expect(&s, "VIG-64", Unknown);
}
