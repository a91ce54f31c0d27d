//! What goes in and out of a store, apart from findings themselves.

use serde::{Deserialize, Serialize};
use vigil_findings::{Finding, SeverityLabel, Status};

/// One input's share of a finding. A finding's counts are the sum over its inputs;
/// upserting the same (finding id, `input_key`) again replaces that input's share, so
/// detecting the same input twice changes nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingContribution {
    /// The partial finding this input produced (its status and history are ignored).
    pub finding: Finding,
    /// What identifies the input: for a file, its path and content digest, say.
    pub input_key: String,
}

/// What an upsert did.
///
/// `created` and `updated` count findings (each finding of a batch is written at most once),
/// `unchanged` counts contributions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpsertReport {
    /// Findings seen for the first time.
    pub created: usize,
    /// Existing findings with at least one new or changed contribution.
    pub updated: usize,
    /// New findings that an active suppression muted (also counted in `created`).
    pub suppressed: usize,
    /// Contributions already stored exactly as given (the same input detected again).
    pub unchanged: usize,
    /// Every finding of the batch whose stored status is SUPPRESSED after the upsert, muted
    /// now or earlier, changed or not, each once, in the order the batch first names them:
    /// what a caller showing the batch's findings should hold back, without reading each one.
    pub suppressed_ids: Vec<String>,
}

/// A value a first-seen rule has seen for a group, and when it was first seen.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BaselineValue {
    /// The group (an account, a principal...).
    pub group: String,
    /// The value seen (a region, an API, a country...).
    pub value: String,
    /// When it was first seen, epoch ms.
    pub first_ms: i64,
}

/// Which findings to list. Every set field must match; the newest (by last seen) come first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindingFilter {
    /// Only findings at least this severe.
    pub severity_at_least: Option<SeverityLabel>,
    /// Only this rule's findings.
    pub rule_id: Option<String>,
    /// Only this account's findings.
    pub account: Option<String>,
    /// Only findings with this status.
    pub status: Option<Status>,
    /// Only findings last seen at or after this time (epoch ms).
    pub since_ms: Option<i64>,
    /// Only findings first seen at or before this time (epoch ms).
    pub until_ms: Option<i64>,
    /// At most this many.
    pub limit: Option<u64>,
}

/// A standing decision to mute findings that match it, with who decided, why and until
/// when. Each criterion is optional and may use `*` as a wildcard; at least one is required.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    /// Its id.
    pub id: String,
    /// Rule id pattern.
    pub rule_id: Option<String>,
    /// Principal pattern.
    pub principal: Option<String>,
    /// Account pattern.
    pub account: Option<String>,
    /// Resource pattern (matches when any of the finding's resources matches).
    pub resource: Option<String>,
    /// Why.
    pub reason: String,
    /// Who.
    pub author: String,
    /// When it was made, epoch ms.
    pub created_ms: i64,
    /// When it stops applying, epoch ms; `None` for never.
    pub expires_ms: Option<i64>,
}

impl Suppression {
    /// An id derived from the criteria and creation time (`sup-` and 12 hex digits).
    pub fn derive_id(&self) -> String {
        let criteria = [
            &self.rule_id,
            &self.principal,
            &self.account,
            &self.resource,
        ]
        .map(|field| field.as_deref().unwrap_or(""))
        .join("\u{1f}");
        let digest = Finding::stable_id("suppression", &criteria, self.created_ms);
        format!("sup-{}", digest.get(..12).unwrap_or(&digest))
    }

    /// Whether it still applies at `now_ms`.
    pub fn is_active(&self, now_ms: i64) -> bool {
        self.expires_ms.is_none_or(|expires| now_ms < expires)
    }

    /// Whether it has at least one criterion.
    pub fn has_criteria(&self) -> bool {
        [
            &self.rule_id,
            &self.principal,
            &self.account,
            &self.resource,
        ]
        .iter()
        .any(|field| field.is_some())
    }

    /// Whether `finding` matches every criterion.
    pub fn matches(&self, finding: &Finding) -> bool {
        let field = |pattern: &Option<String>, value: Option<&str>| match pattern {
            None => true,
            Some(pattern) => value.is_some_and(|value| glob_match(pattern, value)),
        };
        let resource = match &self.resource {
            None => true,
            Some(pattern) => finding.resources.iter().any(|r| glob_match(pattern, r)),
        };
        self.has_criteria()
            && field(&self.rule_id, Some(&finding.rule_id))
            && field(&self.principal, finding.principal.as_deref())
            && field(&self.account, finding.account.as_deref())
            && resource
    }
}

/// Whether `text` matches `pattern`, where `*` stands for any run of characters.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let middle: Vec<&str> = parts.collect();
    let Some((last, middle)) = middle.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = rest.get(at + part.len()..).unwrap_or(""),
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_with_stars_anywhere() {
        let cases = [
            ("alice", "alice", true),
            ("alice", "alice2", false),
            ("*", "", true),
            (
                "arn:aws:iam::*:user/ci-*",
                "arn:aws:iam::123:user/ci-bot",
                true,
            ),
            (
                "arn:aws:iam::*:user/ci-*",
                "arn:aws:iam::123:role/ci-bot",
                false,
            ),
            ("*-prod-*", "db-prod-1", true),
            ("a*a", "a", false),
            ("a*a", "aa", true),
            ("*.log", "x.log.gz", false),
        ];
        for (pattern, text, expected) in cases {
            assert_eq!(glob_match(pattern, text), expected, "{pattern} vs {text}");
        }
    }

    #[test]
    fn expiry_is_exclusive() {
        let mut suppression = Suppression {
            id: String::new(),
            rule_id: Some("r".into()),
            principal: None,
            account: None,
            resource: None,
            reason: "noisy".into(),
            author: "me".into(),
            created_ms: 0,
            expires_ms: Some(100),
        };
        assert!(suppression.is_active(99));
        assert!(!suppression.is_active(100));
        suppression.expires_ms = None;
        assert!(suppression.is_active(i64::MAX));
        assert!(suppression.derive_id().starts_with("sup-"));
        assert_eq!(suppression.derive_id().len(), 16);
    }
}
