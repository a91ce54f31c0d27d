//! Observations: what a correlation keeps of a base rule match — the group-by values and the
//! counted value as small strings, the time and the origin; never the record.

use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};
use sonic_rs::JsonValueTrait;
use vigil_event::{FieldLookup, FieldPath, Origin};

use crate::CorrelationSet;

/// The text of a group-by or counted value. Shared, so the same ARN or event name observed a
/// million times is stored once (see [`Interner`]) and copying it into a window is a
/// reference count, not an allocation.
pub type Text = Arc<str>;

/// The group-by values of an observation, in `group_by` order; shared like [`Text`], so the
/// observations of one group hold one copy.
pub type Group = Arc<[Text]>;

/// Shares equal strings and groups between observations. A worker keeps one across the files
/// it reads.
#[derive(Debug, Default)]
pub struct Interner {
    /// Counted values (`value_count`), and the strings of groups built from [`Text`]s.
    known: FxHashSet<Text>,
    /// Groups built from [`Text`]s ([`Interner::intern_group`]: spilled runs read back, and
    /// groups whose hash collides in `by_text`) by the addresses of their strings: a group
    /// holds its strings, so an address in a key cannot be reused by another string while
    /// the key exists, and hashing a few addresses is cheaper than hashing the strings
    /// again.
    groups: FxHashMap<Box<[usize]>, Group>,
    /// Groups of observations by a hash of their values' text ([`text_hash`]), so an
    /// observation whose group was seen before finds it with one hash of the event's values
    /// and one lookup, instead of interning each value and then the group (most groups are
    /// new: a new one is two allocations and one insert). A hash names a group only after
    /// its values compared equal; a group whose hash collides with another's is not cached
    /// and takes the longer way (correct, only slower).
    by_text: FxHashMap<u64, Group>,
    /// The group being built, reused across observations.
    scratch: Vec<Text>,
    addresses: Vec<usize>,
    /// Estimated heap bytes of the shared strings and groups (see [`Interner::memory_bytes`]).
    bytes: usize,
}

/// Heap bytes of an `Arc` allocation's counts, and of one hash-table slot with its control
/// byte and spare capacity, as counted by [`Interner::memory_bytes`].
const ARC_COUNTS: usize = 2 * std::mem::size_of::<usize>();
const TABLE_SLOT: usize = 2 * std::mem::size_of::<usize>() + 8;

impl Interner {
    /// The shared copy of `text`.
    pub fn intern(&mut self, text: &str) -> Text {
        if let Some(known) = self.known.get(text) {
            return Arc::clone(known);
        }
        let shared: Text = Arc::from(text);
        self.known.insert(Arc::clone(&shared));
        self.bytes += text.len() + ARC_COUNTS + TABLE_SLOT;
        shared
    }

    /// The shared copy of the group `values`.
    pub fn intern_group(&mut self, values: &[Text]) -> Group {
        self.addresses.clear();
        self.addresses.extend(
            values
                .iter()
                .map(|text| Arc::as_ptr(text).cast::<u8>() as usize),
        );
        if let Some(known) = self.groups.get(self.addresses.as_slice()) {
            return Arc::clone(known);
        }
        let shared: Group = Arc::from(values);
        self.groups
            .insert(self.addresses.as_slice().into(), Arc::clone(&shared));
        // The group's slice of `Arc`s, its key of addresses, and the map's slot.
        self.bytes += values.len() * (std::mem::size_of::<Text>() + std::mem::size_of::<usize>())
            + ARC_COUNTS
            + TABLE_SLOT
            + std::mem::size_of::<Group>();
        shared
    }

    /// The shared group whose values are `values` (in order).
    pub fn group_of(&mut self, values: &[&str]) -> Group {
        self.group_and_hash(values).0
    }

    /// The shared group of `values` and its [`text_hash`].
    fn group_and_hash(&mut self, values: &[&str]) -> (Group, u64) {
        let hash = text_hash(values);
        match self.by_text.get(&hash) {
            Some(known) if same_texts(known, values) => (Arc::clone(known), hash),
            // A collision: the cached group keeps its hash; this one is interned by its
            // strings' addresses (one allocation per content all the same).
            Some(_) => (self.group_of_texts(values), hash),
            None => {
                // A group's values are copied into it, not shared with other groups: on
                // CloudTrail a group's ARN is rarely in another, and interning them cost a
                // second table lookup per value.
                let group: Group = values.iter().map(|value| Text::from(*value)).collect();
                self.bytes += values
                    .iter()
                    .map(|value| value.len() + ARC_COUNTS + std::mem::size_of::<Text>())
                    .sum::<usize>()
                    + ARC_COUNTS
                    + TABLE_SLOT;
                self.by_text.insert(hash, Arc::clone(&group));
                (group, hash)
            }
        }
    }

    /// The shared group of `values`, interning each value then the group.
    fn group_of_texts(&mut self, values: &[&str]) -> Group {
        let mut group = std::mem::take(&mut self.scratch);
        group.clear();
        for value in values {
            let text = self.intern(value);
            group.push(text);
        }
        let shared = self.intern_group(&group);
        self.scratch = group;
        shared
    }

    /// Estimated heap bytes held by the shared strings and groups: what a memory budget for
    /// observations must count besides the observations themselves (on CloudTrail, where
    /// most groups are distinct ARNs, about as much again).
    pub fn memory_bytes(&self) -> usize {
        self.bytes
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

fn same_texts(group: &[Text], values: &[&str]) -> bool {
    group.len() == values.len() && group.iter().zip(values).all(|(g, v)| **g == **v)
}

/// A hash of a group's values: each value's length, then its bytes (so `["ab", "c"]` and
/// `["a", "bc"]` hash apart). The same for equal values whoever computes it (no random
/// seed), so workers' copies of one group hash alike.
pub(crate) fn text_hash<S: AsRef<str>>(values: &[S]) -> u64 {
    use std::hash::Hasher;
    let mut hasher = rustc_hash::FxHasher::default();
    for value in values {
        let value = value.as_ref();
        hasher.write_usize(value.len());
        hasher.write(value.as_bytes());
    }
    hasher.finish()
}

/// Group-by fields read into a stack array on the hot path; a correlation grouping by more
/// takes the general path.
const FAST_GROUP_FIELDS: usize = 4;

/// What reading a group's values straight from the event found.
enum GroupRead<'e> {
    /// Every value is a string: the first `n` slots.
    Texts([&'e str; FAST_GROUP_FIELDS], usize),
    /// A value is absent or null: the event does not correlate.
    Incomplete,
    /// A value is not a string (or there are too many fields): read it the general way.
    Other,
}

/// Reads the group-by values at `paths` from `event` without copying them.
fn read_group<'e>(event: &'e dyn FieldLookup, paths: &[FieldPath]) -> GroupRead<'e> {
    let mut texts = [""; FAST_GROUP_FIELDS];
    if paths.len() > FAST_GROUP_FIELDS {
        return GroupRead::Other;
    }
    for (slot, path) in texts.iter_mut().zip(paths) {
        let Some(value) = event.first(path) else {
            return GroupRead::Incomplete;
        };
        match value.as_str() {
            Some(text) => *slot = text,
            None if value.is_null() => return GroupRead::Incomplete,
            None => return GroupRead::Other,
        }
    }
    GroupRead::Texts(texts, paths.len())
}

/// One match of a referenced rule, as seen by one correlation.
///
/// Size: 80 bytes on 64-bit targets, and nothing else of its own: the group, its strings and
/// the origin's file name are shared through an [`Interner`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Observation {
    /// Which correlation (index in the [`CorrelationSet`]).
    pub correlation: u32,
    /// Which `rules:` entry of that correlation matched (position in the list).
    pub member: u32,
    /// Event time, epoch milliseconds.
    pub time_ms: i64,
    /// Where the event was read.
    pub origin: Origin,
    /// The group-by values, in the correlation's `group_by` order.
    pub group: Group,
    /// For `value_count`, the value of the counted field.
    pub value: Option<Text>,
    /// A hash of the group's values ([`Observation::hash_group`]): equal groups hash alike
    /// whoever interned them, so groups can be counted without reading their strings.
    /// Private so that it always matches `group` (see [`Observation::new`]).
    pub(crate) group_hash: u64,
}

impl Observation {
    /// The hash of the group's values: equal for equal groups, whichever worker interned
    /// them (see [`Observation::hash_group`]).
    pub fn group_hash(&self) -> u64 {
        self.group_hash
    }

    /// An observation of member `member` of correlation `correlation`.
    pub fn new(
        correlation: u32,
        member: u32,
        time_ms: i64,
        origin: Origin,
        group: Group,
        value: Option<Text>,
    ) -> Self {
        Observation {
            correlation,
            member,
            time_ms,
            origin,
            group_hash: Observation::hash_group(&group),
            group,
            value,
        }
    }

    /// The hash of `group` kept with each observation: the same for equal values whoever
    /// interned them.
    pub fn hash_group(group: &[Text]) -> u64 {
        text_hash(group)
    }
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
        let mut out = Vec::new();
        self.observe_into(base_rule_index, time_ms, event, origin, interner, &mut out);
        out
    }

    /// Like [`CorrelationSet::observe_interned`], appending to `out` (no allocation of its
    /// own on the hot path). Returns how many observations were added.
    pub fn observe_into(
        &self,
        base_rule_index: usize,
        time_ms: i64,
        event: &dyn FieldLookup,
        origin: &Origin,
        interner: &mut Interner,
        out: &mut Vec<Observation>,
    ) -> usize {
        let Some(uses) = self.by_base.get(base_rule_index) else {
            return 0;
        };
        let before = out.len();
        for &(correlation, member) in uses {
            let Some(fields) = self
                .correlations
                .get(correlation)
                .and_then(|c| c.fields.get(member))
            else {
                continue;
            };
            let (group, group_hash) = match read_group(event, &fields.group) {
                GroupRead::Texts(texts, n) => interner.group_and_hash(&texts[..n]),
                GroupRead::Incomplete => continue,
                GroupRead::Other => match group_the_long_way(event, &fields.group, interner) {
                    Some(group) => group,
                    None => continue,
                },
            };
            let value = match &fields.value {
                Some(path) => match field_text(event, path, interner) {
                    Some(text) => Some(text),
                    None => continue,
                },
                None => None,
            };
            out.push(Observation {
                correlation: index_u32(correlation),
                member: index_u32(member),
                time_ms,
                origin: origin.clone(),
                group,
                value,
                group_hash,
            });
        }
        out.len() - before
    }
}

/// The group of the values at `paths` as text (strings as they are, other scalars and
/// containers as JSON) and its hash; `None` when one is absent or null.
fn group_the_long_way(
    event: &dyn FieldLookup,
    paths: &[FieldPath],
    interner: &mut Interner,
) -> Option<(Group, u64)> {
    let mut texts: Vec<std::borrow::Cow<'_, str>> = Vec::with_capacity(paths.len());
    for path in paths {
        let value = event.first(path)?;
        if let Some(text) = value.as_str() {
            texts.push(text.into());
        } else if value.is_null() {
            return None;
        } else {
            texts.push(value.to_string().into());
        }
    }
    let values: Vec<&str> = texts.iter().map(|t| t.as_ref()).collect();
    Some(interner.group_and_hash(&values))
}

/// A correlation or member index as stored in an [`Observation`] (built sets have far
/// fewer than 2^32 of either).
pub(crate) fn index_u32(index: usize) -> u32 {
    u32::try_from(index).unwrap_or(u32::MAX)
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

    /// The interner's memory grows with what is new, not with what is shared again: the
    /// budget that decides when observations spill counts it.
    #[test]
    fn interner_memory_counts_new_strings_and_groups_once() {
        let mut interner = super::Interner::default();
        assert_eq!(interner.memory_bytes(), 0);
        let arn = interner.intern("arn:aws:iam::111122223333:user/alice");
        let one = interner.memory_bytes();
        assert!(one >= arn.len(), "{one}");
        let again = interner.intern("arn:aws:iam::111122223333:user/alice");
        assert_eq!(interner.memory_bytes(), one);
        let group = interner.intern_group(std::slice::from_ref(&arn));
        let with_group = interner.memory_bytes();
        assert!(with_group > one);
        let same_group = interner.intern_group(&[again]);
        assert!(std::sync::Arc::ptr_eq(&group, &same_group));
        assert_eq!(interner.memory_bytes(), with_group);
        interner.intern("arn:aws:iam::111122223333:user/bob");
        assert!(interner.memory_bytes() > with_group);
    }

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
    fn interned_groups_are_shared_and_keep_their_values() {
        let mut interner = super::Interner::default();
        let (a, b) = (interner.intern("alice"), interner.intern("10.0.0.1"));
        let first = interner.intern_group(&[a.clone(), b.clone()]);
        let alice = interner.intern("alice");
        let again = interner.intern_group(&[alice, b.clone()]);
        assert!(std::sync::Arc::ptr_eq(&first, &again));
        let swapped = interner.intern_group(&[b.clone(), a.clone()]);
        assert!(!std::sync::Arc::ptr_eq(&first, &swapped));
        let values: Vec<&str> = swapped.iter().map(|t| t.as_ref()).collect();
        assert_eq!(values, ["10.0.0.1", "alice"]);
        // Strings from elsewhere with the same values still make a group with those values.
        let outside = interner.intern_group(&[super::Text::from("alice"), b]);
        assert_eq!(outside, first);
    }

    #[test]
    fn groups_found_by_their_text_are_shared_and_counted() {
        let mut interner = super::Interner::default();
        let first = interner.group_of(&["arn:aws:iam::1:user/a", "10.0.0.1"]);
        let values: Vec<&str> = first.iter().map(|t| t.as_ref()).collect();
        assert_eq!(values, ["arn:aws:iam::1:user/a", "10.0.0.1"]);
        let bytes = interner.memory_bytes();
        assert!(bytes > "arn:aws:iam::1:user/a10.0.0.1".len());
        let again = interner.group_of(&["arn:aws:iam::1:user/a", "10.0.0.1"]);
        assert!(std::sync::Arc::ptr_eq(&first, &again));
        assert_eq!(
            interner.memory_bytes(),
            bytes,
            "a known group costs nothing more"
        );
        // Values that concatenate alike are other groups.
        let split = interner.group_of(&["arn:aws:iam::1:user/a1", "0.0.0.1"]);
        assert!(!std::sync::Arc::ptr_eq(&first, &split));
        assert!(interner.memory_bytes() > bytes);
        assert_eq!(interner.group_of(&[]).len(), 0);
    }

    /// A hash shared by two groups must not give one the other's values.
    #[test]
    fn a_colliding_hash_still_gives_the_right_group() {
        let mut interner = super::Interner::default();
        let other = interner.group_of(&["bob"]);
        let hash = super::text_hash(&["alice"]);
        interner.by_text.insert(hash, other.clone());
        let alice = interner.group_of(&["alice"]);
        let values: Vec<&str> = alice.iter().map(|t| t.as_ref()).collect();
        assert_eq!(values, ["alice"]);
        assert!(std::sync::Arc::ptr_eq(
            &interner.group_of(&["alice"]),
            &alice
        ));
        assert!(std::sync::Arc::ptr_eq(&interner.group_of(&["bob"]), &other));
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

    /// Group values that are not strings take the general way and give the same group as
    /// their text would.
    #[test]
    fn mixed_group_values_share_groups_with_their_text() {
        let set = set(CorrelationKind::EventCount, &["port", "user"]);
        let event: Value = sonic_rs::from_str(r#"{"port":443,"user":"u"}"#).unwrap();
        let text: Value = sonic_rs::from_str(r#"{"port":"443","user":"u"}"#).unwrap();
        let origin = vigil_event::Origin::new("f", 1);
        let mut interner = super::Interner::default();
        let a = set.observe_interned(0, 1, &event, &origin, &mut interner);
        let b = set.observe_interned(0, 1, &text, &origin, &mut interner);
        assert!(std::sync::Arc::ptr_eq(&a[0].group, &b[0].group));
        // The hash is of the values, the same from another interner.
        let elsewhere = set.observe(0, 1, &text, &origin);
        assert_eq!(a[0].group_hash, crate::Observation::hash_group(&a[0].group));
        assert_eq!(elsewhere[0].group_hash, a[0].group_hash);
        let missing: Value = sonic_rs::from_str(r#"{"port":443}"#).unwrap();
        assert!(set
            .observe_interned(0, 1, &missing, &origin, &mut interner)
            .is_empty());
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
