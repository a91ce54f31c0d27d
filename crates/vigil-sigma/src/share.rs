//! Work several rules of a set have in common, done once per event.
//!
//! Rules written independently repeat each other's tests: `userIdentity.type: AssumedRole`,
//! `eventType: AwsApiCall`, `userAgent|contains: [kali, parrot, pentoo]`, the same regex on
//! `userIdentity.arn`. When a set is assembled, [`share_tests`] numbers every field test that
//! two or more rules hold; evaluating a rule through an [`crate::EventMemo`] then answers such
//! a test from the memo when another rule already evaluated it on the event. It also numbers
//! the field paths that two or more different tests read (`userIdentity.type` is compared with
//! `AssumedRole` by some rules and with a list of identity types by others): the memo keeps
//! the value found at such a path, so the event is searched for it once.
//!
//! Two tests are the same when their field and their compiled check print the same (`Debug`):
//! the compiled form holds every input of the answer (values, case, match kind, regex source
//! and flags), so equal text means equal answers. Printing may miss an equality (a set of
//! values iterated in another order), which only leaves a test unshared. Tests that look values
//! up in threat-intel lists are left out: their evaluation also reports the matching entries
//! (see [`crate::Rule::explain`]), and their lookups are already kept per event.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU32, Ordering};

use crate::eval::{FieldCheck, FieldTest, Node, Shared};
use crate::matcher::ValueTest;
use crate::memo::PATH_SLOTS;
use crate::rule::Rule;

/// The number of the next set given to [`share_tests`] (0 means "no set" in a memo).
static NEXT_SET: AtomicU32 = AtomicU32::new(1);

/// Lets the rules of one set share the answers of the field tests they have in common, and
/// the values of the field paths their tests read, on each event evaluated through
/// [`crate::Rule::matches_in`]. Call it once the set is complete (again after adding rules:
/// the previous numbering is replaced). Returns the number of shared tests. Answers never
/// change: a rule answers the same with or without it.
///
/// An [`crate::EventMemo`] keeps the answers of one set: evaluate rules of one set per memo
/// (answers of another set's rules are simply not kept).
///
/// ```
/// use vigil_sigma::{load_str, share_tests, EventMemo, LoadOptions};
///
/// let yaml = "title: a\nlogsource: {product: aws, service: cloudtrail}\n\
///             detection: {sel: {userIdentity.type: AssumedRole}, condition: sel}\n\
///             ---\n\
///             title: b\nlogsource: {product: aws, service: cloudtrail}\n\
///             detection: {sel: {userIdentity.type: AssumedRole, readOnly: false}, condition: sel}\n";
/// let mut rules = load_str(yaml, "r.yml", &LoadOptions::default()).rules;
/// assert_eq!(share_tests(&mut rules), 1);
/// let event: sonic_rs::Value =
///     sonic_rs::from_str(r#"{"userIdentity":{"type":"AssumedRole"},"readOnly":true}"#).unwrap();
/// let mut memo = EventMemo::new(&event);
/// assert!(rules[0].matches_in(&mut memo));
/// assert!(!rules[1].matches_in(&mut memo));
/// ```
pub fn share_tests<'r>(rules: impl IntoIterator<Item = &'r mut Rule>) -> usize {
    let mut rules: Vec<&mut Rule> = rules.into_iter().collect();
    let mut seen: HashMap<String, usize> = HashMap::new();
    // Per path, the distinct tests reading it (a test held by several rules reads it once
    // per event; a test never shared counts each time).
    let mut readers: HashMap<String, HashSet<String>> = HashMap::new();
    let mut unshared = 0usize;
    for rule in &mut rules {
        visit(&mut rule.root, &mut |test| {
            test.shared = None;
            test.path_slot = None;
            let key = key(test);
            if let Some(key) = &key {
                *seen.entry(key.clone()).or_default() += 1;
            }
            if reads_path(test) {
                let reader = key.unwrap_or_else(|| {
                    unshared += 1;
                    format!("\u{0}{unshared}")
                });
                readers
                    .entry(test.path.as_str().to_string())
                    .or_default()
                    .insert(reader);
            }
        });
    }
    let set = NEXT_SET.fetch_add(1, Ordering::Relaxed);
    // The paths read by the most tests get the memo's path slots.
    let mut paths: Vec<(usize, String)> = readers
        .into_iter()
        .filter(|(_, tests)| tests.len() >= 2)
        .map(|(path, tests)| (tests.len(), path))
        .collect();
    paths.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let path_slots: HashMap<String, u32> = paths
        .into_iter()
        .take(PATH_SLOTS)
        .zip(0u32..)
        .map(|((_, path), slot)| (path, slot))
        .collect();
    let mut slots: HashMap<String, u32> = HashMap::new();
    for rule in &mut rules {
        visit(&mut rule.root, &mut |test| {
            if reads_path(test) {
                test.path_slot = path_slots
                    .get(test.path.as_str())
                    .map(|&slot| Shared { set, slot });
            }
            let Some(key) = key(test).filter(|k| seen.get(k).is_some_and(|n| *n >= 2)) else {
                return;
            };
            let next = u32::try_from(slots.len()).unwrap_or(u32::MAX);
            let slot = *slots.entry(key).or_insert(next);
            test.shared = Some(Shared { set, slot });
        });
    }
    slots.len()
}

/// Whether the test reads the values at its path through the memo (field references read
/// two paths and walk the event).
fn reads_path(test: &FieldTest) -> bool {
    !matches!(test.check, FieldCheck::FieldRef { .. })
}

/// The text two tests share exactly when they are the same test; `None` for a test that is
/// never shared.
fn key(test: &FieldTest) -> Option<String> {
    let intel = |tests: &[ValueTest]| tests.iter().any(|t| matches!(t, ValueTest::Intel(_)));
    let uses_intel = match &test.check {
        FieldCheck::Any(tests) | FieldCheck::NoneOf(tests) => intel(tests),
        FieldCheck::All(groups) => groups.iter().any(|g| intel(g)),
        FieldCheck::Exists(_) | FieldCheck::FieldRef { .. } => false,
    };
    (!uses_intel).then(|| format!("{:?}\u{0}{:?}", test.path, test.check))
}

/// Calls `f` with every field test under `node`.
fn visit(node: &mut Node, f: &mut dyn FnMut(&mut FieldTest)) {
    match node {
        Node::And(children) | Node::Or(children) | Node::AtLeast(_, children) => {
            children.iter_mut().for_each(|c| visit(c, f));
        }
        Node::Not(child) => visit(child, f),
        Node::Field(test) => f(test),
        Node::Keywords(_) | Node::Const(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{load_str, EventMemo, LoadOptions};

    fn rules(detections: &[&str]) -> Vec<Rule> {
        let yaml: Vec<String> = detections
            .iter()
            .enumerate()
            .map(|(i, d)| {
                format!("title: r{i}\nlogsource: {{product: aws, service: cloudtrail}}\ndetection: {d}\n")
            })
            .collect();
        let report = load_str(&yaml.join("---\n"), "r.yml", &LoadOptions::default());
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        report.rules
    }

    fn shared_of(rule: &mut Rule) -> Vec<Option<Shared>> {
        let mut out = Vec::new();
        visit(&mut rule.root, &mut |t| out.push(t.shared));
        out
    }

    #[test]
    fn only_tests_held_twice_are_numbered_and_equal_tests_get_one_slot() {
        let mut set = rules(&[
            "{sel: {userAgent|contains: [kali, parrot]}, condition: sel}",
            "{sel: {userAgent|contains: [kali, parrot], eventName: X}, condition: sel}",
            // Same values, other case handling or kind: other tests.
            "{sel: {userAgent|contains|cased: [kali, parrot]}, condition: sel}",
            "{sel: {userAgent|startswith: [kali, parrot]}, condition: sel}",
            "{sel: {a|re: 'x.y'}, condition: sel}",
            "{sel: {a|re|i: 'x.y'}, condition: sel}",
        ]);
        assert_eq!(share_tests(&mut set), 1);
        let first = shared_of(&mut set[0]);
        let second = shared_of(&mut set[1]);
        assert!(first[0].is_some());
        assert_eq!(first[0], second[0]);
        assert_eq!(second[1], None, "eventName: X is held once");
        for rule in &mut set[2..] {
            assert_eq!(shared_of(rule), vec![None]);
        }
    }

    #[test]
    fn shared_answers_are_those_of_each_rule_alone() {
        let detections = [
            "{sel: {userIdentity.type: AssumedRole}, condition: sel}",
            "{sel: {userIdentity.type: AssumedRole}, f: {userAgent|contains: kali}, condition: sel and not f}",
            "{sel: {userAgent|contains: kali}, condition: sel}",
            "{sel: {userAgent|contains: kali}, condition: not sel}",
            "{sel: {userIdentity.type: AssumedRole, userAgent|contains: kali}, condition: sel}",
            // The same paths read by other tests: values kept per path.
            "{sel: {userIdentity.type: IAMUser}, condition: sel}",
            "{sel: {userIdentity.type|exists: true}, condition: sel}",
            "{sel: {userIdentity.type: null}, condition: sel}",
            "{sel: {userIdentity.type|neq: IAMUser}, condition: sel}",
            "{sel: {userIdentity.type|all: [Assumed*, '*Role']}, condition: sel}",
            "{sel: {tags: b}, condition: sel}",
            "{sel: {tags|contains: a}, condition: sel}",
        ];
        let plain = rules(&detections);
        let mut shared = rules(&detections);
        assert_eq!(share_tests(&mut shared), 2);
        let mut slots: Vec<(String, Option<Shared>)> = Vec::new();
        for rule in &mut shared {
            visit(&mut rule.root, &mut |t| {
                slots.push((t.path.as_str().to_string(), t.path_slot))
            });
        }
        for (path, slot) in slots {
            // `userAgent` is read by one shared test only: its answer is kept, not its values.
            assert_eq!(slot.is_some(), path != "userAgent", "{path}");
        }
        let events = [
            r#"{"userIdentity":{"type":"AssumedRole"},"userAgent":"aws-cli md/distrib#Kali"}"#,
            r#"{"userIdentity":{"type":"AssumedRole"},"userAgent":"boto3","tags":["a","b"]}"#,
            r#"{"userIdentity":{"type":"IAMUser"},"userAgent":"kali","tags":"b"}"#,
            r#"{"userIdentity":{"type":null},"userAgent":"x","tags":[]}"#,
            r#"{"userIdentity":[{"type":"IAMUser"},{"type":"AssumedRole"}]}"#,
            r#"{"userIdentity.type":"AssumedRole","userAgent":"x"}"#,
            r#"{"userAgent":"x"}"#,
        ];
        for json in events {
            let event: sonic_rs::Value = sonic_rs::from_str(json).unwrap();
            let expected: Vec<bool> = plain.iter().map(|r| r.matches(&event)).collect();
            let mut memo = EventMemo::new(&event);
            // Twice through one memo: the second pass answers from it.
            for _ in 0..2 {
                let got: Vec<bool> = shared.iter().map(|r| r.matches_in(&mut memo)).collect();
                assert_eq!(got, expected, "{json}");
            }
        }
    }

    #[test]
    fn a_memo_keeps_the_answers_of_one_set_only() {
        let detections = [
            "{sel: {userAgent|contains: kali}, condition: sel}",
            "{sel: {userAgent|contains: kali}, condition: sel}",
        ];
        let mut one = rules(&detections);
        let mut other = rules(&["{sel: {userAgent|contains: boto}, condition: sel}"; 2]);
        share_tests(&mut one);
        share_tests(&mut other);
        // Both sets number their only shared test 0; the memo must not mix them.
        assert_eq!(shared_of(&mut one[0])[0].map(|s| s.slot), Some(0));
        assert_eq!(shared_of(&mut other[0])[0].map(|s| s.slot), Some(0));
        let event: sonic_rs::Value = sonic_rs::from_str(r#"{"userAgent":"kali"}"#).unwrap();
        let mut memo = EventMemo::new(&event);
        assert!(one[0].matches_in(&mut memo));
        assert!(!other[0].matches_in(&mut memo));
        assert!(!other[1].matches_in(&mut memo));
        assert!(one[1].matches_in(&mut memo));
    }
}
