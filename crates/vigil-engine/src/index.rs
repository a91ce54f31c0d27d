//! The rule index: which rules could match an event, found by hashing a few literal fields
//! instead of trying every rule.
//!
//! Each compiled rule states necessary equalities (`eventName ∈ {StopLogging, DeleteTrail}`).
//! A rule is filed under one of them per log source — the most selective field in
//! [`PREFERRED_FIELDS`] order, else its hint with the fewest values — and rules with no
//! usable hint are tried on every event of their source. The cost of an event is then a
//! handful of hash lookups plus the rules that really could match it.

use std::ops::ControlFlow;

use rustc_hash::FxHashMap;
use sonic_rs::JsonValueTrait;
use vigil_event::{Event, FieldLookup, FieldPath, LogSource};
use vigil_sigma::IndexHint;

/// Fields tried first when choosing where to file a rule: the ones nearly every rule
/// constrains and every event has.
pub const PREFERRED_FIELDS: &[&str] = &["eventName", "type", "check-name", "eventSource"];

/// One field's table: lower-cased value → rules, and lower-cased prefix → rules.
#[derive(Debug)]
struct KeyedTable {
    path: FieldPath,
    rules: FxHashMap<Box<str>, Vec<u32>>,
    /// Rules filed under `startswith` prefixes, tried on the values they prefix (few: a
    /// linear scan of short prefixes beats a trie here).
    prefixes: Vec<(Box<str>, Vec<u32>)>,
    /// Every rule filed under a prefix: a field holding an object may satisfy `startswith`
    /// through one of its leaves, so such a value reaches all of them.
    prefixed_rules: Vec<u32>,
}

#[derive(Debug, Default)]
struct SourceIndex {
    keyed: Vec<KeyedTable>,
    always: Vec<u32>,
}

/// A rule as the index sees it.
pub struct IndexEntry<'a> {
    /// The log sources the rule applies to.
    pub sources: &'a [LogSource],
    /// Necessary conditions on field values (lower-cased values and prefixes).
    pub hints: Vec<IndexHint>,
}

/// Rules filed by log source and literal field values.
#[derive(Debug)]
pub struct RuleIndex {
    per_source: Vec<SourceIndex>,
}

/// Reusable per-worker buffers for [`RuleIndex::candidates`].
#[derive(Debug, Default)]
pub struct CandidateScratch {
    key: String,
    rules: Vec<u32>,
}

impl RuleIndex {
    /// Files each rule (by its position in `entries`).
    pub fn build<'a>(entries: impl IntoIterator<Item = IndexEntry<'a>>) -> RuleIndex {
        let mut per_source: Vec<SourceIndex> = LogSource::ALL
            .iter()
            .map(|_| SourceIndex::default())
            .collect();
        for (rule, entry) in entries.into_iter().enumerate() {
            let rule = u32::try_from(rule).unwrap_or(u32::MAX);
            let chosen = choose_hint(&entry.hints);
            for source in entry.sources {
                let index = &mut per_source[source.index()];
                match chosen {
                    Some(hint) => index.file(hint, rule),
                    None => index.always.push(rule),
                }
            }
        }
        RuleIndex { per_source }
    }

    /// The rules that could match `event`, ascending and without duplicates.
    pub fn candidates<'s>(&self, event: &Event, scratch: &'s mut CandidateScratch) -> &'s [u32] {
        self.candidates_of(event.source, event, scratch)
    }

    /// Like [`RuleIndex::candidates`], reading the fields of an event of `source` through
    /// `event` (a [`vigil_event::KeyedEvent`] on the hot path).
    pub fn candidates_of<'s, E: FieldLookup + ?Sized>(
        &self,
        source: LogSource,
        event: &E,
        scratch: &'s mut CandidateScratch,
    ) -> &'s [u32] {
        let index = &self.per_source[source.index()];
        let CandidateScratch { key, rules } = scratch;
        rules.clear();
        rules.extend_from_slice(&index.always);
        for table in &index.keyed {
            let _ = event.for_each_value(&table.path, &mut |value| {
                if key_of(value, key) {
                    if let Some(filed) = table.rules.get(key.as_str()) {
                        rules.extend_from_slice(filed);
                    }
                    for (prefix, filed) in &table.prefixes {
                        if key.starts_with(&**prefix) {
                            rules.extend_from_slice(filed);
                        }
                    }
                } else if value.is_object() {
                    rules.extend_from_slice(&table.prefixed_rules);
                }
                ControlFlow::Continue(())
            });
        }
        if rules.len() > 1 {
            rules.sort_unstable();
            rules.dedup();
        }
        rules
    }

    /// How many rules are filed under keys and how many are tried on every event, per source.
    pub fn stats(&self) -> Vec<(LogSource, usize, usize)> {
        LogSource::ALL
            .iter()
            .map(|source| {
                let index = &self.per_source[source.index()];
                let keyed = index
                    .keyed
                    .iter()
                    .flat_map(|t| t.rules.values())
                    .map(Vec::len)
                    .sum();
                (*source, keyed, index.always.len())
            })
            .collect()
    }
}

impl SourceIndex {
    fn file(&mut self, hint: &IndexHint, rule: u32) {
        let position = match self
            .keyed
            .iter()
            .position(|t| t.path.as_str() == hint.field)
        {
            Some(position) => position,
            None => {
                self.keyed.push(KeyedTable {
                    path: FieldPath::new(&hint.field),
                    rules: FxHashMap::default(),
                    prefixes: Vec::new(),
                    prefixed_rules: Vec::new(),
                });
                self.keyed.len() - 1
            }
        };
        let table = &mut self.keyed[position];
        let mut key = String::new();
        for value in &hint.values {
            lower_into(value, &mut key);
            let filed = table.rules.entry(key.as_str().into()).or_default();
            if filed.last() != Some(&rule) {
                filed.push(rule);
            }
        }
        for prefix in &hint.prefixes {
            lower_into(prefix, &mut key);
            match table.prefixes.iter_mut().find(|(p, _)| **p == *key) {
                Some((_, filed)) if filed.last() == Some(&rule) => {}
                Some((_, filed)) => filed.push(rule),
                None => table.prefixes.push((key.as_str().into(), vec![rule])),
            }
        }
        if !hint.prefixes.is_empty() && table.prefixed_rules.last() != Some(&rule) {
            table.prefixed_rules.push(rule);
        }
    }
}

/// Where to file a rule: a plain-values hint (a preferred field first, else the one with the
/// fewest values), else a hint with prefixes (the same way), else none.
fn choose_hint(hints: &[IndexHint]) -> Option<&IndexHint> {
    let plain = |h: &&IndexHint| !h.values.is_empty() && h.prefixes.is_empty();
    let prefixed = |h: &&IndexHint| !h.prefixes.is_empty();
    let best = |usable: &dyn Fn(&&IndexHint) -> bool| {
        PREFERRED_FIELDS
            .iter()
            .find_map(|preferred| hints.iter().filter(usable).find(|h| h.field == *preferred))
            .or_else(|| {
                hints
                    .iter()
                    .filter(usable)
                    .min_by_key(|h| h.values.len() + h.prefixes.len())
            })
    };
    best(&plain).or_else(|| best(&prefixed))
}

/// Writes the index key of a scalar JSON value into `buf`: strings lower-cased, numbers and
/// booleans as their JSON text (Sigma compares them as strings). False for objects, arrays
/// and null, which no equality hint can name.
fn key_of(value: &vigil_event::Value, buf: &mut String) -> bool {
    if let Some(text) = value.as_str() {
        lower_into(text, buf);
        true
    } else if value.is_number() || value.is_boolean() {
        use std::fmt::Write;
        buf.clear();
        let _ = write!(buf, "{value}");
        true
    } else {
        false
    }
}

/// Lower-cases `text` into `buf` the way Sigma compares by default (ASCII fast path).
fn lower_into(text: &str, buf: &mut String) {
    buf.clear();
    if text.is_ascii() {
        buf.push_str(text);
        buf.make_ascii_lowercase();
    } else {
        buf.extend(text.chars().flat_map(char::to_lowercase));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_event::Origin;

    fn event(source: LogSource, json: &str) -> Event {
        Event::new(
            source,
            sonic_rs::from_str(json).unwrap(),
            Origin::new("t", 1),
        )
    }

    fn hints(pairs: &[(&str, &[&str])]) -> Vec<IndexHint> {
        pairs
            .iter()
            .map(|(f, v)| IndexHint {
                field: f.to_string(),
                values: v.iter().map(|s| s.to_lowercase()).collect(),
                prefixes: Vec::new(),
            })
            .collect()
    }

    fn prefixed(field: &str, values: &[&str], prefixes: &[&str]) -> IndexHint {
        IndexHint {
            field: field.to_string(),
            values: values.iter().map(|s| s.to_lowercase()).collect(),
            prefixes: prefixes.iter().map(|s| s.to_lowercase()).collect(),
        }
    }

    #[test]
    fn prefixes_reach_the_values_they_start() {
        let ct = [LogSource::CloudTrail];
        let index = RuleIndex::build([
            IndexEntry {
                sources: &ct,
                hints: vec![prefixed("eventName", &["CreateTags"], &["Tag", "AddTags"])],
            },
            IndexEntry {
                sources: &ct,
                hints: vec![prefixed("eventName", &["ListUsers"], &["List"])],
            },
            IndexEntry {
                sources: &ct,
                // A plain hint on another field wins over a prefix hint.
                hints: vec![
                    prefixed("eventName", &[], &["Get"]),
                    prefixed("userIdentity.type", &["Root"], &[]),
                ],
            },
        ]);
        let mut scratch = CandidateScratch::default();
        let mut reach = |json: &str| {
            index
                .candidates(&event(LogSource::CloudTrail, json), &mut scratch)
                .to_vec()
        };
        assert_eq!(reach(r#"{"eventName":"TagResource"}"#), vec![0]);
        assert_eq!(reach(r#"{"eventName":"createtags"}"#), vec![0]);
        assert_eq!(reach(r#"{"eventName":"ListUsers"}"#), vec![1]);
        assert_eq!(reach(r#"{"eventName":"ListRoles"}"#), vec![1]);
        assert_eq!(reach(r#"{"eventName":"UntagResource"}"#), Vec::<u32>::new());
        assert_eq!(
            reach(r#"{"eventName":"GetUser","userIdentity":{"type":"IAMUser"}}"#),
            Vec::<u32>::new()
        );
        assert_eq!(
            reach(r#"{"eventName":"Anything","userIdentity":{"type":"Root"}}"#),
            vec![2]
        );
        // An object may satisfy `startswith` through a leaf: every prefixed rule is tried.
        assert_eq!(reach(r#"{"eventName":{"a":"TagX"}}"#), vec![0, 1]);
    }

    fn index() -> RuleIndex {
        let ct = [LogSource::CloudTrail];
        let flow = [LogSource::VpcFlow];
        RuleIndex::build([
            IndexEntry {
                sources: &ct,
                hints: hints(&[("eventName", &["StopLogging", "DeleteTrail"])]),
            },
            IndexEntry {
                sources: &ct,
                hints: hints(&[
                    ("eventSource", &["iam.amazonaws.com"]),
                    ("eventName", &["CreateUser"]),
                ]),
            },
            IndexEntry {
                sources: &ct,
                hints: vec![],
            },
            IndexEntry {
                sources: &flow,
                hints: hints(&[("dstport", &["22"])]),
            },
            IndexEntry {
                sources: &ct,
                hints: hints(&[("eventSource", &["s3.amazonaws.com"])]),
            },
        ])
    }

    #[test]
    fn events_reach_only_rules_filed_under_their_values() {
        let index = index();
        let mut scratch = CandidateScratch::default();
        let stop = event(
            LogSource::CloudTrail,
            r#"{"eventName":"stoplogging","eventSource":"cloudtrail.amazonaws.com"}"#,
        );
        assert_eq!(index.candidates(&stop, &mut scratch), &[0, 2]);
        let create = event(
            LogSource::CloudTrail,
            r#"{"eventName":"CreateUser","eventSource":"iam.amazonaws.com"}"#,
        );
        assert_eq!(index.candidates(&create, &mut scratch), &[1, 2]);
        let s3 = event(
            LogSource::CloudTrail,
            r#"{"eventName":"GetObject","eventSource":"s3.amazonaws.com"}"#,
        );
        assert_eq!(index.candidates(&s3, &mut scratch), &[2, 4]);
    }

    #[test]
    fn sources_do_not_mix() {
        let index = index();
        let mut scratch = CandidateScratch::default();
        let flow = event(LogSource::VpcFlow, r#"{"eventName":"StopLogging"}"#);
        assert!(index.candidates(&flow, &mut scratch).is_empty());
    }

    #[test]
    fn numeric_fields_are_keyed_by_their_text() {
        let index = index();
        let mut scratch = CandidateScratch::default();
        let ssh = event(LogSource::VpcFlow, r#"{"dstport":22}"#);
        assert_eq!(index.candidates(&ssh, &mut scratch), &[3]);
        let web = event(LogSource::VpcFlow, r#"{"dstport":443}"#);
        assert!(index.candidates(&web, &mut scratch).is_empty());
    }

    #[test]
    fn preferred_field_wins_over_fewer_values() {
        let both = hints(&[("eventSource", &["a"]), ("eventName", &["x", "y"])]);
        assert_eq!(
            choose_hint(&both).map(|h| h.field.as_str()),
            Some("eventName")
        );
        let neither = hints(&[("a", &["1", "2"]), ("b", &["3"])]);
        assert_eq!(choose_hint(&neither).map(|h| h.field.as_str()), Some("b"));
    }
}
