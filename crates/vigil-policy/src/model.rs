//! The parsed form of a policy document: [`Policy`], [`Statement`] and their elements.

use std::fmt;

use serde::Serialize;

use crate::glob::Glob;

/// The policy language version (`Version`). Only `2012-10-17` substitutes policy variables;
/// under the older version or none, `${aws:username}` is a literal string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PolicyVersion {
    /// `"2012-10-17"`.
    V2012_10_17,
    /// `"2008-10-17"`.
    V2008_10_17,
    /// No `Version` element.
    Unspecified,
}

impl PolicyVersion {
    /// Whether `${...}` are policy variables in this version.
    pub fn supports_variables(self) -> bool {
        self == PolicyVersion::V2012_10_17
    }
}

/// A parsed policy document.
#[derive(Debug, Clone)]
pub struct Policy {
    /// The `Version` element.
    pub version: PolicyVersion,
    /// The `Id` element.
    pub id: Option<String>,
    /// The statements, in document order.
    pub statements: Vec<Statement>,
}

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Effect {
    Allow,
    Deny,
}

/// One statement.
#[derive(Debug, Clone)]
pub struct Statement {
    /// Position in the `Statement` array (0 for a single statement object).
    pub index: usize,
    /// The `Sid` element.
    pub sid: Option<String>,
    /// The `Effect` element.
    pub effect: Effect,
    /// `Principal` or `NotPrincipal`; `None` in identity policies.
    pub principal: Option<PrincipalBlock>,
    /// `Action` or `NotAction`.
    pub action: ActionBlock,
    /// `Resource` or `NotResource`; `None` when absent (role trust policies, some
    /// resource policies: the statement then applies to the resource it is attached to).
    pub resource: Option<ResourceBlock>,
    /// Every (operator, key) pair of the `Condition` element. All must hold.
    pub conditions: Vec<Condition>,
    /// 1-based line of the statement in the source text, when parsed from text.
    pub line: Option<usize>,
}

impl Statement {
    /// `statement 2 (Sid PublicRead)` or `statement 2`, for explanations.
    pub fn label(&self) -> String {
        match &self.sid {
            Some(sid) if !sid.is_empty() => format!("statement {}, Sid {}", self.index, sid),
            _ => format!("statement {}", self.index),
        }
    }
}

/// `Principal` (negated = false) or `NotPrincipal` (negated = true).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalBlock {
    pub negated: bool,
    pub entries: Vec<Principal>,
}

/// One principal as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Principal {
    /// `"Principal": "*"`: everyone, including anonymous callers.
    Everyone,
    /// `{"AWS": ...}`: an account id, an account root ARN, a user, role or session ARN, or
    /// `"*"` (which, in a resource policy, is the same as `"Principal": "*"`).
    Aws(String),
    /// `{"Service": "cloudtrail.amazonaws.com"}`.
    Service(String),
    /// `{"Federated": ...}`: an identity provider (OIDC/SAML provider ARN or a well-known
    /// provider name such as `accounts.google.com`).
    Federated(String),
    /// `{"CanonicalUser": ...}`: an S3 canonical user id.
    CanonicalUser(String),
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Principal::Everyone => f.write_str("*"),
            Principal::Aws(v) => write!(f, "AWS:{v}"),
            Principal::Service(v) => write!(f, "Service:{v}"),
            Principal::Federated(v) => write!(f, "Federated:{v}"),
            Principal::CanonicalUser(v) => write!(f, "CanonicalUser:{v}"),
        }
    }
}

/// `Action` (negated = false) or `NotAction` (negated = true).
#[derive(Debug, Clone)]
pub struct ActionBlock {
    pub negated: bool,
    /// The patterns as written.
    pub patterns: Vec<String>,
    pub(crate) globs: Vec<Glob>,
}

impl ActionBlock {
    pub(crate) fn new(negated: bool, patterns: Vec<String>) -> Self {
        let globs = patterns.iter().map(|p| Glob::new(p, true)).collect();
        ActionBlock {
            negated,
            patterns,
            globs,
        }
    }

    /// Does this element select `action` (case-insensitive, as IAM compares actions)?
    pub fn matches(&self, action: &str) -> bool {
        self.globs.iter().any(|g| g.matches(action)) != self.negated
    }
}

/// `Resource` (negated = false) or `NotResource` (negated = true). Patterns may hold
/// policy variables, so they are compiled when a request is evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceBlock {
    pub negated: bool,
    pub patterns: Vec<String>,
}

/// `ForAllValues:` or `ForAnyValue:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SetQualifier {
    ForAllValues,
    ForAnyValue,
}

/// A condition operator without its qualifier and `IfExists` suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[allow(missing_docs)]
pub enum BaseOperator {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

/// The operator families, which decide how values are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    String,
    StringIgnoreCase,
    StringLike,
    Numeric,
    Date,
    Bool,
    Binary,
    Ip,
    Arn,
    Null,
}

const OPERATORS: &[(&str, BaseOperator)] = &[
    ("StringEquals", BaseOperator::StringEquals),
    ("StringNotEquals", BaseOperator::StringNotEquals),
    (
        "StringEqualsIgnoreCase",
        BaseOperator::StringEqualsIgnoreCase,
    ),
    (
        "StringNotEqualsIgnoreCase",
        BaseOperator::StringNotEqualsIgnoreCase,
    ),
    ("StringLike", BaseOperator::StringLike),
    ("StringNotLike", BaseOperator::StringNotLike),
    ("NumericEquals", BaseOperator::NumericEquals),
    ("NumericNotEquals", BaseOperator::NumericNotEquals),
    ("NumericLessThan", BaseOperator::NumericLessThan),
    ("NumericLessThanEquals", BaseOperator::NumericLessThanEquals),
    ("NumericGreaterThan", BaseOperator::NumericGreaterThan),
    (
        "NumericGreaterThanEquals",
        BaseOperator::NumericGreaterThanEquals,
    ),
    ("DateEquals", BaseOperator::DateEquals),
    ("DateNotEquals", BaseOperator::DateNotEquals),
    ("DateLessThan", BaseOperator::DateLessThan),
    ("DateLessThanEquals", BaseOperator::DateLessThanEquals),
    ("DateGreaterThan", BaseOperator::DateGreaterThan),
    ("DateGreaterThanEquals", BaseOperator::DateGreaterThanEquals),
    ("Bool", BaseOperator::Bool),
    ("BinaryEquals", BaseOperator::BinaryEquals),
    ("IpAddress", BaseOperator::IpAddress),
    ("NotIpAddress", BaseOperator::NotIpAddress),
    ("ArnEquals", BaseOperator::ArnEquals),
    ("ArnLike", BaseOperator::ArnLike),
    ("ArnNotEquals", BaseOperator::ArnNotEquals),
    ("ArnNotLike", BaseOperator::ArnNotLike),
    ("Null", BaseOperator::Null),
];

impl BaseOperator {
    /// The operator's name as written in a policy.
    pub fn name(self) -> &'static str {
        OPERATORS
            .iter()
            .find(|(_, op)| *op == self)
            .map_or("?", |(name, _)| name)
    }

    fn from_name(name: &str) -> Option<Self> {
        OPERATORS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, op)| *op)
    }

    /// Negated operators (`StringNotEquals`, `NotIpAddress`, `ArnNotLike`...) hold when no
    /// policy value matches, and hold when the key is absent.
    pub fn is_negated(self) -> bool {
        use BaseOperator::*;
        matches!(
            self,
            StringNotEquals
                | StringNotEqualsIgnoreCase
                | StringNotLike
                | NumericNotEquals
                | DateNotEquals
                | NotIpAddress
                | ArnNotEquals
                | ArnNotLike
        )
    }

    pub(crate) fn family(self) -> Family {
        use BaseOperator::*;
        match self {
            StringEquals | StringNotEquals => Family::String,
            StringEqualsIgnoreCase | StringNotEqualsIgnoreCase => Family::StringIgnoreCase,
            StringLike | StringNotLike => Family::StringLike,
            NumericEquals
            | NumericNotEquals
            | NumericLessThan
            | NumericLessThanEquals
            | NumericGreaterThan
            | NumericGreaterThanEquals => Family::Numeric,
            DateEquals
            | DateNotEquals
            | DateLessThan
            | DateLessThanEquals
            | DateGreaterThan
            | DateGreaterThanEquals => Family::Date,
            Bool => Family::Bool,
            BinaryEquals => Family::Binary,
            IpAddress | NotIpAddress => Family::Ip,
            ArnEquals | ArnLike | ArnNotEquals | ArnNotLike => Family::Arn,
            Null => Family::Null,
        }
    }

    /// Whether values of this operator may hold policy variables (string, ARN and Bool
    /// operators, per the IAM documentation on policy variables).
    pub(crate) fn allows_variables(self) -> bool {
        matches!(
            self.family(),
            Family::String
                | Family::StringIgnoreCase
                | Family::StringLike
                | Family::Arn
                | Family::Bool
        )
    }
}

/// A full condition operator: qualifier, base operator, `IfExists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ConditionOperator {
    pub qualifier: Option<SetQualifier>,
    pub base: BaseOperator,
    pub if_exists: bool,
}

impl ConditionOperator {
    /// Parse `ForAnyValue:StringLikeIfExists` and friends. `None` for an unknown operator.
    pub fn parse(text: &str) -> Option<Self> {
        let (qualifier, rest) = match text.split_once(':') {
            Some(("ForAllValues", rest)) => (Some(SetQualifier::ForAllValues), rest),
            Some(("ForAnyValue", rest)) => (Some(SetQualifier::ForAnyValue), rest),
            Some(_) => return None,
            None => (None, text),
        };
        let (name, if_exists) = match rest.strip_suffix("IfExists") {
            Some(name) => (name, true),
            None => (rest, false),
        };
        let base = BaseOperator::from_name(name)?;
        if if_exists && base == BaseOperator::Null {
            return None; // the IAM reference: IfExists applies to every operator but Null
        }
        Some(ConditionOperator {
            qualifier,
            base,
            if_exists,
        })
    }
}

impl fmt::Display for ConditionOperator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.qualifier {
            Some(SetQualifier::ForAllValues) => f.write_str("ForAllValues:")?,
            Some(SetQualifier::ForAnyValue) => f.write_str("ForAnyValue:")?,
            None => {}
        }
        f.write_str(self.base.name())?;
        if self.if_exists {
            f.write_str("IfExists")?;
        }
        Ok(())
    }
}

/// One (operator, key, values) test of a `Condition` element. The values are ORed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Condition {
    pub operator: ConditionOperator,
    /// The key as written (keys compare case-insensitively).
    pub key: String,
    /// The values, as text (numbers and booleans as their JSON text).
    pub values: Vec<String>,
}

impl Condition {
    /// `aws:SourceVpce StringEquals vpce-1` style text for explanations.
    pub fn describe(&self) -> String {
        let values = if self.values.len() == 1 {
            self.values[0].clone()
        } else {
            format!("[{}]", self.values.join(", "))
        };
        format!("{} {} {}", self.operator, self.key, values)
    }
}
