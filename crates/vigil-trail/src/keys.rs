//! CloudTrail's public keys and their fingerprints.
//!
//! A digest names the key that signed it by `digestPublicKeyFingerprint`, the hex MD5 of the
//! key's DER-encoded PKCS#1 `RSAPublicKey` — the bytes `ListPublicKeys` returns (base64) as
//! `Value`. The API reference only says "the fingerprint of the public key"; the MD5 was
//! established from the AWS CLI's `list-public-keys` example, whose `Value` hashes to its
//! `Fingerprint` (a unit test below keeps that pair).
//!
//! A key file (`--public-key FILE`) may hold one or more keys as DER (PKCS#1 or
//! SubjectPublicKeyInfo), PEM of either (`RSA PUBLIC KEY`, `PUBLIC KEY`, several blocks in one
//! file), bare base64 of the DER, or the JSON output of `aws cloudtrail list-public-keys`.

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine as _;
use md5::{Digest as _, Md5};
use rsa::pkcs1::{DecodeRsaPublicKey, EncodeRsaPublicKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::RsaPublicKey;

use crate::error::KeyError;

/// One CloudTrail public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailKey {
    /// Lower-case hex, as digests name it.
    pub fingerprint: String,
    /// Where the key came from (a file name, `ListPublicKeys in us-east-1`).
    pub origin: String,
    key: RsaPublicKey,
}

impl TrailKey {
    /// A key from its DER PKCS#1 bytes (what `ListPublicKeys` returns). The fingerprint is
    /// `fingerprint` when given (as AWS states it), else computed.
    pub fn from_pkcs1_der(
        origin: &str,
        der: &[u8],
        fingerprint: Option<&str>,
    ) -> Result<Self, KeyError> {
        let key = RsaPublicKey::from_pkcs1_der(der).map_err(|e| KeyError::Parse {
            path: origin.to_string(),
            reason: format!("not a DER PKCS#1 RSA public key: {e}"),
        })?;
        Ok(Self::with_fingerprint(origin, key, fingerprint))
    }

    /// A key with a computed fingerprint, or the one given (a mismatch is logged: the
    /// signature check decides, the fingerprint only finds the key).
    pub fn with_fingerprint(origin: &str, key: RsaPublicKey, fingerprint: Option<&str>) -> Self {
        let computed = fingerprint_of(&key);
        let fingerprint = match fingerprint {
            Some(given) if !given.eq_ignore_ascii_case(&computed) => {
                tracing::warn!(
                    origin,
                    given,
                    computed = computed.as_str(),
                    "Public key fingerprint differs from the MD5 of its PKCS#1 DER"
                );
                given.to_ascii_lowercase()
            }
            _ => computed,
        };
        TrailKey {
            fingerprint,
            origin: origin.to_string(),
            key,
        }
    }

    /// The RSA key.
    pub fn rsa(&self) -> &RsaPublicKey {
        &self.key
    }
}

/// The fingerprint CloudTrail gives a key: hex MD5 of its DER PKCS#1 encoding.
pub fn fingerprint_of(key: &RsaPublicKey) -> String {
    match key.to_pkcs1_der() {
        Ok(der) => hex::encode(Md5::digest(der.as_bytes())),
        // Encoding a parsed key cannot fail in practice; a key without a fingerprint is
        // simply never found.
        Err(_) => String::new(),
    }
}

/// Public keys by fingerprint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyRing {
    keys: BTreeMap<String, TrailKey>,
}

impl KeyRing {
    /// An empty ring.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads every key in a key file.
    pub fn from_file(path: &Path) -> Result<Self, KeyError> {
        let bytes = std::fs::read(path).map_err(|e| KeyError::Read {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        let mut ring = KeyRing::new();
        for key in parse_key_file(&path.display().to_string(), &bytes)? {
            ring.insert(key);
        }
        Ok(ring)
    }

    /// Adds a key (replacing one with the same fingerprint).
    pub fn insert(&mut self, key: TrailKey) {
        self.keys.insert(key.fingerprint.clone(), key);
    }

    /// Adds every key of another ring.
    pub fn extend(&mut self, other: KeyRing) {
        self.keys.extend(other.keys);
    }

    /// The key with this fingerprint (lower-case hex).
    pub fn get(&self, fingerprint: &str) -> Option<&TrailKey> {
        self.keys.get(fingerprint)
    }

    /// The fingerprints held.
    pub fn fingerprints(&self) -> impl Iterator<Item = &str> {
        self.keys.keys().map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// Parses the keys of a key file (`origin` names it in errors).
pub fn parse_key_file(origin: &str, bytes: &[u8]) -> Result<Vec<TrailKey>, KeyError> {
    let parse_error = |reason: String| KeyError::Parse {
        path: origin.to_string(),
        reason,
    };
    let text = std::str::from_utf8(bytes).ok().map(str::trim);
    let keys = match text {
        Some(t) if t.starts_with("-----BEGIN") => parse_pem(origin, t)?,
        Some(t) if t.starts_with('{') || t.starts_with('[') => parse_list_public_keys(origin, t)?,
        Some(t) if !t.is_empty() && t.bytes().all(is_base64_byte) => {
            let der = base64::engine::general_purpose::STANDARD
                .decode(t.split_whitespace().collect::<String>())
                .map_err(|e| parse_error(format!("not base64: {e}")))?;
            vec![parse_der(origin, &der)?]
        }
        _ => vec![parse_der(origin, bytes)?],
    };
    if keys.is_empty() {
        return Err(parse_error("holds no public key".to_string()));
    }
    Ok(keys)
}

fn is_base64_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=') || b.is_ascii_whitespace()
}

fn parse_der(origin: &str, der: &[u8]) -> Result<TrailKey, KeyError> {
    let key = RsaPublicKey::from_pkcs1_der(der)
        .or_else(|_| RsaPublicKey::from_public_key_der(der))
        .map_err(|_| KeyError::Parse {
            path: origin.to_string(),
            reason: "not an RSA public key (tried DER PKCS#1 and SubjectPublicKeyInfo, PEM, \
                     base64 and list-public-keys JSON)"
                .to_string(),
        })?;
    Ok(TrailKey::with_fingerprint(origin, key, None))
}

/// Splits PEM text into blocks and reads each public key. Done by hand because a file of
/// several blocks is the common case here and the RustCrypto PEM decoders read one block.
fn parse_pem(origin: &str, text: &str) -> Result<Vec<TrailKey>, KeyError> {
    let mut keys = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let block = &rest[start..];
        let label_end =
            block[11..]
                .find("-----")
                .map(|i| i + 11)
                .ok_or_else(|| KeyError::Parse {
                    path: origin.to_string(),
                    reason: "PEM header without its closing dashes".to_string(),
                })?;
        let label = &block[11..label_end];
        let end_marker = format!("-----END {label}-----");
        let end = block.find(&end_marker).ok_or_else(|| KeyError::Parse {
            path: origin.to_string(),
            reason: format!("PEM block {label:?} has no END line"),
        })? + end_marker.len();
        let pem = &block[..end];
        let key = match label {
            "RSA PUBLIC KEY" => RsaPublicKey::from_pkcs1_pem(pem).map_err(|e| e.to_string()),
            "PUBLIC KEY" => RsaPublicKey::from_public_key_pem(pem).map_err(|e| e.to_string()),
            other if other.contains("PRIVATE") => Err(format!(
                "holds a {other}: give the public key (never a private key)"
            )),
            other => Err(format!("PEM block {other:?} is not a public key")),
        }
        .map_err(|reason| KeyError::Parse {
            path: origin.to_string(),
            reason,
        })?;
        keys.push(TrailKey::with_fingerprint(origin, key, None));
        rest = &block[end..];
    }
    Ok(keys)
}

/// The JSON of `aws cloudtrail list-public-keys` (`{"PublicKeyList": [...]}`) or its list.
fn parse_list_public_keys(origin: &str, text: &str) -> Result<Vec<TrailKey>, KeyError> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Doc {
        Wrapped {
            #[serde(rename = "PublicKeyList")]
            list: Vec<Entry>,
        },
        Bare(Vec<Entry>),
    }
    #[derive(serde::Deserialize)]
    struct Entry {
        #[serde(rename = "Value")]
        value: String,
        #[serde(rename = "Fingerprint")]
        fingerprint: Option<String>,
    }
    let doc: Doc = serde_json::from_str(text).map_err(|e| KeyError::Parse {
        path: origin.to_string(),
        reason: format!(
            "not the JSON of `aws cloudtrail list-public-keys` ({{\"PublicKeyList\": \
             [{{\"Value\": ..., \"Fingerprint\": ...}}]}}): {e}"
        ),
    })?;
    let (Doc::Wrapped { list } | Doc::Bare(list)) = doc;
    list.iter()
        .enumerate()
        .map(|(i, entry)| {
            let der = base64::engine::general_purpose::STANDARD
                .decode(entry.value.trim())
                .map_err(|e| KeyError::Parse {
                    path: origin.to_string(),
                    reason: format!("key {}: Value is not base64: {e}", i + 1),
                })?;
            TrailKey::from_pkcs1_der(
                &format!("{origin} (key {})", i + 1),
                &der,
                entry.fingerprint.as_deref(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs1::EncodeRsaPublicKey;
    use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey, LineEnding};

    /// From the AWS CLI's `list-public-keys` example (see tests/data/README.md): a real
    /// CloudTrail key and the fingerprint AWS gives it.
    const AWS_EXAMPLE: &str = include_str!("../tests/data/aws-cli-list-public-keys.json");

    fn test_key() -> RsaPublicKey {
        let pem = include_str!("../tests/data/test-signing-key.pem");
        rsa::RsaPrivateKey::from_pkcs8_pem(pem)
            .unwrap()
            .to_public_key()
    }

    #[test]
    fn the_fingerprint_is_the_md5_of_the_pkcs1_der_as_in_aws_data() {
        let value: serde_json::Value = serde_json::from_str(AWS_EXAMPLE).unwrap();
        let entry = &value["PublicKeyList"][0];
        let der = base64::engine::general_purpose::STANDARD
            .decode(entry["Value"].as_str().unwrap())
            .unwrap();
        let key = RsaPublicKey::from_pkcs1_der(&der).unwrap();
        assert_eq!(fingerprint_of(&key), entry["Fingerprint"].as_str().unwrap());
        assert_eq!(fingerprint_of(&key), "7f3f401420072e50a65a141430817ab3");
    }

    #[test]
    fn reads_the_list_public_keys_json() {
        let keys = parse_key_file("keys.json", AWS_EXAMPLE.as_bytes()).unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].fingerprint, "7f3f401420072e50a65a141430817ab3");
    }

    #[test]
    fn reads_der_pem_and_base64_in_both_encodings_to_the_same_fingerprint() {
        let key = test_key();
        let pkcs1 = key.to_pkcs1_der().unwrap().as_bytes().to_vec();
        let spki = key.to_public_key_der().unwrap().as_bytes().to_vec();
        let expected = hex::encode(Md5::digest(&pkcs1));
        let pem1 = key.to_pkcs1_pem(LineEnding::LF).unwrap();
        let pem8 = key.to_public_key_pem(LineEnding::LF).unwrap();
        let b64 = base64::engine::general_purpose::STANDARD.encode(&pkcs1);
        for (name, bytes) in [
            ("pkcs1.der", pkcs1.clone()),
            ("spki.der", spki),
            ("pkcs1.pem", pem1.clone().into_bytes()),
            ("spki.pem", pem8.clone().into_bytes()),
            ("value.b64", b64.into_bytes()),
        ] {
            let keys = parse_key_file(name, &bytes).unwrap();
            assert_eq!(keys.len(), 1, "{name}");
            assert_eq!(keys[0].fingerprint, expected, "{name}");
            assert_eq!(keys[0].rsa(), &key, "{name}");
        }
        let aws = &parse_key_file("aws.json", AWS_EXAMPLE.as_bytes()).unwrap()[0];
        let aws_pem = aws.rsa().to_pkcs1_pem(LineEnding::LF).unwrap();
        let both = format!("{pem1}\n{aws_pem}");
        let keys = parse_key_file("both.pem", both.as_bytes()).unwrap();
        let found: Vec<&str> = keys.iter().map(|k| k.fingerprint.as_str()).collect();
        assert_eq!(
            found,
            [expected.as_str(), "7f3f401420072e50a65a141430817ab3"]
        );
    }

    #[test]
    fn bad_key_files_name_the_file_and_the_reason() {
        let private = include_str!("../tests/data/test-signing-key.pem");
        for (bytes, wanted) in [
            (private.as_bytes(), "never a private key"),
            (b"\x30\x03\x02\x01\x00".as_slice(), "not an RSA public key"),
            (
                b"{\"PublicKeyList\": [{\"Value\": \"@@\"}]}".as_slice(),
                "not base64",
            ),
            (b"{\"keys\": 1}".as_slice(), "list-public-keys"),
            (
                b"-----BEGIN PUBLIC KEY-----\nAAAA\n".as_slice(),
                "no END line",
            ),
            (b"".as_slice(), "not an RSA public key"),
        ] {
            let err = parse_key_file("k.pem", bytes).unwrap_err().to_string();
            assert!(err.contains("k.pem") && err.contains(wanted), "{err}");
        }
        let missing = KeyRing::from_file(Path::new("/nonexistent/key.pem")).unwrap_err();
        assert!(missing.to_string().contains("/nonexistent/key.pem"));
    }
}
