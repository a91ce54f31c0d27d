//! Suppressions.

use rusqlite::{Connection, Row};
use vigil_findings::Status;

use super::{backend, findings};
use crate::{lifecycle, Result, StoreError, Suppression};

/// Stores a suppression and mutes the open findings it matches; returns how many.
pub(super) fn add(
    conn: &Connection,
    location: &str,
    suppression: &Suppression,
    now_ms: i64,
) -> Result<u64> {
    validate(suppression)?;
    let inserted = conn
        .execute(
            "INSERT OR IGNORE INTO suppressions (id, rule_id, principal, account, resource, reason,
                 author, created_ms, expires_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            rusqlite::params![
                suppression.id,
                suppression.rule_id,
                suppression.principal,
                suppression.account,
                suppression.resource,
                suppression.reason,
                suppression.author,
                suppression.created_ms,
                suppression.expires_ms,
            ],
        )
        .map_err(backend(location, "add suppression"))?;
    if inserted == 0 {
        let reason = format!("a suppression with id {} exists", suppression.id);
        return Err(StoreError::InvalidSuppression(reason));
    }
    if !suppression.is_active(now_ms) {
        return Ok(0);
    }
    let open = findings::with_status(conn, location, &[Status::New, Status::Notified])?;
    let mut muted = 0;
    for mut finding in open.into_iter().filter(|f| suppression.matches(f)) {
        debug_assert!(lifecycle::suppressible(finding.status));
        lifecycle::suppress(&mut finding, suppression, now_ms);
        findings::write(conn, location, &finding)?;
        muted += 1;
    }
    Ok(muted)
}

fn validate(suppression: &Suppression) -> Result<()> {
    let problem = if suppression.id.trim().is_empty() {
        "it has no id"
    } else if !suppression.has_criteria() {
        "it needs at least one of rule, principal, account or resource"
    } else if suppression.reason.trim().is_empty() {
        "it needs a reason"
    } else if suppression.author.trim().is_empty() {
        "it needs an author"
    } else {
        return Ok(());
    };
    Err(StoreError::InvalidSuppression(problem.to_string()))
}

/// Every suppression, oldest first.
pub(super) fn list(conn: &Connection) -> rusqlite::Result<Vec<Suppression>> {
    let mut statement = conn.prepare_cached(
        "SELECT id, rule_id, principal, account, resource, reason, author, created_ms, expires_ms
         FROM suppressions ORDER BY created_ms, id",
    )?;
    let rows = statement.query_map([], from_row)?;
    rows.collect()
}

fn from_row(row: &Row<'_>) -> rusqlite::Result<Suppression> {
    Ok(Suppression {
        id: row.get(0)?,
        rule_id: row.get(1)?,
        principal: row.get(2)?,
        account: row.get(3)?,
        resource: row.get(4)?,
        reason: row.get(5)?,
        author: row.get(6)?,
        created_ms: row.get(7)?,
        expires_ms: row.get(8)?,
    })
}

/// Removes a suppression; whether there was one.
pub(super) fn remove(conn: &Connection, id: &str) -> rusqlite::Result<bool> {
    Ok(conn.execute("DELETE FROM suppressions WHERE id = ?1", [id])? > 0)
}
