//! Evaluation of every correlation type on hand-built observations.

use crate::test_support::*;
use crate::{CompareOp, CorrelationHit, CorrelationKind, CorrelationSet, MAX_CONTRIBUTING};

/// One event_count correlation over base rule `a`, grouped by user.
fn counting(op: CompareOp, bound: u64, timespan_ms: i64) -> CorrelationSet {
    let rule = correlation(
        "count",
        CorrelationKind::EventCount,
        &["a"],
        &["user"],
        timespan_ms,
    );
    build_ok(vec![with_condition(rule, op, bound)], &base_rules(&["a"]))
}

fn fired(hits: &[CorrelationHit]) -> Vec<i64> {
    hits.iter().map(|hit| hit.fired_ms).collect()
}

#[test]
fn event_count_threshold_below_at_and_above_the_bound() {
    let gte = counting(CompareOp::Gte, 5, 10 * MINUTE);
    assert!(gte.evaluate(burst("alice", 0, 1000, 4)).is_empty());
    assert_eq!(gte.evaluate(burst("alice", 0, 1000, 5)).len(), 1);
    let gt = counting(CompareOp::Gt, 5, 10 * MINUTE);
    assert!(gt.evaluate(burst("alice", 0, 1000, 5)).is_empty());
    let hits = gt.evaluate(burst("alice", 0, 1000, 6));
    assert_eq!(fired(&hits), vec![5000]);
    assert_eq!(hits[0].count, 6);
    assert_eq!(
        hits[0].group,
        vec![("user".to_string(), "alice".to_string())]
    );
}

#[test]
fn window_of_exactly_the_timespan_fits_and_one_millisecond_more_misses() {
    let set = counting(CompareOp::Gte, 3, 10 * MINUTE);
    let fits = burst("alice", 0, 5 * MINUTE, 3); // 0, 5m, 10m
    assert_eq!(set.evaluate(fits).len(), 1);
    let mut misses = burst("alice", 0, 5 * MINUTE, 3);
    misses[2].time_ms += 1;
    assert!(set.evaluate(misses).is_empty());
}

#[test]
fn groups_are_counted_apart() {
    let set = counting(CompareOp::Gte, 3, 10 * MINUTE);
    let mut observations = burst("alice", 0, 1000, 3);
    observations.extend(burst("bob", 0, 1000, 2));
    let hits = set.evaluate(observations);
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].group[0].1, "alice");
}

#[test]
fn input_order_does_not_change_the_hits() {
    let set = counting(CompareOp::Gte, 3, 10 * MINUTE);
    let mut observations = burst("alice", 0, 4 * MINUTE, 12);
    observations.extend(burst("bob", 30_000, 2 * MINUTE, 12));
    let expected = set.evaluate(observations.clone());
    assert!(expected.len() >= 2);
    let mut reversed = observations.clone();
    reversed.reverse();
    assert_eq!(set.evaluate(reversed), expected);
    let mut interleaved = observations.clone();
    interleaved.sort_by_key(|o| (o.origin.record % 3, std::cmp::Reverse(o.time_ms)));
    assert_eq!(set.evaluate(interleaved), expected);
}

#[test]
fn a_burst_of_100_fires_once_per_window() {
    let set = counting(CompareOp::Gt, 5, 10 * MINUTE);
    let hits = set.evaluate(burst("alice", 0, 1000, 100));
    assert_eq!(hits.len(), 1);
    let hit = &hits[0];
    assert_eq!((hit.first_ms, hit.fired_ms, hit.last_ms), (0, 5000, 99_000));
    assert_eq!(hit.count, 100);
    assert_eq!(hit.contributing.len(), MAX_CONTRIBUTING);
    assert_eq!(hit.contributing[0].record, 1);
}

#[test]
fn a_sustained_stream_fires_again_only_after_the_window_passed() {
    let timespan = 10 * MINUTE;
    let set = counting(CompareOp::Gte, 3, timespan);
    let hits = set.evaluate(burst("alice", 0, MINUTE, 60));
    assert!(hits.len() >= 3, "{hits:?}");
    for pair in hits.windows(2) {
        assert!(pair[1].first_ms > pair[0].fired_ms + timespan, "{pair:?}");
    }
    let counted: u64 = hits.iter().map(|hit| hit.count).sum();
    assert_eq!(counted, 60, "every event is counted in exactly one hit");
}

#[test]
fn fewer_than_fires_when_a_window_closes_below_the_bound() {
    let hour = 60 * MINUTE;
    let set = counting(CompareOp::Lt, 3, hour);
    let mut observations = vec![
        observation(0, 0, 0, 1, &["quiet"], None),
        observation(0, 0, 10 * MINUTE, 2, &["quiet"], None),
        // After the first window's end: closes it, opens a second one.
        observation(0, 0, 2 * hour, 3, &["quiet"], None),
    ];
    observations
        .extend((0..3).map(|i| observation(0, 0, i * MINUTE, 10 + i as u64, &["busy"], None)));
    let hits = set.evaluate(observations);
    assert_eq!(fired(&hits), vec![hour, 3 * hour]);
    assert!(hits.iter().all(|hit| hit.group[0].1 == "quiet"));
    assert_eq!((hits[0].count, hits[1].count), (2, 1));
}

#[test]
fn equal_and_range_conditions_are_decided_at_window_close() {
    let set = counting(CompareOp::Eq, 3, 10 * MINUTE);
    assert!(set.evaluate(burst("alice", 0, 1000, 2)).is_empty());
    assert_eq!(set.evaluate(burst("alice", 0, 1000, 3)).len(), 1);
    assert!(set.evaluate(burst("alice", 0, 1000, 4)).is_empty());
}

fn distinct_users(bound: u64) -> CorrelationSet {
    let kind = CorrelationKind::ValueCount {
        field: "target".into(),
    };
    let rule = correlation("spray", kind, &["a"], &["ip"], 10 * MINUTE);
    build_ok(
        vec![with_condition(rule, CompareOp::Gte, bound)],
        &base_rules(&["a"]),
    )
}

#[test]
fn value_count_counts_distinct_values_not_repeats() {
    let set = distinct_users(3);
    let values = ["u1", "u1", "u2", "u2", "u1", "u3"];
    let observations: Vec<_> = (0..values.len())
        .map(|i| {
            observation(
                0,
                0,
                i as i64 * 1000,
                i as u64 + 1,
                &["ip1"],
                Some(values[i]),
            )
        })
        .collect();
    let hits = set.evaluate(observations.clone());
    assert_eq!(hits.len(), 1);
    assert_eq!((hits[0].count, hits[0].distinct), (6, Some(3)));
    assert_eq!(hits[0].fired_ms, 5000);
    let repeats: Vec<_> = observations.into_iter().take(5).collect();
    assert!(set.evaluate(repeats).is_empty(), "two distinct values only");
}

#[test]
fn value_count_forgets_values_that_left_the_window() {
    let set = distinct_users(3);
    let observations = vec![
        observation(0, 0, 0, 1, &["ip1"], Some("u1")),
        observation(0, 0, 9 * MINUTE, 2, &["ip1"], Some("u2")),
        observation(0, 0, 11 * MINUTE, 3, &["ip1"], Some("u3")),
    ];
    assert!(set.evaluate(observations).is_empty());
}

fn temporal_pair(kind: CorrelationKind) -> CorrelationSet {
    let rule = correlation("seq", kind, &["a", "b", "c"], &["user"], 10 * MINUTE);
    build_ok(vec![rule], &base_rules(&["a", "b", "c"]))
}

fn steps(members: &[usize], step_ms: i64) -> Vec<crate::Observation> {
    members
        .iter()
        .enumerate()
        .map(|(i, &m)| observation(0, m, i as i64 * step_ms, i as u64 + 1, &["alice"], None))
        .collect()
}

#[test]
fn temporal_accepts_any_order_and_temporal_ordered_only_the_listed_one() {
    let temporal = temporal_pair(CorrelationKind::Temporal);
    let ordered = temporal_pair(CorrelationKind::TemporalOrdered);
    let in_order = steps(&[0, 1, 2], MINUTE);
    let reversed = steps(&[2, 1, 0], MINUTE);
    assert_eq!(temporal.evaluate(in_order.clone()).len(), 1);
    assert_eq!(temporal.evaluate(reversed.clone()).len(), 1);
    assert_eq!(ordered.evaluate(in_order).len(), 1);
    assert!(ordered.evaluate(reversed).is_empty());
    let hit = &ordered.evaluate(steps(&[1, 0, 1, 2], MINUTE))[0];
    assert_eq!(
        (hit.fired_ms, hit.count, hit.distinct),
        (3 * MINUTE, 4, Some(3))
    );
}

#[test]
fn temporal_needs_every_rule_inside_one_window() {
    let temporal = temporal_pair(CorrelationKind::Temporal);
    assert!(temporal.evaluate(steps(&[0, 1, 2], 6 * MINUTE)).is_empty());
    let ordered = temporal_pair(CorrelationKind::TemporalOrdered);
    assert!(ordered.evaluate(steps(&[0, 1, 2], 6 * MINUTE)).is_empty());
    // a at 0 is too old when c arrives at 16m; the second a at 8m starts a run that fits.
    let late_start = steps(&[0, 1, 0, 1, 2], 4 * MINUTE);
    assert_eq!(fired(&ordered.evaluate(late_start)), vec![16 * MINUTE]);
}

#[test]
fn temporal_condition_asks_for_some_of_the_rules() {
    let rule = correlation(
        "two",
        CorrelationKind::Temporal,
        &["a", "b", "c"],
        &["user"],
        MINUTE,
    );
    let set = build_ok(
        vec![with_condition(rule, CompareOp::Gte, 2)],
        &base_rules(&["a", "b", "c"]),
    );
    assert!(set.evaluate(steps(&[1, 1, 1], 1000)).is_empty());
    assert_eq!(set.evaluate(steps(&[1, 1, 2], 1000)).len(), 1);
}

#[test]
fn equal_groups_from_different_interners_are_one_group() {
    // Two workers intern the same ARN separately: their groups are different allocations
    // with the same values and must be evaluated as one window.
    let set = counting(CompareOp::Gte, 4, 10 * MINUTE);
    let event: vigil_event::Value = sonic_rs::from_str(r#"{"user":"alice"}"#).unwrap();
    let (mut first, mut second) = (crate::Interner::default(), crate::Interner::default());
    let mut observations = Vec::new();
    for i in 0..4u64 {
        let interner = if i % 2 == 0 { &mut first } else { &mut second };
        let origin = vigil_event::Origin::new("f", i + 1);
        let time = i64::try_from(i).unwrap() * 1000;
        set.observe_into(0, time, &event, &origin, interner, &mut observations);
    }
    assert!(!std::sync::Arc::ptr_eq(
        &observations[0].group,
        &observations[1].group
    ));
    assert!(std::sync::Arc::ptr_eq(
        &observations[0].group,
        &observations[2].group
    ));
    let hits = set.evaluate(observations);
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].count, 4);
}

#[test]
fn observations_of_several_correlations_are_evaluated_apart_in_any_order() {
    let by_user = correlation("u", CorrelationKind::EventCount, &["a"], &["user"], MINUTE);
    let by_ip = correlation("i", CorrelationKind::EventCount, &["a"], &["ip"], MINUTE);
    let set = build_ok(
        vec![
            with_condition(by_user, CompareOp::Gte, 3),
            with_condition(by_ip, CompareOp::Gte, 2),
        ],
        &base_rules(&["a"]),
    );
    let mut observations = Vec::new();
    for i in 0..3u64 {
        let json = format!(r#"{{"user":"alice","ip":"10.0.0.{}"}}"#, i % 2);
        let event: vigil_event::Value = sonic_rs::from_str(&json).unwrap();
        let origin = vigil_event::Origin::new("f", i + 1);
        let time = i64::try_from(i).unwrap() * 1000;
        observations.extend(set.observe(0, time, &event, &origin));
    }
    let forward = set.evaluate(observations.clone());
    observations.reverse();
    assert_eq!(set.evaluate(observations), forward);
    let summary: Vec<(usize, String, u64)> = forward
        .iter()
        .map(|h| (h.correlation, h.group[0].1.clone(), h.count))
        .collect();
    assert_eq!(
        summary,
        // Both fire at 2000 (alice's third event; 10.0.0.0's second): by correlation then.
        vec![(0, "alice".to_string(), 3), (1, "10.0.0.0".to_string(), 2)]
    );
}
