//! The `vigil:` block of a rule: what vigil needs beyond Sigma to turn matches into findings.

use std::time::Duration;

use serde::Deserialize;
use vigil_event::FieldPath;

/// Default deduplication window: a burst within one hour is one finding.
pub const DEFAULT_WINDOW_MS: i64 = 3_600_000;
/// Default training period of a first-seen rule, counted from the first event it sees.
pub const DEFAULT_TRAINING_MS: i64 = 7 * 24 * 3_600_000;

/// The parsed `vigil:` block.
#[derive(Debug, Clone, Default)]
pub struct RuleMeta {
    /// Runbook or playbook that handles a finding of this rule.
    pub runbook: Option<String>,
    /// Fields whose values form the dedup key; `None` means principal + first resource.
    pub dedup: Option<Vec<FieldPath>>,
    /// Dedup window in milliseconds.
    pub window_ms: i64,
    /// Present on first-seen (baseline) rules.
    pub first_seen: Option<FirstSeen>,
}

/// A first-seen baseline: raise a finding when `field` takes a value never seen before for
/// the group formed by `group_by`, once the training period is over.
#[derive(Debug, Clone)]
pub struct FirstSeen {
    pub field: FieldPath,
    pub group_by: Vec<FieldPath>,
    pub training_ms: i64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VigilBlock {
    runbook: Option<String>,
    playbook: Option<String>,
    dedup: Option<Vec<String>>,
    window: Option<String>,
    first_seen: Option<FirstSeenBlock>,
    #[allow(dead_code)]
    tests: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FirstSeenBlock {
    field: String,
    #[serde(rename = "group-by", alias = "group_by", default)]
    group_by: Vec<String>,
    training: Option<String>,
}

impl RuleMeta {
    /// Parses a rule's `vigil:` block (`Null` when the rule has none).
    pub fn parse(block: &serde_json::Value) -> Result<RuleMeta, String> {
        if block.is_null() {
            return Ok(RuleMeta {
                window_ms: DEFAULT_WINDOW_MS,
                ..RuleMeta::default()
            });
        }
        let block: VigilBlock = serde_json::from_value(block.clone())
            .map_err(|error| format!("invalid `vigil:` block: {error}"))?;
        let window_ms = match &block.window {
            Some(text) => parse_duration_ms(text).map_err(|e| format!("vigil.window: {e}"))?,
            None => DEFAULT_WINDOW_MS,
        };
        let first_seen = block.first_seen.map(FirstSeen::build).transpose()?;
        Ok(RuleMeta {
            runbook: block.runbook.or(block.playbook),
            dedup: block
                .dedup
                .map(|fields| fields.iter().map(|f| FieldPath::new(f)).collect()),
            window_ms,
            first_seen,
        })
    }
}

impl FirstSeen {
    fn build(block: FirstSeenBlock) -> Result<FirstSeen, String> {
        let training_ms = match &block.training {
            Some(text) => {
                parse_duration_ms(text).map_err(|e| format!("vigil.first_seen.training: {e}"))?
            }
            None => DEFAULT_TRAINING_MS,
        };
        Ok(FirstSeen {
            field: FieldPath::new(&block.field),
            group_by: block.group_by.iter().map(|f| FieldPath::new(f)).collect(),
            training_ms,
        })
    }
}

/// Parses `90s`, `5m`, `1h`, `7d`, `1h 30m` into milliseconds.
pub fn parse_duration_ms(text: &str) -> Result<i64, String> {
    let duration: Duration = humantime::parse_duration(text.trim())
        .map_err(|error| format!("`{text}` is not a duration ({error})"))?;
    i64::try_from(duration.as_millis()).map_err(|_| format!("`{text}` is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_block_gets_defaults() {
        let meta = RuleMeta::parse(&serde_json::Value::Null).unwrap();
        assert_eq!(meta.window_ms, DEFAULT_WINDOW_MS);
        assert!(meta.dedup.is_none() && meta.first_seen.is_none());
    }

    #[test]
    fn full_block_parses() {
        let block = serde_json::json!({
            "runbook": "runbooks/x.md", "dedup": ["userIdentity.arn"], "window": "30m",
            "first_seen": {"field": "awsRegion", "group-by": ["recipientAccountId"], "training": "2d"},
            "tests": []
        });
        let meta = RuleMeta::parse(&block).unwrap();
        assert_eq!(meta.runbook.as_deref(), Some("runbooks/x.md"));
        assert_eq!(meta.window_ms, 1_800_000);
        let first_seen = meta.first_seen.unwrap();
        assert_eq!(first_seen.field.as_str(), "awsRegion");
        assert_eq!(first_seen.training_ms, 2 * 86_400_000);
    }

    #[test]
    fn unknown_keys_and_bad_durations_are_errors() {
        assert!(RuleMeta::parse(&serde_json::json!({"windw": "1h"})).is_err());
        assert!(RuleMeta::parse(&serde_json::json!({"window": "soon"})).is_err());
    }
}
