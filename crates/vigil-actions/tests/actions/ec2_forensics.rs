//! The forensic workstation steps against moto: share a snapshot, launch the workstation,
//! attach a volume made from the snapshot, open the workstation's access.
//!
//! moto limits: a snapshot of a volume encrypted with a customer-managed key comes back
//! `Encrypted=true` without a `KmsKeyId`, and every KMS key, `alias/aws/ebs` included, is
//! `KeyManager=CUSTOMER`. The KMS branches of `ec2.share_snapshot` are reached through a
//! rewriting proxy in front of moto that puts the key id into DescribeSnapshots' reply (or
//! turns the key AWS-managed in DescribeKey's); the grant itself is created in moto's KMS and
//! read back from it.

use crate::common::ec2 as fx;
use crate::common::{action, params, TestEnv, CASE};
use serde_json::json;
use vigil_respond::action::{ActionError, Outcome};

const FORENSICS_ACCOUNT: &str = "111122223333";

async fn shared_with(ec2: &aws_sdk_ec2::Client, snap: &str) -> Vec<String> {
    ec2.describe_snapshot_attribute()
        .snapshot_id(snap)
        .attribute(aws_sdk_ec2::types::SnapshotAttributeName::CreateVolumePermission)
        .send()
        .await
        .unwrap()
        .create_volume_permissions()
        .iter()
        .filter_map(|p| p.user_id().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn workstation_flow_share_launch_attach_ingress() {
    let t = TestEnv::start_single_ami(fx::TEST_AMI).await;
    let ec2 = aws_sdk_ec2::Client::new(&t.config().await);
    let net = fx::network(&ec2).await;
    let suspect = fx::instance(&ec2, &net, fx::TEST_AMI, &[], &[]).await;
    let snaps = action(&t, "ec2.snapshot_volumes")
        .run(&t.env(true), &params(json!({"instance_id": suspect})))
        .await
        .unwrap();
    let snap = snaps.outputs["snapshot_ids"][0]
        .as_str()
        .unwrap()
        .to_string();

    // Share the snapshot.
    let share = action(&t, "ec2.share_snapshot");
    let p = params(json!({"snapshot_id": snap, "account_id": FORENSICS_ACCOUNT}));
    let plan = share.run(&t.env(false), &p).await.unwrap();
    assert_eq!(plan.outcome, Outcome::Planned);
    assert!(plan
        .calls
        .iter()
        .any(|c| c.operation == "ModifySnapshotAttribute" && c.dry_run_checked));
    assert!(shared_with(&ec2, &snap).await.is_empty());
    let done = share.run(&t.env(true), &p).await.unwrap();
    assert_eq!(done.outcome, Outcome::Changed);
    assert_eq!(
        shared_with(&ec2, &snap).await,
        vec![FORENSICS_ACCOUNT.to_string()]
    );
    assert_eq!(
        share.run(&t.env(true), &p).await.unwrap().outcome,
        Outcome::AlreadyDone
    );
    let bad = params(json!({"snapshot_id": snap, "account_id": "1234"}));
    assert!(matches!(
        share.run(&t.env(true), &bad).await,
        Err(ActionError::InvalidParams(_))
    ));

    // Launch the workstation, once.
    let ws_group = fx::security_group(&ec2, &net.vpc_id, "forensics").await;
    let launch = action(&t, "ec2.launch_forensic_workstation");
    let p = params(
        json!({"ami_id": fx::TEST_AMI, "subnet_id": net.subnet_id, "security_group_id": ws_group}),
    );
    let workstations = || async {
        ec2.describe_instances()
            .filters(
                aws_sdk_ec2::types::Filter::builder()
                    .name("tag:vigil:role")
                    .values("forensic-workstation")
                    .build(),
            )
            .filters(
                aws_sdk_ec2::types::Filter::builder()
                    .name("tag:vigil:case")
                    .values(CASE)
                    .build(),
            )
            .send()
            .await
            .unwrap()
            .reservations()
            .iter()
            .flat_map(|r| r.instances())
            .filter_map(|i| i.instance_id().map(str::to_string))
            .collect::<Vec<_>>()
    };
    let plan = launch.run(&t.env(false), &p).await.unwrap();
    assert_eq!(plan.outcome, Outcome::Planned);
    assert!(plan
        .calls
        .iter()
        .any(|c| c.operation == "RunInstances" && c.dry_run_checked));
    assert!(workstations().await.is_empty());
    let done = launch.run(&t.env(true), &p).await.unwrap();
    assert_eq!(done.outcome, Outcome::Changed);
    let ws = done.outputs["instance_id"].as_str().unwrap().to_string();
    assert_eq!(workstations().await, vec![ws.clone()]);
    let described = fx::describe(&ec2, &ws).await;
    assert_eq!(
        described
            .metadata_options()
            .and_then(|m| m.http_tokens())
            .map(|t| t.as_str()),
        Some("required")
    );
    let again = launch.run(&t.env(true), &p).await.unwrap();
    assert_eq!(again.outcome, Outcome::AlreadyDone);
    assert_eq!(again.outputs["instance_id"], json!(ws));
    assert_eq!(workstations().await.len(), 1);

    // Attach a volume made from the snapshot.
    let attach = action(&t, "ec2.attach_snapshot_volume");
    let p = params(json!({"snapshot_id": snap, "instance_id": ws}));
    let evidence_volumes = || async {
        ec2.describe_volumes()
            .filters(
                aws_sdk_ec2::types::Filter::builder()
                    .name("tag:vigil:source-snapshot")
                    .values(&snap)
                    .build(),
            )
            .send()
            .await
            .unwrap()
            .volumes()
            .to_vec()
    };
    let plan = attach.run(&t.env(false), &p).await.unwrap();
    assert_eq!(plan.outcome, Outcome::Planned);
    assert!(plan
        .calls
        .iter()
        .any(|c| c.operation == "CreateVolume" && c.dry_run_checked));
    assert!(evidence_volumes().await.is_empty());
    let done = attach.run(&t.env(true), &p).await.unwrap();
    assert_eq!(done.outcome, Outcome::Changed, "{done:?}");
    let vols = evidence_volumes().await;
    assert_eq!(vols.len(), 1);
    assert_eq!(vols[0].snapshot_id(), Some(snap.as_str()));
    assert_eq!(vols[0].availability_zone(), Some(net.az.as_str()));
    let att = &vols[0].attachments()[0];
    assert_eq!(
        (att.instance_id(), att.device()),
        (Some(ws.as_str()), Some("/dev/sdf"))
    );
    assert_eq!(
        attach.run(&t.env(true), &p).await.unwrap().outcome,
        Outcome::AlreadyDone
    );
    assert_eq!(evidence_volumes().await.len(), 1);

    // Let the workstation reach a group (SSH by default).
    let target = fx::security_group(&ec2, &net.vpc_id, "evidence-host").await;
    let ingress = action(&t, "ec2.allow_workstation_ingress");
    let p = params(json!({"group_id": target, "source_group_id": ws_group}));
    let rules = || async {
        fx::groups_named(&ec2, &net.vpc_id, "evidence-host").await[0]
            .ip_permissions()
            .to_vec()
    };
    let plan = ingress.run(&t.env(false), &p).await.unwrap();
    assert_eq!(plan.outcome, Outcome::Planned);
    assert!(rules().await.is_empty());
    assert_eq!(
        ingress.run(&t.env(true), &p).await.unwrap().outcome,
        Outcome::Changed
    );
    let after = rules().await;
    assert_eq!(after.len(), 1);
    assert_eq!(
        (
            after[0].ip_protocol(),
            after[0].from_port(),
            after[0].to_port()
        ),
        (Some("tcp"), Some(22), Some(22))
    );
    assert_eq!(
        after[0].user_id_group_pairs()[0].group_id(),
        Some(ws_group.as_str())
    );
    assert_eq!(
        ingress.run(&t.env(true), &p).await.unwrap().outcome,
        Outcome::AlreadyDone
    );
    assert_eq!(rules().await.len(), 1);
}

#[tokio::test]
async fn protected_snapshot_is_not_shared() {
    let t = TestEnv::start_single_ami(fx::TEST_AMI).await;
    let ec2 = aws_sdk_ec2::Client::new(&t.config().await);
    let vol = ec2
        .create_volume()
        .availability_zone("us-east-1a")
        .size(1)
        .send()
        .await
        .unwrap()
        .volume_id()
        .unwrap()
        .to_string();
    let snap = ec2
        .create_snapshot()
        .volume_id(&vol)
        .tag_specifications(
            aws_sdk_ec2::types::TagSpecification::builder()
                .resource_type(aws_sdk_ec2::types::ResourceType::Snapshot)
                .tags(
                    aws_sdk_ec2::types::Tag::builder()
                        .key("vigil:protected")
                        .value("true")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap()
        .snapshot_id()
        .unwrap()
        .to_string();
    let err = action(&t, "ec2.share_snapshot")
        .run(
            &t.env(true),
            &params(json!({"snapshot_id": snap, "account_id": FORENSICS_ACCOUNT})),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, ActionError::Protected(_)), "{err:?}");
    assert!(shared_with(&ec2, &snap).await.is_empty());
}

/// An encrypted volume under a new customer-managed key in moto, and its snapshot: (key ARN,
/// snapshot id).
async fn encrypted_snapshot(t: &TestEnv) -> (String, String) {
    let cfg = t.moto_config().await;
    let kms = aws_sdk_kms::Client::new(&cfg);
    let ec2 = aws_sdk_ec2::Client::new(&cfg);
    let key = kms
        .create_key()
        .description("case-42 evidence key")
        .send()
        .await
        .unwrap()
        .key_metadata()
        .and_then(|m| m.arn())
        .unwrap()
        .to_string();
    let volume = ec2
        .create_volume()
        .availability_zone("us-east-1a")
        .size(8)
        .encrypted(true)
        .kms_key_id(&key)
        .send()
        .await
        .unwrap()
        .volume_id()
        .unwrap()
        .to_string();
    let snap = ec2
        .create_snapshot()
        .volume_id(volume)
        .send()
        .await
        .unwrap()
        .snapshot_id()
        .unwrap()
        .to_string();
    (key, snap)
}

/// The grants on `key` as moto's KMS holds them: (grantee, operations).
async fn grants(t: &TestEnv, key: &str) -> Vec<(String, Vec<String>)> {
    aws_sdk_kms::Client::new(&t.moto_config().await)
        .list_grants()
        .key_id(key)
        .send()
        .await
        .unwrap()
        .grants()
        .iter()
        .map(|g| {
            let mut ops: Vec<String> = g
                .operations()
                .iter()
                .map(|o| o.as_str().to_string())
                .collect();
            ops.sort();
            (g.grantee_principal().unwrap_or("").to_string(), ops)
        })
        .collect()
}

/// A shared slot the proxy's rewrite reads (the key exists only after moto has started).
type Slot = std::sync::Arc<std::sync::Mutex<String>>;

#[tokio::test]
async fn a_snapshot_under_a_customer_managed_key_is_shared_with_a_grant_on_the_key() {
    let key_slot: Slot = Default::default();
    let slot = key_slot.clone();
    // moto leaves KmsKeyId out of DescribeSnapshots; AWS returns it for an encrypted snapshot.
    let t = TestEnv::start_behind_proxy(move |exchange, body| {
        let key = slot.lock().unwrap().clone();
        if exchange.action() != Some("DescribeSnapshots") || key.is_empty() {
            return body;
        }
        let xml = String::from_utf8(body).unwrap();
        assert!(
            !xml.contains("<kmsKeyId>"),
            "moto now returns the key id: drop the proxy"
        );
        xml.replace(
            "<encrypted>true</encrypted>",
            &format!("<encrypted>true</encrypted><kmsKeyId>{key}</kmsKeyId>"),
        )
        .into_bytes()
    })
    .await;
    let (key, snap) = encrypted_snapshot(&t).await;
    *key_slot.lock().unwrap() = key.clone();
    let ec2 = aws_sdk_ec2::Client::new(&t.moto_config().await);
    let share = action(&t, "ec2.share_snapshot");
    let p = params(json!({"snapshot_id": snap, "account_id": FORENSICS_ACCOUNT}));
    let grantee = format!("arn:aws:iam::{FORENSICS_ACCOUNT}:root");

    // Dry-run: the grant is planned with its exact parameters, nothing is created.
    let plan = share.run(&t.env(false), &p).await.unwrap();
    assert_eq!(plan.outcome, Outcome::Planned);
    let planned = plan
        .calls
        .iter()
        .find(|c| c.operation == "CreateGrant")
        .expect("CreateGrant planned");
    assert!(!planned.made);
    assert_eq!(planned.params["KeyId"], json!(key));
    assert_eq!(planned.params["GranteePrincipal"], json!(grantee));
    assert_eq!(plan.before["KeyGranted"], json!(false));
    assert!(grants(&t, &key).await.is_empty());
    assert!(shared_with(&ec2, &snap).await.is_empty());

    // Execute: shared, and the forensic account may use the key.
    let done = share.run(&t.env(true), &p).await.unwrap();
    assert_eq!(done.outcome, Outcome::Changed, "{done:?}");
    assert_eq!(done.outputs["kms_key_arn"], json!(key));
    assert!(done.outputs["grant_id"]
        .as_str()
        .is_some_and(|g| !g.is_empty()));
    // GRANT_OPERATIONS, sorted.
    let expected_ops = [
        "CreateGrant",
        "Decrypt",
        "DescribeKey",
        "GenerateDataKeyWithoutPlaintext",
        "ReEncryptFrom",
        "ReEncryptTo",
    ];
    assert_eq!(
        grants(&t, &key).await,
        vec![(
            grantee.clone(),
            expected_ops.iter().map(|s| s.to_string()).collect()
        )]
    );
    assert_eq!(
        shared_with(&ec2, &snap).await,
        vec![FORENSICS_ACCOUNT.to_string()]
    );
    assert!(done
        .note
        .as_deref()
        .is_some_and(|n| n.contains("kms:Decrypt")));

    // Again: the grant is found, nothing is added.
    let again = share.run(&t.env(true), &p).await.unwrap();
    assert_eq!(again.outcome, Outcome::AlreadyDone);
    assert_eq!(grants(&t, &key).await.len(), 1);
}

#[tokio::test]
async fn a_snapshot_under_an_aws_managed_key_is_refused_with_the_copy_to_make() {
    let key_slot: Slot = Default::default();
    let slot = key_slot.clone();
    let t = TestEnv::start_behind_proxy(move |exchange, body| {
        let key = slot.lock().unwrap().clone();
        match exchange.action() {
            Some("DescribeSnapshots") if !key.is_empty() => String::from_utf8(body)
                .unwrap()
                .replace(
                    "<encrypted>true</encrypted>",
                    &format!("<encrypted>true</encrypted><kmsKeyId>{key}</kmsKeyId>"),
                )
                .into_bytes(),
            // moto makes every key CUSTOMER; this one plays aws/ebs.
            Some("DescribeKey") => {
                let mut reply: serde_json::Value = serde_json::from_slice(&body).unwrap();
                reply["KeyMetadata"]["KeyManager"] = json!("AWS");
                serde_json::to_vec(&reply).unwrap()
            }
            _ => body,
        }
    })
    .await;
    let (key, snap) = encrypted_snapshot(&t).await;
    *key_slot.lock().unwrap() = key.clone();
    let ec2 = aws_sdk_ec2::Client::new(&t.moto_config().await);
    let p = params(json!({"snapshot_id": snap, "account_id": FORENSICS_ACCOUNT}));
    let refused = action(&t, "ec2.share_snapshot").run(&t.env(true), &p).await;
    match refused {
        Err(ActionError::Failed(reason)) => {
            assert!(reason.contains("AWS-managed"), "{reason}");
            assert!(
                reason.contains(&format!("copy-snapshot --source-snapshot-id {snap}")),
                "{reason}"
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    // Refused before any change: not shared, no grant.
    assert!(shared_with(&ec2, &snap).await.is_empty());
    assert!(grants(&t, &key).await.is_empty());
}
