//! The embedded store: one SQLite file in WAL mode.

mod baseline;
mod findings;
mod response;
mod schema;
mod suppressions;
mod upsert;

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, TransactionBehavior};
use vigil_findings::{Finding, Status};

use crate::{
    BaselineValue, FindingContribution, FindingFilter, LedgerCheck, LedgerDraft, LedgerEntry,
    ResponseStore, Result, RunFilter, RunRecord, Store, StoreError, Suppression, UpsertReport,
};

/// An evidence item (in the vault) linked to a case.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CaseEvidence {
    pub case_id: String,
    /// The item's SHA-256 in the vault.
    pub sha256: String,
    pub name: String,
    /// The response run that collected it, if a run did.
    pub run_id: Option<String>,
    pub added_ms: i64,
}

/// A [`Store`] in a SQLite file.
pub struct SqliteStore {
    conn: Connection,
    location: String,
    clock: fn() -> i64,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("location", &self.location)
            .finish()
    }
}

/// The current time, epoch milliseconds.
fn system_now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
        })
}

impl SqliteStore {
    /// Opens (creating if needed) the store at `path`, in WAL mode, and brings its schema up
    /// to date.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore> {
        let path = path.as_ref();
        let location = path.display().to_string();
        let conn = Connection::open(path).map_err(backend(&location, "open"))?;
        let mut store = SqliteStore {
            conn,
            location,
            clock: system_now_ms,
        };
        store.configure()?;
        schema::migrate(&mut store.conn, &store.location, system_now_ms())?;
        Ok(store)
    }

    /// Replaces the clock that stamps status history and decides suppression expiry (for
    /// tests and replays).
    pub fn set_clock(&mut self, clock: fn() -> i64) {
        self.clock = clock;
    }

    /// The store's schema version.
    pub fn schema_version(&self) -> Result<i64> {
        schema::current_version(&self.conn).map_err(backend(&self.location, "read schema version"))
    }

    /// Records that the vault item `sha256` belongs to `case_id` (collected by `run_id`, when
    /// a run collected it). Linking the same item to the same case again changes nothing;
    /// returns whether the link is new.
    pub fn link_evidence(
        &mut self,
        case_id: &str,
        sha256: &str,
        name: &str,
        run_id: Option<&str>,
    ) -> Result<bool> {
        let now = (self.clock)();
        let changed = self
            .conn
            .execute(
                "INSERT OR IGNORE INTO case_evidence (case_id, sha256, name, run_id, added_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                rusqlite::params![case_id, sha256, name, run_id, now],
            )
            .map_err(backend(&self.location, "link evidence"))?;
        Ok(changed == 1)
    }

    /// The evidence items linked to `case_id`, oldest first.
    pub fn case_evidence(&self, case_id: &str) -> Result<Vec<CaseEvidence>> {
        let err = backend(&self.location, "read case evidence");
        let mut stmt = self
            .conn
            .prepare(
                "SELECT case_id, sha256, name, run_id, added_ms FROM case_evidence
                 WHERE case_id = ?1 ORDER BY added_ms, sha256",
            )
            .map_err(&err)?;
        let rows = stmt
            .query_map([case_id], |row| {
                Ok(CaseEvidence {
                    case_id: row.get(0)?,
                    sha256: row.get(1)?,
                    name: row.get(2)?,
                    run_id: row.get(3)?,
                    added_ms: row.get(4)?,
                })
            })
            .map_err(&err)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(&err)
    }

    fn configure(&mut self) -> Result<()> {
        let err = backend(&self.location, "configure");
        // Answers the mode in force: `wal`, or `memory` for an in-memory database.
        let _mode: String = self
            .conn
            .query_row("PRAGMA journal_mode=WAL", [], |row| row.get(0))
            .map_err(&err)?;
        self.conn
            .execute_batch("PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;")
            .map_err(&err)
    }
}

/// Maps a database error to a [`StoreError`] naming the store and the operation.
pub(crate) fn backend<'a>(
    location: &'a str,
    operation: &'static str,
) -> impl Fn(rusqlite::Error) -> StoreError + 'a {
    move |source| StoreError::Backend {
        location: location.to_string(),
        operation,
        source: Box::new(source),
    }
}

impl Store for SqliteStore {
    fn upsert_findings(&mut self, batch: &[FindingContribution]) -> Result<UpsertReport> {
        let now = (self.clock)();
        let err = backend(&self.location, "upsert findings");
        let tx = self.conn.transaction().map_err(&err)?;
        let report = upsert::upsert(&tx, &self.location, batch, now)?;
        tx.commit().map_err(&err)?;
        Ok(report)
    }

    fn get(&self, id: &str) -> Result<Option<Finding>> {
        findings::load(&self.conn, &self.location, id)
    }

    fn list(&self, filter: &FindingFilter) -> Result<Vec<Finding>> {
        findings::list(&self.conn, &self.location, filter)
    }

    fn set_status(&mut self, id: &str, status: Status, by: &str, reason: &str) -> Result<Finding> {
        let now = (self.clock)();
        let err = backend(&self.location, "set status");
        let tx = self.conn.transaction().map_err(&err)?;
        let finding = findings::set_status(&tx, &self.location, id, (status, by, reason), now)?;
        tx.commit().map_err(&err)?;
        Ok(finding)
    }

    fn add_suppression(&mut self, suppression: &Suppression) -> Result<u64> {
        let now = (self.clock)();
        let err = backend(&self.location, "add suppression");
        let tx = self.conn.transaction().map_err(&err)?;
        let muted = suppressions::add(&tx, &self.location, suppression, now)?;
        tx.commit().map_err(&err)?;
        Ok(muted)
    }

    fn list_suppressions(&self) -> Result<Vec<Suppression>> {
        suppressions::list(&self.conn).map_err(backend(&self.location, "list suppressions"))
    }

    fn remove_suppression(&mut self, id: &str) -> Result<bool> {
        suppressions::remove(&self.conn, id).map_err(backend(&self.location, "remove suppression"))
    }

    fn baseline_contains(&self, rule_id: &str, group: &str, value: &str) -> Result<bool> {
        baseline::contains(&self.conn, rule_id, group, value)
            .map_err(backend(&self.location, "read baseline"))
    }

    fn baseline_insert(
        &mut self,
        rule_id: &str,
        group: &str,
        value: &str,
        first_ms: i64,
    ) -> Result<bool> {
        baseline::insert(&self.conn, rule_id, (group, value, first_ms))
            .map_err(backend(&self.location, "write baseline"))
    }

    fn baseline_load(&self, rule_id: &str) -> Result<Vec<BaselineValue>> {
        baseline::load(&self.conn, rule_id).map_err(backend(&self.location, "read baseline"))
    }

    fn baseline_insert_many(&mut self, rule_id: &str, entries: &[BaselineValue]) -> Result<u64> {
        let err = backend(&self.location, "write baseline");
        let tx = self.conn.transaction().map_err(&err)?;
        let mut fresh = 0;
        for entry in entries {
            let seen = (entry.group.as_str(), entry.value.as_str(), entry.first_ms);
            fresh += u64::from(baseline::insert(&tx, rule_id, seen).map_err(&err)?);
        }
        tx.commit().map_err(&err)?;
        Ok(fresh)
    }
}

impl ResponseStore for SqliteStore {
    fn save_run(
        &mut self,
        run: &mut RunRecord,
        ledger: &[LedgerDraft],
    ) -> Result<Vec<LedgerEntry>> {
        let err = backend(&self.location, "save run");
        // IMMEDIATE: take the write lock before reading the ledger's head, so two processes
        // cannot chain onto the same entry.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&err)?;
        let mut saved = run.clone();
        response::save_run(&tx, &self.location, &mut saved)?;
        let entries = response::append(&tx, &self.location, ledger)?;
        tx.commit().map_err(&err)?;
        run.version = saved.version;
        Ok(entries)
    }

    fn get_run(&self, id: &str) -> Result<Option<RunRecord>> {
        response::get_run(&self.conn, &self.location, id)
    }

    fn list_runs(&self, filter: &RunFilter) -> Result<Vec<RunRecord>> {
        response::list_runs(&self.conn, &self.location, filter)
    }

    fn append_ledger(&mut self, entries: &[LedgerDraft]) -> Result<Vec<LedgerEntry>> {
        let err = backend(&self.location, "append to ledger");
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&err)?;
        let stored = response::append(&tx, &self.location, entries)?;
        tx.commit().map_err(&err)?;
        Ok(stored)
    }

    fn ledger(&self, run_id: Option<&str>) -> Result<Vec<LedgerEntry>> {
        response::ledger(&self.conn, &self.location, run_id)
    }

    fn verify_ledger(&self) -> Result<LedgerCheck> {
        response::verify(&self.conn, &self.location)
    }
}
