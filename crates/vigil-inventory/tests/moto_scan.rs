//! The inventory against moto: a deliberately misconfigured account next to correctly
//! configured resources is collected through the real SDK and evaluated with the posture
//! controls; the bad resources must FAIL, the good ones PASS, and what moto cannot answer
//! must be UNKNOWN naming the call — never PASS.
//!
//! One moto server and one collection (two regions) serve every assertion (a 2-core CI
//! machine). `scan::<area>::live` checks the collection as it is; `scan::<area>::edited`
//! changes one field of the collected snapshot for what moto cannot create (old dates, root
//! credentials, APIs it lacks) or for the other side of an account-level control. The test
//! then requires an asserted FAIL and an asserted PASS for each of the 75 controls.
//! `tests/COVERAGE.md` lists, per control, the calls that feed it, what moto does with them
//! and where each side is tested.

mod fixture;
mod scan;

use std::sync::Mutex;

use scan::{Checks, Coverage};
use vigil_aws::{AwsContext, AwsOptions};
use vigil_inventory::{collect, InventoryOptions, ProgressEvent};
use vigil_posture::{evaluate, ControlResult, EvalOptions, Snapshot, Status};
use vigil_testkit::{MotoOptions, MotoServer, MOTO_ACCOUNT};

/// The services collected once per account (the first entries of `SERVICES`).
const GLOBAL_SERVICES: usize = 7; // iam, account, s3, s3control, cloudfront, organizations, sso-admin

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
    let opts = InventoryOptions {
        regions: vec!["us-east-1".into(), fixture::SECOND_REGION.into()],
        ..InventoryOptions::default()
    };
    let (snapshot, stats) = collect(&ctx, &opts, &|e| events.lock().unwrap().push(e))
        .await
        .expect("collect");
    check_stats(&snapshot, &stats);
    check_progress(&events.into_inner().unwrap());

    let results = evaluate(&snapshot, &EvalOptions::default());
    let mut live = Checks::new("live", results.clone());
    scan::identity::live(&mut live, &fx);
    scan::detection::live(&mut live, &fx);
    scan::infrastructure::live(&mut live, &fx);
    scan::data::live(&mut live, &fx);
    scan::readiness::live(&mut live, &fx);
    collected_shapes(&mut live, &snapshot);
    let mut coverage = Coverage::default();
    coverage.absorb(live);
    scan::identity::edited(&snapshot, &mut coverage);
    scan::detection::edited(&snapshot, &mut coverage);
    scan::infrastructure::edited(&snapshot, &fx, &mut coverage);
    scan::data::edited(&snapshot, &mut coverage);
    scan::readiness::edited(&snapshot, &mut coverage);
    scan::readiness::central_trail(&snapshot, &mut coverage);
    assert!(
        coverage.failures().is_empty(),
        "{} mismatches:\n{}",
        coverage.failures().len(),
        coverage.failures().join("\n")
    );
    let missing = coverage.missing_pairs();
    assert!(
        missing.is_empty(),
        "controls without both an asserted FAIL and PASS: {missing:?}"
    );

    re_evaluated_from_a_file(&snapshot, &results);
}

/// The run is counted and reported.
fn check_stats(snapshot: &Snapshot, stats: &vigil_inventory::CollectStats) {
    assert_eq!(snapshot.accounts.len(), 1);
    assert_eq!(snapshot.accounts[0].account_id, MOTO_ACCOUNT);
    assert_eq!(
        snapshot.regions,
        vec!["us-east-1".to_string(), fixture::SECOND_REGION.to_string()]
    );
    assert!(stats.api_calls > 200, "{stats:?}");
    assert_eq!(snapshot.api_calls, stats.api_calls);
    let per_service: u64 = stats.per_service.values().map(|(calls, _)| calls).sum();
    assert_eq!(per_service, stats.api_calls);
    // access-analyzer is not in moto: its call fails in each region and is counted.
    assert!(
        stats
            .per_service
            .get("access-analyzer")
            .is_some_and(|(_, errors)| *errors >= 2),
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
    assert_eq!(buckets.len(), 7, "{buckets:?}");
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
}

fn check_progress(events: &[ProgressEvent]) {
    let regional = vigil_inventory::SERVICES.len() - GLOBAL_SERVICES;
    let planned = GLOBAL_SERVICES + 2 * regional;
    assert!(
        matches!(events.first(), Some(ProgressEvent::Planned { groups, .. }) if *groups == planned)
    );
    let started = events
        .iter()
        .filter(|e| matches!(e, ProgressEvent::GroupStarted { .. }))
        .count();
    let finished = events
        .iter()
        .filter(|e| matches!(e, ProgressEvent::GroupFinished { .. }))
        .count();
    assert_eq!(started, planned);
    assert_eq!(finished, started);
}

/// What the collectors read back, beyond what the controls above judge.
fn collected_shapes(c: &mut Checks, snapshot: &Snapshot) {
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
        c.report("bad-public-acl: the AllUsers READ grant was not collected".into());
    }
    let good = buckets.iter().find(|b| b.name == "good-private");
    let encrypted = good.and_then(|b| b.encryption.ok()).is_some_and(|e| {
        e.as_ref()
            .is_some_and(|rules| rules.iter().any(|r| r.sse_algorithm == "AES256"))
    });
    if !encrypted {
        c.report(format!(
            "good-private: encryption not collected: {:?}",
            good.map(|b| &b.encryption)
        ));
    }
    let plain = buckets.iter().find(|b| b.name == "bad-public-policy");
    if plain.map(|b| &b.public_access_block) != Some(&vigil_posture::Collected::Ok(None)) {
        c.report(format!(
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
        c.report(format!(
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
