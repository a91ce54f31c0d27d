//! Observations: what a correlation keeps of a base rule match — the group-by values and the
//! counted value as small strings, the time and the origin; never the record.

use std::collections::HashSet;
use std::sync::Arc;

use sonic_rs::JsonValueTrait;
use vigil_event::{FieldLookup, FieldPath, Origin};

use crate::CorrelationSet;

/// The text of a group-by or counted value. Shared, so the same ARN or event name observed a
/// million times is stored once (see [`Interner`]) and copying it into a window is a
/// reference count, not an allocation.
pub type Text = Arc<str>;

/// Shares equal strings between observations. A worker keeps one across the files it reads.
#[derive(Debug, Default)]
pub struct Interner {
    known: HashSet<Text>,
}

impl Interner {
    /// The shared copy of `text`.
    pub fn intern(&mut self, text: &str) -> Text {
        if let Some(known) = self.known.get(text) {
            return Arc::clone(known);
        }
        let shared: Text = Arc::from(text);
        self.known.insert(Arc::clone(&shared));
        shared
    }

    /// How many distinct strings are shared.
    pub fn len(&self) -> usize {
        self.known.len()
    }

    /// Whether nothing was interned yet.
    pub fn is_empty(&self) -> bool {
        self.known.is_empty()
    }
}

/// One match of a referenced rule, as seen by one correlation.
///
/// Size: 80 bytes inline on 64-bit targets, plus one heap block for the group (16 bytes per
/// group-by field). The strings are shared through an [`Interner`] and the origin's file name
/// is shared too, so a typical CloudTrail observation grouped by one ARN is about 110 bytes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Observation {
    /// Which correlation (index in the [`CorrelationSet`]).
    pub correlation: usize,
    /// Which `rules:` entry of that correlation matched (position in the list).
    pub member: usize,
    /// Event time, epoch milliseconds.
    pub time_ms: i64,
    /// Where the event was read.
    pub origin: Origin,
    /// The group-by values, in the correlation's `group_by` order.
    pub group: Box<[Text]>,
    /// For `value_count`, the value of the counted field.
    pub value: Option<Text>,
}

impl CorrelationSet {
    /// The observations to keep when base rule `base_rule_index` matched `event`: one per
    /// correlation referencing that rule. Group-by fields are read through that
    /// correlation's aliases for this rule.
    ///
    /// An event that lacks a group-by field (absent or JSON `null`) does not correlate, nor
    /// does, for `value_count`, one that lacks the counted field: no observation is made for
    /// that correlation. When a field holds several values (an array), the first is used.
    /// Non-string values are kept as their JSON text (`42`, `true`).
    pub fn observe(
        &self,
        base_rule_index: usize,
        time_ms: i64,
        event: &dyn FieldLookup,
        origin: &Origin,
    ) -> Vec<Observation> {
        let mut interner = Interner::default();
        self.observe_interned(base_rule_index, time_ms, event, origin, &mut interner)
    }

    /// Like [`CorrelationSet::observe`], sharing the strings through `interner`.
    pub fn observe_interned(
        &self,
        base_rule_index: usize,
        time_ms: i64,
        event: &dyn FieldLookup,
        origin: &Origin,
        interner: &mut Interner,
    ) -> Vec<Observation> {
        let Some(uses) = self.by_base.get(base_rule_index) else {
            return Vec::new();
        };
        uses.iter()
            .filter_map(|&(correlation, member)| {
                let fields = self.correlations.get(correlation)?.fields.get(member)?;
                let group = fields
                    .group
                    .iter()
                    .map(|path| field_text(event, path, interner))
                    .collect::<Option<Box<[Text]>>>()?;
                let value = match &fields.value {
                    Some(path) => Some(field_text(event, path, interner)?),
                    None => None,
                };
                Some(Observation {
                    correlation,
                    member,
                    time_ms,
                    origin: origin.clone(),
                    group,
                    value,
                })
            })
            .collect()
    }
}

/// The first value at `path` as text: strings as they are, other scalars and containers as
/// JSON; `None` when absent or null.
fn field_text(event: &dyn FieldLookup, path: &FieldPath, interner: &mut Interner) -> Option<Text> {
    let value = event.first(path)?;
    if let Some(text) = value.as_str() {
        return Some(interner.intern(text));
    }
    if value.is_null() {
        return None;
    }
    Some(interner.intern(&value.to_string()))
}

#[cfg(test)]
mod tests {
    use vigil_event::Value;

    use crate::test_support::*;
    use crate::{CompareOp, CorrelationKind, CorrelationSet};

    fn set(kind: CorrelationKind, group_by: &[&str]) -> CorrelationSet {
        let rule = correlation("c", kind, &["a"], group_by, MINUTE);
        build_ok(
            vec![with_condition(rule, CompareOp::Gte, 2)],
            &base_rules(&["a", "b"]),
        )
    }

    fn observe(set: &CorrelationSet, rule: usize, json: &str) -> Vec<crate::Observation> {
        let event: Value = sonic_rs::from_str(json).unwrap_or_default();
        set.observe(rule, 7, &event, &vigil_event::Origin::new("f", 3))
    }

    #[test]
    fn interned_strings_are_shared() {
        let mut interner = super::Interner::default();
        let a = interner.intern("arn:aws:iam::1:user/a");
        let b = interner.intern("arn:aws:iam::1:user/a");
        assert!(std::sync::Arc::ptr_eq(&a, &b));
        assert_eq!(interner.len(), 1);
        assert!(!std::sync::Arc::ptr_eq(&a, &interner.intern("other")));
    }

    #[test]
    #[cfg(target_pointer_width = "64")]
    fn observation_size_is_as_documented() {
        assert_eq!(std::mem::size_of::<crate::Observation>(), 80);
    }

    #[test]
    fn group_values_are_read_as_text() {
        let set = set(CorrelationKind::EventCount, &["user.arn", "port", "ips"]);
        let observed = observe(
            &set,
            0,
            r#"{"user":{"arn":"arn:x"},"port":443,"ips":["1.2.3.4","5.6.7.8"]}"#,
        );
        assert_eq!(observed.len(), 1);
        let groups: Vec<&str> = observed[0].group.iter().map(|g| g.as_ref()).collect();
        assert_eq!(groups, vec!["arn:x", "443", "1.2.3.4"]);
        assert_eq!((observed[0].time_ms, observed[0].origin.record), (7, 3));
        assert_eq!(observed[0].value, None);
    }

    #[test]
    fn events_without_a_group_field_do_not_correlate() {
        let set = set(CorrelationKind::EventCount, &["user"]);
        assert!(observe(&set, 0, r#"{"other":1}"#).is_empty());
        assert!(observe(&set, 0, r#"{"user":null}"#).is_empty());
        assert_eq!(observe(&set, 0, r#"{"user":"u"}"#).len(), 1);
    }

    #[test]
    fn value_count_needs_the_counted_field() {
        let set = set(
            CorrelationKind::ValueCount {
                field: "target".into(),
            },
            &[],
        );
        assert!(observe(&set, 0, r#"{"user":"u"}"#).is_empty());
        let observed = observe(&set, 0, r#"{"target":"t1"}"#);
        assert_eq!(observed[0].value.as_deref(), Some("t1"));
        assert!(observed[0].group.is_empty());
    }

    #[test]
    fn rules_no_correlation_references_are_not_observed() {
        let set = set(CorrelationKind::EventCount, &[]);
        assert!(observe(&set, 1, "{}").is_empty());
        assert!(observe(&set, 99, "{}").is_empty());
        assert_eq!(observe(&set, 0, "{}").len(), 1);
    }
}
