//! Bad rules produce LoadErrors naming the line of the offending element, and every other
//! rule in the same file or directory still loads.

mod common;

use std::fs;

use common::load_bad;
use vigil_sigma::{load_path, load_str, LoadOptions};

/// The line and reason of the single error of a bad detection (rule header is 6 lines).
fn error_of(detection: &str) -> (usize, String) {
    let report = load_bad(detection);
    assert!(report.rules.is_empty(), "the bad rule must not load");
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    let error = &report.errors[0];
    (error.line, error.reason.clone())
}

#[test]
fn unknown_modifier_is_reported_at_its_key() {
    let (line, reason) =
        error_of("sel:\n    eventName: x\n    userAgent|contians: y\ncondition: sel");
    assert_eq!(line, 9);
    assert!(reason.contains("unknown modifier `contians`"), "{reason}");
}

#[test]
fn undefined_selection_is_reported_at_the_condition() {
    let (line, reason) = error_of("sel:\n    eventName: x\ncondition: sel and not filter");
    assert_eq!(line, 9);
    assert!(reason.contains("undefined selection `filter`"), "{reason}");
}

#[test]
fn pattern_matching_nothing_is_reported() {
    let (line, reason) = error_of("sel:\n    eventName: x\ncondition: sel and not 1 of filter_*");
    assert_eq!(line, 9);
    assert!(reason.contains("matches no selection"), "{reason}");
}

#[test]
fn bad_regex_is_reported_at_its_value() {
    let (line, reason) = error_of("sel:\n    eventName: x\n    userAgent|re:\n        - 'ok'\n        - '(unclosed'\ncondition: sel");
    assert_eq!(line, 11);
    assert!(reason.contains("invalid regular expression"), "{reason}");
}

#[test]
fn unknown_placeholder_is_reported() {
    let (line, reason) =
        error_of("sel:\n    recipientAccountId|expand: '%trusted%'\ncondition: sel");
    assert_eq!(line, 8);
    assert!(
        reason.contains("unknown placeholder `%trusted%`"),
        "{reason}"
    );
}

#[test]
fn invalid_modifier_combinations_are_reported() {
    let (line, reason) = error_of("sel:\n    sourceIPAddress|cidr: not-an-ip\ncondition: sel");
    assert_eq!(line, 8);
    assert!(reason.contains("not an IPv4 or IPv6 network"), "{reason}");
    let (_, reason) = error_of("sel:\n    a|contains|endswith: x\ncondition: sel");
    assert!(reason.contains("cannot be combined"), "{reason}");
    let (_, reason) = error_of("sel:\n    a|exists: maybe\ncondition: sel");
    assert!(reason.contains("`true` or `false`"), "{reason}");
    let (_, reason) = error_of("sel:\n    a|intel: tor\ncondition: sel");
    assert!(reason.contains("no threat-intel lists"), "{reason}");
}

#[test]
fn malformed_condition_and_missing_parts_are_reported() {
    let (line, reason) = error_of("sel:\n    a: 1\ncondition: sel and");
    assert_eq!(line, 9);
    assert!(reason.contains("condition"), "{reason}");
    let (line, reason) = error_of("sel:\n    a: 1");
    assert_eq!(line, 6);
    assert!(reason.contains("no `condition`"), "{reason}");
    let (line, _) = error_of("sel:\ncondition: sel");
    assert_eq!(line, 7);
}

#[test]
fn unknown_logsource_is_reported_at_the_logsource() {
    let text = "title: t\nid: x\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n    sel:\n        a: 1\n    condition: sel\n";
    let report = load_str(text, "win.yml", &LoadOptions::default());
    assert_eq!(report.errors.len(), 1);
    assert_eq!(report.errors[0].line, 3);
    assert!(
        report.errors[0].reason.contains("product: windows"),
        "{}",
        report.errors[0].reason
    );
}

#[test]
fn bad_yaml_is_reported_with_its_line() {
    let report = load_str(
        "title: t\ndetection:\n  sel: [a, b\n  condition: sel\n",
        "broken.yml",
        &LoadOptions::default(),
    );
    assert_eq!(report.errors.len(), 1);
    assert!(report.errors[0].reason.starts_with("invalid YAML"));
    assert!(report.errors[0].line >= 3, "line {}", report.errors[0].line);
}

#[test]
fn other_documents_and_files_still_load() {
    let dir = std::env::temp_dir().join(format!("vigil-sigma-errors-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("nested")).expect("temp dir");
    let good = |id: &str| {
        format!("title: good {id}\nid: {id}\nlogsource: {{product: aws, service: cloudtrail}}\ndetection:\n    sel:\n        eventName: X\n    condition: sel\n")
    };
    let bad_modifier = "title: bad\nid: bad-1\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n    sel:\n        eventName|nope: X\n    condition: sel\n";
    fs::write(
        dir.join("a.yml"),
        format!("{}---\n{bad_modifier}---\n{}", good("g1"), good("g2")),
    )
    .expect("write");
    fs::write(dir.join("b.yaml"), "title: [broken\n").expect("write");
    fs::write(dir.join("nested/c.yml"), good("g3")).expect("write");
    fs::write(dir.join("nested/dup.yml"), good("g1")).expect("write");
    fs::write(dir.join("notes.txt"), "not a rule").expect("write");
    let report = load_path(&dir, &LoadOptions::default());
    let mut ids: Vec<&str> = report.rules.iter().map(|r| r.id.as_str()).collect();
    ids.sort();
    assert_eq!(ids, vec!["g1", "g2", "g3"]);
    let mut problems: Vec<(String, usize)> = report
        .errors
        .iter()
        .map(|e| {
            (
                e.file
                    .file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                e.line,
            )
        })
        .collect();
    problems.sort();
    assert_eq!(problems.len(), 3, "{:#?}", report.errors);
    assert_eq!(
        problems[0],
        ("a.yml".to_string(), 14),
        "bad modifier line in the second document"
    );
    assert_eq!(problems[1].0, "b.yaml");
    assert_eq!(problems[2], ("dup.yml".to_string(), 1));
    assert!(report
        .errors
        .iter()
        .any(|e| e.reason.contains("duplicate rule id `g1`")));
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn unsupported_documents_are_rejected_with_a_reason() {
    let global = "action: global\ntitle: t\n---\ntitle: other\n";
    let report = load_str(global, "v1.yml", &LoadOptions::default());
    assert_eq!(report.errors.len(), 2);
    assert!(report.errors[0].reason.contains("rule collections"));
    assert!(report.errors[1].reason.contains("neither a detection rule"));
    let missing_file = load_path("/nonexistent/vigil/rules", &LoadOptions::default());
    assert_eq!(missing_file.errors.len(), 1);
    assert_eq!(missing_file.errors[0].line, 0);
}
