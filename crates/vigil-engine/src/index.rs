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
    /// The table's number among all tables of the index (its memo in a [`CandidateScratch`]).
    id: usize,
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
    /// How many keyed tables there are, over all sources.
    tables: usize,
    /// Tells this index apart from every other of the process, so that a scratch's memo
    /// is never read against another index's tables.
    id: u64,
}

/// Reusable per-worker buffers for [`RuleIndex::candidates`], and what the worker has learnt
/// of the values it met.
#[derive(Debug, Default)]
pub struct CandidateScratch {
    key: String,
    rules: Vec<u32>,
    /// Per keyed table: text value as written in events → the rules it reaches (through
    /// the table's values and prefixes). A field such as `eventName` takes a few hundred
    /// values, each met thousands of times; answering from here skips lower-casing a copy
    /// of the value and trying every prefix on it.
    memo: Vec<FxHashMap<Box<str>, Box<[u32]>>>,
    /// The [`RuleIndex::id`] the memo was filled by.
    memo_of: u64,
}

/// The most values remembered per table and worker: the fields the index is keyed on have
/// few values, but nothing bounds them, and memory must stay bounded.
const MEMO_VALUES: usize = 1024;

impl RuleIndex {
    /// Files each rule (by its position in `entries`).
    pub fn build<'a>(entries: impl IntoIterator<Item = IndexEntry<'a>>) -> RuleIndex {
        let mut per_source: Vec<SourceIndex> = LogSource::ALL
            .iter()
            .map(|_| SourceIndex::default())
            .collect();
        let mut tables = 0;
        for (rule, entry) in entries.into_iter().enumerate() {
            let rule = u32::try_from(rule).unwrap_or(u32::MAX);
            let chosen = choose_hint(&entry.hints);
            for source in entry.sources {
                let index = &mut per_source[source.index()];
                match chosen {
                    Some(hint) => index.file(hint, rule, &mut tables),
                    None => index.always.push(rule),
                }
            }
        }
        static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let id = NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        RuleIndex {
            per_source,
            tables,
            id,
        }
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
        let CandidateScratch {
            key,
            rules,
            memo,
            memo_of,
        } = scratch;
        if *memo_of != self.id {
            memo.clear();
            *memo_of = self.id;
        }
        if memo.len() < self.tables {
            memo.resize_with(self.tables, FxHashMap::default);
        }
        rules.clear();
        rules.extend_from_slice(&index.always);
        for table in &index.keyed {
            let Some(memo) = memo.get_mut(table.id) else {
                continue;
            };
            let _ = event.for_each_value(&table.path, &mut |value| {
                match value.as_str() {
                    Some(text) => match memo.get(text) {
                        Some(reached) => rules.extend_from_slice(reached),
                        None => {
                            let start = rules.len();
                            lower_into(text, key);
                            table.reach(key, rules);
                            if memo.len() < MEMO_VALUES {
                                let reached = rules.get(start..).unwrap_or_default();
                                memo.insert(text.into(), reached.into());
                            }
                        }
                    },
                    None if key_of(value, key) => table.reach(key, rules),
                    None if value.is_object() => rules.extend_from_slice(&table.prefixed_rules),
                    None => {}
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

impl KeyedTable {
    /// Adds the rules filed under the index key `key` (and under the prefixes it starts
    /// with) to `rules`.
    fn reach(&self, key: &str, rules: &mut Vec<u32>) {
        if let Some(filed) = self.rules.get(key) {
            rules.extend_from_slice(filed);
        }
        for (prefix, filed) in &self.prefixes {
            if key.starts_with(&**prefix) {
                rules.extend_from_slice(filed);
            }
        }
    }
}

impl SourceIndex {
    fn file(&mut self, hint: &IndexHint, rule: u32, tables: &mut usize) {
        let position = match self
            .keyed
            .iter()
            .position(|t| t.path.as_str() == hint.field)
        {
            Some(position) => position,
            None => {
                self.keyed.push(KeyedTable {
                    id: *tables,
                    path: FieldPath::new(&hint.field),
                    rules: FxHashMap::default(),
                    prefixes: Vec::new(),
                    prefixed_rules: Vec::new(),
                });
                *tables += 1;
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

    /// The index reaches exactly the rules whose hints admit the event (the reference
    /// semantics in `vigil-sigma`), whatever the case of the event's values.
    #[test]
    fn candidates_are_the_rules_whose_hints_admit_the_event() {
        let ct = [LogSource::CloudTrail];
        let all_hints = [
            vec![prefixed("eventName", &["CreateUser", "DeleteUser"], &[])],
            vec![prefixed("eventName", &["ÉvénementSpécial"], &[])],
            vec![prefixed("eventName", &[], &["Describe", "Get"])],
            vec![prefixed("eventName", &[], &["ÉVÉ"])],
            vec![prefixed("eventSource", &["iam.amazonaws.com"], &[])],
            vec![prefixed("userIdentity.type", &["Root", "IAMUser"], &[])],
            vec![prefixed("errorCode", &["22", "true"], &[])],
        ];
        let index = RuleIndex::build(all_hints.iter().map(|hints| IndexEntry {
            sources: &ct,
            hints: hints.clone(),
        }));
        let events = [
            r#"{"eventName":"createuser","eventSource":"IAM.amazonaws.COM"}"#,
            r#"{"eventName":"CREATEUSER2"}"#,
            r#"{"eventName":"événementspécial"}"#,
            r#"{"eventName":"ÉVÉNEMENTSPÉCIAL"}"#,
            r#"{"eventName":"Événement"}"#,
            r#"{"eventName":"DESCRIBEInstances"}"#,
            r#"{"eventName":"Ge"}"#,
            r#"{"eventName":"getObject","userIdentity":{"type":"root"}}"#,
            r#"{"userIdentity":[{"type":"x"},{"type":"IAMUSER"}]}"#,
            r#"{"errorCode":22}"#,
            r#"{"errorCode":true}"#,
            r#"{"errorCode":"TRUE"}"#,
            r#"{"eventName":null,"errorCode":22.5}"#,
        ];
        let mut scratch = CandidateScratch::default();
        // Twice: the second time, string values are answered from the scratch's memo.
        for json in events.iter().chain(events.iter()) {
            let event = event(LogSource::CloudTrail, json);
            let expected: Vec<u32> = (0..all_hints.len() as u32)
                .filter(|&rule| all_hints[rule as usize].iter().all(|h| h.admits(&event)))
                .collect();
            assert_eq!(
                index.candidates(&event, &mut scratch),
                &expected[..],
                "{json}"
            );
        }
    }

    #[test]
    fn the_memo_of_values_is_bounded_and_values_past_it_still_reach_their_rules() {
        let ct = [LogSource::CloudTrail];
        let index = RuleIndex::build([
            IndexEntry {
                sources: &ct,
                hints: vec![prefixed("eventName", &["Call7"], &["Call1"])],
            },
            IndexEntry {
                sources: &ct,
                hints: vec![prefixed("eventName", &["CALL2000"], &[])],
            },
        ]);
        let mut scratch = CandidateScratch::default();
        for round in 0..2 {
            for i in 0..MEMO_VALUES + 1000 {
                let name = format!("Call{i}");
                let json = format!(r#"{{"eventName":"{name}"}}"#);
                let mut expected = Vec::new();
                if name == "Call7" || name.starts_with("Call1") {
                    expected.push(0);
                }
                if name == "Call2000" {
                    expected.push(1);
                }
                let got = index.candidates(&event(LogSource::CloudTrail, &json), &mut scratch);
                assert_eq!(got, &expected[..], "{round} {name}");
            }
        }
        assert!(scratch.memo.iter().all(|memo| memo.len() <= MEMO_VALUES));
    }

    #[test]
    fn a_scratch_moved_to_another_index_forgets_what_it_learnt() {
        let ct = [LogSource::CloudTrail];
        let build = |value: &str| {
            RuleIndex::build([
                IndexEntry {
                    sources: &ct,
                    hints: vec![],
                },
                IndexEntry {
                    sources: &ct,
                    hints: hints(&[("eventName", &[value])]),
                },
            ])
        };
        let (first, second) = (build("StopLogging"), build("DeleteTrail"));
        let stop = event(LogSource::CloudTrail, r#"{"eventName":"StopLogging"}"#);
        let mut scratch = CandidateScratch::default();
        assert_eq!(first.candidates(&stop, &mut scratch), &[0, 1]);
        assert_eq!(second.candidates(&stop, &mut scratch), &[0]);
        assert_eq!(first.candidates(&stop, &mut scratch), &[0, 1]);
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
