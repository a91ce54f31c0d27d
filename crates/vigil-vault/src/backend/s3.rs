//! The S3 backend: every object written with an Object Lock retention period.
//!
//! [`S3Backend::open`] refuses a bucket whose Object Lock is not enabled, before anything is
//! written. Each `put_once` sends `If-None-Match: *` (S3 conditional writes) after a
//! `HeadObject`, so an existing key is never written again; even if both were bypassed, the
//! bucket is versioned (Object Lock requires it) and the locked original version stays.
//! Items (not chain entries or signatures, which every read needs) go in the configured
//! storage class; everything is encrypted with SSE-KMS when a key is given.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use async_trait::async_trait;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::operation::RequestId;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    ChecksumAlgorithm, ObjectLockEnabled, ObjectLockLegalHoldStatus, ObjectLockMode,
    ServerSideEncryption, StorageClass,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{check_key, Backend, ObjectDigest, ObjectKind};
use crate::error::BackendError;

/// The Object Lock retention mode written on each object.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LockMode {
    /// Users with `s3:BypassGovernanceRetention` can still shorten or remove the lock.
    #[default]
    Governance,
    /// Nobody, the root user included, can delete the version before the date.
    Compliance,
}

impl FromStr for LockMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "governance" => Ok(LockMode::Governance),
            "compliance" => Ok(LockMode::Compliance),
            other => Err(format!(
                "unknown Object Lock mode {other:?} (governance or compliance)"
            )),
        }
    }
}

impl fmt::Display for LockMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LockMode::Governance => "governance",
            LockMode::Compliance => "compliance",
        })
    }
}

/// How evidence is written to S3. Defaults: governance mode, 365 days, no legal hold, the
/// bucket's default encryption, STANDARD storage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct S3Options {
    pub mode: LockMode,
    /// Retention period from the time of writing.
    pub retention_days: u32,
    /// Per-case retention that overrides `retention_days` (e.g. a case under litigation).
    pub case_retention_days: BTreeMap<String, u32>,
    /// Put a legal hold on every object (lifted only by someone with `s3:PutObjectLegalHold`).
    pub legal_hold: bool,
    /// Encrypt with SSE-KMS under this key (id, ARN or alias).
    pub kms_key_id: Option<String>,
    /// Storage class for evidence items, e.g. `GLACIER_IR` or `STANDARD_IA`. Classes that
    /// need a restore before reading (`GLACIER`, `DEEP_ARCHIVE`) make items unreadable to
    /// `get` and `verify` until restored.
    pub storage_class: Option<String>,
}

impl Default for S3Options {
    fn default() -> Self {
        S3Options {
            mode: LockMode::Governance,
            retention_days: 365,
            case_retention_days: BTreeMap::new(),
            legal_hold: false,
            kms_key_id: None,
            storage_class: None,
        }
    }
}

impl S3Options {
    fn validate(&self) -> Result<(), BackendError> {
        let bad = |m: String| Err(BackendError::InvalidOption(m));
        if self.retention_days == 0 {
            return bad("retention_days must be at least 1".into());
        }
        if let Some((case, _)) = self.case_retention_days.iter().find(|(_, d)| **d == 0) {
            return bad(format!("case {case}: retention days must be at least 1"));
        }
        if let Some(class) = &self.storage_class {
            if !StorageClass::values().contains(&class.as_str()) {
                return bad(format!(
                    "unknown storage class {class:?} (one of {})",
                    StorageClass::values().join(", ")
                ));
            }
        }
        if self.kms_key_id.as_deref() == Some("") {
            return bad("kms_key_id is empty".into());
        }
        Ok(())
    }

    /// Retention days for an object key (`cases/<case>/...` may have its own).
    fn retention_for(&self, key: &str) -> u32 {
        key.strip_prefix("cases/")
            .and_then(|rest| rest.split('/').next())
            .and_then(|case| self.case_retention_days.get(case))
            .copied()
            .unwrap_or(self.retention_days)
    }
}

/// A vault in an S3 bucket with Object Lock.
#[derive(Debug)]
pub struct S3Backend {
    client: aws_sdk_s3::Client,
    bucket: String,
    prefix: String,
    options: S3Options,
}

impl S3Backend {
    /// Connects to `s3://bucket/prefix` and checks that the bucket has Object Lock enabled.
    pub async fn open(
        ctx: &vigil_aws::AwsContext,
        bucket: &str,
        prefix: &str,
        options: S3Options,
    ) -> Result<Self, BackendError> {
        let cfg = ctx
            .config_for(None, None)
            .await
            .map_err(|e| BackendError::InvalidOption(e.to_string()))?;
        let mut conf = aws_sdk_s3::config::Builder::from(&cfg);
        if ctx.is_emulator() {
            conf = conf.force_path_style(true);
        }
        Self::with_client(
            aws_sdk_s3::Client::from_conf(conf.build()),
            bucket,
            prefix,
            options,
        )
        .await
    }

    /// As [`S3Backend::open`], with a client built by the caller.
    pub async fn with_client(
        client: aws_sdk_s3::Client,
        bucket: &str,
        prefix: &str,
        options: S3Options,
    ) -> Result<Self, BackendError> {
        options.validate()?;
        let prefix = prefix.trim_matches('/').to_string();
        if !prefix.is_empty() {
            check_key(&prefix)?;
        }
        let backend = S3Backend {
            client,
            bucket: bucket.to_string(),
            prefix,
            options,
        };
        backend.check_object_lock().await?;
        Ok(backend)
    }

    async fn check_object_lock(&self) -> Result<(), BackendError> {
        let out = self
            .client
            .get_object_lock_configuration()
            .bucket(&self.bucket)
            .send()
            .await;
        let not_enabled = |detail: String| BackendError::ObjectLockNotEnabled {
            bucket: self.bucket.clone(),
            detail,
        };
        match out {
            Ok(out) => {
                let enabled = out
                    .object_lock_configuration()
                    .and_then(|c| c.object_lock_enabled());
                if enabled == Some(&ObjectLockEnabled::Enabled) {
                    Ok(())
                } else {
                    Err(not_enabled(format!(
                        "GetObjectLockConfiguration says {:?}",
                        enabled.map(|e| e.as_str())
                    )))
                }
            }
            Err(e) if e.code() == Some("ObjectLockConfigurationNotFoundError") => Err(not_enabled(
                "the bucket has no Object Lock configuration".to_string(),
            )),
            Err(e) => Err(self.error("GetObjectLockConfiguration", "", &e)),
        }
    }

    fn full_key(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            key.to_string()
        } else {
            format!("{}/{key}", self.prefix)
        }
    }

    fn error<E>(&self, operation: &'static str, key: &str, e: &SdkError<E>) -> BackendError
    where
        E: std::error::Error + ProvideErrorMetadata + 'static,
    {
        let mut message = vigil_aws::error_chain(e);
        if let Some(code) = e.code() {
            message = format!("{code}: {}", e.message().unwrap_or(&message));
        }
        if let Some(id) = e.meta().request_id() {
            message.push_str(&format!(" (request id {id})"));
        }
        BackendError::S3 {
            bucket: self.bucket.clone(),
            key: self.full_key(key),
            operation,
            message,
        }
    }

    fn retain_until(&self, key: &str) -> aws_smithy_types::DateTime {
        let days = i64::from(self.options.retention_for(key));
        let until = chrono::Utc::now() + chrono::Duration::days(days);
        aws_smithy_types::DateTime::from_secs(until.timestamp())
    }

    async fn head(&self, key: &str) -> Result<bool, BackendError> {
        let out = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(self.full_key(key))
            .send()
            .await;
        match out {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(false),
            Err(e) if e.raw_response().map(|r| r.status().as_u16()) == Some(404) => Ok(false),
            Err(e) => Err(self.error("HeadObject", key, &e)),
        }
    }
}

#[async_trait]
impl Backend for S3Backend {
    fn location(&self) -> String {
        if self.prefix.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{}", self.bucket, self.prefix)
        }
    }

    async fn put_once(
        &self,
        key: &str,
        bytes: &[u8],
        kind: ObjectKind,
    ) -> Result<(), BackendError> {
        check_key(key)?;
        let exists = || BackendError::AlreadyExists {
            location: self.location(),
            key: key.to_string(),
        };
        if self.head(key).await? {
            return Err(exists());
        }
        let mode = match self.options.mode {
            LockMode::Governance => ObjectLockMode::Governance,
            LockMode::Compliance => ObjectLockMode::Compliance,
        };
        let mut put = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(self.full_key(key))
            .body(ByteStream::from(bytes.to_vec()))
            .if_none_match("*")
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .object_lock_mode(mode)
            .object_lock_retain_until_date(self.retain_until(key));
        if self.options.legal_hold {
            put = put.object_lock_legal_hold_status(ObjectLockLegalHoldStatus::On);
        }
        if let Some(kms) = &self.options.kms_key_id {
            put = put
                .server_side_encryption(ServerSideEncryption::AwsKms)
                .ssekms_key_id(kms);
        }
        if let (ObjectKind::Item, Some(class)) = (kind, &self.options.storage_class) {
            put = put.storage_class(StorageClass::from(class.as_str()));
        }
        match put.send().await {
            Ok(_) => Ok(()),
            Err(e) if e.raw_response().map(|r| r.status().as_u16()) == Some(412) => Err(exists()),
            Err(e) => Err(self.error("PutObject", key, &e)),
        }
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BackendError> {
        check_key(key)?;
        let out = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(self.full_key(key))
            .send()
            .await;
        let out = match out {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
            Err(e) => return Err(self.error("GetObject", key, &e)),
        };
        let bytes = out.body.collect().await.map_err(|e| BackendError::S3 {
            bucket: self.bucket.clone(),
            key: self.full_key(key),
            operation: "GetObject",
            message: format!("reading the body: {e}"),
        })?;
        Ok(Some(bytes.into_bytes().to_vec()))
    }

    async fn digest(&self, key: &str) -> Result<Option<ObjectDigest>, BackendError> {
        check_key(key)?;
        let out = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(self.full_key(key))
            .send()
            .await;
        let mut body = match out {
            Ok(out) => out.body,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
            Err(e) => return Err(self.error("GetObject", key, &e)),
        };
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| BackendError::S3 {
                bucket: self.bucket.clone(),
                key: self.full_key(key),
                operation: "GetObject",
                message: format!("reading the body: {e}"),
            })?;
            hasher.update(&chunk);
            size += chunk.len() as u64;
        }
        Ok(Some(ObjectDigest {
            sha256: hex::encode(hasher.finalize()),
            size,
        }))
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, BackendError> {
        let full = self.full_key(prefix.trim_end_matches('/'));
        let full = if prefix.is_empty() {
            if self.prefix.is_empty() {
                String::new()
            } else {
                format!("{}/", self.prefix)
            }
        } else {
            format!("{full}/")
        };
        let strip = if self.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.prefix)
        };
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(&full)
            .into_paginator()
            .send();
        let mut keys = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.error("ListObjectsV2", prefix, &e))?;
            for object in page.contents() {
                if let Some(key) = object.key().and_then(|k| k.strip_prefix(&strip)) {
                    keys.push(key.to_string());
                }
            }
        }
        keys.sort();
        Ok(keys)
    }

    async fn exists(&self, key: &str) -> Result<bool, BackendError> {
        check_key(key)?;
        self.head(key).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_checked() {
        assert!(S3Options::default().validate().is_ok());
        let zero = S3Options {
            retention_days: 0,
            ..S3Options::default()
        };
        assert!(zero.validate().is_err());
        let class = S3Options {
            storage_class: Some("FROZEN".into()),
            ..S3Options::default()
        };
        let err = class.validate().unwrap_err().to_string();
        assert!(err.contains("GLACIER_IR"), "{err}");
        assert_eq!("Compliance".parse::<LockMode>(), Ok(LockMode::Compliance));
        assert!("forever".parse::<LockMode>().is_err());
    }

    #[test]
    fn case_retention_overrides_the_default() {
        let options = S3Options {
            retention_days: 30,
            case_retention_days: [("legal-1".to_string(), 3650)].into_iter().collect(),
            ..S3Options::default()
        };
        assert_eq!(options.retention_for("cases/legal-1/items/ab"), 3650);
        assert_eq!(options.retention_for("cases/other/items/ab"), 30);
        assert_eq!(options.retention_for("keys/public.pem"), 30);
    }
}
