//! Where the vault's objects live: a local directory or an S3 bucket with Object Lock.
//!
//! A backend stores write-once objects under `/`-separated keys. It never rewrites or deletes
//! one: `put_once` refuses an existing key. The vault's layout is the same on every backend
//! (`keys/public.pem`, `cases/<case>/items/<sha256>`, `cases/<case>/chain/<seq>.json`,
//! `cases/<case>/heads/<seq>.sig.json`), which is why the chain is one object per entry rather
//! than an appended file: S3 cannot append, and with one shape the verifier is the same code
//! for both.

mod local;
mod s3;

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use async_trait::async_trait;

pub use local::LocalBackend;
pub use s3::{LockMode, S3Backend, S3Options};

use crate::error::{BackendError, VaultError};

/// What an object is, so a backend can treat evidence bytes differently from metadata (the S3
/// backend puts only items in the archive storage class).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    /// Evidence bytes (`items/<sha256>`).
    Item,
    /// Chain entries, head signatures, the public key.
    Metadata,
}

/// SHA-256 and size of a stored object, computed while streaming it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectDigest {
    pub sha256: String,
    pub size: u64,
}

/// Write-once object storage.
#[async_trait]
pub trait Backend: Send + Sync + fmt::Debug {
    /// The vault's location as the user writes it (`/var/vigil/evidence`, `s3://b/p`).
    fn location(&self) -> String;

    /// Stores `bytes` under `key`; fails with [`BackendError::AlreadyExists`] when the key was
    /// written before. Never replaces an object.
    async fn put_once(&self, key: &str, bytes: &[u8], kind: ObjectKind)
        -> Result<(), BackendError>;

    /// The object's bytes, `None` when there is no such key.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BackendError>;

    /// SHA-256 and size of the object, streamed; `None` when there is no such key.
    async fn digest(&self, key: &str) -> Result<Option<ObjectDigest>, BackendError>;

    /// Every key under `prefix` (which ends with `/`), sorted.
    async fn list(&self, prefix: &str) -> Result<Vec<String>, BackendError>;

    async fn exists(&self, key: &str) -> Result<bool, BackendError>;

    /// The directory holding the objects, for a local backend.
    fn local_root(&self) -> Option<&std::path::Path> {
        None
    }
}

/// Checks that a key is a plain relative path: no empty, `.` or `..` parts, no leading `/`,
/// nothing outside `[A-Za-z0-9._-]` in a part.
pub(crate) fn check_key(key: &str) -> Result<(), BackendError> {
    let bad = |reason: &str| BackendError::InvalidKey {
        key: key.to_string(),
        reason: reason.to_string(),
    };
    if key.is_empty() || key.starts_with('/') {
        return Err(bad("must be a relative path"));
    }
    for part in key.split('/') {
        if part.is_empty() || part == "." || part == ".." {
            return Err(bad("empty, '.' or '..' part"));
        }
        if !part
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        {
            return Err(bad("only letters, digits, '.', '_', '-' are allowed"));
        }
    }
    Ok(())
}

/// Where a vault is: `--vault DIR` or `--vault s3://bucket/prefix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VaultLocation {
    Local(PathBuf),
    S3 { bucket: String, prefix: String },
}

impl FromStr for VaultLocation {
    type Err = VaultError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |reason: &str| VaultError::InvalidLocation {
            location: s.to_string(),
            reason: reason.to_string(),
        };
        let Some(rest) = s.strip_prefix("s3://") else {
            if s.is_empty() {
                return Err(bad("empty path"));
            }
            if s.contains("://") {
                return Err(bad("only local directories and s3:// are supported"));
            }
            return Ok(VaultLocation::Local(PathBuf::from(s)));
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.len() < 3
            || bucket.len() > 63
            || !bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        {
            return Err(bad(
                "bucket names are 3-63 characters of lower-case letters, digits, '-' and '.'",
            ));
        }
        let prefix = prefix.trim_matches('/');
        if !prefix.is_empty() {
            check_key(prefix).map_err(|e| bad(&e.to_string()))?;
        }
        Ok(VaultLocation::S3 {
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
        })
    }
}

impl fmt::Display for VaultLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VaultLocation::Local(path) => write!(f, "{}", path.display()),
            VaultLocation::S3 { bucket, prefix } if prefix.is_empty() => {
                write!(f, "s3://{bucket}")
            }
            VaultLocation::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
        }
    }
}

/// Opens the backend for a location. A local directory is created when missing; an S3
/// location needs an AWS context and is refused unless the bucket has Object Lock enabled.
pub async fn open_backend(
    location: &VaultLocation,
    aws: Option<&vigil_aws::AwsContext>,
    s3: &S3Options,
) -> Result<Box<dyn Backend>, VaultError> {
    match location {
        VaultLocation::Local(path) => Ok(Box::new(LocalBackend::open(path)?)),
        VaultLocation::S3 { bucket, prefix } => {
            let ctx = aws.ok_or_else(|| {
                VaultError::Aws(format!(
                    "{location}: an S3 vault needs AWS access (credentials, region)"
                ))
            })?;
            Ok(Box::new(
                S3Backend::open(ctx, bucket, prefix, s3.clone()).await?,
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_parse() {
        assert_eq!(
            "s3://evidence-bucket/vigil/prod/"
                .parse::<VaultLocation>()
                .unwrap(),
            VaultLocation::S3 {
                bucket: "evidence-bucket".into(),
                prefix: "vigil/prod".into()
            }
        );
        assert_eq!(
            "s3://evidence-bucket".parse::<VaultLocation>().unwrap(),
            VaultLocation::S3 {
                bucket: "evidence-bucket".into(),
                prefix: String::new()
            }
        );
        assert_eq!(
            "vigil-data/evidence".parse::<VaultLocation>().unwrap(),
            VaultLocation::Local("vigil-data/evidence".into())
        );
        for bad in [
            "",
            "s3://",
            "s3://Up",
            "s3://b/../x",
            "gs://b/x",
            "s3://bb/a//b",
        ] {
            assert!(bad.parse::<VaultLocation>().is_err(), "{bad:?} accepted");
        }
        let loc: VaultLocation = "s3://abc/p".parse().unwrap();
        assert_eq!(loc.to_string(), "s3://abc/p");
    }

    #[test]
    fn keys_are_plain_relative_paths() {
        assert!(check_key("cases/c/items/ab").is_ok());
        for bad in [
            "",
            "/etc/passwd",
            "a/../b",
            "a//b",
            "a/./b",
            "a/b c",
            "a\\b",
        ] {
            assert!(check_key(bad).is_err(), "{bad:?} accepted");
        }
    }
}
