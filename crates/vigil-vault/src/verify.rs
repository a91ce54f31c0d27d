//! Verification: the one checker that both a vault and an exported bundle go through.
//!
//! What is checked, and how each kind of tampering shows up:
//! - every entry's stored hash against its content → [`Problem::EntryAltered`];
//! - every entry's position (object name, or line in a bundle) against its `seq` →
//!   [`Problem::EntryOutOfOrder`]; gaps → [`Problem::EntryMissing`];
//! - every entry's `prev` against the previous entry's hash → [`Problem::ChainBroken`] (an
//!   entry edited and re-hashed, inserted or removed);
//! - every head signature: parsed, made by the trusted key ([`Problem::SignedByOtherKey`]),
//!   valid ([`Problem::SignatureInvalid`]), over the hash the chain has at that position
//!   ([`Problem::SignatureMismatch`]), not beyond the end ([`Problem::Truncated`]); and the
//!   newest signature must cover the last entry ([`Problem::UnsignedEntries`]);
//! - every item in the manifest: present ([`Problem::ItemMissing`]) with the recorded hash and
//!   size ([`Problem::ItemAltered`]); every stored item is in the manifest
//!   ([`Problem::ExtraItem`]).
//!
//! What a signature cannot show: a vault rolled back to an earlier signed state (trailing
//! entries and their signatures deleted together) verifies, because it is a state the key
//! really signed. Compare the reported head and entry count with a copy kept elsewhere (an
//! export, the response ledger); on S3, Object Lock stops the deletion itself.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::backend::ObjectDigest;
use crate::keys::{HeadSignature, PublicKey};
use crate::model::{CaseId, ChainEntry, EntryBody, GENESIS};

/// A stored object handed to the checker: its name, the position its name (or line) gives,
/// and its bytes.
#[derive(Debug, Clone)]
pub(crate) struct RawObject {
    pub label: String,
    pub position: u64,
    pub bytes: Vec<u8>,
}

/// What a stored item turned out to be.
#[derive(Debug, Clone)]
pub(crate) enum ItemState {
    Read(ObjectDigest),
    Unreadable(String),
}

/// Everything the checker looks at for one case.
#[derive(Debug, Default)]
pub(crate) struct CaseMaterial {
    pub entries: Vec<RawObject>,
    pub signatures: Vec<RawObject>,
    /// Stored items by SHA-256 name; `None` when items are not checked (appends).
    pub items: Option<BTreeMap<String, ItemState>>,
    /// Objects that have no business being there (wrong names, stray files).
    pub unexpected: Vec<String>,
    /// Stored item objects whose name is not a SHA-256.
    pub odd_items: Vec<String>,
}

/// Whose public key the signatures were checked against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyTrust {
    /// A key the caller supplied (`--public-key`), independent of what is verified.
    Trusted,
    /// The key stored in the vault itself: proves integrity against anyone without the
    /// private key, but not against someone who replaced the vault's key too.
    Vault,
    /// The key inside the bundle: the same caveat.
    Bundle,
}

/// One thing wrong with a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum Problem {
    EntryUnreadable {
        object: String,
        reason: String,
    },
    EntryMissing {
        seq: u64,
    },
    EntryOutOfOrder {
        object: String,
        position: u64,
        seq: u64,
    },
    EntryAltered {
        seq: u64,
        stored_hash: String,
        content_hash: String,
    },
    ChainBroken {
        seq: u64,
        prev: String,
        expected: String,
    },
    WrongCase {
        seq: u64,
        found: String,
    },
    NoSignature {
        entries: u64,
    },
    SignatureUnreadable {
        object: String,
        reason: String,
    },
    SignedByOtherKey {
        object: String,
        key_id: String,
        expected_key_id: String,
    },
    SignatureInvalid {
        object: String,
        reason: String,
    },
    SignatureMismatch {
        object: String,
        seq: u64,
        reason: String,
    },
    Truncated {
        object: String,
        signed_entries: u64,
        entries: u64,
    },
    UnsignedEntries {
        first_seq: u64,
        last_seq: u64,
    },
    ItemMissing {
        sha256: String,
        name: String,
    },
    ItemAltered {
        sha256: String,
        name: String,
        actual_sha256: String,
        actual_size: u64,
        size: u64,
    },
    ItemUnreadable {
        sha256: String,
        reason: String,
    },
    ExtraItem {
        object: String,
    },
    UnexpectedObject {
        object: String,
    },
    VaultKeyReplaced {
        vault_key_id: String,
        trusted_key_id: String,
    },
    SummaryMismatch {
        object: String,
        reason: String,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Problem::*;
        match self {
            EntryUnreadable { object, reason } => write!(f, "chain entry {object} is unreadable: {reason}"),
            EntryMissing { seq } => write!(f, "chain entry {seq} is missing (removed from the chain)"),
            EntryOutOfOrder { object, position, seq } => write!(
                f,
                "chain entry {object} at position {position} is entry {seq}: entries were reordered or renumbered"
            ),
            EntryAltered { seq, stored_hash, content_hash } => write!(
                f,
                "chain entry {seq} was changed: its content hashes to {} but it records {}",
                short(content_hash),
                short(stored_hash)
            ),
            ChainBroken { seq, prev, expected } => write!(
                f,
                "chain broken at entry {seq}: it follows {} but the entry before it is {} (an entry before it was changed, inserted or removed)",
                short(prev),
                short(expected)
            ),
            WrongCase { seq, found } => write!(f, "chain entry {seq} belongs to case {found}"),
            NoSignature { entries } => write!(f, "{entries} entries and no signed head"),
            SignatureUnreadable { object, reason } => write!(f, "signature {object} is unreadable: {reason}"),
            SignedByOtherKey { object, key_id, expected_key_id } => write!(
                f,
                "signature {object} was made by another key (key id {key_id}, expected {expected_key_id})"
            ),
            SignatureInvalid { object, reason } => write!(f, "signature {object} is broken: {reason}"),
            SignatureMismatch { object, seq, reason } => {
                write!(f, "signature {object} does not match entry {seq}: {reason}")
            }
            Truncated { object, signed_entries, entries } => write!(
                f,
                "chain truncated: {object} signs {signed_entries} entries but only {entries} remain"
            ),
            UnsignedEntries { first_seq, last_seq } => write!(
                f,
                "entries {first_seq}..={last_seq} are not covered by any valid signature (appended without the key, or an interrupted write)"
            ),
            ItemMissing { sha256, name } => write!(f, "item {} ({name}) is missing", short(sha256)),
            ItemAltered { sha256, name, actual_sha256, actual_size, size } => write!(
                f,
                "item {} ({name}) bytes changed: now sha256 {} and {actual_size} bytes (recorded {size})",
                short(sha256),
                short(actual_sha256)
            ),
            ItemUnreadable { sha256, reason } => write!(f, "item {} cannot be read: {reason}", short(sha256)),
            ExtraItem { object } => write!(f, "extra item {object} is not in the manifest"),
            UnexpectedObject { object } => write!(f, "unexpected object {object}"),
            VaultKeyReplaced { vault_key_id, trusted_key_id } => write!(
                f,
                "the vault's public key (key id {vault_key_id}) is not the trusted key (key id {trusted_key_id}): it was replaced"
            ),
            SummaryMismatch { object, reason } => write!(f, "{object} disagrees with the chain: {reason}"),
        }
    }
}

/// A hash shortened for messages: 12 hex digits are plenty to tell two apart.
pub(crate) fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

/// The result of verifying one case.
#[derive(Debug, Clone, Serialize)]
pub struct CaseReport {
    pub case: String,
    /// The vault location or the bundle path.
    pub location: String,
    pub entries: u64,
    pub items: usize,
    pub custody_events: usize,
    /// Hash of the last entry.
    pub head: Option<String>,
    /// The newest valid signature: the entry it covers and when it was made.
    pub signed_seq: Option<u64>,
    pub signed_at: Option<DateTime<Utc>>,
    pub key_id: String,
    pub key_trust: KeyTrust,
    /// False when only the chain and signatures were checked.
    pub items_checked: bool,
    pub problems: Vec<Problem>,
    /// Set when a `verified` custody event was appended for this verification.
    pub custody_seq: Option<u64>,
}

impl CaseReport {
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

impl fmt::Display for CaseReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let trust = match self.key_trust {
            KeyTrust::Trusted => "trusted key",
            KeyTrust::Vault => "the vault's own key",
            KeyTrust::Bundle => "the bundle's own key",
        };
        let verdict = if self.is_ok() { "OK" } else { "FAILED" };
        write!(
            f,
            "case {} ({}): {verdict}: {} entries, {} items, {} custody events",
            self.case, self.location, self.entries, self.items, self.custody_events
        )?;
        if let Some(head) = &self.head {
            write!(f, ", head {}", short(head))?;
        }
        match (self.signed_seq, self.signed_at) {
            (Some(seq), Some(at)) => writeln!(
                f,
                ", signed at entry {seq} on {} by key {} ({trust})",
                at.format("%Y-%m-%dT%H:%M:%SZ"),
                self.key_id
            )?,
            _ => writeln!(f, ", no valid signature for key {} ({trust})", self.key_id)?,
        }
        if !self.items_checked {
            writeln!(f, "  (item bytes not checked)")?;
        }
        for problem in &self.problems {
            writeln!(f, "  - {problem}")?;
        }
        if let Some(seq) = self.custody_seq {
            writeln!(f, "  recorded as custody event {seq}")?;
        }
        Ok(())
    }
}

/// The result of verifying every case of a vault.
#[derive(Debug, Clone, Serialize)]
pub struct VaultReport {
    pub location: String,
    pub cases: Vec<CaseReport>,
    /// Problems outside any case (a replaced vault key, stray objects).
    pub problems: Vec<Problem>,
}

impl VaultReport {
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty() && self.cases.iter().all(CaseReport::is_ok)
    }
}

impl fmt::Display for VaultReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for problem in &self.problems {
            writeln!(f, "vault {}: {problem}", self.location)?;
        }
        for case in &self.cases {
            write!(f, "{case}")?;
        }
        let bad = self.cases.iter().filter(|c| !c.is_ok()).count();
        writeln!(
            f,
            "{}: {} cases verified, {bad} failed",
            self.location,
            self.cases.len()
        )
    }
}

/// The parsed chain, positioned: what the vault and the bundle reuse after checking.
#[derive(Debug, Default)]
pub(crate) struct CheckedChain {
    /// Entries that parsed, by position.
    pub entries: BTreeMap<u64, ChainEntry>,
    pub problems: Vec<Problem>,
    pub signed: Option<HeadSignature>,
}

impl CheckedChain {
    pub fn last(&self) -> Option<&ChainEntry> {
        self.entries.values().next_back()
    }
}

/// Checks a case's material against `key`. `vault_key` is the key stored with the material,
/// when it differs from `key`, so a signature made with it is named as "another key".
pub(crate) fn check(
    case: &CaseId,
    material: &CaseMaterial,
    key: &PublicKey,
    vault_key: Option<&PublicKey>,
) -> CheckedChain {
    let mut out = CheckedChain::default();
    check_entries(case, material, &mut out);
    check_signatures(material, key, vault_key, &mut out);
    if let Some(items) = &material.items {
        check_items(&out.entries, items, &material.odd_items, &mut out.problems);
    }
    for object in &material.unexpected {
        out.problems.push(Problem::UnexpectedObject {
            object: object.clone(),
        });
    }
    out
}

fn check_entries(case: &CaseId, material: &CaseMaterial, out: &mut CheckedChain) {
    for raw in &material.entries {
        match ChainEntry::parse(&raw.bytes, &raw.label) {
            Ok(entry) => {
                if entry.seq != raw.position {
                    out.problems.push(Problem::EntryOutOfOrder {
                        object: raw.label.clone(),
                        position: raw.position,
                        seq: entry.seq,
                    });
                }
                if &entry.case != case {
                    out.problems.push(Problem::WrongCase {
                        seq: raw.position,
                        found: entry.case.to_string(),
                    });
                }
                out.entries.insert(raw.position, entry);
            }
            Err(e) => out.problems.push(Problem::EntryUnreadable {
                object: raw.label.clone(),
                reason: e.to_string(),
            }),
        }
    }
    let parsed_or_present: BTreeSet<u64> = material.entries.iter().map(|r| r.position).collect();
    let end = parsed_or_present
        .iter()
        .next_back()
        .map_or(0, |last| last + 1);
    for seq in (0..end).filter(|s| !parsed_or_present.contains(s)) {
        out.problems.push(Problem::EntryMissing { seq });
    }
    for (&position, entry) in &out.entries {
        let content_hash = entry.compute_hash();
        if content_hash != entry.hash {
            out.problems.push(Problem::EntryAltered {
                seq: position,
                stored_hash: entry.hash.clone(),
                content_hash,
            });
        }
        let expected = if position == 0 {
            Some(GENESIS.to_string())
        } else {
            out.entries.get(&(position - 1)).map(|p| p.hash.clone())
        };
        if let Some(expected) = expected.filter(|e| *e != entry.prev) {
            out.problems.push(Problem::ChainBroken {
                seq: position,
                prev: entry.prev.clone(),
                expected,
            });
        }
    }
}

fn check_signatures(
    material: &CaseMaterial,
    key: &PublicKey,
    vault_key: Option<&PublicKey>,
    out: &mut CheckedChain,
) {
    let entries = out.entries.keys().next_back().map_or(0, |last| last + 1);
    let mut newest: Option<HeadSignature> = None;
    for raw in &material.signatures {
        let sig = match HeadSignature::parse(&raw.bytes, &raw.label) {
            Ok(sig) => sig,
            Err(e) => {
                out.problems.push(Problem::SignatureUnreadable {
                    object: raw.label.clone(),
                    reason: e.to_string(),
                });
                continue;
            }
        };
        if let Some(problem) = check_signature(raw, &sig, key, vault_key, &out.entries, entries) {
            out.problems.push(problem);
            continue;
        }
        if newest
            .as_ref()
            .is_none_or(|n| n.statement.seq < sig.statement.seq)
        {
            newest = Some(sig);
        }
    }
    let signed_entries = newest.as_ref().map_or(0, |s| s.statement.entries);
    if newest.is_none() && entries > 0 && material.signatures.is_empty() {
        out.problems.push(Problem::NoSignature { entries });
    } else if signed_entries < entries {
        out.problems.push(Problem::UnsignedEntries {
            first_seq: signed_entries,
            last_seq: entries - 1,
        });
    }
    out.signed = newest;
}

/// The problem with one parsed signature, if any.
fn check_signature(
    raw: &RawObject,
    sig: &HeadSignature,
    key: &PublicKey,
    vault_key: Option<&PublicKey>,
    chain: &BTreeMap<u64, ChainEntry>,
    entries: u64,
) -> Option<Problem> {
    let object = raw.label.clone();
    let st = &sig.statement;
    if let Err(reason) = key.verify_head(sig) {
        let other = vault_key.is_some_and(|v| v.verify_head(sig).is_ok());
        if st.key_id != key.key_id() || other {
            return Some(Problem::SignedByOtherKey {
                object,
                key_id: st.key_id.clone(),
                expected_key_id: key.key_id(),
            });
        }
        return Some(Problem::SignatureInvalid { object, reason });
    }
    let mismatch = |reason: String| {
        Some(Problem::SignatureMismatch {
            object: raw.label.clone(),
            seq: st.seq,
            reason,
        })
    };
    if raw.position != st.seq {
        return mismatch(format!(
            "it is stored as the signature of entry {} but signs entry {}",
            raw.position, st.seq
        ));
    }
    if st.entries != st.seq + 1 {
        return mismatch(format!(
            "it claims {} entries up to entry {}",
            st.entries, st.seq
        ));
    }
    if st.seq >= entries {
        return Some(Problem::Truncated {
            object,
            signed_entries: st.entries,
            entries,
        });
    }
    match chain.get(&st.seq) {
        Some(entry) if entry.hash == st.head => None,
        Some(entry) => mismatch(format!(
            "it signs head {} but the entry's hash is {}",
            short(&st.head),
            short(&entry.hash)
        )),
        // The entry is missing or unreadable: already reported.
        None => None,
    }
}

fn check_items(
    chain: &BTreeMap<u64, ChainEntry>,
    stored: &BTreeMap<String, ItemState>,
    odd: &[String],
    problems: &mut Vec<Problem>,
) {
    let mut manifest = BTreeMap::new();
    for entry in chain.values() {
        if let EntryBody::ItemAdded(record) = &entry.body {
            manifest.entry(record.sha256.clone()).or_insert(record);
        }
    }
    for (sha, record) in &manifest {
        match stored.get(sha) {
            None => problems.push(Problem::ItemMissing {
                sha256: sha.clone(),
                name: record.name.clone(),
            }),
            Some(ItemState::Unreadable(reason)) => problems.push(Problem::ItemUnreadable {
                sha256: sha.clone(),
                reason: reason.clone(),
            }),
            Some(ItemState::Read(digest)) => {
                if digest.sha256 != *sha || digest.size != record.size {
                    problems.push(Problem::ItemAltered {
                        sha256: sha.clone(),
                        name: record.name.clone(),
                        actual_sha256: digest.sha256.clone(),
                        actual_size: digest.size,
                        size: record.size,
                    });
                }
            }
        }
    }
    for name in stored.keys().filter(|k| !manifest.contains_key(*k)) {
        problems.push(Problem::ExtraItem {
            object: format!("items/{name}"),
        });
    }
    for name in odd {
        problems.push(Problem::ExtraItem {
            object: name.clone(),
        });
    }
}

/// Counts for a report: items in the manifest and custody events.
pub(crate) fn counts(chain: &CheckedChain) -> (usize, usize) {
    let mut items = BTreeSet::new();
    let mut custody = 0;
    for entry in chain.entries.values() {
        match &entry.body {
            EntryBody::ItemAdded(record) => {
                items.insert(record.sha256.as_str());
            }
            EntryBody::Custody(_) => custody += 1,
        }
    }
    (items.len(), custody)
}

/// Builds the report for a checked case.
pub(crate) fn report(
    case: &CaseId,
    location: String,
    chain: CheckedChain,
    key: &PublicKey,
    key_trust: KeyTrust,
    items_checked: bool,
) -> CaseReport {
    let (items, custody_events) = counts(&chain);
    CaseReport {
        case: case.to_string(),
        location,
        entries: chain.entries.keys().next_back().map_or(0, |last| last + 1),
        items,
        custody_events,
        head: chain.last().map(|e| e.hash.clone()),
        signed_seq: chain.signed.as_ref().map(|s| s.statement.seq),
        signed_at: chain.signed.as_ref().map(|s| s.statement.signed_at),
        key_id: key.key_id(),
        key_trust,
        items_checked,
        problems: chain.problems,
        custody_seq: None,
    }
}
