//! The vault: adding items, reading them back, custody events, verification and export.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use tokio::sync::Mutex;

use crate::backend::{Backend, ObjectKind};
use crate::bundle;
use crate::error::{BackendError, VaultError};
use crate::keys::{PublicKey, SigningKeyPair};
use crate::manifest::{CaseManifest, ManifestItem};
use crate::model::{
    is_sha256_hex, layout, sha256_hex, Actor, CaseId, ChainEntry, CustodyAction, CustodyEvent,
    EntryBody, ItemRecord, Source, GENESIS,
};
use crate::verify::{
    self, CaseMaterial, CaseReport, ItemState, KeyTrust, Problem, RawObject, VaultReport,
};

/// An item to store, with where it came from and who collected it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewItem {
    pub case_id: String,
    /// A short name, e.g. `i-0abc-metadata.json` or the file name.
    pub name: String,
    pub media_type: String,
    pub bytes: Vec<u8>,
    pub source: Source,
    /// How it was collected, e.g. `ec2:DescribeInstances by ec2.capture_metadata`.
    pub method: String,
    /// The AWS principal that collected it.
    pub collected_by: Option<String>,
    /// The vigil operator responsible; the vault's actor when `None`.
    pub operator: Option<String>,
    /// When it was collected; now when `None`.
    pub collected_at: Option<DateTime<Utc>>,
}

/// What [`Vault::add`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddOutcome {
    pub sha256: String,
    /// The chain entry that records it.
    pub seq: u64,
    /// The case already held these bytes: a `collected` custody event was appended instead of
    /// a second manifest entry.
    pub duplicate: bool,
}

/// What [`Vault::init`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitOutcome {
    pub location: String,
    pub key_id: String,
    /// False when an existing private key file was used.
    pub created_key: bool,
    /// False when the vault already had this public key.
    pub created_vault: bool,
    pub public_key_pem: String,
}

/// An item read back by [`Vault::get`].
#[derive(Debug, Clone)]
pub struct Retrieved {
    pub item: ManifestItem,
    pub bytes: Vec<u8>,
    /// The `accessed` custody event, when a signing key was available to record it.
    pub custody_seq: Option<u64>,
}

/// A case in [`Vault::cases`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseSummary {
    pub case: CaseId,
    pub entries: u64,
    pub items: usize,
    pub bytes: u64,
    pub last_entry_at: Option<DateTime<Utc>>,
}

/// What [`Vault::export`] wrote.
#[derive(Debug, Clone)]
pub struct ExportOutcome {
    pub path: PathBuf,
    pub entries: u64,
    pub items: usize,
    /// The `exported` custody event (included in the bundle), when a key was available.
    pub custody_seq: Option<u64>,
    /// The verification done before exporting.
    pub report: CaseReport,
}

/// How to verify.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Check signatures against this key instead of the vault's own `keys/public.pem`.
    pub trusted_key: Option<PublicKey>,
    /// Append a `verified` custody event to each case that verifies (needs the signing key).
    pub record_custody: bool,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            trusted_key: None,
            record_custody: true,
        }
    }
}

/// What the vault knows about a case's chain after checking it: where to append next.
#[derive(Debug, Clone)]
struct CaseState {
    next_seq: u64,
    head: String,
    items: BTreeSet<String>,
}

/// An evidence vault on a backend.
#[derive(Debug)]
pub struct Vault {
    backend: Box<dyn Backend>,
    public: PublicKey,
    signer: Option<SigningKeyPair>,
    actor: Actor,
    /// Verified heads, and the lock that serialises this process's appends.
    states: Mutex<HashMap<CaseId, CaseState>>,
}

impl Vault {
    /// Prepares a vault: uses the private key at `key_path` or creates it (mode 0600), and
    /// stores the public key in the vault. Running it again with the same key does nothing;
    /// with another key it fails.
    pub async fn init(backend: &dyn Backend, key_path: &Path) -> Result<InitOutcome, VaultError> {
        let existing = match backend.get(layout::PUBLIC_KEY).await? {
            Some(bytes) => Some(parse_public(&bytes, backend)?),
            None => None,
        };
        check_key_outside(backend, key_path)?;
        let created_key = !key_path.exists();
        let key = if created_key {
            let key = SigningKeyPair::generate()?;
            key.save(key_path)?;
            key
        } else {
            SigningKeyPair::load(key_path)?
        };
        let public = key.public();
        let created_vault = match existing {
            Some(vault_key) if vault_key == public => false,
            Some(vault_key) => {
                return Err(VaultError::KeyMismatch {
                    signing: public.key_id(),
                    vault: vault_key.key_id(),
                })
            }
            None => {
                backend
                    .put_once(
                        layout::PUBLIC_KEY,
                        public.to_pem().as_bytes(),
                        ObjectKind::Metadata,
                    )
                    .await?;
                true
            }
        };
        Ok(InitOutcome {
            location: backend.location(),
            key_id: public.key_id(),
            created_key,
            created_vault,
            public_key_pem: public.to_pem(),
        })
    }

    /// Opens an initialised vault. Without a signing key it is read-only: listing, reading
    /// and verifying work, appending (add, custody events) does not.
    pub async fn open(
        backend: Box<dyn Backend>,
        signer: Option<SigningKeyPair>,
        actor: Actor,
    ) -> Result<Self, VaultError> {
        let bytes =
            backend
                .get(layout::PUBLIC_KEY)
                .await?
                .ok_or_else(|| VaultError::NotInitialised {
                    vault: backend.location(),
                })?;
        let public = parse_public(&bytes, backend.as_ref())?;
        if let Some(signer) = &signer {
            if signer.public() != public {
                return Err(VaultError::KeyMismatch {
                    signing: signer.public().key_id(),
                    vault: public.key_id(),
                });
            }
        }
        Ok(Vault {
            backend,
            public,
            signer,
            actor,
            states: Mutex::new(HashMap::new()),
        })
    }

    pub fn location(&self) -> String {
        self.backend.location()
    }

    /// The vault's public key (to export with `vigil evidence init` or hand to a verifier).
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    pub fn can_sign(&self) -> bool {
        self.signer.is_some()
    }

    pub fn backend(&self) -> &dyn Backend {
        self.backend.as_ref()
    }

    /// Stores an item (content-addressed, never rewritten) and appends its manifest entry.
    /// The same bytes added to a case again append a `collected` custody event instead.
    pub async fn add(&self, item: NewItem) -> Result<AddOutcome, VaultError> {
        let case = CaseId::new(&item.case_id)?;
        if self.signer.is_none() {
            return Err(VaultError::NoSigningKey);
        }
        let sha = sha256_hex(&item.bytes);
        self.store_item_bytes(&case, &sha, &item.bytes).await?;
        let now = Utc::now();
        let record = ItemRecord {
            sha256: sha.clone(),
            size: item.bytes.len() as u64,
            name: item.name,
            media_type: item.media_type,
            source: item.source,
            method: item.method,
            collected_by: item.collected_by,
            operator: item.operator.unwrap_or_else(|| self.actor.operator.clone()),
            collected_at: item.collected_at.unwrap_or(now),
        };
        let mut duplicate = false;
        let entry = self
            .append_with(&case, |state| {
                duplicate = state.items.contains(&sha);
                if duplicate {
                    EntryBody::Custody(CustodyEvent {
                        action: CustodyAction::Collected,
                        item: Some(record.sha256.clone()),
                        note: format!("collected again as {}", record.name),
                        source: Some(record.source.clone()),
                        method: Some(record.method.clone()),
                    })
                } else {
                    EntryBody::ItemAdded(record.clone())
                }
            })
            .await?;
        Ok(AddOutcome {
            sha256: sha,
            seq: entry.seq,
            duplicate,
        })
    }

    /// The entry point for captures from the response engine: stores the item and returns
    /// its SHA-256 (what `EvidenceSink::put` answers).
    pub async fn store_capture(&self, item: NewItem) -> Result<String, VaultError> {
        self.add(item).await.map(|outcome| outcome.sha256)
    }

    /// [`Vault::store_capture`] for synchronous callers (the `EvidenceSink` trait is
    /// synchronous): blocks on a multi-threaded tokio runtime when called inside one, or on a
    /// private one otherwise.
    pub fn store_capture_blocking(&self, item: NewItem) -> Result<String, VaultError> {
        block_on(self.store_capture(item))?
    }

    async fn store_item_bytes(
        &self,
        case: &CaseId,
        sha: &str,
        bytes: &[u8],
    ) -> Result<(), VaultError> {
        let key = layout::item(case, sha);
        match self.backend.put_once(&key, bytes, ObjectKind::Item).await {
            Ok(()) => Ok(()),
            Err(BackendError::AlreadyExists { .. }) => {
                // Content-addressed: the object is these bytes, unless someone planted others.
                match self.backend.digest(&key).await? {
                    Some(d) if d.sha256 == sha => Ok(()),
                    _ => Err(VaultError::Corrupt {
                        object: key,
                        reason: "an object with this name holds other bytes; run `vigil evidence verify`"
                            .to_string(),
                    }),
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Appends a custody event about an item (`item`: its SHA-256 or a unique prefix) or the
    /// whole case; returns the entry's sequence number.
    pub async fn record_custody(
        &self,
        case: &str,
        action: CustodyAction,
        item: Option<&str>,
        note: &str,
    ) -> Result<u64, VaultError> {
        let case = CaseId::new(case)?;
        let item = match item {
            Some(id) => Some(
                self.manifest_of(&case)
                    .await?
                    .find(id)?
                    .record
                    .sha256
                    .clone(),
            ),
            None => None,
        };
        let event = CustodyEvent {
            action,
            item,
            note: note.to_string(),
            source: None,
            method: None,
        };
        let entry = self
            .append_with(&case, |_| EntryBody::Custody(event.clone()))
            .await?;
        Ok(entry.seq)
    }

    /// Appends one entry and signs the new head. The chain is checked (links and signatures,
    /// not item bytes) before the first append to a case, so vigil never signs on top of a
    /// chain that was tampered with. Two writers racing for the same sequence number cannot
    /// both win: the entry object is write-once.
    async fn append_with(
        &self,
        case: &CaseId,
        mut body: impl FnMut(&CaseState) -> EntryBody,
    ) -> Result<ChainEntry, VaultError> {
        let signer = self.signer.as_ref().ok_or(VaultError::NoSigningKey)?;
        let mut states = self.states.lock().await;
        for attempt in 0..2 {
            let state = match states.get(case) {
                Some(state) => state.clone(),
                None => self.checked_state(case).await?,
            };
            let entry = ChainEntry::new(
                state.next_seq,
                &state.head,
                case,
                Utc::now(),
                &self.actor,
                body(&state),
            );
            let key = layout::entry(case, entry.seq);
            match self
                .backend
                .put_once(&key, &entry.to_bytes(), ObjectKind::Metadata)
                .await
            {
                Ok(()) => {}
                Err(BackendError::AlreadyExists { .. }) => {
                    states.remove(case);
                    if attempt == 0 {
                        continue;
                    }
                    return Err(VaultError::ConcurrentAppend {
                        case: case.to_string(),
                        seq: entry.seq,
                    });
                }
                Err(e) => {
                    states.remove(case);
                    return Err(e.into());
                }
            }
            let sig = signer.sign_head(case, entry.seq, &entry.hash, entry.at);
            if let Err(e) = self
                .backend
                .put_once(
                    &layout::sig(case, entry.seq),
                    &sig.to_bytes(),
                    ObjectKind::Metadata,
                )
                .await
            {
                states.remove(case);
                return Err(e.into());
            }
            let mut next = state;
            next.next_seq = entry.seq + 1;
            next.head = entry.hash.clone();
            if let EntryBody::ItemAdded(record) = &entry.body {
                next.items.insert(record.sha256.clone());
            }
            states.insert(case.clone(), next);
            return Ok(entry);
        }
        Err(VaultError::ConcurrentAppend {
            case: case.to_string(),
            seq: 0,
        })
    }

    /// Loads and checks a case's chain (not its item bytes) for appending.
    async fn checked_state(&self, case: &CaseId) -> Result<CaseState, VaultError> {
        let material = self.load_material(case, false).await?;
        let chain = verify::check(case, &material, &self.public, None);
        if !chain.problems.is_empty() {
            let summary = chain
                .problems
                .iter()
                .take(3)
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ");
            return Err(VaultError::ChainDoesNotVerify {
                case: case.to_string(),
                summary,
            });
        }
        let items = chain
            .entries
            .values()
            .filter_map(|e| match &e.body {
                EntryBody::ItemAdded(r) => Some(r.sha256.clone()),
                EntryBody::Custody(_) => None,
            })
            .collect();
        Ok(match chain.last() {
            Some(last) => CaseState {
                next_seq: last.seq + 1,
                head: last.hash.clone(),
                items,
            },
            None => CaseState {
                next_seq: 0,
                head: GENESIS.to_string(),
                items,
            },
        })
    }

    /// Reads a case's objects for the checker.
    pub(crate) async fn load_material(
        &self,
        case: &CaseId,
        with_items: bool,
    ) -> Result<CaseMaterial, VaultError> {
        let prefix = layout::case_prefix(case);
        let mut material = CaseMaterial {
            items: with_items.then(BTreeMap::new),
            ..CaseMaterial::default()
        };
        for key in self.backend.list(&prefix).await? {
            let rest = key.strip_prefix(&prefix).unwrap_or(&key);
            if let Some(name) = rest.strip_prefix("items/") {
                self.load_item(&key, name, &mut material).await;
            } else if rest.starts_with("chain/") {
                self.load_raw(&key, layout::seq_of(&key, ".json"), &mut material, true)
                    .await?;
            } else if rest.starts_with("heads/") {
                self.load_raw(
                    &key,
                    layout::seq_of(&key, ".sig.json"),
                    &mut material,
                    false,
                )
                .await?;
            } else {
                material.unexpected.push(key);
            }
        }
        Ok(material)
    }

    async fn load_raw(
        &self,
        key: &str,
        position: Option<u64>,
        material: &mut CaseMaterial,
        is_entry: bool,
    ) -> Result<(), VaultError> {
        let Some(position) = position else {
            material.unexpected.push(key.to_string());
            return Ok(());
        };
        let Some(bytes) = self.backend.get(key).await? else {
            return Ok(());
        };
        let raw = RawObject {
            label: key.to_string(),
            position,
            bytes,
        };
        if is_entry {
            material.entries.push(raw);
        } else {
            material.signatures.push(raw);
        }
        Ok(())
    }

    async fn load_item(&self, key: &str, name: &str, material: &mut CaseMaterial) {
        let Some(items) = material.items.as_mut() else {
            return;
        };
        if !is_sha256_hex(name) {
            material.odd_items.push(key.to_string());
            return;
        }
        let state = match self.backend.digest(key).await {
            Ok(Some(digest)) => ItemState::Read(digest),
            Ok(None) => return,
            Err(e) => ItemState::Unreadable(e.to_string()),
        };
        items.insert(name.to_string(), state);
    }

    /// The ids of every case in the vault.
    pub async fn case_ids(&self) -> Result<Vec<CaseId>, VaultError> {
        let mut ids = BTreeSet::new();
        for key in self.backend.list(layout::CASES).await? {
            if let Some(id) = key
                .strip_prefix(layout::CASES)
                .and_then(|r| r.split('/').next())
                .and_then(|id| CaseId::new(id).ok())
            {
                ids.insert(id);
            }
        }
        Ok(ids.into_iter().collect())
    }

    /// Every case with its counts (`vigil evidence list`).
    pub async fn cases(&self) -> Result<Vec<CaseSummary>, VaultError> {
        let mut out = Vec::new();
        for case in self.case_ids().await? {
            // A case folder with no chain (stray objects) is listed empty; verify names them.
            let entries = match self.entries(&case).await {
                Ok(entries) => entries,
                Err(VaultError::UnknownCase { .. }) => Vec::new(),
                Err(e) => return Err(e),
            };
            let manifest = CaseManifest::from_entries(&case, &entries);
            out.push(CaseSummary {
                case,
                entries: manifest.entries,
                items: manifest.items.len(),
                bytes: manifest.items.iter().map(|i| i.record.size).sum(),
                last_entry_at: entries.last().map(|e| e.at),
            });
        }
        Ok(out)
    }

    /// A case's manifest (`vigil evidence list CASE`, `show CASE`). Reading does not verify:
    /// an entry that does not parse is an error that points at `verify`.
    pub async fn manifest(&self, case: &str) -> Result<CaseManifest, VaultError> {
        self.manifest_of(&CaseId::new(case)?).await
    }

    async fn manifest_of(&self, case: &CaseId) -> Result<CaseManifest, VaultError> {
        let entries = self.entries(case).await?;
        Ok(CaseManifest::from_entries(case, &entries))
    }

    /// A case's entries in order; an unknown case is an error.
    async fn entries(&self, case: &CaseId) -> Result<Vec<ChainEntry>, VaultError> {
        let keys = self.backend.list(&layout::chain_prefix(case)).await?;
        if keys.is_empty() {
            return Err(VaultError::UnknownCase {
                vault: self.location(),
                case: case.to_string(),
            });
        }
        let mut entries = Vec::with_capacity(keys.len());
        for key in keys {
            if let Some(bytes) = self.backend.get(&key).await? {
                entries.push(
                    ChainEntry::parse(&bytes, &key).map_err(|e| VaultError::Corrupt {
                        object: key.clone(),
                        reason: format!("{e}; run `vigil evidence verify {case}`"),
                    })?,
                );
            }
        }
        Ok(entries)
    }

    /// One item's record and custody history (`vigil evidence show CASE ITEM`).
    pub async fn item(&self, case: &str, id: &str) -> Result<ManifestItem, VaultError> {
        Ok(self.manifest(case).await?.find(id)?.clone())
    }

    /// Reads an item back, checking its bytes against the manifest, and records an
    /// `accessed` custody event when the vault can sign.
    pub async fn get(&self, case: &str, id: &str) -> Result<Retrieved, VaultError> {
        let case_id = CaseId::new(case)?;
        let item = self.manifest_of(&case_id).await?.find(id)?.clone();
        let key = layout::item(&case_id, &item.record.sha256);
        let bytes = self
            .backend
            .get(&key)
            .await?
            .ok_or_else(|| VaultError::Corrupt {
                object: key.clone(),
                reason: "the item is in the manifest but its bytes are missing".to_string(),
            })?;
        let actual = sha256_hex(&bytes);
        if actual != item.record.sha256 {
            return Err(VaultError::Corrupt {
                object: key,
                reason: format!("the bytes changed: they hash to {actual}"),
            });
        }
        let custody_seq = match self.signer {
            Some(_) => Some(
                self.record_custody(case, CustodyAction::Accessed, Some(&item.record.sha256), "")
                    .await?,
            ),
            None => None,
        };
        Ok(Retrieved {
            item,
            bytes,
            custody_seq,
        })
    }

    /// The key to verify with, how far it is trusted, and the vault's key when it differs.
    fn verification_key<'a>(
        &'a self,
        options: &'a VerifyOptions,
    ) -> (&'a PublicKey, KeyTrust, Option<&'a PublicKey>) {
        match &options.trusted_key {
            Some(key) => (
                key,
                KeyTrust::Trusted,
                (key != &self.public).then_some(&self.public),
            ),
            None => (&self.public, KeyTrust::Vault, None),
        }
    }

    /// Verifies one case: chain, signatures and every item's bytes.
    pub async fn verify_case(
        &self,
        case: &str,
        options: &VerifyOptions,
    ) -> Result<CaseReport, VaultError> {
        let case = CaseId::new(case)?;
        let material = self.load_material(&case, true).await?;
        if material.entries.is_empty()
            && material.signatures.is_empty()
            && material.items.as_ref().is_none_or(BTreeMap::is_empty)
        {
            return Err(VaultError::UnknownCase {
                vault: self.location(),
                case: case.to_string(),
            });
        }
        let (key, trust, other) = self.verification_key(options);
        let chain = verify::check(&case, &material, key, other);
        let mut report = verify::report(&case, self.location(), chain, key, trust, true);
        if let (Some(other), KeyTrust::Trusted) = (other, &report.key_trust) {
            report.problems.insert(
                0,
                Problem::VaultKeyReplaced {
                    vault_key_id: other.key_id(),
                    trusted_key_id: key.key_id(),
                },
            );
        }
        if options.record_custody && self.signer.is_some() && report.is_ok() {
            let note = format!(
                "{} entries, {} items verified; head {}",
                report.entries,
                report.items,
                report.head.as_deref().unwrap_or("-")
            );
            report.custody_seq = Some(
                self.record_custody(case.as_str(), CustodyAction::Verified, None, &note)
                    .await?,
            );
        }
        Ok(report)
    }

    /// Verifies every case, and that nothing stray sits beside them.
    pub async fn verify_all(&self, options: &VerifyOptions) -> Result<VaultReport, VaultError> {
        let mut problems = Vec::new();
        for key in self.backend.list("").await? {
            let known = key == layout::PUBLIC_KEY
                || key
                    .strip_prefix(layout::CASES)
                    .and_then(|r| r.split('/').next())
                    .is_some_and(|id| CaseId::new(id).is_ok());
            if !known {
                problems.push(Problem::UnexpectedObject { object: key });
            }
        }
        let mut cases = Vec::new();
        for case in self.case_ids().await? {
            cases.push(self.verify_case(case.as_str(), options).await?);
        }
        Ok(VaultReport {
            location: self.location(),
            cases,
            problems,
        })
    }

    /// Writes one case to a `.tar.gz` bundle that verifies offline
    /// ([`crate::verify_bundle`]). The case is verified first and not exported if it fails;
    /// with a signing key an `exported` custody event is appended first, so the bundle
    /// carries the record of its own export. Refuses to replace an existing file.
    pub async fn export(&self, case: &str, out: &Path) -> Result<ExportOutcome, VaultError> {
        let case_id = CaseId::new(case)?;
        if out.exists() {
            return Err(VaultError::Bundle {
                path: out.into(),
                reason: "a file is already there; choose another name".to_string(),
            });
        }
        let options = VerifyOptions {
            trusted_key: None,
            record_custody: false,
        };
        let report = self.verify_case(case, &options).await?;
        if !report.is_ok() {
            let summary = report
                .problems
                .iter()
                .take(3)
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ");
            return Err(VaultError::ChainDoesNotVerify {
                case: case.to_string(),
                summary,
            });
        }
        let file_name = out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let custody_seq = match self.signer {
            Some(_) => Some(
                self.record_custody(
                    case,
                    CustodyAction::Exported,
                    None,
                    &format!("bundle {file_name}"),
                )
                .await?,
            ),
            None => None,
        };
        let material = self.load_material(&case_id, false).await?;
        let entries = self.entries(&case_id).await?;
        let manifest = CaseManifest::from_entries(&case_id, &entries);
        bundle::write(self, &case_id, &material, &manifest, out).await?;
        Ok(ExportOutcome {
            path: out.to_path_buf(),
            entries: manifest.entries,
            items: manifest.items.len(),
            custody_seq,
            report,
        })
    }
}

/// The private key must not live in the vault: whoever can read the vault could then sign.
fn check_key_outside(backend: &dyn Backend, key_path: &Path) -> Result<(), VaultError> {
    let Some(root) = backend.local_root() else {
        return Ok(());
    };
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let root = root.canonicalize().unwrap_or_else(|_| absolute(root));
    let parent = key_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let dir = parent.canonicalize().unwrap_or_else(|_| absolute(parent));
    if dir.starts_with(&root) {
        return Err(VaultError::Key {
            path: key_path.into(),
            reason: format!(
                "the private key must be kept outside the vault ({})",
                root.display()
            ),
        });
    }
    Ok(())
}

fn parse_public(bytes: &[u8], backend: &dyn Backend) -> Result<PublicKey, VaultError> {
    let origin = format!("{}/{}", backend.location(), layout::PUBLIC_KEY);
    let text = std::str::from_utf8(bytes).map_err(|_| VaultError::Key {
        path: origin.clone().into(),
        reason: "not UTF-8 text".to_string(),
    })?;
    PublicKey::from_pem(text, &origin)
}

/// Runs a future to completion from synchronous code.
pub fn block_on<F: std::future::Future>(future: F) -> Result<F::Output, VaultError> {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
            Ok(tokio::task::block_in_place(|| handle.block_on(future)))
        }
        Ok(_) => Err(VaultError::Runtime(
            "cannot block inside a current-thread tokio runtime; call the async API".to_string(),
        )),
        Err(_) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map(|rt| rt.block_on(future))
            .map_err(|e| VaultError::io("<tokio runtime>", e)),
    }
}
