//! Reading a policy document from JSON text or a `serde_json::Value`, strictly: an unknown
//! element, a wrong type or an unknown operator is an error naming the statement and element
//! (and, from text, the line and column of the statement).

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::error::{Location, PolicyError};
use crate::model::{
    ActionBlock, BaseOperator, Condition, ConditionOperator, Effect, Family, Policy, PolicyVersion,
    Principal, PrincipalBlock, ResourceBlock, Statement,
};

const TOP_LEVEL: &[&str] = &["Version", "Id", "Statement"];
const STATEMENT_ELEMENTS: &[&str] = &[
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

impl Policy {
    /// Parse a policy document from JSON text. Errors name the line and column (JSON syntax
    /// errors, and the start of a faulty statement), the statement index and the element.
    pub fn parse(json: &str) -> Result<Policy, PolicyError> {
        let value: Value = serde_json::from_str(json).map_err(|e| PolicyError::Syntax {
            line: e.line(),
            column: e.column(),
            reason: e.to_string(),
        })?;
        let positions = statement_positions(json);
        build(&value, &positions)
    }

    /// Build a policy from an already-parsed JSON value (as returned by AWS APIs after URL
    /// decoding). Errors name the statement index and element.
    pub fn from_value(value: &Value) -> Result<Policy, PolicyError> {
        build(value, &[])
    }
}

/// Line and column of each statement, found through serde_json's raw values (which borrow
/// the source text, so their address gives their offset).
fn statement_positions(json: &str) -> Vec<(usize, usize)> {
    #[derive(Deserialize)]
    struct Top<'a> {
        #[serde(borrow, rename = "Statement")]
        statement: Option<&'a RawValue>,
    }
    let Ok(Top {
        statement: Some(raw),
    }) = serde_json::from_str::<Top>(json)
    else {
        return Vec::new();
    };
    let items: Vec<&RawValue> = if raw.get().trim_start().starts_with('[') {
        serde_json::from_str(raw.get()).unwrap_or_default()
    } else {
        vec![raw]
    };
    let base = json.as_ptr() as usize;
    items
        .iter()
        .map(|item| {
            let offset = (item.get().as_ptr() as usize).saturating_sub(base);
            line_column(json, offset)
        })
        .collect()
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

fn build(value: &Value, positions: &[(usize, usize)]) -> Result<Policy, PolicyError> {
    let top = value.as_object().ok_or_else(|| {
        PolicyError::invalid(
            Location::default(),
            "a policy document must be a JSON object",
        )
    })?;
    for key in top.keys() {
        if !TOP_LEVEL.contains(&key.as_str()) {
            return Err(PolicyError::invalid(
                element_at(None, key),
                format!("unknown top-level element {key:?} (expected Version, Id, Statement)"),
            ));
        }
    }
    let version = match top.get("Version") {
        None => PolicyVersion::Unspecified,
        Some(Value::String(v)) if v == "2012-10-17" => PolicyVersion::V2012_10_17,
        Some(Value::String(v)) if v == "2008-10-17" => PolicyVersion::V2008_10_17,
        Some(other) => {
            return Err(PolicyError::invalid(
                element_at(None, "Version"),
                format!("Version must be \"2012-10-17\" or \"2008-10-17\", got {other}"),
            ))
        }
    };
    let id = match top.get("Id") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            return Err(PolicyError::invalid(
                element_at(None, "Id"),
                format!("Id must be a string, got {}", type_name(other)),
            ))
        }
    };
    let raw_statements: Vec<&Value> = match top.get("Statement") {
        None => {
            return Err(PolicyError::invalid(
                Location::default(),
                "missing Statement element",
            ))
        }
        Some(Value::Array(items)) if items.is_empty() => {
            return Err(PolicyError::invalid(
                element_at(None, "Statement"),
                "Statement is an empty array",
            ))
        }
        Some(Value::Array(items)) => items.iter().collect(),
        Some(object @ Value::Object(_)) => vec![object],
        Some(other) => {
            return Err(PolicyError::invalid(
                element_at(None, "Statement"),
                format!(
                    "Statement must be an object or an array of objects, got {}",
                    type_name(other)
                ),
            ))
        }
    };
    let statements = raw_statements
        .into_iter()
        .enumerate()
        .map(|(index, raw)| {
            let context = StatementContext {
                index,
                position: positions.get(index).copied(),
            };
            statement(raw, &context)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Policy {
        version,
        id,
        statements,
    })
}

struct StatementContext {
    index: usize,
    position: Option<(usize, usize)>,
}

impl StatementContext {
    fn at(&self, element: &str) -> Location {
        Location {
            line: self.position.map(|p| p.0),
            column: self.position.map(|p| p.1),
            statement: Some(self.index),
            element: (!element.is_empty()).then(|| element.to_string()),
        }
    }

    fn error(&self, element: &str, reason: impl Into<String>) -> PolicyError {
        PolicyError::invalid(self.at(element), reason)
    }
}

fn element_at(statement: Option<usize>, element: &str) -> Location {
    Location {
        statement,
        element: Some(element.to_string()),
        ..Location::default()
    }
}

fn statement(raw: &Value, cx: &StatementContext) -> Result<Statement, PolicyError> {
    let object = raw.as_object().ok_or_else(|| {
        cx.error(
            "",
            format!("a statement must be an object, got {}", type_name(raw)),
        )
    })?;
    for key in object.keys() {
        if !STATEMENT_ELEMENTS.contains(&key.as_str()) {
            return Err(cx.error(key, format!("unknown statement element {key:?}")));
        }
    }
    let sid = match object.get("Sid") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            return Err(cx.error(
                "Sid",
                format!("Sid must be a string, got {}", type_name(other)),
            ))
        }
    };
    let effect = match object.get("Effect") {
        Some(Value::String(s)) if s == "Allow" => Effect::Allow,
        Some(Value::String(s)) if s == "Deny" => Effect::Deny,
        Some(Value::String(s)) => {
            return Err(cx.error(
                "Effect",
                format!("Effect must be \"Allow\" or \"Deny\", got {s:?}"),
            ))
        }
        Some(other) => {
            return Err(cx.error(
                "Effect",
                format!("Effect must be a string, got {}", type_name(other)),
            ))
        }
        None => return Err(cx.error("Effect", "missing Effect element")),
    };
    let principal = principal_block(object, cx)?;
    let action = action_block(object, cx)?;
    let resource = resource_block(object, cx)?;
    let conditions = match object.get("Condition") {
        None => Vec::new(),
        Some(value) => conditions(value, cx)?,
    };
    Ok(Statement {
        index: cx.index,
        sid,
        effect,
        principal,
        action,
        resource,
        conditions,
        line: cx.position.map(|p| p.0),
    })
}

/// Exactly one of `name` and `Not{name}` (when `required`), or at most one.
fn pick<'a>(
    object: &'a Map<String, Value>,
    name: &str,
    required: bool,
    cx: &StatementContext,
) -> Result<Option<(bool, &'a Value, String)>, PolicyError> {
    let not_name = format!("Not{name}");
    match (object.get(name), object.get(&not_name)) {
        (Some(_), Some(_)) => Err(cx.error(
            name,
            format!("a statement cannot have both {name} and {not_name}"),
        )),
        (Some(v), None) => Ok(Some((false, v, name.to_string()))),
        (None, Some(v)) => Ok(Some((true, v, not_name))),
        (None, None) if required => {
            Err(cx.error(name, format!("a statement needs {name} or {not_name}")))
        }
        (None, None) => Ok(None),
    }
}

fn string_list(
    value: &Value,
    element: &str,
    cx: &StatementContext,
) -> Result<Vec<String>, PolicyError> {
    let items: Vec<&Value> = match value {
        Value::String(_) => vec![value],
        Value::Array(items) if items.is_empty() => {
            return Err(cx.error(element, format!("{element} is an empty array")))
        }
        Value::Array(items) => items.iter().collect(),
        other => {
            return Err(cx.error(
                element,
                format!(
                    "{element} must be a string or an array of strings, got {}",
                    type_name(other)
                ),
            ))
        }
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::String(s) => Ok(s.clone()),
            other => Err(cx.error(
                &format!("{element}[{i}]"),
                format!("expected a string, got {}", type_name(other)),
            )),
        })
        .collect()
}

fn principal_block(
    object: &Map<String, Value>,
    cx: &StatementContext,
) -> Result<Option<PrincipalBlock>, PolicyError> {
    let Some((negated, value, element)) = pick(object, "Principal", false, cx)? else {
        return Ok(None);
    };
    let entries = match value {
        Value::String(s) if s == "*" => vec![Principal::Everyone],
        Value::String(s) => {
            return Err(cx.error(
                &element,
                format!("{element} must be \"*\" or an object such as {{\"AWS\": ...}}, got {s:?}"),
            ))
        }
        Value::Object(map) => {
            let mut entries = Vec::new();
            for (kind, ids) in map {
                let path = format!("{element}.{kind}");
                let make: fn(String) -> Principal = match kind.as_str() {
                    "AWS" => Principal::Aws,
                    "Service" => Principal::Service,
                    "Federated" => Principal::Federated,
                    "CanonicalUser" => Principal::CanonicalUser,
                    other => {
                        return Err(cx.error(
                            &path,
                            format!(
                                "unknown principal type {other:?} (expected AWS, Service, Federated, CanonicalUser)"
                            ),
                        ))
                    }
                };
                entries.extend(string_list(ids, &path, cx)?.into_iter().map(make));
            }
            if entries.is_empty() {
                return Err(cx.error(&element, format!("{element} names no principal")));
            }
            entries
        }
        other => {
            return Err(cx.error(
                &element,
                format!(
                    "{element} must be \"*\" or an object, got {}",
                    type_name(other)
                ),
            ))
        }
    };
    if negated && entries.contains(&Principal::Everyone) {
        return Err(cx.error(&element, "NotPrincipal cannot be \"*\""));
    }
    Ok(Some(PrincipalBlock { negated, entries }))
}

fn action_block(
    object: &Map<String, Value>,
    cx: &StatementContext,
) -> Result<ActionBlock, PolicyError> {
    let Some((negated, value, element)) = pick(object, "Action", true, cx)? else {
        return Err(cx.error("Action", "a statement needs Action or NotAction"));
    };
    let patterns = string_list(value, &element, cx)?;
    for (i, pattern) in patterns.iter().enumerate() {
        if pattern != "*" && !pattern.contains(':') {
            return Err(cx.error(
                &format!("{element}[{i}]"),
                format!("action {pattern:?} has no service prefix (expected service:Action)"),
            ));
        }
    }
    Ok(ActionBlock::new(negated, patterns))
}

fn resource_block(
    object: &Map<String, Value>,
    cx: &StatementContext,
) -> Result<Option<ResourceBlock>, PolicyError> {
    let Some((negated, value, element)) = pick(object, "Resource", false, cx)? else {
        return Ok(None);
    };
    let patterns = string_list(value, &element, cx)?;
    Ok(Some(ResourceBlock { negated, patterns }))
}

fn conditions(value: &Value, cx: &StatementContext) -> Result<Vec<Condition>, PolicyError> {
    let operators = value.as_object().ok_or_else(|| {
        cx.error(
            "Condition",
            format!("Condition must be an object, got {}", type_name(value)),
        )
    })?;
    let mut out = Vec::new();
    for (operator_text, block) in operators {
        let path = format!("Condition.{operator_text}");
        let operator = ConditionOperator::parse(operator_text).ok_or_else(|| {
            cx.error(
                &path,
                format!("unknown condition operator {operator_text:?}"),
            )
        })?;
        let keys = block.as_object().ok_or_else(|| {
            cx.error(
                &path,
                format!(
                    "expected an object of condition keys, got {}",
                    type_name(block)
                ),
            )
        })?;
        for (key, raw_values) in keys {
            let key_path = format!("{path}.{key}");
            let values = condition_values(raw_values, &key_path, cx)?;
            for v in &values {
                check_value(operator.base, v).map_err(|reason| cx.error(&key_path, reason))?;
            }
            out.push(Condition {
                operator,
                key: key.clone(),
                values,
            });
        }
    }
    Ok(out)
}

fn condition_values(
    value: &Value,
    path: &str,
    cx: &StatementContext,
) -> Result<Vec<String>, PolicyError> {
    let scalar = |v: &Value| -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    };
    match value {
        Value::Array(items) if items.is_empty() => {
            Err(cx.error(path, "a condition needs at least one value"))
        }
        Value::Array(items) => items
            .iter()
            .map(|item| {
                scalar(item).ok_or_else(|| {
                    cx.error(
                        path,
                        format!(
                            "condition values must be strings, numbers or booleans, got {}",
                            type_name(item)
                        ),
                    )
                })
            })
            .collect(),
        other => scalar(other).map(|s| vec![s]).ok_or_else(|| {
            cx.error(
                path,
                format!(
                    "condition values must be strings, numbers or booleans, got {}",
                    type_name(other)
                ),
            )
        }),
    }
}

/// Values that can never be compared (a number that is not one, a CIDR that is not one)
/// are rejected the way IAM rejects them, rather than silently never matching.
fn check_value(base: BaseOperator, value: &str) -> Result<(), String> {
    if value.contains("${") && base.allows_variables() {
        return Ok(());
    }
    let ok = match base.family() {
        Family::Numeric => value.trim().parse::<f64>().is_ok(),
        Family::Date => crate::condition::parse_date(value).is_some(),
        Family::Bool | Family::Null => {
            value.eq_ignore_ascii_case("true") || value.eq_ignore_ascii_case("false")
        }
        Family::Ip => crate::condition::parse_cidr(value).is_some(),
        Family::Binary => crate::condition::decode_base64(value).is_some(),
        Family::String | Family::StringIgnoreCase | Family::StringLike | Family::Arn => true,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{value:?} is not a valid value for {}",
            base.name()
        ))
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
