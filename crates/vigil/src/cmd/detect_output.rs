//! Where `vigil detect` sends its findings: to the store and to standard output, in chunks as
//! they come out of the engine's sorter, so a flood of findings is never all in memory here
//! either. The output is the same as writing them all at once: the same findings in the same
//! order, and the store applies each finding's contributions in one transaction per chunk.

use std::collections::HashSet;
use std::io::{BufWriter, Stdout, Write};

use anyhow::Context;
use vigil_engine::{Contribution, FindingItem, DERIVED_INPUT};
use vigil_findings::{Finding, Format, Sample, SeverityLabel};
use vigil_input::Input;
use vigil_store::{FindingContribution, SqliteStore, Store};

/// Findings handed to the store (and then written) together: enough to keep the store's
/// transactions few, small enough to bound the memory (a finding is a few KiB with its
/// evidence records).
const CHUNK_FINDINGS: usize = 1024;

/// How many bytes of per-input parts one store transaction may take. Each input that
/// contributed to a finding gets its own part (the store replaces one input's part when that
/// input is read again): a copy of the finding without its evidence, plus the evidence
/// records read from that input. A finding seen in hundreds of files is hundreds of parts: a
/// chunk of such findings is split into several transactions, never a finding.
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
    inputs: Vec<InputIds>,
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
            inputs: inputs.iter().map(InputIds::of).collect(),
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
            (Some(store), Some(stored)) => persist(store, &self.inputs, &chunk, stored)?,
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
    inputs: &[InputIds],
    chunk: &[FindingItem],
    stored: &mut Stored,
) -> anyhow::Result<HashSet<String>> {
    let mut suppressed = HashSet::new();
    let mut rest = chunk;
    while !rest.is_empty() {
        let (batch, after) = rest.split_at(batch_len(rest, BATCH_BYTES));
        persist_batch(store, inputs, batch, stored, &mut suppressed)?;
        rest = after;
    }
    Ok(suppressed)
}

/// How many findings at the start of `items` go into one transaction: as many as fit in
/// `budget` bytes of per-input parts, and at least one.
fn batch_len(items: &[FindingItem], budget: usize) -> usize {
    let mut bytes = 0usize;
    for (taken, (finding, contributions)) in items.iter().enumerate() {
        // One copy of the finding per input; its evidence records once, spread over them.
        let cost = base_bytes(finding)
            .saturating_mul(contributions.len().max(1))
            .saturating_add(sample_bytes(finding));
        bytes = bytes.saturating_add(cost);
        if taken > 0 && bytes > budget {
            return taken;
        }
    }
    items.len()
}

/// Roughly what a copy of `finding` without its evidence records takes in memory.
fn base_bytes(finding: &Finding) -> usize {
    1024 + finding.description.len()
}

/// Roughly what the evidence records of `finding` take in memory.
fn sample_bytes(finding: &Finding) -> usize {
    finding
        .samples
        .iter()
        .map(|s| s.record.get().len() + s.origin.len())
        .sum()
}

fn persist_batch(
    store: &mut SqliteStore,
    inputs: &[InputIds],
    batch: &[FindingItem],
    stored: &mut Stored,
    suppressed: &mut HashSet<String>,
) -> anyhow::Result<()> {
    let parts: Vec<FindingContribution> = batch
        .iter()
        .flat_map(|(finding, contributions)| parts_of(finding, contributions, inputs))
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

/// How an input is known to the store and to evidence records.
struct InputIds {
    /// The key under which the input's contribution is stored: re-reading the same file
    /// replaces its contribution instead of adding to it.
    key: String,
    /// The input's name as evidence records carry it (the file part of a sample's origin).
    name: String,
}

impl InputIds {
    fn of(input: &Input) -> InputIds {
        let key = match input {
            Input::Stdin => "stdin".to_string(),
            Input::File(path) => std::fs::canonicalize(path)
                .unwrap_or_else(|_| path.clone())
                .display()
                .to_string(),
        };
        InputIds {
            key,
            name: input.name().to_string(),
        }
    }
}

/// The parts of `finding` its inputs contributed, one per contribution: a copy of the finding
/// with that input's count and times, holding only the evidence records read from that
/// input. A record from none of them (a correlation's or a baseline's, whose one
/// contribution is derived) goes to the first part. So the parts hold each record once and
/// merging them gives back the finding's records; copying every record into every part made
/// a finding seen in a thousand files a thousand copies of its evidence in the store.
fn parts_of(
    finding: &Finding,
    contributions: &[Contribution],
    inputs: &[InputIds],
) -> Vec<FindingContribution> {
    let mut template = finding.clone();
    let mut shares: Vec<Vec<Sample>> = contributions.iter().map(|_| Vec::new()).collect();
    for sample in std::mem::take(&mut template.samples) {
        let file = sample
            .origin
            .rsplit_once(':')
            .map_or(sample.origin.as_str(), |(file, _)| file);
        let at = contributions
            .iter()
            .position(|c| inputs.get(c.input).is_some_and(|input| input.name == file))
            .unwrap_or(0);
        if let Some(share) = shares.get_mut(at) {
            share.push(sample);
        }
    }
    contributions
        .iter()
        .zip(shares)
        .map(|(contribution, samples)| {
            let mut part = template.clone();
            part.samples = samples;
            part.event_count = contribution.count;
            part.first_seen_ms = contribution.first_ms;
            part.last_seen_ms = contribution.last_ms;
            let input_key = match contribution.input {
                DERIVED_INPUT => "derived".to_string(),
                index => inputs
                    .get(index)
                    .map(|input| input.key.clone())
                    .unwrap_or_default(),
            };
            FindingContribution {
                finding: part,
                input_key,
            }
        })
        .collect()
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
    fn a_batch_counts_a_copy_of_a_finding_per_input_and_its_evidence_once() {
        // 10 KB of evidence and ~1 KB of finding: one input, 18 fit in 200 KB; ten inputs
        // (ten copies of the finding, the evidence once), 9; a hundred inputs, only one.
        let batch = |inputs| -> Vec<FindingItem> {
            (0..30)
                .map(|i| item(&i.to_string(), 10_000, inputs))
                .collect()
        };
        assert_eq!(batch_len(&batch(1), 200_000), 18);
        assert_eq!(batch_len(&batch(10), 200_000), 9);
        assert_eq!(batch_len(&batch(100), 200_000), 1);
    }

    fn sample(origin: &str, time_ms: i64) -> Sample {
        let json = serde_json::json!({
            "origin": origin, "source": "cloudtrail", "time_ms": time_ms,
            "record": {"eventTime": time_ms}
        });
        match serde_json::from_value(json) {
            Ok(sample) => sample,
            Err(e) => panic!("test sample does not decode: {e}"),
        }
    }

    fn contribution(input: usize, count: u64) -> Contribution {
        Contribution {
            input,
            count,
            first_ms: 0,
            last_ms: 0,
        }
    }

    fn origins(part: &FindingContribution) -> Vec<&str> {
        part.finding
            .samples
            .iter()
            .map(|s| s.origin.as_str())
            .collect()
    }

    /// Each input's part holds the evidence read from that input, each record once; merged,
    /// the parts give back the finding's evidence.
    #[test]
    fn each_part_holds_the_evidence_of_its_own_input() {
        let inputs: Vec<InputIds> = ["a.json", "logs:2024/b.json", "c.json"]
            .iter()
            .map(|name| InputIds {
                key: format!("/abs/{name}"),
                name: name.to_string(),
            })
            .collect();
        let mut finding = finding("f", 10);
        finding.samples = vec![
            sample("logs:2024/b.json:7", 1),
            sample("a.json:3", 2),
            sample("elsewhere.json:1", 3),
            sample("logs:2024/b.json:9", 4),
            sample("a.json:4", 5),
        ];
        // Inputs 1 and 0 contributed (in that order), input 2 did not.
        let parts = parts_of(&finding, &[contribution(1, 2), contribution(0, 3)], &inputs);
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].input_key, "/abs/logs:2024/b.json");
        assert_eq!(parts[0].finding.event_count, 2);
        // A record of no contributing input goes to the first part.
        assert_eq!(
            origins(&parts[0]),
            [
                "logs:2024/b.json:7",
                "elsewhere.json:1",
                "logs:2024/b.json:9"
            ]
        );
        assert_eq!(parts[1].input_key, "/abs/a.json");
        assert_eq!(parts[1].finding.event_count, 3);
        assert_eq!(origins(&parts[1]), ["a.json:3", "a.json:4"]);
        let mut merged = parts[0].finding.clone();
        merged.merge(parts[1].finding.clone());
        assert_eq!(merged.samples, finding.samples);
        assert_eq!(merged.event_count, 5);

        // A derived finding (correlation, baseline) has one part with every record.
        let derived = parts_of(&finding, &[contribution(DERIVED_INPUT, 5)], &inputs);
        assert_eq!(derived.len(), 1);
        assert_eq!(derived[0].input_key, "derived");
        assert_eq!(derived[0].finding.samples, finding.samples);
        assert!(parts_of(&finding, &[], &inputs).is_empty());
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
