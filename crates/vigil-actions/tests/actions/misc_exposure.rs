//! Data-exposure and network actions against moto: S3 public access, public snapshots and
//! images, security-group rules, network ACLs and WAF IP sets. Each test proves dry-run
//! changes nothing, executes and reads the state back, runs again for `AlreadyDone`, and
//! checks the `vigil:protected=true` refusal.

use crate::common::{params, planned_ops, run, TestEnv};
use serde_json::{json, Value};
use vigil_respond::action::{ActionError, Outcome};
use vigil_testkit::MotoOptions;

fn protected_tag() -> (String, String) {
    ("vigil:protected".into(), "true".into())
}

// ---------------------------------------------------------------------------------------
// S3
// ---------------------------------------------------------------------------------------

async fn s3(t: &TestEnv) -> aws_sdk_s3::Client {
    let cfg = t.config().await;
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&cfg)
            .force_path_style(true)
            .build(),
    )
}

async fn new_bucket(s3: &aws_sdk_s3::Client, name: &str, protected: bool) {
    s3.create_bucket()
        .bucket(name)
        .send()
        .await
        .expect("create bucket");
    if protected {
        let (k, v) = protected_tag();
        s3.put_bucket_tagging()
            .bucket(name)
            .tagging(
                aws_sdk_s3::types::Tagging::builder()
                    .tag_set(
                        aws_sdk_s3::types::Tag::builder()
                            .key(k)
                            .value(v)
                            .build()
                            .unwrap(),
                    )
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
    }
}

async fn public_access_block(s3: &aws_sdk_s3::Client, bucket: &str) -> Option<[bool; 4]> {
    let out = s3
        .get_public_access_block()
        .bucket(bucket)
        .send()
        .await
        .ok()?;
    let c = out.public_access_block_configuration()?;
    Some([
        c.block_public_acls()?,
        c.ignore_public_acls()?,
        c.block_public_policy()?,
        c.restrict_public_buckets()?,
    ])
}

#[tokio::test]
async fn block_public_access_sets_all_four_settings() {
    let t = TestEnv::start().await;
    let s3 = s3(&t).await;
    new_bucket(&s3, "open-data", false).await;
    new_bucket(&s3, "vault", true).await;
    let p = params(json!({"bucket": "open-data"}));

    let dry = run(&t, "s3.block_public_access", false, &p).await.unwrap();
    assert_eq!(dry.outcome, Outcome::Planned);
    assert_eq!(planned_ops(&dry), ["PutPublicAccessBlock"]);
    assert_eq!(dry.before["public_access_block"], Value::Null);
    assert_eq!(
        public_access_block(&s3, "open-data").await,
        None,
        "dry-run wrote nothing"
    );

    let done = run(&t, "s3.block_public_access", true, &p).await.unwrap();
    assert_eq!(done.outcome, Outcome::Changed);
    assert_eq!(public_access_block(&s3, "open-data").await, Some([true; 4]));
    assert_eq!(
        done.after["public_access_block"]["RestrictPublicBuckets"],
        true
    );

    let again = run(&t, "s3.block_public_access", true, &p).await.unwrap();
    assert_eq!(again.outcome, Outcome::AlreadyDone);

    let err = run(
        &t,
        "s3.block_public_access",
        true,
        &params(json!({"bucket": "vault"})),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ActionError::Protected(_)), "{err}");
    assert_eq!(public_access_block(&s3, "vault").await, None);

    let missing = run(
        &t,
        "s3.block_public_access",
        true,
        &params(json!({"bucket": "no-such-bucket"})),
    )
    .await
    .unwrap_err();
    assert!(matches!(missing, ActionError::NotFound(_)), "{missing}");
}

const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
const AUTH_USERS: &str = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
const PARTNER: &str = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be";

async fn grants(s3: &aws_sdk_s3::Client, bucket: &str) -> Vec<(String, String)> {
    let acl = s3.get_bucket_acl().bucket(bucket).send().await.unwrap();
    let mut out: Vec<(String, String)> = acl
        .grants()
        .iter()
        .map(|g| {
            let grantee = g.grantee().unwrap();
            let who = grantee
                .uri()
                .or(grantee.id())
                .unwrap_or_default()
                .to_string();
            (
                who,
                g.permission()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_default(),
            )
        })
        .collect();
    out.sort();
    out
}

async fn make_acl_public(s3: &aws_sdk_s3::Client, bucket: &str) {
    use aws_sdk_s3::types::{AccessControlPolicy, Grant, Grantee, Permission, Type};
    let owner = s3
        .get_bucket_acl()
        .bucket(bucket)
        .send()
        .await
        .unwrap()
        .owner()
        .cloned();
    let group = |uri: &str, perm: Permission| {
        Grant::builder()
            .grantee(
                Grantee::builder()
                    .r#type(Type::Group)
                    .uri(uri)
                    .build()
                    .unwrap(),
            )
            .permission(perm)
            .build()
    };
    let user = |id: &str, perm: Permission| {
        Grant::builder()
            .grantee(
                Grantee::builder()
                    .r#type(Type::CanonicalUser)
                    .id(id)
                    .build()
                    .unwrap(),
            )
            .permission(perm)
            .build()
    };
    let owner_id = owner
        .as_ref()
        .and_then(|o| o.id())
        .unwrap_or_default()
        .to_string();
    let policy = AccessControlPolicy::builder()
        .set_owner(owner)
        .grants(user(&owner_id, Permission::FullControl))
        .grants(user(PARTNER, Permission::Read))
        .grants(group(ALL_USERS, Permission::Read))
        .grants(group(AUTH_USERS, Permission::Write))
        .build();
    s3.put_bucket_acl()
        .bucket(bucket)
        .access_control_policy(policy)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn remove_public_acl_keeps_the_other_grants() {
    let t = TestEnv::start().await;
    let s3 = s3(&t).await;
    new_bucket(&s3, "shared-reports", false).await;
    new_bucket(&s3, "legal-hold", true).await;
    make_acl_public(&s3, "shared-reports").await;
    make_acl_public(&s3, "legal-hold").await;
    let initial = grants(&s3, "shared-reports").await;
    assert_eq!(initial.len(), 4);
    let p = params(json!({"bucket": "shared-reports"}));

    let dry = run(&t, "s3.remove_public_acl", false, &p).await.unwrap();
    assert_eq!(dry.outcome, Outcome::Planned);
    assert_eq!(planned_ops(&dry), ["PutBucketAcl"]);
    assert_eq!(grants(&s3, "shared-reports").await, initial);

    let done = run(&t, "s3.remove_public_acl", true, &p).await.unwrap();
    assert_eq!(done.outcome, Outcome::Changed);
    assert_eq!(
        done.before["grants"].as_array().unwrap().len(),
        4,
        "the full ACL is recorded"
    );
    let now = grants(&s3, "shared-reports").await;
    assert_eq!(now.len(), 2, "{now:?}");
    assert!(now
        .iter()
        .all(|(who, _)| who != ALL_USERS && who != AUTH_USERS));
    assert!(
        now.contains(&(PARTNER.to_string(), "READ".to_string())),
        "partner grant kept"
    );

    let again = run(&t, "s3.remove_public_acl", true, &p).await.unwrap();
    assert_eq!(again.outcome, Outcome::AlreadyDone);
    assert_eq!(grants(&s3, "shared-reports").await, now);

    let err = run(
        &t,
        "s3.remove_public_acl",
        true,
        &params(json!({"bucket": "legal-hold"})),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ActionError::Protected(_)), "{err}");
    assert_eq!(grants(&s3, "legal-hold").await.len(), 4);
}

async fn bucket_policy(s3: &aws_sdk_s3::Client, bucket: &str) -> Option<Value> {
    let out = s3.get_bucket_policy().bucket(bucket).send().await.ok()?;
    serde_json::from_str(out.policy()?).ok()
}

#[tokio::test]
async fn remove_public_policy_statements_keeps_restricted_ones() {
    let t = TestEnv::start().await;
    let s3 = s3(&t).await;
    for (name, protected) in [("website", false), ("dump", false), ("crown-jewels", true)] {
        new_bucket(&s3, name, protected).await;
    }
    let mixed = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::website/*"},
        {"Sid": "Vpce", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::website/*",
         "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}},
        {"Sid": "Partner", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::website/*"}
    ]});
    let only_public = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "Everyone", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:*", "Resource": ["arn:aws:s3:::dump", "arn:aws:s3:::dump/*"]}
    ]});
    for (bucket, policy) in [
        ("website", &mixed),
        ("dump", &only_public),
        ("crown-jewels", &only_public),
    ] {
        s3.put_bucket_policy()
            .bucket(bucket)
            .policy(policy.to_string())
            .send()
            .await
            .unwrap();
    }
    let p = params(json!({"bucket": "website"}));

    let dry = run(&t, "s3.remove_public_policy_statements", false, &p)
        .await
        .unwrap();
    assert_eq!(dry.outcome, Outcome::Planned);
    assert_eq!(planned_ops(&dry), ["PutBucketPolicy"]);
    assert_eq!(bucket_policy(&s3, "website").await.unwrap(), mixed);
    assert!(t.evidence.items().is_empty(), "dry-run stores nothing");

    let done = run(&t, "s3.remove_public_policy_statements", true, &p)
        .await
        .unwrap();
    assert_eq!(done.outcome, Outcome::Changed);
    assert_eq!(done.outputs["removed_statements"], json!([0]));
    let now = bucket_policy(&s3, "website").await.unwrap();
    let sids: Vec<&str> = now["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["Sid"].as_str().unwrap())
        .collect();
    assert_eq!(sids, ["Vpce", "Partner"]);
    let items = t.evidence.items();
    assert_eq!(items.len(), 1);
    assert_eq!(
        serde_json::from_slice::<Value>(&items[0].bytes).unwrap(),
        mixed,
        "original policy kept as evidence"
    );
    assert_eq!(done.evidence.len(), 1);

    let again = run(&t, "s3.remove_public_policy_statements", true, &p)
        .await
        .unwrap();
    assert_eq!(again.outcome, Outcome::AlreadyDone);
    assert_eq!(t.evidence.items().len(), 1);

    // Nothing left: the policy is deleted.
    let emptied = run(
        &t,
        "s3.remove_public_policy_statements",
        true,
        &params(json!({"bucket": "dump"})),
    )
    .await
    .unwrap();
    assert_eq!(emptied.outputs["policy_deleted"], true);
    assert!(emptied
        .calls
        .iter()
        .any(|c| c.operation == "DeleteBucketPolicy" && c.made));
    assert_eq!(bucket_policy(&s3, "dump").await, None);
    let gone = run(
        &t,
        "s3.remove_public_policy_statements",
        true,
        &params(json!({"bucket": "dump"})),
    )
    .await
    .unwrap();
    assert_eq!(gone.outcome, Outcome::AlreadyDone);

    let err = run(
        &t,
        "s3.remove_public_policy_statements",
        true,
        &params(json!({"bucket": "crown-jewels"})),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ActionError::Protected(_)), "{err}");
    assert_eq!(
        bucket_policy(&s3, "crown-jewels").await.unwrap(),
        only_public
    );
}

async fn encryption(s3: &aws_sdk_s3::Client, bucket: &str) -> Option<(String, Option<String>)> {
    let out = s3
        .get_bucket_encryption()
        .bucket(bucket)
        .send()
        .await
        .ok()?;
    let rule = out
        .server_side_encryption_configuration()?
        .rules()
        .first()?
        .apply_server_side_encryption_by_default()?
        .clone();
    Some((
        rule.sse_algorithm().as_str().to_string(),
        rule.kms_master_key_id().map(str::to_string),
    ))
}

#[tokio::test]
async fn enable_default_encryption_sets_and_never_downgrades() {
    let t = TestEnv::start().await;
    let s3 = s3(&t).await;
    new_bucket(&s3, "plain", false).await;
    new_bucket(&s3, "frozen", true).await;
    let p = params(json!({"bucket": "plain"}));

    let dry = run(&t, "s3.enable_default_encryption", false, &p)
        .await
        .unwrap();
    assert_eq!(dry.outcome, Outcome::Planned);
    assert_eq!(planned_ops(&dry), ["PutBucketEncryption"]);
    assert_eq!(encryption(&s3, "plain").await, None);

    let done = run(&t, "s3.enable_default_encryption", true, &p)
        .await
        .unwrap();
    assert_eq!(done.outcome, Outcome::Changed);
    assert_eq!(
        encryption(&s3, "plain").await,
        Some(("AES256".into(), None))
    );
    assert_eq!(
        run(&t, "s3.enable_default_encryption", true, &p)
            .await
            .unwrap()
            .outcome,
        Outcome::AlreadyDone
    );

    // Asking for a KMS key upgrades SSE-S3; asking for SSE-S3 afterwards changes nothing.
    let kms = aws_sdk_kms::Client::new(&t.config().await);
    let key = kms
        .create_key()
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .key_id()
        .to_string();
    let with_key = params(json!({"bucket": "plain", "kms_key_id": key}));
    assert_eq!(
        run(&t, "s3.enable_default_encryption", true, &with_key)
            .await
            .unwrap()
            .outcome,
        Outcome::Changed
    );
    assert_eq!(
        encryption(&s3, "plain").await,
        Some(("aws:kms".into(), Some(key.clone())))
    );
    assert_eq!(
        run(&t, "s3.enable_default_encryption", true, &with_key)
            .await
            .unwrap()
            .outcome,
        Outcome::AlreadyDone
    );
    assert_eq!(
        run(&t, "s3.enable_default_encryption", true, &p)
            .await
            .unwrap()
            .outcome,
        Outcome::AlreadyDone
    );
    assert_eq!(
        encryption(&s3, "plain").await,
        Some(("aws:kms".into(), Some(key)))
    );

    let err = run(
        &t,
        "s3.enable_default_encryption",
        true,
        &params(json!({"bucket": "frozen"})),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ActionError::Protected(_)), "{err}");
    assert_eq!(encryption(&s3, "frozen").await, None);
}

// ---------------------------------------------------------------------------------------
// Snapshots and images
// ---------------------------------------------------------------------------------------

const AMI: &str = "ami-0a1b2c3d4e5f60718";

fn ec2_tag() -> aws_sdk_ec2::types::Tag {
    let (k, v) = protected_tag();
    aws_sdk_ec2::types::Tag::builder().key(k).value(v).build()
}

async fn snapshot_shares(ec2: &aws_sdk_ec2::Client, id: &str) -> (bool, Vec<String>) {
    let out = ec2
        .describe_snapshot_attribute()
        .snapshot_id(id)
        .attribute(aws_sdk_ec2::types::SnapshotAttributeName::CreateVolumePermission)
        .send()
        .await
        .unwrap();
    let perms = out.create_volume_permissions();
    (
        perms
            .iter()
            .any(|p| p.group() == Some(&aws_sdk_ec2::types::PermissionGroup::All)),
        perms
            .iter()
            .filter_map(|p| p.user_id().map(str::to_string))
            .collect(),
    )
}

async fn public_snapshot(ec2: &aws_sdk_ec2::Client, protected: bool) -> String {
    let vol = ec2
        .create_volume()
        .availability_zone("us-east-1a")
        .size(8)
        .send()
        .await
        .unwrap();
    let mut req = ec2.create_snapshot().volume_id(vol.volume_id().unwrap());
    if protected {
        req = req.tag_specifications(
            aws_sdk_ec2::types::TagSpecification::builder()
                .resource_type(aws_sdk_ec2::types::ResourceType::Snapshot)
                .tags(ec2_tag())
                .build(),
        );
    }
    let id = req.send().await.unwrap().snapshot_id().unwrap().to_string();
    ec2.modify_snapshot_attribute()
        .snapshot_id(&id)
        .attribute(aws_sdk_ec2::types::SnapshotAttributeName::CreateVolumePermission)
        .operation_type(aws_sdk_ec2::types::OperationType::Add)
        .group_names("all")
        .user_ids("111122223333")
        .send()
        .await
        .unwrap();
    id
}

#[tokio::test]
async fn make_snapshot_private_removes_only_the_public_share() {
    let t = TestEnv::start_with(MotoOptions {
        single_ami: Some((AMI.into(), "vigil-test".into())),
    })
    .await;
    let ec2 = aws_sdk_ec2::Client::new(&t.config().await);
    let snap = public_snapshot(&ec2, false).await;
    let guarded = public_snapshot(&ec2, true).await;
    let p = params(json!({"snapshot_id": snap}));

    let dry = run(&t, "ec2.make_snapshot_private", false, &p)
        .await
        .unwrap();
    assert_eq!(dry.outcome, Outcome::Planned);
    let call = dry
        .calls
        .iter()
        .find(|c| c.operation == "ModifySnapshotAttribute")
        .unwrap();
    assert!(call.dry_run_checked && !call.made, "{call:?}");
    assert!(snapshot_shares(&ec2, &snap).await.0);

    let done = run(&t, "ec2.make_snapshot_private", true, &p)
        .await
        .unwrap();
    assert_eq!(done.outcome, Outcome::Changed);
    assert_eq!(done.before["shared_with_accounts"], json!(["111122223333"]));
    assert_eq!(
        snapshot_shares(&ec2, &snap).await,
        (false, vec!["111122223333".to_string()])
    );

    assert_eq!(
        run(&t, "ec2.make_snapshot_private", true, &p)
            .await
            .unwrap()
            .outcome,
        Outcome::AlreadyDone
    );

    let err = run(
        &t,
        "ec2.make_snapshot_private",
        true,
        &params(json!({"snapshot_id": guarded})),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ActionError::Protected(_)), "{err}");
    assert!(snapshot_shares(&ec2, &guarded).await.0);
}

async fn image_public(ec2: &aws_sdk_ec2::Client) -> bool {
    ec2.describe_image_attribute()
        .image_id(AMI)
        .attribute(aws_sdk_ec2::types::ImageAttributeName::LaunchPermission)
        .send()
        .await
        .unwrap()
        .launch_permissions()
        .iter()
        .any(|p| p.group() == Some(&aws_sdk_ec2::types::PermissionGroup::All))
}

async fn publish_image(ec2: &aws_sdk_ec2::Client) {
    use aws_sdk_ec2::types::{LaunchPermission, LaunchPermissionModifications, PermissionGroup};
    ec2.modify_image_attribute()
        .image_id(AMI)
        .launch_permission(
            LaunchPermissionModifications::builder()
                .add(
                    LaunchPermission::builder()
                        .group(PermissionGroup::All)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn make_image_private_removes_the_public_launch_permission() {
    let t = TestEnv::start_with(MotoOptions {
        single_ami: Some((AMI.into(), "vigil-test".into())),
    })
    .await;
    let ec2 = aws_sdk_ec2::Client::new(&t.config().await);
    publish_image(&ec2).await;
    let p = params(json!({"image_id": AMI}));

    let dry = run(&t, "ec2.make_image_private", false, &p).await.unwrap();
    assert_eq!(dry.outcome, Outcome::Planned);
    assert!(dry
        .calls
        .iter()
        .any(|c| c.operation == "ModifyImageAttribute" && c.dry_run_checked && !c.made));
    assert!(image_public(&ec2).await);

    let done = run(&t, "ec2.make_image_private", true, &p).await.unwrap();
    assert_eq!(done.outcome, Outcome::Changed);
    assert!(!image_public(&ec2).await);
    assert_eq!(
        run(&t, "ec2.make_image_private", true, &p)
            .await
            .unwrap()
            .outcome,
        Outcome::AlreadyDone
    );

    // The same image, now tagged protected and made public again, is refused.
    ec2.create_tags()
        .resources(AMI)
        .tags(ec2_tag())
        .send()
        .await
        .unwrap();
    publish_image(&ec2).await;
    let err = run(&t, "ec2.make_image_private", true, &p)
        .await
        .unwrap_err();
    assert!(matches!(err, ActionError::Protected(_)), "{err}");
    assert!(image_public(&ec2).await);
}

async fn db_restore_values(rds: &aws_sdk_rds::Client, id: &str) -> Vec<String> {
    let out = rds
        .describe_db_snapshot_attributes()
        .db_snapshot_identifier(id)
        .send()
        .await
        .unwrap();
    let mut values: Vec<String> = out
        .db_snapshot_attributes_result()
        .unwrap()
        .db_snapshot_attributes()
        .iter()
        .filter(|a| a.attribute_name() == Some("restore"))
        .flat_map(|a| a.attribute_values().to_vec())
        .collect();
    values.sort();
    values
}

#[tokio::test]
async fn make_db_snapshot_private_removes_all_from_restore() {
    let t = TestEnv::start().await;
    let rds = aws_sdk_rds::Client::new(&t.config().await);
    rds.create_db_instance()
        .db_instance_identifier("orders")
        .db_instance_class("db.t3.micro")
        .engine("postgres")
        .allocated_storage(20)
        .master_username("admin")
        .master_user_password("not-a-real-password-1")
        .send()
        .await
        .unwrap();
    for (id, protected) in [("orders-snap", false), ("orders-final", true)] {
        let mut req = rds
            .create_db_snapshot()
            .db_instance_identifier("orders")
            .db_snapshot_identifier(id);
        if protected {
            req = req.tags(
                aws_sdk_rds::types::Tag::builder()
                    .key("vigil:protected")
                    .value("true")
                    .build(),
            );
        }
        req.send().await.unwrap();
        rds.modify_db_snapshot_attribute()
            .db_snapshot_identifier(id)
            .attribute_name("restore")
            .values_to_add("all")
            .values_to_add("111122223333")
            .send()
            .await
            .unwrap();
    }
    let p = params(json!({"db_snapshot_id": "orders-snap"}));

    let dry = run(&t, "rds.make_snapshot_private", false, &p)
        .await
        .unwrap();
    assert_eq!(dry.outcome, Outcome::Planned);
    assert_eq!(planned_ops(&dry), ["ModifyDBSnapshotAttribute"]);
    assert_eq!(
        db_restore_values(&rds, "orders-snap").await,
        ["111122223333", "all"]
    );

    let done = run(&t, "rds.make_snapshot_private", true, &p)
        .await
        .unwrap();
    assert_eq!(done.outcome, Outcome::Changed);
    assert_eq!(
        db_restore_values(&rds, "orders-snap").await,
        ["111122223333"]
    );
    assert_eq!(
        run(&t, "rds.make_snapshot_private", true, &p)
            .await
            .unwrap()
            .outcome,
        Outcome::AlreadyDone
    );

    let err = run(
        &t,
        "rds.make_snapshot_private",
        true,
        &params(json!({"db_snapshot_id": "orders-final"})),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ActionError::Protected(_)), "{err}");
    assert_eq!(
        db_restore_values(&rds, "orders-final").await,
        ["111122223333", "all"]
    );
}

// ---------------------------------------------------------------------------------------
// Network
// ---------------------------------------------------------------------------------------

async fn ingress(ec2: &aws_sdk_ec2::Client, group: &str) -> Vec<(i32, String, String)> {
    let out = ec2
        .describe_security_group_rules()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("group-id")
                .values(group)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let mut rules: Vec<(i32, String, String)> = out
        .security_group_rules()
        .iter()
        .filter(|r| r.is_egress() == Some(false))
        .map(|r| {
            (
                r.from_port().unwrap_or(-1),
                r.cidr_ipv4().unwrap_or_default().to_string(),
                r.security_group_rule_id().unwrap_or_default().to_string(),
            )
        })
        .collect();
    rules.sort();
    rules
}

async fn open_group(ec2: &aws_sdk_ec2::Client, name: &str, protected: bool) -> String {
    let mut req = ec2
        .create_security_group()
        .group_name(name)
        .description("test");
    if protected {
        req = req.tag_specifications(
            aws_sdk_ec2::types::TagSpecification::builder()
                .resource_type(aws_sdk_ec2::types::ResourceType::SecurityGroup)
                .tags(ec2_tag())
                .build(),
        );
    }
    let id = req.send().await.unwrap().group_id().unwrap().to_string();
    for (port, cidr) in [(22, "0.0.0.0/0"), (22, "10.0.0.0/8"), (443, "0.0.0.0/0")] {
        ec2.authorize_security_group_ingress()
            .group_id(&id)
            .ip_protocol("tcp")
            .from_port(port)
            .to_port(port)
            .cidr_ip(cidr)
            .send()
            .await
            .unwrap();
    }
    id
}

#[tokio::test]
async fn revoke_ingress_rule_revokes_exactly_one_rule() {
    let t = TestEnv::start().await;
    let ec2 = aws_sdk_ec2::Client::new(&t.config().await);
    let group = open_group(&ec2, "web", false).await;
    let guarded = open_group(&ec2, "bastion", true).await;
    let initial = ingress(&ec2, &group).await;
    assert_eq!(initial.len(), 3);
    let ssh_world = params(
        json!({"group_id": group, "protocol": "tcp", "from_port": 22, "to_port": 22, "cidr": "0.0.0.0/0"}),
    );

    let dry = run(&t, "ec2.revoke_ingress_rule", false, &ssh_world)
        .await
        .unwrap();
    assert_eq!(dry.outcome, Outcome::Planned);
    assert!(dry
        .calls
        .iter()
        .any(|c| c.operation == "RevokeSecurityGroupIngress" && c.dry_run_checked && !c.made));
    assert_eq!(ingress(&ec2, &group).await, initial);

    let done = run(&t, "ec2.revoke_ingress_rule", true, &ssh_world)
        .await
        .unwrap();
    assert_eq!(done.outcome, Outcome::Changed);
    let now = ingress(&ec2, &group).await;
    let left: Vec<(i32, &str)> = now.iter().map(|(p, c, _)| (*p, c.as_str())).collect();
    assert_eq!(
        left,
        [(22, "10.0.0.0/8"), (443, "0.0.0.0/0")],
        "only the named rule is gone"
    );
    assert_eq!(
        run(&t, "ec2.revoke_ingress_rule", true, &ssh_world)
            .await
            .unwrap()
            .outcome,
        Outcome::AlreadyDone
    );

    // By rule id.
    let https = now.iter().find(|(p, _, _)| *p == 443).unwrap().2.clone();
    let by_id = params(json!({"group_id": group, "security_group_rule_id": https}));
    assert_eq!(
        run(&t, "ec2.revoke_ingress_rule", true, &by_id)
            .await
            .unwrap()
            .outcome,
        Outcome::Changed
    );
    let left: Vec<i32> = ingress(&ec2, &group).await.iter().map(|r| r.0).collect();
    assert_eq!(left, [22]);
    assert_eq!(
        run(&t, "ec2.revoke_ingress_rule", true, &by_id)
            .await
            .unwrap()
            .outcome,
        Outcome::AlreadyDone
    );

    let p = params(
        json!({"group_id": guarded, "protocol": "tcp", "from_port": 22, "to_port": 22, "cidr": "0.0.0.0/0"}),
    );
    let err = run(&t, "ec2.revoke_ingress_rule", true, &p)
        .await
        .unwrap_err();
    assert!(matches!(err, ActionError::Protected(_)), "{err}");
    assert_eq!(ingress(&ec2, &guarded).await.len(), 3);
}

async fn acl_entries(ec2: &aws_sdk_ec2::Client, acl: &str) -> Vec<(i32, bool, String, String)> {
    let out = ec2
        .describe_network_acls()
        .network_acl_ids(acl)
        .send()
        .await
        .unwrap();
    let mut entries: Vec<(i32, bool, String, String)> = out.network_acls()[0]
        .entries()
        .iter()
        .map(|e| {
            (
                e.rule_number().unwrap_or_default(),
                e.egress().unwrap_or_default(),
                e.rule_action()
                    .map(|a| a.as_str().to_string())
                    .unwrap_or_default(),
                e.cidr_block().unwrap_or_default().to_string(),
            )
        })
        .collect();
    entries.sort();
    entries
}

#[tokio::test]
async fn nacl_deny_ip_adds_both_directions_before_the_first_allow() {
    let t = TestEnv::start().await;
    let ec2 = aws_sdk_ec2::Client::new(&t.config().await);
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.1.0.0/16")
        .send()
        .await
        .unwrap()
        .vpc()
        .unwrap()
        .vpc_id()
        .unwrap()
        .to_string();
    let subnet = ec2
        .create_subnet()
        .vpc_id(&vpc)
        .cidr_block("10.1.1.0/24")
        .send()
        .await
        .unwrap()
        .subnet()
        .unwrap()
        .subnet_id()
        .unwrap()
        .to_string();
    let acl = ec2
        .describe_network_acls()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("association.subnet-id")
                .values(&subnet)
                .build(),
        )
        .send()
        .await
        .unwrap()
        .network_acls()[0]
        .network_acl_id()
        .unwrap()
        .to_string();
    let initial = acl_entries(&ec2, &acl).await;
    let p = params(json!({"subnet_id": subnet, "cidr": "203.0.113.7"}));

    let dry = run(&t, "ec2.nacl_deny_ip", false, &p).await.unwrap();
    assert_eq!(dry.outcome, Outcome::Planned);
    assert_eq!(
        planned_ops(&dry),
        ["CreateNetworkAclEntry", "CreateNetworkAclEntry"]
    );
    assert_eq!(acl_entries(&ec2, &acl).await, initial);

    let done = run(&t, "ec2.nacl_deny_ip", true, &p).await.unwrap();
    assert_eq!(done.outcome, Outcome::Changed);
    let now = acl_entries(&ec2, &acl).await;
    for egress in [false, true] {
        let deny = now
            .iter()
            .find(|e| e.1 == egress && e.2 == "deny" && e.3 == "203.0.113.7/32")
            .expect("deny entry");
        let first_allow = now
            .iter()
            .filter(|e| e.1 == egress && e.2 == "allow")
            .map(|e| e.0)
            .min()
            .unwrap();
        assert!(
            deny.0 < first_allow,
            "deny {deny:?} before allow {first_allow}"
        );
    }
    assert_eq!(now.len(), initial.len() + 2);

    let again = run(
        &t,
        "ec2.nacl_deny_ip",
        true,
        &params(json!({"network_acl_id": acl, "cidr": "203.0.113.7/32"})),
    )
    .await
    .unwrap();
    assert_eq!(again.outcome, Outcome::AlreadyDone);
    assert_eq!(
        acl_entries(&ec2, &acl).await.len(),
        initial.len() + 2,
        "no duplicate entries"
    );

    ec2.create_tags()
        .resources(&acl)
        .tags(ec2_tag())
        .send()
        .await
        .unwrap();
    let err = run(
        &t,
        "ec2.nacl_deny_ip",
        true,
        &params(json!({"network_acl_id": acl, "cidr": "198.51.100.0/24"})),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ActionError::Protected(_)), "{err}");
    assert_eq!(acl_entries(&ec2, &acl).await.len(), initial.len() + 2);
}

#[tokio::test]
async fn add_ip_to_set_uses_the_lock_token_and_is_idempotent() {
    let t = TestEnv::start().await;
    let waf = aws_sdk_wafv2::Client::new(&t.config().await);
    let make = |name: &'static str, protected: bool| {
        let waf = waf.clone();
        async move {
            let mut req = waf
                .create_ip_set()
                .name(name)
                .scope(aws_sdk_wafv2::types::Scope::Regional)
                .ip_address_version(aws_sdk_wafv2::types::IpAddressVersion::Ipv4)
                .addresses("192.0.2.0/24");
            if protected {
                req = req.tags(
                    aws_sdk_wafv2::types::Tag::builder()
                        .key("vigil:protected")
                        .value("true")
                        .build()
                        .unwrap(),
                );
            }
            let out = req.send().await.unwrap();
            out.summary().unwrap().id().unwrap().to_string()
        }
    };
    let id = make("blocklist", false).await;
    let guarded_id = make("allowlist", true).await;
    let addresses = |name: &'static str, id: String| {
        let waf = waf.clone();
        async move {
            let out = waf
                .get_ip_set()
                .name(name)
                .id(id)
                .scope(aws_sdk_wafv2::types::Scope::Regional)
                .send()
                .await
                .unwrap();
            let mut a = out.ip_set().unwrap().addresses().to_vec();
            a.sort();
            a
        }
    };
    let p = params(
        json!({"ip_set_name": "blocklist", "ip_set_id": id, "scope": "REGIONAL", "cidr": "203.0.113.7"}),
    );

    let dry = run(&t, "wafv2.add_ip_to_set", false, &p).await.unwrap();
    assert_eq!(dry.outcome, Outcome::Planned);
    assert_eq!(planned_ops(&dry), ["UpdateIPSet"]);
    assert_eq!(addresses("blocklist", id.clone()).await, ["192.0.2.0/24"]);

    let done = run(&t, "wafv2.add_ip_to_set", true, &p).await.unwrap();
    assert_eq!(done.outcome, Outcome::Changed);
    let update = done
        .calls
        .iter()
        .find(|c| c.operation == "UpdateIPSet")
        .unwrap();
    assert!(
        update.params["LockToken"]
            .as_str()
            .is_some_and(|t| !t.is_empty()),
        "lock token sent"
    );
    assert_eq!(
        addresses("blocklist", id.clone()).await,
        ["192.0.2.0/24", "203.0.113.7/32"]
    );

    let same = params(
        json!({"ip_set_name": "blocklist", "ip_set_id": id, "scope": "REGIONAL", "cidr": "203.0.113.7/32"}),
    );
    assert_eq!(
        run(&t, "wafv2.add_ip_to_set", true, &same)
            .await
            .unwrap()
            .outcome,
        Outcome::AlreadyDone
    );
    assert_eq!(addresses("blocklist", id.clone()).await.len(), 2);

    let v6 = params(
        json!({"ip_set_name": "blocklist", "ip_set_id": id, "scope": "REGIONAL", "cidr": "2001:db8::1"}),
    );
    assert!(matches!(
        run(&t, "wafv2.add_ip_to_set", true, &v6).await,
        Err(ActionError::InvalidParams(_))
    ));

    let g = params(
        json!({"ip_set_name": "allowlist", "ip_set_id": guarded_id, "scope": "REGIONAL", "cidr": "203.0.113.7"}),
    );
    let err = run(&t, "wafv2.add_ip_to_set", true, &g).await.unwrap_err();
    assert!(matches!(err, ActionError::Protected(_)), "{err}");
    assert_eq!(addresses("allowlist", guarded_id).await, ["192.0.2.0/24"]);
}
