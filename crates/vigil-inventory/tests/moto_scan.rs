//! The inventory against moto: a deliberately misconfigured account next to correctly
//! configured resources is collected through the real SDK and evaluated with the posture
//! controls; the bad resources must FAIL, the good ones PASS, and what moto cannot answer
//! must be UNKNOWN naming the call — never PASS.
//!
//! One moto server and one collection serve every assertion (a 2-core CI machine); each
//! control family is checked in its own function and all mismatches are reported together.

mod fixture;

use std::sync::Mutex;

use vigil_aws::{AwsContext, AwsOptions};
use vigil_inventory::{collect, InventoryOptions, ProgressEvent};
use vigil_posture::{evaluate, ControlResult, EvalOptions, Snapshot, Status};
use vigil_testkit::{MotoOptions, MotoServer, MOTO_ACCOUNT};

/// Collects failures instead of stopping at the first.
struct Checks<'a> {
    results: &'a [ControlResult],
    failures: Vec<String>,
}

impl<'a> Checks<'a> {
    fn of(&self, control: &str) -> Vec<&'a ControlResult> {
        let results: &'a [ControlResult] = self.results;
        results.iter().filter(|r| r.control == control).collect()
    }

    /// The results of `control` about a resource whose id contains `resource` all have
    /// `status` (and there is at least one).
    fn expect(&mut self, control: &str, resource: &str, status: Status) {
        let found: Vec<_> = self
            .of(control)
            .into_iter()
            .filter(|r| r.resource.id.contains(resource))
            .collect();
        if found.is_empty() {
            let ids: Vec<_> = self
                .of(control)
                .iter()
                .map(|r| r.resource.id.clone())
                .collect();
            self.failures.push(format!(
                "{control}: no result for {resource} (results: {ids:?})"
            ));
        }
        for r in found {
            if r.status != status {
                self.failures.push(format!(
                    "{control} {}: expected {status}, got {}: {}",
                    r.resource.id, r.status, r.reason
                ));
            }
        }
    }

    /// Every result of `control` has `status` (account-level controls).
    fn expect_all(&mut self, control: &str, status: Status) {
        let found = self.of(control);
        if found.is_empty() {
            self.failures.push(format!("{control}: no result"));
        }
        for r in found {
            if r.status != status {
                self.failures.push(format!(
                    "{control} {}: expected {status}, got {}: {}",
                    r.resource.id, r.status, r.reason
                ));
            }
        }
    }

    /// Every result of `control` is UNKNOWN and names `call`.
    fn expect_unknown(&mut self, control: &str, call: &str) {
        let found = self.of(control);
        if found.is_empty() {
            self.failures.push(format!("{control}: no result"));
        }
        for r in found {
            if r.status != Status::Unknown || !r.reason.contains(call) {
                self.failures.push(format!(
                    "{control} {}: expected UNKNOWN naming {call}, got {}: {}",
                    r.resource.id, r.status, r.reason
                ));
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_misconfigured_account_fails_and_a_configured_one_passes() {
    let moto = MotoServer::start_with(MotoOptions {
        single_ami: Some((fixture::AMI.into(), "vigil-test-image".into())),
    })
    .expect("moto starts");
    let ctx = AwsContext::load(AwsOptions::for_emulator(moto.endpoint()))
        .await
        .expect("context");
    let cfg = ctx.config_for(None, None).await.expect("config");
    let fx = fixture::build(&cfg).await.expect("fixture");

    let events = Mutex::new(Vec::new());
    let (snapshot, stats) = collect(&ctx, &InventoryOptions::default(), &|e| {
        events.lock().unwrap().push(e)
    })
    .await
    .expect("collect");

    // The run is counted and reported.
    assert_eq!(snapshot.accounts.len(), 1);
    assert_eq!(snapshot.accounts[0].account_id, MOTO_ACCOUNT);
    assert_eq!(snapshot.regions, vec!["us-east-1".to_string()]);
    assert!(stats.api_calls > 60, "{stats:?}");
    assert_eq!(snapshot.api_calls, stats.api_calls);
    let per_service: u64 = stats.per_service.values().map(|(calls, _)| calls).sum();
    assert_eq!(per_service, stats.api_calls);
    // access-analyzer is not in moto: its call fails and is counted as an error.
    assert!(
        stats
            .per_service
            .get("access-analyzer")
            .is_some_and(|(_, errors)| *errors >= 1),
        "{stats:?}"
    );
    // "Not configured" answers (NoSuchBucketPolicy, …) are data, not failed calls. The
    // only S3 failures are two moto limits: it does not implement GetBucketPolicyStatus and
    // answers GetBucketVersioning with an XML root the SDK rejects.
    let buckets = snapshot.accounts[0]
        .buckets
        .ok()
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        stats.per_service.get("s3").map(|(_, errors)| *errors),
        Some(2 * buckets.len() as u64),
        "{stats:?}"
    );
    for bucket in &buckets {
        assert!(
            bucket.policy_status_is_public.is_error() && bucket.versioning.is_error(),
            "{bucket:?}"
        );
        assert!(
            !bucket.policy.is_error() && !bucket.public_access_block.is_error(),
            "{bucket:?}"
        );
        assert!(
            !bucket.encryption.is_error() && !bucket.object_lock.is_error(),
            "{bucket:?}"
        );
    }
    check_progress(&events.into_inner().unwrap());

    let results = evaluate(&snapshot, &EvalOptions::default());
    let mut checks = Checks {
        results: &results,
        failures: Vec::new(),
    };
    identity(&mut checks);
    detection(&mut checks, &fx);
    infrastructure(&mut checks, &fx);
    data(&mut checks, &fx);
    collected_shapes(&mut checks, &snapshot);
    assert!(
        checks.failures.is_empty(),
        "{} mismatches:\n{}",
        checks.failures.len(),
        checks.failures.join("\n")
    );

    re_evaluated_from_a_file(&snapshot, &results);
    old_keys_fail_rotation(snapshot);
}

fn check_progress(events: &[ProgressEvent]) {
    assert!(
        matches!(events.first(), Some(ProgressEvent::Planned { groups, .. }) if *groups == vigil_inventory::SERVICES.len())
    );
    let started = events
        .iter()
        .filter(|e| matches!(e, ProgressEvent::GroupStarted { .. }))
        .count();
    let finished = events
        .iter()
        .filter(|e| matches!(e, ProgressEvent::GroupFinished { .. }))
        .count();
    assert_eq!(started, vigil_inventory::SERVICES.len());
    assert_eq!(finished, started);
}

fn identity(c: &mut Checks<'_>) {
    c.expect_all("VIG-06", Status::Fail); // minimum length 8
    c.expect_all("VIG-07", Status::Fail); // no reuse prevention
    c.expect_all("VIG-23", Status::Fail);
    c.expect("VIG-08", "user/bad-console-no-mfa", Status::Fail);
    c.expect("VIG-11", "user/bad-direct-admin", Status::Fail); // two active keys
    c.expect("VIG-11", "user/good-group-member", Status::Pass);
    c.expect("VIG-13", "user/bad-direct-admin", Status::Fail);
    c.expect("VIG-13", "user/good-group-member", Status::Pass);
    c.expect("VIG-14", "policy/AdministratorAccess", Status::Fail);
    c.expect("VIG-15", "", Status::Pass); // AWSSupportAccess on good-support
    c.expect("VIG-21", "policy/bad-s3-star", Status::Fail);
    c.expect("VIG-21", "policy/good-narrow", Status::Pass);
    c.expect("VIG-22", "bad-decrypt-all", Status::Fail);
    // Keys made a moment ago are within 90 days (moto cannot backdate a key; the age
    // logic is covered by `old_keys_fail_rotation`).
    c.expect("VIG-12", "user/good-group-member", Status::Pass);
    c.expect_all("VIG-01", Status::Pass); // security contact set
    c.expect_all("VIG-65", Status::Fail); // billing and operations contacts missing
                                          // moto has no IAM Access Analyzer.
    c.expect_unknown("VIG-18", "access-analyzer:ListAnalyzers");
}

fn detection(c: &mut Checks<'_>, fx: &fixture::Fixture) {
    c.expect_all("VIG-24", Status::Pass);
    c.expect("VIG-25", "trail/bad-single-region", Status::Fail);
    c.expect("VIG-25", "trail/good-multi-region", Status::Pass);
    c.expect("VIG-28", "trail/bad-single-region", Status::Fail);
    c.expect("VIG-28", "trail/good-multi-region", Status::Pass);
    c.expect("VIG-29", &fx.good_vpc, Status::Pass);
    c.expect("VIG-29", &fx.default_vpc, Status::Fail);
    // Security Hub off is an answer (InvalidAccessException), not an error.
    c.expect_all("VIG-34", Status::Fail);
    c.expect_all("VIG-35", Status::Pass);
    c.expect("VIG-36", "good-private", Status::Pass);
    c.expect("VIG-36", "bad-public-acl", Status::Fail);
    // moto's GetMacieSession answers `createdAt` without a UTC offset, which the SDK
    // rejects: the response cannot be read, so Macie is UNKNOWN (never PASS).
    c.expect_unknown("VIG-37", "macie2:GetMacieSession");
}

fn infrastructure(c: &mut Checks<'_>, fx: &fixture::Fixture) {
    c.expect("VIG-40", &fx.sg_open_ssh, Status::Fail);
    c.expect("VIG-40", &fx.sg_open_rdp, Status::Fail);
    c.expect("VIG-40", &fx.sg_restricted, Status::Pass);
    c.expect("VIG-41", &fx.sg_open_ssh_v6, Status::Fail);
    c.expect("VIG-41", &fx.sg_restricted, Status::Pass);
    c.expect("VIG-42", &fx.good_default_sg, Status::Pass);
    c.expect("VIG-42", &fx.default_default_sg, Status::Fail);
    c.expect("VIG-44", &fx.imds_v1_instance, Status::Fail);
    c.expect("VIG-44", &fx.imds_v2_instance, Status::Pass);
    // moto does not implement ssm:DescribeInstanceInformation.
    c.expect_unknown("VIG-48", "ssm:DescribeInstanceInformation");
}

fn data(c: &mut Checks<'_>, fx: &fixture::Fixture) {
    c.expect("VIG-53", "good-private", Status::Pass);
    c.expect("VIG-53", "bad-public-acl", Status::Fail);
    c.expect("VIG-54", "good-private", Status::Pass);
    c.expect("VIG-54", "bad-public-policy", Status::Fail);
    // Public by policy and public by ACL (AllUsers READ) both fail.
    c.expect("VIG-56", "bad-public-policy", Status::Fail);
    c.expect("VIG-56", "bad-public-acl", Status::Fail);
    c.expect("VIG-56", "good-private", Status::Pass);
    // The account-level Block Public Access is not set (NoSuchPublicAccessBlockConfiguration
    // is an answer, read through s3control with the emulator endpoint).
    c.expect_all("VIG-52", Status::Fail);
    c.expect_unknown("VIG-55", "s3:GetBucketVersioning"); // see the moto limit above
    c.expect_all("VIG-57", Status::Fail); // EBS encryption by default is off
    c.expect("VIG-58", &fx.plain_volume, Status::Fail);
    c.expect("VIG-58", &fx.encrypted_volume, Status::Pass);
    c.expect("VIG-61", &fx.rotating_key, Status::Pass);
    c.expect("VIG-61", &fx.static_key, Status::Fail);
    c.expect("VIG-63", &fx.public_snapshot, Status::Fail);
    c.expect("VIG-63", &fx.private_snapshot, Status::Pass);
}

/// What the collectors read back, beyond what the controls above judge.
fn collected_shapes(c: &mut Checks<'_>, snapshot: &Snapshot) {
    let account = &snapshot.accounts[0];
    let buckets = account.buckets.ok().cloned().unwrap_or_default();
    let acl_public = buckets
        .iter()
        .find(|b| b.name == "bad-public-acl")
        .and_then(|b| b.acl.ok())
        .is_some_and(|acl| {
            acl.grants.iter().any(|g| {
                g.grantee_uri.as_deref() == Some(vigil_posture::snapshot::ALL_USERS_URI)
                    && g.permission == "READ"
            })
        });
    if !acl_public {
        c.failures
            .push("bad-public-acl: the AllUsers READ grant was not collected".into());
    }
    let good = buckets.iter().find(|b| b.name == "good-private");
    let encrypted = good.and_then(|b| b.encryption.ok()).is_some_and(|e| {
        e.as_ref()
            .is_some_and(|rules| rules.iter().any(|r| r.sse_algorithm == "AES256"))
    });
    if !encrypted {
        c.failures.push(format!(
            "good-private: encryption not collected: {:?}",
            good.map(|b| &b.encryption)
        ));
    }
    let plain = buckets.iter().find(|b| b.name == "bad-public-policy");
    if plain.map(|b| &b.public_access_block) != Some(&vigil_posture::Collected::Ok(None)) {
        c.failures.push(format!(
            "bad-public-policy: NoSuchPublicAccessBlockConfiguration should read as None: {:?}",
            plain.map(|b| &b.public_access_block)
        ));
    }
    let report = account
        .iam
        .credential_report
        .ok()
        .cloned()
        .unwrap_or_default();
    if !report.iter().any(|r| {
        r.user == "bad-console-no-mfa" && r.password_enabled == "true" && r.mfa_active == "false"
    }) {
        c.failures.push(format!(
            "credential report lacks the console user: {report:?}"
        ));
    }
}

/// `vigil scan --from-snapshot`: the saved snapshot evaluates to the same results.
fn re_evaluated_from_a_file(snapshot: &Snapshot, results: &[ControlResult]) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("inventory.json");
    snapshot.save(&path).expect("save");
    let loaded = Snapshot::load(&path).expect("load");
    assert_eq!(&loaded, snapshot);
    let again = evaluate(&loaded, &EvalOptions::default());
    assert_eq!(again, results);
}

/// moto cannot backdate access keys: age the credential report of the collected snapshot
/// instead and check the rotation control turns to FAIL.
fn old_keys_fail_rotation(mut snapshot: Snapshot) {
    let old = (snapshot.collected_at - chrono::Duration::days(200)).to_rfc3339();
    let rows = match &mut snapshot.accounts[0].iam.credential_report {
        vigil_posture::Collected::Ok(rows) => rows,
        other => panic!("credential report not collected: {other:?}"),
    };
    for row in rows.iter_mut().filter(|r| r.user == "good-group-member") {
        row.access_key_1_last_rotated = old.clone();
    }
    let results = evaluate(&snapshot, &EvalOptions::default());
    let mut checks = Checks {
        results: &results,
        failures: Vec::new(),
    };
    checks.expect("VIG-12", "user/good-group-member", Status::Fail);
    assert!(checks.failures.is_empty(), "{}", checks.failures.join("\n"));
}

/// An account whose credentials do not work (the endpoint is a closed port) is UNKNOWN
/// everywhere, naming the failed call — never PASS.
#[tokio::test]
async fn an_unreachable_account_is_unknown_never_pass() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let endpoint = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let ctx = AwsContext::load(AwsOptions {
        max_attempts: Some(1),
        ..AwsOptions::for_emulator(endpoint)
    })
    .await
    .expect("context");
    let opts = InventoryOptions {
        accounts: vec![MOTO_ACCOUNT.to_string()],
        ..InventoryOptions::default()
    };
    let events = Mutex::new(Vec::new());
    let (snapshot, stats) = collect(&ctx, &opts, &|e| events.lock().unwrap().push(e))
        .await
        .expect("collect");
    assert_eq!(stats.api_errors, 1, "{stats:?}");
    assert!(events.into_inner().unwrap().iter().any(
        |e| matches!(e, ProgressEvent::AccountFailed { account, .. } if account == MOTO_ACCOUNT)
    ));
    let results = evaluate(&snapshot, &EvalOptions::default());
    assert!(!results.is_empty());
    for r in &results {
        assert!(
            r.status == Status::Unknown || r.status == Status::NotApplicable,
            "{r:?}"
        );
    }
    let password = results
        .iter()
        .find(|r| r.control == "VIG-06")
        .expect("VIG-06");
    assert_eq!(password.status, Status::Unknown);
    assert!(
        password.reason.contains("sts:GetCallerIdentity"),
        "{}",
        password.reason
    );
}
