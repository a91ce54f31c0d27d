//! `ec2.remove_instance_profile`: cut an instance off from its IAM role.
//!
//! Disassociating the profile stops the instance getting *new* credentials, but the ones
//! already served by the metadata service (and perhaps stolen) stay valid until they expire
//! (up to 12 hours). So by default the role's sessions issued before now are also revoked
//! with an inline deny on `aws:TokenIssueTime` — which affects every holder of the role's
//! older sessions (other instances simply fetch fresh credentials).

use serde_json::{json, Value};
use vigil_aws::AwsContext;
use vigil_respond::action::{
    Action, ActionError, ActionInfo, DryRunMode, Outcome, ParamDoc, Params, StepEnv, StepReport,
};

use super::{cli_arg, describe_instance, filter, object};
use crate::common::{
    bool_param, check, made, planned, request_id, resource_id, revoke_role_sessions, sdk_config,
    REVOKE_SESSIONS_PERMISSIONS,
};

static INFO: ActionInfo = ActionInfo {
    name: "ec2.remove_instance_profile",
    summary: "Disassociate an instance's IAM instance profile and (by default) revoke the \
              role's sessions issued before now",
    params: &[
        ParamDoc {
            name: "instance_id",
            required: true,
            description: "The instance (i-...)",
        },
        ParamDoc {
            name: "revoke_role_sessions",
            required: false,
            description: "Also deny the role's sessions issued before now (default true)",
        },
    ],
    example: "- id: remove-profile\n  action: ec2.remove_instance_profile\n  params:\n    instance_id: \"{{ steps.capture.outputs.instance_id }}\"\n    revoke_role_sessions: true\n",
    mutating: true,
    dry_run: DryRunMode::Plan,
    records: "The association (profile ARN, association id) and the role's previous \
              vigil-revoke-sessions policy",
};

const BASE_PERMISSIONS: &[&str] = &[
    "ec2:DescribeInstances",
    "ec2:DescribeIamInstanceProfileAssociations",
    "ec2:DisassociateIamInstanceProfile",
    "iam:GetInstanceProfile",
];

/// `ec2.remove_instance_profile`.
pub struct RemoveInstanceProfile {
    ctx: AwsContext,
}

impl RemoveInstanceProfile {
    pub fn new(ctx: AwsContext) -> Self {
        RemoveInstanceProfile { ctx }
    }
}

/// The profile name from `arn:aws:iam::123:instance-profile/path/name`.
fn profile_name(arn: &str) -> Option<&str> {
    arn.split_once(":instance-profile/")
        .and_then(|(_, rest)| rest.rsplit('/').next())
        .filter(|n| !n.is_empty())
}

#[async_trait::async_trait]
impl Action for RemoveInstanceProfile {
    fn info(&self) -> &'static ActionInfo {
        &INFO
    }

    fn permissions(&self, params: &Params) -> Vec<&'static str> {
        let mut perms = BASE_PERMISSIONS.to_vec();
        if bool_param(params, "revoke_role_sessions", true).unwrap_or(true) {
            perms.extend(REVOKE_SESSIONS_PERMISSIONS);
        }
        perms
    }

    fn all_permissions(&self) -> Vec<&'static str> {
        let mut perms = BASE_PERMISSIONS.to_vec();
        perms.extend(REVOKE_SESSIONS_PERMISSIONS);
        perms
    }

    fn cli(&self, params: &Params) -> Vec<String> {
        let id = cli_arg(params, "instance_id");
        let mut out = vec![
            format!("aws ec2 describe-iam-instance-profile-associations --filters Name=instance-id,Values={id} Name=state,Values=associated"),
            "aws ec2 disassociate-iam-instance-profile --association-id <association-id>".to_string(),
        ];
        if bool_param(params, "revoke_role_sessions", true).unwrap_or(true) {
            out.push("aws iam get-instance-profile --instance-profile-name <profile> --query 'InstanceProfile.Roles[].RoleName'".to_string());
            out.push("aws iam put-role-policy --role-name <role> --policy-name vigil-revoke-sessions --policy-document '{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Deny\",\"Action\":[\"*\"],\"Resource\":[\"*\"],\"Condition\":{\"DateLessThan\":{\"aws:TokenIssueTime\":\"<now, UTC>\"}}}]}'".to_string());
        }
        out
    }

    async fn run(&self, env: &StepEnv<'_>, params: &Params) -> Result<StepReport, ActionError> {
        let id = resource_id(params, "instance_id", "i-")?;
        let revoke = bool_param(params, "revoke_role_sessions", true)?;
        let cfg = sdk_config(&self.ctx, env).await?;
        let ec2 = aws_sdk_ec2::Client::new(&cfg);
        let iam = aws_sdk_iam::Client::new(&cfg);
        let mut calls = Vec::new();
        let state = describe_instance(&ec2, id, &mut calls).await?;
        let out = check(
            "DescribeIamInstanceProfileAssociations",
            ec2.describe_iam_instance_profile_associations()
                .filters(filter("instance-id", &[id]))
                .send()
                .await,
        )?;
        calls.push(made(
            "ec2",
            "DescribeIamInstanceProfileAssociations",
            json!({"Filters": {"instance-id": [id]}}),
            request_id(&out),
        ));
        let association = out.iam_instance_profile_associations().iter().find(|a| {
            a.instance_id() == Some(id)
                && matches!(
                    a.state().map(|s| s.as_str()),
                    Some("associated") | Some("associating")
                )
        });
        let mut report = StepReport::new(Outcome::AlreadyDone);
        report.outputs = object(json!({"instance_id": id}));
        let Some(association) = association else {
            report.before = json!({"Association": null});
            report.after = report.before.clone();
            report.note = Some(format!("instance {id} has no instance profile associated"));
            report.calls = calls;
            return Ok(report);
        };
        let assoc_id = association.association_id().unwrap_or_default().to_string();
        let profile_arn = association
            .iam_instance_profile()
            .and_then(|p| p.arn())
            .unwrap_or_default()
            .to_string();
        report.before =
            json!({"Association": {"AssociationId": assoc_id, "InstanceProfileArn": profile_arn}});
        env.guard.allow_change(id, &state.tags)?;

        let roles = match (revoke, profile_name(&profile_arn)) {
            (true, Some(name)) => {
                let out = check(
                    "GetInstanceProfile",
                    iam.get_instance_profile()
                        .instance_profile_name(name)
                        .send()
                        .await,
                )?;
                calls.push(made(
                    "iam",
                    "GetInstanceProfile",
                    json!({"InstanceProfileName": name}),
                    request_id(&out),
                ));
                out.instance_profile()
                    .map(|p| {
                        p.roles()
                            .iter()
                            .map(|r| r.role_name().to_string())
                            .collect()
                    })
                    .unwrap_or_default()
            }
            (true, None) => {
                return Err(ActionError::Failed(format!(
                    "cannot read the profile name from {profile_arn:?}"
                )))
            }
            (false, _) => Vec::new(),
        };

        let p = json!({"AssociationId": assoc_id});
        if env.execute {
            let out = check(
                "DisassociateIamInstanceProfile",
                ec2.disassociate_iam_instance_profile()
                    .association_id(&assoc_id)
                    .send()
                    .await,
            )?;
            calls.push(made(
                "ec2",
                "DisassociateIamInstanceProfile",
                p,
                request_id(&out),
            ));
            report.resources_changed.push(id.to_string());
        } else {
            calls.push(planned("ec2", "DisassociateIamInstanceProfile", p));
        }

        let mut revoked = Vec::new();
        for role in &roles {
            let r = revoke_role_sessions(&iam, env, role).await?;
            calls.extend(r.calls);
            if r.changed && env.execute {
                report.resources_changed.push(r.role_arn.clone());
            }
            revoked.push(json!({"RoleName": role, "RoleArn": r.role_arn, "PreviousPolicy": r.previous, "Policy": r.policy, "Changed": r.changed}));
        }
        report.before["Roles"] = Value::Array(revoked.clone());
        report
            .outputs
            .insert("instance_profile_arn".into(), json!(profile_arn));
        report.outputs.insert("role_names".into(), json!(roles));
        report.calls = calls;
        if env.execute {
            report.outcome = Outcome::Changed;
            report.after = json!({"Association": null, "Roles": revoked});
        } else {
            report.outcome = Outcome::Planned;
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_names_come_from_arns() {
        assert_eq!(
            profile_name("arn:aws:iam::123456789012:instance-profile/web"),
            Some("web")
        );
        assert_eq!(
            profile_name("arn:aws:iam::123456789012:instance-profile/a/b/web"),
            Some("web")
        );
        assert_eq!(profile_name("arn:aws:iam::123456789012:role/web"), None);
        assert_eq!(
            profile_name("arn:aws:iam::123456789012:instance-profile/"),
            None
        );
    }
}
