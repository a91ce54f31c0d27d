//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

use vigil_event::{Event, LogSource, Origin, Value};
use vigil_sigma::{load_str, LoadOptions, LoadReport, Rule};

/// The bundled SigmaHQ data (`tests/data/sigma`).
pub fn sigma_data(folder: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/sigma")
        .join(folder)
}

/// A CloudTrail event from JSON text.
pub fn event(json: &str) -> Event {
    let doc: Value = sonic_rs::from_str(json).expect("test event is valid JSON");
    Event::new(LogSource::CloudTrail, doc, Origin::new("test.json", 1))
}

/// A rule document around a `detection:` block (indented by four spaces inside).
pub fn rule_yaml(detection: &str) -> String {
    let body: String = detection.lines().map(|l| format!("    {l}\n")).collect();
    format!(
        "title: test rule\nid: test-rule\nlogsource:\n    product: aws\n    service: cloudtrail\ndetection:\n{body}"
    )
}

/// Loads one rule with `options`, failing the test on any load error.
pub fn rule_with(detection: &str, options: &LoadOptions) -> Rule {
    let report = load_str(&rule_yaml(detection), "test.yml", options);
    assert!(
        report.errors.is_empty(),
        "unexpected errors: {:?}",
        report.errors
    );
    assert_eq!(report.rules.len(), 1);
    report.rules.into_iter().next().expect("one rule")
}

/// Loads one rule with default options.
pub fn rule(detection: &str) -> Rule {
    rule_with(detection, &LoadOptions::default())
}

/// Loads a detection expected to fail, returning the report.
pub fn load_bad(detection: &str) -> LoadReport {
    load_str(&rule_yaml(detection), "bad.yml", &LoadOptions::default())
}

/// Whether `rule` matches the CloudTrail event `json`, checking that evaluation through an
/// [`vigil_sigma::EventMemo`] (as the engine does it) agrees.
pub fn hits(rule: &Rule, json: &str) -> bool {
    let event = event(json);
    let alone = rule.matches(&event);
    let keyed = vigil_event::KeyedEvent::new(&event);
    let mut memo = vigil_sigma::EventMemo::new(&keyed);
    assert_eq!(
        rule.matches_in(&mut memo),
        alone,
        "evaluation through a memo disagrees on {json}"
    );
    // A second rule evaluation on the same memo answers from what the first remembered.
    assert_eq!(rule.matches_in(&mut memo), alone, "memo reuse on {json}");
    alone
}
