//! `vigil detect` end to end.

use crate::common::*;

fn stop_logging_burst(dir: &std::path::Path) {
    let records: Vec<_> = (0..5)
        .map(|i| {
            cloudtrail_record(
                "StopLogging",
                "cloudtrail.amazonaws.com",
                &format!("2026-11-20T10:0{i}:00Z"),
            )
        })
        .collect();
    std::fs::write(dir.join("trail.json.gz"), gzip(&trail_file(&records))).unwrap();
}

#[test]
fn the_example_incident_fires_every_expected_rule() {
    let run = vigil(&[
        "detect",
        "examples/incident/logs",
        "--intel",
        "examples/intel",
        "--geoip",
        "examples/intel/geo.csv",
        "--store",
        "none",
        "--format",
        "jsonl",
        "--no-progress",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let fired: std::collections::BTreeSet<String> = run
        .jsonl()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap().to_string())
        .collect();
    let expected = std::fs::read_to_string(repo().join("examples/incident/expected.txt")).unwrap();
    let expected: Vec<&str> = expected
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .collect();
    assert!(expected.len() >= 5, "expected.txt lists too few rules");
    let missing: Vec<_> = expected.iter().filter(|id| !fired.contains(**id)).collect();
    assert!(
        missing.is_empty(),
        "rules that did not fire: {missing:?}\nfired: {fired:?}"
    );
    let (read, evaluated, rejected) = run.counts();
    assert_eq!(read, evaluated + rejected);
    assert_eq!(
        rejected, 0,
        "the example has no bad records: {}",
        run.stderr
    );
    // Every finding carries evidence, correlations included (their records are read back
    // from the files after evaluation).
    let findings = run.jsonl();
    for finding in &findings {
        let samples = finding["samples"].as_array();
        assert!(
            samples.is_some_and(|s| !s.is_empty()),
            "no evidence: {finding}"
        );
    }
    assert!(findings.iter().any(|f| f["rule_kind"] == "correlation"));
    // An event is the same record in every finding that shows it, whether the record was
    // kept while reading (standalone rules) or read back at the end (correlations,
    // first-seen baselines): geo enrichment included.
    let mut records: std::collections::BTreeMap<String, &serde_json::Value> = Default::default();
    let mut shared = 0;
    let mut located = 0;
    for sample in findings
        .iter()
        .flat_map(|f| f["samples"].as_array().unwrap())
    {
        let origin = sample["origin"].as_str().unwrap().to_string();
        located += usize::from(sample["record"]["vigil"]["geo"].is_object());
        match records.get(&origin) {
            Some(seen) => {
                shared += 1;
                assert_eq!(*seen, &sample["record"], "{origin}");
            }
            None => {
                records.insert(origin, &sample["record"]);
            }
        }
    }
    assert!(
        shared > 0 && located > 0,
        "{shared} shared, {located} located"
    );
    let kinds = |kind: &str| findings.iter().filter(|f| f["rule_kind"] == kind).count();
    assert!(kinds("first_seen") > 0 && kinds("sigma") > 0);
}

#[test]
fn a_burst_is_one_finding_with_a_count_and_jsonl_carries_the_evidence() {
    let dir = tempfile::tempdir().unwrap();
    stop_logging_burst(dir.path());
    let run = vigil_in(
        dir.path(),
        &["detect", ".", "--store", "none", "--format", "jsonl"],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let findings = run.jsonl();
    let stop: Vec<_> = findings
        .iter()
        .filter(|f| {
            f["title"]
                .as_str()
                .unwrap_or("")
                .to_lowercase()
                .contains("logging")
        })
        .collect();
    assert!(!stop.is_empty(), "no logging finding in {findings:?}");
    let finding = stop[0];
    assert_eq!(finding["event_count"], 5);
    for key in [
        "id",
        "rule_id",
        "tags",
        "samples",
        "severity",
        "first_seen",
        "last_seen",
    ] {
        assert!(finding.get(key).is_some(), "{key} missing in {finding}");
    }
    assert_eq!(finding["samples"][0]["record"]["eventName"], "StopLogging");
}

#[test]
fn detecting_the_same_input_twice_leaves_the_same_findings() {
    let dir = tempfile::tempdir().unwrap();
    stop_logging_burst(dir.path());
    let args = [
        "detect",
        "trail.json.gz",
        "--store",
        "store.sqlite",
        "--format",
        "jsonl",
    ];
    let first = vigil_in(dir.path(), &args, None);
    let second = vigil_in(dir.path(), &args, None);
    assert_eq!(
        (first.code, second.code),
        (0, 0),
        "{}{}",
        first.stderr,
        second.stderr
    );
    let list = vigil_in(
        dir.path(),
        &[
            "findings",
            "--store",
            "store.sqlite",
            "list",
            "--format",
            "jsonl",
        ],
        None,
    );
    let stored = list.jsonl();
    assert_eq!(stored.len(), first.jsonl().len(), "{}", list.stderr);
    let counts: Vec<_> = stored
        .iter()
        .map(|f| f["event_count"].as_u64().unwrap())
        .collect();
    assert!(counts.contains(&5), "counts doubled or lost: {counts:?}");
}

/// A finding seen in several files is stored as one part per file, and each part holds the
/// evidence records read from its own file, each record once: the stored finding (the merge
/// of its parts) is the one detected, evidence included.
#[test]
fn each_input_stores_its_own_evidence_records_once() {
    let dir = tempfile::tempdir().unwrap();
    let records: Vec<_> = (0..5)
        .map(|i| {
            cloudtrail_record(
                "StopLogging",
                "cloudtrail.amazonaws.com",
                &format!("2026-11-20T10:0{i}:00Z"),
            )
        })
        .collect();
    let files = ["a.json.gz", "b.json.gz", "c.json.gz"];
    for (file, part) in files
        .iter()
        .zip([&records[..2], &records[2..4], &records[4..]])
    {
        std::fs::write(dir.path().join(file), gzip(&trail_file(part))).unwrap();
    }
    let mut args = vec!["detect", "--store", "store.sqlite", "--format", "jsonl"];
    args.extend(files);
    let run = vigil_in(dir.path(), &args, None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let detected: Vec<serde_json::Value> = run
        .jsonl()
        .into_iter()
        .filter(|f| f["event_count"] == 5)
        .collect();
    assert!(
        !detected.is_empty(),
        "no finding of the burst: {}",
        run.stdout
    );
    let list = [
        "findings",
        "--store",
        "store.sqlite",
        "list",
        "--format",
        "jsonl",
    ];
    let stored = vigil_in(dir.path(), &list, None).jsonl();
    let db = rusqlite::Connection::open(dir.path().join("store.sqlite")).unwrap();
    for finding in &detected {
        let id = finding["id"].as_str().unwrap();
        let kept = stored.iter().find(|f| f["id"] == id).expect("stored");
        assert_eq!(kept["samples"], finding["samples"]);
        let origin = |sample: &serde_json::Value| sample["origin"].as_str().unwrap().to_string();
        let mut expected: Vec<String> = finding["samples"]
            .as_array()
            .unwrap()
            .iter()
            .map(origin)
            .collect();
        assert_eq!(expected.len(), 5, "{finding}");
        let mut statement = db
            .prepare("SELECT input_key, body FROM contributions WHERE finding_id = ?1")
            .unwrap();
        let rows: Vec<(String, String)> = statement
            .query_map([id], |row| Ok((row.get(0)?, row.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows.len(), 3, "one part per file");
        let mut found = Vec::new();
        for (input_key, body) in rows {
            let part: serde_json::Value = serde_json::from_str(&body).unwrap();
            for sample in part["samples"].as_array().unwrap() {
                let origin = origin(sample);
                let file = origin.rsplit_once(':').unwrap().0;
                assert!(
                    input_key.ends_with(file),
                    "{origin} stored in {input_key}'s part"
                );
                found.push(origin);
            }
        }
        found.sort();
        expected.sort();
        assert_eq!(found, expected, "each record stored once");
    }
}

#[test]
fn output_does_not_depend_on_the_number_of_threads() {
    let samples = aws_samples();
    let samples = samples.to_str().unwrap();
    let rules = sigmahq_rules();
    let run = |threads: &str| {
        vigil(&[
            "detect",
            samples,
            "--rules",
            rules.to_str().unwrap(),
            "--store",
            "none",
            "--format",
            "jsonl",
            "--threads",
            threads,
        ])
    };
    let one = run("1");
    let two = run("2");
    assert!(!one.stdout.is_empty(), "{}", one.stderr);
    assert_eq!(one.stdout, two.stdout);
}

/// With no memory for correlation observations (then for finding drafts), every one is
/// spilled to a temporary file and merged back: the findings (correlations included) are the
/// same as in memory.
#[test]
fn spilling_correlation_observations_changes_no_finding() {
    let incident = repo().join("examples/incident");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "detect",
            incident.to_str().unwrap(),
            "--store",
            "none",
            "--format",
            "jsonl",
        ];
        args.extend_from_slice(extra);
        vigil(&args)
    };
    let in_memory = run(&[]);
    let spilled = run(&["--correlation-memory", "0"]);
    assert!(
        in_memory.stdout.contains("\"rule_kind\":\"correlation\""),
        "the example has correlation findings: {}",
        in_memory.stderr
    );
    assert_eq!(in_memory.stdout, spilled.stdout, "{}", spilled.stderr);
    // With no memory for finding drafts either, every draft is spilled and merged back too.
    let drafts_spilled = run(&["--correlation-memory", "0", "--finding-memory", "0"]);
    let spilled_drafts = |stderr: &str| {
        let (_, after) = stderr.split_once(" correlation observations, ")?;
        after.split_once(' ')?.0.parse::<u64>().ok()
    };
    assert_eq!(
        spilled_drafts(&in_memory.stderr),
        None,
        "{}",
        in_memory.stderr
    );
    assert!(
        spilled_drafts(&drafts_spilled.stderr).is_some_and(|n| n > 0),
        "{}",
        drafts_spilled.stderr
    );
    assert_eq!(
        in_memory.stdout, drafts_spilled.stdout,
        "{}",
        drafts_spilled.stderr
    );
}

/// With no memory for findings on their way out, every finding is sorted into a run of its
/// own on disk and the runs are merged back while the output and the store are written in
/// chunks: the output (order included) and what the store holds are the same as in memory.
#[test]
fn streaming_findings_through_spilled_runs_changes_no_output_and_no_stored_finding() {
    let dir = tempfile::tempdir().unwrap();
    let incident = repo().join("examples/incident");
    let run = |store: &str, extra: &[&str]| {
        let mut args = vec![
            "detect",
            incident.to_str().unwrap(),
            "--store",
            store,
            "--format",
            "jsonl",
        ];
        args.extend_from_slice(extra);
        vigil_in(dir.path(), &args, None)
    };
    let in_memory = run("memory.sqlite", &[]);
    let streamed = run("streamed.sqlite", &["--output-memory", "0"]);
    assert_eq!(in_memory.code, streamed.code, "{}", streamed.stderr);
    assert!(in_memory.jsonl().len() >= 5, "{}", in_memory.stderr);
    assert_eq!(in_memory.stdout, streamed.stdout, "{}", streamed.stderr);
    let runs_spilled = |stderr: &str| {
        let (before, _) = stderr.split_once(" sorted runs of findings")?;
        before.rsplit_once(' ')?.1.parse::<u64>().ok()
    };
    assert_eq!(
        runs_spilled(&in_memory.stderr),
        None,
        "{}",
        in_memory.stderr
    );
    let runs = runs_spilled(&streamed.stderr).unwrap_or(0);
    assert!(
        runs >= in_memory.jsonl().len() as u64,
        "{}",
        streamed.stderr
    );
    // The same summary counts (new findings), and the same findings in both stores.
    let summary = |stderr: &str| {
        let line = stderr.lines().find(|l| l.contains(" findings ("))?;
        Some(
            line.split_once(" findings (")?
                .1
                .split_once(')')?
                .0
                .to_string(),
        )
    };
    assert_eq!(summary(&in_memory.stderr), summary(&streamed.stderr));
    assert!(summary(&streamed.stderr).is_some_and(|s| s.contains(" new")));
    let list = |store: &str| {
        let args = ["findings", "--store", store, "list", "--format", "jsonl"];
        let mut stored = vigil_in(dir.path(), &args, None).jsonl();
        stored.sort_by_key(|f| f["id"].as_str().unwrap_or_default().to_string());
        // Stored findings carry the time they were stored at in their history.
        for finding in &mut stored {
            finding["history"] = serde_json::Value::Null;
        }
        stored
    };
    let stored = list("memory.sqlite");
    assert_eq!(stored.len(), in_memory.jsonl().len());
    assert_eq!(stored, list("streamed.sqlite"));
    // Detecting again through spilled runs changes nothing in the store: every finding was
    // already there as it is, none is new or updated (and the first-seen findings are not
    // found again: their values are learnt).
    let again = run("streamed.sqlite", &["--output-memory", "0"]);
    let unchanged = format!("0 new, 0 updated, {} unchanged", again.jsonl().len());
    assert!(
        summary(&again.stderr).is_some_and(|s| s.starts_with(&unchanged)),
        "expected {unchanged}: {}",
        again.stderr
    );
    assert_eq!(list("streamed.sqlite"), stored);
}

#[test]
fn stdin_is_an_input() {
    let record = cloudtrail_record(
        "DeleteTrail",
        "cloudtrail.amazonaws.com",
        "2026-11-20T10:00:00Z",
    );
    let line = format!("{record}\n");
    let run = vigil_in(
        &repo(),
        &["detect", "-", "--store", "none", "--format", "jsonl"],
        Some(line.as_bytes()),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        !run.jsonl().is_empty(),
        "DeleteTrail should fire: {}",
        run.stderr
    );
    assert_eq!(run.counts(), (1, 1, 0));
}

#[test]
fn fail_on_sets_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    stop_logging_burst(dir.path());
    let args = |level: &'static str| {
        [
            "detect",
            ".",
            "--store",
            "none",
            "--format",
            "jsonl",
            "--fail-on",
            level,
        ]
    };
    assert_eq!(vigil_in(dir.path(), &args("informational"), None).code, 1);
    let quiet = tempfile::tempdir().unwrap();
    let benign = cloudtrail_record(
        "DescribeInstances",
        "ec2.amazonaws.com",
        "2026-11-20T10:00:00Z",
    );
    std::fs::write(quiet.path().join("t.json"), trail_file(&[benign])).unwrap();
    assert_eq!(vigil_in(quiet.path(), &args("high"), None).code, 0);
}

#[test]
fn usage_and_io_errors_exit_with_2() {
    assert_eq!(
        vigil(&["detect", "no/such/path", "--store", "none"]).code,
        2
    );
    assert_eq!(
        vigil(&["detect", "--format", "xml", "examples", "--store", "none"]).code,
        2
    );
    assert_eq!(vigil(&["frobnicate"]).code, 2);
}

#[test]
fn every_output_format_renders() {
    let dir = tempfile::tempdir().unwrap();
    stop_logging_burst(dir.path());
    for format in ["table", "jsonl", "asff", "ocsf"] {
        let run = vigil_in(
            dir.path(),
            &["detect", ".", "--store", "none", "--format", format],
            None,
        );
        assert_eq!(run.code, 0, "{format}: {}", run.stderr);
        assert!(!run.stdout.trim().is_empty(), "{format} printed nothing");
    }
    let asff = vigil_in(
        dir.path(),
        &["detect", ".", "--store", "none", "--format", "asff"],
        None,
    );
    let parsed: serde_json::Value = serde_json::from_str(&asff.stdout).unwrap();
    assert_eq!(parsed[0]["SchemaVersion"], "2018-10-08");
}

/// A DescribeInstances call in `region` at `time` (readOnly, so only the region baseline
/// looks at it).
fn call_in(region: &str, time: &str) -> serde_json::Value {
    let mut record = cloudtrail_record("DescribeInstances", "ec2.amazonaws.com", time);
    record["awsRegion"] = serde_json::json!(region);
    record["readOnly"] = serde_json::json!(true);
    record
}

fn region_findings(run: &Run) -> Vec<serde_json::Value> {
    run.jsonl()
        .into_iter()
        .filter(|f| {
            f["title"]
                .as_str()
                .unwrap_or("")
                .contains("Region The Account Never Used")
        })
        .collect()
}

#[test]
fn first_seen_baselines_persist_in_the_store_and_fire_once() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let history: Vec<_> = (1..=9)
        .map(|day| call_in("us-east-1", &format!("2026-11-0{day}T10:00:00Z")))
        .collect();
    std::fs::write(p.join("history.json"), trail_file(&history)).unwrap();
    let args = |file: &'static str| {
        [
            "detect",
            file,
            "--store",
            "s.sqlite",
            "--format",
            "jsonl",
            "--train-until",
            "2026-11-10T00:00:00Z",
        ]
    };
    let learn = vigil_in(p, &args("history.json"), None);
    assert_eq!(learn.code, 0, "{}", learn.stderr);
    assert!(region_findings(&learn).is_empty(), "training must not fire");

    std::fs::write(
        p.join("today.json"),
        trail_file(&[
            call_in("us-east-1", "2026-11-20T10:00:00Z"),
            call_in("ap-southeast-1", "2026-11-20T10:05:00Z"),
        ]),
    )
    .unwrap();
    // The same store copied, to detect today's file again from standard input below.
    std::fs::copy(p.join("s.sqlite"), p.join("piped.sqlite")).unwrap();
    let today = vigil_in(p, &args("today.json"), None);
    let found = region_findings(&today);
    assert_eq!(found.len(), 1, "{}", today.stderr);
    assert!(
        found[0]["description"]
            .as_str()
            .unwrap()
            .contains("ap-southeast-1"),
        "{}",
        found[0]
    );
    // Its evidence record is read back from the file at the end of the run (candidates do
    // not keep theirs while reading); from standard input, which cannot be read again, it is
    // kept while reading: the same finding either way.
    let sample = &found[0]["samples"][0];
    assert_eq!(
        sample["record"]["awsRegion"], "ap-southeast-1",
        "{}",
        found[0]
    );
    assert!(sample["origin"]
        .as_str()
        .unwrap()
        .starts_with("today.json:"));
    assert_eq!(found[0]["region"], "ap-southeast-1");
    assert!(found[0]["account"].is_string(), "{}", found[0]);
    let today_text = std::fs::read(p.join("today.json")).unwrap();
    let piped = vigil_in(
        p,
        &[
            "detect",
            "-",
            "--store",
            "piped.sqlite",
            "--format",
            "jsonl",
            "--train-until",
            "2026-11-10T00:00:00Z",
        ],
        Some(&today_text),
    );
    let from_stdin = region_findings(&piped);
    assert_eq!(from_stdin.len(), 1, "{}", piped.stderr);
    assert_eq!(from_stdin[0]["samples"][0]["record"], sample["record"]);
    assert_eq!(from_stdin[0]["account"], found[0]["account"]);

    std::fs::write(
        p.join("later.json"),
        trail_file(&[call_in("ap-southeast-1", "2026-11-21T10:00:00Z")]),
    )
    .unwrap();
    let later = vigil_in(p, &args("later.json"), None);
    assert!(
        region_findings(&later).is_empty(),
        "a learned region fired again: {}",
        later.stdout
    );
}

#[test]
fn expand_placeholders_come_from_the_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::create_dir(p.join("rules")).unwrap();
    let rule = "title: Watched API\nid: 0b9f5c1e-8d2a-4f43-9a11-2f6d3c4b5a61\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  sel:\n    eventName|expand: '%watched%'\n  condition: sel\nlevel: high\ntags: [attack.discovery]\n";
    std::fs::write(p.join("rules/watched.yml"), rule).unwrap();
    std::fs::write(p.join("vigil.toml"), "builtin = false\nrules = ['rules']\nstore = 'none'\n[placeholders]\nwatched = ['GetSecretValue', 'ListUsers']\n").unwrap();
    let records = [
        cloudtrail_record("ListUsers", "iam.amazonaws.com", "2026-11-20T10:00:00Z"),
        cloudtrail_record("ListRoles", "iam.amazonaws.com", "2026-11-20T10:00:00Z"),
    ];
    std::fs::write(p.join("t.json"), trail_file(&records)).unwrap();
    let run = vigil_in(p, &["detect", "t.json", "--format", "jsonl"], None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let findings = run.jsonl();
    assert_eq!(findings.len(), 1, "{}", run.stdout);
    assert_eq!(
        findings[0]["samples"][0]["record"]["eventName"],
        "ListUsers"
    );
    // Without the configuration the placeholder is unknown and the rule does not load.
    std::fs::remove_file(p.join("vigil.toml")).unwrap();
    let bare = vigil_in(
        p,
        &[
            "detect",
            "t.json",
            "--no-builtin",
            "--rules",
            "rules",
            "--store",
            "none",
        ],
        None,
    );
    assert!(bare.stderr.contains("watched"), "{}", bare.stderr);
}
