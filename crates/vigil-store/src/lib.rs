//! Where vigil keeps what it found: findings with their status history, suppressions, and
//! the baselines of first-seen rules.
//!
//! [`Store`] is the interface (SQLite here, PostgreSQL later for a fleet of workers);
//! [`SqliteStore`] is the embedded default, one file in WAL mode with a versioned schema.
//!
//! Writes are idempotent. The engine hands the store [`FindingContribution`]s — a partial
//! finding and the input it came from — and a finding is the merge of its inputs'
//! contributions: detecting the same file twice replaces that file's contribution and leaves
//! the same findings, detecting two files adds them up. A finding seen for the first time
//! starts as NEW, or as SUPPRESSED when an active [`Suppression`] matches it (stored all the
//! same, never dropped); after that its status and history belong to the store.
//!
//! The store also keeps the response engine's runs and its append-only, hash-chained action
//! ledger ([`ResponseStore`], module [`response`]).
//!
//! Main types: [`Store`], [`ResponseStore`], [`SqliteStore`], [`FindingContribution`], [`FindingFilter`],
//! [`Suppression`], [`StoreError`].
//!
//! ```
//! use vigil_store::{FindingFilter, SqliteStore, Store};
//!
//! let dir = std::env::temp_dir().join(format!("vigil-store-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let mut store = SqliteStore::open(dir.join("vigil.db")).unwrap();
//! assert!(store.list(&FindingFilter::default()).unwrap().is_empty());
//! assert!(store.baseline_insert("new-region", "123456789012", "ap-south-1", 0).unwrap());
//! assert!(store.baseline_contains("new-region", "123456789012", "ap-south-1").unwrap());
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

mod error;
pub mod lifecycle;
pub mod response;
mod sqlite;
mod store;
mod types;

pub use error::{Result, StoreError};
pub use response::{
    LedgerBreak, LedgerCheck, LedgerDraft, LedgerEntry, ResponseStore, RunFilter, RunRecord,
};
pub use sqlite::{CaseEvidence, SqliteStore};
pub use store::Store;
pub use types::{
    glob_match, BaselineValue, FindingContribution, FindingFilter, Suppression, UpsertReport,
};
