//! KMS: stop a scheduled key deletion (a destructive attacker's ransom move: without the key,
//! everything it encrypts is lost when the waiting period ends).

use std::sync::Arc;

use aws_sdk_kms::types::KeyState;
use serde_json::{json, Value};
use vigil_aws::AwsContext;
use vigil_respond::action::{
    Action, ActionError, ActionInfo, ApiCall, DryRunMode, Outcome, ParamDoc, Params, StepEnv,
    StepReport,
};

use crate::common::{
    bool_param, check, cli_value, made, planned, request_id, required_str, sdk_config,
};
use crate::ActionOptions;

/// Every KMS action, each holding `ctx`.
pub fn actions(ctx: &AwsContext, _opts: &ActionOptions) -> Vec<Arc<dyn Action>> {
    vec![Arc::new(CancelKeyDeletion { ctx: ctx.clone() })]
}

/// `kms.cancel_key_deletion`: cancels a pending deletion and re-enables the key (cancelling
/// leaves it `Disabled`).
pub struct CancelKeyDeletion {
    ctx: AwsContext,
}

static CANCEL_KEY_DELETION: ActionInfo = ActionInfo {
    name: "kms.cancel_key_deletion",
    summary: "Cancel a KMS key's scheduled deletion and enable it again",
    params: &[
        ParamDoc { name: "key_id", required: true, description: "Key id or ARN" },
        ParamDoc { name: "enable", required: false, description: "Enable the key after cancelling (default true)" },
    ],
    example: "- id: save-key\n  action: kms.cancel_key_deletion\n  params:\n    key_id: \"{{ inputs.key_id }}\"\n",
    mutating: true,
    dry_run: DryRunMode::Plan,
    records: "the key's state, deletion date and enabled flag before and after",
};

/// Checks a key id or key ARN (aliases are refused: a deleted key's alias may point elsewhere).
fn key_param(params: &Params) -> Result<&str, ActionError> {
    let key = required_str(params, "key_id")?;
    let ok = !key.starts_with("alias/")
        && key.len() <= 2048
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-:/_".contains(&b));
    if ok {
        Ok(key)
    } else {
        Err(ActionError::InvalidParams(format!(
            "parameter `key_id` = {key:?} must be a key id or key ARN"
        )))
    }
}

impl CancelKeyDeletion {
    async fn describe(
        kms: &aws_sdk_kms::Client,
        key: &str,
        calls: &mut Vec<ApiCall>,
    ) -> Result<(String, Value), ActionError> {
        let out = check("DescribeKey", kms.describe_key().key_id(key).send().await)?;
        calls.push(made(
            "kms",
            "DescribeKey",
            json!({"KeyId": key}),
            request_id(&out),
        ));
        let meta = out
            .key_metadata()
            .ok_or_else(|| ActionError::NotFound(format!("KMS key {key}")))?;
        let arn = meta.arn().unwrap_or(key).to_string();
        let state = json!({
            "key_arn": arn,
            "key_state": meta.key_state().map(|s| s.as_str()),
            "enabled": meta.enabled(),
            "deletion_date": meta.deletion_date().map(|d| d.to_string()),
            "key_manager": meta.key_manager().map(|m| m.as_str()),
        });
        Ok((arn, state))
    }

    async fn tags(
        kms: &aws_sdk_kms::Client,
        key: &str,
        calls: &mut Vec<ApiCall>,
    ) -> Result<Vec<(String, String)>, ActionError> {
        let out = check(
            "ListResourceTags",
            kms.list_resource_tags().key_id(key).send().await,
        )?;
        calls.push(made(
            "kms",
            "ListResourceTags",
            json!({"KeyId": key}),
            request_id(&out),
        ));
        Ok(out
            .tags()
            .iter()
            .map(|t| (t.tag_key().to_string(), t.tag_value().to_string()))
            .collect())
    }
}

#[async_trait::async_trait]
impl Action for CancelKeyDeletion {
    fn info(&self) -> &'static ActionInfo {
        &CANCEL_KEY_DELETION
    }

    fn permissions(&self, params: &Params) -> Vec<&'static str> {
        if bool_param(params, "enable", true).unwrap_or(true) {
            self.all_permissions()
        } else {
            vec![
                "kms:CancelKeyDeletion",
                "kms:DescribeKey",
                "kms:ListResourceTags",
            ]
        }
    }

    fn all_permissions(&self) -> Vec<&'static str> {
        vec![
            "kms:CancelKeyDeletion",
            "kms:DescribeKey",
            "kms:EnableKey",
            "kms:ListResourceTags",
        ]
    }

    fn cli(&self, params: &Params) -> Vec<String> {
        let key = cli_value(params, "key_id");
        let mut out = vec![format!("aws kms cancel-key-deletion --key-id {key}")];
        if bool_param(params, "enable", true).unwrap_or(true) {
            out.push(format!("aws kms enable-key --key-id {key}"));
        }
        out
    }

    async fn run(&self, env: &StepEnv<'_>, params: &Params) -> Result<StepReport, ActionError> {
        let key = key_param(params)?;
        let enable = bool_param(params, "enable", true)?;
        let kms = aws_sdk_kms::Client::new(&sdk_config(&self.ctx, env).await?);
        let mut calls = Vec::new();
        let (arn, before) = Self::describe(&kms, key, &mut calls).await?;
        let pending = [
            KeyState::PendingDeletion.as_str(),
            KeyState::PendingReplicaDeletion.as_str(),
        ];
        if !before["key_state"]
            .as_str()
            .is_some_and(|s| pending.contains(&s))
        {
            let mut report = StepReport::new(Outcome::AlreadyDone);
            report.calls = calls;
            report.after = before.clone();
            report.before = before;
            report.note = Some(format!("key {key} is not pending deletion"));
            return Ok(report);
        }
        let tags = Self::tags(&kms, key, &mut calls).await?;
        env.guard.allow_change(&arn, &tags)?;
        let mut report = StepReport::new(Outcome::Planned);
        report.outputs.insert("key_arn".into(), json!(arn));
        if !env.execute {
            calls.push(planned("kms", "CancelKeyDeletion", json!({"KeyId": key})));
            if enable {
                calls.push(planned("kms", "EnableKey", json!({"KeyId": key})));
            }
            report.after = before.clone();
        } else {
            let out = check(
                "CancelKeyDeletion",
                kms.cancel_key_deletion().key_id(key).send().await,
            )?;
            calls.push(made(
                "kms",
                "CancelKeyDeletion",
                json!({"KeyId": key}),
                request_id(&out),
            ));
            if enable {
                let out = check("EnableKey", kms.enable_key().key_id(key).send().await)?;
                calls.push(made(
                    "kms",
                    "EnableKey",
                    json!({"KeyId": key}),
                    request_id(&out),
                ));
            }
            report.after = Self::describe(&kms, key, &mut calls).await?.1;
            report.outcome = Outcome::Changed;
            report.resources_changed.push(arn);
        }
        report.before = before;
        report.calls = calls;
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_and_junk_are_refused() {
        let p = |k: &str| -> Params { serde_json::from_value(json!({"key_id": k})).unwrap() };
        assert!(key_param(&p("1234abcd-12ab-34cd-56ef-1234567890ab")).is_ok());
        assert!(key_param(&p("arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab")).is_ok());
        assert!(key_param(&p("alias/prod")).is_err());
        assert!(key_param(&p("key id; rm")).is_err());
    }
}
