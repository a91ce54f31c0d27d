//! A correlation after resolution: its members, the fields to read for each member (aliases
//! applied), and its effective threshold.

use vigil_event::FieldPath;

use crate::resolve::{Directory, Member};
use crate::{CompareOp, CorrelationKind, CorrelationRule, Threshold};

/// The fields one member contributes: the group-by values, in `group_by` order, and for
/// `value_count` the counted value.
#[derive(Debug, Clone)]
pub(crate) struct MemberFields {
    pub group: Vec<FieldPath>,
    pub value: Option<FieldPath>,
}

/// A correlation ready to observe and evaluate.
#[derive(Debug, Clone)]
pub(crate) struct Compiled {
    pub rule: CorrelationRule,
    /// Resolved `rules:`, correlations by their index in the built set.
    pub members: Vec<Member>,
    /// Per member, the fields read from its events (or from its hits' groups when chained).
    pub fields: Vec<MemberFields>,
    /// The threshold applied to the window's measure; for temporal types without a
    /// condition, "all referenced rules".
    pub threshold: Threshold,
    /// Whether hits are decided when an event arrives (sliding window) rather than when a
    /// window closes (tumbling window).
    pub on_arrival: bool,
    /// Correlations (and the member position there) that reference this one.
    pub dependents: Vec<(usize, usize)>,
    /// The fewest observations one group needs over the whole run for this correlation to
    /// ever hit for it; 0 when that is not known (see [`min_entries`]).
    pub min_entries: usize,
}

impl Compiled {
    /// Compiles `rule` whose `rules:` resolved to `members` (correlations already renumbered).
    pub(crate) fn new(rule: CorrelationRule, members: Vec<Member>, directory: &Directory) -> Self {
        let fields = rule
            .rules
            .iter()
            .map(|reference| member_fields(&rule, reference, directory))
            .collect();
        let threshold = effective_threshold(&rule);
        let min_entries = min_entries(&threshold, &members);
        Compiled {
            min_entries,
            on_arrival: threshold.decided_on_arrival(),
            threshold,
            fields,
            members,
            rule,
            dependents: Vec::new(),
        }
    }

    /// Whether events (or hits) are counted by their distinct value of a field.
    pub(crate) fn counts_values(&self) -> bool {
        matches!(self.rule.kind, CorrelationKind::ValueCount { .. })
    }
}

/// The fewest entries a group's window needs to hit under `threshold`: every measure
/// (events, distinct values, distinct or chained members) counts at most one per entry, so a
/// sliding window holding fewer entries than a lower bound asks for cannot hit, and neither
/// can a group with fewer observations over the whole run. 0 (nothing known) when a bound
/// is not a lower bound (a tumbling `lt`, `eq`... window can hit with one entry) or when a
/// member is a correlation: its hits arrive as entries only during evaluation.
fn min_entries(threshold: &Threshold, members: &[Member]) -> usize {
    if !threshold.decided_on_arrival()
        || members.iter().any(|m| matches!(m, Member::Correlation(_)))
    {
        return 0;
    }
    let needed = |&(op, bound): &(CompareOp, u64)| match op {
        CompareOp::Gt => bound.saturating_add(1),
        _ => bound,
    };
    let most = threshold.bounds.iter().map(needed).max().unwrap_or(0);
    usize::try_from(most).unwrap_or(usize::MAX)
}

fn effective_threshold(rule: &CorrelationRule) -> Threshold {
    match &rule.condition {
        Some(threshold) if !threshold.bounds.is_empty() => threshold.clone(),
        _ => {
            let all = u64::try_from(rule.rules.len()).unwrap_or(u64::MAX);
            Threshold::single(CompareOp::Gte, all)
        }
    }
}

/// The fields of the member named `reference`: each group-by name, or the counted field,
/// goes through `aliases:` — the alias entry whose rule reference resolves to the same rule
/// as `reference` gives the field; with no such entry the name is used as a field path.
fn member_fields(rule: &CorrelationRule, reference: &str, directory: &Directory) -> MemberFields {
    let target = directory.resolve(reference);
    let field_for = |name: &str| -> FieldPath {
        let aliased = rule
            .aliases
            .iter()
            .filter(|alias| alias.name == name)
            .flat_map(|alias| alias.per_rule.iter())
            .find(|(key, _)| key == reference || directory.resolve(key) == target)
            .map(|(_, field)| field.as_str());
        FieldPath::new(aliased.unwrap_or(name))
    };
    MemberFields {
        group: rule.group_by.iter().map(|name| field_for(name)).collect(),
        value: match &rule.kind {
            CorrelationKind::ValueCount { field } => Some(field_for(field)),
            _ => None,
        },
    }
}
