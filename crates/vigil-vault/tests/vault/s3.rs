//! The S3 backend against moto: Object Lock checked before writing, retention on every
//! object, locked versions that cannot be deleted or replaced.
//!
//! moto enforces Object Lock on versions (a locked version cannot be deleted; compliance mode
//! ignores the governance bypass) and stores retention, legal hold, SSE-KMS and storage
//! class, reading them back through HeadObject. It does not encrypt or move data between
//! storage classes; those tests prove what vigil asked for, which is what vigil controls.

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::types::{
    DefaultRetention, ObjectLockConfiguration, ObjectLockEnabled, ObjectLockLegalHoldStatus,
    ObjectLockMode, ObjectLockRetentionMode, ObjectLockRule, ServerSideEncryption, StorageClass,
};
use vigil_aws::{AwsContext, AwsOptions};
use vigil_vault::{
    open_backend, Backend, BackendError, LockMode, ObjectKind, Problem, S3Backend, S3Options,
    SigningKeyPair, Vault, VaultError, VaultLocation, VerifyOptions,
};

use crate::common::{actor, item, CASE};

const BUCKET: &str = "vigil-evidence";
const PREFIX: &str = "vigil/prod";

struct Moto {
    _server: vigil_testkit::MotoServer,
    ctx: AwsContext,
    s3: aws_sdk_s3::Client,
    dir: tempfile::TempDir,
}

async fn moto() -> Moto {
    let server = vigil_testkit::MotoServer::start().unwrap();
    let ctx = AwsContext::load(AwsOptions::for_emulator(server.endpoint()))
        .await
        .unwrap();
    let cfg = ctx.config_for(None, None).await.unwrap();
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&cfg)
            .force_path_style(true)
            .build(),
    );
    Moto {
        _server: server,
        ctx,
        s3,
        dir: tempfile::tempdir().unwrap(),
    }
}

/// A bucket with Object Lock enabled and a one-day governance default retention.
async fn locked_bucket(m: &Moto) {
    m.s3.create_bucket()
        .bucket(BUCKET)
        .object_lock_enabled_for_bucket(true)
        .send()
        .await
        .unwrap();
    let retention = DefaultRetention::builder()
        .mode(ObjectLockRetentionMode::Governance)
        .days(1)
        .build();
    m.s3.put_object_lock_configuration()
        .bucket(BUCKET)
        .object_lock_configuration(
            ObjectLockConfiguration::builder()
                .object_lock_enabled(ObjectLockEnabled::Enabled)
                .rule(
                    ObjectLockRule::builder()
                        .default_retention(retention)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
}

/// An initialised vault at s3://BUCKET/PREFIX with these options.
async fn s3_vault(m: &Moto, options: S3Options) -> Vault {
    let key_path = m.dir.path().join("signing.key");
    let backend = S3Backend::open(&m.ctx, BUCKET, PREFIX, options)
        .await
        .unwrap();
    Vault::init(&backend, &key_path).await.unwrap();
    let signer = SigningKeyPair::load(&key_path).unwrap();
    Vault::open(Box::new(backend), Some(signer), actor())
        .await
        .unwrap()
}

fn full(key: &str) -> String {
    format!("{PREFIX}/{key}")
}

async fn version_of(m: &Moto, key: &str) -> String {
    let out =
        m.s3.list_object_versions()
            .bucket(BUCKET)
            .prefix(full(key))
            .send()
            .await
            .unwrap();
    let versions = out.versions();
    assert_eq!(versions.len(), 1, "{versions:?}");
    versions[0].version_id().unwrap().to_string()
}

#[tokio::test]
async fn an_s3_vault_writes_every_object_with_retention_and_verifies() {
    let m = moto().await;
    locked_bucket(&m).await;
    let options = S3Options {
        mode: LockMode::Governance,
        retention_days: 30,
        storage_class: Some("STANDARD_IA".into()),
        ..S3Options::default()
    };
    let vault = s3_vault(&m, options).await;
    let a = vault
        .add(item(CASE, "a.json", b"{\"a\":1}"))
        .await
        .unwrap()
        .sha256;
    vault.add(item(CASE, "b.bin", b"bbbb")).await.unwrap();
    vault.get(CASE, &a).await.unwrap();
    let report = vault
        .verify_case(CASE, &VerifyOptions::default())
        .await
        .unwrap();
    assert!(report.is_ok(), "{report}");
    assert_eq!(
        (report.entries, report.items, report.custody_seq),
        (3, 2, Some(3))
    );
    assert_eq!(report.location, format!("s3://{BUCKET}/{PREFIX}"));

    // Every object under the prefix is locked in governance mode for 30 days; items are in
    // the archive class, metadata is not.
    let listed =
        m.s3.list_objects_v2()
            .bucket(BUCKET)
            .prefix(format!("{PREFIX}/"))
            .send()
            .await
            .unwrap();
    let keys: Vec<String> = listed
        .contents()
        .iter()
        .filter_map(|o| o.key().map(String::from))
        .collect();
    assert_eq!(keys.len(), 1 + 2 + 4 + 4, "{keys:?}"); // key, items, entries, heads
    let now = chrono::Utc::now().timestamp();
    for key in &keys {
        let head =
            m.s3.head_object()
                .bucket(BUCKET)
                .key(key)
                .send()
                .await
                .unwrap();
        assert_eq!(
            head.object_lock_mode(),
            Some(&ObjectLockMode::Governance),
            "{key}"
        );
        let until = head.object_lock_retain_until_date().unwrap().secs();
        assert!(
            (until - now - 30 * 86_400).abs() < 600,
            "{key}: retained until {until}"
        );
        let is_item = key.contains("/items/");
        assert_eq!(
            head.storage_class() == Some(&StorageClass::StandardIa),
            is_item,
            "{key}"
        );
    }

    // A governance-locked version cannot be deleted without the bypass permission.
    let item_key = format!("cases/{CASE}/items/{a}");
    let version = version_of(&m, &item_key).await;
    let err =
        m.s3.delete_object()
            .bucket(BUCKET)
            .key(full(&item_key))
            .version_id(&version)
            .send()
            .await;
    assert_eq!(
        err.unwrap_err().code(),
        Some("AccessDenied"),
        "deleting a locked version"
    );

    // The bundle from S3 verifies offline.
    let out = m.dir.path().join("case.tar.gz");
    vault.export(CASE, &out).await.unwrap();
    let offline = vigil_vault::verify_bundle(&out, Some(vault.public_key())).unwrap();
    assert!(offline.is_ok(), "{offline}");
    assert_eq!(offline.entries, 5);

    // A second vault opened on the same location lists what the first wrote.
    let reopened = open_backend(
        &format!("s3://{BUCKET}/{PREFIX}")
            .parse::<VaultLocation>()
            .unwrap(),
        Some(&m.ctx),
        &S3Options::default(),
    )
    .await
    .unwrap();
    let readonly = Vault::open(reopened, None, actor()).await.unwrap();
    assert_eq!(readonly.cases().await.unwrap()[0].items, 2);

    // Governance mode is what it says: someone allowed to bypass it can delete the version
    // (compliance mode, below, cannot be bypassed). The vault then names the loss.
    m.s3.delete_object()
        .bucket(BUCKET)
        .key(full(&item_key))
        .version_id(&version)
        .bypass_governance_retention(true)
        .send()
        .await
        .unwrap();
    let report = readonly
        .verify_case(CASE, &VerifyOptions::default())
        .await
        .unwrap();
    assert!(
        matches!(&report.problems[..], [Problem::ItemMissing { sha256, .. }] if *sha256 == a),
        "{report}"
    );
}

#[tokio::test]
async fn a_locked_item_cannot_be_deleted_or_overwritten() {
    let m = moto().await;
    locked_bucket(&m).await;
    let options = S3Options {
        mode: LockMode::Compliance,
        retention_days: 7,
        legal_hold: true,
        ..S3Options::default()
    };
    let vault = s3_vault(&m, options.clone()).await;
    let original = b"disk image".to_vec();
    let sha = vault
        .add(item(CASE, "disk.img", &original))
        .await
        .unwrap()
        .sha256;
    let key = format!("cases/{CASE}/items/{sha}");

    let head =
        m.s3.head_object()
            .bucket(BUCKET)
            .key(full(&key))
            .send()
            .await
            .unwrap();
    assert_eq!(head.object_lock_mode(), Some(&ObjectLockMode::Compliance));
    assert_eq!(
        head.object_lock_legal_hold_status(),
        Some(&ObjectLockLegalHoldStatus::On)
    );
    let version = version_of(&m, &key).await;

    // Deleting the version fails, even with the governance bypass (compliance mode).
    for bypass in [false, true] {
        let out =
            m.s3.delete_object()
                .bucket(BUCKET)
                .key(full(&key))
                .version_id(&version)
                .bypass_governance_retention(bypass)
                .send()
                .await;
        assert_eq!(
            out.unwrap_err().code(),
            Some("AccessDenied"),
            "delete with bypass={bypass}"
        );
    }

    // The vault refuses to write the key again.
    let backend = S3Backend::open(&m.ctx, BUCKET, PREFIX, options)
        .await
        .unwrap();
    let err = backend
        .put_once(&key, b"other", ObjectKind::Item)
        .await
        .unwrap_err();
    assert!(matches!(err, BackendError::AlreadyExists { .. }), "{err}");

    // A writer going around the vault can add a new version, but not replace the locked one:
    // it is still there, byte for byte, and verify names the change it sees.
    m.s3.put_object()
        .bucket(BUCKET)
        .key(full(&key))
        .body(b"replaced".to_vec().into())
        .send()
        .await
        .unwrap();
    let kept =
        m.s3.get_object()
            .bucket(BUCKET)
            .key(full(&key))
            .version_id(&version)
            .send()
            .await
            .unwrap();
    assert_eq!(
        kept.body.collect().await.unwrap().into_bytes().to_vec(),
        original
    );
    let report = vault
        .verify_case(CASE, &VerifyOptions::default())
        .await
        .unwrap();
    assert!(
        matches!(&report.problems[..], [Problem::ItemAltered { sha256, .. }] if *sha256 == sha),
        "{report}"
    );
}

#[tokio::test]
async fn put_once_uses_a_conditional_write() {
    // Straight to the conditional PUT (no HeadObject first would still be refused): write a
    // key, then ask S3 directly with If-None-Match, as put_once does.
    let m = moto().await;
    locked_bucket(&m).await;
    let backend = S3Backend::open(&m.ctx, BUCKET, "", S3Options::default())
        .await
        .unwrap();
    backend
        .put_once("a/b", b"one", ObjectKind::Metadata)
        .await
        .unwrap();
    let second =
        m.s3.put_object()
            .bucket(BUCKET)
            .key("a/b")
            .if_none_match("*")
            .body(b"two".to_vec().into())
            .send()
            .await;
    let status = second
        .as_ref()
        .err()
        .and_then(|e| e.raw_response())
        .map(|r| r.status().as_u16());
    assert_eq!(status, Some(412), "{second:?}");
    assert_eq!(backend.get("a/b").await.unwrap().unwrap(), b"one");
    assert_eq!(backend.list("").await.unwrap(), vec!["a/b".to_string()]);
}

#[tokio::test]
async fn a_bucket_without_object_lock_is_refused_before_any_write() {
    let m = moto().await;
    m.s3.create_bucket()
        .bucket("plain-bucket")
        .send()
        .await
        .unwrap();
    let err = S3Backend::open(&m.ctx, "plain-bucket", "v", S3Options::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, BackendError::ObjectLockNotEnabled { .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("Object Lock is not enabled"),
        "{err}"
    );
    let location: VaultLocation = "s3://plain-bucket/v".parse().unwrap();
    let err = open_backend(&location, Some(&m.ctx), &S3Options::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            VaultError::Backend(BackendError::ObjectLockNotEnabled { .. })
        ),
        "{err}"
    );
    let listed =
        m.s3.list_objects_v2()
            .bucket("plain-bucket")
            .send()
            .await
            .unwrap();
    assert_eq!(listed.key_count(), Some(0));

    // A bucket that does not exist is an S3 error naming the bucket.
    let err = S3Backend::open(&m.ctx, "no-such-bucket", "", S3Options::default())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no-such-bucket"), "{err}");
    // Without AWS access an S3 location is a clear error.
    let err = open_backend(&location, None, &S3Options::default())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("needs AWS access"), "{err}");
}

#[tokio::test]
async fn items_are_encrypted_under_the_configured_kms_key() {
    let m = moto().await;
    locked_bucket(&m).await;
    let cfg = m.ctx.config_for(None, None).await.unwrap();
    let kms = aws_sdk_kms::Client::new(&cfg);
    let key = kms.create_key().send().await.unwrap();
    let key_arn = key.key_metadata().unwrap().arn().unwrap().to_string();
    let options = S3Options {
        kms_key_id: Some(key_arn.clone()),
        ..S3Options::default()
    };
    let vault = s3_vault(&m, options).await;
    let sha = vault.add(item(CASE, "a", b"secret")).await.unwrap().sha256;
    let head =
        m.s3.head_object()
            .bucket(BUCKET)
            .key(full(&format!("cases/{CASE}/items/{sha}")))
            .send()
            .await
            .unwrap();
    assert_eq!(
        head.server_side_encryption(),
        Some(&ServerSideEncryption::AwsKms)
    );
    assert_eq!(head.ssekms_key_id(), Some(key_arn.as_str()));
    assert!(vault
        .verify_case(CASE, &VerifyOptions::default())
        .await
        .unwrap()
        .is_ok());
}
