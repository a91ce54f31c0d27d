//! CloudTrail log file integrity validation: what `aws cloudtrail validate-logs` does, from an
//! S3 bucket or a local copy of one, and stricter.
//!
//! For a time range, [`verify`] finds the digest files (CloudTrail's key layout, with an
//! optional prefix and organisation id), and for each: decompresses it, checks that it names
//! the place it was found, rebuilds the string CloudTrail signs and verifies the RSA
//! PKCS#1 v1.5 SHA-256 signature from the object's `signature` metadata with the public key
//! whose fingerprint the digest names; then checks every listed log file's SHA-256, follows
//! each chain back through `previousDigestS3Object` (reporting deleted digests and restarts),
//! and lists the log files no digest covers. Beyond the AWS CLI it checks that each digest's
//! `previousDigestSignature` and `previousDigestHashValue` match the previous digest, accepts
//! only `SHA256withRSA` and `SHA-256`, reports digests nothing links to, and hashes every gzip
//! member of a log file (so data appended after CloudTrail's member is caught).
//!
//! Main items: the [`Source`] trait with [`DirSource`] (a local copy: each digest's metadata
//! beside it in `NAME.metadata.json`) and [`S3Source`]; [`KeyRing`] (keys from a file) and
//! [`CloudTrailKeys`] (`ListPublicKeys`), both [`KeyProvider`]s; [`verify`] returning a
//! [`VerifyReport`] (with `Display`, [`VerifyReport::is_valid`] for the exit code, and serde
//! `Serialize`); [`fetch`] copying a trail with its metadata to a directory.
//!
//! ```no_run
//! # async fn demo() -> Result<(), vigil_trail::TrailError> {
//! use vigil_trail::{verify, DirSource, KeyRing, TrailLocation, VerifyOptions};
//!
//! let copy = DirSource::open("/cases/42/trail")?; // made by `vigil trail fetch`
//! let keys = KeyRing::from_file("cloudtrail-keys.json".as_ref())?;
//! let options = VerifyOptions {
//!     location: TrailLocation { account: Some("111122223333".into()), ..Default::default() },
//!     start: Some("2024-05-01T00:00:00Z".parse().unwrap()),
//!     end: None,
//! };
//! let report = verify(&copy, &keys, &options).await?;
//! print!("{report}");
//! std::process::exit(if report.is_valid() { 0 } else { 1 });
//! # }
//! ```

mod chain;
mod digest;
mod discover;
mod error;
mod fetch;
mod keys;
mod layout;
mod report;
mod s3;
mod source;
mod verify;

pub use digest::{
    gunzip, gunzip_sha256, Digest, DigestProblem, LogFileEntry, HASH_ALGORITHM, SIGNATURE_ALGORITHM,
};
pub use error::{KeyError, SourceError, TrailError};
pub use fetch::{fetch, FetchReport};
pub use keys::{fingerprint_of, parse_key_file, KeyRing, TrailKey};
pub use layout::{DigestName, LogName, TrailLocation};
pub use report::{
    ChainFinding, DigestResult, DigestStatus, LogResult, LogStatus, Summary, VerifyReport,
};
pub use s3::{CloudTrailKeys, S3Source};
pub use source::{
    key_path, metadata_path, read_manifest, CopyManifest, DirSource, Object, Source,
    METADATA_SUFFIX, SOURCE_FILE,
};
pub use verify::{verify, KeyProvider, VerifyOptions};

/// Parses a time given on the command line: RFC 3339 (`2024-05-01T12:00:00Z`), or a date
/// (`2024-05-01`, midnight UTC).
pub fn parse_time(text: &str) -> Result<chrono::DateTime<chrono::Utc>, TrailError> {
    let text = text.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&chrono::Utc));
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| {
            TrailError::InvalidOption(format!(
                "time {text:?} is neither RFC 3339 (2024-05-01T12:00:00Z) nor a date (2024-05-01)"
            ))
        })
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_command_line_times() {
        let t = super::parse_time("2024-05-01T12:00:00+02:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2024-05-01T10:00:00+00:00");
        let d = super::parse_time("2024-05-01").unwrap();
        assert_eq!(d.to_rfc3339(), "2024-05-01T00:00:00+00:00");
        assert!(super::parse_time("yesterday").is_err());
    }
}
