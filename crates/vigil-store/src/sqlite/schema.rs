//! The schema, versioned: each migration runs once, in order, recorded in
//! `schema_migrations`.

use rusqlite::{Connection, OptionalExtension};

use super::backend;
use crate::{Result, StoreError};

/// Migrations, oldest first; migration `n` (1-based) brings the schema to version `n`.
/// Append only: never edit one that has shipped.
const MIGRATIONS: &[&str] = &[
    // 1: findings, per-input contributions, suppressions, first-seen baselines.
    "CREATE TABLE findings (
        id TEXT PRIMARY KEY,
        rule_id TEXT NOT NULL,
        severity_score INTEGER NOT NULL,
        account TEXT,
        status TEXT NOT NULL,
        first_seen_ms INTEGER NOT NULL,
        last_seen_ms INTEGER NOT NULL,
        event_count INTEGER NOT NULL,
        body TEXT NOT NULL
    );
    CREATE INDEX findings_rule ON findings (rule_id);
    CREATE INDEX findings_account ON findings (account);
    CREATE INDEX findings_status ON findings (status);
    CREATE INDEX findings_severity ON findings (severity_score);
    CREATE INDEX findings_last_seen ON findings (last_seen_ms);
    CREATE INDEX findings_first_seen ON findings (first_seen_ms);
    CREATE TABLE contributions (
        finding_id TEXT NOT NULL,
        input_key TEXT NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (finding_id, input_key)
    ) WITHOUT ROWID;
    CREATE TABLE suppressions (
        id TEXT PRIMARY KEY,
        rule_id TEXT,
        principal TEXT,
        account TEXT,
        resource TEXT,
        reason TEXT NOT NULL,
        author TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        expires_ms INTEGER
    );
    CREATE TABLE baseline (
        rule_id TEXT NOT NULL,
        grp TEXT NOT NULL,
        value TEXT NOT NULL,
        first_ms INTEGER NOT NULL,
        PRIMARY KEY (rule_id, grp, value)
    ) WITHOUT ROWID;",
    // 2: response runs and the append-only, hash-chained action ledger.
    "CREATE TABLE response_runs (
        id TEXT PRIMARY KEY,
        case_id TEXT NOT NULL,
        playbook_id TEXT NOT NULL,
        finding_id TEXT,
        status TEXT NOT NULL,
        execute INTEGER NOT NULL,
        responder TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        updated_ms INTEGER NOT NULL,
        version INTEGER NOT NULL,
        body TEXT NOT NULL
    );
    CREATE INDEX response_runs_case ON response_runs (case_id);
    CREATE INDEX response_runs_finding ON response_runs (finding_id);
    CREATE INDEX response_runs_status ON response_runs (status);
    CREATE TABLE response_ledger (
        seq INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL,
        case_id TEXT NOT NULL,
        at_ms INTEGER NOT NULL,
        actor TEXT NOT NULL,
        kind TEXT NOT NULL,
        step_id TEXT,
        body TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE INDEX response_ledger_run ON response_ledger (run_id);
    CREATE TRIGGER response_ledger_no_update BEFORE UPDATE ON response_ledger
    BEGIN SELECT RAISE(ABORT, 'the action ledger is append-only'); END;
    CREATE TRIGGER response_ledger_no_delete BEFORE DELETE ON response_ledger
    BEGIN SELECT RAISE(ABORT, 'the action ledger is append-only'); END;",
    // 3: which evidence items (in the vault, by SHA-256) belong to which case, and the run
    // that collected them: the store links findings, runs and evidence by case id.
    "CREATE TABLE case_evidence (
        case_id TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        name TEXT NOT NULL,
        run_id TEXT,
        added_ms INTEGER NOT NULL,
        PRIMARY KEY (case_id, sha256)
    );",
];

/// The newest schema version this build knows.
pub(super) fn latest_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// The version recorded in the database (0 for a new one).
pub(super) fn current_version(conn: &Connection) -> rusqlite::Result<i64> {
    let exists: Option<i64> = conn
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
            [],
            |row| row.get(0),
        )
        .optional()?;
    if exists.is_none() {
        return Ok(0);
    }
    conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
        [],
        |row| row.get(0),
    )
}

/// Runs the migrations the database has not had yet, in one transaction.
pub(super) fn migrate(conn: &mut Connection, location: &str, now_ms: i64) -> Result<()> {
    let err = backend(location, "migrate schema");
    let tx = conn.transaction().map_err(&err)?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY,
            applied_ms INTEGER NOT NULL
        )",
    )
    .map_err(&err)?;
    let found = current_version(&tx).map_err(&err)?;
    if found > latest_version() {
        return Err(StoreError::TooNew {
            location: location.to_string(),
            found,
            supported: latest_version(),
        });
    }
    for (version, sql) in (1..)
        .zip(MIGRATIONS)
        .skip(usize::try_from(found).unwrap_or(0))
    {
        tx.execute_batch(sql).map_err(&err)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_ms) VALUES (?1, ?2)",
            (version, now_ms),
        )
        .map_err(&err)?;
    }
    tx.commit().map_err(&err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_run_once_and_record_their_version() {
        let mut conn = Connection::open_in_memory().expect("opens");
        migrate(&mut conn, ":memory:", 1).expect("migrates");
        migrate(&mut conn, ":memory:", 2).expect("migrates again");
        let rows: i64 = conn
            .query_row("SELECT COUNT(*) FROM schema_migrations", [], |row| {
                row.get(0)
            })
            .expect("counts");
        assert_eq!(rows, latest_version());
        assert_eq!(current_version(&conn).ok(), Some(latest_version()));
    }

    #[test]
    fn a_store_from_a_newer_vigil_is_refused() {
        let mut conn = Connection::open_in_memory().expect("opens");
        migrate(&mut conn, ":memory:", 1).expect("migrates");
        conn.execute("INSERT INTO schema_migrations VALUES (99, 3)", [])
            .expect("inserts");
        let result = migrate(&mut conn, ":memory:", 4);
        assert!(
            matches!(result, Err(StoreError::TooNew { found: 99, .. })),
            "{result:?}"
        );
    }
}
