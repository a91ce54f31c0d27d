//! What every action module shares: SDK error mapping, request ids, parameter parsing, tag
//! conversion, `ApiCall` builders, EC2 dry-run handling, evidence storage, and the IAM
//! session revocation used by both `ec2.remove_instance_profile` and
//! `iam.revoke_role_sessions`.

use std::collections::BTreeMap;

use aws_config::SdkConfig;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response as HttpResponse;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_types::request_id::RequestId;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use vigil_aws::AwsContext;
use vigil_respond::action::{ActionError, ApiCall, EvidenceItem, Params, StepEnv};

/// The result type of every SDK `send()`.
pub type SdkResult<T, E> = Result<T, SdkError<E, HttpResponse>>;

/// The tag that marks a resource vigil must never change.
pub const PROTECTED_TAG: &str = "vigil:protected";

/// The error code EC2 answers a `DryRun=true` call with when the real call would succeed.
pub const DRY_RUN_OK: &str = "DryRunOperation";

// ---------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------

/// The SDK configuration for the step's account and region.
pub async fn sdk_config(ctx: &AwsContext, env: &StepEnv<'_>) -> Result<SdkConfig, ActionError> {
    ctx.config_for(env.account, env.region)
        .await
        .map_err(|e| match e {
            vigil_aws::AwsError::AssumeRole { .. } => ActionError::Denied(e.to_string()),
            vigil_aws::AwsError::InvalidOption(_) => ActionError::InvalidParams(e.to_string()),
            other => ActionError::Failed(other.to_string()),
        })
}

// ---------------------------------------------------------------------------------------
// Errors and request ids
// ---------------------------------------------------------------------------------------

/// How an AWS error code is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    Transient,
    Denied,
    NotFound,
    Invalid,
    Other,
}

/// Classifies an AWS error code (the `Code` of the error response).
pub fn classify_code(code: &str) -> ErrorClass {
    const TRANSIENT: &[&str] = &[
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "SlowDown",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "Unavailable",
        "InternalError",
        "InternalFailure",
        "InternalServiceError",
        "InternalServerError",
        "InternalServerException",
        "RequestTimeout",
        "RequestTimeoutException",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
        "BandwidthLimitExceeded",
        "ConcurrentModification",
        "ConcurrentModificationException",
        "IncorrectInstanceState",
    ];
    const DENIED: &[&str] = &[
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnauthorizedAccess",
        "Client.UnauthorizedOperation",
        "AuthFailure",
        "Forbidden",
        "InvalidClientTokenId",
        "ExpiredToken",
        "ExpiredTokenException",
        "SignatureDoesNotMatch",
        "OptInRequired",
        "AuthorizationError",
    ];
    const INVALID: &[&str] = &[
        "InvalidParameter",
        "InvalidParameterValue",
        "InvalidParameterCombination",
        "InvalidInput",
        "MissingParameter",
        "ValidationError",
        "ValidationException",
        "MalformedPolicyDocument",
        "InvalidArgument",
    ];
    if TRANSIENT.contains(&code) {
        ErrorClass::Transient
    } else if DENIED.contains(&code) {
        ErrorClass::Denied
    } else if code.ends_with("NotFound")
        || code.ends_with("NotFoundException")
        || code.ends_with("NotFoundFault")
        || code.starts_with("NoSuch")
    {
        ErrorClass::NotFound
    } else if INVALID.contains(&code) || code.ends_with(".Malformed") {
        ErrorClass::Invalid
    } else {
        ErrorClass::Other
    }
}

/// The AWS request id of an output or error, when the service sent one.
pub fn request_id(value: &impl RequestId) -> Option<String> {
    value.request_id().map(str::to_string)
}

/// The request id of an SDK error: from the response headers, else from the error body.
pub fn error_request_id<E: ProvideErrorMetadata>(
    err: &SdkError<E, HttpResponse>,
) -> Option<String> {
    err.request_id()
        .or_else(|| err.meta().request_id())
        .map(str::to_string)
}

/// The error code of an SDK error, when the service answered with one.
pub fn error_code<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> Option<&str> {
    err.code()
}

/// Maps an SDK error to an [`ActionError`]: throttling and transport faults are
/// `Transient`, AccessDenied/UnauthorizedOperation `Denied`, not-found codes `NotFound`.
/// The message names the operation, the code, AWS's message and the request id.
pub fn map_sdk_error<E>(operation: &str, err: &SdkError<E, HttpResponse>) -> ActionError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => {
            ActionError::Transient(format!("{operation}: {}", vigil_aws::error_chain(err)))
        }
        SdkError::ConstructionFailure(_) => {
            ActionError::InvalidParams(format!("{operation}: {}", vigil_aws::error_chain(err)))
        }
        SdkError::ResponseError(_) => {
            ActionError::Failed(format!("{operation}: {}", vigil_aws::error_chain(err)))
        }
        _ => {
            let code = err.code().unwrap_or("Unknown");
            let message = err
                .message()
                .map(str::to_string)
                .unwrap_or_else(|| vigil_aws::error_chain(err));
            let mut text = format!("{operation}: {code}: {message}");
            if let Some(id) = error_request_id(err) {
                text.push_str(&format!(" (request id {id})"));
            }
            match classify_code(code) {
                ErrorClass::Transient => ActionError::Transient(text),
                ErrorClass::Denied => ActionError::Denied(text),
                ErrorClass::NotFound => ActionError::NotFound(text),
                ErrorClass::Invalid => ActionError::InvalidParams(text),
                ErrorClass::Other => ActionError::Failed(text),
            }
        }
    }
}

/// Turns an SDK result into the output or a mapped [`ActionError`].
pub fn check<T, E>(operation: &str, result: SdkResult<T, E>) -> Result<T, ActionError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    result.map_err(|e| map_sdk_error(operation, &e))
}

/// Like [`check`], but a not-found error becomes `Ok(None)` (for "does it exist?" reads).
pub fn check_optional<T, E>(
    operation: &str,
    result: SdkResult<T, E>,
) -> Result<Option<T>, ActionError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match result {
        Ok(out) => Ok(Some(out)),
        Err(e) => match map_sdk_error(operation, &e) {
            ActionError::NotFound(_) => Ok(None),
            other => Err(other),
        },
    }
}

// ---------------------------------------------------------------------------------------
// ApiCall builders and EC2 dry-run
// ---------------------------------------------------------------------------------------

/// A call listed in a plan: not made.
pub fn planned(service: &str, operation: &str, params: Value) -> ApiCall {
    ApiCall {
        service: service.to_string(),
        operation: operation.to_string(),
        params,
        request_id: None,
        dry_run_checked: false,
        made: false,
    }
}

/// A call that was made, with its request id.
pub fn made(service: &str, operation: &str, params: Value, request_id: Option<String>) -> ApiCall {
    ApiCall {
        service: service.to_string(),
        operation: operation.to_string(),
        params,
        request_id,
        dry_run_checked: false,
        made: true,
    }
}

/// Records the answer to an EC2 call sent with `DryRun=true`.
///
/// `DryRunOperation` (AWS would have done it) is success: the call comes back with
/// `dry_run_checked` set and `made == false`. Any other error is mapped (an
/// `UnauthorizedOperation` here is exactly what dry-run is for). A success means the service
/// ignored the flag and the change WAS made: the call is returned with `made == true` so the
/// ledger says so.
pub fn dry_run_checked<T, E>(
    operation: &str,
    params: Value,
    result: SdkResult<T, E>,
) -> Result<ApiCall, ActionError>
where
    T: RequestId,
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match result {
        Err(e) if e.code() == Some(DRY_RUN_OK) => {
            let mut call = planned("ec2", operation, params);
            call.dry_run_checked = true;
            call.request_id = error_request_id(&e);
            Ok(call)
        }
        Err(e) => Err(map_sdk_error(operation, &e)),
        Ok(out) => {
            tracing::warn!(operation, "DryRun=true call was executed by the service");
            Ok(made("ec2", operation, params, request_id(&out)))
        }
    }
}

// ---------------------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------------------

/// A required string parameter.
pub fn required_str<'a>(params: &'a Params, name: &str) -> Result<&'a str, ActionError> {
    optional_str(params, name)?
        .ok_or_else(|| ActionError::InvalidParams(format!("missing required parameter `{name}`")))
}

/// An optional string parameter; present but not a (non-empty) string is an error.
pub fn optional_str<'a>(params: &'a Params, name: &str) -> Result<Option<&'a str>, ActionError> {
    match params.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Err(ActionError::InvalidParams(format!(
            "parameter `{name}` is empty"
        ))),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(other) => Err(ActionError::InvalidParams(format!(
            "parameter `{name}` must be a string, got {other}"
        ))),
    }
}

/// A required AWS resource id with a known prefix (`i-`, `vol-`, `sg-`, `snap-`...).
pub fn resource_id<'a>(
    params: &'a Params,
    name: &str,
    prefix: &str,
) -> Result<&'a str, ActionError> {
    let id = required_str(params, name)?;
    check_resource_id(name, id, prefix)?;
    Ok(id)
}

/// Checks that `id` looks like an AWS id with `prefix` (letters, digits, `-` only).
pub fn check_resource_id(name: &str, id: &str, prefix: &str) -> Result<(), ActionError> {
    let ok = id.starts_with(prefix)
        && id.len() > prefix.len()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(ActionError::InvalidParams(format!(
            "parameter `{name}` = {id:?} is not a {prefix}... id"
        )))
    }
}

/// A boolean parameter; templated playbooks may pass `"true"`/`"false"` strings.
pub fn bool_param(params: &Params, name: &str, default: bool) -> Result<bool, ActionError> {
    match params.get(name) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(true),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(false),
        Some(other) => Err(ActionError::InvalidParams(format!(
            "parameter `{name}` must be true or false, got {other}"
        ))),
    }
}

/// An integer parameter within `min..=max`; numeric strings are accepted.
pub fn int_param(
    params: &Params,
    name: &str,
    default: i64,
    min: i64,
    max: i64,
) -> Result<i64, ActionError> {
    let value = match params.get(name) {
        None | Some(Value::Null) => return Ok(default),
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse::<i64>().ok(),
        Some(_) => None,
    };
    match value {
        Some(v) if (min..=max).contains(&v) => Ok(v),
        _ => Err(ActionError::InvalidParams(format!(
            "parameter `{name}` must be an integer from {min} to {max}, got {}",
            params.get(name).map(Value::to_string).unwrap_or_default()
        ))),
    }
}

/// A map of strings (`tags: {Quarantine: case-1}`); values that are numbers or booleans are
/// converted to their text.
pub fn string_map(
    params: &Params,
    name: &str,
) -> Result<Option<BTreeMap<String, String>>, ActionError> {
    match params.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                Value::Number(_) | Value::Bool(_) => Ok((k.clone(), v.to_string())),
                other => Err(ActionError::InvalidParams(format!(
                    "parameter `{name}.{k}` must be a string, got {other}"
                ))),
            })
            .collect::<Result<BTreeMap<_, _>, _>>()
            .map(Some),
        Some(other) => Err(ActionError::InvalidParams(format!(
            "parameter `{name}` must be a map of strings, got {other}"
        ))),
    }
}

/// Quotes a value for a POSIX shell command line (used by `cli()`).
pub fn shell_quote(value: &str) -> String {
    let safe = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=,@+".contains(&b));
    if safe {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

/// A parameter's text for `cli()`: the value, or `<name>` when it is missing.
pub fn cli_value(params: &Params, name: &str) -> String {
    match params.get(name) {
        Some(Value::String(s)) => shell_quote(s),
        Some(Value::Null) | None => format!("<{name}>"),
        Some(other) => shell_quote(&other.to_string()),
    }
}

// ---------------------------------------------------------------------------------------
// Tags
// ---------------------------------------------------------------------------------------

/// EC2 tags as key/value pairs.
pub fn ec2_tags(tags: &[aws_sdk_ec2::types::Tag]) -> Vec<(String, String)> {
    tags.iter()
        .map(|t| {
            (
                t.key().unwrap_or_default().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// IAM tags as key/value pairs.
pub fn iam_tags(tags: &[aws_sdk_iam::types::Tag]) -> Vec<(String, String)> {
    tags.iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
}

/// The value of tag `key`, if present.
pub fn tag_value<'a>(tags: &'a [(String, String)], key: &str) -> Option<&'a str> {
    tags.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// Tags as a JSON object (for before/after state and outputs).
pub fn tags_json(tags: &[(String, String)]) -> Value {
    Value::Object(
        tags.iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

// ---------------------------------------------------------------------------------------
// Evidence
// ---------------------------------------------------------------------------------------

/// Stores `value` as pretty JSON evidence for the step's case; returns its SHA-256.
pub fn store_json(
    env: &StepEnv<'_>,
    name: String,
    source: Option<String>,
    method: String,
    value: &Value,
) -> Result<String, ActionError> {
    let bytes = serde_json::to_vec_pretty(value)
        .map_err(|e| ActionError::Failed(format!("cannot encode evidence {name}: {e}")))?;
    env.evidence
        .put(EvidenceItem {
            case_id: env.case_id.to_string(),
            name: name.clone(),
            media_type: "application/json".to_string(),
            bytes,
            source,
            account: env.account.map(str::to_string),
            region: env.region.map(str::to_string),
            method,
        })
        .map_err(|e| ActionError::Failed(format!("cannot store evidence {name}: {e}")))
}

/// SHA-256 of `text`, hex.
pub fn sha256_hex(text: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(text))
}

// ---------------------------------------------------------------------------------------
// IAM: revoke a role's active sessions
// ---------------------------------------------------------------------------------------

/// Name of the inline policy that denies sessions issued before a time.
pub const REVOKE_SESSIONS_POLICY: &str = "vigil-revoke-sessions";

/// The IAM actions [`revoke_role_sessions`] needs.
pub const REVOKE_SESSIONS_PERMISSIONS: &[&str] =
    &["iam:GetRole", "iam:GetRolePolicy", "iam:PutRolePolicy"];

/// What [`revoke_role_sessions`] did or would do.
#[derive(Debug, Clone, PartialEq)]
pub struct RevokedSessions {
    pub role_arn: String,
    /// Read and (planned or made) write calls, in order.
    pub calls: Vec<ApiCall>,
    /// The previous `vigil-revoke-sessions` policy, if the role had one.
    pub previous: Option<Value>,
    /// The policy written (or that would be written).
    pub policy: Value,
    /// False when a policy at least as recent was already in place (nothing written).
    pub changed: bool,
}

/// The policy AWS's console writes for "Revoke active sessions": deny everything to
/// sessions whose token was issued before `now` (UTC, ISO 8601 with `Z`).
pub fn revoke_sessions_policy(now: DateTime<Utc>) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "VigilRevokeOlderSessions",
            "Effect": "Deny",
            "Action": ["*"],
            "Resource": ["*"],
            "Condition": {
                "DateLessThan": {"aws:TokenIssueTime": now.format("%Y-%m-%dT%H:%M:%SZ").to_string()}
            }
        }]
    })
}

/// Decodes a policy document as IAM returns it (URL-encoded JSON; emulators may send plain
/// JSON).
pub fn decode_policy_document(text: &str) -> Result<Value, ActionError> {
    if let Ok(v) = serde_json::from_str(text) {
        return Ok(v);
    }
    let decoded = percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .map_err(|e| ActionError::Failed(format!("policy document is not UTF-8: {e}")))?;
    serde_json::from_str(&decoded)
        .map_err(|e| ActionError::Failed(format!("policy document is not JSON: {e}")))
}

/// The `aws:TokenIssueTime` cut-off of a revoke-sessions policy, if it has one.
fn revoke_cutoff(policy: &Value) -> Option<DateTime<Utc>> {
    let statements = match &policy["Statement"] {
        Value::Array(items) => items.clone(),
        single @ Value::Object(_) => vec![single.clone()],
        _ => return None,
    };
    statements
        .iter()
        .filter_map(|s| s["Condition"]["DateLessThan"]["aws:TokenIssueTime"].as_str())
        .filter_map(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
        .max()
}

/// Revokes the active sessions of IAM role `role_name` (as of `env.now`) with an inline
/// deny policy on `aws:TokenIssueTime`.
///
/// Reads the role (ARN, tags) and any existing revoke policy; when that policy already cuts
/// off at or after `env.now` nothing is written (`changed == false`). Otherwise the guard is
/// asked about the role, and under `env.execute` the policy is written (else planned). The
/// caller records `previous` and `policy` in its report.
pub async fn revoke_role_sessions(
    iam: &aws_sdk_iam::Client,
    env: &StepEnv<'_>,
    role_name: &str,
) -> Result<RevokedSessions, ActionError> {
    let mut calls = Vec::new();
    let role = check("GetRole", iam.get_role().role_name(role_name).send().await)?;
    calls.push(made(
        "iam",
        "GetRole",
        json!({"RoleName": role_name}),
        request_id(&role),
    ));
    let (role_arn, tags) = match role.role() {
        Some(r) => (r.arn().to_string(), iam_tags(r.tags())),
        None => return Err(ActionError::NotFound(format!("role {role_name}"))),
    };
    let existing = check_optional(
        "GetRolePolicy",
        iam.get_role_policy()
            .role_name(role_name)
            .policy_name(REVOKE_SESSIONS_POLICY)
            .send()
            .await,
    )?;
    let params = json!({"RoleName": role_name, "PolicyName": REVOKE_SESSIONS_POLICY});
    calls.push(made(
        "iam",
        "GetRolePolicy",
        params.clone(),
        existing.as_ref().and_then(request_id),
    ));
    let previous = match &existing {
        Some(out) => Some(decode_policy_document(out.policy_document())?),
        None => None,
    };
    let policy = revoke_sessions_policy(env.now);
    let cutoff = env.now.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let already = previous
        .as_ref()
        .and_then(revoke_cutoff)
        .is_some_and(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string() >= cutoff);
    if already {
        return Ok(RevokedSessions {
            role_arn,
            calls,
            previous: previous.clone(),
            policy: previous.unwrap_or(Value::Null),
            changed: false,
        });
    }
    env.guard.allow_change(&role_arn, &tags)?;
    let put_params = json!({
        "RoleName": role_name,
        "PolicyName": REVOKE_SESSIONS_POLICY,
        "PolicyDocument": policy,
    });
    if env.execute {
        let out = check(
            "PutRolePolicy",
            iam.put_role_policy()
                .role_name(role_name)
                .policy_name(REVOKE_SESSIONS_POLICY)
                .policy_document(policy.to_string())
                .send()
                .await,
        )?;
        calls.push(made("iam", "PutRolePolicy", put_params, request_id(&out)));
    } else {
        calls.push(planned("iam", "PutRolePolicy", put_params));
    }
    Ok(RevokedSessions {
        role_arn,
        calls,
        previous,
        policy,
        changed: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_are_classified() {
        assert_eq!(classify_code("RequestLimitExceeded"), ErrorClass::Transient);
        assert_eq!(classify_code("Throttling"), ErrorClass::Transient);
        assert_eq!(classify_code("UnauthorizedOperation"), ErrorClass::Denied);
        assert_eq!(classify_code("AccessDenied"), ErrorClass::Denied);
        assert_eq!(
            classify_code("InvalidInstanceID.NotFound"),
            ErrorClass::NotFound
        );
        assert_eq!(classify_code("NoSuchEntity"), ErrorClass::NotFound);
        assert_eq!(classify_code("NoSuchBucket"), ErrorClass::NotFound);
        assert_eq!(
            classify_code("TrailNotFoundException"),
            ErrorClass::NotFound
        );
        assert_eq!(
            classify_code("InvalidInstanceID.Malformed"),
            ErrorClass::Invalid
        );
        assert_eq!(classify_code("DependencyViolation"), ErrorClass::Other);
    }

    #[test]
    fn parameters_are_checked() {
        let params: Params = serde_json::from_value(json!({
            "instance_id": "i-0abc", "bad": "i-0abc;rm", "flag": "true", "n": "22",
            "tags": {"Quarantine": "case-1", "n": 3}, "empty": " "
        }))
        .unwrap();
        assert_eq!(resource_id(&params, "instance_id", "i-").unwrap(), "i-0abc");
        assert!(matches!(
            resource_id(&params, "bad", "i-"),
            Err(ActionError::InvalidParams(_))
        ));
        assert!(matches!(
            required_str(&params, "missing"),
            Err(ActionError::InvalidParams(m)) if m.contains("missing")
        ));
        assert!(optional_str(&params, "empty").is_err());
        assert!(bool_param(&params, "flag", false).unwrap());
        assert!(bool_param(&params, "absent", true).unwrap());
        assert_eq!(int_param(&params, "n", 0, 1, 65535).unwrap(), 22);
        assert!(int_param(&params, "n", 0, 100, 200).is_err());
        let tags = string_map(&params, "tags").unwrap().unwrap();
        assert_eq!(tags["Quarantine"], "case-1");
        assert_eq!(tags["n"], "3");
    }

    #[test]
    fn shell_quoting() {
        assert_eq!(shell_quote("i-0abc"), "i-0abc");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn revoke_policy_round_trips_through_url_encoding() {
        let now = DateTime::parse_from_rfc3339("2024-05-01T10:20:30Z")
            .unwrap()
            .with_timezone(&Utc);
        let policy = revoke_sessions_policy(now);
        assert_eq!(
            policy["Statement"][0]["Condition"]["DateLessThan"]["aws:TokenIssueTime"],
            "2024-05-01T10:20:30Z"
        );
        let encoded = percent_encoding::utf8_percent_encode(
            &policy.to_string(),
            percent_encoding::NON_ALPHANUMERIC,
        )
        .to_string();
        let decoded = decode_policy_document(&encoded).unwrap();
        assert_eq!(decoded, policy);
        assert_eq!(revoke_cutoff(&decoded), Some(now));
        assert!(decode_policy_document("%7Bnot json").is_err());
    }
}
