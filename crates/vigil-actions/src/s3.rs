//! Closing S3 data exposure: block public access on a bucket, drop public ACL grants, remove
//! public bucket-policy statements, turn on default encryption.
//!
//! Every action finds the bucket's region first (`GetBucketLocation`) and talks to that
//! region, reads the bucket's tags for the guard (`vigil:protected=true` is refused), and
//! records the whole previous configuration in `before`.

use std::sync::Arc;

use aws_sdk_s3::types::{
    AccessControlPolicy, Grant, PublicAccessBlockConfiguration, ServerSideEncryption,
    ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
    Type,
};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde_json::{json, Value};
use vigil_aws::AwsContext;
use vigil_respond::action::{
    Action, ActionError, ActionInfo, ApiCall, DryRunMode, Outcome, ParamDoc, Params, StepEnv,
    StepReport,
};

use crate::common::{
    check, cli_value, made, optional_str, planned, request_id, required_str, sdk_config,
    store_json, SdkResult,
};
use crate::ActionOptions;

/// Group grantees that make an ACL public.
pub const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
pub const AUTHENTICATED_USERS: &str = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";

/// Every S3 action, each holding `ctx`.
pub fn actions(ctx: &AwsContext, _opts: &ActionOptions) -> Vec<Arc<dyn Action>> {
    vec![
        Arc::new(BlockPublicAccess { ctx: ctx.clone() }),
        Arc::new(RemovePublicAcl { ctx: ctx.clone() }),
        Arc::new(RemovePublicPolicyStatements { ctx: ctx.clone() }),
        Arc::new(EnableDefaultEncryption { ctx: ctx.clone() }),
    ]
}

// ---------------------------------------------------------------------------------------
// Shared: bucket name, regional client, tags
// ---------------------------------------------------------------------------------------

/// Checks a bucket name (3–63 characters: lowercase letters, digits, `.`, `-`).
fn bucket_param(params: &Params) -> Result<&str, ActionError> {
    let bucket = required_str(params, "bucket")?;
    let ok = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
    if ok {
        Ok(bucket)
    } else {
        Err(ActionError::InvalidParams(format!(
            "parameter `bucket` = {bucket:?} is not an S3 bucket name"
        )))
    }
}

/// An S3 client for the bucket's own region, with the bucket's ARN and tags.
struct Bucket {
    client: aws_sdk_s3::Client,
    name: String,
    arn: String,
    tags: Vec<(String, String)>,
}

fn s3_client(ctx: &AwsContext, cfg: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    // Emulators serve buckets by path, not by virtual host.
    let conf = aws_sdk_s3::config::Builder::from(cfg)
        .force_path_style(ctx.is_emulator())
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// Treats the service error `absent` (e.g. `NoSuchBucketPolicy`) as "nothing configured".
fn absent_ok<T, E>(
    operation: &str,
    absent: &str,
    result: SdkResult<T, E>,
) -> Result<Option<T>, ActionError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match result {
        Err(e) if e.code() == Some(absent) => Ok(None),
        other => check(operation, other).map(Some),
    }
}

impl Bucket {
    async fn open(
        ctx: &AwsContext,
        env: &StepEnv<'_>,
        name: &str,
        calls: &mut Vec<ApiCall>,
    ) -> Result<Bucket, ActionError> {
        let cfg = sdk_config(ctx, env).await?;
        let mut client = s3_client(ctx, &cfg);
        let out = check(
            "GetBucketLocation",
            client.get_bucket_location().bucket(name).send().await,
        )?;
        calls.push(made(
            "s3",
            "GetBucketLocation",
            json!({"Bucket": name}),
            request_id(&out),
        ));
        let region = match out.location_constraint().map(|c| c.as_str()) {
            None | Some("") => "us-east-1".to_string(),
            Some("EU") => "eu-west-1".to_string(),
            Some(other) => other.to_string(),
        };
        if cfg.region().map(|r| r.as_ref()) != Some(region.as_str()) {
            let regional = ctx
                .config_for(env.account, Some(&region))
                .await
                .map_err(|e| {
                    ActionError::Failed(format!("cannot reach bucket {name} in {region}: {e}"))
                })?;
            client = s3_client(ctx, &regional);
        }
        let tagging = absent_ok(
            "GetBucketTagging",
            "NoSuchTagSet",
            client.get_bucket_tagging().bucket(name).send().await,
        )?;
        calls.push(made(
            "s3",
            "GetBucketTagging",
            json!({"Bucket": name}),
            tagging.as_ref().and_then(request_id),
        ));
        let tags = tagging
            .map(|t| {
                t.tag_set()
                    .iter()
                    .map(|t| (t.key().to_string(), t.value().to_string()))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Bucket {
            client,
            name: name.to_string(),
            arn: format!("arn:aws:s3:::{name}"),
            tags,
        })
    }
}

/// A report whose before and after are both `state` (nothing to change).
fn unchanged(calls: Vec<ApiCall>, state: Value, outcome: Outcome, note: String) -> StepReport {
    let mut report = StepReport::new(outcome);
    report.calls = calls;
    report.before = state.clone();
    report.after = state;
    report.note = Some(note);
    report
}

// ---------------------------------------------------------------------------------------
// s3.block_public_access
// ---------------------------------------------------------------------------------------

/// `s3.block_public_access`: turns on all four Block Public Access settings of a bucket.
pub struct BlockPublicAccess {
    ctx: AwsContext,
}

static BLOCK_PUBLIC_ACCESS: ActionInfo = ActionInfo {
    name: "s3.block_public_access",
    summary: "Turn on all four S3 Block Public Access settings of a bucket",
    params: &[ParamDoc { name: "bucket", required: true, description: "The bucket" }],
    example: "- id: block\n  action: s3.block_public_access\n  params:\n    bucket: \"{{ inputs.bucket }}\"\n",
    mutating: true,
    dry_run: DryRunMode::Plan,
    records: "the bucket's previous Block Public Access configuration (or none)",
};

async fn read_block(bucket: &Bucket, calls: &mut Vec<ApiCall>) -> Result<Value, ActionError> {
    let out = absent_ok(
        "GetPublicAccessBlock",
        "NoSuchPublicAccessBlockConfiguration",
        bucket
            .client
            .get_public_access_block()
            .bucket(&bucket.name)
            .send()
            .await,
    )?;
    calls.push(made(
        "s3",
        "GetPublicAccessBlock",
        json!({"Bucket": bucket.name}),
        out.as_ref().and_then(request_id),
    ));
    Ok(
        match out
            .as_ref()
            .and_then(|o| o.public_access_block_configuration())
        {
            Some(c) => json!({
                "BlockPublicAcls": c.block_public_acls().unwrap_or(false),
                "IgnorePublicAcls": c.ignore_public_acls().unwrap_or(false),
                "BlockPublicPolicy": c.block_public_policy().unwrap_or(false),
                "RestrictPublicBuckets": c.restrict_public_buckets().unwrap_or(false),
            }),
            None => Value::Null,
        },
    )
}

fn all_blocked() -> Value {
    json!({"BlockPublicAcls": true, "IgnorePublicAcls": true, "BlockPublicPolicy": true, "RestrictPublicBuckets": true})
}

#[async_trait::async_trait]
impl Action for BlockPublicAccess {
    fn info(&self) -> &'static ActionInfo {
        &BLOCK_PUBLIC_ACCESS
    }

    fn permissions(&self, _params: &Params) -> Vec<&'static str> {
        self.all_permissions()
    }

    fn all_permissions(&self) -> Vec<&'static str> {
        vec![
            "s3:GetBucketLocation",
            "s3:GetBucketPublicAccessBlock",
            "s3:GetBucketTagging",
            "s3:PutBucketPublicAccessBlock",
        ]
    }

    fn cli(&self, params: &Params) -> Vec<String> {
        vec![format!(
            "aws s3api put-public-access-block --bucket {} --public-access-block-configuration \
             BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true",
            cli_value(params, "bucket")
        )]
    }

    async fn run(&self, env: &StepEnv<'_>, params: &Params) -> Result<StepReport, ActionError> {
        let name = bucket_param(params)?;
        let mut calls = Vec::new();
        let bucket = Bucket::open(&self.ctx, env, name, &mut calls).await?;
        let before =
            json!({"bucket": name, "public_access_block": read_block(&bucket, &mut calls).await?});
        if before["public_access_block"] == all_blocked() {
            return Ok(unchanged(
                calls,
                before,
                Outcome::AlreadyDone,
                format!("{name}: public access already blocked"),
            ));
        }
        env.guard.allow_change(&bucket.arn, &bucket.tags)?;
        let put = json!({"Bucket": name, "PublicAccessBlockConfiguration": all_blocked()});
        if !env.execute {
            calls.push(planned("s3", "PutPublicAccessBlock", put));
            return Ok(unchanged(
                calls,
                before,
                Outcome::Planned,
                format!("would block public access on {name}"),
            ));
        }
        let config = PublicAccessBlockConfiguration::builder()
            .block_public_acls(true)
            .ignore_public_acls(true)
            .block_public_policy(true)
            .restrict_public_buckets(true)
            .build();
        let out = check(
            "PutPublicAccessBlock",
            bucket
                .client
                .put_public_access_block()
                .bucket(name)
                .public_access_block_configuration(config)
                .send()
                .await,
        )?;
        calls.push(made("s3", "PutPublicAccessBlock", put, request_id(&out)));
        let mut report = StepReport::new(Outcome::Changed);
        report.after =
            json!({"bucket": name, "public_access_block": read_block(&bucket, &mut calls).await?});
        report.before = before;
        report.calls = calls;
        report.resources_changed.push(bucket.arn);
        Ok(report)
    }
}

// ---------------------------------------------------------------------------------------
// s3.remove_public_acl
// ---------------------------------------------------------------------------------------

/// `s3.remove_public_acl`: removes the bucket ACL's grants to AllUsers and
/// AuthenticatedUsers (any AWS account), keeping every other grant.
pub struct RemovePublicAcl {
    ctx: AwsContext,
}

static REMOVE_PUBLIC_ACL: ActionInfo = ActionInfo {
    name: "s3.remove_public_acl",
    summary: "Remove a bucket ACL's grants to AllUsers and AuthenticatedUsers, keeping the rest",
    params: &[ParamDoc { name: "bucket", required: true, description: "The bucket" }],
    example: "- id: acl\n  action: s3.remove_public_acl\n  params:\n    bucket: \"{{ inputs.bucket }}\"\n",
    mutating: true,
    dry_run: DryRunMode::Plan,
    records: "the bucket's full ACL (owner and grants) before and after",
};

fn is_public_grant(grant: &Grant) -> bool {
    grant.grantee().is_some_and(|g| {
        *g.r#type() == Type::Group && matches!(g.uri(), Some(ALL_USERS | AUTHENTICATED_USERS))
    })
}

fn grant_json(grant: &Grant) -> Value {
    let grantee = grant.grantee();
    json!({
        "grantee_type": grantee.map(|g| g.r#type().as_str()),
        "id": grantee.and_then(|g| g.id()),
        "uri": grantee.and_then(|g| g.uri()),
        "email": grantee.and_then(|g| g.email_address()),
        "permission": grant.permission().map(|p| p.as_str()),
    })
}

async fn read_acl(
    bucket: &Bucket,
    calls: &mut Vec<ApiCall>,
) -> Result<
    (
        aws_sdk_s3::operation::get_bucket_acl::GetBucketAclOutput,
        Value,
    ),
    ActionError,
> {
    let out = check(
        "GetBucketAcl",
        bucket
            .client
            .get_bucket_acl()
            .bucket(&bucket.name)
            .send()
            .await,
    )?;
    calls.push(made(
        "s3",
        "GetBucketAcl",
        json!({"Bucket": bucket.name}),
        request_id(&out),
    ));
    let state = json!({
        "bucket": bucket.name,
        "owner": out.owner().and_then(|o| o.id()),
        "grants": out.grants().iter().map(grant_json).collect::<Vec<_>>(),
    });
    Ok((out, state))
}

#[async_trait::async_trait]
impl Action for RemovePublicAcl {
    fn info(&self) -> &'static ActionInfo {
        &REMOVE_PUBLIC_ACL
    }

    fn permissions(&self, _params: &Params) -> Vec<&'static str> {
        self.all_permissions()
    }

    fn all_permissions(&self) -> Vec<&'static str> {
        vec![
            "s3:GetBucketAcl",
            "s3:GetBucketLocation",
            "s3:GetBucketTagging",
            "s3:PutBucketAcl",
        ]
    }

    fn cli(&self, params: &Params) -> Vec<String> {
        let bucket = cli_value(params, "bucket");
        vec![
            format!("aws s3api get-bucket-acl --bucket {bucket} > acl.json"),
            "# edit acl.json: remove the grants whose Grantee.URI ends in /AllUsers or /AuthenticatedUsers".into(),
            format!("aws s3api put-bucket-acl --bucket {bucket} --access-control-policy file://acl.json"),
        ]
    }

    async fn run(&self, env: &StepEnv<'_>, params: &Params) -> Result<StepReport, ActionError> {
        let name = bucket_param(params)?;
        let mut calls = Vec::new();
        let bucket = Bucket::open(&self.ctx, env, name, &mut calls).await?;
        let (acl, before) = read_acl(&bucket, &mut calls).await?;
        let removed: Vec<Value> = acl
            .grants()
            .iter()
            .filter(|g| is_public_grant(g))
            .map(grant_json)
            .collect();
        if removed.is_empty() {
            return Ok(unchanged(
                calls,
                before,
                Outcome::AlreadyDone,
                format!("{name}: the ACL grants nothing to the public"),
            ));
        }
        env.guard.allow_change(&bucket.arn, &bucket.tags)?;
        let kept: Vec<Grant> = acl
            .grants()
            .iter()
            .filter(|g| !is_public_grant(g))
            .cloned()
            .collect();
        let put = json!({"Bucket": name, "AccessControlPolicy": {
            "Owner": acl.owner().and_then(|o| o.id()),
            "Grants": kept.iter().map(grant_json).collect::<Vec<_>>(),
        }});
        let mut report = StepReport::new(Outcome::Planned);
        report
            .outputs
            .insert("removed_grants".into(), json!(removed));
        if !env.execute {
            calls.push(planned("s3", "PutBucketAcl", put));
            report.after = before.clone();
        } else {
            let policy = AccessControlPolicy::builder()
                .set_owner(acl.owner().cloned())
                .set_grants(Some(kept))
                .build();
            let out = check(
                "PutBucketAcl",
                bucket
                    .client
                    .put_bucket_acl()
                    .bucket(name)
                    .access_control_policy(policy)
                    .send()
                    .await,
            )?;
            calls.push(made("s3", "PutBucketAcl", put, request_id(&out)));
            report.after = read_acl(&bucket, &mut calls).await?.1;
            report.outcome = Outcome::Changed;
            report.resources_changed.push(bucket.arn.clone());
        }
        report.before = before;
        report.calls = calls;
        Ok(report)
    }
}

// ---------------------------------------------------------------------------------------
// s3.remove_public_policy_statements
// ---------------------------------------------------------------------------------------

/// Condition keys whose fixed values an outside caller cannot choose (after S3's definition
/// of a non-public policy, plus the principal keys IAM Access Analyzer also accepts).
const RESTRICTING_KEYS: &[&str] = &[
    "aws:sourceip",
    "aws:sourcearn",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceowner",
    "aws:sourceaccount",
    "aws:principalorgid",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:userid",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
];

/// Operators that require the key to be present and equal to a listed value.
const RESTRICTING_OPERATORS: &[&str] = &[
    "stringequals",
    "stringequalsignorecase",
    "stringlike",
    "arnequals",
    "arnlike",
    "ipaddress",
];

fn as_list(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    }
}

/// True when the statement's principal is anyone: `"*"`, a `*` in any principal list, or an
/// Allow with `NotPrincipal` (everyone but the listed).
fn principal_is_public(statement: &Value) -> bool {
    if statement.get("NotPrincipal").is_some() {
        return true;
    }
    match statement.get("Principal") {
        Some(Value::String(s)) => s.contains('*'),
        Some(Value::Object(map)) => map
            .values()
            .flat_map(as_list)
            .any(|v| v.as_str().is_none_or(|s| s.contains('*'))),
        Some(_) => true,
        None => false,
    }
}

/// A fixed value: no wildcard, no policy variable; IP ranges no wider than /8 (IPv4) or /32
/// (IPv6), as S3 judges them.
fn is_fixed_value(key: &str, value: &Value) -> bool {
    let Some(text) = value.as_str() else {
        return false;
    };
    if text.is_empty() || text.contains(['*', '?']) || text.contains("${") {
        return false;
    }
    if key == "aws:sourceip" {
        return match text.parse::<ipnet::IpNet>() {
            Ok(ipnet::IpNet::V4(n)) => n.prefix_len() >= 8,
            Ok(ipnet::IpNet::V6(n)) => n.prefix_len() >= 32,
            Err(_) => text.parse::<std::net::IpAddr>().is_ok(),
        };
    }
    true
}

/// True when the condition block ties the caller to values it cannot choose.
fn condition_restricts(condition: Option<&Value>) -> bool {
    let Some(Value::Object(operators)) = condition else {
        return false;
    };
    operators.iter().any(|(operator, keys)| {
        let op = operator.to_ascii_lowercase();
        let Value::Object(keys) = keys else {
            return false;
        };
        RESTRICTING_OPERATORS.contains(&op.as_str())
            && keys.iter().any(|(key, values)| {
                let key = key.to_ascii_lowercase();
                let values = as_list(values);
                RESTRICTING_KEYS.contains(&key.as_str())
                    && !values.is_empty()
                    && values.iter().all(|v| is_fixed_value(&key, v))
            })
    })
}

/// The indexes of the statements that grant public access (anyone, or any AWS account),
/// decided by the `vigil-policy` analyzer, which is sound: it never calls a public grant
/// private. A policy the analyzer cannot parse falls back to a conservative test (see
/// below), so a malformed policy never hides a public statement.
pub fn public_statements(policy: &Value) -> Vec<usize> {
    match vigil_policy::Policy::from_value(policy) {
        Ok(parsed) => {
            let ctx = vigil_policy::AnalysisContext::new(vigil_policy::ResourceKind::S3Bucket, "");
            let mut public: Vec<usize> = vigil_policy::analyze(&parsed, &ctx)
                .grants
                .iter()
                .filter(|g| g.source == vigil_policy::GrantSource::Policy && g.exposure.is_public())
                .map(|g| g.statement)
                .collect();
            public.sort_unstable();
            public.dedup();
            public
        }
        Err(_) => public_statements_conservative(policy),
    }
}

/// Indices of the statements of a bucket policy that grant access to the public: Allow, a
/// public principal, and no condition restricting the caller by a key it cannot control.
///
/// Conservative by design: an action list is not examined (any allowed action counts), and a
/// condition restricts only with an equality operator (never `...IfExists`, negations or
/// set qualifiers) on a key from [`RESTRICTING_KEYS`].
fn public_statements_conservative(policy: &Value) -> Vec<usize> {
    let statements = match policy.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect::<Vec<_>>(),
        Some(single @ Value::Object(_)) => vec![single],
        _ => return Vec::new(),
    };
    statements
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            s.get("Effect").and_then(Value::as_str) == Some("Allow")
                && principal_is_public(s)
                && !condition_restricts(s.get("Condition"))
        })
        .map(|(i, _)| i)
        .collect()
}

/// The policy without the statements at `remove`; `None` when nothing is left.
fn without_statements(policy: &Value, remove: &[usize]) -> Option<Value> {
    let statements: Vec<Value> = match policy.get("Statement") {
        Some(Value::Array(items)) => items.clone(),
        Some(single @ Value::Object(_)) => vec![single.clone()],
        _ => Vec::new(),
    };
    let kept: Vec<Value> = statements
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !remove.contains(i))
        .map(|(_, s)| s)
        .collect();
    if kept.is_empty() {
        return None;
    }
    let mut out = policy.clone();
    out["Statement"] = Value::Array(kept);
    Some(out)
}

/// `s3.remove_public_policy_statements`: rewrites a bucket policy without its public
/// statements (deleting the policy when none is left); the original is kept as evidence.
pub struct RemovePublicPolicyStatements {
    ctx: AwsContext,
}

static REMOVE_PUBLIC_POLICY: ActionInfo = ActionInfo {
    name: "s3.remove_public_policy_statements",
    summary: "Remove the public statements of a bucket policy (the original is kept as evidence)",
    params: &[ParamDoc { name: "bucket", required: true, description: "The bucket" }],
    example: "- id: policy\n  action: s3.remove_public_policy_statements\n  params:\n    bucket: \"{{ inputs.bucket }}\"\n",
    mutating: true,
    dry_run: DryRunMode::Plan,
    records: "the original bucket policy (also as an evidence item) and the policy written",
};

async fn read_policy(
    bucket: &Bucket,
    calls: &mut Vec<ApiCall>,
) -> Result<Option<Value>, ActionError> {
    let out = absent_ok(
        "GetBucketPolicy",
        "NoSuchBucketPolicy",
        bucket
            .client
            .get_bucket_policy()
            .bucket(&bucket.name)
            .send()
            .await,
    )?;
    calls.push(made(
        "s3",
        "GetBucketPolicy",
        json!({"Bucket": bucket.name}),
        out.as_ref().and_then(request_id),
    ));
    match out.as_ref().and_then(|o| o.policy()) {
        Some(text) => serde_json::from_str(text).map(Some).map_err(|e| {
            ActionError::Failed(format!(
                "the policy of bucket {} is not JSON: {e}",
                bucket.name
            ))
        }),
        None => Ok(None),
    }
}

impl RemovePublicPolicyStatements {
    async fn write(
        bucket: &Bucket,
        remaining: &Option<Value>,
        calls: &mut Vec<ApiCall>,
    ) -> Result<(), ActionError> {
        match remaining {
            Some(policy) => {
                let out = check(
                    "PutBucketPolicy",
                    bucket
                        .client
                        .put_bucket_policy()
                        .bucket(&bucket.name)
                        .policy(policy.to_string())
                        .send()
                        .await,
                )?;
                calls.push(made(
                    "s3",
                    "PutBucketPolicy",
                    json!({"Bucket": bucket.name, "Policy": policy}),
                    request_id(&out),
                ));
            }
            None => {
                let out = check(
                    "DeleteBucketPolicy",
                    bucket
                        .client
                        .delete_bucket_policy()
                        .bucket(&bucket.name)
                        .send()
                        .await,
                )?;
                calls.push(made(
                    "s3",
                    "DeleteBucketPolicy",
                    json!({"Bucket": bucket.name}),
                    request_id(&out),
                ));
            }
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl Action for RemovePublicPolicyStatements {
    fn info(&self) -> &'static ActionInfo {
        &REMOVE_PUBLIC_POLICY
    }

    fn permissions(&self, _params: &Params) -> Vec<&'static str> {
        self.all_permissions()
    }

    fn all_permissions(&self) -> Vec<&'static str> {
        vec![
            "s3:DeleteBucketPolicy",
            "s3:GetBucketLocation",
            "s3:GetBucketPolicy",
            "s3:GetBucketTagging",
            "s3:PutBucketPolicy",
        ]
    }

    fn cli(&self, params: &Params) -> Vec<String> {
        let bucket = cli_value(params, "bucket");
        vec![
            format!("aws s3api get-bucket-policy --bucket {bucket} --query Policy --output text > policy.json"),
            "# edit policy.json: remove the Allow statements whose Principal is \"*\"".into(),
            format!("aws s3api put-bucket-policy --bucket {bucket} --policy file://policy.json"),
            format!("# or, when no statement is left: aws s3api delete-bucket-policy --bucket {bucket}"),
        ]
    }

    async fn run(&self, env: &StepEnv<'_>, params: &Params) -> Result<StepReport, ActionError> {
        let name = bucket_param(params)?;
        let mut calls = Vec::new();
        let bucket = Bucket::open(&self.ctx, env, name, &mut calls).await?;
        let Some(policy) = read_policy(&bucket, &mut calls).await? else {
            return Ok(unchanged(
                calls,
                json!({"bucket": name, "policy": null}),
                Outcome::AlreadyDone,
                format!("{name} has no bucket policy"),
            ));
        };
        let before = json!({"bucket": name, "policy": policy});
        let public = public_statements(&policy);
        if public.is_empty() {
            return Ok(unchanged(
                calls,
                before,
                Outcome::AlreadyDone,
                format!("{name}: no public statement"),
            ));
        }
        env.guard.allow_change(&bucket.arn, &bucket.tags)?;
        let remaining = without_statements(&policy, &public);
        let mut report = StepReport::new(Outcome::Planned);
        report
            .outputs
            .insert("removed_statements".into(), json!(public));
        report
            .outputs
            .insert("policy_deleted".into(), json!(remaining.is_none()));
        if !env.execute {
            calls.push(match &remaining {
                Some(p) => planned(
                    "s3",
                    "PutBucketPolicy",
                    json!({"Bucket": name, "Policy": p}),
                ),
                None => planned("s3", "DeleteBucketPolicy", json!({"Bucket": name})),
            });
            report.after = json!({"bucket": name, "policy": remaining});
        } else {
            let sha = store_json(
                env,
                format!("{name}-bucket-policy-before.json"),
                Some(bucket.arn.clone()),
                "s3:GetBucketPolicy by s3.remove_public_policy_statements".into(),
                &policy,
            )?;
            report.evidence.push(sha);
            Self::write(&bucket, &remaining, &mut calls).await?;
            report.after =
                json!({"bucket": name, "policy": read_policy(&bucket, &mut calls).await?});
            report.outcome = Outcome::Changed;
            report.resources_changed.push(bucket.arn.clone());
        }
        report.before = before;
        report.calls = calls;
        Ok(report)
    }
}

// ---------------------------------------------------------------------------------------
// s3.enable_default_encryption
// ---------------------------------------------------------------------------------------

/// `s3.enable_default_encryption`: sets default encryption (SSE-S3, or SSE-KMS with
/// `kms_key_id`). An existing KMS configuration is never downgraded to SSE-S3.
pub struct EnableDefaultEncryption {
    ctx: AwsContext,
}

static ENABLE_DEFAULT_ENCRYPTION: ActionInfo = ActionInfo {
    name: "s3.enable_default_encryption",
    summary: "Set a bucket's default encryption: SSE-S3, or SSE-KMS with a given key",
    params: &[
        ParamDoc { name: "bucket", required: true, description: "The bucket" },
        ParamDoc { name: "kms_key_id", required: false, description: "KMS key id, ARN or alias for SSE-KMS (default SSE-S3)" },
    ],
    example: "- id: encrypt\n  action: s3.enable_default_encryption\n  params:\n    bucket: \"{{ inputs.bucket }}\"\n",
    mutating: true,
    dry_run: DryRunMode::Plan,
    records: "the bucket's previous default-encryption rules (or none)",
};

async fn read_encryption(bucket: &Bucket, calls: &mut Vec<ApiCall>) -> Result<Value, ActionError> {
    let out = absent_ok(
        "GetBucketEncryption",
        "ServerSideEncryptionConfigurationNotFoundError",
        bucket
            .client
            .get_bucket_encryption()
            .bucket(&bucket.name)
            .send()
            .await,
    )?;
    calls.push(made(
        "s3",
        "GetBucketEncryption",
        json!({"Bucket": bucket.name}),
        out.as_ref().and_then(request_id),
    ));
    let rules: Vec<Value> = out
        .as_ref()
        .and_then(|o| o.server_side_encryption_configuration())
        .map(|c| {
            c.rules()
                .iter()
                .filter_map(|r| r.apply_server_side_encryption_by_default())
                .map(|d| json!({"SSEAlgorithm": d.sse_algorithm().as_str(), "KMSMasterKeyID": d.kms_master_key_id()}))
                .collect()
        })
        .unwrap_or_default();
    Ok(json!({"bucket": bucket.name, "rules": rules}))
}

/// True when the rules already give what was asked: any default encryption for SSE-S3,
/// the same key for SSE-KMS.
fn encryption_satisfied(state: &Value, kms_key: Option<&str>) -> bool {
    let rules = state["rules"].as_array().cloned().unwrap_or_default();
    match kms_key {
        None => !rules.is_empty(),
        Some(key) => rules.iter().any(|r| {
            r["SSEAlgorithm"]
                .as_str()
                .is_some_and(|a| a.starts_with("aws:kms"))
                && r["KMSMasterKeyID"]
                    .as_str()
                    .is_some_and(|k| k == key || k.ends_with(&format!("/{key}")))
        }),
    }
}

#[async_trait::async_trait]
impl Action for EnableDefaultEncryption {
    fn info(&self) -> &'static ActionInfo {
        &ENABLE_DEFAULT_ENCRYPTION
    }

    fn permissions(&self, _params: &Params) -> Vec<&'static str> {
        self.all_permissions()
    }

    fn all_permissions(&self) -> Vec<&'static str> {
        vec![
            "s3:GetBucketLocation",
            "s3:GetBucketTagging",
            "s3:GetEncryptionConfiguration",
            "s3:PutEncryptionConfiguration",
        ]
    }

    fn cli(&self, params: &Params) -> Vec<String> {
        let default = if params.contains_key("kms_key_id") {
            format!(
                "{{\"SSEAlgorithm\":\"aws:kms\",\"KMSMasterKeyID\":\"{}\"}}",
                cli_value(params, "kms_key_id")
            )
        } else {
            "{\"SSEAlgorithm\":\"AES256\"}".to_string()
        };
        vec![format!(
            "aws s3api put-bucket-encryption --bucket {} --server-side-encryption-configuration \
             '{{\"Rules\":[{{\"ApplyServerSideEncryptionByDefault\":{default}}}]}}'",
            cli_value(params, "bucket")
        )]
    }

    async fn run(&self, env: &StepEnv<'_>, params: &Params) -> Result<StepReport, ActionError> {
        let name = bucket_param(params)?;
        let kms_key = optional_str(params, "kms_key_id")?;
        let mut calls = Vec::new();
        let bucket = Bucket::open(&self.ctx, env, name, &mut calls).await?;
        let before = read_encryption(&bucket, &mut calls).await?;
        if encryption_satisfied(&before, kms_key) {
            return Ok(unchanged(
                calls,
                before,
                Outcome::AlreadyDone,
                format!("{name}: default encryption already set"),
            ));
        }
        env.guard.allow_change(&bucket.arn, &bucket.tags)?;
        let (algorithm, key) = match kms_key {
            Some(k) => (ServerSideEncryption::AwsKms, Some(k.to_string())),
            None => (ServerSideEncryption::Aes256, None),
        };
        let put = json!({"Bucket": name, "ServerSideEncryptionConfiguration": {"Rules": [
            {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": algorithm.as_str(), "KMSMasterKeyID": key}, "BucketKeyEnabled": kms_key.is_some()}
        ]}});
        let mut report = StepReport::new(Outcome::Planned);
        if !env.execute {
            calls.push(planned("s3", "PutBucketEncryption", put));
            report.after = before.clone();
        } else {
            let default = ServerSideEncryptionByDefault::builder()
                .sse_algorithm(algorithm)
                .set_kms_master_key_id(key)
                .build()
                .map_err(|e| ActionError::InvalidParams(e.to_string()))?;
            let config = ServerSideEncryptionConfiguration::builder()
                .rules(
                    ServerSideEncryptionRule::builder()
                        .apply_server_side_encryption_by_default(default)
                        .bucket_key_enabled(kms_key.is_some())
                        .build(),
                )
                .build()
                .map_err(|e| ActionError::InvalidParams(e.to_string()))?;
            let out = check(
                "PutBucketEncryption",
                bucket
                    .client
                    .put_bucket_encryption()
                    .bucket(name)
                    .server_side_encryption_configuration(config)
                    .send()
                    .await,
            )?;
            calls.push(made("s3", "PutBucketEncryption", put, request_id(&out)));
            report.after = read_encryption(&bucket, &mut calls).await?;
            report.outcome = Outcome::Changed;
            report.resources_changed.push(bucket.arn.clone());
        }
        report.before = before;
        report.calls = calls;
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(statements: Value) -> Value {
        json!({"Version": "2012-10-17", "Statement": statements})
    }

    #[test]
    fn public_principals_without_restriction_are_public() {
        let p = policy(json!([
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"},
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:*", "Resource": "*"},
            {"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::111122223333:root", "*"]}, "Action": "s3:*", "Resource": "*"},
            {"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "s3:*", "Resource": "*"},
            {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"},
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "s3:*", "Resource": "*"},
            {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject", "Resource": "*"}
        ]));
        assert_eq!(public_statements_conservative(&p), vec![0, 1, 2, 3]);
    }

    #[test]
    fn the_analyzer_decides_which_statements_are_public() {
        let public = json!([
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"},
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "s3:*", "Resource": "*"},
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*",
             "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}},
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*",
             "Condition": {"StringLike": {"aws:SourceVpce": "*"}}}
        ]);
        assert_eq!(public_statements(&policy(public.clone())), vec![0, 3]);
        // An unconditional Deny for everyone cancels every Allow: nothing is public.
        let mut denied = public.as_array().cloned().unwrap_or_default();
        denied.push(json!({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}));
        assert!(public_statements(&policy(Value::Array(denied))).is_empty());
        // A policy the analyzer rejects falls back to the conservative test.
        let odd = json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": 5}]});
        assert_eq!(
            public_statements(&odd),
            public_statements_conservative(&odd)
        );
    }

    #[test]
    fn conditions_restrict_only_with_fixed_values_of_uncontrollable_keys() {
        let with = |condition: Value| {
            policy(
                json!([{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*", "Condition": condition}]),
            )
        };
        // Restricting: the caller cannot choose these.
        assert!(public_statements_conservative(&with(
            json!({"StringEquals": {"aws:SourceVpce": "vpce-1a2b"}})
        ))
        .is_empty());
        assert!(public_statements_conservative(&with(
            json!({"StringEquals": {"aws:PrincipalOrgID": "o-abc"}})
        ))
        .is_empty());
        assert!(public_statements_conservative(&with(
            json!({"IpAddress": {"aws:SourceIp": ["203.0.113.0/24"]}})
        ))
        .is_empty());
        assert!(public_statements_conservative(&with(
            json!({"ArnEquals": {"aws:SourceArn": "arn:aws:cloudfront::1:distribution/E1"}})
        ))
        .is_empty());
        // Not restricting: caller-controlled keys, wildcards, broad ranges, IfExists, negation.
        assert_eq!(
            public_statements_conservative(&with(
                json!({"StringEquals": {"aws:UserAgent": "curl"}})
            )),
            vec![0]
        );
        assert_eq!(
            public_statements_conservative(&with(
                json!({"StringLike": {"aws:SourceVpce": "vpce-*"}})
            )),
            vec![0]
        );
        assert_eq!(
            public_statements_conservative(&with(
                json!({"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}})
            )),
            vec![0]
        );
        assert_eq!(
            public_statements_conservative(&with(
                json!({"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "0.0.0.0/1"]}})
            )),
            vec![0]
        );
        assert_eq!(
            public_statements_conservative(&with(
                json!({"StringEqualsIfExists": {"aws:SourceVpce": "vpce-1"}})
            )),
            vec![0]
        );
        assert_eq!(
            public_statements_conservative(&with(
                json!({"StringNotEquals": {"aws:SourceVpce": "vpce-1"}})
            )),
            vec![0]
        );
        assert_eq!(
            public_statements_conservative(&with(json!({"Bool": {"aws:SecureTransport": "true"}}))),
            vec![0]
        );
        assert_eq!(
            public_statements_conservative(&with(
                json!({"StringEquals": {"aws:SourceAccount": "${aws:PrincipalAccount}"}})
            )),
            vec![0]
        );
    }

    #[test]
    fn a_single_statement_object_is_handled() {
        let p = json!({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}});
        assert_eq!(public_statements(&p), vec![0]);
        assert_eq!(without_statements(&p, &[0]), None);
        assert!(public_statements(&json!({"Version": "2012-10-17"})).is_empty());
    }

    #[test]
    fn removal_keeps_the_other_statements_in_order() {
        let p = policy(json!([{"Sid": "a"}, {"Sid": "b"}, {"Sid": "c"}]));
        let kept = without_statements(&p, &[1]).unwrap();
        assert_eq!(kept["Statement"], json!([{"Sid": "a"}, {"Sid": "c"}]));
        assert_eq!(kept["Version"], "2012-10-17");
    }

    #[test]
    fn encryption_is_never_downgraded() {
        let kms = json!({"rules": [{"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "arn:aws:kms:us-east-1:1:key/k1"}]});
        let sse_s3 = json!({"rules": [{"SSEAlgorithm": "AES256", "KMSMasterKeyID": null}]});
        let none = json!({"rules": []});
        assert!(encryption_satisfied(&kms, None));
        assert!(encryption_satisfied(&kms, Some("k1")));
        assert!(!encryption_satisfied(&kms, Some("k2")));
        assert!(encryption_satisfied(&sse_s3, None));
        assert!(!encryption_satisfied(&sse_s3, Some("k1")));
        assert!(!encryption_satisfied(&none, None));
    }

    #[test]
    fn bucket_names_are_checked() {
        let p = |b: &str| -> Params { serde_json::from_value(json!({"bucket": b})).unwrap() };
        assert!(bucket_param(&p("my-bucket.logs")).is_ok());
        assert!(bucket_param(&p("My_Bucket")).is_err());
        assert!(bucket_param(&p("ab")).is_err());
    }
}
