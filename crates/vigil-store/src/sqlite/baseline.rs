//! First-seen baselines: the (group, value) pairs each first-seen rule has seen.

use rusqlite::{Connection, OptionalExtension};

use crate::BaselineValue;

/// Whether the rule has seen `value` for `group`.
pub(super) fn contains(
    conn: &Connection,
    rule_id: &str,
    group: &str,
    value: &str,
) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT 1 FROM baseline WHERE rule_id = ?1 AND grp = ?2 AND value = ?3",
        (rule_id, group, value),
        |_| Ok(()),
    )
    .optional()
    .map(|found| found.is_some())
}

/// Records a pair, keeping the earliest time; whether it is new.
pub(super) fn insert(
    conn: &Connection,
    rule_id: &str,
    (group, value, first_ms): (&str, &str, i64),
) -> rusqlite::Result<bool> {
    let inserted = conn
        .prepare_cached("INSERT OR IGNORE INTO baseline (rule_id, grp, value, first_ms) VALUES (?1, ?2, ?3, ?4)")?
        .execute((rule_id, group, value, first_ms))?;
    if inserted == 0 {
        conn.prepare_cached(
            "UPDATE baseline SET first_ms = MIN(first_ms, ?4) WHERE rule_id = ?1 AND grp = ?2 AND value = ?3",
        )?
        .execute((rule_id, group, value, first_ms))?;
    }
    Ok(inserted > 0)
}

/// Every value the rule has seen, by group and value.
pub(super) fn load(conn: &Connection, rule_id: &str) -> rusqlite::Result<Vec<BaselineValue>> {
    let mut statement = conn.prepare_cached(
        "SELECT grp, value, first_ms FROM baseline WHERE rule_id = ?1 ORDER BY grp, value",
    )?;
    let rows = statement.query_map([rule_id], |row| {
        Ok(BaselineValue {
            group: row.get(0)?,
            value: row.get(1)?,
            first_ms: row.get(2)?,
        })
    })?;
    rows.collect()
}
