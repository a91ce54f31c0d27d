//! The evidence vault: content-addressed, hash-chained, signed, write-once evidence with a
//! chain of custody.
//!
//! Each case holds items named by their SHA-256 and a chain of entries: one `item_added`
//! entry per item (hash, size, media type, source ARN/account/region, how and by whom it was
//! collected, when) and one entry per custody event (collected, copied, accessed, exported,
//! verified). Each entry carries the previous entry's hash; after every append the head is
//! signed with the vault's Ed25519 key, whose private half stays outside the vault. Anyone
//! with the public key verifies a case, or an exported bundle, offline.
//!
//! Storage is a [`Backend`] of write-once objects: [`LocalBackend`] (a directory, files made
//! read-only) or [`S3Backend`] (a bucket with Object Lock: every object gets a retention
//! period, optionally a legal hold, SSE-KMS and an archive storage class).
//!
//! Main types: [`Vault`] (add, list, show, get, custody, verify, export), [`NewItem`],
//! [`CaseManifest`], [`CaseReport`]/[`VaultReport`] with [`Problem`] (what verification
//! found, by name), [`SigningKeyPair`]/[`PublicKey`], [`VaultLocation`], and
//! [`verify_bundle`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), vigil_vault::VaultError> {
//! use std::path::Path;
//! use vigil_vault::{Actor, LocalBackend, NewItem, SigningKeyPair, Source, Vault, VerifyOptions};
//!
//! let backend = LocalBackend::open(Path::new("vigil-data/evidence"))?;
//! let key_path = Path::new("/home/ir/.config/vigil/evidence-signing.key");
//! Vault::init(&backend, key_path).await?;
//! let vault = Vault::open(Box::new(backend), Some(SigningKeyPair::load(key_path)?), Actor::from_env()).await?;
//! let added = vault
//!     .add(NewItem {
//!         case_id: "case-42".into(),
//!         name: "i-0abc-metadata.json".into(),
//!         media_type: "application/json".into(),
//!         bytes: b"{}".to_vec(),
//!         source: Source { arn: Some("arn:aws:ec2:eu-west-1:210987654321:instance/i-0abc".into()), ..Source::default() },
//!         method: "ec2:DescribeInstances by ec2.capture_metadata".into(),
//!         collected_by: None,
//!         operator: None,
//!         collected_at: None,
//!     })
//!     .await?;
//! let report = vault.verify_case("case-42", &VerifyOptions::default()).await?;
//! assert!(report.is_ok(), "{report}");
//! vault.export("case-42", Path::new("case-42.tar.gz")).await?;
//! let offline = vigil_vault::verify_bundle(Path::new("case-42.tar.gz"), Some(vault.public_key()))?;
//! # let _ = (added, offline); Ok(()) }
//! ```

mod backend;
mod bundle;
mod error;
mod keys;
mod manifest;
mod model;
mod vault;
mod verify;

pub use backend::{
    open_backend, Backend, LocalBackend, LockMode, ObjectDigest, ObjectKind, S3Backend, S3Options,
    VaultLocation,
};
pub use bundle::verify_bundle;
pub use error::{BackendError, VaultError};
pub use keys::{HeadSignature, HeadStatement, PublicKey, SigningKeyPair};
pub use manifest::{CaseManifest, CustodyRecord, ManifestItem};
pub use model::{
    sha256_hex, Actor, CaseId, ChainEntry, CustodyAction, CustodyEvent, EntryBody, ItemRecord,
    Source,
};
pub use vault::{
    block_on, AddOutcome, CaseSummary, ExportOutcome, InitOutcome, NewItem, Retrieved, Vault,
    VerifyOptions,
};
pub use verify::{CaseReport, KeyTrust, Problem, VaultReport};
