//! Applying a batch of contributions: each finding of the batch is written once.
//!
//! The batch is grouped by finding. For each finding, its stored contribution rows are read
//! in one query and compared with the batch's parts; changed and new rows are written, and
//! when any row changed the finding is rebuilt from all its rows, in input-key order (or,
//! when the changed rows are new inputs sorting after every stored one, the stored finding
//! is extended with them: the same left fold, without decoding every row), and
//! written once with its lifecycle (NEW or SUPPRESSED when first seen; the stored status and
//! history otherwise). A finding is therefore a function of its rows: the same rows give
//! the same stored body however the batches were cut and in whatever order they came. (A
//! body written by vigil before this rule merged a new input after the stored finding, in
//! arrival order; it is rebuilt in key order the next time one of its inputs changes or a
//! new one sorts before its last.)

use std::collections::{BTreeMap, HashMap};

use rusqlite::{Connection, OptionalExtension};
use serde::Deserialize;
use vigil_findings::{Finding, Status, StatusChange};

use super::{backend, findings, suppressions};
use crate::{lifecycle, FindingContribution, Result, StoreError, Suppression, UpsertReport};

/// Applies a batch of contributions (inside the caller's transaction).
pub(super) fn upsert(
    conn: &Connection,
    location: &str,
    batch: &[FindingContribution],
    now_ms: i64,
) -> Result<UpsertReport> {
    let active: Vec<Suppression> = suppressions::list(conn)
        .map_err(backend(location, "read suppressions"))?
        .into_iter()
        .filter(|s| s.is_active(now_ms))
        .collect();
    let upsert = Upsert {
        conn,
        location,
        active: &active,
        now_ms,
    };
    let mut report = UpsertReport::default();
    for (id, parts) in by_finding(batch) {
        upsert.upsert_finding(id, &parts, &mut report)?;
    }
    Ok(report)
}

/// The batch's parts grouped by finding id: findings in the order they first appear, each
/// one's parts in batch order.
fn by_finding(batch: &[FindingContribution]) -> Vec<(&str, Vec<&FindingContribution>)> {
    let mut groups: Vec<(&str, Vec<&FindingContribution>)> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for part in batch {
        let id = part.finding.id.as_str();
        let at = *index.entry(id).or_insert_with(|| {
            groups.push((id, Vec::new()));
            groups.len() - 1
        });
        if let Some((_, parts)) = groups.get_mut(at) {
            parts.push(part);
        }
    }
    groups
}

/// One contribution row of a finding: its stored text and, when this batch wrote it, the
/// partial finding it encodes (so it need not be decoded again).
struct Row<'a> {
    body: String,
    fresh: Option<&'a Finding>,
}

/// What the stored finding keeps across upserts: its status and history (the rest of the
/// body is rebuilt from the rows, so it is not decoded).
#[derive(Deserialize)]
struct Lifecycle {
    status: Status,
    history: Vec<StatusChange>,
}

/// One batch's upsert: the transaction's connection, the suppressions active now, and now.
struct Upsert<'c> {
    conn: &'c Connection,
    location: &'c str,
    active: &'c [Suppression],
    now_ms: i64,
}

impl Upsert<'_> {
    /// Stores the changed rows of one finding and, if any changed, rebuilds and writes it.
    fn upsert_finding(
        &self,
        id: &str,
        parts: &[&FindingContribution],
        report: &mut UpsertReport,
    ) -> Result<()> {
        let mut rows = self.stored_rows(id)?;
        let last_stored = rows.keys().next_back().cloned();
        let Some(first_written) = self.write_changed_rows(id, parts, &mut rows, report)? else {
            if self.stored_as_suppressed(id)? {
                report.suppressed_ids.push(id.to_string());
            }
            return Ok(());
        };
        // New inputs that all sort after the stored ones (the next files of a trail): the
        // stored finding is already the merge of the rows before them, so it is extended
        // instead of decoding every row again. The merge is a left fold, so the result is
        // the same as rebuilding.
        let appended = last_stored.is_some_and(|last| first_written > last);
        let stored = if appended {
            findings::load(self.conn, self.location, id)?
        } else {
            None
        };
        let finding = match stored {
            Some(stored) => {
                report.updated += 1;
                let added = rows.split_off(&first_written);
                fold_rows(self.location, id, Some(stored), added)?
            }
            None => self.rebuild(id, rows, report)?,
        };
        if finding.status == Status::Suppressed {
            report.suppressed_ids.push(id.to_string());
        }
        findings::write(self.conn, self.location, &finding)
    }

    /// The finding as the merge of all its rows, with the stored status and history, or
    /// starting its lifecycle when it is new.
    fn rebuild(
        &self,
        id: &str,
        rows: BTreeMap<String, Row<'_>>,
        report: &mut UpsertReport,
    ) -> Result<Finding> {
        let mut finding = fold_rows(self.location, id, None, rows)?;
        match self.stored_lifecycle(id)? {
            Some(stored) => {
                finding.status = stored.status;
                finding.history = stored.history;
                report.updated += 1;
            }
            None => {
                let muted = lifecycle::start(&mut finding, self.active, self.now_ms);
                report.suppressed += usize::from(muted);
                report.created += 1;
            }
        }
        Ok(finding)
    }

    /// Writes the parts that differ from the finding's rows (a part given twice counts as
    /// given last) and records them in `rows`; returns the smallest input key written, if
    /// any was.
    fn write_changed_rows<'a>(
        &self,
        id: &str,
        parts: &[&'a FindingContribution],
        rows: &mut BTreeMap<String, Row<'a>>,
        report: &mut UpsertReport,
    ) -> Result<Option<String>> {
        let mut first_written: Option<String> = None;
        for part in parts {
            let body = contribution_body(&part.finding)?;
            if rows
                .get(&part.input_key)
                .is_some_and(|row| row.body == body)
            {
                report.unchanged += 1;
                continue;
            }
            self.write_row(id, &part.input_key, &body)?;
            let fresh = Some(&part.finding);
            rows.insert(part.input_key.clone(), Row { body, fresh });
            if first_written
                .as_ref()
                .is_none_or(|first| part.input_key < *first)
            {
                first_written = Some(part.input_key.clone());
            }
        }
        Ok(first_written)
    }

    /// The finding's stored contribution rows, by input key.
    fn stored_rows<'a>(&self, id: &str) -> Result<BTreeMap<String, Row<'a>>> {
        let err = backend(self.location, "read contributions");
        let mut statement = self
            .conn
            .prepare_cached("SELECT input_key, body FROM contributions WHERE finding_id = ?1")
            .map_err(&err)?;
        let rows = statement
            .query_map([id], |row| {
                let body = row.get(1)?;
                Ok((row.get(0)?, Row { body, fresh: None }))
            })
            .map_err(&err)?;
        rows.collect::<rusqlite::Result<_>>().map_err(&err)
    }

    fn write_row(&self, id: &str, input_key: &str, body: &str) -> Result<()> {
        let err = backend(self.location, "upsert findings");
        let mut statement = self
            .conn
            .prepare_cached(
                "INSERT INTO contributions (finding_id, input_key, body) VALUES (?1, ?2, ?3)
                 ON CONFLICT (finding_id, input_key) DO UPDATE SET body = excluded.body",
            )
            .map_err(&err)?;
        statement.execute((id, input_key, body)).map_err(&err)?;
        Ok(())
    }

    /// Whether the finding is stored as SUPPRESSED (read from its status column: the body is
    /// not decoded).
    fn stored_as_suppressed(&self, id: &str) -> Result<bool> {
        let err = backend(self.location, "read finding");
        let mut statement = self
            .conn
            .prepare_cached("SELECT status FROM findings WHERE id = ?1")
            .map_err(&err)?;
        let status: Option<String> = statement
            .query_row([id], |row| row.get(0))
            .optional()
            .map_err(&err)?;
        Ok(status.as_deref() == Some(Status::Suppressed.as_str()))
    }

    /// The stored finding's status and history.
    fn stored_lifecycle(&self, id: &str) -> Result<Option<Lifecycle>> {
        let err = backend(self.location, "read finding");
        let mut statement = self
            .conn
            .prepare_cached("SELECT body FROM findings WHERE id = ?1")
            .map_err(&err)?;
        let body: Option<String> = statement
            .query_row([id], |row| row.get(0))
            .optional()
            .map_err(&err)?;
        let Some(body) = body else {
            return Ok(None);
        };
        serde_json::from_str(&body)
            .map(Some)
            .map_err(|source| StoreError::Corrupt {
                location: self.location.to_string(),
                id: id.to_string(),
                source,
            })
    }
}

/// The stored form of a contribution: the partial finding without status or history, so the
/// same input gives the same text.
fn contribution_body(finding: &Finding) -> Result<String> {
    // Parts from the engine are already NEW without history: encode them without a copy.
    let encoded = if finding.status == Status::New && finding.history.is_empty() {
        serde_json::to_string(finding)
    } else {
        let mut partial = finding.clone();
        partial.status = Status::New;
        partial.history.clear();
        serde_json::to_string(&partial)
    };
    encoded.map_err(|source| StoreError::Encode {
        id: finding.id.clone(),
        source,
    })
}

/// `start` (when given) merged with every row in `rows`, in input-key order: rows written
/// by this batch are taken as given (their body is their exact encoding), stored ones are
/// decoded. The status and history are `start`'s, or the first row's (to be replaced by the
/// caller).
fn fold_rows(
    location: &str,
    id: &str,
    start: Option<Finding>,
    rows: BTreeMap<String, Row<'_>>,
) -> Result<Finding> {
    let mut merged = start;
    for row in rows.into_values() {
        let part = match row.fresh {
            Some(fresh) => fresh.clone(),
            None => findings::decode(location, id, &row.body)?,
        };
        match merged.as_mut() {
            Some(finding) => finding.merge(part),
            None => merged = Some(part),
        }
    }
    merged.ok_or_else(|| StoreError::NotFound(id.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(id: &str, input_key: &str) -> FindingContribution {
        let json = serde_json::json!({
            "id": id, "rule_id": "r", "title": "t", "rule_kind": "sigma", "description": "d",
            "severity": {"label": "HIGH", "score": 70}, "first_seen_ms": 0,
            "last_seen_ms": 0, "window_start_ms": 0, "event_count": 1, "dedup_key": "k",
            "account": null, "region": null, "principal": null, "resources": [],
            "source_ips": [], "log_sources": ["cloudtrail"], "tags": [], "runbook": null,
            "intel": [], "samples": [], "status": "NEW", "history": []
        });
        match serde_json::from_value(json) {
            Ok(finding) => FindingContribution {
                finding,
                input_key: input_key.to_string(),
            },
            Err(e) => panic!("test finding does not decode: {e}"),
        }
    }

    #[test]
    fn parts_are_grouped_by_finding_in_first_appearance_order() {
        let batch = [
            part("f2", "b"),
            part("f1", "a"),
            part("f2", "a"),
            part("f3", "c"),
            part("f1", "c"),
        ];
        let groups: Vec<(&str, Vec<&str>)> = by_finding(&batch)
            .into_iter()
            .map(|(id, parts)| (id, parts.iter().map(|p| p.input_key.as_str()).collect()))
            .collect();
        assert_eq!(
            groups,
            [
                ("f2", vec!["b", "a"]),
                ("f1", vec!["a", "c"]),
                ("f3", vec!["c"])
            ]
        );
    }
}
