//! The vault's error types: one for storage backends, one for everything else.

use std::path::PathBuf;

/// A storage backend failed, or refused a write.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// `put_once` found the key already written: the vault never rewrites an object.
    #[error("{location}: object {key} already exists and is never rewritten")]
    AlreadyExists { location: String, key: String },
    /// A key that is not a plain relative path (empty part, `..`, absolute, odd characters).
    #[error("invalid object key {key:?}: {reason}")]
    InvalidKey { key: String, reason: String },
    /// A local file operation failed.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// An S3 call failed.
    #[error("s3://{bucket}/{key}: {operation} failed: {message}")]
    S3 {
        bucket: String,
        key: String,
        operation: &'static str,
        message: String,
    },
    /// The bucket does not have Object Lock enabled, so vigil will not write evidence to it.
    #[error(
        "s3://{bucket}: Object Lock is not enabled ({detail}); create the bucket with \
         --object-lock-enabled-for-bucket, vigil writes evidence only to WORM storage"
    )]
    ObjectLockNotEnabled { bucket: String, detail: String },
    /// S3 options that cannot work (zero retention, unknown storage class, ...).
    #[error("invalid S3 vault option: {0}")]
    InvalidOption(String),
}

impl BackendError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        BackendError::Io {
            path: path.into(),
            source,
        }
    }
}

/// Everything else that can go wrong with a vault, a key or a bundle.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error(transparent)]
    Backend(#[from] BackendError),
    #[error("invalid case id {id:?}: {reason}")]
    InvalidCaseId { id: String, reason: String },
    #[error("invalid item id {id:?}: expected a SHA-256 in hex (64 characters) or a unique prefix of at least 8")]
    InvalidItemId { id: String },
    #[error("{vault}: no case {case:?}")]
    UnknownCase { vault: String, case: String },
    #[error("case {case}: no item {item}")]
    UnknownItem { case: String, item: String },
    #[error("case {case}: item prefix {prefix} matches more than one item")]
    AmbiguousItem { case: String, prefix: String },
    #[error(
        "{vault}: not an evidence vault (no keys/public.pem); run `vigil evidence init` first"
    )]
    NotInitialised { vault: String },
    #[error("{path}: {reason}")]
    Key { path: PathBuf, reason: String },
    #[error(
        "the signing key (key id {signing}) is not this vault's key (key id {vault}); \
         use the key `vigil evidence init` created for this vault"
    )]
    KeyMismatch { signing: String, vault: String },
    #[error(
        "this operation appends to the chain of custody and needs the vault's private signing key"
    )]
    NoSigningKey,
    #[error(
        "case {case}: the chain does not verify, so vigil will not sign anything on top of it \
         (run `vigil evidence verify {case}`): {summary}"
    )]
    ChainDoesNotVerify { case: String, summary: String },
    #[error(
        "case {case}: another writer appended entry {seq} at the same time; nothing was \
         written over it, try again"
    )]
    ConcurrentAppend { case: String, seq: u64 },
    #[error("{object}: {reason}")]
    Corrupt { object: String, reason: String },
    #[error("bundle {path}: {reason}")]
    Bundle { path: PathBuf, reason: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid vault location {location:?}: {reason}")]
    InvalidLocation { location: String, reason: String },
    #[error("{0}")]
    Aws(String),
    #[error("{0}")]
    Runtime(String),
}

impl VaultError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        VaultError::Io {
            path: path.into(),
            source,
        }
    }
}
