//! Credential, logging-tamper and KMS actions against moto: each test builds the resource,
//! proves dry-run changes nothing, executes and reads the state back, runs again for
//! `AlreadyDone`, and checks that a `vigil:protected=true` resource is refused.

use crate::common::{made_ops, params, planned_ops, run, TestEnv};
use serde_json::{json, Value};
use vigil_actions::{catalog, ActionOptions};
use vigil_respond::action::{ActionError, Outcome};

async fn iam_user(iam: &aws_sdk_iam::Client, name: &str, protected: bool) {
    let mut req = iam.create_user().user_name(name);
    if protected {
        req = req.tags(
            aws_sdk_iam::types::Tag::builder()
                .key("vigil:protected")
                .value("true")
                .build()
                .unwrap(),
        );
    }
    req.send().await.expect("create user");
}

async fn key_status(iam: &aws_sdk_iam::Client, user: &str) -> Vec<String> {
    iam.list_access_keys()
        .user_name(user)
        .send()
        .await
        .expect("list keys")
        .access_key_metadata()
        .iter()
        .map(|k| {
            k.status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default()
        })
        .collect()
}

#[tokio::test]
async fn deactivate_access_key_finds_the_owner_and_is_idempotent() {
    let t = TestEnv::start().await;
    let iam = aws_sdk_iam::Client::new(&t.config().await);
    iam_user(&iam, "alice", false).await;
    iam_user(&iam, "boss", true).await;
    let key = iam
        .create_access_key()
        .user_name("alice")
        .send()
        .await
        .unwrap();
    let key_id = key.access_key().unwrap().access_key_id().to_string();
    let p = params(json!({"access_key_id": key_id}));

    let dry = run(&t, "iam.deactivate_access_key", false, &p)
        .await
        .unwrap();
    assert_eq!(dry.outcome, Outcome::Planned);
    assert_eq!(planned_ops(&dry), ["UpdateAccessKey"]);
    assert!(
        made_ops(&dry).contains(&"GetAccessKeyLastUsed".to_string()),
        "owner resolved from the key"
    );
    assert_eq!(dry.outputs["user_name"], "alice");
    assert_eq!(
        key_status(&iam, "alice").await,
        ["Active"],
        "dry-run changed nothing"
    );

    let done = run(&t, "iam.deactivate_access_key", true, &p)
        .await
        .unwrap();
    assert_eq!(done.outcome, Outcome::Changed);
    assert_eq!(done.before["status"], "Active");
    assert_eq!(done.after["status"], "Inactive");
    let update = done
        .calls
        .iter()
        .find(|c| c.operation == "UpdateAccessKey")
        .unwrap();
    assert!(
        update.made && update.request_id.is_some(),
        "request id recorded: {update:?}"
    );
    assert_eq!(key_status(&iam, "alice").await, ["Inactive"]);

    let again = run(&t, "iam.deactivate_access_key", true, &p)
        .await
        .unwrap();
    assert_eq!(again.outcome, Outcome::AlreadyDone);
    assert!(
        planned_ops(&again).is_empty()
            && !made_ops(&again).contains(&"UpdateAccessKey".to_string())
    );
    assert_eq!(
        key_status(&iam, "alice").await,
        ["Inactive"],
        "still one key, still inactive"
    );

    let boss_key = iam
        .create_access_key()
        .user_name("boss")
        .send()
        .await
        .unwrap();
    let boss_id = boss_key.access_key().unwrap().access_key_id().to_string();
    let err = run(
        &t,
        "iam.deactivate_access_key",
        true,
        &params(json!({"access_key_id": boss_id, "user_name": "boss"})),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ActionError::Protected(_)), "{err}");
    assert_eq!(key_status(&iam, "boss").await, ["Active"]);

    let missing = run(
        &t,
        "iam.deactivate_access_key",
        true,
        &params(json!({"access_key_id": "AKIAIOSFODNN7EXAMPLE", "user_name": "alice"})),
    )
    .await
    .unwrap_err();
    assert!(matches!(missing, ActionError::NotFound(_)), "{missing}");
}

async fn user_policy(iam: &aws_sdk_iam::Client, user: &str) -> Option<Value> {
    let out = iam
        .get_user_policy()
        .user_name(user)
        .policy_name("vigil-deny-all")
        .send()
        .await
        .ok()?;
    Some(vigil_actions::common::decode_policy_document(out.policy_document()).unwrap())
}

#[tokio::test]
async fn deny_all_user_attaches_one_deny_everything_policy() {
    let t = TestEnv::start().await;
    let iam = aws_sdk_iam::Client::new(&t.config().await);
    iam_user(&iam, "mallory", false).await;
    iam_user(&iam, "root-admin", true).await;
    let p = params(json!({"user_name": "mallory"}));

    let dry = run(&t, "iam.deny_all_user", false, &p).await.unwrap();
    assert_eq!(dry.outcome, Outcome::Planned);
    assert_eq!(planned_ops(&dry), ["PutUserPolicy"]);
    assert!(
        user_policy(&iam, "mallory").await.is_none(),
        "dry-run wrote nothing"
    );

    let done = run(&t, "iam.deny_all_user", true, &p).await.unwrap();
    assert_eq!(done.outcome, Outcome::Changed);
    assert_eq!(done.before["policy"], Value::Null);
    let policy = user_policy(&iam, "mallory").await.expect("policy written");
    assert_eq!(policy["Statement"][0]["Effect"], "Deny");
    assert_eq!(policy["Statement"][0]["Action"], "*");
    assert_eq!(policy["Statement"][0]["Resource"], "*");

    let again = run(&t, "iam.deny_all_user", true, &p).await.unwrap();
    assert_eq!(again.outcome, Outcome::AlreadyDone);
    let names = iam
        .list_user_policies()
        .user_name("mallory")
        .send()
        .await
        .unwrap();
    assert_eq!(
        names.policy_names(),
        ["vigil-deny-all"],
        "no duplicate policy"
    );

    let err = run(
        &t,
        "iam.deny_all_user",
        true,
        &params(json!({"user_name": "root-admin"})),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ActionError::Protected(_)), "{err}");
    assert!(user_policy(&iam, "root-admin").await.is_none());
}

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

#[tokio::test]
async fn revoke_role_sessions_denies_tokens_issued_before_now() {
    let t = TestEnv::start().await;
    let iam = aws_sdk_iam::Client::new(&t.config().await);
    iam.create_role()
        .role_name("app")
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .unwrap();
    iam.create_role()
        .role_name("break-glass")
        .assume_role_policy_document(TRUST)
        .tags(
            aws_sdk_iam::types::Tag::builder()
                .key("vigil:protected")
                .value("true")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let read = |role: &'static str| {
        let iam = iam.clone();
        async move {
            let out = iam
                .get_role_policy()
                .role_name(role)
                .policy_name("vigil-revoke-sessions")
                .send()
                .await
                .ok()?;
            Some(vigil_actions::common::decode_policy_document(out.policy_document()).unwrap())
        }
    };
    let p = params(json!({"role_name": "app"}));

    let dry = run(&t, "iam.revoke_role_sessions", false, &p)
        .await
        .unwrap();
    assert_eq!(dry.outcome, Outcome::Planned);
    assert_eq!(planned_ops(&dry), ["PutRolePolicy"]);
    assert!(read("app").await.is_none());

    let done = run(&t, "iam.revoke_role_sessions", true, &p).await.unwrap();
    assert_eq!(done.outcome, Outcome::Changed);
    let policy = read("app").await.expect("policy written");
    let cutoff = t.now.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    assert_eq!(policy["Statement"][0]["Effect"], "Deny");
    assert_eq!(
        policy["Statement"][0]["Condition"]["DateLessThan"]["aws:TokenIssueTime"],
        cutoff.as_str()
    );
    assert_eq!(done.outputs["revoked_before"], cutoff.as_str());

    let again = run(&t, "iam.revoke_role_sessions", true, &p).await.unwrap();
    assert_eq!(again.outcome, Outcome::AlreadyDone);
    let names = iam
        .list_role_policies()
        .role_name("app")
        .send()
        .await
        .unwrap();
    assert_eq!(names.policy_names(), ["vigil-revoke-sessions"]);

    let err = run(
        &t,
        "iam.revoke_role_sessions",
        true,
        &params(json!({"role_name": "break-glass"})),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ActionError::Protected(_)), "{err}");
    assert!(read("break-glass").await.is_none());
}

#[tokio::test]
async fn delete_login_profile_keeps_the_fact_it_existed() {
    let t = TestEnv::start().await;
    let iam = aws_sdk_iam::Client::new(&t.config().await);
    iam_user(&iam, "carol", false).await;
    iam_user(&iam, "ops", true).await;
    for user in ["carol", "ops"] {
        iam.create_login_profile()
            .user_name(user)
            .password("Sup3r-secret-pw!")
            .send()
            .await
            .unwrap();
    }
    let exists = |user: &'static str| {
        let iam = iam.clone();
        async move { iam.get_login_profile().user_name(user).send().await.is_ok() }
    };
    let p = params(json!({"user_name": "carol"}));

    let dry = run(&t, "iam.delete_login_profile", false, &p)
        .await
        .unwrap();
    assert_eq!(dry.outcome, Outcome::Planned);
    assert_eq!(planned_ops(&dry), ["DeleteLoginProfile"]);
    assert!(exists("carol").await);

    let done = run(&t, "iam.delete_login_profile", true, &p).await.unwrap();
    assert_eq!(done.outcome, Outcome::Changed);
    assert_eq!(done.before["login_profile_exists"], true);
    assert!(done.before["login_profile"]["create_date"].is_string());
    assert_eq!(done.after["login_profile_exists"], false);
    assert!(!exists("carol").await);

    let again = run(&t, "iam.delete_login_profile", true, &p).await.unwrap();
    assert_eq!(again.outcome, Outcome::AlreadyDone);
    assert_eq!(again.outputs["had_login_profile"], false);

    let err = run(
        &t,
        "iam.delete_login_profile",
        true,
        &params(json!({"user_name": "ops"})),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ActionError::Protected(_)), "{err}");
    assert!(exists("ops").await);
}

// ---------------------------------------------------------------------------------------
// Logging tamper
// ---------------------------------------------------------------------------------------

async fn bucket(t: &TestEnv, name: &str) {
    let cfg = t.config().await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&cfg)
            .force_path_style(true)
            .build(),
    );
    s3.create_bucket()
        .bucket(name)
        .send()
        .await
        .expect("create bucket");
}

#[tokio::test]
async fn start_logging_restarts_a_stopped_trail() {
    let t = TestEnv::start().await;
    bucket(&t, "trail-logs").await;
    let ct = aws_sdk_cloudtrail::Client::new(&t.config().await);
    ct.create_trail()
        .name("org-trail")
        .s3_bucket_name("trail-logs")
        .send()
        .await
        .unwrap();
    ct.create_trail()
        .name("audit-trail")
        .s3_bucket_name("trail-logs")
        .tags_list(
            aws_sdk_cloudtrail::types::Tag::builder()
                .key("vigil:protected")
                .value("true")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let logging = |name: &'static str| {
        let ct = ct.clone();
        async move {
            ct.get_trail_status()
                .name(name)
                .send()
                .await
                .unwrap()
                .is_logging()
                .unwrap_or(false)
        }
    };
    assert!(!logging("org-trail").await, "moto creates trails stopped");
    let p = params(json!({"trail": "org-trail"}));

    let dry = run(&t, "cloudtrail.start_logging", false, &p)
        .await
        .unwrap();
    assert_eq!(dry.outcome, Outcome::Planned);
    assert_eq!(planned_ops(&dry), ["StartLogging"]);
    assert!(!logging("org-trail").await);

    let done = run(&t, "cloudtrail.start_logging", true, &p).await.unwrap();
    assert_eq!(done.outcome, Outcome::Changed);
    assert_eq!(done.before["is_logging"], false);
    assert_eq!(done.after["is_logging"], true);
    assert!(logging("org-trail").await);

    let again = run(&t, "cloudtrail.start_logging", true, &p).await.unwrap();
    assert_eq!(again.outcome, Outcome::AlreadyDone);

    let err = run(
        &t,
        "cloudtrail.start_logging",
        true,
        &params(json!({"trail": "audit-trail"})),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ActionError::Protected(_)), "{err}");
    assert!(!logging("audit-trail").await);
}

#[tokio::test]
async fn enable_detector_re_enables_or_creates() {
    let t = TestEnv::start().await;
    let gd = aws_sdk_guardduty::Client::new(&t.config().await);
    let id = gd
        .create_detector()
        .enable(false)
        .send()
        .await
        .unwrap()
        .detector_id()
        .unwrap()
        .to_string();
    let status = |id: String| {
        let gd = gd.clone();
        async move {
            gd.get_detector()
                .detector_id(id)
                .send()
                .await
                .unwrap()
                .status()
                .unwrap()
                .as_str()
                .to_string()
        }
    };
    let p = params(json!({}));

    let dry = run(&t, "guardduty.enable_detector", false, &p)
        .await
        .unwrap();
    assert_eq!(dry.outcome, Outcome::Planned);
    assert_eq!(planned_ops(&dry), ["UpdateDetector"]);
    assert_eq!(status(id.clone()).await, "DISABLED");

    let done = run(&t, "guardduty.enable_detector", true, &p)
        .await
        .unwrap();
    assert_eq!(done.outcome, Outcome::Changed);
    assert_eq!(done.outputs["detector_id"], id.as_str());
    assert_eq!(status(id.clone()).await, "ENABLED");

    let again = run(&t, "guardduty.enable_detector", true, &p)
        .await
        .unwrap();
    assert_eq!(again.outcome, Outcome::AlreadyDone);

    // An attacker deleted the detector: vigil creates one.
    gd.delete_detector().detector_id(&id).send().await.unwrap();
    let dry = run(&t, "guardduty.enable_detector", false, &p)
        .await
        .unwrap();
    assert_eq!(planned_ops(&dry), ["CreateDetector"]);
    assert!(gd
        .list_detectors()
        .send()
        .await
        .unwrap()
        .detector_ids()
        .is_empty());
    let created = run(&t, "guardduty.enable_detector", true, &p)
        .await
        .unwrap();
    assert_eq!(created.outcome, Outcome::Changed);
    let ids = gd
        .list_detectors()
        .send()
        .await
        .unwrap()
        .detector_ids()
        .to_vec();
    assert_eq!(ids.len(), 1);
    assert_eq!(status(ids[0].clone()).await, "ENABLED");
    let again = run(&t, "guardduty.enable_detector", true, &p)
        .await
        .unwrap();
    assert_eq!(again.outcome, Outcome::AlreadyDone);
    assert_eq!(
        gd.list_detectors()
            .send()
            .await
            .unwrap()
            .detector_ids()
            .len(),
        1,
        "no second detector"
    );
}

#[tokio::test]
async fn start_recorder_restarts_aws_config() {
    let t = TestEnv::start().await;
    let cfg = aws_sdk_config::Client::new(&t.config().await);
    let p = params(json!({}));
    let missing = run(&t, "config.start_recorder", true, &p)
        .await
        .unwrap_err();
    assert!(
        matches!(&missing, ActionError::NotFound(m) if m.contains("no AWS Config recorder")),
        "{missing}"
    );

    bucket(&t, "config-logs").await;
    cfg.put_configuration_recorder()
        .configuration_recorder(
            aws_sdk_config::types::ConfigurationRecorder::builder()
                .name("default")
                .role_arn("arn:aws:iam::123456789012:role/config")
                .build(),
        )
        .send()
        .await
        .unwrap();
    cfg.put_delivery_channel()
        .delivery_channel(
            aws_sdk_config::types::DeliveryChannel::builder()
                .name("default")
                .s3_bucket_name("config-logs")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let recording = || {
        let cfg = cfg.clone();
        async move {
            cfg.describe_configuration_recorder_status()
                .send()
                .await
                .unwrap()
                .configuration_recorders_status()[0]
                .recording()
        }
    };
    assert!(!recording().await);

    let dry = run(&t, "config.start_recorder", false, &p).await.unwrap();
    assert_eq!(dry.outcome, Outcome::Planned);
    assert_eq!(planned_ops(&dry), ["StartConfigurationRecorder"]);
    assert!(!recording().await);

    let done = run(&t, "config.start_recorder", true, &p).await.unwrap();
    assert_eq!(done.outcome, Outcome::Changed);
    assert_eq!(done.after["recording"], true);
    assert!(recording().await);

    let again = run(&t, "config.start_recorder", true, &p).await.unwrap();
    assert_eq!(again.outcome, Outcome::AlreadyDone);
}

// ---------------------------------------------------------------------------------------
// KMS
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn cancel_key_deletion_cancels_and_enables() {
    let t = TestEnv::start().await;
    let kms = aws_sdk_kms::Client::new(&t.config().await);
    let key = kms
        .create_key()
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .key_id()
        .to_string();
    let guarded = kms
        .create_key()
        .tags(
            aws_sdk_kms::types::Tag::builder()
                .tag_key("vigil:protected")
                .tag_value("true")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .key_id()
        .to_string();
    for k in [&key, &guarded] {
        kms.schedule_key_deletion()
            .key_id(k)
            .pending_window_in_days(7)
            .send()
            .await
            .unwrap();
    }
    let state = |k: String| {
        let kms = kms.clone();
        async move {
            kms.describe_key()
                .key_id(k)
                .send()
                .await
                .unwrap()
                .key_metadata()
                .unwrap()
                .key_state()
                .unwrap()
                .as_str()
                .to_string()
        }
    };
    let p = params(json!({"key_id": key}));

    let dry = run(&t, "kms.cancel_key_deletion", false, &p).await.unwrap();
    assert_eq!(dry.outcome, Outcome::Planned);
    assert_eq!(planned_ops(&dry), ["CancelKeyDeletion", "EnableKey"]);
    assert_eq!(state(key.clone()).await, "PendingDeletion");

    let done = run(&t, "kms.cancel_key_deletion", true, &p).await.unwrap();
    assert_eq!(done.outcome, Outcome::Changed);
    assert_eq!(done.before["key_state"], "PendingDeletion");
    assert_eq!(state(key.clone()).await, "Enabled");

    let again = run(&t, "kms.cancel_key_deletion", true, &p).await.unwrap();
    assert_eq!(again.outcome, Outcome::AlreadyDone);

    let err = run(
        &t,
        "kms.cancel_key_deletion",
        true,
        &params(json!({"key_id": guarded})),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ActionError::Protected(_)), "{err}");
    assert_eq!(state(guarded).await, "PendingDeletion");
}

// ---------------------------------------------------------------------------------------
// cloudtrail.collect_activity
// ---------------------------------------------------------------------------------------

fn record(time: &str, arn: &str, issuer: Option<&str>, key: &str, ip: &str, event: &str) -> Value {
    let mut identity =
        json!({"type": "IAMUser", "arn": arn, "accessKeyId": key, "accountId": "123456789012"});
    if let Some(issuer) = issuer {
        identity["type"] = json!("AssumedRole");
        identity["sessionContext"] = json!({"sessionIssuer": {"type": "Role", "arn": issuer}});
    }
    json!({
        "eventVersion": "1.08", "eventTime": time, "eventSource": "s3.amazonaws.com", "eventName": event,
        "awsRegion": "us-east-1", "sourceIPAddress": ip, "userIdentity": identity,
        "requestParameters": {"bucketName": "loot"},
        "resources": [{"type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::loot"}]
    })
}

/// A trail's delivery layout with a plain file, a gzip file, a damaged file and a non-log
/// file. The records are synthetic, written for this test.
fn write_trail_logs() -> std::path::PathBuf {
    use std::io::Write;
    let alice = "arn:aws:iam::123456789012:user/alice";
    let session = "arn:aws:sts::123456789012:assumed-role/Admin/s1";
    let role = "arn:aws:iam::123456789012:role/Admin";
    let dir = std::env::temp_dir().join(format!("vigil-trail-{}-{}", std::process::id(), line!()));
    let day = dir.join("AWSLogs/123456789012/CloudTrail/us-east-1/2024/05/01");
    std::fs::create_dir_all(&day).unwrap();
    let plain = json!({"Records": [
        record("2024-05-01T10:00:00Z", alice, None, "AKIAALICE", "203.0.113.7", "GetObject"),
        record("2024-05-01T09:00:00Z", session, Some(role), "ASIAADMIN", "198.51.100.9", "ListBuckets"),
        record("2024-04-20T10:00:00Z", alice, None, "AKIAALICE", "203.0.113.7", "GetObject"),
    ]});
    std::fs::write(day.join("a.json"), plain.to_string()).unwrap();
    let gz = json!({"Records": [
        record("2024-05-01T11:00:00Z", alice, None, "AKIAALICE", "203.0.113.8", "PutBucketPolicy"),
        record("2024-05-01T11:30:00Z", "arn:aws:iam::123456789012:user/bob", None, "AKIABOB", "192.0.2.1", "GetObject"),
    ]});
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(gz.to_string().as_bytes()).unwrap();
    std::fs::write(day.join("b.json.gz"), enc.finish().unwrap()).unwrap();
    std::fs::write(day.join("broken.json"), "{\"Records\": [ {\"eventTime\": ").unwrap();
    std::fs::write(day.join("notes.txt"), "not a log").unwrap();
    dir
}

fn evidence_lines(t: &TestEnv, index: usize) -> Vec<Value> {
    let item = &t.evidence.items()[index];
    assert_eq!(item.media_type, "application/x-ndjson");
    String::from_utf8(item.bytes.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn collect_activity_reads_local_trail_files() {
    let t = TestEnv::start().await;
    let dir = write_trail_logs();
    let base = json!({"logs_dir": dir.to_string_lossy(), "start": "2024-05-01T00:00:00Z", "end": "2024-05-02T00:00:00Z"});
    let with = |extra: Value| {
        let mut p = base.clone();
        p.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        params(p)
    };

    let by_key = run(
        &t,
        "cloudtrail.collect_activity",
        false,
        &with(json!({"access_key_id": "AKIAALICE"})),
    )
    .await
    .unwrap();
    assert_eq!(
        by_key.outcome,
        Outcome::Done,
        "read-only: runs under dry-run too"
    );
    assert!(by_key.calls.is_empty(), "local mode calls no API");
    assert_eq!(by_key.outputs["records"], 2);
    assert_eq!(by_key.evidence.len(), 1);
    assert!(
        by_key
            .note
            .as_deref()
            .unwrap_or_default()
            .contains("broken.json"),
        "{:?}",
        by_key.note
    );
    let lines = evidence_lines(&t, 0);
    assert_eq!(lines[0]["vigil_query"]["access_key_id"], "AKIAALICE");
    assert_eq!(lines[0]["records"], 2);
    assert_eq!(lines[0]["skipped_files"].as_array().unwrap().len(), 1);
    let times: Vec<&str> = lines[1..]
        .iter()
        .map(|r| r["eventTime"].as_str().unwrap())
        .collect();
    assert_eq!(
        times,
        ["2024-05-01T10:00:00Z", "2024-05-01T11:00:00Z"],
        "both files, time order, window applied"
    );

    let by_role = run(
        &t,
        "cloudtrail.collect_activity",
        false,
        &with(json!({"principal_arn": "arn:aws:iam::123456789012:role/Admin"})),
    )
    .await
    .unwrap();
    assert_eq!(by_role.outputs["records"], 1);
    assert_eq!(evidence_lines(&t, 1)[1]["eventName"], "ListBuckets");

    let by_ip = run(
        &t,
        "cloudtrail.collect_activity",
        false,
        &with(json!({"source_ip": "203.0.113.0/24"})),
    )
    .await
    .unwrap();
    assert_eq!(by_ip.outputs["records"], 2);

    let newest = run(
        &t,
        "cloudtrail.collect_activity",
        false,
        &with(json!({"access_key_id": "AKIAALICE", "max_events": 1})),
    )
    .await
    .unwrap();
    assert_eq!(newest.outputs["truncated"], true);
    assert_eq!(
        evidence_lines(&t, 3)[1]["eventName"],
        "PutBucketPolicy",
        "the newest record is kept"
    );
    assert_eq!(
        t.evidence.items().len(),
        4,
        "one evidence item per collection"
    );

    let bad = run(&t, "cloudtrail.collect_activity", false, &params(json!({"logs_dir": dir.join("nope").to_string_lossy(), "start": "2024-05-01T00:00:00Z", "access_key_id": "AKIAALICE"}))).await.unwrap_err();
    assert!(
        matches!(&bad, ActionError::InvalidParams(m) if m.contains("nope")),
        "{bad}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn collect_activity_surfaces_an_endpoint_without_lookup_events() {
    // moto 5.2 does not implement LookupEvents: the request must fail as an ActionError that
    // names the call, and nothing may be stored as if the principal had no activity.
    let t = TestEnv::start().await;
    let p = params(
        json!({"access_key_id": "AKIAALICE", "start": "2024-05-01T00:00:00Z", "end": "2024-05-02T00:00:00Z"}),
    );
    let catalog = catalog(t.ctx.clone(), ActionOptions::default());
    let action = catalog.get("cloudtrail.collect_activity").unwrap();
    assert_eq!(action.permissions(&p), ["cloudtrail:LookupEvents"]);
    assert!(action.cli(&p)[0].contains("AttributeKey=AccessKeyId,AttributeValue=AKIAALICE"));
    let err = action.run(&t.env(true), &p).await.unwrap_err();
    assert!(err.to_string().contains("LookupEvents"), "{err}");
    assert!(t.evidence.items().is_empty(), "nothing stored on failure");
}
