//! The built set of correlations: references resolved, correlations ordered so that every one
//! comes after those it chains from, and an index from base rule to the correlations that
//! observe it.

use crate::compiled::Compiled;
use crate::resolve::{resolve, BaseRuleRef, Directory, Member};
use crate::{CorrelationError, CorrelationRule};

/// Every correlation that could be built, ready to observe matches and evaluate windows.
/// Correlations are numbered by their position here (input order, leaving out the ones that
/// failed); hits and observations carry that number.
#[derive(Debug, Clone, Default)]
pub struct CorrelationSet {
    pub(crate) correlations: Vec<Compiled>,
    /// Correlation numbers, each after the correlations it references.
    pub(crate) order: Vec<usize>,
    /// Per base rule index: (correlation, member position) pairs that observe it.
    pub(crate) by_base: Vec<Vec<(usize, usize)>>,
    /// Per base rule index: whether it produces findings of its own.
    base_generates: Vec<bool>,
    /// Per correlation: whether its hits are findings of their own.
    correlation_reports: Vec<bool>,
}

impl CorrelationSet {
    /// Resolves `rules:` of every correlation against `base_rules` (by id or name; index =
    /// position in `base_rules`) and against each other (chaining). Every correlation that can
    /// be built is; the others are returned as errors: unknown references, cycles, references
    /// to broken correlations, a missing condition or a non-positive timespan.
    pub fn build(
        correlations: Vec<CorrelationRule>,
        base_rules: &[BaseRuleRef],
    ) -> (CorrelationSet, Vec<CorrelationError>) {
        let directory = Directory::new(&correlations, base_rules);
        let resolution = resolve(&correlations, &directory);
        // Input index -> built index, for the correlations that resolved.
        let mut number = vec![None; correlations.len()];
        let mut next = 0;
        for (input, members) in resolution.members.iter().enumerate() {
            if members.is_some() {
                number[input] = Some(next);
                next += 1;
            }
        }
        let renumber = |member: &Member| match *member {
            Member::Correlation(j) => number.get(j).copied().flatten().map(Member::Correlation),
            Member::Rule(i) => Some(Member::Rule(i)),
        };
        let mut built = Vec::with_capacity(next);
        for (input, members) in resolution.members.iter().enumerate() {
            let Some(members) = members else { continue };
            let members: Vec<Member> = members.iter().filter_map(renumber).collect();
            built.push(Compiled::new(
                correlations[input].clone(),
                members,
                &directory,
            ));
        }
        let order = resolution
            .order
            .iter()
            .filter_map(|&input| number.get(input).copied().flatten())
            .collect();
        let set = CorrelationSet::index(built, order, base_rules.len());
        (set, resolution.errors)
    }

    /// Links members to their correlations: base rule index, dependents, generate flags.
    fn index(mut correlations: Vec<Compiled>, order: Vec<usize>, base_count: usize) -> Self {
        let mut by_base = vec![Vec::new(); base_count];
        let mut base_generates: Vec<Option<bool>> = vec![None; base_count];
        let mut correlation_reports: Vec<Option<bool>> = vec![None; correlations.len()];
        let mut dependents = vec![Vec::new(); correlations.len()];
        for (c, correlation) in correlations.iter().enumerate() {
            let generate = correlation.rule.generate;
            for (m, member) in correlation.members.iter().enumerate() {
                let (flag, list) = match *member {
                    Member::Rule(i) => (base_generates.get_mut(i), by_base.get_mut(i)),
                    Member::Correlation(j) => {
                        (correlation_reports.get_mut(j), dependents.get_mut(j))
                    }
                };
                if let (Some(flag), Some(list)) = (flag, list) {
                    *flag = Some(flag.unwrap_or(false) || generate);
                    list.push((c, m));
                }
            }
        }
        for (correlation, dependents) in correlations.iter_mut().zip(dependents) {
            correlation.dependents = dependents;
        }
        CorrelationSet {
            correlations,
            order,
            by_base,
            base_generates: base_generates
                .into_iter()
                .map(|f| f.unwrap_or(true))
                .collect(),
            correlation_reports: correlation_reports
                .into_iter()
                .map(|f| f.unwrap_or(true))
                .collect(),
        }
    }

    /// Number of built correlations.
    pub fn len(&self) -> usize {
        self.correlations.len()
    }

    /// Whether no correlation was built.
    pub fn is_empty(&self) -> bool {
        self.correlations.is_empty()
    }

    /// The rule of correlation `index`. Panics if `index >= self.len()` (an index not taken
    /// from this set is a bug of the caller, not bad input).
    pub fn rule(&self, index: usize) -> &CorrelationRule {
        &self.correlations[index].rule
    }

    /// What the `rules:` entries of correlation `index` resolved to, in listed order (empty
    /// for an index not in the set).
    pub fn members(&self, index: usize) -> &[Member] {
        self.correlations
            .get(index)
            .map_or(&[], |correlation| correlation.members.as_slice())
    }

    /// The rules of every correlation, by index.
    pub fn rules(&self) -> impl Iterator<Item = &CorrelationRule> {
        self.correlations.iter().map(|c| &c.rule)
    }

    /// Whether any correlation observes matches of base rule `base_rule_index`.
    pub fn wants(&self, base_rule_index: usize) -> bool {
        self.by_base
            .get(base_rule_index)
            .is_some_and(|uses| !uses.is_empty())
    }

    /// Whether base rule `base_rule_index` produces findings of its own: true when no
    /// correlation references it, or when one that does says `generate: true`.
    pub fn generates(&self, base_rule_index: usize) -> bool {
        self.base_generates
            .get(base_rule_index)
            .copied()
            .unwrap_or(true)
    }

    /// Whether hits of correlation `index` are findings of their own: true unless it is only
    /// referenced by other correlations, none of which says `generate: true`.
    pub fn reports(&self, index: usize) -> bool {
        self.correlation_reports.get(index).copied().unwrap_or(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;
    use crate::{CompareOp, CorrelationKind, ErrorReason};

    fn counting(name: &str, rules: &[&str]) -> CorrelationRule {
        let rule = correlation(name, CorrelationKind::EventCount, rules, &["user"], MINUTE);
        with_condition(rule, CompareOp::Gte, 2)
    }

    fn reasons(errors: &[CorrelationError]) -> Vec<(String, ErrorReason)> {
        errors
            .iter()
            .map(|e| (e.rule.clone(), e.reason.clone()))
            .collect()
    }

    #[test]
    fn references_resolve_by_id_and_by_name() {
        let base = base_rules(&["a", "b"]);
        let set = build_ok(
            vec![counting("by_id", &["b"]), counting("by_name", &["base_a"])],
            &base,
        );
        assert_eq!(set.len(), 2);
        assert_eq!(set.correlations[0].members, vec![Member::Rule(1)]);
        assert_eq!(set.correlations[1].members, vec![Member::Rule(0)]);
        assert!(set.wants(0) && set.wants(1) && !set.wants(2));
    }

    #[test]
    fn unknown_reference_is_reported_and_the_others_still_build() {
        let base = base_rules(&["a"]);
        let (set, errors) = CorrelationSet::build(
            vec![counting("broken", &["a", "nope"]), counting("fine", &["a"])],
            &base,
        );
        assert_eq!(
            reasons(&errors),
            vec![(
                "broken".into(),
                ErrorReason::UnknownReference("nope".into())
            )]
        );
        assert_eq!(errors[0].file, std::path::PathBuf::from("rules/broken.yml"));
        assert!(errors[0]
            .to_string()
            .starts_with("rules/broken.yml:1: correlation `broken`"));
        assert_eq!(set.len(), 1);
        assert_eq!(set.rule(0).name.as_deref(), Some("fine"));
    }

    #[test]
    fn cycles_are_reported_with_their_path_and_dependents_fail() {
        let base = base_rules(&["a"]);
        let rules = vec![
            counting("x", &["y"]),
            counting("y", &["x"]),
            counting("self", &["self"]),
            counting("behind", &["x"]),
            counting("fine", &["a"]),
        ];
        let (set, errors) = CorrelationSet::build(rules, &base);
        assert_eq!(
            reasons(&errors),
            vec![
                ("x".into(), ErrorReason::Cycle("x -> y -> x".into())),
                ("y".into(), ErrorReason::Cycle("y -> x -> y".into())),
                ("self".into(), ErrorReason::Cycle("self -> self".into())),
                ("behind".into(), ErrorReason::BrokenDependency("x".into())),
            ]
        );
        assert_eq!(set.len(), 1);
        assert_eq!(set.order, vec![0]);
    }

    #[test]
    fn a_correlation_on_a_broken_one_is_broken_too() {
        let base = base_rules(&["a"]);
        let rules = vec![
            counting("top", &["middle"]),
            counting("middle", &["missing"]),
        ];
        let (set, errors) = CorrelationSet::build(rules, &base);
        assert!(set.is_empty());
        assert_eq!(
            reasons(&errors),
            vec![
                (
                    "middle".into(),
                    ErrorReason::UnknownReference("missing".into())
                ),
                ("top".into(), ErrorReason::BrokenDependency("middle".into())),
            ]
        );
    }

    #[test]
    fn chained_correlations_are_ordered_after_what_they_reference() {
        let base = base_rules(&["a"]);
        let rules = vec![counting("top", &["middle"]), counting("middle", &["a"])];
        let set = build_ok(rules, &base);
        assert_eq!(set.order, vec![1, 0]);
        assert_eq!(set.correlations[0].members, vec![Member::Correlation(1)]);
        assert_eq!(set.correlations[1].dependents, vec![(0, 0)]);
    }

    #[test]
    fn malformed_correlations_are_reported() {
        let base = base_rules(&["a"]);
        let no_condition = correlation("bare", CorrelationKind::EventCount, &["a"], &[], MINUTE);
        let mut no_time = counting("timeless", &["a"]);
        no_time.timespan_ms = 0;
        let no_rules = counting("empty", &[]);
        let alias = with_alias(counting("aliased", &["a"]), "ip", &[("ghost", "source.ip")]);
        let (set, errors) =
            CorrelationSet::build(vec![no_condition, no_time, no_rules, alias], &base);
        assert!(set.is_empty());
        assert_eq!(
            reasons(&errors),
            vec![
                ("bare".into(), ErrorReason::MissingCondition("event_count")),
                ("timeless".into(), ErrorReason::NonPositiveTimespan(0)),
                ("empty".into(), ErrorReason::NoRules),
                (
                    "aliased".into(),
                    ErrorReason::UnknownAliasReference {
                        alias: "ip".into(),
                        reference: "ghost".into()
                    }
                ),
            ]
        );
    }

    #[test]
    fn generate_decides_whether_referenced_rules_fire_alone() {
        let base = base_rules(&["quiet", "loud", "alone"]);
        let mut loud = counting("loud", &["loud", "quiet"]);
        loud.generate = true;
        let set = build_ok(vec![counting("quiet", &["quiet"]), loud], &base);
        assert!(
            set.generates(0),
            "also referenced by a generating correlation"
        );
        assert!(set.generates(1));
        assert!(set.generates(2), "not referenced at all");
        let set = build_ok(vec![counting("quiet", &["quiet"])], &base);
        assert!(!set.generates(0));
        assert!(set.reports(0));
    }
}
