//! What the response engine keeps: runs (with their step states and approvals, as a JSON
//! body the engine owns) and the append-only, hash-chained action ledger.
//!
//! The store does not interpret a run's body; `vigil-respond` does. It indexes the columns a
//! dashboard or the CLI filters on (case, finding, playbook, status) and guards each update
//! with a version number, so two processes resuming or approving the same run cannot
//! overwrite each other.
//!
//! Every ledger entry carries the hash of the entry before it and its own SHA-256 over a
//! canonical serialisation ([`ledger_hash`]): editing, deleting or reordering rows breaks
//! the chain at the first entry touched, which [`ResponseStore::verify_ledger`] names.
//! A chain rewritten from some entry to the end with fresh hashes verifies again: anchor
//! [`LedgerCheck::head`] somewhere the writer cannot change (the evidence vault) to catch
//! that too.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::Result;

/// The `prev_hash` of the first ledger entry.
pub const LEDGER_GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One response run as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// The run's id.
    pub id: String,
    /// The case the run belongs to.
    pub case_id: String,
    /// The playbook it runs.
    pub playbook_id: String,
    /// The finding that triggered it, if any.
    pub finding_id: Option<String>,
    /// The run's status, as the engine names it (`running`, `awaiting_approval`...).
    pub status: String,
    /// False for a dry run (plan).
    pub execute: bool,
    /// Who started it.
    pub responder: String,
    /// When it was created, epoch ms.
    pub created_ms: i64,
    /// When it was last saved, epoch ms.
    pub updated_ms: i64,
    /// Optimistic-concurrency version: 0 for a run never saved; the store bumps it on every
    /// save, and refuses a save whose version is not the stored one.
    pub version: i64,
    /// The engine's state of the run (step states, approvals, inputs, context).
    pub body: Value,
}

/// Which runs to list. Every set field must match; the newest (by creation) come first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunFilter {
    /// Only runs of this case.
    pub case_id: Option<String>,
    /// Only runs triggered by this finding.
    pub finding_id: Option<String>,
    /// Only runs of this playbook.
    pub playbook_id: Option<String>,
    /// Only runs with this status.
    pub status: Option<String>,
}

/// A ledger entry before the store numbers and chains it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerDraft {
    /// The run it belongs to.
    pub run_id: String,
    /// The run's case.
    pub case_id: String,
    /// When it happened, epoch ms.
    pub at_ms: i64,
    /// Who acted (the responder, the approver).
    pub actor: String,
    /// What happened: `run_started`, `step`, `approval`, `denial`, `run_finished`...
    pub kind: String,
    /// The step it concerns, if any.
    pub step_id: Option<String>,
    /// The details: parameters, result, AWS request ids, before and after state.
    pub body: Value,
}

/// A ledger entry as stored: numbered and chained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// Position in the ledger, from 1, without gaps.
    pub seq: i64,
    /// The entry's content.
    #[serde(flatten)]
    pub draft: LedgerDraft,
    /// The hash of the entry before ([`LEDGER_GENESIS`] for the first).
    pub prev_hash: String,
    /// SHA-256 (hex) of this entry's canonical serialisation, `prev_hash` included.
    pub hash: String,
}

/// The first entry where the ledger's chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerBreak {
    /// The entry's number.
    pub seq: i64,
    /// What is wrong with it.
    pub reason: String,
}

/// The result of checking the whole ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerCheck {
    /// How many entries were checked.
    pub entries: u64,
    /// The hash of the last entry (anchor it elsewhere to detect a rewritten tail).
    pub head: Option<String>,
    /// The first broken entry; `None` when the chain holds.
    pub first_broken: Option<LedgerBreak>,
}

impl LedgerCheck {
    /// Whether every entry is intact.
    pub fn is_intact(&self) -> bool {
        self.first_broken.is_none()
    }
}

/// Where response runs and the action ledger live.
pub trait ResponseStore {
    /// Saves a run and appends ledger entries in one transaction. A run with version 0 is
    /// created (and refused if its id exists); otherwise the stored version must equal
    /// `run.version`. On success `run.version` is the new version.
    fn save_run(&mut self, run: &mut RunRecord, ledger: &[LedgerDraft])
        -> Result<Vec<LedgerEntry>>;

    /// The run with this id.
    fn get_run(&self, id: &str) -> Result<Option<RunRecord>>;

    /// The runs that pass `filter`, newest first.
    fn list_runs(&self, filter: &RunFilter) -> Result<Vec<RunRecord>>;

    /// Appends entries to the ledger (in one transaction) and returns them as stored.
    fn append_ledger(&mut self, entries: &[LedgerDraft]) -> Result<Vec<LedgerEntry>>;

    /// The ledger, oldest first; only one run's entries when `run_id` is set.
    fn ledger(&self, run_id: Option<&str>) -> Result<Vec<LedgerEntry>>;

    /// Recomputes every entry's hash and link, and names the first broken entry.
    fn verify_ledger(&self) -> Result<LedgerCheck>;
}

/// The hash of a ledger entry: SHA-256 (hex) of the canonical JSON of its fields and
/// `prev_hash` (keys sorted, no whitespace), so any change to any field changes it.
pub fn ledger_hash(seq: i64, draft: &LedgerDraft, prev_hash: &str) -> String {
    let mut body = String::new();
    canonical_json(&draft.body, &mut body);
    ledger_hash_of_text(seq, draft, &body, prev_hash)
}

/// [`ledger_hash`] with the body given as its canonical text, as the store keeps it: the
/// hash is checked against the stored bytes, never against a re-parsed value.
pub(crate) fn ledger_hash_of_text(
    seq: i64,
    draft: &LedgerDraft,
    body_text: &str,
    prev_hash: &str,
) -> String {
    let text_of = |s: &str| Value::String(s.to_string()).to_string();
    let step = draft.step_id.as_deref().map_or("null".to_string(), text_of);
    // Keys in sorted order, as canonical_json writes them.
    let text = format!(
        "{{\"actor\":{},\"at_ms\":{},\"body\":{},\"case_id\":{},\"kind\":{},\"prev_hash\":{},\"run_id\":{},\"seq\":{},\"step_id\":{}}}",
        text_of(&draft.actor),
        draft.at_ms,
        body_text,
        text_of(&draft.case_id),
        text_of(&draft.kind),
        text_of(prev_hash),
        text_of(&draft.run_id),
        seq,
        step,
    );
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Writes `value` as JSON with object keys sorted and no whitespace.
///
/// Written here rather than relying on `serde_json::Map` order: a crate elsewhere in the
/// build enabling serde_json's `preserve_order` feature would silently change that order
/// and with it every hash.
pub fn canonical_json(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                canonical_json(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical_json(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(body: Value) -> LedgerDraft {
        LedgerDraft {
            run_id: "r1".into(),
            case_id: "c1".into(),
            at_ms: 5,
            actor: "alice".into(),
            kind: "step".into(),
            step_id: Some("isolate".into()),
            body,
        }
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let value = serde_json::json!({"b": 1, "a": {"d": [true, null], "c": "x"}});
        let mut text = String::new();
        canonical_json(&value, &mut text);
        assert_eq!(text, r#"{"a":{"c":"x","d":[true,null]},"b":1}"#);
    }

    #[test]
    fn the_hash_is_over_the_canonical_envelope() {
        let entry = draft(serde_json::json!({"x": 1}));
        let envelope = serde_json::json!({
            "seq": 1, "run_id": "r1", "case_id": "c1", "at_ms": 5, "actor": "alice",
            "kind": "step", "step_id": "isolate", "body": {"x": 1}, "prev_hash": LEDGER_GENESIS,
        });
        let mut text = String::new();
        canonical_json(&envelope, &mut text);
        let expected: String = Sha256::digest(text.as_bytes())
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        assert_eq!(ledger_hash(1, &entry, LEDGER_GENESIS), expected);
    }

    #[test]
    fn the_hash_covers_every_field_and_the_link() {
        let base = ledger_hash(1, &draft(serde_json::json!({"x": 1})), LEDGER_GENESIS);
        assert_eq!(base.len(), 64);
        assert_ne!(
            base,
            ledger_hash(2, &draft(serde_json::json!({"x": 1})), LEDGER_GENESIS)
        );
        assert_ne!(
            base,
            ledger_hash(1, &draft(serde_json::json!({"x": 2})), LEDGER_GENESIS)
        );
        assert_ne!(
            base,
            ledger_hash(1, &draft(serde_json::json!({"x": 1})), &base)
        );
        let mut other = draft(serde_json::json!({"x": 1}));
        other.actor = "mallory".into();
        assert_ne!(base, ledger_hash(1, &other, LEDGER_GENESIS));
    }
}
