//! Reference resolution: `rules:` entries (and alias keys) to base rules or correlations, by
//! id or name; unknown references, broken dependencies and cycles reported per correlation.

use std::collections::HashMap;

use crate::error::label;
use crate::{CorrelationError, CorrelationKind, CorrelationRule, ErrorReason};

/// A base (detection) rule as the correlation set sees it: its position in the engine's rule
/// list is its index; `id` and `name` are what `rules:` entries may name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseRuleRef {
    /// The rule's `id:`.
    pub id: String,
    /// The rule's `name:`, when it has one.
    pub name: Option<String>,
}

/// What a `rules:` entry resolved to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Member {
    /// A base rule, by its index in the engine's rule list.
    Rule(usize),
    /// A correlation, by its index (in the input list during resolution, in the built set
    /// afterwards).
    Correlation(usize),
}

/// Lookup tables from id and name to rules and correlations. Precedence: base rule by id,
/// base rule by name, correlation by id, correlation by name; the first of duplicates wins.
/// Base rules come first so a legacy aggregation, whose correlation shares its base rule's
/// id, still references the base rule.
pub(crate) struct Directory<'a> {
    rule_ids: HashMap<&'a str, usize>,
    rule_names: HashMap<&'a str, usize>,
    correlation_ids: HashMap<&'a str, usize>,
    correlation_names: HashMap<&'a str, usize>,
}

impl<'a> Directory<'a> {
    pub(crate) fn new(correlations: &'a [CorrelationRule], base_rules: &'a [BaseRuleRef]) -> Self {
        fn first_wins<'a>(
            keys: impl Iterator<Item = (Option<&'a str>, usize)>,
        ) -> HashMap<&'a str, usize> {
            let mut map = HashMap::new();
            for (key, index) in keys {
                if let Some(key) = key {
                    map.entry(key).or_insert(index);
                }
            }
            map
        }
        let enumerate_rules = || base_rules.iter().enumerate();
        let enumerate_correlations = || correlations.iter().enumerate();
        Directory {
            rule_ids: first_wins(enumerate_rules().map(|(i, r)| (Some(r.id.as_str()), i))),
            rule_names: first_wins(enumerate_rules().map(|(i, r)| (r.name.as_deref(), i))),
            correlation_ids: first_wins(
                enumerate_correlations().map(|(i, c)| (c.id.as_deref(), i)),
            ),
            correlation_names: first_wins(
                enumerate_correlations().map(|(i, c)| (c.name.as_deref(), i)),
            ),
        }
    }

    /// What `reference` names, if anything.
    pub(crate) fn resolve(&self, reference: &str) -> Option<Member> {
        let reference = reference.trim();
        let rule = |map: &HashMap<&str, usize>| map.get(reference).map(|&i| Member::Rule(i));
        let correlation =
            |map: &HashMap<&str, usize>| map.get(reference).map(|&i| Member::Correlation(i));
        rule(&self.rule_ids)
            .or_else(|| rule(&self.rule_names))
            .or_else(|| correlation(&self.correlation_ids))
            .or_else(|| correlation(&self.correlation_names))
    }
}

/// The outcome of resolving every correlation of a set.
pub(crate) struct Resolution {
    /// Per input correlation: its members (correlations by input index), or `None` if it
    /// cannot be built.
    pub members: Vec<Option<Vec<Member>>>,
    /// Buildable correlations (input indices), every one after the correlations it references.
    pub order: Vec<usize>,
    pub errors: Vec<CorrelationError>,
}

/// Resolves the references of every correlation and orders the buildable ones.
pub(crate) fn resolve(correlations: &[CorrelationRule], directory: &Directory) -> Resolution {
    let mut errors = Vec::new();
    let mut members: Vec<Option<Vec<Member>>> = correlations
        .iter()
        .map(|rule| match check(rule, directory) {
            Ok(members) => Some(members),
            Err(reasons) => {
                errors.extend(reasons.into_iter().map(|r| CorrelationError::new(rule, r)));
                None
            }
        })
        .collect();
    fail_broken_dependents(correlations, &mut members, &mut errors);
    let order = dependency_order(&members);
    fail_cycles(correlations, &order, &mut members, &mut errors);
    Resolution {
        members,
        order,
        errors,
    }
}

/// The members of one correlation, or every reason it cannot be built on its own.
fn check(rule: &CorrelationRule, directory: &Directory) -> Result<Vec<Member>, Vec<ErrorReason>> {
    let mut reasons = Vec::new();
    if rule.rules.is_empty() {
        reasons.push(ErrorReason::NoRules);
    }
    if rule.timespan_ms <= 0 {
        reasons.push(ErrorReason::NonPositiveTimespan(rule.timespan_ms));
    }
    let has_condition = rule
        .condition
        .as_ref()
        .is_some_and(|c| !c.bounds.is_empty());
    match rule.kind {
        CorrelationKind::EventCount if !has_condition => {
            reasons.push(ErrorReason::MissingCondition("event_count"))
        }
        CorrelationKind::ValueCount { .. } if !has_condition => {
            reasons.push(ErrorReason::MissingCondition("value_count"))
        }
        _ => {}
    }
    let mut members = Vec::with_capacity(rule.rules.len());
    for reference in &rule.rules {
        match directory.resolve(reference) {
            Some(member) => members.push(member),
            None => reasons.push(ErrorReason::UnknownReference(reference.clone())),
        }
    }
    for alias in &rule.aliases {
        for (reference, _) in &alias.per_rule {
            if directory.resolve(reference).is_none() {
                reasons.push(ErrorReason::UnknownAliasReference {
                    alias: alias.name.clone(),
                    reference: reference.clone(),
                });
            }
        }
    }
    if reasons.is_empty() {
        Ok(members)
    } else {
        Err(reasons)
    }
}

/// Fails, transitively, every correlation that references one that failed.
fn fail_broken_dependents(
    correlations: &[CorrelationRule],
    members: &mut [Option<Vec<Member>>],
    errors: &mut Vec<CorrelationError>,
) {
    loop {
        let broken = (0..members.len()).find_map(|i| {
            let list = members[i].as_ref()?;
            list.iter().find_map(|member| match *member {
                Member::Correlation(j) if members[j].is_none() => Some((i, j)),
                _ => None,
            })
        });
        let Some((i, j)) = broken else { return };
        let reason = ErrorReason::BrokenDependency(label(&correlations[j]).to_string());
        errors.push(CorrelationError::new(&correlations[i], reason));
        members[i] = None;
    }
}

/// Kahn's algorithm over correlation-to-correlation references: buildable correlations with
/// their dependencies first, ties in input order. Correlations on or behind a cycle are left
/// out.
fn dependency_order(members: &[Option<Vec<Member>>]) -> Vec<usize> {
    let dependencies = |i: usize| {
        members[i]
            .iter()
            .flatten()
            .filter_map(|member| match *member {
                Member::Correlation(j) => Some(j),
                Member::Rule(_) => None,
            })
    };
    let mut placed = vec![false; members.len()];
    let mut order = Vec::new();
    loop {
        let next = (0..members.len())
            .find(|&i| !placed[i] && members[i].is_some() && dependencies(i).all(|j| placed[j]));
        let Some(i) = next else { return order };
        placed[i] = true;
        order.push(i);
    }
}

/// Fails the buildable correlations that [`dependency_order`] could not place: each is on a
/// cycle (reported with the cycle) or references one.
fn fail_cycles(
    correlations: &[CorrelationRule],
    order: &[usize],
    members: &mut [Option<Vec<Member>>],
    errors: &mut Vec<CorrelationError>,
) {
    let stuck: Vec<usize> = (0..members.len())
        .filter(|i| members[*i].is_some() && !order.contains(i))
        .collect();
    let reasons: Vec<(usize, ErrorReason)> = stuck
        .iter()
        .map(|&i| (i, stuck_reason(correlations, members, i)))
        .collect();
    for (i, reason) in reasons {
        errors.push(CorrelationError::new(&correlations[i], reason));
        members[i] = None;
    }
}

/// Why correlation `start` could not be ordered: the cycle through it, if there is one, else
/// the first referenced correlation that is itself stuck.
fn stuck_reason(
    correlations: &[CorrelationRule],
    members: &[Option<Vec<Member>>],
    start: usize,
) -> ErrorReason {
    let next = |i: usize| -> Vec<usize> {
        members[i]
            .iter()
            .flatten()
            .filter_map(|member| match *member {
                Member::Correlation(j) => Some(j),
                Member::Rule(_) => None,
            })
            .collect()
    };
    match path_back_to(start, &next) {
        Some(path) => {
            let names: Vec<&str> = path.iter().map(|&i| label(&correlations[i])).collect();
            ErrorReason::Cycle(names.join(" -> "))
        }
        None => {
            let first = next(start).into_iter().next().unwrap_or(start);
            ErrorReason::BrokenDependency(label(&correlations[first]).to_string())
        }
    }
}

/// A path `start -> ... -> start` along `next`, found breadth first, if one exists.
fn path_back_to(start: usize, next: &dyn Fn(usize) -> Vec<usize>) -> Option<Vec<usize>> {
    let mut parent: HashMap<usize, usize> = HashMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        for successor in next(node) {
            if successor == start {
                let mut path = vec![start, node];
                let mut at = node;
                while let Some(&p) = parent.get(&at) {
                    path.push(p);
                    at = p;
                }
                // `path` runs start, node, ..., start backwards; reverse to read forwards.
                path.reverse();
                return Some(path);
            }
            if successor != start && !parent.contains_key(&successor) {
                parent.insert(successor, node);
                queue.push_back(successor);
            }
        }
    }
    None
}
