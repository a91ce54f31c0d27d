use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The four correlation types of Sigma v2.1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CorrelationKind {
    /// Number of matching events per group within the timespan.
    EventCount,
    /// Number of distinct values of `field` per group within the timespan.
    ValueCount { field: String },
    /// All (or `condition` many) of the referenced rules matched per group within the timespan,
    /// in any order.
    Temporal,
    /// Like `Temporal`, but the referenced rules must match in the order listed.
    TemporalOrdered,
}

/// A comparison in a correlation `condition`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CompareOp {
    Gt,
    Gte,
    Lt,
    Lte,
    Eq,
    Neq,
}

/// `condition:` of a correlation: `gte: 10` and friends. Sigma allows several bounds
/// (`gt: 10, lte: 100`); all must hold. For `value_count` the counted field is in
/// [`CorrelationKind::ValueCount`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Threshold {
    pub bounds: Vec<(CompareOp, u64)>,
}

/// One `aliases:` entry: a virtual group-by field whose source field differs per referenced
/// rule (`rule reference -> field path`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alias {
    pub name: String,
    pub per_rule: Vec<(String, String)>,
}

/// A correlation rule as loaded, before references are resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CorrelationRule {
    /// `id:` of the correlation document (a UUID in SigmaHQ rules).
    pub id: Option<String>,
    /// `name:` of the correlation document, usable as a reference by other correlations.
    pub name: Option<String>,
    pub title: String,
    pub description: Option<String>,
    /// Sigma level: informational, low, medium, high, critical.
    pub level: Option<String>,
    pub status: Option<String>,
    pub tags: Vec<String>,
    pub references: Vec<String>,
    pub falsepositives: Vec<String>,
    pub kind: CorrelationKind,
    /// Referenced rules (detection or correlation), by `id` or `name`, in listed order.
    pub rules: Vec<String>,
    /// Field paths (or alias names) the events are grouped by.
    pub group_by: Vec<String>,
    pub aliases: Vec<Alias>,
    /// Window length in milliseconds (`timespan: 5m`).
    pub timespan_ms: i64,
    /// Threshold; `None` for temporal types means "all referenced rules".
    pub condition: Option<Threshold>,
    /// `generate: true`: the referenced rules also produce findings of their own. Default
    /// false — a base rule referenced only by correlations does not fire alone.
    pub generate: bool,
    /// File and 1-based line of the correlation document.
    pub file: PathBuf,
    pub line: usize,
    /// The `vigil:` block of the document (runbook, dedup, window...), kept as JSON for the
    /// engine; `Null` when absent.
    pub vigil: serde_json::Value,
}
