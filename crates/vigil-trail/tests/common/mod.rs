//! A generated CloudTrail trail for the tests: log files and digest files written in AWS's
//! format (the digest JSON with the fields in the order of the CloudTrail user guide's
//! example, compact as CloudTrail writes it), signed with a test key, then tampered with.
//!
//! The signing string is written out here from the AWS documentation, not taken from the
//! crate, so a mistake in the crate's version cannot hide behind the same mistake here.
#![allow(dead_code)] // each test binary uses part of it

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;

use chrono::{DateTime, Duration, TimeZone, Utc};
use flate2::{read::MultiGzDecoder, write::GzEncoder, Compression};
use rsa::pkcs1::EncodeRsaPublicKey;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey, LineEnding};
use rsa::signature::{SignatureEncoding, Signer};
use rsa::RsaPrivateKey;
use sha2::{Digest as _, Sha256};
use vigil_trail::{KeyRing, Object};

pub const BUCKET: &str = "example-bucket";
pub const ACCOUNT: &str = "111122223333";
pub const REGION: &str = "us-east-2";
pub const TRAIL: &str = "example-trail";

/// Test-only keys, generated once with `openssl genpkey -algorithm RSA -pkeyopt
/// rsa_keygen_bits:2048` and kept as fixtures (generating RSA keys in debug builds is slow).
/// They sign nothing but these tests.
pub const SIGNING_KEY: &str = include_str!("../data/test-signing-key.pem");
pub const OTHER_KEY: &str = include_str!("../data/test-other-key.pem");

pub fn private_key(pem: &str) -> RsaPrivateKey {
    RsaPrivateKey::from_pkcs8_pem(pem).expect("test key fixture")
}

/// Hex MD5 of the DER PKCS#1 public key: CloudTrail's fingerprint (see keys.rs for the
/// evidence), computed here independently of the crate.
pub fn fingerprint(key: &RsaPrivateKey) -> String {
    let der = key.to_public_key().to_pkcs1_der().unwrap();
    hex::encode(md5::Md5::digest(der.as_bytes()))
}

/// A key ring holding the public half of `pem`, loaded the way a user's key file is.
pub fn ring(pem: &str) -> KeyRing {
    let public = private_key(pem)
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key.pem");
    std::fs::write(&path, public).unwrap();
    KeyRing::from_file(&path).unwrap()
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

pub fn gunzip(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    MultiGzDecoder::new(data).read_to_end(&mut out).unwrap();
    out
}

pub fn t(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
}

fn iso(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The state of the chain: the last digest written.
#[derive(Clone)]
struct Last {
    key: String,
    hash: String,
    signature: String,
}

/// Builds a trail in memory: keys to objects (bytes and metadata).
#[derive(Clone)]
pub struct Trail {
    pub bucket: String,
    pub prefix: Option<String>,
    /// An organisation id: files go below `AWSLogs/<org>/<account>/`.
    pub org: Option<String>,
    pub objects: BTreeMap<String, Object>,
    signer: RsaPrivateKey,
    /// The fingerprint written into digests (normally the signer's).
    pub named_fingerprint: String,
    last: Option<Last>,
    counter: usize,
}

impl Default for Trail {
    fn default() -> Self {
        Self::new(None)
    }
}

impl Trail {
    pub fn new(prefix: Option<&str>) -> Self {
        let signer = private_key(SIGNING_KEY);
        Trail {
            bucket: BUCKET.to_string(),
            prefix: prefix.map(str::to_string),
            org: None,
            objects: BTreeMap::new(),
            named_fingerprint: fingerprint(&signer),
            signer,
            last: None,
            counter: 0,
        }
    }

    /// Signs the following digests with another key (still naming `named_fingerprint`).
    pub fn sign_with(&mut self, pem: &str) {
        self.signer = private_key(pem);
    }

    fn account_root(&self) -> String {
        let org = self
            .org
            .as_ref()
            .map(|o| format!("{o}/"))
            .unwrap_or_default();
        match &self.prefix {
            Some(p) => format!("{p}/AWSLogs/{org}{ACCOUNT}/"),
            None => format!("AWSLogs/{org}{ACCOUNT}/"),
        }
    }

    /// Writes a log file delivered at `time`; returns its key.
    pub fn log(&mut self, time: DateTime<Utc>) -> String {
        self.counter += 1;
        let key = format!(
            "{}CloudTrail/{REGION}/{}/{ACCOUNT}_CloudTrail_{REGION}_{}_Ab12Cd34Ef{:06}.json.gz",
            self.account_root(),
            time.format("%Y/%m/%d"),
            time.format("%Y%m%dT%H%MZ"),
            self.counter
        );
        let body = format!(
            r#"{{"Records":[{{"eventVersion":"1.08","userIdentity":{{"type":"IAMUser","accountId":"{ACCOUNT}","userName":"alice"}},"eventTime":"{}","eventSource":"iam.amazonaws.com","eventName":"ListUsers","awsRegion":"{REGION}","sourceIPAddress":"203.0.113.{}","requestID":"req-{}","eventID":"evt-{}","eventType":"AwsApiCall","recipientAccountId":"{ACCOUNT}"}}]}}"#,
            iso(time - Duration::minutes(3)),
            self.counter % 250,
            self.counter,
            self.counter
        );
        self.put(&key, gzip(body.as_bytes()), BTreeMap::new());
        key
    }

    /// Forgets the chain: the next digest starts a new one (logging restarted).
    pub fn restart(&mut self) {
        self.last = None;
    }

    /// Writes a digest for the hour ending at `end`, listing `logs` (which must exist), linked
    /// to the previous digest; returns its key.
    pub fn digest(&mut self, end: DateTime<Utc>, logs: &[String]) -> String {
        self.digest_with(end, logs, |_| {})
    }

    /// As [`Trail::digest`], letting `edit` change the fields before signing.
    pub fn digest_with(
        &mut self,
        end: DateTime<Utc>,
        logs: &[String],
        edit: impl FnOnce(&mut DigestFields),
    ) -> String {
        let key = format!(
            "{}CloudTrail-Digest/{REGION}/{}/{ACCOUNT}_CloudTrail-Digest_{REGION}_{TRAIL}_{REGION}_{}.json.gz",
            self.account_root(),
            end.format("%Y/%m/%d"),
            end.format("%Y%m%dT%H%M%SZ"),
        );
        let mut fields = DigestFields {
            start: iso(end - Duration::hours(1)),
            end: iso(end),
            bucket: self.bucket.clone(),
            object: key.clone(),
            fingerprint: self.named_fingerprint.clone(),
            signature_algorithm: "SHA256withRSA".to_string(),
            previous: self
                .last
                .clone()
                .map(|l| (self.bucket.clone(), l.key, l.hash, l.signature)),
            log_files: logs
                .iter()
                .map(|k| {
                    let raw = gunzip(&self.objects[k].bytes);
                    (
                        self.bucket.clone(),
                        k.clone(),
                        hex::encode(Sha256::digest(&raw)),
                        "SHA-256".to_string(),
                    )
                })
                .collect(),
            metadata_algorithm: Some("SHA256withRSA".to_string()),
        };
        edit(&mut fields);
        let json = fields.to_json();
        let hash = hex::encode(Sha256::digest(json.as_bytes()));
        let previous_signature = fields
            .previous
            .as_ref()
            .map(|p| p.3.clone())
            .unwrap_or_else(|| "null".to_string());
        // The signing string of the CloudTrail user guide.
        let to_sign = format!(
            "{}\n{}/{}\n{}\n{}",
            fields.end, fields.bucket, fields.object, hash, previous_signature
        );
        let signature = hex::encode(
            SigningKey::<Sha256>::new(self.signer.clone())
                .sign(to_sign.as_bytes())
                .to_bytes(),
        );
        let mut metadata = BTreeMap::new();
        metadata.insert("signature".to_string(), signature.clone());
        if let Some(algorithm) = &fields.metadata_algorithm {
            metadata.insert("signature-algorithm".to_string(), algorithm.clone());
        }
        self.put(&key, gzip(json.as_bytes()), metadata);
        self.last = Some(Last {
            key: key.clone(),
            hash,
            signature,
        });
        key
    }

    /// `hours` hourly digests ending at `first_end`, `first_end + 1h`, ..., each listing
    /// `logs_per_hour` log files delivered in its hour. Returns (digest keys, log keys by digest).
    pub fn hourly(
        &mut self,
        first_end: DateTime<Utc>,
        hours: usize,
        logs_per_hour: usize,
    ) -> (Vec<String>, Vec<Vec<String>>) {
        let mut digests = Vec::new();
        let mut logs = Vec::new();
        for h in 0..hours {
            let end = first_end + Duration::hours(h as i64);
            let hour_logs: Vec<String> = (0..logs_per_hour)
                .map(|i| self.log(end - Duration::minutes(50 - 15 * i as i64)))
                .collect();
            digests.push(self.digest(end, &hour_logs));
            logs.push(hour_logs);
        }
        (digests, logs)
    }

    pub fn put(&mut self, key: &str, bytes: Vec<u8>, metadata: BTreeMap<String, String>) {
        self.objects
            .insert(key.to_string(), Object { bytes, metadata });
    }

    pub fn remove(&mut self, key: &str) {
        assert!(self.objects.remove(key).is_some(), "no object {key}");
    }

    /// Rewrites a gzip object's decompressed text with `edit`, keeping its metadata.
    pub fn edit_text(&mut self, key: &str, edit: impl FnOnce(String) -> String) {
        let object = self.objects.get_mut(key).expect("object");
        let text = String::from_utf8(gunzip(&object.bytes)).unwrap();
        let edited = edit(text.clone());
        assert_ne!(edited, text, "the edit changed nothing");
        object.bytes = gzip(edited.as_bytes());
    }

    /// Writes the trail as a local copy, each object's metadata beside it.
    pub fn write_to(&self, dir: &Path) {
        for (key, object) in &self.objects {
            let path = dir.join(key);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &object.bytes).unwrap();
            if !object.metadata.is_empty() {
                let meta = serde_json::to_string(&object.metadata).unwrap();
                std::fs::write(format!("{}.metadata.json", path.display()), meta).unwrap();
            }
        }
    }
}

/// The fields of a digest before it is written.
pub struct DigestFields {
    pub start: String,
    pub end: String,
    pub bucket: String,
    pub object: String,
    pub fingerprint: String,
    pub signature_algorithm: String,
    /// (bucket, key, hash, signature) of the previous digest; `None` starts a chain.
    pub previous: Option<(String, String, String, String)>,
    /// (bucket, key, hash, algorithm) of each log file.
    pub log_files: Vec<(String, String, String, String)>,
    /// The `signature-algorithm` metadata (none when `None`).
    pub metadata_algorithm: Option<String>,
}

impl DigestFields {
    /// The digest JSON: fields in the order of AWS's example, compact.
    pub fn to_json(&self) -> String {
        let q = |s: &str| serde_json::to_string(s).unwrap();
        let (pb, po, ph, pa, ps) = match &self.previous {
            Some((b, k, h, s)) => (q(b), q(k), q(h), q("SHA-256"), q(s)),
            None => (
                "null".into(),
                "null".into(),
                "null".into(),
                "null".into(),
                "null".into(),
            ),
        };
        let logs: Vec<String> = self
            .log_files
            .iter()
            .map(|(b, k, h, a)| {
                format!(
                    r#"{{"s3Bucket":{},"s3Object":{},"hashValue":{},"hashAlgorithm":{},"newestEventTime":{},"oldestEventTime":{}}}"#,
                    q(b), q(k), q(h), q(a), q(&self.end), q(&self.start)
                )
            })
            .collect();
        let (newest, oldest) = if self.log_files.is_empty() {
            ("null".to_string(), "null".to_string())
        } else {
            (q(&self.end), q(&self.start))
        };
        format!(
            r#"{{"awsAccountId":{},"digestStartTime":{},"digestEndTime":{},"digestS3Bucket":{},"digestS3Object":{},"digestPublicKeyFingerprint":{},"digestSignatureAlgorithm":{},"newestEventTime":{},"oldestEventTime":{},"previousDigestS3Bucket":{},"previousDigestS3Object":{},"previousDigestHashValue":{},"previousDigestHashAlgorithm":{},"previousDigestSignature":{},"logFiles":[{}]}}"#,
            q(ACCOUNT),
            q(&self.start),
            q(&self.end),
            q(&self.bucket),
            q(&self.object),
            q(&self.fingerprint),
            q(&self.signature_algorithm),
            newest,
            oldest,
            pb,
            po,
            ph,
            pa,
            ps,
            logs.join(",")
        )
    }
}

/// The trail in memory is itself a source: a bucket without S3.
impl vigil_trail::Source for Trail {
    fn bucket(&self) -> &str {
        &self.bucket
    }

    fn locate(&self, key: &str) -> String {
        format!("mem://{}/{key}", self.bucket)
    }

    async fn list_folders(&self, prefix: &str) -> Result<Vec<String>, vigil_trail::SourceError> {
        let mut out: Vec<String> = self
            .objects
            .keys()
            .filter_map(|k| {
                k.strip_prefix(prefix)?
                    .split_once('/')
                    .map(|(f, _)| f.to_string())
            })
            .collect();
        out.dedup();
        Ok(out)
    }

    async fn list_keys(&self, prefix: &str) -> Result<Vec<String>, vigil_trail::SourceError> {
        Ok(self
            .objects
            .keys()
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect())
    }

    async fn get(&self, key: &str) -> Result<Option<Object>, vigil_trail::SourceError> {
        Ok(self.objects.get(key).cloned())
    }
}
