//! The forensic workstation steps of appendix B: share a snapshot with the forensics
//! account, launch a workstation, attach a volume made from the snapshot, and open the
//! workstation's access.

use std::time::Duration;

use aws_sdk_ec2::client::Waiters;
use aws_sdk_ec2::types::{
    HttpTokensState, InstanceMetadataOptionsRequest, InstanceType, IpPermission, OperationType,
    ResourceType, SnapshotAttributeName, UserIdGroupPair, VolumeType,
};
use aws_sdk_kms::types::{GrantOperation, KeyManagerType};
use serde_json::{json, Value};
use vigil_aws::AwsContext;
use vigil_respond::action::{
    Action, ActionError, ActionInfo, ApiCall, DryRunMode, Outcome, ParamDoc, Params, StepEnv,
    StepReport,
};

use super::{
    cli_arg, client, describe_instance, ec2_change, filter, json as j, object, tag_spec, tags,
};
use crate::common::{
    check, ec2_tags, int_param, made, optional_str, planned, request_id, required_str, resource_id,
    sdk_config,
};

/// How long to wait for a snapshot to complete or a volume to become available.
const WAIT: Duration = Duration::from_secs(30 * 60);

fn waiter_error(what: &str, e: impl std::fmt::Display) -> ActionError {
    ActionError::Transient(format!("waiting for {what}: {e}"))
}

// ---------------------------------------------------------------------------------------
// ec2.share_snapshot
// ---------------------------------------------------------------------------------------

static SHARE_INFO: ActionInfo = ActionInfo {
    name: "ec2.share_snapshot",
    summary: "Share an EBS snapshot with the forensics account (createVolumePermission) and, \
              when it is encrypted with a customer-managed KMS key, grant that account use \
              of the key",
    params: &[
        ParamDoc {
            name: "snapshot_id",
            required: true,
            description: "The snapshot (snap-...)",
        },
        ParamDoc {
            name: "account_id",
            required: true,
            description: "The forensics account (12 digits)",
        },
    ],
    example: "- id: share\n  action: ec2.share_snapshot\n  params:\n    snapshot_id: \"{{ steps.snapshot.outputs.snapshot_ids[0] }}\"\n    account_id: \"111122223333\"\n",
    mutating: true,
    dry_run: DryRunMode::Native,
    records: "The snapshot's createVolumePermission before and after, and the KMS grant",
};

const SHARE_PERMISSIONS: &[&str] = &[
    "ec2:DescribeSnapshots",
    "ec2:DescribeSnapshotAttribute",
    "ec2:ModifySnapshotAttribute",
    "kms:DescribeKey",
    "kms:ListGrants",
    "kms:CreateGrant",
];

/// The KMS operations the forensics account needs to create a volume from the snapshot.
const GRANT_OPERATIONS: &[GrantOperation] = &[
    GrantOperation::Decrypt,
    GrantOperation::DescribeKey,
    GrantOperation::CreateGrant,
    GrantOperation::ReEncryptFrom,
    GrantOperation::ReEncryptTo,
    GrantOperation::GenerateDataKeyWithoutPlaintext,
];

/// `ec2.share_snapshot`.
pub struct ShareSnapshot {
    ctx: AwsContext,
}

impl ShareSnapshot {
    pub fn new(ctx: AwsContext) -> Self {
        ShareSnapshot { ctx }
    }
}

fn account_param<'a>(params: &'a Params, name: &str) -> Result<&'a str, ActionError> {
    let account = required_str(params, name)?;
    if account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) {
        Ok(account)
    } else {
        Err(ActionError::InvalidParams(format!(
            "{name} {account:?} must be 12 digits"
        )))
    }
}

async fn shared_with(
    ec2: &aws_sdk_ec2::Client,
    snapshot: &str,
    calls: &mut Vec<ApiCall>,
) -> Result<Vec<String>, ActionError> {
    let out = check(
        "DescribeSnapshotAttribute",
        ec2.describe_snapshot_attribute()
            .snapshot_id(snapshot)
            .attribute(SnapshotAttributeName::CreateVolumePermission)
            .send()
            .await,
    )?;
    calls.push(made(
        "ec2",
        "DescribeSnapshotAttribute",
        json!({"SnapshotId": snapshot, "Attribute": "createVolumePermission"}),
        request_id(&out),
    ));
    Ok(out
        .create_volume_permissions()
        .iter()
        .filter_map(|p| {
            p.user_id()
                .map(str::to_string)
                .or_else(|| p.group().map(|g| g.as_str().to_string()))
        })
        .collect())
}

/// The customer-managed key to grant, or `None` when the snapshot is not encrypted.
async fn snapshot_key(
    kms: &aws_sdk_kms::Client,
    snapshot: &str,
    key_id: Option<&str>,
    calls: &mut Vec<ApiCall>,
) -> Result<Option<String>, ActionError> {
    let Some(key_id) = key_id else {
        return Ok(None);
    };
    let out = check(
        "DescribeKey",
        kms.describe_key().key_id(key_id).send().await,
    )?;
    calls.push(made(
        "kms",
        "DescribeKey",
        json!({"KeyId": key_id}),
        request_id(&out),
    ));
    let meta = out
        .key_metadata()
        .ok_or_else(|| ActionError::NotFound(format!("KMS key {key_id}")))?;
    if meta.key_manager() == Some(&KeyManagerType::Aws) {
        return Err(ActionError::Failed(format!(
            "snapshot {snapshot} is encrypted with the AWS-managed key {key_id}, which cannot be \
             shared with another account: copy it with a customer-managed key first \
             (aws ec2 copy-snapshot --source-snapshot-id {snapshot} --source-region <region> \
             --encrypted --kms-key-id <customer key>) and share the copy"
        )));
    }
    Ok(Some(meta.arn().unwrap_or(key_id).to_string()))
}

async fn has_grant(
    kms: &aws_sdk_kms::Client,
    key: &str,
    grantee: &str,
    calls: &mut Vec<ApiCall>,
) -> Result<bool, ActionError> {
    let pages = check(
        "ListGrants",
        kms.list_grants()
            .key_id(key)
            .into_paginator()
            .send()
            .try_collect()
            .await,
    )?;
    calls.push(made(
        "kms",
        "ListGrants",
        json!({"KeyId": key}),
        pages.first().and_then(request_id),
    ));
    Ok(pages.iter().flat_map(|p| p.grants()).any(|g| {
        g.grantee_principal() == Some(grantee)
            && GRANT_OPERATIONS
                .iter()
                .all(|op| g.operations().contains(op))
    }))
}

#[async_trait::async_trait]
impl Action for ShareSnapshot {
    fn info(&self) -> &'static ActionInfo {
        &SHARE_INFO
    }

    /// The KMS permissions are needed only for encrypted snapshots, which the parameters do
    /// not tell: they are always listed.
    fn permissions(&self, _params: &Params) -> Vec<&'static str> {
        SHARE_PERMISSIONS.to_vec()
    }

    fn all_permissions(&self) -> Vec<&'static str> {
        SHARE_PERMISSIONS.to_vec()
    }

    fn cli(&self, params: &Params) -> Vec<String> {
        let snap = cli_arg(params, "snapshot_id");
        let account = cli_arg(params, "account_id");
        vec![
            format!("aws ec2 describe-snapshots --snapshot-ids {snap} --query 'Snapshots[].[Encrypted,KmsKeyId]'"),
            format!("aws ec2 modify-snapshot-attribute --snapshot-id {snap} --attribute createVolumePermission --operation-type add --user-ids {account}"),
            format!("aws kms create-grant --key-id <key-arn> --grantee-principal arn:aws:iam::{account}:root --operations Decrypt DescribeKey CreateGrant ReEncryptFrom ReEncryptTo GenerateDataKeyWithoutPlaintext   # customer-managed key only"),
        ]
    }

    async fn run(&self, env: &StepEnv<'_>, params: &Params) -> Result<StepReport, ActionError> {
        let snap = resource_id(params, "snapshot_id", "snap-")?;
        let account = account_param(params, "account_id")?;
        let cfg = sdk_config(&self.ctx, env).await?;
        let ec2 = aws_sdk_ec2::Client::new(&cfg);
        let kms = aws_sdk_kms::Client::new(&cfg);
        let mut calls = Vec::new();
        let out = check(
            "DescribeSnapshots",
            ec2.describe_snapshots().snapshot_ids(snap).send().await,
        )?;
        calls.push(made(
            "ec2",
            "DescribeSnapshots",
            json!({"SnapshotIds": [snap]}),
            request_id(&out),
        ));
        let snapshot = out
            .snapshots()
            .iter()
            .find(|s| s.snapshot_id() == Some(snap))
            .ok_or_else(|| ActionError::NotFound(format!("snapshot {snap}")))?;
        let snap_tags = ec2_tags(snapshot.tags());
        let key_id = if snapshot.encrypted().unwrap_or(false) {
            snapshot.kms_key_id()
        } else {
            None
        };
        let key = snapshot_key(&kms, snap, key_id, &mut calls).await?;
        let partition = self
            .ctx
            .options()
            .partition
            .clone()
            .unwrap_or_else(|| "aws".into());
        let grantee = format!("arn:{partition}:iam::{account}:root");
        let shared = shared_with(&ec2, snap, &mut calls).await?;
        let granted = match &key {
            Some(k) => has_grant(&kms, k, &grantee, &mut calls).await?,
            None => true,
        };
        let mut report = StepReport::new(Outcome::AlreadyDone);
        report.before = json!({"CreateVolumePermission": shared, "KmsKeyArn": key, "KeyGranted": key.as_ref().map(|_| granted)});
        report.outputs =
            object(json!({"snapshot_id": snap, "account_id": account, "kms_key_arn": key}));
        let is_shared = shared.iter().any(|a| a == account);
        if is_shared && granted {
            report.calls = calls;
            report.after = report.before.clone();
            return Ok(report);
        }
        env.guard.allow_change(snap, &snap_tags)?;
        if !is_shared {
            let (call, _) = ec2_change(
                env.execute,
                "ModifySnapshotAttribute",
                json!({"SnapshotId": snap, "Attribute": "createVolumePermission", "OperationType": "add", "UserIds": [account]}),
                ec2.modify_snapshot_attribute()
                    .snapshot_id(snap)
                    .attribute(SnapshotAttributeName::CreateVolumePermission)
                    // The flat OperationType/UserIds form: AWS accepts both, moto only this one.
                    .operation_type(OperationType::Add)
                    .user_ids(account)
                    .dry_run(!env.execute)
                    .send()
                    .await,
            )?;
            calls.push(call);
        }
        if let (Some(key), false) = (&key, granted) {
            let name = format!("vigil-{}-{snap}", env.case_id)
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || "-_/:".contains(c) {
                        c
                    } else {
                        '_'
                    }
                })
                .take(256)
                .collect::<String>();
            let p = json!({"KeyId": key, "GranteePrincipal": grantee, "Name": name, "Operations": GRANT_OPERATIONS.iter().map(|o| o.as_str()).collect::<Vec<_>>()});
            if env.execute {
                let out = check(
                    "CreateGrant",
                    kms.create_grant()
                        .key_id(key)
                        .grantee_principal(&grantee)
                        .name(&name)
                        .set_operations(Some(GRANT_OPERATIONS.to_vec()))
                        .send()
                        .await,
                )?;
                report
                    .outputs
                    .insert("grant_id".into(), json!(out.grant_id()));
                calls.push(made("kms", "CreateGrant", p, request_id(&out)));
            } else {
                calls.push(planned("kms", "CreateGrant", p));
            }
        }
        if !env.execute {
            report.calls = calls;
            report.outcome = Outcome::Planned;
            return Ok(report);
        }
        let after = shared_with(&ec2, snap, &mut calls).await?;
        report.after = json!({"CreateVolumePermission": after, "KmsKeyArn": key, "KeyGranted": key.as_ref().map(|_| true)});
        report.note = key.as_ref().map(|_| {
            format!("principals in {account} also need kms:Decrypt/CreateGrant on the key in their own IAM policies")
        });
        report.calls = calls;
        report.outcome = Outcome::Changed;
        report.resources_changed.push(snap.to_string());
        Ok(report)
    }
}

// ---------------------------------------------------------------------------------------
// ec2.launch_forensic_workstation
// ---------------------------------------------------------------------------------------

/// Value of `vigil:role` on the workstation.
pub const WORKSTATION_ROLE: &str = "forensic-workstation";

static LAUNCH_INFO: ActionInfo = ActionInfo {
    name: "ec2.launch_forensic_workstation",
    summary: "Launch (or reuse) the case's forensic workstation: IMDSv2 only, tagged \
              vigil:case and vigil:role=forensic-workstation",
    params: &[
        ParamDoc { name: "ami_id", required: true, description: "The forensic image (ami-...), e.g. SIFT" },
        ParamDoc { name: "subnet_id", required: true, description: "An isolated forensics subnet (subnet-...)" },
        ParamDoc { name: "instance_type", required: false, description: "Default t3.medium" },
        ParamDoc { name: "key_name", required: false, description: "An EC2 key pair for SSH" },
        ParamDoc { name: "security_group_id", required: false, description: "The workstation's group (sg-...)" },
    ],
    example: "- id: workstation\n  action: ec2.launch_forensic_workstation\n  params:\n    ami_id: ami-0123456789abcdef0\n    subnet_id: subnet-0123456789abcdef0\n    instance_type: t3.large\n",
    mutating: true,
    dry_run: DryRunMode::Native,
    records: "The workstation instance (new or reused)",
};

const LAUNCH_PERMISSIONS: &[&str] = &[
    "ec2:DescribeInstances",
    "ec2:DescribeSubnets",
    "ec2:RunInstances",
    "ec2:CreateTags",
];

/// `ec2.launch_forensic_workstation`.
pub struct LaunchForensicWorkstation {
    ctx: AwsContext,
}

impl LaunchForensicWorkstation {
    pub fn new(ctx: AwsContext) -> Self {
        LaunchForensicWorkstation { ctx }
    }
}

fn workstation_outputs(i: &aws_sdk_ec2::types::Instance) -> serde_json::Map<String, Value> {
    object(json!({
        "instance_id": i.instance_id(),
        "az": i.placement().and_then(|p| p.availability_zone()),
        "private_ip": i.private_ip_address(),
        "security_group_ids": i.security_groups().iter().filter_map(|g| g.group_id()).collect::<Vec<_>>(),
    }))
}

#[async_trait::async_trait]
impl Action for LaunchForensicWorkstation {
    fn info(&self) -> &'static ActionInfo {
        &LAUNCH_INFO
    }

    fn permissions(&self, _params: &Params) -> Vec<&'static str> {
        LAUNCH_PERMISSIONS.to_vec()
    }

    fn all_permissions(&self) -> Vec<&'static str> {
        LAUNCH_PERMISSIONS.to_vec()
    }

    fn cli(&self, params: &Params) -> Vec<String> {
        let mut cmd = format!(
            "aws ec2 run-instances --image-id {} --subnet-id {} --instance-type {} --count 1 --metadata-options HttpTokens=required --tag-specifications 'ResourceType=instance,Tags=[{{Key=vigil:case,Value=<case>}},{{Key=vigil:role,Value={WORKSTATION_ROLE}}}]'",
            cli_arg(params, "ami_id"),
            cli_arg(params, "subnet_id"),
            optional_str(params, "instance_type").ok().flatten().unwrap_or("t3.medium"),
        );
        if params.contains_key("key_name") {
            cmd.push_str(&format!(" --key-name {}", cli_arg(params, "key_name")));
        }
        if params.contains_key("security_group_id") {
            cmd.push_str(&format!(
                " --security-group-ids {}",
                cli_arg(params, "security_group_id")
            ));
        }
        vec![
            format!("aws ec2 describe-instances --filters Name=tag:vigil:case,Values=<case> Name=tag:vigil:role,Values={WORKSTATION_ROLE} Name=instance-state-name,Values=pending,running"),
            cmd,
        ]
    }

    async fn run(&self, env: &StepEnv<'_>, params: &Params) -> Result<StepReport, ActionError> {
        let ami = resource_id(params, "ami_id", "ami-")?;
        let subnet = resource_id(params, "subnet_id", "subnet-")?;
        let instance_type = optional_str(params, "instance_type")?.unwrap_or("t3.medium");
        let key_name = optional_str(params, "key_name")?;
        let group = match optional_str(params, "security_group_id")? {
            Some(g) => Some(resource_id(params, "security_group_id", "sg-").map(|_| g)?),
            None => None,
        };
        let ec2 = client(&self.ctx, env).await?;
        let mut calls = Vec::new();
        let existing = check(
            "DescribeInstances",
            ec2.describe_instances()
                .filters(filter(&format!("tag:{}", tags::CASE), &[env.case_id]))
                .filters(filter(&format!("tag:{}", tags::ROLE), &[WORKSTATION_ROLE]))
                .filters(filter("instance-state-name", &["pending", "running"]))
                .send()
                .await,
        )?;
        calls.push(made("ec2", "DescribeInstances", json!({"Filters": {"tag:vigil:case": [env.case_id], "tag:vigil:role": [WORKSTATION_ROLE], "instance-state-name": ["pending", "running"]}}), request_id(&existing)));
        let mut report = StepReport::new(Outcome::AlreadyDone);
        if let Some(i) = existing
            .reservations()
            .iter()
            .flat_map(|r| r.instances())
            .next()
        {
            report.before = j::instance(i);
            report.after = report.before.clone();
            report.outputs = workstation_outputs(i);
            report.calls = calls;
            return Ok(report);
        }
        report.before = json!({"Workstation": null});
        let subnets = check(
            "DescribeSubnets",
            ec2.describe_subnets().subnet_ids(subnet).send().await,
        )?;
        calls.push(made(
            "ec2",
            "DescribeSubnets",
            json!({"SubnetIds": [subnet]}),
            request_id(&subnets),
        ));
        let subnet_tags = subnets
            .subnets()
            .first()
            .map(|s| ec2_tags(s.tags()))
            .ok_or_else(|| ActionError::NotFound(format!("subnet {subnet}")))?;
        env.guard.allow_change(subnet, &subnet_tags)?;
        let name = format!("vigil-forensics-{}", env.case_id);
        let tag_list = [
            (tags::CASE, env.case_id),
            (tags::ROLE, WORKSTATION_ROLE),
            ("Name", name.as_str()),
        ];
        let (call, out) = ec2_change(
            env.execute,
            "RunInstances",
            json!({"ImageId": ami, "SubnetId": subnet, "InstanceType": instance_type, "KeyName": key_name, "SecurityGroupIds": group.map(|g| vec![g]), "MinCount": 1, "MaxCount": 1, "MetadataOptions": {"HttpTokens": "required"}, "Tags": {"vigil:case": env.case_id, "vigil:role": WORKSTATION_ROLE, "Name": name}}),
            ec2.run_instances()
                .image_id(ami)
                .subnet_id(subnet)
                .instance_type(InstanceType::from(instance_type))
                .set_key_name(key_name.map(str::to_string))
                .set_security_group_ids(group.map(|g| vec![g.to_string()]))
                .min_count(1)
                .max_count(1)
                .metadata_options(
                    InstanceMetadataOptionsRequest::builder()
                        .http_tokens(HttpTokensState::Required)
                        .build(),
                )
                .tag_specifications(tag_spec(ResourceType::Instance, &tag_list))
                .tag_specifications(tag_spec(ResourceType::Volume, &tag_list))
                .dry_run(!env.execute)
                .send()
                .await,
        )?;
        calls.push(call);
        let Some(out) = out else {
            report.outcome = Outcome::Planned;
            report.calls = calls;
            return Ok(report);
        };
        let id = out
            .instances()
            .first()
            .and_then(|i| i.instance_id())
            .ok_or_else(|| ActionError::Failed("RunInstances returned no instance".to_string()))?
            .to_string();
        ec2.wait_until_instance_running()
            .instance_ids(&id)
            .wait(WAIT)
            .await
            .map_err(|e| {
                waiter_error(&format!("instance {id} to run"), vigil_aws::error_chain(&e))
            })?;
        let state = describe_instance(&ec2, &id, &mut calls).await?;
        report.after = j::instance(&state.instance);
        report.outputs = workstation_outputs(&state.instance);
        report.calls = calls;
        report.outcome = Outcome::Changed;
        report.resources_changed.push(id);
        Ok(report)
    }
}

// ---------------------------------------------------------------------------------------
// ec2.attach_snapshot_volume
// ---------------------------------------------------------------------------------------

static ATTACH_INFO: ActionInfo = ActionInfo {
    name: "ec2.attach_snapshot_volume",
    summary: "Create a volume from an evidence snapshot in the workstation's AZ and attach it \
              to the workstation (reused when it already exists for the case)",
    params: &[
        ParamDoc { name: "snapshot_id", required: true, description: "The evidence snapshot (snap-...)" },
        ParamDoc { name: "instance_id", required: true, description: "The forensic workstation (i-...)" },
        ParamDoc { name: "device", required: false, description: "Device name (default /dev/sdf)" },
    ],
    example: "- id: attach\n  action: ec2.attach_snapshot_volume\n  params:\n    snapshot_id: \"{{ steps.snapshot.outputs.snapshot_ids[0] }}\"\n    instance_id: \"{{ steps.workstation.outputs.instance_id }}\"\n    device: /dev/sdf\n",
    mutating: true,
    dry_run: DryRunMode::Native,
    records: "The evidence volume and its attachment",
};

const ATTACH_PERMISSIONS: &[&str] = &[
    "ec2:DescribeInstances",
    "ec2:DescribeSnapshots",
    "ec2:DescribeVolumes",
    "ec2:CreateVolume",
    "ec2:CreateTags",
    "ec2:AttachVolume",
];

/// `ec2.attach_snapshot_volume`.
pub struct AttachSnapshotVolume {
    ctx: AwsContext,
}

impl AttachSnapshotVolume {
    pub fn new(ctx: AwsContext) -> Self {
        AttachSnapshotVolume { ctx }
    }
}

fn check_device(device: &str) -> Result<(), ActionError> {
    let ok = device.starts_with("/dev/")
        && device.len() <= 32
        && device[5..]
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && device.len() > 5;
    if ok {
        Ok(())
    } else {
        Err(ActionError::InvalidParams(format!(
            "device {device:?} is not like /dev/sdf"
        )))
    }
}

#[async_trait::async_trait]
impl Action for AttachSnapshotVolume {
    fn info(&self) -> &'static ActionInfo {
        &ATTACH_INFO
    }

    fn permissions(&self, _params: &Params) -> Vec<&'static str> {
        ATTACH_PERMISSIONS.to_vec()
    }

    fn all_permissions(&self) -> Vec<&'static str> {
        ATTACH_PERMISSIONS.to_vec()
    }

    fn cli(&self, params: &Params) -> Vec<String> {
        let snap = cli_arg(params, "snapshot_id");
        let id = cli_arg(params, "instance_id");
        let device = optional_str(params, "device")
            .ok()
            .flatten()
            .unwrap_or("/dev/sdf");
        vec![
            format!("aws ec2 describe-instances --instance-ids {id} --query 'Reservations[].Instances[].Placement.AvailabilityZone'"),
            format!("aws ec2 wait snapshot-completed --snapshot-ids {snap}"),
            format!("aws ec2 create-volume --snapshot-id {snap} --availability-zone <az> --volume-type gp3 --tag-specifications 'ResourceType=volume,Tags=[{{Key=vigil:case,Value=<case>}},{{Key=vigil:source-snapshot,Value={snap}}}]'"),
            "aws ec2 wait volume-available --volume-ids <volume-id>".to_string(),
            format!("aws ec2 attach-volume --volume-id <volume-id> --instance-id {id} --device {device}"),
        ]
    }

    async fn run(&self, env: &StepEnv<'_>, params: &Params) -> Result<StepReport, ActionError> {
        let snap = resource_id(params, "snapshot_id", "snap-")?;
        let id = resource_id(params, "instance_id", "i-")?;
        let device = optional_str(params, "device")?.unwrap_or("/dev/sdf");
        check_device(device)?;
        let ec2 = client(&self.ctx, env).await?;
        let mut calls = Vec::new();
        let state = describe_instance(&ec2, id, &mut calls).await?;
        let az = state
            .az()
            .ok_or_else(|| ActionError::Failed(format!("instance {id} has no availability zone")))?
            .to_string();
        let vols = check(
            "DescribeVolumes",
            ec2.describe_volumes()
                .filters(filter(&format!("tag:{}", tags::CASE), &[env.case_id]))
                .filters(filter(&format!("tag:{}", tags::SOURCE_SNAPSHOT), &[snap]))
                .filters(filter("availability-zone", &[&az]))
                .send()
                .await,
        )?;
        calls.push(made("ec2", "DescribeVolumes", json!({"Filters": {"tag:vigil:case": [env.case_id], "tag:vigil:source-snapshot": [snap], "availability-zone": [az]}}), request_id(&vols)));
        let existing = vols.volumes().iter().find(|v| {
            !matches!(
                v.state().map(|s| s.as_str()),
                Some("deleting" | "deleted" | "error")
            )
        });
        let mut report = StepReport::new(Outcome::AlreadyDone);
        report.before = json!({"Volume": existing.map(j::volume)});
        if let Some(v) = existing {
            let attached_here = v.attachments().iter().any(|a| a.instance_id() == Some(id));
            let vol_id = v.volume_id().unwrap_or_default().to_string();
            report.outputs = object(
                json!({"volume_id": vol_id, "instance_id": id, "device": v.attachments().first().and_then(|a| a.device()).unwrap_or(device)}),
            );
            if attached_here {
                report.after = report.before.clone();
                report.calls = calls;
                return Ok(report);
            }
            if !v.attachments().is_empty() {
                return Err(ActionError::Failed(format!(
                    "evidence volume {vol_id} is attached to another instance"
                )));
            }
        }
        if state
            .instance
            .block_device_mappings()
            .iter()
            .any(|b| b.device_name() == Some(device))
        {
            return Err(ActionError::InvalidParams(format!(
                "device {device} is already used on {id}"
            )));
        }
        if state.tag(tags::ROLE) != Some(WORKSTATION_ROLE) {
            report.note = Some(format!(
                "instance {id} is not tagged {}={WORKSTATION_ROLE}",
                tags::ROLE
            ));
        }
        env.guard.allow_change(id, &state.tags)?;

        let volume_id = match existing.and_then(|v| v.volume_id()) {
            Some(v) => Some(v.to_string()),
            None => self.create_volume(&ec2, env, snap, &az, &mut calls).await?,
        };
        let call = match &volume_id {
            Some(vol) => {
                ec2_change(
                    env.execute,
                    "AttachVolume",
                    json!({"VolumeId": vol, "InstanceId": id, "Device": device}),
                    ec2.attach_volume()
                        .volume_id(vol)
                        .instance_id(id)
                        .device(device)
                        .dry_run(!env.execute)
                        .send()
                        .await,
                )?
                .0
            }
            None => planned(
                "ec2",
                "AttachVolume",
                json!({"VolumeId": "<new volume>", "InstanceId": id, "Device": device}),
            ),
        };
        calls.push(call);
        report.outputs =
            object(json!({"volume_id": volume_id, "instance_id": id, "device": device}));
        if !env.execute {
            report.outcome = Outcome::Planned;
            report.calls = calls;
            return Ok(report);
        }
        let vol = volume_id.unwrap_or_default();
        let out = check(
            "DescribeVolumes",
            ec2.describe_volumes().volume_ids(&vol).send().await,
        )?;
        calls.push(made(
            "ec2",
            "DescribeVolumes",
            json!({"VolumeIds": [vol]}),
            request_id(&out),
        ));
        report.after = json!({"Volume": out.volumes().first().map(j::volume)});
        report.calls = calls;
        report.outcome = Outcome::Changed;
        report.resources_changed.extend([vol, id.to_string()]);
        Ok(report)
    }
}

impl AttachSnapshotVolume {
    /// Waits for the snapshot, creates the volume and waits for it; `None` under dry-run.
    async fn create_volume(
        &self,
        ec2: &aws_sdk_ec2::Client,
        env: &StepEnv<'_>,
        snap: &str,
        az: &str,
        calls: &mut Vec<ApiCall>,
    ) -> Result<Option<String>, ActionError> {
        if env.execute {
            ec2.wait_until_snapshot_completed()
                .snapshot_ids(snap)
                .wait(WAIT)
                .await
                .map_err(|e| {
                    waiter_error(&format!("snapshot {snap}"), vigil_aws::error_chain(&e))
                })?;
        }
        let name = format!("vigil-evidence-{}-{snap}", env.case_id);
        let (call, out) = ec2_change(
            env.execute,
            "CreateVolume",
            json!({"SnapshotId": snap, "AvailabilityZone": az, "VolumeType": "gp3", "Tags": {"vigil:case": env.case_id, "vigil:source-snapshot": snap, "vigil:role": "evidence", "Name": name}}),
            ec2.create_volume()
                .snapshot_id(snap)
                .availability_zone(az)
                .volume_type(VolumeType::Gp3)
                .tag_specifications(tag_spec(
                    ResourceType::Volume,
                    &[
                        (tags::CASE, env.case_id),
                        (tags::SOURCE_SNAPSHOT, snap),
                        (tags::ROLE, "evidence"),
                        ("Name", &name),
                    ],
                ))
                .dry_run(!env.execute)
                .send()
                .await,
        )?;
        calls.push(call);
        let Some(vol) = out.and_then(|o| o.volume_id().map(str::to_string)) else {
            return Ok(None);
        };
        ec2.wait_until_volume_available()
            .volume_ids(&vol)
            .wait(WAIT)
            .await
            .map_err(|e| waiter_error(&format!("volume {vol}"), vigil_aws::error_chain(&e)))?;
        Ok(Some(vol))
    }
}

// ---------------------------------------------------------------------------------------
// ec2.allow_workstation_ingress
// ---------------------------------------------------------------------------------------

static INGRESS_INFO: ActionInfo = ActionInfo {
    name: "ec2.allow_workstation_ingress",
    summary: "Allow TCP from the workstation's security group into a group (SSH by default)",
    params: &[
        ParamDoc { name: "group_id", required: true, description: "The group to open (sg-...)" },
        ParamDoc { name: "source_group_id", required: true, description: "The workstation's group (sg-...)" },
        ParamDoc { name: "port", required: false, description: "TCP port (default 22)" },
    ],
    example: "- id: ingress\n  action: ec2.allow_workstation_ingress\n  params:\n    group_id: sg-0123456789abcdef0\n    source_group_id: \"{{ steps.workstation.outputs.security_group_ids[0] }}\"\n    port: 22\n",
    mutating: true,
    dry_run: DryRunMode::Native,
    records: "The group's ingress rules before and after",
};

const INGRESS_PERMISSIONS: &[&str] = &[
    "ec2:DescribeSecurityGroups",
    "ec2:AuthorizeSecurityGroupIngress",
];

/// `ec2.allow_workstation_ingress`.
pub struct AllowWorkstationIngress {
    ctx: AwsContext,
}

impl AllowWorkstationIngress {
    pub fn new(ctx: AwsContext) -> Self {
        AllowWorkstationIngress { ctx }
    }
}

async fn describe_group(
    ec2: &aws_sdk_ec2::Client,
    group: &str,
    calls: &mut Vec<ApiCall>,
) -> Result<aws_sdk_ec2::types::SecurityGroup, ActionError> {
    let out = check(
        "DescribeSecurityGroups",
        ec2.describe_security_groups().group_ids(group).send().await,
    )?;
    calls.push(made(
        "ec2",
        "DescribeSecurityGroups",
        json!({"GroupIds": [group]}),
        request_id(&out),
    ));
    out.security_groups()
        .iter()
        .find(|g| g.group_id() == Some(group))
        .cloned()
        .ok_or_else(|| ActionError::NotFound(format!("security group {group}")))
}

/// True when a rule already lets `source` reach `port`/tcp.
fn allows(group: &aws_sdk_ec2::types::SecurityGroup, source: &str, port: i32) -> bool {
    group.ip_permissions().iter().any(|p| {
        let proto = p.ip_protocol().unwrap_or_default();
        let covers = proto == "-1"
            || (proto == "tcp"
                && p.from_port().unwrap_or(0) <= port
                && p.to_port().unwrap_or(65535) >= port);
        covers
            && p.user_id_group_pairs()
                .iter()
                .any(|g| g.group_id() == Some(source))
    })
}

#[async_trait::async_trait]
impl Action for AllowWorkstationIngress {
    fn info(&self) -> &'static ActionInfo {
        &INGRESS_INFO
    }

    fn permissions(&self, _params: &Params) -> Vec<&'static str> {
        INGRESS_PERMISSIONS.to_vec()
    }

    fn all_permissions(&self) -> Vec<&'static str> {
        INGRESS_PERMISSIONS.to_vec()
    }

    fn cli(&self, params: &Params) -> Vec<String> {
        let port = int_param(params, "port", 22, 1, 65535).unwrap_or(22);
        vec![format!(
            "aws ec2 authorize-security-group-ingress --group-id {} --protocol tcp --port {port} --source-group {}",
            cli_arg(params, "group_id"),
            cli_arg(params, "source_group_id")
        )]
    }

    async fn run(&self, env: &StepEnv<'_>, params: &Params) -> Result<StepReport, ActionError> {
        let group_id = resource_id(params, "group_id", "sg-")?;
        let source = resource_id(params, "source_group_id", "sg-")?;
        let port = int_param(params, "port", 22, 1, 65535)? as i32;
        let ec2 = client(&self.ctx, env).await?;
        let mut calls = Vec::new();
        let group = describe_group(&ec2, group_id, &mut calls).await?;
        let mut report = StepReport::new(Outcome::AlreadyDone);
        report.before = json!({"IpPermissions": group.ip_permissions().iter().map(j::ip_permission).collect::<Vec<_>>()});
        report.outputs =
            object(json!({"group_id": group_id, "source_group_id": source, "port": port}));
        if allows(&group, source, port) {
            report.after = report.before.clone();
            report.calls = calls;
            return Ok(report);
        }
        env.guard.allow_change(group_id, &ec2_tags(group.tags()))?;
        let rule = IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(port)
            .to_port(port)
            .user_id_group_pairs(
                UserIdGroupPair::builder()
                    .group_id(source)
                    .description(format!("vigil {}: forensic workstation", env.case_id))
                    .build(),
            )
            .build();
        let (call, _) = ec2_change(
            env.execute,
            "AuthorizeSecurityGroupIngress",
            json!({"GroupId": group_id, "IpPermissions": [{"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "UserIdGroupPairs": [source]}]}),
            ec2.authorize_security_group_ingress()
                .group_id(group_id)
                .ip_permissions(rule)
                .dry_run(!env.execute)
                .send()
                .await,
        )?;
        calls.push(call);
        if !env.execute {
            report.outcome = Outcome::Planned;
            report.calls = calls;
            return Ok(report);
        }
        let after = describe_group(&ec2, group_id, &mut calls).await?;
        report.after = json!({"IpPermissions": after.ip_permissions().iter().map(j::ip_permission).collect::<Vec<_>>()});
        report.calls = calls;
        report.outcome = Outcome::Changed;
        report.resources_changed.push(group_id.to_string());
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_and_accounts_are_checked() {
        assert!(check_device("/dev/sdf").is_ok());
        assert!(check_device("/dev/xvdg").is_ok());
        assert!(check_device("/dev/").is_err());
        assert!(check_device("sdf").is_err());
        assert!(check_device("/dev/sdf;rm").is_err());
        let p: Params = serde_json::from_value(json!({"a": "111122223333", "b": "1111"})).unwrap();
        assert!(account_param(&p, "a").is_ok());
        assert!(account_param(&p, "b").is_err());
    }
}
