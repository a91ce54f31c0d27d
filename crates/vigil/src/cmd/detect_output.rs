//! Where `vigil detect` sends its findings: to the store and to standard output, in chunks as
//! they come out of the engine's sorter, so a flood of findings is never all in memory here
//! either. The output is the same as writing them all at once: the same findings in the same
//! order, and the store applies each finding's contributions in one transaction per chunk.

use std::collections::HashSet;
use std::io::{BufWriter, Stdout, Write};

use anyhow::Context;
use vigil_engine::{Contribution, FindingItem, DERIVED_INPUT};
use vigil_findings::{Finding, Format, SeverityLabel};
use vigil_input::Input;
use vigil_store::{FindingContribution, SqliteStore, Store};

/// Findings handed to the store (and then written) together: enough to keep the store's
/// transactions few, small enough to bound the memory (a finding is a few KiB with its
/// evidence records).
const CHUNK_FINDINGS: usize = 1024;

/// How many bytes of per-input parts one store transaction may take. Each input that
/// contributed to a finding gets its own copy of the finding (the store replaces one input's
/// part when that input is read again), so a finding seen in hundreds of files is hundreds of
/// copies: a chunk of such findings is split into several transactions, never a finding.
const BATCH_BYTES: usize = 8 << 20;

/// What the store did with this run's findings.
#[derive(Debug, Default)]
pub struct Stored {
    /// Findings stored for the first time.
    pub created: usize,
    /// Findings already stored, with an input new or changed since.
    pub updated: usize,
    /// Findings already stored exactly so (the same inputs detected again).
    pub unchanged: usize,
    pub suppressed: usize,
}

/// What was shown, for the summary and the exit code.
#[derive(Debug, Default)]
pub struct Shown {
    /// Findings written to the output (suppressed ones are not).
    pub count: usize,
    /// The highest severity written.
    pub highest: Option<SeverityLabel>,
}

/// Takes findings one by one; every [`CHUNK_FINDINGS`] of them go to the store, then the
/// ones not suppressed there go to the output.
pub struct FindingOutput<'a> {
    store: Option<&'a mut SqliteStore>,
    input_keys: Vec<String>,
    writer: Writer,
    chunk: Vec<FindingItem>,
    pub stored: Option<Stored>,
    pub shown: Shown,
}

impl<'a> FindingOutput<'a> {
    pub fn new(format: Format, store: Option<&'a mut SqliteStore>, inputs: &[Input]) -> Self {
        let stored = store.as_ref().map(|_| Stored::default());
        FindingOutput {
            store,
            input_keys: inputs.iter().map(input_key).collect(),
            writer: Writer::new(format),
            chunk: Vec::with_capacity(CHUNK_FINDINGS),
            stored,
            shown: Shown::default(),
        }
    }

    /// Adds a finding (in output order).
    pub fn push(&mut self, item: FindingItem) -> anyhow::Result<()> {
        self.chunk.push(item);
        if self.chunk.len() >= CHUNK_FINDINGS {
            self.flush_chunk()?;
        }
        Ok(())
    }

    /// Writes what is left and flushes the output.
    pub fn finish(mut self) -> anyhow::Result<(Option<Stored>, Shown)> {
        self.flush_chunk()?;
        self.writer.finish()?;
        Ok((self.stored, self.shown))
    }

    fn flush_chunk(&mut self) -> anyhow::Result<()> {
        let chunk = std::mem::take(&mut self.chunk);
        let suppressed = match (self.store.as_deref_mut(), self.stored.as_mut()) {
            (Some(store), Some(stored)) => persist(store, &self.input_keys, &chunk, stored)?,
            _ => HashSet::new(),
        };
        for (finding, _) in chunk {
            if suppressed.contains(&finding.id) {
                continue;
            }
            self.shown.count += 1;
            let label = finding.severity.label;
            if self.shown.highest.is_none_or(|highest| label > highest) {
                self.shown.highest = Some(label);
            }
            self.writer.write(finding)?;
        }
        self.chunk = Vec::with_capacity(CHUNK_FINDINGS);
        Ok(())
    }
}

/// Stores a chunk of findings (one contribution row per finding and input) and returns the
/// ids of the ones the store has suppressed.
fn persist(
    store: &mut SqliteStore,
    input_keys: &[String],
    chunk: &[FindingItem],
    stored: &mut Stored,
) -> anyhow::Result<HashSet<String>> {
    let mut suppressed = HashSet::new();
    let mut rest = chunk;
    while !rest.is_empty() {
        let (batch, after) = rest.split_at(batch_len(rest, BATCH_BYTES));
        persist_batch(store, input_keys, batch, stored, &mut suppressed)?;
        rest = after;
    }
    Ok(suppressed)
}

/// How many findings at the start of `items` go into one transaction: as many as fit in
/// `budget` bytes of per-input parts, and at least one.
fn batch_len(items: &[FindingItem], budget: usize) -> usize {
    let mut bytes = 0usize;
    for (taken, (finding, contributions)) in items.iter().enumerate() {
        let cost = approximate_bytes(finding).saturating_mul(contributions.len().max(1));
        bytes = bytes.saturating_add(cost);
        if taken > 0 && bytes > budget {
            return taken;
        }
    }
    items.len()
}

/// Roughly what a copy of `finding` takes in memory: its evidence records dominate.
fn approximate_bytes(finding: &Finding) -> usize {
    let samples: usize = finding
        .samples
        .iter()
        .map(|s| s.record.get().len() + s.origin.len())
        .sum();
    1024 + finding.description.len() + samples
}

fn persist_batch(
    store: &mut SqliteStore,
    input_keys: &[String],
    batch: &[FindingItem],
    stored: &mut Stored,
    suppressed: &mut HashSet<String>,
) -> anyhow::Result<()> {
    let parts: Vec<FindingContribution> = batch
        .iter()
        .flat_map(|(finding, contributions)| {
            contributions
                .iter()
                .map(|contribution| part_of(finding, contribution, input_keys))
        })
        .collect();
    let report = store
        .upsert_findings(&parts)
        .context("writing findings to the store")?;
    drop(parts);
    // The store lists the batch's findings it holds as SUPPRESSED (muted now or before).
    let before = suppressed.len();
    suppressed.extend(report.suppressed_ids);
    // The store counts each finding of the batch once: created by this run, updated, or
    // neither (stored as it is). Every contribution of a finding is in the same batch.
    let created = report.created.min(batch.len());
    let updated = report.updated.min(batch.len() - created);
    stored.created += created;
    stored.updated += updated;
    stored.unchanged += batch.len() - created - updated;
    stored.suppressed += suppressed.len() - before;
    Ok(())
}

/// The part of `finding` that one input contributed.
fn part_of(
    finding: &Finding,
    contribution: &Contribution,
    input_keys: &[String],
) -> FindingContribution {
    let mut part = finding.clone();
    part.event_count = contribution.count;
    part.first_seen_ms = contribution.first_ms;
    part.last_seen_ms = contribution.last_ms;
    let input_key = match contribution.input {
        DERIVED_INPUT => "derived".to_string(),
        index => input_keys.get(index).cloned().unwrap_or_default(),
    };
    FindingContribution {
        finding: part,
        input_key,
    }
}

/// The key under which an input's contribution is stored: re-reading the same file replaces
/// its contribution instead of adding to it.
fn input_key(input: &Input) -> String {
    match input {
        Input::Stdin => "stdin".to_string(),
        Input::File(path) => std::fs::canonicalize(path)
            .unwrap_or_else(|_| path.clone())
            .display()
            .to_string(),
    }
}

/// Standard output in the chosen format. JSON Lines is written finding by finding; the
/// table, ASFF and OCSF are one document each (a table sized to its rows, a JSON array), so
/// their findings are kept until the end: those formats are for the screen and for
/// uploads, JSON Lines for floods.
enum Writer {
    Lines(BufWriter<Stdout>),
    Document(Format, Vec<Finding>),
}

impl Writer {
    fn new(format: Format) -> Self {
        match format {
            Format::Jsonl => Writer::Lines(BufWriter::new(std::io::stdout())),
            other => Writer::Document(other, Vec::new()),
        }
    }

    fn write(&mut self, finding: Finding) -> anyhow::Result<()> {
        match self {
            Writer::Lines(out) => {
                vigil_findings::write_findings(Format::Jsonl, std::slice::from_ref(&finding), out)
                    .context("writing findings")?;
            }
            Writer::Document(_, findings) => findings.push(finding),
        }
        Ok(())
    }

    fn finish(self) -> anyhow::Result<()> {
        match self {
            Writer::Lines(mut out) => out.flush().context("writing findings"),
            Writer::Document(format, findings) => {
                let stdout = std::io::stdout();
                let mut out = BufWriter::new(stdout.lock());
                vigil_findings::write_findings(format, &findings, &mut out)
                    .context("writing findings")?;
                out.flush().context("writing findings")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A finding whose one evidence record is `record_bytes` long.
    fn finding(id: &str, record_bytes: usize) -> Finding {
        let record = format!("{{\"pad\":\"{}\"}}", "x".repeat(record_bytes));
        let json = serde_json::json!({
            "id": id, "rule_id": "r", "title": "t", "rule_kind": "sigma", "description": "d",
            "severity": {"label": "HIGH", "score": 70}, "first_seen_ms": 0,
            "last_seen_ms": 0, "window_start_ms": 0, "event_count": 1, "dedup_key": "k",
            "account": null, "region": null, "principal": null, "resources": [],
            "source_ips": [], "log_sources": ["cloudtrail"], "tags": [], "runbook": null,
            "intel": [],
            "samples": [{"origin": "f:1", "source": "cloudtrail", "time_ms": 0,
                         "record": serde_json::from_str::<serde_json::Value>(&record).ok()}],
            "status": "NEW", "history": []
        });
        match serde_json::from_value(json) {
            Ok(finding) => finding,
            Err(e) => panic!("test finding does not decode: {e}"),
        }
    }

    fn item(id: &str, record_bytes: usize, inputs: usize) -> FindingItem {
        let contributions = (0..inputs)
            .map(|input| Contribution {
                input,
                count: 1,
                first_ms: 0,
                last_ms: 0,
            })
            .collect();
        (finding(id, record_bytes), contributions)
    }

    #[test]
    fn a_batch_counts_one_copy_of_a_finding_per_input() {
        // 10 KB findings: with one input, ten fit in 200 KB; with ten inputs, only one does.
        let light: Vec<FindingItem> = (0..30).map(|i| item(&i.to_string(), 10_000, 1)).collect();
        let heavy: Vec<FindingItem> = (0..30).map(|i| item(&i.to_string(), 10_000, 10)).collect();
        let light_len = batch_len(&light, 200_000);
        assert!((10..=20).contains(&light_len), "{light_len}");
        assert_eq!(batch_len(&heavy, 200_000), 1);
    }

    #[test]
    fn a_batch_takes_at_least_one_finding_and_ends_at_the_chunk() {
        let huge = vec![item("a", 1_000_000, 50), item("b", 10, 1)];
        assert_eq!(
            batch_len(&huge, 1_000),
            1,
            "an oversized finding goes alone"
        );
        let small = vec![item("a", 10, 1), item("b", 10, 1)];
        assert_eq!(batch_len(&small, BATCH_BYTES), 2);
        assert_eq!(batch_len(&[], BATCH_BYTES), 0);
    }
}
