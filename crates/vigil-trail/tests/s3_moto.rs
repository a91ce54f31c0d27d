//! The S3 source and fetch against moto, through the real SDK: a generated trail is uploaded
//! with its `signature` user metadata, verified in the bucket, copied with `fetch`, and the
//! copy verified; tampering in the bucket is then seen.
//!
//! Limit: moto does not implement `cloudtrail:ListPublicKeys`, so keys come from a key file
//! here; [`list_public_keys_is_asked_per_region`] only shows the call is made and its failure
//! is an error naming the region. The conversion of a `ListPublicKeys` entry is tested with
//! AWS's own example in `keys.rs`.

mod common;

use std::collections::HashMap;

use aws_sdk_s3::primitives::ByteStream;
use common::*;
use vigil_aws::{AwsContext, AwsOptions};
use vigil_testkit::MotoServer;
use vigil_trail::{
    fetch, verify, CloudTrailKeys, DigestStatus, DirSource, KeyProvider, LogStatus, S3Source,
    Source, TrailLocation, VerifyOptions,
};

fn options() -> VerifyOptions {
    VerifyOptions {
        location: TrailLocation {
            account: Some(ACCOUNT.into()),
            ..TrailLocation::default()
        },
        start: Some(t(2024, 5, 1, 0, 0, 0)),
        end: Some(t(2024, 5, 1, 6, 0, 0)),
    }
}

struct Bucket {
    ctx: AwsContext,
    client: aws_sdk_s3::Client,
}

async fn bucket(moto: &MotoServer) -> Bucket {
    let ctx = AwsContext::load(AwsOptions::for_emulator(moto.endpoint()))
        .await
        .unwrap();
    let cfg = ctx.config_for(None, None).await.unwrap();
    let conf = aws_sdk_s3::config::Builder::from(&cfg)
        .force_path_style(true)
        .build();
    let client = aws_sdk_s3::Client::from_conf(conf);
    client.create_bucket().bucket(BUCKET).send().await.unwrap();
    Bucket { ctx, client }
}

impl Bucket {
    async fn upload(&self, trail: &Trail) {
        for (key, object) in &trail.objects {
            self.put(key, object).await;
        }
    }

    async fn put(&self, key: &str, object: &vigil_trail::Object) {
        let metadata: HashMap<String, String> = object.metadata.clone().into_iter().collect();
        self.client
            .put_object()
            .bucket(BUCKET)
            .key(key)
            .body(ByteStream::from(object.bytes.clone()))
            .set_metadata(Some(metadata))
            .send()
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn verifies_a_trail_in_s3_fetches_it_and_verifies_the_copy() {
    let moto = MotoServer::start().unwrap();
    let bucket = bucket(&moto).await;
    let mut trail = Trail::default();
    let (digests, logs) = trail.hourly(t(2024, 5, 1, 1, 0, 31), 3, 2);
    bucket.upload(&trail).await;

    let source = S3Source::connect(&bucket.ctx, BUCKET).await.unwrap();
    let report = verify(&source, &ring(SIGNING_KEY), &options())
        .await
        .unwrap();
    let s = report.summary();
    assert_eq!(
        (s.digests_valid, s.logs_valid, s.problems()),
        (3, 6, 0),
        "{report:#}"
    );
    assert!(report.is_valid());
    assert!(report.digests[0]
        .location
        .starts_with("s3://example-bucket/AWSLogs/"));

    // The copy: every digest with its metadata beside it, every log file.
    let dir = tempfile::tempdir().unwrap();
    let fetched = fetch(&source, &options(), dir.path()).await.unwrap();
    assert_eq!((fetched.digests, fetched.logs), (3, 6), "{fetched}");
    assert!(fetched.skipped.is_empty());
    let meta_path = vigil_trail::metadata_path(&dir.path().join(&digests[0]));
    let meta: HashMap<String, String> =
        serde_json::from_str(&std::fs::read_to_string(meta_path).unwrap()).unwrap();
    assert_eq!(
        meta["signature"],
        trail.objects[&digests[0]].metadata["signature"]
    );
    assert_eq!(meta["signature-algorithm"], "SHA256withRSA");
    let copy = DirSource::open(dir.path()).unwrap();
    assert_eq!(copy.bucket(), BUCKET);
    let report = verify(&copy, &ring(SIGNING_KEY), &options()).await.unwrap();
    let s = report.summary();
    assert_eq!(
        (s.digests_valid, s.logs_valid, s.problems()),
        (3, 6, 0),
        "{report:#}"
    );

    // Tampering in the bucket: a rewritten log file and a deleted digest.
    let mut tampered = trail.objects[&logs[0][1]].clone();
    tampered.bytes = gzip(br#"{"Records":[]}"#);
    bucket.put(&logs[0][1], &tampered).await;
    bucket
        .client
        .delete_object()
        .bucket(BUCKET)
        .key(&digests[1])
        .send()
        .await
        .unwrap();
    let report = verify(&source, &ring(SIGNING_KEY), &options())
        .await
        .unwrap();
    assert!(matches!(
        report.log(&logs[0][1]).unwrap().status,
        LogStatus::Modified { .. }
    ));
    assert!(matches!(
        report.digest(&digests[1]).unwrap().status,
        DigestStatus::Missing { .. }
    ));
    assert!(!report.is_valid());

    // Fetching again into the same copy is allowed; into a copy of another bucket is not.
    std::fs::write(
        dir.path().join(vigil_trail::SOURCE_FILE),
        br#"{"bucket": "someone-else"}"#,
    )
    .unwrap();
    let err = fetch(&source, &options(), dir.path()).await.unwrap_err();
    assert!(err.to_string().contains("someone-else"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn listing_follows_every_page() {
    let moto = MotoServer::start().unwrap();
    let bucket = bucket(&moto).await;
    let mut trail = Trail::default();
    trail.hourly(t(2024, 5, 1, 1, 0, 31), 3, 2);
    bucket.upload(&trail).await;
    let source = S3Source::connect(&bucket.ctx, BUCKET)
        .await
        .unwrap()
        .with_page_size(2);
    let keys = source.list_keys("AWSLogs/").await.unwrap();
    assert_eq!(keys.len(), 9);
    assert_eq!(keys, trail.objects.keys().cloned().collect::<Vec<_>>());
    let report = verify(&source, &ring(SIGNING_KEY), &options())
        .await
        .unwrap();
    assert_eq!(report.summary().logs_valid, 6, "{report:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_bucket_is_an_error() {
    let moto = MotoServer::start().unwrap();
    let bucket = bucket(&moto).await;
    let source = S3Source::connect(&bucket.ctx, "no-such-bucket")
        .await
        .unwrap();
    let err = verify(&source, &ring(SIGNING_KEY), &options())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("s3://no-such-bucket/"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn list_public_keys_is_asked_per_region() {
    let moto = MotoServer::start().unwrap();
    let ctx = AwsContext::load(AwsOptions::for_emulator(moto.endpoint()))
        .await
        .unwrap();
    let keys = CloudTrailKeys::new(ctx);
    let err = keys
        .keys_for(
            &["us-east-2".to_string()],
            t(2024, 5, 1, 0, 0, 0),
            t(2024, 5, 2, 0, 0, 0),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("ListPublicKeys") && err.contains("us-east-2"),
        "{err}"
    );
}
