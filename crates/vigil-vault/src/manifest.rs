//! A case's manifest: its items with their custody history, derived from the chain.
//!
//! The chain is the record; the manifest is a view of it for people (`vigil evidence show`)
//! and the `manifest.json` of an export.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{Actor, CaseId, ChainEntry, CustodyAction, CustodyEvent, EntryBody, ItemRecord};
use crate::verify::short;

/// One custody event as it happened: when, by whom, what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustodyRecord {
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub actor: Actor,
    pub event: CustodyEvent,
}

/// An item and everything that happened to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestItem {
    /// The entry that added it.
    pub seq: u64,
    pub record: ItemRecord,
    pub custody: Vec<CustodyRecord>,
}

/// A case's items, its case-level custody events, and its head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseManifest {
    pub case: CaseId,
    pub entries: u64,
    pub head: Option<String>,
    pub items: Vec<ManifestItem>,
    /// Custody events about the whole case (exports, verifications).
    pub case_events: Vec<CustodyRecord>,
}

impl CaseManifest {
    /// Builds the manifest from a case's entries, in order.
    pub fn from_entries<'a>(
        case: &CaseId,
        entries: impl IntoIterator<Item = &'a ChainEntry>,
    ) -> Self {
        let mut manifest = CaseManifest {
            case: case.clone(),
            entries: 0,
            head: None,
            items: Vec::new(),
            case_events: Vec::new(),
        };
        for entry in entries {
            manifest.entries += 1;
            manifest.head = Some(entry.hash.clone());
            match &entry.body {
                EntryBody::ItemAdded(record) => manifest.items.push(ManifestItem {
                    seq: entry.seq,
                    record: record.clone(),
                    custody: Vec::new(),
                }),
                EntryBody::Custody(event) => {
                    let record = CustodyRecord {
                        seq: entry.seq,
                        at: entry.at,
                        actor: entry.actor.clone(),
                        event: event.clone(),
                    };
                    let item = event
                        .item
                        .as_deref()
                        .and_then(|sha| manifest.items.iter_mut().find(|i| i.record.sha256 == sha));
                    match item {
                        Some(item) => item.custody.push(record),
                        None => manifest.case_events.push(record),
                    }
                }
            }
        }
        manifest
    }

    /// The item whose SHA-256 is `id`, or starts with `id` (at least 8 hex digits).
    pub fn find(&self, id: &str) -> Result<&ManifestItem, crate::VaultError> {
        let id = id.to_ascii_lowercase();
        if id.len() < 8 || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(crate::VaultError::InvalidItemId { id });
        }
        let mut found = self
            .items
            .iter()
            .filter(|i| i.record.sha256.starts_with(&id));
        match (found.next(), found.next()) {
            (Some(item), None) => Ok(item),
            (Some(_), Some(_)) => Err(crate::VaultError::AmbiguousItem {
                case: self.case.to_string(),
                prefix: id,
            }),
            (None, _) => Err(crate::VaultError::UnknownItem {
                case: self.case.to_string(),
                item: id,
            }),
        }
    }
}

impl fmt::Display for CaseManifest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "case {}: {} items, {} entries, head {}",
            self.case,
            self.items.len(),
            self.entries,
            self.head.as_deref().map_or("-", short)
        )?;
        for item in &self.items {
            write!(f, "{item}")?;
        }
        for event in &self.case_events {
            writeln!(f, "  case {}", CustodyLine(event))?;
        }
        Ok(())
    }
}

impl fmt::Display for ManifestItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = &self.record;
        writeln!(
            f,
            "{}  {}  {} bytes  {}",
            r.sha256, r.name, r.size, r.media_type
        )?;
        let source = [&r.source.arn, &r.source.account, &r.source.region]
            .iter()
            .filter_map(|s| s.as_deref())
            .collect::<Vec<_>>()
            .join(" ");
        if !source.is_empty() {
            writeln!(f, "    source: {source}")?;
        }
        writeln!(f, "    method: {}", r.method)?;
        writeln!(
            f,
            "    collected {} by {}{}",
            r.collected_at.format("%Y-%m-%dT%H:%M:%SZ"),
            r.operator,
            r.collected_by
                .as_deref()
                .map(|p| format!(" as {p}"))
                .unwrap_or_default()
        )?;
        for event in &self.custody {
            writeln!(f, "    {}", CustodyLine(event))?;
        }
        Ok(())
    }
}

struct CustodyLine<'a>(&'a CustodyRecord);

impl fmt::Display for CustodyLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.0;
        write!(
            f,
            "{} {} by {}",
            r.at.format("%Y-%m-%dT%H:%M:%SZ"),
            r.event.action,
            r.actor.operator
        )?;
        if let Some(principal) = &r.actor.principal {
            write!(f, " as {principal}")?;
        }
        if r.event.action == CustodyAction::Collected {
            if let Some(arn) = r.event.source.as_ref().and_then(|s| s.arn.as_deref()) {
                write!(f, " from {arn}")?;
            }
        }
        if !r.event.note.is_empty() {
            write!(f, ": {}", r.event.note)?;
        }
        Ok(())
    }
}
