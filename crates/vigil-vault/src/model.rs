//! What the vault records: case ids, evidence items, custody events, and the hash-chained
//! entries that hold them.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::VaultError;

/// The `prev` of a case's first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Domain separation for entry hashes: an entry hash can never be confused with an item hash
/// or a signed statement.
const ENTRY_DOMAIN: &[u8] = b"vigil-vault/entry/v1\n";

/// A validated case id: 1–128 characters of `[A-Za-z0-9._-]`, not starting with `.` or `-`.
///
/// Case ids become path components and S3 key parts, so nothing that could climb out of the
/// case's folder (`..`, `/`) or hide (`.x`) is accepted.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CaseId(String);

impl CaseId {
    pub fn new(id: &str) -> Result<Self, VaultError> {
        let bad = |reason: &str| VaultError::InvalidCaseId {
            id: id.to_string(),
            reason: reason.to_string(),
        };
        if id.is_empty() || id.len() > 128 {
            return Err(bad("must be 1 to 128 characters"));
        }
        if id.starts_with('.') || id.starts_with('-') {
            return Err(bad("must not start with '.' or '-'"));
        }
        if let Some(c) = id
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "._-".contains(*c)))
        {
            return Err(bad(&format!(
                "character {c:?} is not allowed (use letters, digits, '.', '_', '-')"
            )));
        }
        Ok(CaseId(id.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CaseId {
    type Error = VaultError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        CaseId::new(&value)
    }
}

impl From<CaseId> for String {
    fn from(value: CaseId) -> Self {
        value.0
    }
}

impl fmt::Display for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Who appends to the vault: the vigil operator and, when known, the AWS principal vigil acts
/// as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Actor {
    pub operator: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
}

impl Actor {
    /// The operator from `$USER` (or `unknown`), no AWS principal.
    pub fn from_env() -> Self {
        Actor {
            operator: std::env::var("USER").unwrap_or_else(|_| "unknown".to_string()),
            principal: None,
        }
    }
}

/// Where an item came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// ARN (or id) of the resource it was collected from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

/// A manifest entry: one evidence item as collected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemRecord {
    /// SHA-256 of the bytes, lower-case hex; also the item's name in storage.
    pub sha256: String,
    pub size: u64,
    /// A short human name, e.g. `i-0abc-metadata.json`.
    pub name: String,
    pub media_type: String,
    pub source: Source,
    /// How it was collected, e.g. `ec2:DescribeInstances by ec2.capture_metadata`.
    pub method: String,
    /// The AWS principal that collected it, when it came from AWS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collected_by: Option<String>,
    /// The vigil operator responsible for the collection.
    pub operator: String,
    pub collected_at: DateTime<Utc>,
}

/// What happened to evidence, for the chain of custody.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CustodyAction {
    /// Collected again: the same bytes from another source or at another time.
    Collected,
    /// Copied elsewhere (another vault, a forensic workstation, legal).
    Copied,
    /// Read out of the vault (`vigil evidence get`).
    Accessed,
    /// Exported in a bundle (`vigil evidence export`).
    Exported,
    /// Verified (`vigil evidence verify`).
    Verified,
}

impl CustodyAction {
    pub fn as_str(self) -> &'static str {
        match self {
            CustodyAction::Collected => "collected",
            CustodyAction::Copied => "copied",
            CustodyAction::Accessed => "accessed",
            CustodyAction::Exported => "exported",
            CustodyAction::Verified => "verified",
        }
    }
}

impl fmt::Display for CustodyAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for CustodyAction {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "collected" => CustodyAction::Collected,
            "copied" => CustodyAction::Copied,
            "accessed" => CustodyAction::Accessed,
            "exported" => CustodyAction::Exported,
            "verified" => CustodyAction::Verified,
            other => {
                return Err(format!(
                    "unknown custody action {other:?} (collected, copied, accessed, exported, verified)"
                ))
            }
        })
    }
}

/// A chain-of-custody event, about one item or (with `item: None`) the whole case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustodyEvent {
    pub action: CustodyAction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
    /// Free text: where it was copied to, the export file, the verification result.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
    /// For `collected` again: where the same bytes came from this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
}

/// What an entry says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum EntryBody {
    /// A manifest entry: an item entered the vault (its collection).
    ItemAdded(ItemRecord),
    /// A custody event.
    Custody(CustodyEvent),
}

/// One link of a case's chain. `hash` is the SHA-256 of the entry's canonical JSON with
/// `hash` empty, behind a domain prefix; `prev` is the previous entry's `hash`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainEntry {
    pub seq: u64,
    pub prev: String,
    pub case: CaseId,
    pub at: DateTime<Utc>,
    pub actor: Actor,
    pub body: EntryBody,
    pub hash: String,
}

impl ChainEntry {
    /// Builds the entry and fills in its hash.
    pub fn new(
        seq: u64,
        prev: &str,
        case: &CaseId,
        at: DateTime<Utc>,
        actor: &Actor,
        body: EntryBody,
    ) -> Self {
        let mut entry = ChainEntry {
            seq,
            prev: prev.to_string(),
            case: case.clone(),
            at,
            actor: actor.clone(),
            body,
            hash: String::new(),
        };
        entry.hash = entry.compute_hash();
        entry
    }

    /// The hash this entry should carry, computed from its content.
    ///
    /// Canonical form: serde_json of the struct (fields in declaration order, no map types
    /// anywhere, so the bytes are a function of the values) with `hash` set to "".
    pub fn compute_hash(&self) -> String {
        let mut unhashed = self.clone();
        unhashed.hash.clear();
        // Serialising these plain structs cannot fail (no maps with non-string keys).
        let json = serde_json::to_vec(&unhashed).unwrap_or_default();
        let mut hasher = Sha256::new();
        hasher.update(ENTRY_DOMAIN);
        hasher.update(&json);
        hex::encode(hasher.finalize())
    }

    /// Parses an entry as stored.
    pub fn parse(bytes: &[u8], object: &str) -> Result<Self, VaultError> {
        serde_json::from_slice(bytes).map_err(|e| VaultError::Corrupt {
            object: object.to_string(),
            reason: format!("not a chain entry: {e}"),
        })
    }

    /// The stored form: one line of JSON with a trailing newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }

    /// The item an entry is about, if any.
    pub fn item(&self) -> Option<&str> {
        match &self.body {
            EntryBody::ItemAdded(record) => Some(&record.sha256),
            EntryBody::Custody(event) => event.item.as_deref(),
        }
    }
}

/// SHA-256 of `bytes`, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// True for a lower-case hex SHA-256.
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Object keys, the same for every backend.
pub(crate) mod layout {
    use super::CaseId;

    pub const PUBLIC_KEY: &str = "keys/public.pem";
    pub const CASES: &str = "cases/";

    pub fn case_prefix(case: &CaseId) -> String {
        format!("cases/{case}/")
    }
    pub fn item(case: &CaseId, sha256: &str) -> String {
        format!("cases/{case}/items/{sha256}")
    }
    pub fn chain_prefix(case: &CaseId) -> String {
        format!("cases/{case}/chain/")
    }
    pub fn entry(case: &CaseId, seq: u64) -> String {
        format!("cases/{case}/chain/{seq:020}.json")
    }
    pub fn sig(case: &CaseId, seq: u64) -> String {
        format!("cases/{case}/heads/{seq:020}.sig.json")
    }

    /// The sequence number in a chain or head object name (`.../00000000000000000007.json`).
    pub fn seq_of(key: &str, suffix: &str) -> Option<u64> {
        let name = key.rsplit('/').next()?;
        let digits = name.strip_suffix(suffix)?;
        if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor() -> Actor {
        Actor {
            operator: "alice".into(),
            principal: None,
        }
    }

    #[test]
    fn case_ids_refuse_traversal_and_odd_characters() {
        for bad in [
            "", "..", "../x", "a/b", ".hidden", "-rf", "a b", "ü", "a\\b",
        ] {
            assert!(CaseId::new(bad).is_err(), "{bad:?} accepted");
        }
        for good in ["case-42", "IR_2024.07", "a"] {
            assert_eq!(CaseId::new(good).unwrap().as_str(), good);
        }
        assert!(CaseId::new(&"x".repeat(129)).is_err());
    }

    #[test]
    fn entry_hash_covers_every_field() {
        let case = CaseId::new("c1").unwrap();
        let at = DateTime::parse_from_rfc3339("2024-05-01T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let body = EntryBody::Custody(CustodyEvent {
            action: CustodyAction::Accessed,
            item: None,
            note: "n".into(),
            source: None,
            method: None,
        });
        let entry = ChainEntry::new(3, GENESIS, &case, at, &actor(), body);
        assert!(is_sha256_hex(&entry.hash));
        assert_eq!(entry.compute_hash(), entry.hash);
        let mut changed = entry.clone();
        changed.seq = 4;
        assert_ne!(changed.compute_hash(), entry.hash);
        let mut changed = entry.clone();
        changed.actor.operator = "mallory".into();
        assert_ne!(changed.compute_hash(), entry.hash);
        let mut changed = entry.clone();
        changed.prev = "1".repeat(64);
        assert_ne!(changed.compute_hash(), entry.hash);
        // The stored form parses back to the same entry and the same hash.
        let back = ChainEntry::parse(&entry.to_bytes(), "x").unwrap();
        assert_eq!(back, entry);
        assert_eq!(back.compute_hash(), entry.hash);
    }

    #[test]
    fn unknown_fields_in_an_entry_are_refused() {
        let err = ChainEntry::parse(br#"{"seq":0,"extra":1}"#, "chain/0").unwrap_err();
        assert!(err.to_string().contains("chain/0"), "{err}");
    }

    #[test]
    fn sequence_numbers_come_from_fixed_width_names() {
        assert_eq!(
            layout::seq_of("cases/c/chain/00000000000000000007.json", ".json"),
            Some(7)
        );
        assert_eq!(layout::seq_of("cases/c/chain/7.json", ".json"), None);
        assert_eq!(layout::seq_of("cases/c/chain/x.json", ".json"), None);
    }
}
