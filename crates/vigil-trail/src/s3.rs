//! The trail in its bucket: [`S3Source`] (ListObjectsV2, GetObject with its user metadata)
//! and [`CloudTrailKeys`] (the public keys from `cloudtrail:ListPublicKeys`).
//!
//! Permissions: `s3:ListBucket`, `s3:GetObject`, `s3:GetBucketLocation` on the trail bucket,
//! and `cloudtrail:ListPublicKeys` when no key file is given.

use std::collections::BTreeMap;

use aws_sdk_s3::Client;
use chrono::{DateTime, Utc};
use vigil_aws::{error_chain, AwsContext};

use crate::error::{KeyError, SourceError, TrailError};
use crate::keys::{KeyRing, TrailKey};
use crate::source::{Object, Source};
use crate::verify::KeyProvider;

/// A trail bucket in S3.
#[derive(Debug, Clone)]
pub struct S3Source {
    client: Client,
    bucket: String,
    page_size: Option<i32>,
}

impl S3Source {
    /// A source reading `bucket` with this client (which must be for the bucket's region).
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        S3Source {
            client,
            bucket: bucket.into(),
            page_size: None,
        }
    }

    /// Keys per ListObjectsV2 page (S3's default, 1000, when not set).
    pub fn with_page_size(mut self, keys: i32) -> Self {
        self.page_size = Some(keys);
        self
    }

    /// A source for `bucket` with the context's credentials, in the bucket's own region
    /// (asked with GetBucketLocation; the home region when that is refused).
    pub async fn connect(ctx: &AwsContext, bucket: &str) -> Result<Self, TrailError> {
        if bucket.is_empty() || bucket.contains('/') {
            return Err(TrailError::InvalidOption(format!(
                "bucket {bucket:?} is not a bucket name"
            )));
        }
        let home = ctx
            .config_for(None, None)
            .await
            .map_err(|e| TrailError::InvalidOption(e.to_string()))?;
        let client = s3_client(ctx, &home);
        let region = match client.get_bucket_location().bucket(bucket).send().await {
            Ok(out) => out
                .location_constraint()
                .map(|c| c.as_str().to_string())
                .filter(|c| !c.is_empty()),
            Err(e) => {
                tracing::debug!(bucket, error = %error_chain(&e), "GetBucketLocation refused; using the home region");
                None
            }
        };
        let client = match region.as_deref() {
            // Buckets created before regions had names answer `EU` for eu-west-1.
            Some(r) if r != ctx.region() => {
                let r = if r == "EU" { "eu-west-1" } else { r };
                let cfg = ctx
                    .config_for(None, Some(r))
                    .await
                    .map_err(|e| TrailError::InvalidOption(e.to_string()))?;
                s3_client(ctx, &cfg)
            }
            _ => client,
        };
        Ok(S3Source::new(client, bucket))
    }
}

fn s3_client(ctx: &AwsContext, cfg: &aws_config::SdkConfig) -> Client {
    // Emulators serve buckets by path, not by virtual host.
    let conf = aws_sdk_s3::config::Builder::from(cfg)
        .force_path_style(ctx.is_emulator())
        .build();
    Client::from_conf(conf)
}

impl Source for S3Source {
    fn bucket(&self) -> &str {
        &self.bucket
    }

    fn locate(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }

    async fn list_folders(&self, prefix: &str) -> Result<Vec<String>, SourceError> {
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .delimiter("/")
            .set_max_keys(self.page_size)
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.list_error(prefix, &e))?;
            for common in page.common_prefixes() {
                let name = common
                    .prefix()
                    .and_then(|p| p.strip_prefix(prefix))
                    .map(|p| p.trim_end_matches('/'));
                if let Some(name) = name.filter(|n| !n.is_empty()) {
                    out.push(name.to_string());
                }
            }
        }
        out.sort();
        Ok(out)
    }

    async fn list_keys(&self, prefix: &str) -> Result<Vec<String>, SourceError> {
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .set_max_keys(self.page_size)
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.list_error(prefix, &e))?;
            out.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_string)),
            );
        }
        out.sort();
        Ok(out)
    }

    async fn get(&self, key: &str) -> Result<Option<Object>, SourceError> {
        let read_error = |reason: String| SourceError::Read {
            location: self.locate(key),
            reason,
        };
        let out = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
            Err(e) => return Err(read_error(error_chain(&e))),
        };
        let metadata: BTreeMap<String, String> = out
            .metadata()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
                    .collect()
            })
            .unwrap_or_default();
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|e| read_error(error_chain(&e)))?
            .into_bytes()
            .to_vec();
        Ok(Some(Object { bytes, metadata }))
    }
}

impl S3Source {
    fn list_error(&self, prefix: &str, e: &(dyn std::error::Error + 'static)) -> SourceError {
        SourceError::List {
            location: self.locate(prefix),
            reason: error_chain(e),
        }
    }
}

/// CloudTrail's public keys, from `ListPublicKeys` in each region that has digests (and each
/// trail's home region).
#[derive(Debug, Clone)]
pub struct CloudTrailKeys {
    ctx: AwsContext,
}

impl CloudTrailKeys {
    pub fn new(ctx: AwsContext) -> Self {
        CloudTrailKeys { ctx }
    }

    async fn region_keys(
        &self,
        region: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<TrailKey>, KeyError> {
        let list_error = |reason: String| KeyError::List {
            region: region.to_string(),
            reason,
        };
        let cfg = self
            .ctx
            .config_for(None, Some(region))
            .await
            .map_err(|e| list_error(e.to_string()))?;
        let client = aws_sdk_cloudtrail::Client::new(&cfg);
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = client
                .list_public_keys()
                .start_time(aws_smithy_types::DateTime::from_secs(start.timestamp()))
                .end_time(aws_smithy_types::DateTime::from_secs(end.timestamp()))
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| list_error(error_chain(&e)))?;
            for key in out.public_key_list() {
                let Some(value) = key.value() else { continue };
                keys.push(public_key(region, value.as_ref(), key.fingerprint())?);
            }
            match out.next_token() {
                Some(next) if !next.is_empty() => token = Some(next.to_string()),
                _ => break,
            }
        }
        Ok(keys)
    }
}

/// A `ListPublicKeys` entry as a key: `Value` is the DER PKCS#1 key, `Fingerprint` its name.
pub(crate) fn public_key(
    region: &str,
    der: &[u8],
    fingerprint: Option<&str>,
) -> Result<TrailKey, KeyError> {
    TrailKey::from_pkcs1_der(&format!("ListPublicKeys in {region}"), der, fingerprint)
}

impl KeyProvider for CloudTrailKeys {
    /// Keys of every region that answers; a region that does not (not enabled, no permission)
    /// is logged, and its digests then report "no public key" — unless no region answers,
    /// which is an error.
    async fn keys_for(
        &self,
        regions: &[String],
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<KeyRing, KeyError> {
        let mut ring = KeyRing::new();
        let mut first_error = None;
        for region in regions {
            match self.region_keys(region, start, end).await {
                Ok(keys) => keys.into_iter().for_each(|k| ring.insert(k)),
                Err(e) => {
                    tracing::warn!(region = region.as_str(), error = %e, "Cannot list CloudTrail public keys");
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) if ring.is_empty() => Err(e),
            _ => Ok(ring),
        }
    }
}
