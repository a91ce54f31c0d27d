//! Ed25519 keys and signed chain heads.
//!
//! The private key is PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), written with mode 0600 to a
//! path outside the vault; the public key is SPKI PEM (`-----BEGIN PUBLIC KEY-----`), the
//! same encoding `openssl pkey -pubout` prints, stored in the vault and in every export. A
//! key's id is the first 16 hex digits of the SHA-256 of its SPKI DER.

use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::error::VaultError;
use crate::model::{sha256_hex, CaseId};

/// Domain separation for signed heads.
const HEAD_DOMAIN: &[u8] = b"vigil-vault/head/v1\n";

/// The vault's private signing key. Never stored in the vault; `Debug` shows only the key id.
pub struct SigningKeyPair {
    key: SigningKey,
}

impl std::fmt::Debug for SigningKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeyPair")
            .field("key_id", &self.public().key_id())
            .finish_non_exhaustive()
    }
}

impl SigningKeyPair {
    /// A new key from the operating system's random source.
    pub fn generate() -> Result<Self, VaultError> {
        let mut seed = zeroize::Zeroizing::new([0u8; 32]);
        getrandom::fill(seed.as_mut()).map_err(|e| VaultError::Key {
            path: "<random>".into(),
            reason: format!("cannot read the system random source: {e}"),
        })?;
        Ok(SigningKeyPair {
            key: SigningKey::from_bytes(&seed),
        })
    }

    /// Reads a PKCS#8 PEM private key.
    pub fn load(path: &Path) -> Result<Self, VaultError> {
        let text = std::fs::read_to_string(path).map_err(|e| VaultError::Key {
            path: path.into(),
            reason: format!("cannot read the private key: {e}"),
        })?;
        let text = zeroize::Zeroizing::new(text);
        let key = SigningKey::from_pkcs8_pem(&text).map_err(|e| VaultError::Key {
            path: path.into(),
            reason: format!("not an Ed25519 private key in PKCS#8 PEM (BEGIN PRIVATE KEY): {e}"),
        })?;
        Ok(SigningKeyPair { key })
    }

    /// Writes the private key as PKCS#8 PEM with mode 0600; refuses to replace a file.
    pub fn save(&self, path: &Path) -> Result<(), VaultError> {
        let pem = self
            .key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| VaultError::Key {
                path: path.into(),
                reason: format!("cannot encode the private key: {e}"),
            })?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| VaultError::io(dir, e))?;
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(|e| VaultError::Key {
            path: path.into(),
            reason: if e.kind() == std::io::ErrorKind::AlreadyExists {
                "a file is already there; vigil never overwrites a signing key".to_string()
            } else {
                format!("cannot create the private key file: {e}")
            },
        })?;
        file.write_all(pem.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| VaultError::io(path, e))
    }

    pub fn public(&self) -> PublicKey {
        PublicKey {
            key: self.key.verifying_key(),
        }
    }

    /// Signs the head of `case`: entry `seq` with hash `head`.
    pub fn sign_head(
        &self,
        case: &CaseId,
        seq: u64,
        head: &str,
        signed_at: DateTime<Utc>,
    ) -> HeadSignature {
        let statement = HeadStatement {
            case: case.clone(),
            seq,
            entries: seq + 1,
            head: head.to_string(),
            signed_at,
            key_id: self.public().key_id(),
        };
        let signature = self.key.sign(&statement.message());
        HeadSignature {
            statement,
            signature: hex::encode(signature.to_bytes()),
        }
    }
}

/// A public key that verifies a vault's signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    key: VerifyingKey,
}

impl PublicKey {
    /// Parses SPKI PEM (`-----BEGIN PUBLIC KEY-----`).
    pub fn from_pem(text: &str, origin: &str) -> Result<Self, VaultError> {
        VerifyingKey::from_public_key_pem(text.trim())
            .map(|key| PublicKey { key })
            .map_err(|e| VaultError::Key {
                path: origin.into(),
                reason: format!(
                    "not an Ed25519 public key in SPKI PEM (BEGIN PUBLIC KEY): {e}{}",
                    if text.contains("PRIVATE KEY") {
                        "; this is a private key, give the public one"
                    } else {
                        ""
                    }
                ),
            })
    }

    /// Reads an SPKI PEM file.
    pub fn load(path: &Path) -> Result<Self, VaultError> {
        let text = std::fs::read_to_string(path).map_err(|e| VaultError::Key {
            path: path.into(),
            reason: format!("cannot read the public key: {e}"),
        })?;
        Self::from_pem(&text, &path.display().to_string())
    }

    pub fn to_pem(&self) -> String {
        // Encoding a valid verifying key into SPKI cannot fail.
        self.key
            .to_public_key_pem(LineEnding::LF)
            .unwrap_or_default()
    }

    /// First 16 hex digits of the SHA-256 of the SPKI DER.
    pub fn key_id(&self) -> String {
        let der = self
            .key
            .to_public_key_der()
            .map(|d| d.as_bytes().to_vec())
            .unwrap_or_default();
        sha256_hex(&der)[..16].to_string()
    }

    /// Checks a head signature's Ed25519 signature against this key.
    pub fn verify_head(&self, sig: &HeadSignature) -> Result<(), String> {
        let bytes =
            hex::decode(&sig.signature).map_err(|e| format!("signature is not hex: {e}"))?;
        let bytes: [u8; 64] = bytes
            .try_into()
            .map_err(|_| "signature is not 64 bytes".to_string())?;
        self.key
            .verify(&sig.statement.message(), &Signature::from_bytes(&bytes))
            .map_err(|_| "Ed25519 signature does not verify".to_string())
    }
}

/// What a head signature vouches for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeadStatement {
    pub case: CaseId,
    /// The sequence number of the head entry.
    pub seq: u64,
    /// How many entries the chain has up to and including the head (`seq + 1`): signing the
    /// count alongside the head hash makes truncation visible.
    pub entries: u64,
    /// The head entry's hash.
    pub head: String,
    pub signed_at: DateTime<Utc>,
    pub key_id: String,
}

impl HeadStatement {
    /// The signed bytes: a domain prefix and the statement's canonical JSON.
    fn message(&self) -> Vec<u8> {
        let mut message = HEAD_DOMAIN.to_vec();
        message.extend(serde_json::to_vec(self).unwrap_or_default());
        message
    }
}

/// A signed head, as stored (`cases/<case>/heads/<seq>.sig.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeadSignature {
    pub statement: HeadStatement,
    /// Ed25519 signature, hex.
    pub signature: String,
}

impl HeadSignature {
    pub fn parse(bytes: &[u8], object: &str) -> Result<Self, VaultError> {
        serde_json::from_slice(bytes).map_err(|e| VaultError::Corrupt {
            object: object.to_string(),
            reason: format!("not a head signature: {e}"),
        })
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2024-05-01T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn keys_round_trip_through_pem_files_with_private_perms() {
        let dir = tempfile::tempdir().unwrap();
        let key = SigningKeyPair::generate().unwrap();
        let path = dir.path().join("sub/signing.key");
        key.save(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("-----BEGIN PRIVATE KEY-----"), "{text}");
        let back = SigningKeyPair::load(&path).unwrap();
        assert_eq!(back.public(), key.public());
        let err = key.save(&path).unwrap_err();
        assert!(err.to_string().contains("never overwrites"), "{err}");

        let pem = key.public().to_pem();
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"), "{pem}");
        let public = PublicKey::from_pem(&pem, "x").unwrap();
        assert_eq!(public.key_id(), key.public().key_id());
        assert_eq!(public.key_id().len(), 16);
    }

    #[test]
    fn wrong_key_files_are_named_errors() {
        let dir = tempfile::tempdir().unwrap();
        let key = SigningKeyPair::generate().unwrap();
        let private = dir.path().join("private.pem");
        key.save(&private).unwrap();
        let err = PublicKey::load(&private).unwrap_err().to_string();
        assert!(err.contains("private key, give the public one"), "{err}");
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "hello").unwrap();
        let err = SigningKeyPair::load(&junk).unwrap_err().to_string();
        assert!(err.contains("junk.pem") && err.contains("PKCS#8"), "{err}");
        let err = PublicKey::load(&dir.path().join("missing")).unwrap_err();
        assert!(err.to_string().contains("cannot read"), "{err}");
    }

    #[test]
    fn a_head_signature_binds_case_seq_and_hash() {
        let key = SigningKeyPair::generate().unwrap();
        let case = CaseId::new("c1").unwrap();
        let sig = key.sign_head(&case, 4, &"a".repeat(64), now());
        assert_eq!(sig.statement.entries, 5);
        key.public().verify_head(&sig).unwrap();
        let parsed = HeadSignature::parse(&sig.to_bytes(), "x").unwrap();
        key.public().verify_head(&parsed).unwrap();

        let mut forged = sig.clone();
        forged.statement.seq = 3;
        assert!(key.public().verify_head(&forged).is_err());
        let mut forged = sig.clone();
        forged.statement.head = "b".repeat(64);
        assert!(key.public().verify_head(&forged).is_err());
        let other = SigningKeyPair::generate().unwrap();
        assert!(other.public().verify_head(&sig).is_err());
        let mut junk = sig;
        junk.signature = "zz".into();
        assert!(key.public().verify_head(&junk).unwrap_err().contains("hex"));
    }
}
