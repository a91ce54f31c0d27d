//! `vigil rules list | lint | test`.

use crate::common::*;

#[test]
fn all_57_sigmahq_aws_rules_load() {
    let rules = sigmahq_rules();
    let run = vigil(&[
        "rules",
        "list",
        "--no-builtin",
        "--rules",
        rules.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.lines().count(), 57, "{}", run.stderr);
    assert!(run.stderr.contains("0 not loaded"), "{}", run.stderr);
}

#[test]
fn legacy_aggregation_rules_load_as_correlations() {
    let legacy = repo().join("crates/vigil-sigma/tests/data/sigma/aws-legacy-aggregation");
    let run = vigil(&[
        "rules",
        "list",
        "--no-builtin",
        "--rules",
        legacy.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let correlations = run
        .stdout
        .lines()
        .filter(|l| l.contains("\"correlation\""))
        .count();
    assert!(correlations >= 6, "{}\n{}", run.stdout, run.stderr);
}

#[test]
fn the_builtin_pack_passes_its_own_samples_and_lint() {
    let test = vigil(&["rules", "test"]);
    assert_eq!(test.code, 0, "{}{}", test.stdout, test.stderr);
    assert!(test.stdout.contains(" passed, 0 failed"), "{}", test.stdout);
    let lint = vigil(&["rules", "lint"]);
    assert_eq!(lint.code, 0, "{}{}", lint.stdout, lint.stderr);
}

#[test]
fn a_broken_rule_is_reported_and_the_others_still_load() {
    let dir = tempfile::tempdir().unwrap();
    let good = "title: good\nid: 5f0c4d59-4c4e-4d4b-9a57-3c8f0b7e0a11\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  sel:\n    eventName: StopLogging\n  condition: sel\nlevel: high\n";
    let bad = "title: bad\nid: 5f0c4d59-4c4e-4d4b-9a57-3c8f0b7e0a12\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  sel:\n    eventName|nosuchmodifier: x\n  condition: sel\n";
    std::fs::write(dir.path().join("good.yml"), good).unwrap();
    std::fs::write(dir.path().join("bad.yml"), bad).unwrap();
    let run = vigil_in(
        dir.path(),
        &["rules", "list", "--no-builtin", "--rules", ".", "--json"],
        None,
    );
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("bad.yml:6"),
        "line of the bad modifier missing: {}",
        run.stderr
    );
    let lint = vigil_in(
        dir.path(),
        &["rules", "lint", "--no-builtin", "--rules", "."],
        None,
    );
    assert_eq!(lint.code, 1);
}

/// SigmaHQ's legacy `aws_ses_messaging_enabled` joins two selections that each ask for
/// another `eventName` with `and`: it loads, and lint says it can never match, and why.
#[test]
fn lint_names_a_rule_that_can_never_match() {
    let legacy = repo().join("crates/vigil-sigma/tests/data/sigma/aws-legacy-aggregation");
    let lint = vigil(&[
        "rules",
        "lint",
        "--no-builtin",
        "--rules",
        legacy.to_str().unwrap(),
    ]);
    assert_eq!(lint.code, 1, "{}{}", lint.stdout, lint.stderr);
    let line = lint
        .stdout
        .lines()
        .find(|l| l.contains("can never match"))
        .unwrap_or_else(|| panic!("no never-match problem: {}", lint.stdout));
    assert!(line.contains("aws_ses_messaging_enabled.yml"), "{line}");
    assert!(line.contains("`eventName`"), "{line}");
    assert_eq!(
        lint.stdout.matches("can never match").count(),
        1,
        "{}",
        lint.stdout
    );
}
