//! Errors that stop a verification or a fetch as a whole.
//!
//! A bad file never stops anything: it becomes an entry in the report naming the file and the
//! reason. These errors are for what leaves nothing to report: a bucket that cannot be listed,
//! a key file that cannot be read, an option that makes no sense.

use std::path::PathBuf;

/// Why a verification or a fetch could not run.
#[derive(Debug, thiserror::Error)]
pub enum TrailError {
    #[error("invalid option: {0}")]
    InvalidOption(String),
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("cannot write {path}: {reason}")]
    Write { path: PathBuf, reason: String },
}

/// A failure of the place the trail is read from (S3 or a local copy).
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot list {location}: {reason}")]
    List { location: String, reason: String },
    #[error("cannot read {location}: {reason}")]
    Read { location: String, reason: String },
    #[error("object key {key:?} cannot be mapped to a local path: {reason}")]
    UnsafeKey { key: String, reason: String },
    #[error("{dir}: {reason}")]
    Directory { dir: PathBuf, reason: String },
}

/// A public key that cannot be loaded or found.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read public key file {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("public key file {path}: {reason}")]
    Parse { path: String, reason: String },
    #[error(
        "cannot list CloudTrail public keys in {region} (cloudtrail:ListPublicKeys): {reason}"
    )]
    List { region: String, reason: String },
}
