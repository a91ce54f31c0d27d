//! Reading and writing findings (the batch upsert of contributions is in `upsert`).

use rusqlite::types::Value as SqlValue;
use rusqlite::{params_from_iter, Connection, OptionalExtension};
use vigil_findings::{Finding, Status};

use super::backend;
use crate::{lifecycle, FindingFilter, Result, StoreError};

/// A stored finding or contribution body.
pub(super) fn decode(location: &str, id: &str, body: &str) -> Result<Finding> {
    serde_json::from_str(body).map_err(|source| StoreError::Corrupt {
        location: location.to_string(),
        id: id.to_string(),
        source,
    })
}

/// Writes a finding, its filter columns and its body.
pub(super) fn write(conn: &Connection, location: &str, finding: &Finding) -> Result<()> {
    let body = serde_json::to_string(finding).map_err(|source| StoreError::Encode {
        id: finding.id.clone(),
        source,
    })?;
    let event_count = i64::try_from(finding.event_count).unwrap_or(i64::MAX);
    let err = backend(location, "write finding");
    let mut statement = conn
        .prepare_cached(
            "INSERT INTO findings (id, rule_id, severity_score, account, status, first_seen_ms,
             last_seen_ms, event_count, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (id) DO UPDATE SET rule_id = excluded.rule_id,
             severity_score = excluded.severity_score, account = excluded.account,
             status = excluded.status, first_seen_ms = excluded.first_seen_ms,
             last_seen_ms = excluded.last_seen_ms, event_count = excluded.event_count,
             body = excluded.body",
        )
        .map_err(&err)?;
    statement
        .execute(rusqlite::params![
            finding.id,
            finding.rule_id,
            finding.severity.score,
            finding.account,
            finding.status.as_str(),
            finding.first_seen_ms,
            finding.last_seen_ms,
            event_count,
            body,
        ])
        .map_err(&err)?;
    Ok(())
}

/// The finding with this id.
pub(super) fn load(conn: &Connection, location: &str, id: &str) -> Result<Option<Finding>> {
    let body: Option<String> = conn
        .query_row("SELECT body FROM findings WHERE id = ?1", [id], |row| {
            row.get(0)
        })
        .optional()
        .map_err(backend(location, "read finding"))?;
    body.map(|body| decode(location, id, &body)).transpose()
}

/// The findings that pass `filter`, newest first.
pub(super) fn list(
    conn: &Connection,
    location: &str,
    filter: &FindingFilter,
) -> Result<Vec<Finding>> {
    let (sql, values) = list_query(filter);
    let err = backend(location, "list findings");
    let mut statement = conn.prepare(&sql).map_err(&err)?;
    let rows = statement
        .query_map(params_from_iter(values), |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
        })
        .map_err(&err)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(&err)?;
    rows.iter()
        .map(|(id, body)| decode(location, id, body))
        .collect()
}

/// The SQL and parameters of a filtered listing.
fn list_query(filter: &FindingFilter) -> (String, Vec<SqlValue>) {
    let mut clauses: Vec<&str> = Vec::new();
    let mut values: Vec<SqlValue> = Vec::new();
    let mut add = |clause, value: SqlValue| {
        clauses.push(clause);
        values.push(value);
    };
    if let Some(label) = filter.severity_at_least {
        add("severity_score >= ?", i64::from(label.min_score()).into());
    }
    if let Some(rule_id) = &filter.rule_id {
        add("rule_id = ?", rule_id.clone().into());
    }
    if let Some(account) = &filter.account {
        add("account = ?", account.clone().into());
    }
    if let Some(status) = filter.status {
        add("status = ?", status.as_str().to_string().into());
    }
    if let Some(since) = filter.since_ms {
        add("last_seen_ms >= ?", since.into());
    }
    if let Some(until) = filter.until_ms {
        add("first_seen_ms <= ?", until.into());
    }
    let mut sql = String::from("SELECT id, body FROM findings");
    if !clauses.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&clauses.join(" AND "));
    }
    sql.push_str(" ORDER BY last_seen_ms DESC, id");
    if let Some(limit) = filter.limit {
        sql.push_str(" LIMIT ?");
        values.push(i64::try_from(limit).unwrap_or(i64::MAX).into());
    }
    (sql, values)
}

/// Moves a finding to a status, recording who and why.
pub(super) fn set_status(
    conn: &Connection,
    location: &str,
    id: &str,
    (status, by, reason): (Status, &str, &str),
    now_ms: i64,
) -> Result<Finding> {
    let mut finding =
        load(conn, location, id)?.ok_or_else(|| StoreError::NotFound(id.to_string()))?;
    lifecycle::change(&mut finding, status, by, reason, now_ms);
    write(conn, location, &finding)?;
    Ok(finding)
}

/// Every stored finding in one of `statuses`.
pub(super) fn with_status(
    conn: &Connection,
    location: &str,
    statuses: &[Status],
) -> Result<Vec<Finding>> {
    let mut found = Vec::new();
    for status in statuses {
        let filter = FindingFilter {
            status: Some(*status),
            ..FindingFilter::default()
        };
        found.extend(list(conn, location, &filter)?);
    }
    Ok(found)
}
