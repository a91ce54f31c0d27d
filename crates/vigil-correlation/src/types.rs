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

impl CompareOp {
    /// Whether `count` compares to `bound` as this operator says.
    pub fn holds(self, count: u64, bound: u64) -> bool {
        match self {
            CompareOp::Gt => count > bound,
            CompareOp::Gte => count >= bound,
            CompareOp::Lt => count < bound,
            CompareOp::Lte => count <= bound,
            CompareOp::Eq => count == bound,
            CompareOp::Neq => count != bound,
        }
    }

    /// Whether a count that satisfies this bound keeps satisfying it as it grows (`gt`, `gte`).
    pub fn is_lower_bound(self) -> bool {
        matches!(self, CompareOp::Gt | CompareOp::Gte)
    }
}

impl Threshold {
    /// A threshold of one bound, e.g. `Threshold::single(CompareOp::Gt, 10)` for `gt: 10`.
    pub fn single(op: CompareOp, bound: u64) -> Self {
        Threshold {
            bounds: vec![(op, bound)],
        }
    }

    /// Whether `count` satisfies every bound (an empty threshold holds for any count).
    pub fn holds(&self, count: u64) -> bool {
        self.bounds
            .iter()
            .all(|&(op, bound)| op.holds(count, bound))
    }

    /// Whether the threshold can be decided the moment an event arrives: every bound is a
    /// lower bound, so once it holds, more events cannot undo it. Other thresholds (`lt`,
    /// `lte`, `eq`, `neq`, ranges) are decided when a window closes.
    pub fn decided_on_arrival(&self) -> bool {
        self.bounds.iter().all(|&(op, _)| op.is_lower_bound())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_compare_at_below_and_above() {
        let cases = [
            (CompareOp::Gt, [false, false, true]),
            (CompareOp::Gte, [false, true, true]),
            (CompareOp::Lt, [true, false, false]),
            (CompareOp::Lte, [true, true, false]),
            (CompareOp::Eq, [false, true, false]),
            (CompareOp::Neq, [true, false, true]),
        ];
        for (op, expected) in cases {
            let got = [9, 10, 11].map(|count| op.holds(count, 10));
            assert_eq!(got, expected, "{op:?}");
        }
    }

    #[test]
    fn ranges_need_every_bound() {
        let range = Threshold {
            bounds: vec![(CompareOp::Gt, 100), (CompareOp::Lte, 200)],
        };
        assert!(!range.holds(100));
        assert!(range.holds(101));
        assert!(range.holds(200));
        assert!(!range.holds(201));
        assert!(!range.decided_on_arrival());
        assert!(Threshold::single(CompareOp::Gte, 3).decided_on_arrival());
        assert!(!Threshold::single(CompareOp::Eq, 3).decided_on_arrival());
    }
}
