//! Literal reading of policy statements, for the checks CIS and Security Hub define as
//! patterns in a document ("an Allow of `*` on `*`", "a Deny when aws:SecureTransport is
//! false", "an SCP that denies cloudtrail:StopLogging"). Who a resource policy lets in is
//! *not* answered here — that is [`crate::policy::PolicyVerdicts`]'s job.

use serde_json::Value;

/// One statement, with string-or-list fields normalised to lists.
#[derive(Debug, Clone, Default)]
pub(crate) struct Statement {
    pub index: usize,
    pub sid: Option<String>,
    pub allow: bool,
    pub actions: Vec<String>,
    /// `Some` when the statement uses NotAction.
    pub not_actions: Option<Vec<String>>,
    pub resources: Vec<String>,
    /// `Some` when the statement uses NotResource.
    pub not_resources: Option<Vec<String>>,
    /// The Principal element as written (`None` for identity policies).
    pub principal: Option<Value>,
    /// The Condition element (`Null` when absent).
    pub condition: Value,
}

/// Parses the statements of a policy document; `Err` says what is wrong.
pub(crate) fn statements(document: &str) -> Result<Vec<Statement>, String> {
    let doc: Value =
        serde_json::from_str(document).map_err(|err| format!("policy is not JSON: {err}"))?;
    let list = match doc.get("Statement") {
        Some(Value::Array(items)) => items.clone(),
        Some(one @ Value::Object(_)) => vec![one.clone()],
        _ => return Err("policy has no Statement".into()),
    };
    list.iter()
        .enumerate()
        .map(|(index, item)| statement(index, item))
        .collect()
}

fn statement(index: usize, item: &Value) -> Result<Statement, String> {
    let effect = item.get("Effect").and_then(Value::as_str);
    let allow = match effect {
        Some("Allow") => true,
        Some("Deny") => false,
        other => return Err(format!("statement {index}: Effect is {other:?}")),
    };
    Ok(Statement {
        index,
        sid: item.get("Sid").and_then(Value::as_str).map(str::to_string),
        allow,
        actions: strings(item.get("Action")),
        not_actions: item.get("NotAction").map(|v| strings(Some(v))),
        resources: strings(item.get("Resource")),
        not_resources: item.get("NotResource").map(|v| strings(Some(v))),
        principal: item.get("Principal").cloned(),
        condition: item.get("Condition").cloned().unwrap_or(Value::Null),
    })
}

fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(one)) => vec![one.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// IAM wildcard match (`*` any run, `?` one character), case-insensitive as IAM action
/// names are. Written here because identity-policy patterns need only these two
/// metacharacters; the classic two-pointer algorithm is linear.
pub(crate) fn iam_match(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.to_ascii_lowercase().chars().collect();
    let text: Vec<char> = text.to_ascii_lowercase().chars().collect();
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((star_p, star_t)) = star {
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

impl Statement {
    /// The statement covers `action` (through Action, or through NotAction not naming it).
    pub fn covers_action(&self, action: &str) -> bool {
        match &self.not_actions {
            Some(excluded) => !excluded.iter().any(|p| iam_match(p, action)),
            None => self.actions.iter().any(|p| iam_match(p, action)),
        }
    }

    /// The statement applies to `resource` (through Resource, or NotResource not naming it).
    pub fn covers_resource(&self, resource: &str) -> bool {
        match &self.not_resources {
            Some(excluded) => !excluded.iter().any(|p| iam_match(p, resource)),
            None => self.resources.iter().any(|p| iam_match(p, resource)),
        }
    }

    /// Action `*` on Resource `*`, written literally (CIS 1.16 / IAM.1).
    pub fn is_full_admin(&self) -> bool {
        self.allow
            && self.actions.iter().any(|a| a == "*")
            && self.resources.iter().any(|r| r == "*")
    }

    /// Service-wide wildcards among the actions (`s3:*`, `*`), for IAM.21.
    pub fn service_wildcards(&self) -> Vec<String> {
        self.actions
            .iter()
            .filter(|a| *a == "*" || a.ends_with(":*"))
            .cloned()
            .collect()
    }

    /// Principal is everyone: `"*"` or `{"AWS": "*"}` (or a list holding `*`).
    pub fn principal_is_everyone(&self) -> bool {
        match &self.principal {
            Some(Value::String(s)) => s == "*",
            Some(Value::Object(map)) => map
                .get("AWS")
                .is_some_and(|aws| strings(Some(aws)).iter().any(|p| p == "*")),
            _ => false,
        }
    }

    /// The values of condition `key` under `operator` (operator and key compared
    /// case-insensitively, as IAM does for keys).
    pub fn condition_values(&self, operator: &str, key: &str) -> Vec<String> {
        let Some(operators) = self.condition.as_object() else {
            return Vec::new();
        };
        operators
            .iter()
            .filter(|(op, _)| op.eq_ignore_ascii_case(operator))
            .filter_map(|(_, keys)| keys.as_object())
            .flat_map(|keys| keys.iter())
            .filter(|(k, _)| k.eq_ignore_ascii_case(key))
            .flat_map(|(_, values)| match values {
                Value::Bool(b) => vec![b.to_string()],
                other => strings(Some(other)),
            })
            .collect()
    }

    /// A short label: `statement 2 (Sid "X")`.
    pub fn label(&self) -> String {
        match &self.sid {
            Some(sid) => format!("statement {} (Sid \"{sid}\")", self.index),
            None => format!("statement {}", self.index),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iam_wildcards_match_like_iam() {
        assert!(iam_match("kms:*", "kms:Decrypt"));
        assert!(iam_match("KMS:De*", "kms:Decrypt"));
        assert!(iam_match("kms:?ecrypt", "kms:Decrypt"));
        assert!(!iam_match("kms:Encrypt", "kms:Decrypt"));
        assert!(iam_match("*", "anything:At"));
        assert!(!iam_match("s3:Get*", "s3:PutObject"));
    }

    #[test]
    fn statements_accept_single_objects_and_strings() {
        let doc = r#"{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}"#;
        let parsed = statements(doc).unwrap();
        assert!(parsed[0].is_full_admin());
        let not_action =
            r#"{"Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]}"#;
        let parsed = statements(not_action).unwrap();
        assert!(parsed[0].covers_action("kms:Decrypt"));
        assert!(!parsed[0].covers_action("iam:CreateUser"));
        assert!(statements("[1]").is_err());
        assert!(statements(r#"{"Statement": [{"Effect": "Maybe"}]}"#).is_err());
    }

    #[test]
    fn conditions_read_bool_and_string_values() {
        let doc = r#"{"Statement": [{"Effect": "Deny", "Principal": {"AWS": ["*"]},
            "Action": "s3:*", "Resource": "*",
            "Condition": {"Bool": {"aws:SecureTransport": false}}}]}"#;
        let parsed = statements(doc).unwrap();
        assert!(parsed[0].principal_is_everyone());
        assert_eq!(
            parsed[0].condition_values("bool", "AWS:SecureTransport"),
            vec!["false"]
        );
    }
}
