//! `vigil findings` over a store filled by `vigil detect`.

use crate::common::*;

#[test]
fn suppressed_findings_are_kept_but_not_shown_and_resolve_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let records: Vec<_> = ["StopLogging", "DeleteTrail"]
        .iter()
        .map(|name| cloudtrail_record(name, "cloudtrail.amazonaws.com", "2026-11-20T10:00:00Z"))
        .collect();
    std::fs::write(dir.path().join("t.json"), trail_file(&records)).unwrap();
    let detect = [
        "detect", "t.json", "--store", "s.sqlite", "--format", "jsonl",
    ];
    let first = vigil_in(dir.path(), &detect, None);
    let findings = first.jsonl();
    assert!(findings.len() >= 2, "{}", first.stderr);
    let muted_rule = findings[0]["rule_id"].as_str().unwrap().to_string();
    let suppress = vigil_in(
        dir.path(),
        &[
            "findings",
            "--store",
            "s.sqlite",
            "suppress",
            "--rule",
            &muted_rule,
            "--reason",
            "change ticket 42",
        ],
        None,
    );
    assert_eq!(suppress.code, 0, "{}", suppress.stderr);
    let second = vigil_in(dir.path(), &detect, None);
    assert!(
        second
            .jsonl()
            .iter()
            .all(|f| f["rule_id"] != muted_rule.as_str()),
        "suppressed finding shown"
    );
    let stored = vigil_in(
        dir.path(),
        &[
            "findings",
            "--store",
            "s.sqlite",
            "list",
            "--status",
            "suppressed",
            "--format",
            "jsonl",
        ],
        None,
    );
    assert!(
        stored
            .jsonl()
            .iter()
            .any(|f| f["rule_id"] == muted_rule.as_str()),
        "suppressed finding lost: {}",
        stored.stderr
    );

    let other = findings
        .iter()
        .find(|f| f["rule_id"] != muted_rule.as_str())
        .unwrap();
    let id = other["id"].as_str().unwrap();
    let resolve = vigil_in(
        dir.path(),
        &[
            "findings",
            "--store",
            "s.sqlite",
            "resolve",
            id,
            "--reason",
            "trail restarted",
        ],
        None,
    );
    assert_eq!(resolve.code, 0, "{}", resolve.stderr);
    let show = vigil_in(
        dir.path(),
        &["findings", "--store", "s.sqlite", "show", id],
        None,
    );
    assert!(
        show.stdout.contains("RESOLVED") && show.stdout.contains("trail restarted"),
        "{}",
        show.stdout
    );
}
