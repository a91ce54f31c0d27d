//! A playbook's inputs, taken from the finding.

use regex::Regex;
use serde_json::{Map, Value};

use crate::path::JsonPath;
use crate::playbook::{InputSpec, Playbook};

/// Resolves every input of `playbook` from `finding`; the problems, one per input, when
/// some cannot be resolved.
pub fn resolve_inputs(
    playbook: &Playbook,
    finding: &Value,
) -> Result<Map<String, Value>, Vec<String>> {
    let mut values = Map::new();
    let mut problems = Vec::new();
    for (name, spec) in &playbook.inputs {
        match resolve(spec, finding) {
            Ok(Some(value)) => {
                values.insert(name.clone(), value);
            }
            Ok(None) => {}
            Err(reason) => problems.push(format!("{name}: {reason}")),
        }
    }
    if problems.is_empty() {
        Ok(values)
    } else {
        Err(problems)
    }
}

fn resolve(spec: &InputSpec, finding: &Value) -> Result<Option<Value>, String> {
    let extract = spec
        .format
        .map(|f| Regex::new(f.pattern()).map_err(|e| e.to_string()))
        .transpose()?;
    let whole = spec
        .pattern
        .as_deref()
        .map(|p| Regex::new(&format!("^(?:{p})$")).map_err(|e| e.to_string()))
        .transpose()?;
    let mut seen: Vec<Value> = Vec::new();
    let mut rejected: Vec<String> = Vec::new();
    for from in &spec.from {
        let path = JsonPath::parse(from).map_err(|e| format!("`{from}`: {e}"))?;
        for candidate in path.select(finding).into_iter().flat_map(flatten) {
            match fit(candidate, extract.as_ref(), whole.as_ref()) {
                Some(value) => {
                    if !seen.contains(&value) {
                        seen.push(value);
                    }
                    if !spec.many {
                        return Ok(seen.pop());
                    }
                }
                None => rejected.push(candidate.to_string()),
            }
        }
    }
    if spec.many && !seen.is_empty() {
        return Ok(Some(Value::Array(seen)));
    }
    if let Some(default) = &spec.default {
        return Ok(Some(default.clone()));
    }
    if !spec.required {
        return Ok(None);
    }
    let shape = match (spec.format, &spec.pattern) {
        (Some(format), _) => format!(
            " shaped like {}",
            serde_json::to_value(format).unwrap_or_default()
        ),
        (None, Some(pattern)) => format!(" matching `{pattern}`"),
        (None, None) => String::new(),
    };
    let mut reason = format!("no value{shape} at {}", spec.from.join(", "));
    if !rejected.is_empty() {
        rejected.truncate(5);
        reason.push_str(&format!(" (found {})", rejected.join(", ")));
    }
    Err(reason)
}

/// A candidate and, for a list, its elements.
fn flatten(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().flat_map(flatten).collect(),
        other => vec![other],
    }
}

fn fit(candidate: &Value, extract: Option<&Regex>, whole: Option<&Regex>) -> Option<Value> {
    let value = match (candidate, extract) {
        (Value::Null, _) | (Value::Object(_), Some(_)) => return None,
        (_, Some(regex)) => {
            let text = match candidate {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let captures = regex.captures(&text)?;
            let found = captures.get(1).or_else(|| captures.get(0))?;
            Value::String(found.as_str().to_string())
        }
        (other, None) => other.clone(),
    };
    match (whole, &value) {
        (Some(regex), Value::String(text)) if !regex.is_match(text) => None,
        (Some(regex), other)
            if !matches!(other, Value::String(_)) && !regex.is_match(&other.to_string()) =>
        {
            None
        }
        _ => Some(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playbook::Format;
    use serde_json::json;

    fn spec(from: &[&str], format: Option<Format>) -> InputSpec {
        InputSpec {
            description: None,
            from: from.iter().map(|s| s.to_string()).collect(),
            format,
            pattern: None,
            required: true,
            default: None,
            many: false,
        }
    }

    #[test]
    fn formats_extract_values_from_arns_and_records() {
        let finding = json!({
            "resources": ["arn:aws:ec2:us-east-1:111122223333:instance/i-0a1b2c3d4e5f60718"],
            "samples": [{"record": {"requestParameters": {"bucketName": "logs-bucket"}}}],
            "principal": "arn:aws:iam::111122223333:user/alice"
        });
        let id = resolve(&spec(&["resources"], Some(Format::InstanceId)), &finding);
        assert_eq!(id, Ok(Some(json!("i-0a1b2c3d4e5f60718"))));
        let user = resolve(&spec(&["principal"], Some(Format::IamName)), &finding);
        assert_eq!(user, Ok(Some(json!("alice"))));
        let bucket = resolve(
            &spec(
                &["samples.record.requestParameters.bucketName"],
                Some(Format::BucketName),
            ),
            &finding,
        );
        assert_eq!(bucket, Ok(Some(json!("logs-bucket"))));
    }

    #[test]
    fn paths_are_tried_in_order_and_misfits_are_skipped() {
        let finding =
            json!({"resources": ["sg-0123456789abcdef0", "i-12345678"], "x": "i-87654321"});
        let id = resolve(
            &spec(&["nothing", "resources", "x"], Some(Format::InstanceId)),
            &finding,
        );
        assert_eq!(id, Ok(Some(json!("i-12345678"))));
        let mut all = spec(&["resources", "x"], Some(Format::InstanceId));
        all.many = true;
        assert_eq!(
            resolve(&all, &finding),
            Ok(Some(json!(["i-12345678", "i-87654321"])))
        );
    }

    #[test]
    fn a_missing_required_input_says_what_was_found() {
        let finding = json!({"resources": ["sg-0123456789abcdef0"]});
        let error = resolve(&spec(&["resources"], Some(Format::InstanceId)), &finding).unwrap_err();
        assert!(error.contains("shaped like \"instance_id\""), "{error}");
        assert!(error.contains("sg-0123456789abcdef0"), "{error}");
        let mut optional = spec(&["resources"], Some(Format::InstanceId));
        optional.required = false;
        assert_eq!(resolve(&optional, &finding), Ok(None));
        optional.default = Some(json!("i-00000000"));
        assert_eq!(resolve(&optional, &finding), Ok(Some(json!("i-00000000"))));
    }

    #[test]
    fn patterns_must_match_the_whole_value() {
        let finding = json!({"name": "trail-1 extra"});
        let mut s = spec(&["name"], None);
        s.pattern = Some("[a-z0-9-]+".into());
        assert!(resolve(&s, &finding).is_err());
        let finding = json!({"name": "trail-1"});
        assert_eq!(resolve(&s, &finding), Ok(Some(json!("trail-1"))));
    }
}
