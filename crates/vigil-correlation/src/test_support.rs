//! Builders shared by the unit tests: rules, base rules, observations.

use std::path::PathBuf;

use vigil_event::Origin;

use crate::observe::Text;

use crate::{
    Alias, BaseRuleRef, CompareOp, CorrelationKind, CorrelationRule, CorrelationSet, Observation,
    Threshold,
};

pub const MINUTE: i64 = 60_000;

/// A correlation named `name` over `rules`, grouped by `group_by`.
pub fn correlation(
    name: &str,
    kind: CorrelationKind,
    rules: &[&str],
    group_by: &[&str],
    timespan_ms: i64,
) -> CorrelationRule {
    CorrelationRule {
        id: Some(format!("id-{name}")),
        name: Some(name.to_string()),
        title: format!("Title of {name}"),
        description: None,
        level: None,
        status: None,
        tags: Vec::new(),
        references: Vec::new(),
        falsepositives: Vec::new(),
        kind,
        rules: rules.iter().map(|r| r.to_string()).collect(),
        group_by: group_by.iter().map(|g| g.to_string()).collect(),
        aliases: Vec::new(),
        timespan_ms,
        condition: None,
        generate: false,
        file: PathBuf::from(format!("rules/{name}.yml")),
        line: 1,
        vigil: serde_json::Value::Null,
    }
}

/// `rule` with a one-bound condition.
pub fn with_condition(mut rule: CorrelationRule, op: CompareOp, bound: u64) -> CorrelationRule {
    rule.condition = Some(Threshold::single(op, bound));
    rule
}

/// `rule` with an alias `name` mapping each `(rule reference, field)`.
pub fn with_alias(
    mut rule: CorrelationRule,
    name: &str,
    per_rule: &[(&str, &str)],
) -> CorrelationRule {
    rule.aliases.push(Alias {
        name: name.to_string(),
        per_rule: per_rule
            .iter()
            .map(|(r, f)| (r.to_string(), f.to_string()))
            .collect(),
    });
    rule
}

/// Base rules named `base_<name>` with ids `<name>`.
pub fn base_rules(names: &[&str]) -> Vec<BaseRuleRef> {
    names
        .iter()
        .map(|name| BaseRuleRef {
            id: name.to_string(),
            name: Some(format!("base_{name}")),
        })
        .collect()
}

/// Builds `correlations` against `base`, failing the test on any error.
pub fn build_ok(correlations: Vec<CorrelationRule>, base: &[BaseRuleRef]) -> CorrelationSet {
    let (set, errors) = CorrelationSet::build(correlations, base);
    assert!(errors.is_empty(), "unexpected errors: {errors:?}");
    set
}

/// A hand-built observation of member `member` of correlation `correlation`.
pub fn observation(
    correlation: usize,
    member: usize,
    time_ms: i64,
    record: u64,
    group: &[&str],
    value: Option<&str>,
) -> Observation {
    Observation::new(
        correlation as u32,
        member as u32,
        time_ms,
        Origin::new("events.json", record),
        group.iter().map(|g| Text::from(*g)).collect(),
        value.map(Text::from),
    )
}

/// `count` observations of member 0 of correlation 0 for group `user`, `step_ms` apart from
/// `start_ms`.
pub fn burst(user: &str, start_ms: i64, step_ms: i64, count: u64) -> Vec<Observation> {
    (0..count)
        .map(|i| {
            let time = start_ms + step_ms * i64::try_from(i).unwrap_or(0);
            observation(0, 0, time, i + 1, &[user], None)
        })
        .collect()
}
