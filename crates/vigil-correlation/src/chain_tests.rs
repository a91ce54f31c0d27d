//! Chaining (hits of one correlation observed by another) and aliases, end to end through
//! `observe`.

use vigil_event::{Origin, Value};

use crate::test_support::*;
use crate::{CompareOp, CorrelationKind, CorrelationSet, Observation, Text};

/// Base rules: 0 failed_login, 1 successful_login. Correlations: 0 many_failed (event_count
/// >= 3 by User), 1 brute_force (many_failed then successful_login, by User).
fn brute_force() -> CorrelationSet {
    let many = correlation(
        "many_failed",
        CorrelationKind::EventCount,
        &["base_failed"],
        &["User"],
        10 * MINUTE,
    );
    let brute = correlation(
        "brute_force",
        CorrelationKind::TemporalOrdered,
        &["many_failed", "base_success"],
        &["User"],
        10 * MINUTE,
    );
    build_ok(
        vec![with_condition(many, CompareOp::Gte, 3), brute],
        &base_rules(&["failed", "success"]),
    )
}

fn login(
    set: &CorrelationSet,
    rule: usize,
    user: &str,
    time_ms: i64,
    record: u64,
) -> Vec<Observation> {
    let event: Value = sonic_rs::from_str(&format!(r#"{{"User":"{user}"}}"#)).unwrap_or_default();
    set.observe(rule, time_ms, &event, &Origin::new("auth.json", record))
}

#[test]
fn a_hit_is_observed_by_the_correlation_that_references_it() {
    let set = brute_force();
    assert!(!set.reports(0) && set.reports(1));
    assert!(!set.generates(0) && !set.generates(1));
    let mut observations = Vec::new();
    for i in 0..4 {
        observations.extend(login(&set, 0, "mallory", i * MINUTE, i as u64 + 1));
    }
    observations.extend(login(&set, 1, "mallory", 5 * MINUTE, 9));
    observations.extend(login(&set, 1, "alice", 5 * MINUTE, 10));
    let all = set.evaluate_all(observations.clone());
    assert_eq!(
        all.iter().map(|h| h.correlation).collect::<Vec<_>>(),
        vec![0, 1]
    );
    let hits = set.evaluate(observations);
    assert_eq!(hits.len(), 1);
    let hit = &hits[0];
    assert_eq!(
        (hit.correlation, hit.fired_ms, hit.first_ms),
        (1, 5 * MINUTE, 2 * MINUTE)
    );
    assert_eq!(hit.group, vec![("User".to_string(), "mallory".to_string())]);
    let records: Vec<u64> = hit.contributing.iter().map(|o| o.record).collect();
    assert_eq!(
        records,
        vec![1, 2, 3, 4, 9],
        "evidence of the chained hit, then the login"
    );
}

#[test]
fn a_success_before_the_failures_add_up_does_not_chain() {
    let set = brute_force();
    let mut observations = login(&set, 1, "mallory", 0, 1);
    for i in 1..4 {
        observations.extend(login(&set, 0, "mallory", i * MINUTE, i as u64 + 1));
    }
    assert!(set.evaluate(observations.clone()).is_empty());
    assert_eq!(
        set.evaluate_all(observations).len(),
        1,
        "many_failed alone did fire"
    );
}

#[test]
fn three_levels_chain_through_group_fields() {
    // brute_force hits counted per User: two brute forces within a day.
    let repeated = correlation(
        "repeated",
        CorrelationKind::EventCount,
        &["brute_force"],
        &["User"],
        24 * 60 * MINUTE,
    );
    let mut rules: Vec<_> = brute_force().rules().cloned().collect();
    rules.push(with_condition(repeated, CompareOp::Gte, 2));
    let set = build_ok(rules, &base_rules(&["failed", "success"]));
    assert!(!set.reports(1) && set.reports(2));
    let mut observations = Vec::new();
    for round in 0..2i64 {
        let start = round * 60 * MINUTE;
        for i in 0..3 {
            let record = (round * 10 + i) as u64;
            observations.extend(login(&set, 0, "mallory", start + i * MINUTE, record));
        }
        observations.extend(login(
            &set,
            1,
            "mallory",
            start + 4 * MINUTE,
            (round * 10 + 9) as u64,
        ));
    }
    let hits = set.evaluate(observations);
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!((hits[0].correlation, hits[0].count), (2, 2));
    assert_eq!(hits[0].fired_ms, 64 * MINUTE);
}

#[test]
fn aliases_group_different_fields_of_different_rules() {
    let rule = correlation(
        "lateral",
        CorrelationKind::Temporal,
        &["base_error", "base_connection"],
        &["internal_ip"],
        10_000,
    );
    let rule = with_alias(
        rule,
        "internal_ip",
        &[
            ("base_error", "destination.ip"),
            ("connection", "source.ip"),
        ],
    );
    let set = build_ok(vec![rule], &base_rules(&["error", "connection"]));
    let error: Value =
        sonic_rs::from_str(r#"{"destination":{"ip":"10.0.0.5"},"source":{"ip":"203.0.113.1"}}"#)
            .unwrap_or_default();
    let connection: Value =
        sonic_rs::from_str(r#"{"source":{"ip":"10.0.0.5"}}"#).unwrap_or_default();
    let other: Value = sonic_rs::from_str(r#"{"source":{"ip":"10.0.0.6"}}"#).unwrap_or_default();
    let origin = Origin::new("flows", 1);
    let error_obs = set.observe(0, 0, &error, &origin);
    assert_eq!(error_obs[0].group.as_ref(), [Text::from("10.0.0.5")]);
    let mut observations = error_obs.clone();
    observations.extend(set.observe(1, 1000, &other, &origin));
    assert!(set.evaluate(observations.clone()).is_empty());
    observations.extend(set.observe(1, 2000, &connection, &origin));
    let hits = set.evaluate(observations);
    assert_eq!(hits.len(), 1);
    assert_eq!(
        hits[0].group[0],
        ("internal_ip".to_string(), "10.0.0.5".to_string())
    );
}
