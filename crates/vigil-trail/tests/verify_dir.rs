//! Verifying generated trails from a local copy: a valid chain, then each kind of tampering.

mod common;

use common::*;
use vigil_trail::{
    verify, ChainFinding, DigestProblem, DigestStatus, DirSource, KeyRing, LogStatus,
    TrailLocation, VerifyOptions, VerifyReport,
};

fn options() -> VerifyOptions {
    VerifyOptions {
        location: TrailLocation::default(),
        start: Some(t(2024, 5, 1, 0, 0, 0)),
        end: Some(t(2024, 5, 1, 6, 0, 0)),
    }
}

async fn run_with(trail: &Trail, keys: &KeyRing, options: &VerifyOptions) -> VerifyReport {
    let dir = tempfile::tempdir().unwrap();
    trail.write_to(dir.path());
    let source = DirSource::new(dir.path(), &trail.bucket);
    verify(&source, keys, options)
        .await
        .expect("verification runs")
}

async fn run(trail: &Trail) -> VerifyReport {
    run_with(trail, &ring(SIGNING_KEY), &options()).await
}

/// Three hourly digests, two log files each, in the range 00:00-06:00.
fn three_hours() -> (Trail, Vec<String>, Vec<Vec<String>>) {
    let mut trail = Trail::default();
    let (digests, logs) = trail.hourly(t(2024, 5, 1, 1, 0, 31), 3, 2);
    (trail, digests, logs)
}

fn problems(report: &VerifyReport, key: &str) -> Vec<DigestProblem> {
    match &report.digest(key).expect("digest in report").status {
        DigestStatus::Invalid { problems } => problems.clone(),
        other => panic!("{key} is {other:?}, not invalid"),
    }
}

#[tokio::test]
async fn a_valid_chain_is_valid() {
    let (trail, digests, logs) = three_hours();
    let report = run(&trail).await;
    let s = report.summary();
    assert_eq!((s.digests_valid, s.logs_valid), (3, 6), "{report:#}");
    assert_eq!(s.problems() + s.warnings(), 0, "{report:#}");
    assert!(report.is_valid());
    for d in &digests {
        assert_eq!(report.digest(d).unwrap().status, DigestStatus::Valid);
    }
    for l in logs.iter().flatten() {
        let result = report.log(l).unwrap();
        assert_eq!(result.status, LogStatus::Valid);
        assert!(result.digest.is_some());
    }
    let text = report.to_string();
    assert!(text.contains("result: VALID"), "{text}");
    assert!(
        !text.contains(&digests[0]),
        "valid files only in the alternate form: {text}"
    );
    assert!(format!("{report:#}").contains(&digests[0]));
}

#[tokio::test]
async fn a_modified_log_is_reported_with_both_hashes() {
    let (mut trail, _, logs) = three_hours();
    trail.edit_text(&logs[1][0], |t| t.replace("ListUsers", "DeleteUser"));
    let report = run(&trail).await;
    let LogStatus::Modified { expected, actual } = &report.log(&logs[1][0]).unwrap().status else {
        panic!("{report:#}");
    };
    assert_ne!(expected, actual);
    assert_eq!(expected.len(), 64);
    let s = report.summary();
    assert_eq!((s.logs_modified, s.logs_valid, s.digests_valid), (1, 5, 3));
    assert!(!report.is_valid());
    assert!(report.to_string().contains("MODIFIED"));
}

#[tokio::test]
async fn a_gzip_member_appended_to_a_log_is_a_modification() {
    let (mut trail, _, logs) = three_hours();
    let object = trail.objects.get_mut(&logs[0][1]).unwrap();
    object
        .bytes
        .extend(gzip(br#"{"Records":[{"eventName":"Forged"}]}"#));
    let report = run(&trail).await;
    assert!(matches!(
        report.log(&logs[0][1]).unwrap().status,
        LogStatus::Modified { .. }
    ));
}

#[tokio::test]
async fn a_deleted_log_is_missing() {
    let (mut trail, _, logs) = three_hours();
    trail.remove(&logs[2][1]);
    let report = run(&trail).await;
    assert_eq!(report.log(&logs[2][1]).unwrap().status, LogStatus::Missing);
    assert_eq!(report.summary().logs_missing, 1);
    assert!(!report.is_valid());
}

#[tokio::test]
async fn a_modified_digest_fails_its_signature_and_the_next_link() {
    let (mut trail, digests, logs) = three_hours();
    // Drop a log file from the middle digest's list, as someone hiding it would.
    let hidden = logs[1][1].clone();
    trail.edit_text(&digests[1], |t| {
        t.replace(&format!(r#""s3Object":"{hidden}""#), r#""s3Object":"gone""#)
    });
    let report = run(&trail).await;
    let p = problems(&report, &digests[1]);
    assert!(
        matches!(p.as_slice(), [DigestProblem::SignatureMismatch { .. }]),
        "{p:?}"
    );
    // The newer digest records the original's hash: the stricter check sees the link break.
    assert!(
        report.chain.iter().any(|c| matches!(c,
        ChainFinding::BrokenLink { key, previous, reason }
            if key == &digests[2] && previous == &digests[1]
            && reason.contains("previousDigestHashValue"))),
        "{report:#}"
    );
    // Nothing vouches for the log files the tampered digest lists.
    assert_eq!(
        report.log(&logs[1][0]).unwrap().status,
        LogStatus::Unverified
    );
    assert_eq!(report.summary().digests_valid, 2);
    assert!(!report.is_valid());
}

#[tokio::test]
async fn a_deleted_digest_is_missing_and_its_logs_not_covered() {
    let (mut trail, digests, logs) = three_hours();
    trail.remove(&digests[1]);
    let report = run(&trail).await;
    assert_eq!(
        report.digest(&digests[1]).unwrap().status,
        DigestStatus::Missing {
            referenced_by: digests[2].clone()
        }
    );
    for l in &logs[1] {
        assert_eq!(
            report.log(l).unwrap().status,
            LogStatus::NotCovered,
            "{report:#}"
        );
    }
    // Explained by the missing digest, the older one is not also "unlinked".
    assert!(report.chain.is_empty(), "{report:#}");
    assert_eq!(report.summary().problems(), 3);
    assert!(report.to_string().contains("MISSING"));
}

#[tokio::test]
async fn a_restarted_chain_is_a_gap_not_a_failure() {
    let mut trail = Trail::default();
    let (first, _) = trail.hourly(t(2024, 5, 1, 1, 0, 31), 2, 1);
    trail.restart(); // logging stopped for three hours
    let (second, _) = trail.hourly(t(2024, 5, 1, 5, 0, 31), 2, 1);
    let report = run(&trail).await;
    assert_eq!(
        report.chain,
        vec![ChainFinding::Gap {
            older: first[1].clone(),
            newer: second[0].clone(),
            from: "2024-05-01T02:00:31Z".to_string(),
            to: "2024-05-01T04:00:31Z".to_string(),
        }],
        "{report:#}"
    );
    let s = report.summary();
    assert_eq!((s.digests_valid, s.logs_valid, s.gaps), (4, 4, 1));
    assert!(report.is_valid(), "a gap is a warning: {report:#}");
    assert!(report.to_string().contains("GAP"));
}

#[tokio::test]
async fn a_key_that_is_not_the_one_named_is_not_found() {
    let (trail, digests, _) = three_hours();
    let report = run_with(&trail, &ring(OTHER_KEY), &options()).await;
    let fingerprint = fingerprint(&private_key(SIGNING_KEY));
    for d in &digests {
        assert_eq!(
            problems(&report, d),
            vec![DigestProblem::NoKey {
                fingerprint: fingerprint.clone()
            }]
        );
    }
    assert!(report
        .to_string()
        .contains(&format!("no public key with fingerprint {fingerprint}")));
    assert_eq!(report.summary().logs_unverified, 6);
}

#[tokio::test]
async fn a_signature_by_another_key_fails() {
    let mut trail = Trail::default();
    trail.sign_with(OTHER_KEY); // still names the signing key's fingerprint
    let (digests, _) = trail.hourly(t(2024, 5, 1, 1, 0, 31), 1, 1);
    let report = run(&trail).await;
    assert!(matches!(
        problems(&report, &digests[0]).as_slice(),
        [DigestProblem::SignatureMismatch { .. }]
    ));
}

#[tokio::test]
async fn links_must_carry_the_previous_hash_and_signature() {
    let mut trail = Trail::default();
    let (first, _) = trail.hourly(t(2024, 5, 1, 1, 0, 31), 1, 1);
    // Properly signed, but recording another hash and signature for the previous digest: the
    // AWS CLI accepts this; vigil does not.
    let second = trail.digest_with(t(2024, 5, 1, 2, 0, 31), &[], |f| {
        let previous = f.previous.as_mut().unwrap();
        previous.2 = "00".repeat(32);
        previous.3 = "11".repeat(256);
    });
    let report = run(&trail).await;
    assert_eq!(report.summary().digests_valid, 2, "{report:#}");
    let reasons: Vec<&str> = report
        .chain
        .iter()
        .filter_map(|c| match c {
            ChainFinding::BrokenLink {
                key,
                previous,
                reason,
            } if key == &second && previous == &first[0] => Some(reason.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(reasons.len(), 2, "{report:#}");
    assert!(reasons[0].contains("previousDigestHashValue"));
    assert!(reasons[1].contains("previousDigestSignature"));
    assert!(!report.is_valid());
}

#[tokio::test]
async fn a_digest_no_later_digest_names_is_unlinked() {
    let mut trail = Trail::default();
    trail.hourly(t(2024, 5, 1, 1, 0, 31), 1, 0);
    // A properly signed digest at 01:30 that the 02:00:31 digest skips: a fork in the chain.
    let mut fork = trail.clone();
    let extra = fork.digest(t(2024, 5, 1, 1, 30, 0), &[]);
    trail
        .objects
        .insert(extra.clone(), fork.objects[&extra].clone());
    let next = trail.digest(t(2024, 5, 1, 2, 0, 31), &[]);
    let report = run(&trail).await;
    assert_eq!(
        report.chain,
        vec![ChainFinding::Unlinked { key: extra, next }],
        "{report:#}"
    );
    assert_eq!(report.summary().digests_valid, 3);
    assert!(!report.is_valid());
}

#[tokio::test]
async fn unsupported_algorithms_are_refused_even_when_signed() {
    let mut trail = Trail::default();
    let log = trail.log(t(2024, 5, 1, 0, 30, 0));
    let digest = trail.digest_with(t(2024, 5, 1, 1, 0, 31), std::slice::from_ref(&log), |f| {
        f.signature_algorithm = "SHA1withRSA".into();
        f.log_files[0].3 = "MD5".into();
    });
    let report = run(&trail).await;
    assert_eq!(
        problems(&report, &digest),
        vec![DigestProblem::UnsupportedAlgorithm {
            field: "digestSignatureAlgorithm".into(),
            value: "SHA1withRSA".into()
        }]
    );
    // The digest is invalid, so its log is unverified rather than checked.
    assert_eq!(report.log(&log).unwrap().status, LogStatus::Unverified);

    let mut trail = Trail::default();
    let log = trail.log(t(2024, 5, 1, 0, 30, 0));
    trail.digest_with(t(2024, 5, 1, 1, 0, 31), std::slice::from_ref(&log), |f| {
        f.log_files[0].3 = "MD5".into();
    });
    let report = run(&trail).await;
    assert!(matches!(
        &report.log(&log).unwrap().status,
        LogStatus::Invalid { reason } if reason.contains("MD5")
    ));
}

#[tokio::test]
async fn a_digest_found_elsewhere_than_it_says_has_moved() {
    let (trail, digests, _) = three_hours();
    let dir = tempfile::tempdir().unwrap();
    trail.write_to(dir.path());
    let source = DirSource::new(dir.path(), "another-bucket");
    let report = verify(&source, &ring(SIGNING_KEY), &options())
        .await
        .unwrap();
    let p = problems(&report, &digests[0]);
    assert_eq!(
        p,
        vec![DigestProblem::Moved {
            bucket: BUCKET.into(),
            object: digests[0].clone()
        }]
    );
    // The links name the other bucket: reported, not followed.
    assert!(report
        .chain
        .iter()
        .any(|c| matches!(c, ChainFinding::OtherBucket { key, .. } if key == &digests[2])));
}

#[tokio::test]
async fn bad_input_is_a_report_entry_naming_the_file() {
    let (mut trail, digests, _) = three_hours();
    let meta = trail.objects[&digests[0]].metadata.clone();
    trail.put(&digests[0], gzip(b"this is not json"), meta);
    trail.put(&digests[1], b"not even gzip".to_vec(), Default::default());
    trail.objects.get_mut(&digests[2]).unwrap().metadata.clear();
    let report = run(&trail).await;
    let p0 = problems(&report, &digests[0]);
    assert!(
        matches!(&p0[..], [DigestProblem::Unreadable { reason }] if reason.contains("not a digest")),
        "{p0:?}"
    );
    let p1 = problems(&report, &digests[1]);
    assert!(
        matches!(&p1[..], [DigestProblem::Unreadable { reason }] if reason.contains("not gzip")),
        "{p1:?}"
    );
    assert_eq!(
        problems(&report, &digests[2]),
        vec![
            DigestProblem::NoSignatureAlgorithm,
            DigestProblem::NoSignature
        ]
    );
    let text = report.to_string();
    for d in &digests {
        assert!(text.contains(d.as_str()), "{text}");
    }
    assert!(text.contains("no `signature` metadata"));
}

#[tokio::test]
async fn a_signature_that_is_not_hex_is_reported() {
    let (mut trail, digests, _) = three_hours();
    trail
        .objects
        .get_mut(&digests[0])
        .unwrap()
        .metadata
        .insert("signature".into(), "zz-not-hex".into());
    let report = run(&trail).await;
    assert!(matches!(
        problems(&report, &digests[0]).as_slice(),
        [DigestProblem::BadSignatureEncoding { .. }]
    ));
}

#[tokio::test]
async fn log_files_no_digest_lists_are_not_covered_and_newer_ones_pending() {
    let (mut trail, _, _) = three_hours();
    let stray = trail.log(t(2024, 5, 1, 1, 20, 0)); // among digested hours
    let fresh = trail.log(t(2024, 5, 1, 3, 40, 0)); // after the newest digest (03:00:31)
    let report = run(&trail).await;
    assert_eq!(report.log(&stray).unwrap().status, LogStatus::NotCovered);
    assert_eq!(report.log(&fresh).unwrap().status, LogStatus::Pending);
    assert!(report.to_string().contains("NOT COVERED"));
    let s = report.summary();
    assert_eq!(
        (s.logs_not_covered, s.logs_pending, s.problems()),
        (1, 1, 1)
    );
}

#[tokio::test]
async fn the_range_limits_digests_and_the_chain_stops_at_its_start() {
    let (trail, digests, logs) = three_hours();
    // Only the log files of 01:10-02:00: the digests ending at 02:00:31 and 03:00:31
    // (spillover) are read; the link from the first of them to 01:00:31 leaves the range.
    let options = VerifyOptions {
        start: Some(t(2024, 5, 1, 1, 10, 0)),
        end: Some(t(2024, 5, 1, 2, 0, 0)),
        ..options()
    };
    let report = run_with(&trail, &ring(SIGNING_KEY), &options).await;
    let keys: Vec<&str> = report.digests.iter().map(|d| d.key.as_str()).collect();
    assert_eq!(
        keys,
        [digests[1].as_str(), digests[2].as_str()],
        "{report:#}"
    );
    assert!(report.is_valid(), "{report:#}");
    assert!(report.log(&logs[0][0]).is_none());
}

#[tokio::test]
async fn a_deleted_digest_before_the_listed_days_is_still_found_missing() {
    // Digests on two days; the range starts on the second, but its first digest names one
    // at 23:00:31 of the first day — in the range, so it is fetched and found missing.
    let mut trail = Trail::default();
    let (digests, _) = trail.hourly(t(2024, 5, 1, 22, 0, 31), 3, 0);
    trail.remove(&digests[1]);
    let options = VerifyOptions {
        start: Some(t(2024, 5, 1, 22, 30, 0)),
        end: Some(t(2024, 5, 2, 0, 30, 0)),
        ..options()
    };
    let report = run_with(&trail, &ring(SIGNING_KEY), &options).await;
    assert!(matches!(
        report.digest(&digests[1]).unwrap().status,
        DigestStatus::Missing { .. }
    ));
}

#[tokio::test]
async fn prefixes_organisations_and_filters_are_honoured() {
    let mut trail = Trail::new(Some("trails/prod"));
    let (digests, _) = trail.hourly(t(2024, 5, 1, 1, 0, 31), 2, 1);
    let mut location = TrailLocation {
        prefix: Some("trails/prod".into()),
        account: Some(ACCOUNT.into()),
        region: Some(REGION.into()),
        trail_name: Some(TRAIL.into()),
        org_id: None,
    };
    let with = |location: &TrailLocation| VerifyOptions {
        location: location.clone(),
        ..options()
    };
    let report = run_with(&trail, &ring(SIGNING_KEY), &with(&location)).await;
    assert_eq!(report.summary().digests_valid, 2, "{report:#}");
    assert!(report.source.ends_with("trails/prod/AWSLogs/"));
    location.trail_name = Some("other-trail".into());
    let report = run_with(&trail, &ring(SIGNING_KEY), &with(&location)).await;
    assert!(report.digests.is_empty());
    assert!(!report.is_valid(), "no digests is not a pass");
    assert!(report.to_string().contains("no digest files found"));
    location.trail_name = None;
    location.prefix = None;
    let report = run_with(&trail, &ring(SIGNING_KEY), &with(&location)).await;
    assert!(report.digests.is_empty());
    assert_eq!(digests.len(), 2);
}

#[tokio::test]
async fn organisation_trails_are_found_below_the_organisation_id() {
    let mut trail = Trail::default();
    trail.org = Some("o-aa11bb22cc".into());
    let (digests, _) = trail.hourly(t(2024, 5, 1, 1, 0, 31), 1, 1);
    assert!(digests[0].starts_with("AWSLogs/o-aa11bb22cc/111122223333/CloudTrail-Digest/"));
    let mut options = options();
    // Found without naming the organisation, and with it.
    let report = run_with(&trail, &ring(SIGNING_KEY), &options).await;
    assert_eq!(
        (report.summary().digests_valid, report.summary().logs_valid),
        (1, 1)
    );
    options.location.org_id = Some("o-aa11bb22cc".into());
    let report = run_with(&trail, &ring(SIGNING_KEY), &options).await;
    assert_eq!(
        (report.summary().digests_valid, report.summary().logs_valid),
        (1, 1)
    );
    assert!(report.is_valid(), "{report:#}");
    options.location.org_id = Some("o-zz99yy88xx".into());
    let report = run_with(&trail, &ring(SIGNING_KEY), &options).await;
    assert!(report.digests.is_empty());
}

#[tokio::test]
async fn an_unreadable_directory_source_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("AWSLogs"),
        b"a file where a folder should be",
    )
    .unwrap();
    let source = DirSource::new(dir.path(), BUCKET);
    let err = verify(&source, &ring(SIGNING_KEY), &options())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("AWSLogs"), "{err}");
}

/// A trail signed by openssl from the documented signing string (tests/data/
/// make-openssl-trail.sh): the crate agrees with an independent implementation.
#[tokio::test]
async fn openssl_signed_trail_verifies() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/openssl-trail");
    let source = DirSource::open(&dir).unwrap();
    let report = verify(&source, &ring(SIGNING_KEY), &options())
        .await
        .unwrap();
    let s = report.summary();
    assert_eq!((s.digests_valid, s.logs_valid), (1, 1), "{report:#}");
    assert!(report.is_valid(), "{report:#}");
    // And the same files fail with the other key.
    let report = verify(&source, &ring(OTHER_KEY), &options()).await.unwrap();
    assert_eq!(report.summary().digests_invalid, 1);
}

#[tokio::test]
async fn the_report_reads_well() {
    let (mut trail, digests, logs) = three_hours();
    trail.edit_text(&logs[0][0], |t| t.replace("alice", "mallory"));
    trail.remove(&digests[1]);
    let report = run(&trail).await;
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["digests"][1]["status"], "missing");
    assert_eq!(json["logs"][0]["status"], "modified");
}

#[tokio::test]
async fn fetch_never_writes_outside_its_directory() {
    let mut trail = Trail::default();
    let log = trail.log(t(2024, 5, 1, 0, 30, 0));
    // A digest (properly signed) listing a log file whose key climbs out of the copy.
    let evil = "AWSLogs/../../escaped.json.gz".to_string();
    trail.put(&evil, gzip(b"{}"), Default::default());
    trail.digest_with(t(2024, 5, 1, 1, 0, 31), std::slice::from_ref(&log), |f| {
        let mut entry = f.log_files[0].clone();
        entry.1 = evil.clone();
        f.log_files.push(entry);
    });
    let outer = tempfile::tempdir().unwrap();
    let dest = outer.path().join("a").join("copy");
    let report = vigil_trail::fetch(&trail, &options(), &dest).await.unwrap();
    assert_eq!((report.digests, report.logs), (1, 1), "{report}");
    assert_eq!(report.skipped.len(), 1);
    assert_eq!(report.skipped[0].0, evil);
    assert!(report.skipped[0].1.contains("`..`"), "{report}");
    assert!(!outer.path().join("escaped.json.gz").exists());
    assert!(!outer.path().join("a").join("escaped.json.gz").exists());
    // The copy verifies like the source, apart from the file that could not be copied.
    let copy = DirSource::open(&dest).unwrap();
    let from_copy = verify(&copy, &ring(SIGNING_KEY), &options()).await.unwrap();
    let from_source = verify(&trail, &ring(SIGNING_KEY), &options())
        .await
        .unwrap();
    assert_eq!(from_source.log(&log).unwrap().status, LogStatus::Valid);
    assert_eq!(from_copy.log(&log).unwrap().status, LogStatus::Valid);
    assert!(
        matches!(
            &from_copy.log(&evil).unwrap().status,
            LogStatus::Invalid { reason } if reason.contains("cannot be mapped")
        ),
        "{from_copy:#}"
    );
}
