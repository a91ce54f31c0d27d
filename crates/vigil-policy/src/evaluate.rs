//! Evaluating one concrete request against a resource policy alone, per the IAM "Policy
//! evaluation logic": an explicit `Deny` in any matching statement wins; otherwise a
//! matching `Allow` allows; otherwise the request is implicitly denied.
//!
//! A statement matches when its principal, action, resource and every condition match. A
//! statement whose policy variables cannot be resolved for this request is invalid and
//! matches nothing (the IAM reference on policy variables). Statements without a
//! `Principal` belong to identity policies and match nothing here.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::condition;
use crate::model::{Effect, Policy, Principal, PrincipalBlock, Statement};
use crate::variables;

/// One value of a request context key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ContextValue {
    Bool(bool),
    Number(f64),
    String(String),
}

impl ContextValue {
    /// The value as IAM compares it with text.
    pub fn as_text(&self) -> String {
        match self {
            ContextValue::Bool(b) => b.to_string(),
            ContextValue::Number(n) => n.to_string(),
            ContextValue::String(s) => s.clone(),
        }
    }
}

impl From<&str> for ContextValue {
    fn from(value: &str) -> Self {
        ContextValue::String(value.to_string())
    }
}

impl From<String> for ContextValue {
    fn from(value: String) -> Self {
        ContextValue::String(value)
    }
}

impl From<bool> for ContextValue {
    fn from(value: bool) -> Self {
        ContextValue::Bool(value)
    }
}

impl From<f64> for ContextValue {
    fn from(value: f64) -> Self {
        ContextValue::Number(value)
    }
}

/// Who makes a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestPrincipal {
    /// An unsigned request.
    Anonymous,
    /// An AWS principal: `arn:aws:iam::111122223333:root`, `...:user/alice`,
    /// `arn:aws:sts::111122223333:assumed-role/Role/session`, ...
    Aws { arn: String },
    /// An AWS service principal such as `cloudtrail.amazonaws.com`.
    Service(String),
    /// A web-identity or SAML federated caller of `sts:AssumeRoleWith*`, by provider.
    Federated(String),
    /// An S3 canonical user id.
    CanonicalUser(String),
}

impl RequestPrincipal {
    /// The root principal of an account.
    pub fn account_root(account: &str) -> Self {
        RequestPrincipal::Aws {
            arn: format!("arn:aws:iam::{account}:root"),
        }
    }

    /// The account of an AWS principal (the fifth ARN field).
    pub fn account(&self) -> Option<&str> {
        match self {
            RequestPrincipal::Aws { arn } => arn_account(arn),
            _ => None,
        }
    }
}

/// The fifth field of an ARN, when it has one.
pub(crate) fn arn_account(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}

/// A request: who, which action on which resource, and the request context.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    pub principal: RequestPrincipal,
    /// `service:Action`, compared case-insensitively.
    pub action: String,
    /// The resource ARN.
    pub resource: String,
    /// Context keys (compared case-insensitively) and their values. Keys about the principal
    /// (`aws:PrincipalArn`, `aws:PrincipalAccount`, `aws:PrincipalType`, `aws:userid` for
    /// anonymous callers, `aws:PrincipalServiceName`, `aws:PrincipalIsAWSService`) are filled
    /// in from `principal` when not given.
    #[serde(default)]
    pub context: HashMap<String, Vec<ContextValue>>,
}

impl Request {
    /// A request without context keys.
    pub fn new(principal: RequestPrincipal, action: &str, resource: &str) -> Self {
        Request {
            principal,
            action: action.to_string(),
            resource: resource.to_string(),
            context: HashMap::new(),
        }
    }

    /// Add a context key with its values.
    pub fn with<V: Into<ContextValue>>(
        mut self,
        key: &str,
        values: impl IntoIterator<Item = V>,
    ) -> Self {
        self.context.insert(
            key.to_string(),
            values.into_iter().map(Into::into).collect(),
        );
        self
    }

    /// The values of `key` (case-insensitive), given or derived from the principal.
    pub fn values(&self, key: &str) -> Option<Vec<ContextValue>> {
        if let Some((_, v)) = self
            .context
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
        {
            return Some(v.clone());
        }
        self.derived(&key.to_ascii_lowercase())
            .map(|v| vec![ContextValue::String(v)])
    }

    fn derived(&self, key: &str) -> Option<String> {
        match (&self.principal, key) {
            (RequestPrincipal::Anonymous, "aws:principaltype") => Some("Anonymous".into()),
            (RequestPrincipal::Anonymous, "aws:userid") => Some("anonymous".into()),
            (RequestPrincipal::Service(s), "aws:principalservicename") => Some(s.clone()),
            (RequestPrincipal::Service(_), "aws:principalisawsservice") => Some("true".into()),
            (_, "aws:principalisawsservice") => Some("false".into()),
            (RequestPrincipal::Aws { arn }, "aws:principalarn") => Some(principal_arn(arn)),
            (RequestPrincipal::Aws { arn }, "aws:principalaccount") => {
                arn_account(arn).map(String::from)
            }
            (RequestPrincipal::Aws { arn }, "aws:principaltype") => {
                Some(principal_type(arn).into())
            }
            (RequestPrincipal::Aws { arn }, "aws:username") if principal_type(arn) == "User" => {
                arn.rsplit('/').next().map(String::from)
            }
            _ => None,
        }
    }
}

/// `aws:PrincipalArn` of a role session is the role's ARN.
fn principal_arn(arn: &str) -> String {
    match session_role(arn) {
        Some((account, role)) => format!("arn:aws:iam::{account}:role/{role}"),
        None => arn.to_string(),
    }
}

fn principal_type(arn: &str) -> &'static str {
    let resource = arn.splitn(6, ':').nth(5).unwrap_or("");
    if resource == "root" {
        "Account"
    } else if resource.starts_with("user/") {
        "User"
    } else if resource.starts_with("assumed-role/") {
        "AssumedRole"
    } else if resource.starts_with("federated-user/") {
        "FederatedUser"
    } else {
        "Role"
    }
}

/// `(account, role name)` of `arn:aws:sts::A:assumed-role/Role/session`.
fn session_role(arn: &str) -> Option<(&str, &str)> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let rest = parts.get(5)?.strip_prefix("assumed-role/")?;
    Some((parts[4], rest.split('/').next()?))
}

/// The result of evaluating a request against one resource policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Decision {
    /// A matching `Deny` statement.
    ExplicitDeny,
    /// A matching `Allow` statement and no matching `Deny`.
    Allow,
    /// No matching statement.
    ImplicitDeny,
}

/// The decision and the statements that made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evaluation {
    pub decision: Decision,
    /// Indexes of the matching `Allow` statements.
    pub allowed_by: Vec<usize>,
    /// Indexes of the matching `Deny` statements.
    pub denied_by: Vec<usize>,
}

/// Evaluate `req` against `policy` alone.
pub fn evaluate(policy: &Policy, req: &Request) -> Decision {
    evaluate_detail(policy, req).decision
}

/// [`evaluate`], with the statements that matched.
pub fn evaluate_detail(policy: &Policy, req: &Request) -> Evaluation {
    let mut allowed_by = Vec::new();
    let mut denied_by = Vec::new();
    for statement in &policy.statements {
        if statement_matches(policy, statement, req) {
            match statement.effect {
                Effect::Allow => allowed_by.push(statement.index),
                Effect::Deny => denied_by.push(statement.index),
            }
        }
    }
    let decision = if !denied_by.is_empty() {
        Decision::ExplicitDeny
    } else if !allowed_by.is_empty() {
        Decision::Allow
    } else {
        Decision::ImplicitDeny
    };
    Evaluation {
        decision,
        allowed_by,
        denied_by,
    }
}

fn statement_matches(policy: &Policy, statement: &Statement, req: &Request) -> bool {
    let Some(principal) = &statement.principal else {
        return false;
    };
    if !principal_block_matches(principal, &req.principal) || !statement.action.matches(&req.action)
    {
        return false;
    }
    let lookup = |key: &str| -> Option<String> {
        req.values(key)
            .and_then(|v| v.first().map(ContextValue::as_text))
    };
    if let Some(resource) = &statement.resource {
        let mut any = false;
        for pattern in &resource.patterns {
            match variables::resolve_glob(pattern, policy.version, false, &lookup) {
                Some(glob) => any |= glob.matches(&req.resource),
                None => return false,
            }
        }
        if any == resource.negated {
            return false;
        }
    }
    statement.conditions.iter().all(|c| {
        let values = req.values(&c.key);
        condition::holds(c, values.as_deref(), policy.version, &lookup) == Some(true)
    })
}

fn principal_block_matches(block: &PrincipalBlock, principal: &RequestPrincipal) -> bool {
    if block.negated {
        // NotPrincipal: the statement applies unless every identity the request carries
        // (account, role, session) is listed, which is why AWS asks for the account ARN
        // next to a role in a Deny with NotPrincipal.
        let ids = identities(principal);
        !ids.iter()
            .all(|id| block.entries.iter().any(|e| lists(e, id)))
    } else {
        block
            .entries
            .iter()
            .any(|e| principal_matches(e, principal))
    }
}

/// Does `entry` in a `Principal` element cover the request principal?
pub(crate) fn principal_matches(entry: &Principal, principal: &RequestPrincipal) -> bool {
    match (entry, principal) {
        (Principal::Everyone, _) => true,
        (Principal::Aws(id), _) if id == "*" => true,
        (Principal::Aws(id), RequestPrincipal::Aws { arn }) => {
            if let Some(account) = entry_account_only(id) {
                return arn_account(arn) == Some(account);
            }
            id == arn || session_role(arn).is_some_and(|(acct, role)| role_arn_is(id, acct, role))
        }
        (Principal::Service(s), RequestPrincipal::Service(r)) => s.eq_ignore_ascii_case(r),
        (Principal::Federated(f), RequestPrincipal::Federated(r)) => {
            provider_host(f) == provider_host(r)
        }
        (Principal::CanonicalUser(c), RequestPrincipal::CanonicalUser(r)) => c == r,
        _ => false,
    }
}

/// `Some(account)` when the entry names a whole account: `123456789012` or its root ARN.
pub(crate) fn entry_account_only(id: &str) -> Option<&str> {
    if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) {
        return Some(id);
    }
    let parts: Vec<&str> = id.splitn(6, ':').collect();
    (parts.len() == 6 && parts[0] == "arn" && parts[2] == "iam" && parts[5] == "root")
        .then(|| parts[4])
}

fn role_arn_is(id: &str, account: &str, role: &str) -> bool {
    let parts: Vec<&str> = id.splitn(6, ':').collect();
    parts.len() == 6
        && parts[2] == "iam"
        && parts[4] == account
        && parts[5].starts_with("role/")
        && parts[5].rsplit('/').next() == Some(role)
}

/// The host of an identity provider: `arn:aws:iam::A:oidc-provider/token.actions...` and
/// `token.actions...` name the same provider.
pub(crate) fn provider_host(provider: &str) -> String {
    let lower = provider.to_ascii_lowercase();
    match lower.split_once(":oidc-provider/") {
        Some((_, host)) => host.to_string(),
        None => lower,
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Identity {
    Anonymous,
    Account(String),
    Arn(String),
    Service(String),
    Federated(String),
    Canonical(String),
}

fn identities(principal: &RequestPrincipal) -> Vec<Identity> {
    match principal {
        RequestPrincipal::Anonymous => vec![Identity::Anonymous],
        RequestPrincipal::Aws { arn } => {
            let mut ids = Vec::new();
            if let Some(account) = arn_account(arn) {
                ids.push(Identity::Account(account.to_string()));
            }
            if let Some((account, role)) = session_role(arn) {
                ids.push(Identity::Arn(format!("arn:aws:iam::{account}:role/{role}")));
            }
            if entry_account_only(arn).is_none() {
                ids.push(Identity::Arn(arn.clone()));
            }
            ids
        }
        RequestPrincipal::Service(s) => vec![Identity::Service(s.to_ascii_lowercase())],
        RequestPrincipal::Federated(f) => vec![Identity::Federated(provider_host(f))],
        RequestPrincipal::CanonicalUser(c) => vec![Identity::Canonical(c.clone())],
    }
}

fn lists(entry: &Principal, id: &Identity) -> bool {
    match (entry, id) {
        (Principal::Aws(e), Identity::Account(a)) => entry_account_only(e) == Some(a.as_str()),
        (Principal::Aws(e), Identity::Arn(arn)) => {
            e == arn
                || arn
                    .strip_prefix("arn:aws:iam::")
                    .and_then(|r| r.split_once(":role/"))
                    .is_some_and(|(acct, role)| role_arn_is(e, acct, role))
        }
        (Principal::Service(e), Identity::Service(s)) => e.eq_ignore_ascii_case(s),
        (Principal::Federated(e), Identity::Federated(f)) => provider_host(e) == *f,
        (Principal::CanonicalUser(e), Identity::Canonical(c)) => e == c,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aws(arn: &str) -> RequestPrincipal {
        RequestPrincipal::Aws { arn: arn.into() }
    }

    #[test]
    fn account_id_and_root_arn_both_mean_every_principal_of_the_account() {
        let user = aws("arn:aws:iam::111122223333:user/alice");
        assert!(principal_matches(
            &Principal::Aws("111122223333".into()),
            &user
        ));
        assert!(principal_matches(
            &Principal::Aws("arn:aws:iam::111122223333:root".into()),
            &user
        ));
        assert!(!principal_matches(
            &Principal::Aws("444455556666".into()),
            &user
        ));
    }

    #[test]
    fn role_arn_covers_its_sessions() {
        let session = aws("arn:aws:sts::111122223333:assumed-role/Deployer/ci");
        assert!(principal_matches(
            &Principal::Aws("arn:aws:iam::111122223333:role/path/Deployer".into()),
            &session
        ));
        assert!(!principal_matches(
            &Principal::Aws("arn:aws:iam::111122223333:role/Other".into()),
            &session
        ));
    }

    #[test]
    fn derived_context_keys() {
        let req = Request::new(
            aws("arn:aws:sts::111122223333:assumed-role/R/s"),
            "s3:GetObject",
            "arn:aws:s3:::b/k",
        );
        assert_eq!(
            req.values("AWS:PrincipalArn"),
            Some(vec!["arn:aws:iam::111122223333:role/R".into()])
        );
        assert_eq!(
            req.values("aws:principalaccount"),
            Some(vec!["111122223333".into()])
        );
        let anon = Request::new(
            RequestPrincipal::Anonymous,
            "s3:GetObject",
            "arn:aws:s3:::b/k",
        );
        assert_eq!(anon.values("aws:PrincipalAccount"), None);
    }
}
