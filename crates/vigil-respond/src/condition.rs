//! Conditions of decision nodes and of `when:` on steps.
//!
//! ```yaml
//! when: { var: context.environment, equals: prod }
//! when:
//!   any:
//!     - { var: steps.capture.outputs.tags.Environment, in: [prod, production] }
//!     - { var: finding.severity.score, gte: 90 }
//! when: { not: { var: inputs.role_name, exists: true } }
//! ```
//!
//! A variable that reaches several values (a path through a list) satisfies a test when
//! any of them does. `matches` is a case-insensitive glob (`*`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::path::JsonPath;
use crate::template::lookup;

/// A test on the run's variables, or a combination of tests.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all: Option<Vec<Condition>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub any: Option<Vec<Condition>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not: Option<Box<Condition>>,
    /// The variable tested, e.g. `context.environment`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub var: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_equals: Option<Value>,
    #[serde(default, rename = "in", skip_serializing_if = "Option::is_none")]
    pub one_of: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exists: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contains: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matches: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gt: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gte: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lt: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lte: Option<f64>,
}

impl Condition {
    fn operators(&self) -> Vec<&'static str> {
        let set = [
            ("equals", self.equals.is_some()),
            ("not_equals", self.not_equals.is_some()),
            ("in", self.one_of.is_some()),
            ("exists", self.exists.is_some()),
            ("contains", self.contains.is_some()),
            ("matches", self.matches.is_some()),
            ("gt", self.gt.is_some()),
            ("gte", self.gte.is_some()),
            ("lt", self.lt.is_some()),
            ("lte", self.lte.is_some()),
        ];
        set.iter()
            .filter(|(_, on)| *on)
            .map(|(name, _)| *name)
            .collect()
    }

    /// Checks the shape: one of `all`, `any`, `not`, `var`; a `var` with exactly one
    /// operator that parses. Returns the problems with the path of each.
    pub fn check(&self, path: &str) -> Vec<(String, String)> {
        let kinds = [
            self.all.is_some(),
            self.any.is_some(),
            self.not.is_some(),
            self.var.is_some(),
        ];
        let mut problems = Vec::new();
        if kinds.iter().filter(|k| **k).count() != 1 {
            problems.push((
                path.to_string(),
                "a condition has exactly one of `all`, `any`, `not`, `var`".into(),
            ));
            return problems;
        }
        for (key, list) in [("all", &self.all), ("any", &self.any)] {
            if let Some(list) = list {
                if list.is_empty() {
                    problems.push((format!("{path}.{key}"), format!("`{key}` is empty")));
                }
                for (i, c) in list.iter().enumerate() {
                    problems.extend(c.check(&format!("{path}.{key}[{i}]")));
                }
            }
        }
        if let Some(inner) = &self.not {
            problems.extend(inner.check(&format!("{path}.not")));
        }
        if let Some(var) = &self.var {
            let operators = self.operators();
            if operators.len() != 1 {
                problems.push((
                    path.to_string(),
                    format!(
                        "`var: {var}` needs exactly one test (equals, not_equals, in, exists, contains, matches, gt, gte, lt, lte); found {}",
                        if operators.is_empty() { "none".to_string() } else { operators.join(", ") }
                    ),
                ));
            }
            if let Err(reason) = JsonPath::parse(var) {
                problems.push((format!("{path}.var"), reason));
            }
        }
        problems
    }

    /// Every variable the condition reads.
    pub fn variables(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self.var.as_deref().into_iter().collect();
        for list in [&self.all, &self.any].into_iter().flatten() {
            out.extend(list.iter().flat_map(Condition::variables));
        }
        if let Some(inner) = &self.not {
            out.extend(inner.variables());
        }
        out
    }

    /// Whether the condition holds over `root` (the run's variables).
    pub fn eval(&self, root: &Value) -> bool {
        if let Some(all) = &self.all {
            return all.iter().all(|c| c.eval(root));
        }
        if let Some(any) = &self.any {
            return any.iter().any(|c| c.eval(root));
        }
        if let Some(inner) = &self.not {
            return !inner.eval(root);
        }
        let Some(var) = &self.var else { return false };
        let Ok(path) = JsonPath::parse(var) else {
            return false;
        };
        let found = lookup(&path, root).filter(|v| !v.is_null());
        if let Some(exists) = self.exists {
            return found.is_some() == exists;
        }
        if let Some(expected) = &self.not_equals {
            return !candidates(found.as_ref())
                .iter()
                .any(|v| loose_eq(v, expected));
        }
        let values = candidates(found.as_ref());
        values.iter().any(|value| self.test(value))
    }

    fn test(&self, value: &Value) -> bool {
        if let Some(expected) = &self.equals {
            return loose_eq(value, expected);
        }
        if let Some(list) = &self.one_of {
            return list.iter().any(|expected| loose_eq(value, expected));
        }
        if let Some(needle) = &self.contains {
            return match (value, needle) {
                (Value::String(text), Value::String(n)) => text.contains(n.as_str()),
                _ => false,
            };
        }
        if let Some(pattern) = &self.matches {
            return vigil_store::glob_match(&pattern.to_lowercase(), &text(value).to_lowercase());
        }
        let Some(number) = number(value) else {
            return false;
        };
        let bounds = [
            (self.gt, number > self.gt.unwrap_or(0.0)),
            (self.gte, number >= self.gte.unwrap_or(0.0)),
            (self.lt, number < self.lt.unwrap_or(0.0)),
            (self.lte, number <= self.lte.unwrap_or(0.0)),
        ];
        bounds
            .iter()
            .any(|(bound, holds)| bound.is_some() && *holds)
    }

    /// The condition in words, for runbooks and the ledger.
    pub fn describe(&self) -> String {
        let join = |list: &[Condition], word: &str| {
            list.iter()
                .map(|c| format!("({})", c.describe()))
                .collect::<Vec<_>>()
                .join(&format!(" {word} "))
        };
        if let Some(all) = &self.all {
            return join(all, "and");
        }
        if let Some(any) = &self.any {
            return join(any, "or");
        }
        if let Some(inner) = &self.not {
            return format!("not ({})", inner.describe());
        }
        let var = self.var.as_deref().unwrap_or("?");
        let show = |v: &Value| match v {
            Value::String(s) => format!("`{s}`"),
            other => format!("`{other}`"),
        };
        let list = |l: &[Value]| l.iter().map(show).collect::<Vec<_>>().join(", ");
        let test = match self {
            Condition {
                equals: Some(v), ..
            } => format!("is {}", show(v)),
            Condition {
                not_equals: Some(v),
                ..
            } => format!("is not {}", show(v)),
            Condition {
                one_of: Some(l), ..
            } => format!("is one of {}", list(l)),
            Condition {
                exists: Some(true), ..
            } => "is set".into(),
            Condition {
                exists: Some(false),
                ..
            } => "is not set".into(),
            Condition {
                contains: Some(v), ..
            } => format!("contains {}", show(v)),
            Condition {
                matches: Some(p), ..
            } => format!("matches `{p}`"),
            Condition { gt: Some(n), .. } => format!("> {n}"),
            Condition { gte: Some(n), .. } => format!(">= {n}"),
            Condition { lt: Some(n), .. } => format!("< {n}"),
            Condition { lte: Some(n), .. } => format!("<= {n}"),
            _ => "?".into(),
        };
        format!("`{var}` {test}")
    }
}

fn candidates(found: Option<&Value>) -> Vec<Value> {
    match found {
        Some(Value::Array(items)) => items.clone(),
        Some(other) => vec![other.clone()],
        None => Vec::new(),
    }
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Equality that lets `"25"` equal `25` and `"true"` equal `true` (tags are strings).
fn loose_eq(value: &Value, expected: &Value) -> bool {
    value == expected || text(value) == text(expected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cond(yaml_like: Value) -> Condition {
        serde_json::from_value(yaml_like).unwrap()
    }

    #[test]
    fn tests_compare_and_combine() {
        let root = json!({
            "context": {"environment": "prod"},
            "finding": {"severity": {"score": 75, "label": "HIGH"}},
            "steps": {"capture": {"outputs": {"tags": [{"Key": "Env", "Value": "Dev"}]}}}
        });
        assert!(cond(json!({"var": "context.environment", "equals": "prod"})).eval(&root));
        assert!(!cond(json!({"var": "context.environment", "equals": "dev"})).eval(&root));
        assert!(cond(json!({"var": "finding.severity.score", "gte": 70})).eval(&root));
        assert!(!cond(json!({"var": "finding.severity.score", "gt": 75})).eval(&root));
        assert!(
            cond(json!({"var": "finding.severity.label", "in": ["HIGH", "CRITICAL"]})).eval(&root)
        );
        assert!(
            cond(json!({"var": "steps.capture.outputs.tags.Value", "matches": "dev*"})).eval(&root)
        );
        assert!(cond(json!({"var": "inputs.nothing", "exists": false})).eval(&root));
        assert!(cond(json!({"var": "inputs.nothing", "not_equals": "x"})).eval(&root));
        assert!(!cond(json!({"var": "inputs.nothing", "equals": "x"})).eval(&root));
        let both = cond(json!({"all": [
            {"var": "context.environment", "equals": "prod"},
            {"not": {"var": "finding.severity.score", "lt": 50}}
        ]}));
        assert!(both.eval(&root));
        assert_eq!(
            both.describe(),
            "(`context.environment` is `prod`) and (not (`finding.severity.score` < 50))"
        );
    }

    #[test]
    fn shapes_are_checked() {
        let two_kinds =
            cond(json!({"var": "a", "all": [{"var": "b", "exists": true}], "equals": 1}));
        assert!(!two_kinds.check("when").is_empty());
        let no_test = cond(json!({"var": "a"}));
        assert_eq!(no_test.check("when")[0].0, "when");
        let nested =
            cond(json!({"any": [{"var": "a", "exists": true}, {"var": "b", "gt": 1, "lt": 3}]}));
        assert_eq!(nested.check("when")[0].0, "when.any[1]");
        assert!(cond(json!({"var": "a", "exists": true}))
            .check("when")
            .is_empty());
    }
}
