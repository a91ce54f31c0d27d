//! One digest file: its JSON, the string CloudTrail signs, and the checks on a single digest
//! (location, algorithms, signature). Links between digests are checked in `chain`.
//!
//! The signing string is, with `\n` between the parts and nothing around them
//! (CloudTrail user guide, "Custom implementations of CloudTrail log file integrity
//! validation"):
//!
//! ```text
//! digestEndTime
//! digestS3Bucket/digestS3Object
//! hex(SHA-256 of the decompressed digest file)
//! previousDigestSignature          ("null" when the digest starts a chain)
//! ```
//! and the signature (hex, in the object's `signature` user metadata) is RSA PKCS#1 v1.5 over
//! its SHA-256.

use std::collections::BTreeMap;
use std::io::Read;

use flate2::read::MultiGzDecoder;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::signature::Verifier;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::keys::KeyRing;

/// The only signature algorithm CloudTrail uses (digest field and object metadata).
pub const SIGNATURE_ALGORITHM: &str = "SHA256withRSA";
/// The only hash algorithm CloudTrail uses for log files and previous digests.
pub const HASH_ALGORITHM: &str = "SHA-256";
/// A decompressed digest larger than this is refused (real ones are a few hundred KiB).
pub const MAX_DIGEST_BYTES: u64 = 64 << 20;

/// A CloudTrail digest file, as CloudTrail writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Digest {
    pub aws_account_id: String,
    pub digest_start_time: String,
    pub digest_end_time: String,
    pub digest_s3_bucket: String,
    pub digest_s3_object: String,
    pub digest_public_key_fingerprint: String,
    pub digest_signature_algorithm: String,
    pub newest_event_time: Option<String>,
    pub oldest_event_time: Option<String>,
    pub previous_digest_s3_bucket: Option<String>,
    pub previous_digest_s3_object: Option<String>,
    pub previous_digest_hash_value: Option<String>,
    pub previous_digest_hash_algorithm: Option<String>,
    pub previous_digest_signature: Option<String>,
    pub log_files: Vec<LogFileEntry>,
}

/// One log file listed in a digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogFileEntry {
    pub s3_bucket: String,
    pub s3_object: String,
    pub hash_value: String,
    pub hash_algorithm: String,
    pub newest_event_time: Option<String>,
    pub oldest_event_time: Option<String>,
}

impl Digest {
    /// Decompresses and parses a digest file; returns it with the SHA-256 of its decompressed
    /// bytes (the hash the signing string and the next digest's `previousDigestHashValue` use).
    pub fn from_gzip(bytes: &[u8]) -> Result<(Digest, [u8; 32]), String> {
        let raw = gunzip(bytes, MAX_DIGEST_BYTES)?;
        let digest: Digest =
            serde_json::from_slice(&raw).map_err(|e| format!("not a digest file: {e}"))?;
        Ok((digest, Sha256::digest(&raw).into()))
    }

    /// The string CloudTrail signs for this digest.
    pub fn signing_string(&self, sha256: &[u8; 32]) -> String {
        format!(
            "{}\n{}/{}\n{}\n{}",
            self.digest_end_time,
            self.digest_s3_bucket,
            self.digest_s3_object,
            hex::encode(sha256),
            self.previous_digest_signature.as_deref().unwrap_or("null")
        )
    }

    /// The previous digest's location, when this digest is not the first of a chain.
    pub fn previous(&self) -> Option<(&str, &str)> {
        match (
            &self.previous_digest_s3_bucket,
            &self.previous_digest_s3_object,
        ) {
            (Some(b), Some(o)) => Some((b.as_str(), o.as_str())),
            _ => None,
        }
    }
}

/// Why a digest file is not valid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum DigestProblem {
    /// Not gzip, not JSON, or not shaped like a digest.
    Unreadable { reason: String },
    /// The object has no `signature` metadata.
    NoSignature,
    /// The object has no `signature-algorithm` metadata.
    NoSignatureAlgorithm,
    /// The `signature` metadata is not hex.
    BadSignatureEncoding { reason: String },
    /// The digest names another location than the one it was found at.
    Moved { bucket: String, object: String },
    /// The digest names another account than its key.
    AccountMismatch { named: String },
    /// An algorithm other than CloudTrail's (`SHA256withRSA`, `SHA-256`).
    UnsupportedAlgorithm { field: String, value: String },
    /// No public key with the digest's fingerprint.
    NoKey { fingerprint: String },
    /// The signature does not verify with the key the digest names.
    SignatureMismatch { fingerprint: String },
}

impl std::fmt::Display for DigestProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DigestProblem::Unreadable { reason } => write!(f, "unreadable: {reason}"),
            DigestProblem::NoSignature => f.write_str("no `signature` metadata on the object"),
            DigestProblem::NoSignatureAlgorithm => {
                f.write_str("no `signature-algorithm` metadata on the object")
            }
            DigestProblem::BadSignatureEncoding { reason } => {
                write!(f, "`signature` metadata is not hex: {reason}")
            }
            DigestProblem::Moved { bucket, object } => {
                write!(
                    f,
                    "moved: the digest says it belongs at s3://{bucket}/{object}"
                )
            }
            DigestProblem::AccountMismatch { named } => {
                write!(
                    f,
                    "the digest names account {named}, not the account of its key"
                )
            }
            DigestProblem::UnsupportedAlgorithm { field, value } => {
                write!(f, "unsupported algorithm {value:?} in {field}")
            }
            DigestProblem::NoKey { fingerprint } => {
                write!(f, "no public key with fingerprint {fingerprint}")
            }
            DigestProblem::SignatureMismatch { fingerprint } => {
                write!(f, "signature verification failed (key {fingerprint})")
            }
        }
    }
}

/// A digest that could be read, with what its checks found.
#[derive(Debug, Clone)]
pub(crate) struct CheckedDigest {
    pub digest: Digest,
    pub sha256: [u8; 32],
    /// The signature from the object's metadata, as found (hex).
    pub signature: Option<String>,
    pub problems: Vec<DigestProblem>,
}

/// Where a digest was found, and what the key path says about its account.
pub(crate) struct FoundAt<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    pub account: &'a str,
}

/// Reads and checks one digest object. `Err` only when the file cannot be read at all.
pub(crate) fn check_digest(
    at: &FoundAt<'_>,
    bytes: &[u8],
    metadata: &BTreeMap<String, String>,
    keys: &KeyRing,
) -> Result<CheckedDigest, DigestProblem> {
    let (digest, sha256) =
        Digest::from_gzip(bytes).map_err(|reason| DigestProblem::Unreadable { reason })?;
    let mut problems = Vec::new();
    if digest.digest_s3_bucket != at.bucket || digest.digest_s3_object != at.key {
        problems.push(DigestProblem::Moved {
            bucket: digest.digest_s3_bucket.clone(),
            object: digest.digest_s3_object.clone(),
        });
    }
    if digest.aws_account_id != at.account {
        problems.push(DigestProblem::AccountMismatch {
            named: digest.aws_account_id.clone(),
        });
    }
    problems.extend(algorithm_problems(&digest, metadata));
    let signature = metadata_value(metadata, "signature").map(|s| s.trim().to_string());
    if let Some(problem) = signature_problem(&digest, &sha256, signature.as_deref(), keys) {
        problems.push(problem);
    }
    Ok(CheckedDigest {
        digest,
        sha256,
        signature,
        problems,
    })
}

fn algorithm_problems(digest: &Digest, metadata: &BTreeMap<String, String>) -> Vec<DigestProblem> {
    let mut problems = Vec::new();
    let mut expect = |field: &str, value: &str, wanted: &str| {
        if value != wanted {
            problems.push(DigestProblem::UnsupportedAlgorithm {
                field: field.to_string(),
                value: value.to_string(),
            });
        }
    };
    expect(
        "digestSignatureAlgorithm",
        &digest.digest_signature_algorithm,
        SIGNATURE_ALGORITHM,
    );
    if let Some(algorithm) = &digest.previous_digest_hash_algorithm {
        expect("previousDigestHashAlgorithm", algorithm, HASH_ALGORITHM);
    }
    match metadata_value(metadata, "signature-algorithm") {
        Some(value) => expect(
            "signature-algorithm metadata",
            value.trim(),
            SIGNATURE_ALGORITHM,
        ),
        None => problems.push(DigestProblem::NoSignatureAlgorithm),
    }
    problems
}

fn signature_problem(
    digest: &Digest,
    sha256: &[u8; 32],
    signature: Option<&str>,
    keys: &KeyRing,
) -> Option<DigestProblem> {
    let Some(signature) = signature else {
        return Some(DigestProblem::NoSignature);
    };
    let bytes = match hex::decode(signature) {
        Ok(bytes) => bytes,
        Err(e) => {
            return Some(DigestProblem::BadSignatureEncoding {
                reason: e.to_string(),
            })
        }
    };
    let fingerprint = digest.digest_public_key_fingerprint.to_ascii_lowercase();
    let Some(key) = keys.get(&fingerprint) else {
        return Some(DigestProblem::NoKey { fingerprint });
    };
    let verified = Signature::try_from(bytes.as_slice()).is_ok_and(|sig| {
        VerifyingKey::<Sha256>::new(key.rsa().clone())
            .verify(digest.signing_string(sha256).as_bytes(), &sig)
            .is_ok()
    });
    (!verified).then_some(DigestProblem::SignatureMismatch { fingerprint })
}

/// A user-metadata value by name. S3 returns user metadata names in lower case without the
/// `x-amz-meta-` prefix; a hand-written metadata file may keep the prefix or other case.
pub(crate) fn metadata_value<'m>(
    metadata: &'m BTreeMap<String, String>,
    name: &str,
) -> Option<&'m String> {
    metadata.get(name).or_else(|| {
        metadata.iter().find_map(|(k, v)| {
            let k = k.to_ascii_lowercase();
            (k == name || k.strip_prefix("x-amz-meta-") == Some(name)).then_some(v)
        })
    })
}

/// Decompresses gzip data, every member of it.
///
/// All members, not just the first: readers of CloudTrail files (`zcat`, Athena, most SIEM
/// collectors) read every member, so a member appended after CloudTrail's must change the
/// hash rather than slip past it.
pub fn gunzip(bytes: &[u8], limit: u64) -> Result<Vec<u8>, String> {
    check_gzip_magic(bytes)?;
    let mut out = Vec::new();
    MultiGzDecoder::new(bytes)
        .take(limit + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("not valid gzip: {e}"))?;
    if out.len() as u64 > limit {
        return Err(format!("larger than {limit} bytes once decompressed"));
    }
    Ok(out)
}

/// The SHA-256 of gzip data once decompressed, without holding the decompressed bytes.
pub fn gunzip_sha256(bytes: &[u8]) -> Result<[u8; 32], String> {
    check_gzip_magic(bytes)?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut MultiGzDecoder::new(bytes), &mut hasher)
        .map_err(|e| format!("not valid gzip: {e}"))?;
    Ok(hasher.finalize().into())
}

fn check_gzip_magic(bytes: &[u8]) -> Result<(), String> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        Ok(())
    } else {
        Err("not gzip (no gzip header)".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The digest example of the CloudTrail user guide (see tests/data/README.md).
    const DOC_EXAMPLE: &str = include_str!("../tests/data/digest-file-example.json");

    #[test]
    fn parses_the_documented_digest_example() {
        let digest: Digest = serde_json::from_str(DOC_EXAMPLE).unwrap();
        assert_eq!(digest.aws_account_id, "111122223333");
        assert_eq!(
            digest.digest_public_key_fingerprint,
            "31e8b5433410dfb61a9dc45cc65b22ff"
        );
        assert_eq!(digest.log_files.len(), 1);
        assert_eq!(digest.log_files[0].hash_algorithm, "SHA-256");
        assert_eq!(
            digest.previous(),
            Some((
                "S3-bucket-name",
                "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/111122223333_\
                 CloudTrail-Digest_us-east-2_your-trail-name_us-east-2_20150817T140131Z.json.gz"
            ))
        );
    }

    #[test]
    fn builds_the_signing_string_with_bare_newlines_and_null_for_a_chain_start() {
        let mut digest: Digest = serde_json::from_str(DOC_EXAMPLE).unwrap();
        let hash = [0xabu8; 32];
        let s = digest.signing_string(&hash);
        let lines: Vec<&str> = s.split('\n').collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0], "2015-08-17T15:01:31Z");
        assert_eq!(
            lines[1],
            "S3-bucket-name/AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/\
             111122223333_CloudTrail-Digest_us-east-2_your-trail-name_us-east-2_\
             20150817T150131Z.json.gz"
        );
        assert_eq!(lines[2], "ab".repeat(32));
        assert!(lines[3].starts_with("50887ccffad4c002"));
        digest.previous_digest_signature = None;
        assert!(digest.signing_string(&hash).ends_with("\nnull"));
    }

    #[test]
    fn gunzip_reads_every_member_and_refuses_non_gzip() {
        use flate2::{write::GzEncoder, Compression};
        use std::io::Write;
        let member = |data: &[u8]| {
            let mut enc = GzEncoder::new(Vec::new(), Compression::default());
            enc.write_all(data).unwrap();
            enc.finish().unwrap()
        };
        let mut two = member(b"first ");
        two.extend(member(b"second"));
        assert_eq!(gunzip(&two, 100).unwrap(), b"first second");
        assert_eq!(
            gunzip_sha256(&two).unwrap(),
            <[u8; 32]>::from(Sha256::digest(b"first second"))
        );
        assert!(gunzip(b"{\"plain\": true}", 100)
            .unwrap_err()
            .contains("not gzip"));
        assert!(gunzip(&member(&[b'x'; 200]), 100)
            .unwrap_err()
            .contains("larger than"));
        let mut truncated = member(b"some text that will be cut");
        truncated.truncate(truncated.len() - 6);
        assert!(gunzip(&truncated, 100).is_err());
    }

    #[test]
    fn finds_metadata_with_or_without_the_header_prefix() {
        let mut m = BTreeMap::new();
        m.insert("X-Amz-Meta-Signature".to_string(), "ab".to_string());
        assert_eq!(
            metadata_value(&m, "signature").map(String::as_str),
            Some("ab")
        );
        assert_eq!(metadata_value(&m, "signature-algorithm"), None);
    }
}
