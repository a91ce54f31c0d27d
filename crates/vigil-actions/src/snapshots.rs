//! Un-publishing disk images: EBS snapshots, AMIs and RDS snapshots shared with everyone
//! (`all`). Shares with named accounts are kept: they are listed in `before` for the
//! responder to review, but only the public share is removed.

use std::sync::Arc;

use aws_sdk_ec2::types::{
    CreateVolumePermission, Filter, LaunchPermission, LaunchPermissionModifications, OperationType,
    PermissionGroup, SnapshotAttributeName,
};
use serde_json::{json, Value};
use vigil_aws::AwsContext;
use vigil_respond::action::{
    Action, ActionError, ActionInfo, ApiCall, DryRunMode, Outcome, ParamDoc, Params, StepEnv,
    StepReport,
};

use crate::common::{
    check, cli_value, dry_run_checked, ec2_tags, made, planned, request_id, required_str,
    resource_id, sdk_config,
};
use crate::ActionOptions;

/// Every snapshot and image action, each holding `ctx`.
pub fn actions(ctx: &AwsContext, _opts: &ActionOptions) -> Vec<Arc<dyn Action>> {
    vec![
        Arc::new(MakeSnapshotPrivate { ctx: ctx.clone() }),
        Arc::new(MakeImagePrivate { ctx: ctx.clone() }),
        Arc::new(MakeDbSnapshotPrivate { ctx: ctx.clone() }),
    ]
}

/// The report of a resource that is not public.
fn not_public(calls: Vec<ApiCall>, state: Value, what: &str) -> StepReport {
    let mut report = StepReport::new(Outcome::AlreadyDone);
    report.calls = calls;
    report.before = state.clone();
    report.after = state;
    report.note = Some(format!("{what} is not public"));
    report
}

/// Finishes a report for the public → private change.
fn finish(
    calls: Vec<ApiCall>,
    changed: bool,
    before: Value,
    after: Value,
    resource: String,
) -> StepReport {
    let outcome = if changed {
        Outcome::Changed
    } else {
        Outcome::Planned
    };
    let mut report = StepReport::new(outcome);
    report.calls = calls;
    report.before = before;
    report.after = after;
    if outcome == Outcome::Changed {
        report.resources_changed.push(resource);
    }
    report
}

// ---------------------------------------------------------------------------------------
// ec2.make_snapshot_private
// ---------------------------------------------------------------------------------------

/// `ec2.make_snapshot_private`: removes the `all` group from an EBS snapshot's
/// createVolumePermission.
pub struct MakeSnapshotPrivate {
    ctx: AwsContext,
}

static MAKE_SNAPSHOT_PRIVATE: ActionInfo = ActionInfo {
    name: "ec2.make_snapshot_private",
    summary: "Stop sharing an EBS snapshot publicly (remove the `all` createVolumePermission)",
    params: &[ParamDoc { name: "snapshot_id", required: true, description: "The snapshot (snap-...)" }],
    example: "- id: unshare\n  action: ec2.make_snapshot_private\n  params:\n    snapshot_id: \"{{ inputs.snapshot_id }}\"\n",
    mutating: true,
    dry_run: DryRunMode::Native,
    records: "the snapshot's createVolumePermission list (public group and accounts)",
};

impl MakeSnapshotPrivate {
    async fn permissions_state(
        ec2: &aws_sdk_ec2::Client,
        id: &str,
        calls: &mut Vec<ApiCall>,
    ) -> Result<Value, ActionError> {
        let out = check(
            "DescribeSnapshotAttribute",
            ec2.describe_snapshot_attribute()
                .snapshot_id(id)
                .attribute(SnapshotAttributeName::CreateVolumePermission)
                .send()
                .await,
        )?;
        calls.push(made(
            "ec2",
            "DescribeSnapshotAttribute",
            json!({"SnapshotId": id, "Attribute": "createVolumePermission"}),
            request_id(&out),
        ));
        let perms = out.create_volume_permissions();
        Ok(json!({
            "snapshot_id": id,
            "public": perms.iter().any(|p: &CreateVolumePermission| p.group() == Some(&PermissionGroup::All)),
            "shared_with_accounts": perms.iter().filter_map(|p| p.user_id()).collect::<Vec<_>>(),
        }))
    }

    async fn tags(
        ec2: &aws_sdk_ec2::Client,
        id: &str,
        calls: &mut Vec<ApiCall>,
    ) -> Result<Vec<(String, String)>, ActionError> {
        let out = check(
            "DescribeSnapshots",
            ec2.describe_snapshots().snapshot_ids(id).send().await,
        )?;
        calls.push(made(
            "ec2",
            "DescribeSnapshots",
            json!({"SnapshotIds": [id]}),
            request_id(&out),
        ));
        let snap = out
            .snapshots()
            .first()
            .ok_or_else(|| ActionError::NotFound(format!("snapshot {id}")))?;
        Ok(ec2_tags(snap.tags()))
    }
}

#[async_trait::async_trait]
impl Action for MakeSnapshotPrivate {
    fn info(&self) -> &'static ActionInfo {
        &MAKE_SNAPSHOT_PRIVATE
    }

    fn permissions(&self, _params: &Params) -> Vec<&'static str> {
        self.all_permissions()
    }

    fn all_permissions(&self) -> Vec<&'static str> {
        vec![
            "ec2:DescribeSnapshotAttribute",
            "ec2:DescribeSnapshots",
            "ec2:ModifySnapshotAttribute",
        ]
    }

    fn cli(&self, params: &Params) -> Vec<String> {
        vec![format!(
            "aws ec2 modify-snapshot-attribute --snapshot-id {} --attribute createVolumePermission \
             --operation-type remove --group-names all",
            cli_value(params, "snapshot_id")
        )]
    }

    async fn run(&self, env: &StepEnv<'_>, params: &Params) -> Result<StepReport, ActionError> {
        let id = resource_id(params, "snapshot_id", "snap-")?;
        let ec2 = aws_sdk_ec2::Client::new(&sdk_config(&self.ctx, env).await?);
        let mut calls = Vec::new();
        let tags = Self::tags(&ec2, id, &mut calls).await?;
        let before = Self::permissions_state(&ec2, id, &mut calls).await?;
        if before["public"] == false {
            return Ok(not_public(calls, before, &format!("snapshot {id}")));
        }
        env.guard.allow_change(id, &tags)?;
        let params_json = json!({"SnapshotId": id, "Attribute": "createVolumePermission", "OperationType": "remove", "GroupNames": ["all"]});
        let result = ec2
            .modify_snapshot_attribute()
            .snapshot_id(id)
            .attribute(SnapshotAttributeName::CreateVolumePermission)
            .operation_type(OperationType::Remove)
            .group_names("all")
            .dry_run(!env.execute)
            .send()
            .await;
        let call = if env.execute {
            let out = check("ModifySnapshotAttribute", result)?;
            made(
                "ec2",
                "ModifySnapshotAttribute",
                params_json,
                request_id(&out),
            )
        } else {
            dry_run_checked("ModifySnapshotAttribute", params_json, result)?
        };
        let changed = call.made;
        calls.push(call);
        let after = if changed {
            Self::permissions_state(&ec2, id, &mut calls).await?
        } else {
            before.clone()
        };
        Ok(finish(calls, changed, before, after, id.to_string()))
    }
}

// ---------------------------------------------------------------------------------------
// ec2.make_image_private
// ---------------------------------------------------------------------------------------

/// `ec2.make_image_private`: removes the `all` group from an AMI's launchPermission.
pub struct MakeImagePrivate {
    ctx: AwsContext,
}

static MAKE_IMAGE_PRIVATE: ActionInfo = ActionInfo {
    name: "ec2.make_image_private",
    summary: "Stop sharing an AMI publicly (remove the `all` launchPermission)",
    params: &[ParamDoc { name: "image_id", required: true, description: "The image (ami-...)" }],
    example: "- id: unshare-ami\n  action: ec2.make_image_private\n  params:\n    image_id: \"{{ inputs.image_id }}\"\n",
    mutating: true,
    dry_run: DryRunMode::Native,
    records: "the image's launchPermission list (public group, accounts, organizations)",
};

impl MakeImagePrivate {
    async fn permissions_state(
        ec2: &aws_sdk_ec2::Client,
        id: &str,
        calls: &mut Vec<ApiCall>,
    ) -> Result<Value, ActionError> {
        let out = check(
            "DescribeImageAttribute",
            ec2.describe_image_attribute()
                .image_id(id)
                .attribute(aws_sdk_ec2::types::ImageAttributeName::LaunchPermission)
                .send()
                .await,
        )?;
        calls.push(made(
            "ec2",
            "DescribeImageAttribute",
            json!({"ImageId": id, "Attribute": "launchPermission"}),
            request_id(&out),
        ));
        let perms = out.launch_permissions();
        Ok(json!({
            "image_id": id,
            "public": perms.iter().any(|p| p.group() == Some(&PermissionGroup::All)),
            "shared_with_accounts": perms.iter().filter_map(|p| p.user_id()).collect::<Vec<_>>(),
            "shared_with_organizations": perms.iter().filter_map(|p| p.organization_arn().or(p.organizational_unit_arn())).collect::<Vec<_>>(),
        }))
    }

    async fn tags(
        ec2: &aws_sdk_ec2::Client,
        id: &str,
        calls: &mut Vec<ApiCall>,
    ) -> Result<Vec<(String, String)>, ActionError> {
        let out = check(
            "DescribeImages",
            ec2.describe_images()
                .filters(Filter::builder().name("image-id").values(id).build())
                .send()
                .await,
        )?;
        calls.push(made(
            "ec2",
            "DescribeImages",
            json!({"Filters": [{"Name": "image-id", "Values": [id]}]}),
            request_id(&out),
        ));
        let image = out
            .images()
            .first()
            .ok_or_else(|| ActionError::NotFound(format!("image {id}")))?;
        Ok(ec2_tags(image.tags()))
    }
}

#[async_trait::async_trait]
impl Action for MakeImagePrivate {
    fn info(&self) -> &'static ActionInfo {
        &MAKE_IMAGE_PRIVATE
    }

    fn permissions(&self, _params: &Params) -> Vec<&'static str> {
        self.all_permissions()
    }

    fn all_permissions(&self) -> Vec<&'static str> {
        vec![
            "ec2:DescribeImageAttribute",
            "ec2:DescribeImages",
            "ec2:ModifyImageAttribute",
        ]
    }

    fn cli(&self, params: &Params) -> Vec<String> {
        vec![format!(
            "aws ec2 modify-image-attribute --image-id {} --launch-permission \"Remove=[{{Group=all}}]\"",
            cli_value(params, "image_id")
        )]
    }

    async fn run(&self, env: &StepEnv<'_>, params: &Params) -> Result<StepReport, ActionError> {
        let id = resource_id(params, "image_id", "ami-")?;
        let ec2 = aws_sdk_ec2::Client::new(&sdk_config(&self.ctx, env).await?);
        let mut calls = Vec::new();
        let tags = Self::tags(&ec2, id, &mut calls).await?;
        let before = Self::permissions_state(&ec2, id, &mut calls).await?;
        if before["public"] == false {
            return Ok(not_public(calls, before, &format!("image {id}")));
        }
        env.guard.allow_change(id, &tags)?;
        let params_json =
            json!({"ImageId": id, "LaunchPermission": {"Remove": [{"Group": "all"}]}});
        let result = ec2
            .modify_image_attribute()
            .image_id(id)
            .launch_permission(
                LaunchPermissionModifications::builder()
                    .remove(
                        LaunchPermission::builder()
                            .group(PermissionGroup::All)
                            .build(),
                    )
                    .build(),
            )
            .dry_run(!env.execute)
            .send()
            .await;
        let call = if env.execute {
            let out = check("ModifyImageAttribute", result)?;
            made("ec2", "ModifyImageAttribute", params_json, request_id(&out))
        } else {
            dry_run_checked("ModifyImageAttribute", params_json, result)?
        };
        let changed = call.made;
        calls.push(call);
        let after = if changed {
            Self::permissions_state(&ec2, id, &mut calls).await?
        } else {
            before.clone()
        };
        Ok(finish(calls, changed, before, after, id.to_string()))
    }
}

// ---------------------------------------------------------------------------------------
// rds.make_snapshot_private
// ---------------------------------------------------------------------------------------

/// `rds.make_snapshot_private`: removes `all` from a manual DB snapshot's `restore`
/// attribute.
pub struct MakeDbSnapshotPrivate {
    ctx: AwsContext,
}

static MAKE_DB_SNAPSHOT_PRIVATE: ActionInfo = ActionInfo {
    name: "rds.make_snapshot_private",
    summary: "Stop sharing an RDS DB snapshot publicly (remove `all` from its restore attribute)",
    params: &[ParamDoc { name: "db_snapshot_id", required: true, description: "The DB snapshot identifier" }],
    example: "- id: unshare-db\n  action: rds.make_snapshot_private\n  params:\n    db_snapshot_id: \"{{ inputs.db_snapshot_id }}\"\n",
    mutating: true,
    dry_run: DryRunMode::Plan,
    records: "the snapshot's restore attribute (public flag and accounts)",
};

/// Checks a DB snapshot identifier (letters, digits, hyphens; `:` for ARNs and
/// `rds:`-prefixed automated names).
fn db_snapshot_param(params: &Params) -> Result<&str, ActionError> {
    let id = required_str(params, "db_snapshot_id")?;
    let ok = id.len() <= 255
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-:/".contains(&b));
    if ok {
        Ok(id)
    } else {
        Err(ActionError::InvalidParams(format!(
            "parameter `db_snapshot_id` = {id:?} is not a DB snapshot identifier"
        )))
    }
}

impl MakeDbSnapshotPrivate {
    async fn restore_state(
        rds: &aws_sdk_rds::Client,
        id: &str,
        calls: &mut Vec<ApiCall>,
    ) -> Result<Value, ActionError> {
        let out = check(
            "DescribeDBSnapshotAttributes",
            rds.describe_db_snapshot_attributes()
                .db_snapshot_identifier(id)
                .send()
                .await,
        )?;
        calls.push(made(
            "rds",
            "DescribeDBSnapshotAttributes",
            json!({"DBSnapshotIdentifier": id}),
            request_id(&out),
        ));
        let values: Vec<String> = out
            .db_snapshot_attributes_result()
            .map(|r| r.db_snapshot_attributes())
            .unwrap_or_default()
            .iter()
            .filter(|a| a.attribute_name() == Some("restore"))
            .flat_map(|a| a.attribute_values().iter().cloned())
            .collect();
        Ok(json!({
            "db_snapshot_id": id,
            "public": values.iter().any(|v| v == "all"),
            "shared_with_accounts": values.iter().filter(|v| *v != "all").collect::<Vec<_>>(),
        }))
    }

    async fn arn_and_tags(
        rds: &aws_sdk_rds::Client,
        id: &str,
        calls: &mut Vec<ApiCall>,
    ) -> Result<(String, Vec<(String, String)>), ActionError> {
        let out = check(
            "DescribeDBSnapshots",
            rds.describe_db_snapshots()
                .db_snapshot_identifier(id)
                .send()
                .await,
        )?;
        calls.push(made(
            "rds",
            "DescribeDBSnapshots",
            json!({"DBSnapshotIdentifier": id}),
            request_id(&out),
        ));
        let snap = out
            .db_snapshots()
            .first()
            .ok_or_else(|| ActionError::NotFound(format!("DB snapshot {id}")))?;
        let tags = snap
            .tag_list()
            .iter()
            .map(|t| {
                (
                    t.key().unwrap_or_default().to_string(),
                    t.value().unwrap_or_default().to_string(),
                )
            })
            .collect();
        Ok((snap.db_snapshot_arn().unwrap_or(id).to_string(), tags))
    }
}

#[async_trait::async_trait]
impl Action for MakeDbSnapshotPrivate {
    fn info(&self) -> &'static ActionInfo {
        &MAKE_DB_SNAPSHOT_PRIVATE
    }

    fn permissions(&self, _params: &Params) -> Vec<&'static str> {
        self.all_permissions()
    }

    fn all_permissions(&self) -> Vec<&'static str> {
        vec![
            "rds:DescribeDBSnapshotAttributes",
            "rds:DescribeDBSnapshots",
            "rds:ModifyDBSnapshotAttribute",
        ]
    }

    fn cli(&self, params: &Params) -> Vec<String> {
        vec![format!(
            "aws rds modify-db-snapshot-attribute --db-snapshot-identifier {} --attribute-name restore \
             --values-to-remove all",
            cli_value(params, "db_snapshot_id")
        )]
    }

    async fn run(&self, env: &StepEnv<'_>, params: &Params) -> Result<StepReport, ActionError> {
        let id = db_snapshot_param(params)?;
        let rds = aws_sdk_rds::Client::new(&sdk_config(&self.ctx, env).await?);
        let mut calls = Vec::new();
        let (arn, tags) = Self::arn_and_tags(&rds, id, &mut calls).await?;
        let before = Self::restore_state(&rds, id, &mut calls).await?;
        if before["public"] == false {
            return Ok(not_public(calls, before, &format!("DB snapshot {id}")));
        }
        env.guard.allow_change(&arn, &tags)?;
        let params_json = json!({"DBSnapshotIdentifier": id, "AttributeName": "restore", "ValuesToRemove": ["all"]});
        if !env.execute {
            calls.push(planned("rds", "ModifyDBSnapshotAttribute", params_json));
            return Ok(finish(calls, false, before.clone(), before, arn));
        }
        let out = check(
            "ModifyDBSnapshotAttribute",
            rds.modify_db_snapshot_attribute()
                .db_snapshot_identifier(id)
                .attribute_name("restore")
                .values_to_remove("all")
                .send()
                .await,
        )?;
        calls.push(made(
            "rds",
            "ModifyDBSnapshotAttribute",
            params_json,
            request_id(&out),
        ));
        let after = Self::restore_state(&rds, id, &mut calls).await?;
        Ok(finish(calls, true, before, after, arn))
    }
}
