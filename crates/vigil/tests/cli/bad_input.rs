//! Bad input end to end: each case is reported with file, position and reason, written to
//! the rejects file, and the run goes on with read = evaluated + rejected.

use crate::common::*;

#[test]
fn every_kind_of_bad_input_is_rejected_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let good = cloudtrail_record(
        "StopLogging",
        "cloudtrail.amazonaws.com",
        "2026-11-20T10:00:00Z",
    );
    // JSON Lines with one malformed line between two good ones.
    std::fs::write(
        p.join("lines.jsonl"),
        format!("{good}\n{{\"eventName\": \n{good}\n"),
    )
    .unwrap();
    // A truncated gzip.
    let gz = gzip(&trail_file(&[good.clone(), good.clone()]));
    std::fs::write(p.join("truncated.json.gz"), &gz[..gz.len() / 2]).unwrap();
    // A file of unknown format.
    std::fs::write(p.join("notes.txt"), "these are not logs\n").unwrap();
    // Invalid UTF-8 inside a record.
    let mut invalid = format!("{good}\n").into_bytes();
    invalid.extend_from_slice(b"{\"eventName\": \"\xff\xfe\"}\n");
    std::fs::write(p.join("utf8.jsonl"), invalid).unwrap();
    // A known field of the wrong type.
    let mut wrong = good.clone();
    wrong["eventName"] = serde_json::json!(5);
    std::fs::write(p.join("types.json"), trail_file(&[wrong, good.clone()])).unwrap();

    let run = vigil_in(
        p,
        &[
            "detect",
            ".",
            "--store",
            "none",
            "--format",
            "jsonl",
            "--rejects",
            "rejects.jsonl",
        ],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let (read, evaluated, rejected) = run.counts();
    assert_eq!(read, evaluated + rejected, "{}", run.stderr);
    assert!(evaluated >= 4, "good records were lost: {}", run.stderr);
    let rejects = std::fs::read_to_string(p.join("rejects.jsonl")).unwrap();
    let rejects: Vec<serde_json::Value> = rejects
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for file in [
        "lines.jsonl",
        "truncated.json.gz",
        "notes.txt",
        "utf8.jsonl",
        "types.json",
    ] {
        let reject = rejects
            .iter()
            .find(|r| r["file"].as_str().unwrap_or("").ends_with(file))
            .unwrap_or_else(|| panic!("no reject for {file}: {rejects:?}"));
        assert!(!reject["reason"].as_str().unwrap_or("").is_empty());
        assert!(
            reject["record"].as_u64().is_some(),
            "no position for {file}"
        );
    }
    let types = rejects
        .iter()
        .find(|r| r["file"].as_str().unwrap().ends_with("types.json"))
        .unwrap();
    assert!(
        types["reason"].as_str().unwrap().contains("eventName"),
        "{types}"
    );
}

#[test]
fn a_50_mb_record_is_rejected_and_the_next_one_read() {
    let dir = tempfile::tempdir().unwrap();
    let good = cloudtrail_record(
        "StopLogging",
        "cloudtrail.amazonaws.com",
        "2026-11-20T10:00:00Z",
    );
    let mut huge = good.clone();
    huge["requestParameters"]["blob"] = serde_json::json!("x".repeat(50 * 1024 * 1024));
    let mut data = serde_json::to_vec(&huge).unwrap();
    data.push(b'\n');
    data.extend(serde_json::to_vec(&good).unwrap());
    data.push(b'\n');
    std::fs::write(dir.path().join("big.jsonl"), data).unwrap();
    let run = vigil_in(
        dir.path(),
        &["detect", ".", "--store", "none", "--format", "jsonl"],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.counts(), (2, 1, 1), "{}", run.stderr);
}
