//! `vigil rules test`: run every rule's own true-positive and true-negative samples.
//!
//! A test is a list of events and whether the rule must fire on them:
//! - a detection rule fires when any of the events matches it;
//! - a first-seen rule is judged on the last event, the earlier ones being its history: it
//!   fires when the last event matches and its (group, value) was not seen before;
//! - a correlation fires when evaluating all the events (through the rules it references)
//!   yields a hit of that correlation.

use std::collections::HashSet;

use serde::Deserialize;
use vigil_event::{Event, LogSource, Origin};

use crate::ruleset::{LoadedRule, RuleSet};
use crate::worker::joined;

/// The result of one test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestOutcome {
    pub rule_id: String,
    pub file: String,
    pub name: String,
    pub expected: bool,
    pub actual: bool,
    /// Why the test could not run, if it could not.
    pub error: Option<String>,
}

impl TestOutcome {
    /// Whether the rule did what the test expects.
    pub fn passed(&self) -> bool {
        self.error.is_none() && self.expected == self.actual
    }
}

/// What to run: the rules that have tests, and the ones that do not.
pub struct TestReport {
    pub outcomes: Vec<TestOutcome>,
    /// Rules with no true-positive or no true-negative sample.
    pub untested: Vec<String>,
}

/// Runs every test of every rule and correlation in `set`.
pub fn run(set: &RuleSet) -> TestReport {
    let mut outcomes = Vec::new();
    let mut untested = Vec::new();
    for rule in &set.rules {
        let before = outcomes.len();
        for (i, test) in rule.rule.tests.iter().enumerate() {
            let name = test
                .name
                .clone()
                .unwrap_or_else(|| format!("test {}", i + 1));
            let events = to_events(
                &test.events,
                test.source.or(rule.rule.sources.first().copied()),
            );
            let actual = detection_fires(rule, &events);
            outcomes.push(outcome(
                &rule.id,
                &rule.rule.file.display().to_string(),
                name,
                test.expect_match,
                actual,
                None,
            ));
        }
        if !covers_both(&outcomes[before..]) && rule.standalone {
            untested.push(format!("{} ({})", rule.id, rule.rule.file.display()));
        }
    }
    for index in 0..set.correlations.len() {
        let before = outcomes.len();
        outcomes.extend(correlation_tests(set, index));
        if !covers_both(&outcomes[before..]) {
            let rule = set.correlations.rule(index);
            untested.push(format!("{} ({})", rule.title, rule.file.display()));
        }
    }
    TestReport { outcomes, untested }
}

fn covers_both(outcomes: &[TestOutcome]) -> bool {
    outcomes.iter().any(|o| o.expected) && outcomes.iter().any(|o| !o.expected)
}

fn outcome(
    rule_id: &str,
    file: &str,
    name: String,
    expected: bool,
    actual: bool,
    error: Option<String>,
) -> TestOutcome {
    TestOutcome {
        rule_id: rule_id.to_string(),
        file: file.to_string(),
        name,
        expected,
        actual,
        error,
    }
}

fn to_events(docs: &[vigil_event::Value], source: Option<LogSource>) -> Vec<Event> {
    let source = source.unwrap_or(LogSource::CloudTrail);
    docs.iter()
        .enumerate()
        .map(|(i, doc)| Event::new(source, doc.clone(), Origin::new("test", i as u64 + 1)))
        .collect()
}

fn detection_fires(rule: &LoadedRule, events: &[Event]) -> bool {
    let Some(spec) = &rule.meta.first_seen else {
        return events.iter().any(|event| rule.rule.matches(event));
    };
    let Some((last, history)) = events.split_last() else {
        return false;
    };
    let key = |event: &Event| {
        crate::worker::scalar_text(event, &spec.field)
            .map(|value| (joined(event, &spec.group_by), value))
    };
    let seen: HashSet<(String, String)> = history
        .iter()
        .filter(|event| rule.rule.matches(*event))
        .filter_map(key)
        .collect();
    rule.rule.matches(last) && key(last).is_some_and(|k| !seen.contains(&k))
}

#[derive(Debug, Deserialize)]
struct CorrelationTest {
    name: Option<String>,
    #[serde(rename = "match")]
    expect_match: bool,
    event: Option<serde_json::Value>,
    #[serde(default)]
    events: Vec<serde_json::Value>,
    source: Option<String>,
}

fn correlation_tests(set: &RuleSet, index: usize) -> Vec<TestOutcome> {
    let rule = set.correlations.rule(index);
    let file = rule.file.display().to_string();
    let id = rule
        .id
        .clone()
        .or_else(|| rule.name.clone())
        .unwrap_or_else(|| rule.title.clone());
    let Some(tests) = rule.vigil.get("tests") else {
        return Vec::new();
    };
    let tests: Vec<CorrelationTest> = match serde_json::from_value(tests.clone()) {
        Ok(tests) => tests,
        Err(error) => {
            let reason = format!("vigil.tests: {error}");
            return vec![outcome(
                &id,
                &file,
                "tests".into(),
                true,
                false,
                Some(reason),
            )];
        }
    };
    tests
        .into_iter()
        .enumerate()
        .map(|(i, test)| {
            let name = test
                .name
                .clone()
                .unwrap_or_else(|| format!("test {}", i + 1));
            match correlation_fires(set, index, &test) {
                Ok(actual) => outcome(&id, &file, name, test.expect_match, actual, None),
                Err(error) => outcome(&id, &file, name, test.expect_match, false, Some(error)),
            }
        })
        .collect()
}

fn correlation_fires(set: &RuleSet, index: usize, test: &CorrelationTest) -> Result<bool, String> {
    let source = match &test.source {
        Some(name) => Some(name.parse::<LogSource>()?),
        None => None,
    };
    let docs = test
        .event
        .iter()
        .chain(&test.events)
        .map(|json| sonic_rs::from_str(&json.to_string()).map_err(|e| e.to_string()))
        .collect::<Result<Vec<vigil_event::Value>, String>>()?;
    let events = to_events(&docs, source);
    let mut observations = Vec::new();
    for event in &events {
        for (rule_index, rule) in set.rules.iter().enumerate() {
            let routed = rule.rule.sources.contains(&event.source);
            if routed && set.correlations.wants(rule_index) && rule.rule.matches(event) {
                let time = event.time_ms.unwrap_or(0);
                observations.extend(set.correlations.observe(
                    rule_index,
                    time,
                    event,
                    &event.origin,
                ));
            }
        }
    }
    Ok(set
        .correlations
        .evaluate_all(observations)
        .iter()
        .any(|hit| hit.correlation == index))
}
