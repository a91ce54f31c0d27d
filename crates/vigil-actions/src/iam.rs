//! Credential containment (the guide's "compromised credentials" steps): deactivate an access
//! key, deny everything to a user, revoke a role's active sessions, delete a console password.

use std::sync::Arc;

use aws_sdk_iam::types::StatusType;
use serde_json::{json, Value};
use vigil_aws::AwsContext;
use vigil_respond::action::{
    Action, ActionError, ActionInfo, DryRunMode, Outcome, ParamDoc, Params, StepEnv, StepReport,
};

use crate::common::{
    check, check_optional, cli_value, decode_policy_document, iam_tags, made, planned, request_id,
    required_str, revoke_role_sessions, sdk_config, REVOKE_SESSIONS_PERMISSIONS,
    REVOKE_SESSIONS_POLICY,
};
use crate::ActionOptions;

/// Name of the inline policy `iam.deny_all_user` attaches.
pub const DENY_ALL_POLICY: &str = "vigil-deny-all";

/// Every IAM action, each holding `ctx`.
pub fn actions(ctx: &AwsContext, _opts: &ActionOptions) -> Vec<Arc<dyn Action>> {
    vec![
        Arc::new(DeactivateAccessKey { ctx: ctx.clone() }),
        Arc::new(DenyAllUser { ctx: ctx.clone() }),
        Arc::new(RevokeRoleSessions { ctx: ctx.clone() }),
        Arc::new(DeleteLoginProfile { ctx: ctx.clone() }),
    ]
}

/// The deny-everything policy `iam.deny_all_user` writes.
pub fn deny_all_policy() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "VigilDenyAll",
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*"
        }]
    })
}

/// A user's ARN and tags, read with `GetUser` (for the guard and the report).
struct UserFacts {
    arn: String,
    tags: Vec<(String, String)>,
}

async fn read_user(
    iam: &aws_sdk_iam::Client,
    user: &str,
    calls: &mut Vec<vigil_respond::action::ApiCall>,
) -> Result<UserFacts, ActionError> {
    let out = check("GetUser", iam.get_user().user_name(user).send().await)?;
    calls.push(made(
        "iam",
        "GetUser",
        json!({"UserName": user}),
        request_id(&out),
    ));
    let u = out
        .user()
        .ok_or_else(|| ActionError::NotFound(format!("IAM user {user}")))?;
    Ok(UserFacts {
        arn: u.arn().to_string(),
        tags: iam_tags(u.tags()),
    })
}

/// Checks an IAM user or role name (`[\w+=,.@-]{1,64}`).
fn iam_name<'a>(params: &'a Params, name: &str) -> Result<&'a str, ActionError> {
    let value = required_str(params, name)?;
    let ok = value.len() <= 64
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if ok {
        Ok(value)
    } else {
        Err(ActionError::InvalidParams(format!(
            "parameter `{name}` = {value:?} is not an IAM name"
        )))
    }
}

// ---------------------------------------------------------------------------------------
// iam.deactivate_access_key
// ---------------------------------------------------------------------------------------

/// `iam.deactivate_access_key`: sets an access key to `Inactive` (reversible, unlike deletion,
/// so the key id stays available for the investigation).
pub struct DeactivateAccessKey {
    ctx: AwsContext,
}

static DEACTIVATE_ACCESS_KEY: ActionInfo = ActionInfo {
    name: "iam.deactivate_access_key",
    summary: "Deactivate an IAM user's access key (reversible; the key is kept for the record)",
    params: &[
        ParamDoc {
            name: "access_key_id",
            required: true,
            description: "The long-term key id (AKIA...)",
        },
        ParamDoc {
            name: "user_name",
            required: false,
            description: "Owner of the key; found with GetAccessKeyLastUsed when absent",
        },
    ],
    example: "- id: disable-key\n  action: iam.deactivate_access_key\n  params:\n    access_key_id: \"{{ inputs.access_key_id }}\"\n",
    mutating: true,
    dry_run: DryRunMode::Plan,
    records: "the key's status, creation date and owner before and after",
};

/// Checks a long-term access key id. Temporary keys (`ASIA...`) cannot be deactivated: their
/// session must be revoked through the role instead.
fn access_key_id(params: &Params) -> Result<&str, ActionError> {
    let key = required_str(params, "access_key_id")?;
    if key.starts_with("ASIA") {
        return Err(ActionError::InvalidParams(format!(
            "{key} is a temporary (STS) key: it cannot be deactivated; revoke the sessions of \
             the role that issued it (iam.revoke_role_sessions)"
        )));
    }
    let ok = (16..=128).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_alphanumeric());
    if ok {
        Ok(key)
    } else {
        Err(ActionError::InvalidParams(format!(
            "parameter `access_key_id` = {key:?} is not an access key id"
        )))
    }
}

impl DeactivateAccessKey {
    /// The key's owner: the parameter, else `GetAccessKeyLastUsed`.
    async fn owner(
        iam: &aws_sdk_iam::Client,
        params: &Params,
        key: &str,
        calls: &mut Vec<vigil_respond::action::ApiCall>,
    ) -> Result<String, ActionError> {
        if params.contains_key("user_name") {
            return iam_name(params, "user_name").map(str::to_string);
        }
        let out = check(
            "GetAccessKeyLastUsed",
            iam.get_access_key_last_used()
                .access_key_id(key)
                .send()
                .await,
        )?;
        calls.push(made(
            "iam",
            "GetAccessKeyLastUsed",
            json!({"AccessKeyId": key}),
            request_id(&out),
        ));
        out.user_name()
            .map(str::to_string)
            .ok_or_else(|| ActionError::NotFound(format!("owner of access key {key}")))
    }

    /// The key's metadata from `ListAccessKeys` of its owner.
    async fn key_state(
        iam: &aws_sdk_iam::Client,
        user: &str,
        key: &str,
        calls: &mut Vec<vigil_respond::action::ApiCall>,
    ) -> Result<Value, ActionError> {
        let out = check(
            "ListAccessKeys",
            iam.list_access_keys().user_name(user).send().await,
        )?;
        calls.push(made(
            "iam",
            "ListAccessKeys",
            json!({"UserName": user}),
            request_id(&out),
        ));
        let meta = out
            .access_key_metadata()
            .iter()
            .find(|m| m.access_key_id() == Some(key))
            .ok_or_else(|| ActionError::NotFound(format!("access key {key} of user {user}")))?;
        Ok(json!({
            "access_key_id": key,
            "user_name": user,
            "status": meta.status().map(|s| s.as_str()),
            "create_date": meta.create_date().map(|d| d.to_string()),
        }))
    }
}

#[async_trait::async_trait]
impl Action for DeactivateAccessKey {
    fn info(&self) -> &'static ActionInfo {
        &DEACTIVATE_ACCESS_KEY
    }

    fn permissions(&self, params: &Params) -> Vec<&'static str> {
        let mut perms = vec!["iam:GetUser", "iam:ListAccessKeys", "iam:UpdateAccessKey"];
        if !params.contains_key("user_name") {
            perms.insert(0, "iam:GetAccessKeyLastUsed");
        }
        perms
    }

    fn all_permissions(&self) -> Vec<&'static str> {
        vec![
            "iam:GetAccessKeyLastUsed",
            "iam:GetUser",
            "iam:ListAccessKeys",
            "iam:UpdateAccessKey",
        ]
    }

    fn cli(&self, params: &Params) -> Vec<String> {
        let key = cli_value(params, "access_key_id");
        let mut out = Vec::new();
        if !params.contains_key("user_name") {
            out.push(format!(
                "aws iam get-access-key-last-used --access-key-id {key}"
            ));
        }
        out.push(format!(
            "aws iam update-access-key --user-name {} --access-key-id {key} --status Inactive",
            cli_value(params, "user_name")
        ));
        out
    }

    async fn run(&self, env: &StepEnv<'_>, params: &Params) -> Result<StepReport, ActionError> {
        let key = access_key_id(params)?;
        let iam = aws_sdk_iam::Client::new(&sdk_config(&self.ctx, env).await?);
        let mut calls = Vec::new();
        let user = Self::owner(&iam, params, key, &mut calls).await?;
        let before = Self::key_state(&iam, &user, key, &mut calls).await?;
        let facts = read_user(&iam, &user, &mut calls).await?;
        let mut report = StepReport::new(Outcome::AlreadyDone);
        report.outputs.insert("user_name".into(), json!(user));
        report.outputs.insert("user_arn".into(), json!(facts.arn));
        report.outputs.insert("access_key_id".into(), json!(key));
        if before["status"] == "Inactive" {
            report.after = before.clone();
            report.before = before;
            report.calls = calls;
            report.note = Some(format!("access key {key} is already inactive"));
            return Ok(report);
        }
        env.guard.allow_change(&facts.arn, &facts.tags)?;
        let update = json!({"UserName": user, "AccessKeyId": key, "Status": "Inactive"});
        if !env.execute {
            calls.push(planned("iam", "UpdateAccessKey", update));
            report.outcome = Outcome::Planned;
            report.after = before.clone();
        } else {
            let out = check(
                "UpdateAccessKey",
                iam.update_access_key()
                    .user_name(&user)
                    .access_key_id(key)
                    .status(StatusType::Inactive)
                    .send()
                    .await,
            )?;
            calls.push(made("iam", "UpdateAccessKey", update, request_id(&out)));
            report.after = Self::key_state(&iam, &user, key, &mut calls).await?;
            report.outcome = Outcome::Changed;
            report.resources_changed.push(facts.arn.clone());
        }
        report.before = before;
        report.calls = calls;
        Ok(report)
    }
}

// ---------------------------------------------------------------------------------------
// iam.deny_all_user
// ---------------------------------------------------------------------------------------

/// `iam.deny_all_user`: attaches the inline policy `vigil-deny-all` (Deny `*` on `*`), which
/// overrides every Allow the user has, whatever group or managed policy grants it.
pub struct DenyAllUser {
    ctx: AwsContext,
}

static DENY_ALL_USER: ActionInfo = ActionInfo {
    name: "iam.deny_all_user",
    summary: "Deny every action to an IAM user with the inline policy vigil-deny-all",
    params: &[ParamDoc {
        name: "user_name",
        required: true,
        description: "The IAM user",
    }],
    example: "- id: deny-user\n  action: iam.deny_all_user\n  params:\n    user_name: \"{{ steps.disable-key.outputs.user_name }}\"\n",
    mutating: true,
    dry_run: DryRunMode::Plan,
    records: "the previous vigil-deny-all policy (if any) and the one written",
};

async fn user_policy(
    iam: &aws_sdk_iam::Client,
    user: &str,
    policy: &str,
    calls: &mut Vec<vigil_respond::action::ApiCall>,
) -> Result<Option<Value>, ActionError> {
    let out = check_optional(
        "GetUserPolicy",
        iam.get_user_policy()
            .user_name(user)
            .policy_name(policy)
            .send()
            .await,
    )?;
    calls.push(made(
        "iam",
        "GetUserPolicy",
        json!({"UserName": user, "PolicyName": policy}),
        out.as_ref().and_then(request_id),
    ));
    out.map(|o| decode_policy_document(o.policy_document()))
        .transpose()
}

#[async_trait::async_trait]
impl Action for DenyAllUser {
    fn info(&self) -> &'static ActionInfo {
        &DENY_ALL_USER
    }

    fn permissions(&self, _params: &Params) -> Vec<&'static str> {
        self.all_permissions()
    }

    fn all_permissions(&self) -> Vec<&'static str> {
        vec!["iam:GetUser", "iam:GetUserPolicy", "iam:PutUserPolicy"]
    }

    fn cli(&self, params: &Params) -> Vec<String> {
        vec![format!(
            "aws iam put-user-policy --user-name {} --policy-name {DENY_ALL_POLICY} \
             --policy-document '{}'",
            cli_value(params, "user_name"),
            deny_all_policy()
        )]
    }

    async fn run(&self, env: &StepEnv<'_>, params: &Params) -> Result<StepReport, ActionError> {
        let user = iam_name(params, "user_name")?;
        let iam = aws_sdk_iam::Client::new(&sdk_config(&self.ctx, env).await?);
        let mut calls = Vec::new();
        let facts = read_user(&iam, user, &mut calls).await?;
        let previous = user_policy(&iam, user, DENY_ALL_POLICY, &mut calls).await?;
        let wanted = deny_all_policy();
        let mut report = StepReport::new(Outcome::AlreadyDone);
        report.outputs.insert("user_arn".into(), json!(facts.arn));
        report.before =
            json!({"user_arn": facts.arn, "policy_name": DENY_ALL_POLICY, "policy": previous});
        if previous.as_ref() == Some(&wanted) {
            report.after = report.before.clone();
            report.calls = calls;
            return Ok(report);
        }
        env.guard.allow_change(&facts.arn, &facts.tags)?;
        let put =
            json!({"UserName": user, "PolicyName": DENY_ALL_POLICY, "PolicyDocument": wanted});
        if !env.execute {
            calls.push(planned("iam", "PutUserPolicy", put));
            report.outcome = Outcome::Planned;
            report.after =
                json!({"user_arn": facts.arn, "policy_name": DENY_ALL_POLICY, "policy": wanted});
        } else {
            let out = check(
                "PutUserPolicy",
                iam.put_user_policy()
                    .user_name(user)
                    .policy_name(DENY_ALL_POLICY)
                    .policy_document(wanted.to_string())
                    .send()
                    .await,
            )?;
            calls.push(made("iam", "PutUserPolicy", put, request_id(&out)));
            let now = user_policy(&iam, user, DENY_ALL_POLICY, &mut calls).await?;
            report.after =
                json!({"user_arn": facts.arn, "policy_name": DENY_ALL_POLICY, "policy": now});
            report.outcome = Outcome::Changed;
            report.resources_changed.push(facts.arn.clone());
        }
        report.calls = calls;
        Ok(report)
    }
}

// ---------------------------------------------------------------------------------------
// iam.revoke_role_sessions
// ---------------------------------------------------------------------------------------

/// `iam.revoke_role_sessions`: denies everything to sessions of a role issued before the
/// run's "now" (what the console's "Revoke active sessions" does). New sessions still work.
pub struct RevokeRoleSessions {
    ctx: AwsContext,
}

static REVOKE_ROLE_SESSIONS: ActionInfo = ActionInfo {
    name: "iam.revoke_role_sessions",
    summary: "Revoke a role's active sessions: deny all to tokens issued before now (UTC)",
    params: &[ParamDoc {
        name: "role_name",
        required: true,
        description: "The IAM role whose sessions are revoked",
    }],
    example: "- id: revoke\n  action: iam.revoke_role_sessions\n  params:\n    role_name: \"{{ inputs.role_name }}\"\n",
    mutating: true,
    dry_run: DryRunMode::Plan,
    records: "the previous vigil-revoke-sessions policy (if any) and the one written",
};

#[async_trait::async_trait]
impl Action for RevokeRoleSessions {
    fn info(&self) -> &'static ActionInfo {
        &REVOKE_ROLE_SESSIONS
    }

    fn permissions(&self, _params: &Params) -> Vec<&'static str> {
        self.all_permissions()
    }

    fn all_permissions(&self) -> Vec<&'static str> {
        REVOKE_SESSIONS_PERMISSIONS.to_vec()
    }

    fn cli(&self, params: &Params) -> Vec<String> {
        vec![format!(
            "aws iam put-role-policy --role-name {} --policy-name {REVOKE_SESSIONS_POLICY} \
             --policy-document '{{\"Version\":\"2012-10-17\",\"Statement\":[{{\"Effect\":\"Deny\",\
             \"Action\":\"*\",\"Resource\":\"*\",\"Condition\":{{\"DateLessThan\":\
             {{\"aws:TokenIssueTime\":\"'\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"'\"}}}}}}]}}'",
            cli_value(params, "role_name")
        )]
    }

    async fn run(&self, env: &StepEnv<'_>, params: &Params) -> Result<StepReport, ActionError> {
        let role = iam_name(params, "role_name")?;
        let iam = aws_sdk_iam::Client::new(&sdk_config(&self.ctx, env).await?);
        let revoked = revoke_role_sessions(&iam, env, role).await?;
        let mut report = StepReport::new(Outcome::AlreadyDone);
        report.calls = revoked.calls;
        report.before = json!({"role_arn": revoked.role_arn, "policy_name": REVOKE_SESSIONS_POLICY, "policy": revoked.previous});
        report
            .outputs
            .insert("role_arn".into(), json!(revoked.role_arn));
        report.outputs.insert(
            "revoked_before".into(),
            json!(env.now.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
        );
        if !revoked.changed {
            report.after = report.before.clone();
            report.note = Some("a revoke policy at least this recent is already in place".into());
        } else if !env.execute {
            report.outcome = Outcome::Planned;
            report.after = json!({"role_arn": revoked.role_arn, "policy_name": REVOKE_SESSIONS_POLICY, "policy": revoked.policy});
        } else {
            let mut calls = Vec::new();
            let now = role_policy(&iam, role, REVOKE_SESSIONS_POLICY, &mut calls).await?;
            report.calls.extend(calls);
            report.after = json!({"role_arn": revoked.role_arn, "policy_name": REVOKE_SESSIONS_POLICY, "policy": now});
            report.outcome = Outcome::Changed;
            report.resources_changed.push(revoked.role_arn);
        }
        Ok(report)
    }
}

async fn role_policy(
    iam: &aws_sdk_iam::Client,
    role: &str,
    policy: &str,
    calls: &mut Vec<vigil_respond::action::ApiCall>,
) -> Result<Option<Value>, ActionError> {
    let out = check_optional(
        "GetRolePolicy",
        iam.get_role_policy()
            .role_name(role)
            .policy_name(policy)
            .send()
            .await,
    )?;
    calls.push(made(
        "iam",
        "GetRolePolicy",
        json!({"RoleName": role, "PolicyName": policy}),
        out.as_ref().and_then(request_id),
    ));
    out.map(|o| decode_policy_document(o.policy_document()))
        .transpose()
}

// ---------------------------------------------------------------------------------------
// iam.delete_login_profile
// ---------------------------------------------------------------------------------------

/// `iam.delete_login_profile`: removes a user's console password. The profile's creation
/// date is kept in `before`, since the password itself cannot be read or restored.
pub struct DeleteLoginProfile {
    ctx: AwsContext,
}

static DELETE_LOGIN_PROFILE: ActionInfo = ActionInfo {
    name: "iam.delete_login_profile",
    summary: "Delete an IAM user's console password (login profile)",
    params: &[ParamDoc {
        name: "user_name",
        required: true,
        description: "The IAM user",
    }],
    example: "- id: no-console\n  action: iam.delete_login_profile\n  params:\n    user_name: \"{{ steps.disable-key.outputs.user_name }}\"\n",
    mutating: true,
    dry_run: DryRunMode::Plan,
    records: "whether a login profile existed, its creation date and reset flag",
};

async fn login_profile(
    iam: &aws_sdk_iam::Client,
    user: &str,
    calls: &mut Vec<vigil_respond::action::ApiCall>,
) -> Result<Value, ActionError> {
    let out = check_optional(
        "GetLoginProfile",
        iam.get_login_profile().user_name(user).send().await,
    )?;
    calls.push(made(
        "iam",
        "GetLoginProfile",
        json!({"UserName": user}),
        out.as_ref().and_then(request_id),
    ));
    let profile = out.as_ref().and_then(|o| o.login_profile()).map(|p| {
        json!({
            "create_date": p.create_date().to_string(),
            "password_reset_required": p.password_reset_required(),
        })
    });
    Ok(
        json!({"user_name": user, "login_profile_exists": profile.is_some(), "login_profile": profile}),
    )
}

#[async_trait::async_trait]
impl Action for DeleteLoginProfile {
    fn info(&self) -> &'static ActionInfo {
        &DELETE_LOGIN_PROFILE
    }

    fn permissions(&self, _params: &Params) -> Vec<&'static str> {
        self.all_permissions()
    }

    fn all_permissions(&self) -> Vec<&'static str> {
        vec![
            "iam:DeleteLoginProfile",
            "iam:GetLoginProfile",
            "iam:GetUser",
        ]
    }

    fn cli(&self, params: &Params) -> Vec<String> {
        let user = cli_value(params, "user_name");
        vec![
            format!("aws iam get-login-profile --user-name {user}"),
            format!("aws iam delete-login-profile --user-name {user}"),
        ]
    }

    async fn run(&self, env: &StepEnv<'_>, params: &Params) -> Result<StepReport, ActionError> {
        let user = iam_name(params, "user_name")?;
        let iam = aws_sdk_iam::Client::new(&sdk_config(&self.ctx, env).await?);
        let mut calls = Vec::new();
        let facts = read_user(&iam, user, &mut calls).await?;
        let before = login_profile(&iam, user, &mut calls).await?;
        let mut report = StepReport::new(Outcome::AlreadyDone);
        report.outputs.insert("user_arn".into(), json!(facts.arn));
        report.outputs.insert(
            "had_login_profile".into(),
            before["login_profile_exists"].clone(),
        );
        if before["login_profile_exists"] == false {
            report.after = before.clone();
            report.before = before;
            report.calls = calls;
            report.note = Some(format!("user {user} has no console password"));
            return Ok(report);
        }
        env.guard.allow_change(&facts.arn, &facts.tags)?;
        let delete = json!({"UserName": user});
        if !env.execute {
            calls.push(planned("iam", "DeleteLoginProfile", delete));
            report.outcome = Outcome::Planned;
            report.after = before.clone();
        } else {
            let out = check(
                "DeleteLoginProfile",
                iam.delete_login_profile().user_name(user).send().await,
            )?;
            calls.push(made("iam", "DeleteLoginProfile", delete, request_id(&out)));
            report.after = login_profile(&iam, user, &mut calls).await?;
            report.outcome = Outcome::Changed;
            report.resources_changed.push(facts.arn.clone());
        }
        report.before = before;
        report.calls = calls;
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(value: Value) -> Params {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn temporary_keys_are_refused_with_a_pointer_to_session_revocation() {
        let err =
            access_key_id(&params(json!({"access_key_id": "ASIAEXAMPLE123456789"}))).unwrap_err();
        assert!(
            matches!(&err, ActionError::InvalidParams(m) if m.contains("revoke")),
            "{err}"
        );
        assert!(access_key_id(&params(json!({"access_key_id": "AKIA; rm"}))).is_err());
        assert_eq!(
            access_key_id(&params(json!({"access_key_id": "AKIAIOSFODNN7EXAMPLE"}))).unwrap(),
            "AKIAIOSFODNN7EXAMPLE"
        );
    }

    #[tokio::test]
    async fn permissions_follow_the_parameters() {
        let ctx = AwsContext::load(vigil_aws::AwsOptions::for_emulator("http://127.0.0.1:9"))
            .await
            .unwrap();
        let action = DeactivateAccessKey { ctx };
        let with_user = params(json!({"access_key_id": "AKIA1", "user_name": "alice"}));
        let without = params(json!({"access_key_id": "AKIA1"}));
        assert!(!action
            .permissions(&with_user)
            .contains(&"iam:GetAccessKeyLastUsed"));
        assert!(action
            .permissions(&without)
            .contains(&"iam:GetAccessKeyLastUsed"));
        assert!(action.cli(&without)[0].contains("get-access-key-last-used"));
    }

    #[test]
    fn iam_names_are_checked() {
        assert!(iam_name(&params(json!({"user_name": "alice@corp"})), "user_name").is_ok());
        assert!(iam_name(&params(json!({"user_name": "a/b"})), "user_name").is_err());
        assert!(iam_name(&params(json!({"user_name": "x".repeat(65)})), "user_name").is_err());
    }

    #[test]
    fn deny_all_denies_everything() {
        let p = deny_all_policy();
        assert_eq!(p["Statement"][0]["Effect"], "Deny");
        assert_eq!(p["Statement"][0]["Action"], "*");
        assert_eq!(p["Statement"][0]["Resource"], "*");
    }
}
