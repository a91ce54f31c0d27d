//! `ec2.snapshot_volumes`: an EBS snapshot of every volume attached to an instance.
//!
//! Snapshots are tagged with the case, the source volume and instance, so a second run for
//! the same case reuses them (no duplicates) and `ec2.attach_snapshot_volume` can find them.
//! The guard is asked about each volume (with the volume's tags): a snapshot changes nothing
//! on the instance, so a protected *instance* may still be preserved.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{ResourceType, SnapshotState};
use serde_json::json;
use vigil_aws::AwsContext;
use vigil_respond::action::{
    Action, ActionError, ActionInfo, DryRunMode, Outcome, ParamDoc, Params, StepEnv, StepReport,
};

use super::{cli_arg, client, describe_instance, ec2_change, filter, object, tag_spec, tags};
use crate::common::{check, ec2_tags, made, request_id, resource_id};

static INFO: ActionInfo = ActionInfo {
    name: "ec2.snapshot_volumes",
    summary: "Snapshot every EBS volume attached to an instance, tagged with the case, source \
              volume and instance; existing case snapshots are reused",
    params: &[ParamDoc {
        name: "instance_id",
        required: true,
        description: "The instance whose volumes to preserve (i-...)",
    }],
    example: "- id: snapshot\n  action: ec2.snapshot_volumes\n  params:\n    instance_id: \"{{ steps.capture.outputs.instance_id }}\"\n",
    mutating: true,
    dry_run: DryRunMode::Native,
    records: "The volumes and the snapshot id of each (new or reused)",
};

const PERMISSIONS: &[&str] = &[
    "ec2:DescribeInstances",
    "ec2:DescribeVolumes",
    "ec2:DescribeSnapshots",
    "ec2:CreateSnapshot",
    "ec2:CreateTags",
];

/// `ec2.snapshot_volumes`.
pub struct SnapshotVolumes {
    ctx: AwsContext,
}

impl SnapshotVolumes {
    pub fn new(ctx: AwsContext) -> Self {
        SnapshotVolumes { ctx }
    }
}

#[async_trait::async_trait]
impl Action for SnapshotVolumes {
    fn info(&self) -> &'static ActionInfo {
        &INFO
    }

    fn permissions(&self, _params: &Params) -> Vec<&'static str> {
        PERMISSIONS.to_vec()
    }

    fn all_permissions(&self) -> Vec<&'static str> {
        PERMISSIONS.to_vec()
    }

    fn cli(&self, params: &Params) -> Vec<String> {
        let id = cli_arg(params, "instance_id");
        vec![
            format!("aws ec2 describe-volumes --filters Name=attachment.instance-id,Values={id}"),
            format!("aws ec2 create-snapshot --volume-id <volume-id> --description 'vigil case <case>: <volume-id> of {id}' --tag-specifications 'ResourceType=snapshot,Tags=[{{Key=vigil:case,Value=<case>}},{{Key=vigil:source-volume,Value=<volume-id>}},{{Key=vigil:source-instance,Value={id}}}]'   # each volume"),
        ]
    }

    async fn run(&self, env: &StepEnv<'_>, params: &Params) -> Result<StepReport, ActionError> {
        let id = resource_id(params, "instance_id", "i-")?;
        let ec2 = client(&self.ctx, env).await?;
        let mut calls = Vec::new();
        let state = describe_instance(&ec2, id, &mut calls).await?;
        let devices: BTreeMap<String, String> = state
            .instance
            .block_device_mappings()
            .iter()
            .filter_map(|b| {
                Some((
                    b.ebs()?.volume_id()?.to_string(),
                    b.device_name().unwrap_or_default().to_string(),
                ))
            })
            .collect();
        if devices.is_empty() {
            return Err(ActionError::Failed(format!(
                "instance {id} has no EBS volume"
            )));
        }
        let volume_ids: Vec<String> = devices.keys().cloned().collect();
        let volumes = check(
            "DescribeVolumes",
            ec2.describe_volumes()
                .set_volume_ids(Some(volume_ids.clone()))
                .send()
                .await,
        )?;
        calls.push(made(
            "ec2",
            "DescribeVolumes",
            json!({"VolumeIds": volume_ids}),
            request_id(&volumes),
        ));
        let vol_refs: Vec<&str> = volume_ids.iter().map(String::as_str).collect();
        let existing = check(
            "DescribeSnapshots",
            ec2.describe_snapshots()
                .owner_ids("self")
                .filters(filter(&format!("tag:{}", tags::CASE), &[env.case_id]))
                .filters(filter(&format!("tag:{}", tags::SOURCE_VOLUME), &vol_refs))
                .send()
                .await,
        )?;
        calls.push(made("ec2", "DescribeSnapshots", json!({"OwnerIds": ["self"], "Filters": {"tag:vigil:case": [env.case_id], "tag:vigil:source-volume": vol_refs}}), request_id(&existing)));
        let mut snapshots: BTreeMap<String, String> = BTreeMap::new();
        for s in existing.snapshots() {
            if s.state() == Some(&SnapshotState::Error) {
                continue;
            }
            let tags = ec2_tags(s.tags());
            let same_case = crate::common::tag_value(&tags, tags::CASE) == Some(env.case_id);
            if let (true, Some(vol), Some(snap)) = (
                same_case,
                crate::common::tag_value(&tags, tags::SOURCE_VOLUME),
                s.snapshot_id(),
            ) {
                if devices.contains_key(vol) {
                    snapshots
                        .entry(vol.to_string())
                        .or_insert_with(|| snap.to_string());
                }
            }
        }
        let mut report = StepReport::new(Outcome::AlreadyDone);
        report.before = json!({"Volumes": devices, "Snapshots": snapshots});
        let missing: Vec<&String> = volume_ids
            .iter()
            .filter(|v| !snapshots.contains_key(*v))
            .collect();
        if missing.is_empty() {
            report.calls = calls;
            report.after = report.before.clone();
            report.outputs = outputs(id, &snapshots);
            return Ok(report);
        }
        let date = env.now.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let mut created = Vec::new();
        for vol in missing {
            let vol_tags = volumes
                .volumes()
                .iter()
                .find(|v| v.volume_id() == Some(vol.as_str()))
                .map(|v| ec2_tags(v.tags()))
                .unwrap_or_default();
            env.guard.allow_change(vol, &vol_tags)?;
            let device = devices.get(vol).map(String::as_str).unwrap_or("");
            let description = format!(
                "vigil case {}: {vol} ({device}) of {id}, by {} at {date}",
                env.case_id, env.responder
            );
            let name = format!(
                "{}-{id}-{}",
                env.case_id,
                device.trim_start_matches("/dev/")
            );
            let spec = tag_spec(
                ResourceType::Snapshot,
                &[
                    (tags::CASE, env.case_id),
                    (tags::SOURCE_VOLUME, vol),
                    (tags::SOURCE_INSTANCE, id),
                    ("vigil:device", device),
                    ("vigil:responder", env.responder),
                    ("Name", &name),
                ],
            );
            let (call, out) = ec2_change(
                env.execute,
                "CreateSnapshot",
                json!({"VolumeId": vol, "Description": description, "TagSpecifications": [{"ResourceType": "snapshot", "Tags": {"vigil:case": env.case_id, "vigil:source-volume": vol, "vigil:source-instance": id, "Name": name}}]}),
                ec2.create_snapshot()
                    .volume_id(vol)
                    .description(&description)
                    .tag_specifications(spec)
                    .dry_run(!env.execute)
                    .send()
                    .await,
            )?;
            calls.push(call);
            if let Some(snap) = out.and_then(|o| o.snapshot_id().map(str::to_string)) {
                created.push(snap.clone());
                snapshots.insert(vol.clone(), snap);
            }
        }
        report.calls = calls;
        report.outputs = outputs(id, &snapshots);
        if env.execute {
            report.outcome = Outcome::Changed;
            report.after = json!({"Volumes": devices, "Snapshots": snapshots});
            report.resources_changed = created;
        } else {
            report.outcome = Outcome::Planned;
        }
        Ok(report)
    }
}

fn outputs(
    id: &str,
    snapshots: &BTreeMap<String, String>,
) -> serde_json::Map<String, serde_json::Value> {
    object(json!({
        "instance_id": id,
        "snapshot_ids": snapshots.values().collect::<Vec<_>>(),
        "snapshots": snapshots,
    }))
}
