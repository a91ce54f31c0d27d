//! Correlation documents load into `vigil_correlation::CorrelationRule`; rule `vigil:`
//! blocks keep their JSON and their tests.

use vigil_correlation::{CompareOp, CorrelationKind};
use vigil_event::LogSource;
use vigil_sigma::{load_str, LoadOptions, RuleTest};

const MULTI: &str = r#"
title: Failed console login
id: 7f1a0000-0000-4000-8000-000000000001
name: failed_login
logsource: {product: aws, service: cloudtrail}
detection:
    sel:
        eventName: ConsoleLogin
        responseElements.ConsoleLogin: Failure
    condition: sel
---
title: Console brute force
id: 7f1a0000-0000-4000-8000-000000000002
status: test
level: high
tags: [attack.credential-access, attack.t1110]
correlation:
    type: event_count
    rules:
        - failed_login
    group-by:
        - sourceIPAddress
    timespan: 10m
    condition:
        gte: 5
        lt: 100
    generate: true
vigil:
    runbook: runbooks/brute-force.md
    tests:
        - name: burst
          match: true
          events: [{eventName: ConsoleLogin}, {eventName: ConsoleLogin}]
---
title: Many principals from one address
correlation:
    type: value_count
    rules: [failed_login]
    group-by: [sourceIPAddress]
    timespan: 1h
    condition:
        field: userIdentity.arn
        gt: 3
---
title: Recon then escalation
correlation:
    type: temporal_ordered
    rules: [recon, escalate]
    group-by: [actor]
    timespan: 2d
    aliases:
        actor:
            recon: userIdentity.arn
            escalate: requestParameters.userName
"#;

#[test]
fn correlation_documents_parse_into_the_typed_rule() {
    let report = load_str(MULTI, "brute.yml", &LoadOptions::default());
    assert!(report.errors.is_empty(), "{:#?}", report.errors);
    assert_eq!(report.rules.len(), 1);
    assert_eq!(report.rules[0].name.as_deref(), Some("failed_login"));
    let [count, values, ordered] = report.correlations.as_slice() else {
        panic!(
            "three correlations expected, got {}",
            report.correlations.len()
        );
    };
    assert_eq!(count.kind, CorrelationKind::EventCount);
    assert_eq!(count.rules, vec!["failed_login"]);
    assert_eq!(count.group_by, vec!["sourceIPAddress"]);
    assert_eq!(count.timespan_ms, 600_000);
    let bounds = &count.condition.as_ref().expect("condition").bounds;
    assert_eq!(bounds, &vec![(CompareOp::Gte, 5), (CompareOp::Lt, 100)]);
    assert!(count.generate);
    assert_eq!(count.level.as_deref(), Some("high"));
    assert_eq!(count.line, 12);
    assert_eq!(count.vigil["runbook"], "runbooks/brute-force.md");
    let tests = RuleTest::parse_all(&count.vigil).expect("tests");
    assert_eq!(tests[0].events.len(), 2);
    assert_eq!(
        values.kind,
        CorrelationKind::ValueCount {
            field: "userIdentity.arn".into()
        }
    );
    assert_eq!(values.timespan_ms, 3_600_000);
    assert!(!values.generate);
    assert_eq!(ordered.kind, CorrelationKind::TemporalOrdered);
    assert!(ordered.condition.is_none());
    assert_eq!(ordered.aliases[0].name, "actor");
    assert_eq!(
        ordered.aliases[0].per_rule,
        vec![
            ("recon".into(), "userIdentity.arn".into()),
            ("escalate".into(), "requestParameters.userName".into())
        ]
    );
}

#[test]
fn bad_correlations_are_reported_at_the_offending_line() {
    let cases = [
        ("correlation:\n    type: event_count\n    rules: [a]\n    timespan: 5m\n", "needs a `condition`"),
        ("correlation:\n    type: value_count\n    rules: [a]\n    timespan: 5m\n    condition:\n        gt: 1\n", "needs `field`"),
        ("correlation:\n    type: sequence\n    rules: [a]\n    timespan: 5m\n", "unknown correlation type"),
        ("correlation:\n    type: temporal\n    rules: [a, b]\n    timespan: 5 minutes\n", "timespan"),
        ("correlation:\n    type: temporal\n    rules: []\n    timespan: 5m\n", "non-empty `rules`"),
        ("correlation:\n    type: event_count\n    rules: [a]\n    timespan: 5m\n    condition:\n        over: 3\n", "unknown condition operator"),
    ];
    for (body, expected) in cases {
        let report = load_str(
            &format!("title: c\n{body}"),
            "c.yml",
            &LoadOptions::default(),
        );
        assert_eq!(report.errors.len(), 1, "{body}");
        assert!(
            report.errors[0].reason.contains(expected),
            "{}",
            report.errors[0].reason
        );
        assert!(report.errors[0].line >= 2, "{body}");
    }
}

#[test]
fn rule_vigil_block_and_tests_are_kept() {
    let text = r#"
title: Flow to a mining port
id: f10w0000-0000-4000-8000-000000000001
logsource: {product: aws, service: vpcflowlogs}
detection:
    sel:
        dstport: [3333, 4444]
        action: ACCEPT
    condition: sel
vigil:
    runbook: runbooks/mining.md
    dedup: [srcaddr]
    tests:
        - name: pool connection
          match: true
          source: vpcflow
          event: {srcaddr: 10.0.0.5, dstaddr: 203.0.113.10, dstport: 3333, action: ACCEPT}
        - match: false
          source: vpcflow
          event: {srcaddr: 10.0.0.5, dstaddr: 203.0.113.10, dstport: 443, action: ACCEPT}
"#;
    let report = load_str(text, "mining.yml", &LoadOptions::default());
    assert!(report.errors.is_empty(), "{:#?}", report.errors);
    let rule = &report.rules[0];
    assert_eq!(rule.sources, vec![LogSource::VpcFlow]);
    assert_eq!(rule.vigil["dedup"][0], "srcaddr");
    assert_eq!(rule.tests.len(), 2);
    for test in &rule.tests {
        assert_eq!(test.source, Some(LogSource::VpcFlow));
        assert_eq!(
            rule.matches(&test.events[0]),
            test.expect_match,
            "{:?}",
            test.name
        );
    }
}

#[test]
fn a_bad_test_is_reported_at_its_line() {
    let text = "title: t\nid: t\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n    sel: {a: 1}\n    condition: sel\nvigil:\n    tests:\n        - match: true\n          event: {a: 1}\n        - event: {a: 2}\n";
    let report = load_str(text, "t.yml", &LoadOptions::default());
    assert_eq!(report.errors.len(), 1);
    assert_eq!(report.errors[0].line, 11);
    assert!(report.errors[0]
        .reason
        .contains("`match: true|false` is required"));
}
