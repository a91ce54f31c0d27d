//! `vigil evidence` and `vigil trail verify` and `vigil policy analyze` on the command line.

use crate::common::{repo, vigil_in};

#[test]
fn evidence_round_trip_tamper_and_offline_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let vault = d.join("vault");
    let key = d.join("keys/signing.key");
    let v = vault.to_str().unwrap();
    let k = key.to_str().unwrap();
    let init = vigil_in(
        d,
        &[
            "evidence",
            "init",
            "--vault",
            v,
            "--key",
            k,
            "--public-key-out",
            "pub.pem",
        ],
        None,
    );
    assert_eq!(init.code, 0, "{}", init.stderr);
    std::fs::write(
        d.join("notes.txt"),
        b"instance i-0abc talked to 203.0.113.9\n",
    )
    .unwrap();
    let add = vigil_in(
        d,
        &[
            "evidence",
            "add",
            "case-1",
            "notes.txt",
            "--vault",
            v,
            "--key",
            k,
            "--source-arn",
            "arn:aws:ec2:us-east-1:111122223333:instance/i-0abc",
        ],
        None,
    );
    assert_eq!(add.code, 0, "{}", add.stderr);
    let verify = vigil_in(
        d,
        &["evidence", "verify", "case-1", "--vault", v, "--key", k],
        None,
    );
    assert_eq!(verify.code, 0, "{}\n{}", verify.stdout, verify.stderr);
    let export = vigil_in(
        d,
        &[
            "evidence",
            "export",
            "case-1",
            "-o",
            "case-1.tar.gz",
            "--vault",
            v,
            "--key",
            k,
        ],
        None,
    );
    assert_eq!(export.code, 0, "{}", export.stderr);
    let offline = vigil_in(
        d,
        &[
            "evidence",
            "verify",
            "--bundle",
            "case-1.tar.gz",
            "--public-key",
            "pub.pem",
        ],
        None,
    );
    assert_eq!(offline.code, 0, "{}\n{}", offline.stdout, offline.stderr);

    // Change the item's bytes behind the vault's back: verify names it and exits 1.
    let items = vault.join("cases/case-1/items");
    let item = std::fs::read_dir(&items)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut perms = std::fs::metadata(&item).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&item, perms).unwrap();
    std::fs::write(&item, b"instance i-0abc talked to nobody\n").unwrap();
    let tampered = vigil_in(
        d,
        &["evidence", "verify", "case-1", "--vault", v, "--key", k],
        None,
    );
    assert_eq!(tampered.code, 1, "{}\n{}", tampered.stdout, tampered.stderr);
    assert!(
        tampered.stdout.to_lowercase().contains("changed")
            || tampered.stdout.to_lowercase().contains("altered"),
        "{}",
        tampered.stdout
    );
    // A corrupt bundle is a clear error, not a panic.
    std::fs::write(d.join("junk.tar.gz"), b"not an archive").unwrap();
    let junk = vigil_in(
        d,
        &[
            "evidence",
            "verify",
            "--bundle",
            "junk.tar.gz",
            "--public-key",
            "pub.pem",
        ],
        None,
    );
    assert_eq!(junk.code, 2, "{}", junk.stderr);
    assert!(junk.stderr.contains("junk.tar.gz"), "{}", junk.stderr);
}

#[test]
fn trail_verify_checks_a_local_copy_and_names_a_modified_log() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("trail");
    let fixture = repo().join("crates/vigil-trail/tests/data/openssl-trail");
    copy_dir(&fixture, &copy);
    let key = repo().join("crates/vigil/tests/cli/data/trail-public.pem");
    let args = [
        "trail",
        "verify",
        "--dir",
        copy.to_str().unwrap(),
        "--public-key",
        key.to_str().unwrap(),
        "--start",
        "2024-05-01",
        "--end",
        "2024-05-02",
    ];
    let ok = vigil_in(dir.path(), &args, None);
    assert_eq!(ok.code, 0, "{}\n{}", ok.stdout, ok.stderr);
    // Rewrite the log file: its hash no longer matches the digest.
    let log = walk(&copy)
        .into_iter()
        .find(|p| p.to_string_lossy().contains("/CloudTrail/"))
        .unwrap();
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut encoder, b"{\"Records\":[]}").unwrap();
    std::fs::write(&log, encoder.finish().unwrap()).unwrap();
    let bad = vigil_in(dir.path(), &args, None);
    assert_eq!(bad.code, 1, "{}\n{}", bad.stdout, bad.stderr);
    assert!(bad.stdout.contains("OpenSSLfixture01"), "{}", bad.stdout);
}

#[test]
fn policy_analyze_exits_1_for_public_and_0_for_internal() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("public.json"),
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"Anyone","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#,
    )
    .unwrap();
    std::fs::write(
        d.join("org.json"),
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}}]}"#,
    )
    .unwrap();
    let public = vigil_in(
        d,
        &[
            "policy",
            "analyze",
            "public.json",
            "--kind",
            "s3",
            "--owner",
            "111122223333",
        ],
        None,
    );
    assert_eq!(public.code, 1, "{}\n{}", public.stdout, public.stderr);
    assert!(public.stdout.contains("Public"), "{}", public.stdout);
    let org = vigil_in(
        d,
        &[
            "policy",
            "analyze",
            "org.json",
            "--kind",
            "s3",
            "--owner",
            "111122223333",
            "--trusted-org",
            "o-abc123",
        ],
        None,
    );
    assert_eq!(org.code, 0, "{}\n{}", org.stdout, org.stderr);
    let broken = vigil_in(d, &["policy", "analyze", "missing.json"], None);
    assert_eq!(broken.code, 2, "{}", broken.stderr);
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// `vigil evidence collect`: the activity of one principal, from local logs and from a
/// CloudTrail bucket's layout in moto, each stored as one item with its query.
#[test]
fn evidence_collect_from_local_logs_and_from_a_trail_bucket() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let vault = d.join("vault");
    let key = d.join("signing.key");
    let (v, k) = (vault.to_str().unwrap(), key.to_str().unwrap());
    let logs = repo().join("examples/incident/logs");
    let principal = "arn:aws:sts::111122223333:assumed-role/security-audit/posture-scan";
    let init = vigil_in(d, &["evidence", "init", "--vault", v, "--key", k], None);
    assert_eq!(init.code, 0, "{}", init.stderr);
    let env = crate::common::EMULATOR_ENV;
    let local = crate::common::vigil_env(
        d,
        &[
            "evidence",
            "collect",
            "case-9",
            "--principal",
            principal,
            "--start",
            "2026-10-01",
            "--end",
            "2026-10-31",
            "--logs",
            logs.to_str().unwrap(),
            "--vault",
            v,
            "--key",
            k,
        ],
        None,
        &env,
    );
    assert_eq!(local.code, 0, "{}\n{}", local.stdout, local.stderr);
    assert!(
        local.stdout.contains("collected sha256:"),
        "{}",
        local.stdout
    );

    // The same file delivered to a trail bucket, read through the bucket's key layout.
    let moto = vigil_testkit::MotoServer::start().expect("moto");
    let file = "111122223333_CloudTrail_us-west-2_20261014T0700Z_J6IRGY5BN43DXGAO.json.gz";
    let bytes = std::fs::read(
        logs.join("AWSLogs/111122223333/CloudTrail/us-west-2/2026/10/14")
            .join(file),
    )
    .unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let ctx = vigil_aws::AwsContext::load(vigil_aws::AwsOptions::for_emulator(moto.endpoint()))
            .await
            .unwrap();
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(ctx.base())
                .force_path_style(true)
                .build(),
        );
        s3.create_bucket()
            .bucket("trail-logs")
            .send()
            .await
            .unwrap();
        s3.put_object()
            .bucket("trail-logs")
            .key(format!(
                "AWSLogs/111122223333/CloudTrail/us-west-2/2026/10/14/{file}"
            ))
            .body(bytes.into())
            .send()
            .await
            .unwrap();
    });
    let from_bucket = crate::common::vigil_env(
        d,
        &[
            "evidence",
            "collect",
            "case-9",
            "--principal",
            principal,
            "--start",
            "2026-10-14",
            "--end",
            "2026-10-15",
            "--bucket",
            "trail-logs",
            "--endpoint-url",
            &moto.endpoint(),
            "--vault",
            v,
            "--key",
            k,
        ],
        None,
        &env,
    );
    assert_eq!(
        from_bucket.code, 0,
        "{}\n{}",
        from_bucket.stdout, from_bucket.stderr
    );
    assert!(
        from_bucket.stderr.contains("copied 1 log files"),
        "{}",
        from_bucket.stderr
    );
    let list = vigil_in(
        d,
        &["evidence", "list", "case-9", "--vault", v, "--key", k],
        None,
    );
    assert_eq!(list.code, 0, "{}", list.stderr);
    let verify = vigil_in(
        d,
        &["evidence", "verify", "case-9", "--vault", v, "--key", k],
        None,
    );
    assert_eq!(verify.code, 0, "{}\n{}", verify.stdout, verify.stderr);
}

/// `vigil scan` against moto: a weak password policy fails VIG-06, the snapshot saved on the
/// way evaluates to the same results offline, and failures land in the store as findings.
#[test]
fn scan_live_then_from_snapshot_and_into_the_store() {
    let moto = vigil_testkit::MotoServer::start().expect("moto");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let ctx = vigil_aws::AwsContext::load(vigil_aws::AwsOptions::for_emulator(moto.endpoint()))
            .await
            .unwrap();
        aws_sdk_iam::Client::new(ctx.base())
            .update_account_password_policy()
            .minimum_password_length(8)
            .send()
            .await
            .unwrap();
        s3_client(&ctx)
            .create_bucket()
            .bucket("open-bucket")
            .send()
            .await
            .unwrap();
    });
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let key = d.join("signing.key");
    // Remediation keeps evidence; the key stays in the test's directory.
    let mut env = crate::common::EMULATOR_ENV.to_vec();
    env.push(("VIGIL_EVIDENCE_KEY", key.to_str().unwrap()));
    let endpoint = moto.endpoint();
    let live = crate::common::vigil_env(
        d,
        &[
            "scan",
            "--endpoint-url",
            &endpoint,
            "--format",
            "jsonl",
            "--save-snapshot",
            "snap.json",
            "--store",
            "s.sqlite",
            "--no-progress",
        ],
        None,
        &env,
    );
    assert_eq!(live.code, 1, "failures exit 1\n{}", live.stderr);
    let results = live.jsonl();
    let status_of = |results: &[serde_json::Value], control: &str| -> Vec<String> {
        results
            .iter()
            .filter(|r| r["control"] == control)
            .map(|r| r["status"].as_str().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(
        status_of(&results, "VIG-06"),
        vec!["FAIL"],
        "{}",
        live.stdout
    );
    assert_eq!(results.len(), live.stdout.lines().count());
    let offline = vigil_in(
        d,
        &[
            "scan",
            "--from-snapshot",
            "snap.json",
            "--format",
            "jsonl",
            "--store",
            "none",
        ],
        None,
    );
    assert_eq!(offline.code, 1, "{}", offline.stderr);
    let again = offline.jsonl();
    assert_eq!(again.len(), results.len());
    for control in ["VIG-06", "VIG-03", "VIG-40"] {
        assert_eq!(
            status_of(&again, control),
            status_of(&results, control),
            "{control}"
        );
    }
    let stored = vigil_in(d, &["findings", "list", "--store", "s.sqlite"], None);
    assert_eq!(stored.code, 0, "{}", stored.stderr);
    assert!(
        stored.stdout.contains("VIG-06") || stored.stdout.contains("Password"),
        "{}",
        stored.stdout
    );

    // Remediation goes through the response engine: a dry run first, then (production
    // approval switched off for the test) the bucket gets its Block Public Access.
    let bpa_set = || {
        runtime.block_on(async {
            let ctx =
                vigil_aws::AwsContext::load(vigil_aws::AwsOptions::for_emulator(moto.endpoint()))
                    .await
                    .unwrap();
            s3_client(&ctx)
                .get_public_access_block()
                .bucket("open-bucket")
                .send()
                .await
                .is_ok()
        })
    };
    assert_eq!(status_of(&results, "VIG-53").len(), 1, "{}", live.stdout);
    std::fs::write(
        d.join("vigil.toml"),
        "[respond]\nproduction_requires_approval = false\n",
    )
    .unwrap();
    let scan_args = [
        "scan",
        "--endpoint-url",
        &endpoint,
        "--format",
        "jsonl",
        "--store",
        "s.sqlite",
        "--no-progress",
        "--controls",
        "VIG-53",
        "--remediate",
    ];
    // The signing key exists already (made for another vault): the default vault beside
    // the store is prepared with it rather than refused.
    let other = vigil_in(
        d,
        &[
            "evidence",
            "init",
            "--vault",
            "elsewhere",
            "--key",
            key.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(other.code, 0, "{}", other.stderr);
    let plan = crate::common::vigil_env(d, &scan_args, None, &env);
    assert!(
        plan.stdout.contains("s3.block_public_access planned"),
        "{}\n{}",
        plan.stdout,
        plan.stderr
    );
    assert!(!bpa_set(), "a dry run changed the bucket");
    let mut execute = scan_args.to_vec();
    execute.push("--execute");
    let fixed = crate::common::vigil_env(d, &execute, None, &env);
    assert!(
        fixed.stdout.contains("s3.block_public_access succeeded"),
        "{}\n{}",
        fixed.stdout,
        fixed.stderr
    );
    assert!(
        bpa_set(),
        "the bucket has no Block Public Access after --execute"
    );
}

fn s3_client(ctx: &vigil_aws::AwsContext) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(ctx.base())
            .force_path_style(true)
            .build(),
    )
}
