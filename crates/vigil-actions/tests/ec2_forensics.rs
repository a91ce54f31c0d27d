//! The forensic workstation steps against moto: share a snapshot, launch the workstation,
//! attach a volume made from the snapshot, open the workstation's access.
//!
//! moto limit: a snapshot of a volume encrypted with a customer-managed key comes back
//! `Encrypted=true` without a `KmsKeyId`, so the KMS grant branch of `ec2.share_snapshot`
//! cannot be reached through moto; the createVolumePermission branch is tested here.

mod common;

use common::ec2 as fx;
use common::{action, params, TestEnv, CASE};
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
