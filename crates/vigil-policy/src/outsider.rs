//! The callers an analysis reasons about, and what one condition means for each of them.
//!
//! A *profile* is a class of outside caller: anyone unauthenticated, any authenticated
//! principal of an account the policy does not name, any AWS service, or a principal the
//! policy names. For each condition the profile either knows the key's value (anonymous
//! callers carry no `aws:PrincipalAccount`; a named account's `aws:PrincipalAccount` is that
//! account) and the condition is evaluated concretely, or it does not, and then:
//!
//! - a key the caller controls can be made true or false at will ([`Outcome::Choosable`]);
//! - an unforgeable key with fixed values holds only for the callers that have them
//!   ([`Outcome::OnlyIf`]) or, with a negated operator, for every caller but those
//!   ([`Outcome::Unless`]);
//! - `...IfExists`, `ForAllValues` on a key the caller can go without, and wildcard values
//!   never restrict.

use serde::Serialize;

use crate::condition;
use crate::evaluate::{entry_account_only, provider_host, ContextValue};
use crate::keys::{self, Attribute, KeyClass, Presence};
use crate::model::{BaseOperator, Condition, Family, PolicyVersion, Principal, SetQualifier};

/// A class of outside caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Profile {
    Anonymous,
    AnyAccount,
    AnyService,
    /// Principals of a named account; `arn` when the policy names one principal.
    Account {
        account: String,
        arn: Option<String>,
    },
    Service(String),
    Federated(String),
    Canonical(String),
}

impl Profile {
    /// The profiles a `Principal` entry grants to.
    pub(crate) fn for_entry(entry: &Principal) -> Vec<Profile> {
        match entry {
            Principal::Everyone => Profile::everyone(),
            Principal::Aws(id) if id == "*" => Profile::everyone(),
            Principal::Aws(id) => match entry_account_only(id) {
                Some(account) => vec![Profile::Account {
                    account: account.to_string(),
                    arn: None,
                }],
                None => match keys::arn_account_literal(id) {
                    Some(account) => vec![Profile::Account {
                        account: account.to_string(),
                        arn: Some(id.clone()),
                    }],
                    // A wildcard account, or a unique id left by a deleted principal.
                    None if id.contains('*') || id.contains('?') => vec![Profile::AnyAccount],
                    None => vec![Profile::Account {
                        account: "unknown".to_string(),
                        arn: Some(id.clone()),
                    }],
                },
            },
            Principal::Service(s) => vec![Profile::Service(s.to_ascii_lowercase())],
            Principal::Federated(p) => vec![Profile::Federated(p.clone())],
            Principal::CanonicalUser(c) => vec![Profile::Canonical(c.clone())],
        }
    }

    pub(crate) fn everyone() -> Vec<Profile> {
        vec![Profile::Anonymous, Profile::AnyAccount, Profile::AnyService]
    }

    pub(crate) fn is_wildcard(&self) -> bool {
        matches!(
            self,
            Profile::Anonymous | Profile::AnyAccount | Profile::AnyService
        )
    }

    /// What this caller is known to carry for `key`: `Some(None)` known absent,
    /// `Some(Some(values))` known values, `None` unknown.
    fn known(&self, key: &str) -> Option<Option<Vec<String>>> {
        let absent = Some(None);
        let value = |v: &str| Some(Some(vec![v.to_string()]));
        let is_claim = matches!(
            keys::classify(key),
            KeyClass::Attribute(Attribute::FederatedClaim, _)
        );
        match self {
            Profile::Anonymous => match key {
                "aws:principaltype" => value("Anonymous"),
                "aws:userid" => value("anonymous"),
                "aws:principalisawsservice" => value("false"),
                "lambda:functionurlauthtype" => value("NONE"),
                _ if keys::absent_for_anonymous(key) || is_claim => absent,
                _ => None,
            },
            Profile::AnyAccount | Profile::Canonical(_) => match key {
                "aws:principalisawsservice" => value("false"),
                "aws:principalservicename" | "aws:principalservicenameslist" => absent,
                _ if is_claim => absent,
                _ => None,
            },
            Profile::AnyService => match key {
                "aws:principalisawsservice" => value("true"),
                _ if keys::PRINCIPAL_KEYS.contains(&key) || is_claim => absent,
                _ => None,
            },
            Profile::Account { account, arn } => match key {
                "aws:principalaccount" | "kms:calleraccount" => value(account),
                "aws:principalarn" => arn.as_deref().and_then(value),
                "aws:principalisawsservice" => value("false"),
                "aws:principalservicename" | "aws:principalservicenameslist" => absent,
                _ if is_claim => absent,
                _ => None,
            },
            Profile::Service(s) => match key {
                "aws:principalservicename" => value(s),
                "aws:principalisawsservice" => value("true"),
                _ if keys::PRINCIPAL_KEYS.contains(&key) || is_claim => absent,
                _ => None,
            },
            Profile::Federated(provider) => match key {
                "aws:principalisawsservice" => value("false"),
                _ if keys::PRINCIPAL_KEYS.contains(&key) => absent,
                _ if is_claim && !claim_of(key, provider) => absent,
                _ => None,
            },
        }
    }
}

/// Is `key` a claim of the token `provider` issues?
fn claim_of(key: &str, provider: &str) -> bool {
    let Some(claim_provider) = keys::claim_provider(key) else {
        return false;
    };
    if claim_provider == "saml" {
        return provider.contains(":saml-provider/");
    }
    provider_host(provider) == claim_provider
}

/// What a restriction is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum RestrictionKind {
    /// The caller's (or the source resource's) account.
    Account,
    /// The caller's organisation or organisational unit.
    Organization,
    /// A principal or source ARN, or a unique principal id.
    Principal,
    /// An AWS service principal name.
    Service,
    /// Where the request comes from: source IP, VPC, VPC endpoint.
    Network,
    /// A claim of a federated identity token (subject, audience, repository...).
    FederatedIdentity,
    /// A KMS key the caller must be able to use.
    KmsKey,
}

/// A condition that narrows who can use a grant, read positively: the grant holds only for
/// callers for which `key operator values` is true.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Restriction {
    pub key: String,
    /// The positive operator (`StringEquals`; a `StringNotEquals` in a `Deny` becomes the
    /// `StringEquals` its callers must satisfy to escape it).
    pub operator: String,
    pub values: Vec<String>,
    pub kind: RestrictionKind,
    /// The statement the condition comes from.
    pub statement: usize,
    /// True when it comes from a `Deny` that denies everyone else.
    pub from_deny: bool,
}

impl Restriction {
    /// `aws:SourceVpce = vpce-1`, `aws:SourceIp in [a, b]`.
    pub fn describe(&self) -> String {
        let op = match self.operator.as_str() {
            "StringEquals" | "ArnEquals" | "StringEqualsIgnoreCase" => "=",
            "StringLike" | "ArnLike" => "like",
            "IpAddress" => "in",
            other => other,
        };
        let values = if self.values.len() == 1 {
            self.values[0].clone()
        } else {
            format!("[{}]", self.values.join(", "))
        };
        let op = if self.values.len() > 1 && op == "=" {
            "in"
        } else {
            op
        };
        let mut text = format!("{} {op} {values}", self.key);
        if self.from_deny {
            text.push_str(&format!(" per the Deny in statement {}", self.statement));
        }
        text
    }
}

/// What one condition means for one profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Holds for this caller, whatever it does.
    True(&'static str),
    /// Never holds for this caller.
    False,
    /// The caller decides.
    Choosable(&'static str),
    /// Holds only for callers that satisfy the restriction.
    OnlyIf(Restriction),
    /// Holds for every caller except those that satisfy the restriction.
    Unless(Restriction),
}

/// Read `condition` (of statement `statement`) for `profile`.
pub(crate) fn outcome(
    condition: &Condition,
    statement: usize,
    profile: &Profile,
    version: PolicyVersion,
) -> Outcome {
    let key = condition.key.to_ascii_lowercase();
    let has_variable = condition.operator.base.allows_variables()
        && version.supports_variables()
        && condition.values.iter().any(|v| v.contains("${"));
    let known = profile.known(&key);
    // A known absence decides the condition whatever its values; known values decide it
    // only when the values hold no variable (whose value vigil cannot know here).
    if let Some(known) = known.filter(|k| k.is_none() || !has_variable) {
        let values: Option<Vec<ContextValue>> =
            known.map(|v| v.into_iter().map(ContextValue::String).collect());
        return match condition::holds(condition, values.as_deref(), version, &|_| None) {
            Some(true) => Outcome::True("known for this caller"),
            _ => Outcome::False,
        };
    }
    if !has_variable {
        if let (Profile::Account { account, .. }, "aws:principalarn") = (profile, key.as_str()) {
            if let Some(outcome) = arn_of_named_account(condition, account) {
                return outcome;
            }
        }
    }
    match keys::classify(&key) {
        KeyClass::CallerControlled => {
            Outcome::Choosable("the caller controls this key (or vigil does not know it)")
        }
        KeyClass::Path => Outcome::Choosable("it limits the path of the request, not who makes it"),
        KeyClass::Attribute(attribute, presence) => {
            attribute_outcome(condition, statement, attribute, presence)
        }
    }
}

/// `aws:PrincipalArn` for a named account: values for other accounts can never match.
fn arn_of_named_account(condition: &Condition, account: &str) -> Option<Outcome> {
    if condition.operator.base == BaseOperator::Null || condition.operator.qualifier.is_some() {
        return None;
    }
    let could_match = condition.values.iter().any(|v| {
        v.split(':')
            .nth(4)
            .is_some_and(|field| crate::glob::Glob::new(field, false).matches(account))
    });
    if could_match {
        return None;
    }
    Some(if condition.operator.base.is_negated() {
        Outcome::True("no value names this account")
    } else {
        Outcome::False
    })
}

fn attribute_outcome(
    condition: &Condition,
    statement: usize,
    attribute: Attribute,
    presence: Presence,
) -> Outcome {
    let op = condition.operator;
    let optional = presence == Presence::Optional;
    if op.base == BaseOperator::Null {
        let want_absent = condition
            .values
            .iter()
            .any(|v| v.eq_ignore_ascii_case("true"));
        let want_present = condition
            .values
            .iter()
            .any(|v| v.eq_ignore_ascii_case("false"));
        return match (want_absent, want_present, optional) {
            (true, true, _) => Outcome::True("Null with both true and false always holds"),
            (true, false, true) | (false, true, true) => {
                Outcome::Choosable("the caller can carry the key or go without")
            }
            (true, false, false) => Outcome::False,
            _ => Outcome::True("the key is always present"),
        };
    }
    let fits = matches!(
        op.base.family(),
        Family::String | Family::StringIgnoreCase | Family::StringLike | Family::Arn | Family::Ip
    );
    let fixed = fits
        && condition
            .values
            .iter()
            .all(|v| keys::is_fixed(attribute, &condition.key, v));
    if !fixed {
        return Outcome::Choosable(
            "a wildcard, broad range or variable matches callers the policy does not name",
        );
    }
    let restriction = Restriction {
        key: condition.key.clone(),
        operator: positive_name(op.base).to_string(),
        values: condition.values.clone(),
        kind: restriction_kind(attribute),
        statement,
        from_deny: false,
    };
    if op.base.is_negated() {
        if op.qualifier == Some(SetQualifier::ForAnyValue) && !op.if_exists && optional {
            return Outcome::Choosable(
                "ForAnyValue is false when the key is absent, which the caller can arrange",
            );
        }
        return Outcome::Unless(restriction);
    }
    if op.qualifier == Some(SetQualifier::ForAllValues) && optional {
        return Outcome::Choosable(
            "ForAllValues holds when the key is absent, which the caller can arrange",
        );
    }
    if op.if_exists && optional {
        return Outcome::Choosable(
            "IfExists holds when the key is absent, which the caller can arrange",
        );
    }
    Outcome::OnlyIf(restriction)
}

fn restriction_kind(attribute: Attribute) -> RestrictionKind {
    match attribute {
        Attribute::Account => RestrictionKind::Account,
        Attribute::Organization | Attribute::OrgPath => RestrictionKind::Organization,
        Attribute::Arn | Attribute::UserId => RestrictionKind::Principal,
        Attribute::Service => RestrictionKind::Service,
        Attribute::SourceIp | Attribute::Network => RestrictionKind::Network,
        Attribute::FederatedClaim => RestrictionKind::FederatedIdentity,
        Attribute::KmsKey => RestrictionKind::KmsKey,
    }
}

/// The positive operator of a negated one.
fn positive_name(base: BaseOperator) -> &'static str {
    use BaseOperator::*;
    match base {
        StringNotEquals => "StringEquals",
        StringNotEqualsIgnoreCase => "StringEqualsIgnoreCase",
        StringNotLike => "StringLike",
        NotIpAddress => "IpAddress",
        ArnNotEquals => "ArnEquals",
        ArnNotLike => "ArnLike",
        NumericNotEquals => "NumericEquals",
        DateNotEquals => "DateEquals",
        other => other.name(),
    }
}
