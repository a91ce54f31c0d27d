//! `ec2.tag_resource`: mark an EC2 resource (default `Quarantine=<case>`).

use std::collections::BTreeMap;

use serde_json::{json, Value};
use vigil_aws::AwsContext;
use vigil_respond::action::{
    Action, ActionError, ActionInfo, ApiCall, DryRunMode, Outcome, ParamDoc, Params, StepEnv,
    StepReport,
};

use super::{client, ec2_change, ec2_tag, filter, object};
use crate::common::{check, cli_value, made, request_id, required_str, shell_quote, string_map};

static INFO: ActionInfo = ActionInfo {
    name: "ec2.tag_resource",
    summary: "Tag an EC2 resource (instance, volume, snapshot, security group...) so people \
              and automation see it is part of an incident",
    params: &[
        ParamDoc {
            name: "resource_id",
            required: true,
            description: "Any EC2 resource id (i-..., vol-..., snap-..., sg-...)",
        },
        ParamDoc {
            name: "tags",
            required: false,
            description: "Map of tags to set (default `Quarantine: <case id>`)",
        },
    ],
    example: "- id: tag\n  action: ec2.tag_resource\n  params:\n    resource_id: \"{{ steps.capture.outputs.instance_id }}\"\n    tags:\n      Quarantine: \"{{ context.case_id }}\"\n",
    mutating: true,
    dry_run: DryRunMode::Native,
    records: "The previous values of the keys it sets, and the tags after",
};

const PERMISSIONS: &[&str] = &["ec2:DescribeTags", "ec2:CreateTags"];

/// `ec2.tag_resource`.
pub struct TagResource {
    ctx: AwsContext,
}

impl TagResource {
    pub fn new(ctx: AwsContext) -> Self {
        TagResource { ctx }
    }
}

fn wanted_tags(params: &Params, case_id: &str) -> Result<BTreeMap<String, String>, ActionError> {
    let tags = string_map(params, "tags")?
        .unwrap_or_else(|| BTreeMap::from([("Quarantine".to_string(), case_id.to_string())]));
    if tags.is_empty() {
        return Err(ActionError::InvalidParams("tags is empty".to_string()));
    }
    for (k, v) in &tags {
        if k.is_empty() || k.chars().count() > 128 || k.to_ascii_lowercase().starts_with("aws:") {
            return Err(ActionError::InvalidParams(format!(
                "tag key {k:?}: 1-128 characters, not starting with aws:"
            )));
        }
        if v.chars().count() > 256 {
            return Err(ActionError::InvalidParams(format!(
                "tag {k}: value longer than 256 characters"
            )));
        }
    }
    Ok(tags)
}

fn check_any_id(id: &str) -> Result<(), ActionError> {
    let ok = id.len() <= 64
        && id.split_once('-').is_some_and(|(p, rest)| {
            !p.is_empty()
                && !rest.is_empty()
                && p.bytes().all(|b| b.is_ascii_lowercase())
                && rest.bytes().all(|b| b.is_ascii_alphanumeric())
        });
    if ok {
        Ok(())
    } else {
        Err(ActionError::InvalidParams(format!(
            "resource_id {id:?} is not an EC2 resource id"
        )))
    }
}

async fn current_tags(
    ec2: &aws_sdk_ec2::Client,
    id: &str,
    calls: &mut Vec<ApiCall>,
) -> Result<Vec<(String, String)>, ActionError> {
    let out = check(
        "DescribeTags",
        ec2.describe_tags()
            .filters(filter("resource-id", &[id]))
            .send()
            .await,
    )?;
    calls.push(made(
        "ec2",
        "DescribeTags",
        json!({"Filters": {"resource-id": [id]}}),
        request_id(&out),
    ));
    Ok(out
        .tags()
        .iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_string(),
                t.value().unwrap_or_default().to_string(),
            ))
        })
        .collect())
}

#[async_trait::async_trait]
impl Action for TagResource {
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
        let tags = match string_map(params, "tags") {
            Ok(Some(tags)) => tags
                .iter()
                .map(|(k, v)| shell_quote(&format!("Key={k},Value={v}")))
                .collect::<Vec<_>>()
                .join(" "),
            _ => "Key=Quarantine,Value=<case>".to_string(),
        };
        vec![format!(
            "aws ec2 create-tags --resources {} --tags {tags}",
            cli_value(params, "resource_id")
        )]
    }

    async fn run(&self, env: &StepEnv<'_>, params: &Params) -> Result<StepReport, ActionError> {
        let id = required_str(params, "resource_id")?;
        check_any_id(id)?;
        let wanted = wanted_tags(params, env.case_id)?;
        let ec2 = client(&self.ctx, env).await?;
        let mut calls = Vec::new();
        let tags = current_tags(&ec2, id, &mut calls).await?;
        let previous: BTreeMap<&String, Option<&str>> = wanted
            .keys()
            .map(|k| (k, crate::common::tag_value(&tags, k)))
            .collect();
        let mut report = StepReport::new(Outcome::AlreadyDone);
        report.before = json!({"Tags": previous});
        report.outputs = object(json!({"resource_id": id, "tags": wanted}));
        if wanted
            .iter()
            .all(|(k, v)| previous.get(k).copied().flatten() == Some(v.as_str()))
        {
            report.calls = calls;
            report.after = report.before.clone();
            return Ok(report);
        }
        env.guard.allow_change(id, &tags)?;
        let (call, _) = ec2_change(
            env.execute,
            "CreateTags",
            json!({"Resources": [id], "Tags": wanted}),
            ec2.create_tags()
                .resources(id)
                .set_tags(Some(wanted.iter().map(|(k, v)| ec2_tag(k, v)).collect()))
                .dry_run(!env.execute)
                .send()
                .await,
        )?;
        calls.push(call);
        if env.execute {
            let after = current_tags(&ec2, id, &mut calls).await?;
            let after: BTreeMap<&String, Value> = wanted
                .keys()
                .map(|k| (k, json!(crate::common::tag_value(&after, k))))
                .collect();
            report.after = json!({"Tags": after});
            report.outcome = Outcome::Changed;
            report.resources_changed.push(id.to_string());
        } else {
            report.outcome = Outcome::Planned;
        }
        report.calls = calls;
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_ids_are_validated() {
        let p: Params = serde_json::from_value(json!({})).unwrap();
        assert_eq!(wanted_tags(&p, "case-1").unwrap()["Quarantine"], "case-1");
        let p: Params = serde_json::from_value(json!({"tags": {"aws:x": "1"}})).unwrap();
        assert!(wanted_tags(&p, "c").is_err());
        let p: Params = serde_json::from_value(json!({"tags": {}})).unwrap();
        assert!(wanted_tags(&p, "c").is_err());
        assert!(check_any_id("i-0abc").is_ok());
        assert!(check_any_id("snap-0abc").is_ok());
        assert!(check_any_id("i-").is_err());
        assert!(check_any_id("arn:aws:x").is_err());
    }
}
