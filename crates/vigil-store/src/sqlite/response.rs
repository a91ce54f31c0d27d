//! Response runs and the hash-chained action ledger.

use rusqlite::types::Value as SqlValue;
use rusqlite::{params_from_iter, Connection, OptionalExtension, Row};

use super::backend;
use crate::response::{canonical_json, ledger_hash_of_text, LEDGER_GENESIS};
use crate::{
    LedgerBreak, LedgerCheck, LedgerDraft, LedgerEntry, Result, RunFilter, RunRecord, StoreError,
};

const RUN_COLUMNS: &str = "id, case_id, playbook_id, finding_id, status, execute, responder, \
                           created_ms, updated_ms, version, body";

/// Inserts a new run (version 0) or updates a stored one whose version matches; bumps
/// `run.version` (inside the caller's transaction).
pub(super) fn save_run(conn: &Connection, location: &str, run: &mut RunRecord) -> Result<()> {
    let err = backend(location, "save run");
    let body = serde_json::to_string(&run.body).map_err(|source| StoreError::Encode {
        id: run.id.clone(),
        source,
    })?;
    let changed = if run.version == 0 {
        conn.execute(
            "INSERT OR IGNORE INTO response_runs (id, case_id, playbook_id, finding_id, status,
                execute, responder, created_ms, updated_ms, version, body)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 1, ?10)",
            rusqlite::params![
                run.id,
                run.case_id,
                run.playbook_id,
                run.finding_id,
                run.status,
                run.execute,
                run.responder,
                run.created_ms,
                run.updated_ms,
                body
            ],
        )
        .map_err(&err)?
    } else {
        conn.execute(
            "UPDATE response_runs SET status = ?2, updated_ms = ?3, body = ?4,
                version = version + 1
             WHERE id = ?1 AND version = ?5",
            rusqlite::params![run.id, run.status, run.updated_ms, body, run.version],
        )
        .map_err(&err)?
    };
    if changed == 0 {
        return Err(StoreError::Conflict {
            location: location.to_string(),
            id: run.id.clone(),
            version: run.version,
        });
    }
    run.version += 1;
    Ok(())
}

/// The run with this id.
pub(super) fn get_run(conn: &Connection, location: &str, id: &str) -> Result<Option<RunRecord>> {
    let sql = format!("SELECT {RUN_COLUMNS} FROM response_runs WHERE id = ?1");
    let row = conn
        .query_row(&sql, [id], raw_run)
        .optional()
        .map_err(backend(location, "read run"))?;
    row.map(|raw| decode_run(location, raw)).transpose()
}

/// The runs that pass `filter`, newest first.
pub(super) fn list_runs(
    conn: &Connection,
    location: &str,
    filter: &RunFilter,
) -> Result<Vec<RunRecord>> {
    let err = backend(location, "list runs");
    let mut sql = format!("SELECT {RUN_COLUMNS} FROM response_runs WHERE 1 = 1");
    let mut args: Vec<SqlValue> = Vec::new();
    let criteria = [
        ("case_id", &filter.case_id),
        ("finding_id", &filter.finding_id),
        ("playbook_id", &filter.playbook_id),
        ("status", &filter.status),
    ];
    for (column, value) in criteria {
        if let Some(value) = value {
            args.push(SqlValue::Text(value.clone()));
            sql.push_str(&format!(" AND {column} = ?{}", args.len()));
        }
    }
    sql.push_str(" ORDER BY created_ms DESC, id DESC");
    let mut statement = conn.prepare(&sql).map_err(&err)?;
    let raws = statement
        .query_map(params_from_iter(args), raw_run)
        .map_err(&err)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(&err)?;
    raws.into_iter()
        .map(|raw| decode_run(location, raw))
        .collect()
}

/// A run row with its body still as text.
type RawRun = (RunRecord, String);

fn raw_run(row: &Row<'_>) -> rusqlite::Result<RawRun> {
    Ok((
        RunRecord {
            id: row.get(0)?,
            case_id: row.get(1)?,
            playbook_id: row.get(2)?,
            finding_id: row.get(3)?,
            status: row.get(4)?,
            execute: row.get(5)?,
            responder: row.get(6)?,
            created_ms: row.get(7)?,
            updated_ms: row.get(8)?,
            version: row.get(9)?,
            body: serde_json::Value::Null,
        },
        row.get(10)?,
    ))
}

fn decode_run(location: &str, (mut run, body): RawRun) -> Result<RunRecord> {
    run.body = serde_json::from_str(&body).map_err(|source| StoreError::Corrupt {
        location: location.to_string(),
        id: format!("run {}", run.id),
        source,
    })?;
    Ok(run)
}

/// Appends entries after the current head (inside the caller's transaction, which must be
/// IMMEDIATE so no other writer reads the same head).
pub(super) fn append(
    conn: &Connection,
    location: &str,
    drafts: &[LedgerDraft],
) -> Result<Vec<LedgerEntry>> {
    let err = backend(location, "append to ledger");
    let head: Option<(i64, String)> = conn
        .query_row(
            "SELECT seq, hash FROM response_ledger ORDER BY seq DESC LIMIT 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()
        .map_err(&err)?;
    let (mut seq, mut prev) = head.unwrap_or((0, LEDGER_GENESIS.to_string()));
    let mut stored = Vec::with_capacity(drafts.len());
    for draft in drafts {
        seq += 1;
        let mut body = String::new();
        canonical_json(&draft.body, &mut body);
        let hash = ledger_hash_of_text(seq, draft, &body, &prev);
        conn.prepare_cached(
            "INSERT INTO response_ledger (seq, run_id, case_id, at_ms, actor, kind, step_id,
                body, prev_hash, hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )
        .and_then(|mut insert| {
            insert.execute(rusqlite::params![
                seq,
                draft.run_id,
                draft.case_id,
                draft.at_ms,
                draft.actor,
                draft.kind,
                draft.step_id,
                body,
                prev,
                hash
            ])
        })
        .map_err(&err)?;
        stored.push(LedgerEntry {
            seq,
            draft: draft.clone(),
            prev_hash: std::mem::replace(&mut prev, hash.clone()),
            hash,
        });
    }
    Ok(stored)
}

/// A ledger row: the entry with its body as stored text.
type RawEntry = (LedgerEntry, String);

fn raw_entry(row: &Row<'_>) -> rusqlite::Result<RawEntry> {
    Ok((
        LedgerEntry {
            seq: row.get(0)?,
            draft: LedgerDraft {
                run_id: row.get(1)?,
                case_id: row.get(2)?,
                at_ms: row.get(3)?,
                actor: row.get(4)?,
                kind: row.get(5)?,
                step_id: row.get(6)?,
                body: serde_json::Value::Null,
            },
            prev_hash: row.get(8)?,
            hash: row.get(9)?,
        },
        row.get(7)?,
    ))
}

const LEDGER_SELECT: &str = "SELECT seq, run_id, case_id, at_ms, actor, kind, step_id, body, \
                             prev_hash, hash FROM response_ledger";

/// The ledger, oldest first, optionally for one run.
pub(super) fn ledger(
    conn: &Connection,
    location: &str,
    run_id: Option<&str>,
) -> Result<Vec<LedgerEntry>> {
    let err = backend(location, "read ledger");
    let raws = match run_id {
        Some(run) => {
            let sql = format!("{LEDGER_SELECT} WHERE run_id = ?1 ORDER BY seq");
            let mut statement = conn.prepare(&sql).map_err(&err)?;
            let rows = statement.query_map([run], raw_entry).map_err(&err)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(&err)?
        }
        None => {
            let sql = format!("{LEDGER_SELECT} ORDER BY seq");
            let mut statement = conn.prepare(&sql).map_err(&err)?;
            let rows = statement.query_map([], raw_entry).map_err(&err)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(&err)?
        }
    };
    raws.into_iter()
        .map(|(mut entry, body)| {
            entry.draft.body =
                serde_json::from_str(&body).map_err(|source| StoreError::Corrupt {
                    location: location.to_string(),
                    id: format!("ledger entry {}", entry.seq),
                    source,
                })?;
            Ok(entry)
        })
        .collect()
}

/// Walks the whole ledger, recomputing each hash from the stored bytes and checking each
/// link, and stops at the first broken entry.
pub(super) fn verify(conn: &Connection, location: &str) -> Result<LedgerCheck> {
    let err = backend(location, "verify ledger");
    let sql = format!("{LEDGER_SELECT} ORDER BY seq");
    let mut statement = conn.prepare(&sql).map_err(&err)?;
    let mut rows = statement.query([]).map_err(&err)?;
    let mut check = LedgerCheck {
        entries: 0,
        head: None,
        first_broken: None,
    };
    let mut prev = LEDGER_GENESIS.to_string();
    while let Some(row) = rows.next().map_err(&err)? {
        let (entry, body) = raw_entry(row).map_err(&err)?;
        check.entries += 1;
        if let Some(reason) = broken(&entry, &body, &prev, check.entries) {
            check.first_broken = Some(LedgerBreak {
                seq: entry.seq,
                reason,
            });
            return Ok(check);
        }
        prev = entry.hash.clone();
        check.head = Some(entry.hash);
    }
    Ok(check)
}

/// Why an entry does not hold, if it does not.
fn broken(entry: &LedgerEntry, body: &str, prev: &str, position: u64) -> Option<String> {
    if u64::try_from(entry.seq).ok() != Some(position) {
        return Some(format!(
            "entry {} is at position {position}: an entry before it was deleted or renumbered",
            entry.seq
        ));
    }
    if entry.prev_hash != prev {
        return Some(format!(
            "its prev_hash {} is not the hash of the entry before ({prev})",
            entry.prev_hash
        ));
    }
    let computed = ledger_hash_of_text(entry.seq, &entry.draft, body, &entry.prev_hash);
    if computed != entry.hash {
        return Some(format!(
            "its content does not match its hash (stored {}, computed {computed}): the entry was edited",
            entry.hash
        ));
    }
    None
}
