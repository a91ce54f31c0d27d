//! The findings of a run in output order, within a memory budget: findings are pushed in any
//! order; beyond the budget the ones in memory are sorted and written to an anonymous
//! temporary file (a *run*), and reading them merges the runs back (k-way) with what is
//! still in memory. A flood of findings then needs the budget, not memory proportional to the
//! number of findings, before it reaches the output and the store. Same house pattern as the
//! finding drafts (`draft_spill.rs`) and the correlation observations
//! (`vigil-correlation/src/spill.rs`).
//!
//! The order is the one of [`sort_key`] (first seen, rule id, finding id); findings with equal
//! keys keep the order they were pushed in, as a stable sort of them all would.
//!
//! A run stores each finding as its JSON text (the output format, so reading it back gives
//! the same finding and the same output bytes) and its contributions as fixed-size integers.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};

use vigil_findings::Finding;

use crate::draft::Contribution;

/// A finding with what each input contributed to it.
pub type FindingItem = (Finding, Vec<Contribution>);

/// When the newest runs include this many of the same size class (level), they are merged
/// into one run of the next level, so a small budget over a flood of findings does not hold
/// thousands of files open: at most `FAN_IN - 1` runs per level, and each finding is
/// rewritten once per `FAN_IN`-fold growth of the output (a tiered merge, as in an LSM tree).
const FAN_IN: usize = 16;

/// The order findings are written in: first seen, rule id, id.
pub fn sort_key(finding: &Finding) -> (i64, &str, &str) {
    (finding.first_seen_ms, &finding.rule_id, &finding.id)
}

/// Why spilled findings could not be written or read back.
#[derive(Debug, thiserror::Error)]
pub enum FindingSpillError {
    #[error("spilling findings to a temporary file: {0}")]
    Write(#[source] std::io::Error),
    #[error("reading spilled findings back: {0}")]
    Read(#[source] std::io::Error),
    #[error("spilled findings are corrupt: {0}")]
    Corrupt(String),
}

/// Findings written to a temporary file, in [`sort_key`] order.
#[derive(Debug)]
struct FindingRun {
    file: File,
    count: u64,
    /// 0 for a run spilled from memory, n + 1 for a merge of `FAN_IN` runs of level n.
    level: u32,
}

/// Collects findings in any order within a memory budget; [`FindingSorter::finish`] gives
/// them back sorted.
#[derive(Debug)]
pub struct FindingSorter {
    budget_bytes: usize,
    approx_bytes: usize,
    memory: Vec<FindingItem>,
    runs: Vec<FindingRun>,
    count: u64,
    spilled_runs: u64,
    /// Runs that could not be read back while merging them into one.
    errors: Vec<FindingSpillError>,
}

impl FindingSorter {
    /// A sorter that keeps about `budget_bytes` of findings in memory.
    pub fn new(budget_bytes: usize) -> Self {
        FindingSorter {
            budget_bytes,
            approx_bytes: 0,
            memory: Vec::new(),
            runs: Vec::new(),
            count: 0,
            spilled_runs: 0,
            errors: Vec::new(),
        }
    }

    /// Adds a finding; past the budget, spills the findings in memory.
    pub fn push(&mut self, finding: Finding, contributions: Vec<Contribution>) {
        self.approx_bytes += approx_bytes(&finding, &contributions);
        self.memory.push((finding, contributions));
        self.count += 1;
        if self.approx_bytes > self.budget_bytes {
            self.spill();
        }
    }

    /// Sorts the findings in memory and writes them to a run. If that fails (no temporary
    /// directory, disk full), they stay in memory and the budget doubles: the run completes
    /// with more memory rather than losing findings.
    fn spill(&mut self) {
        sort_items(&mut self.memory);
        match write_run(self.memory.iter()) {
            Ok(run) => {
                self.runs.push(run);
                self.spilled_runs += 1;
                self.memory = Vec::new();
                self.approx_bytes = 0;
            }
            Err(error) => {
                tracing::warn!(%error, "Findings kept in memory: spilling failed");
                self.budget_bytes = self.budget_bytes.saturating_mul(2);
            }
        }
        while let Some(level) = self.full_level() {
            self.merge_newest(level);
        }
    }

    /// The level of the newest runs if `FAN_IN` of them share it.
    fn full_level(&self) -> Option<u32> {
        let newest = self.runs.last()?.level;
        let same = self.runs.iter().rev().take_while(|run| run.level == newest);
        (same.count() >= FAN_IN).then_some(newest)
    }

    /// Merges the `FAN_IN` newest runs (all of `level`) into one run of the next level, in
    /// their place: the runs stay in the order their findings were pushed.
    fn merge_newest(&mut self, level: u32) {
        let runs = self.runs.split_off(self.runs.len() - FAN_IN);
        let count = runs.iter().map(|run| run.count).sum::<u64>();
        let merge = SortedFindings::merge_of(Vec::new(), runs, count);
        match write_merged(merge, &mut self.errors) {
            Ok(mut run) => {
                run.level = level + 1;
                self.runs.push(run);
            }
            // The runs are consumed: their findings are lost, and reported when read.
            Err(error) => self.errors.push(error),
        }
    }

    /// The findings, in [`sort_key`] order.
    pub fn finish(mut self) -> SortedFindings {
        sort_items(&mut self.memory);
        let mut sorted = SortedFindings::merge_of(self.memory, self.runs, self.count);
        sorted.spilled_runs = self.spilled_runs;
        sorted.errors.append(&mut self.errors);
        sorted
    }
}

/// Writes everything `merge` yields to a new run; what cannot be read goes to `errors`.
fn write_merged(
    merge: SortedFindings,
    errors: &mut Vec<FindingSpillError>,
) -> Result<FindingRun, FindingSpillError> {
    let mut writer = RunWriter::new()?;
    for item in merge {
        match item {
            Ok((finding, contributions)) => writer.write(&finding, &contributions)?,
            Err(error) => errors.push(error),
        }
    }
    writer.finish()
}

fn sort_items(items: &mut [FindingItem]) {
    // Stable: equal keys keep the order they were pushed in.
    items.sort_by(|(a, _), (b, _)| sort_key(a).cmp(&sort_key(b)));
}

/// About how much memory a finding takes: its texts, evidence records and lists.
fn approx_bytes(finding: &Finding, contributions: &[Contribution]) -> usize {
    let texts = |list: &[String]| list.iter().map(|t| t.len() + 24).sum::<usize>();
    let optional = |text: &Option<String>| text.as_ref().map_or(0, |t| t.len());
    std::mem::size_of::<FindingItem>()
        + finding.id.len()
        + finding.rule_id.len()
        + finding.rule_title.len()
        + finding.description.len()
        + finding.dedup_key.len()
        + optional(&finding.account)
        + optional(&finding.region)
        + optional(&finding.principal)
        + optional(&finding.runbook)
        + texts(&finding.resources)
        + texts(&finding.source_ips)
        + texts(&finding.tags)
        + finding.log_sources.len()
        + finding
            .intel
            .iter()
            .map(|i| i.field.len() + i.list.len() + i.entry.len() + 72)
            .sum::<usize>()
        + finding
            .samples
            .iter()
            .map(|s| std::mem::size_of_val(s) + s.origin.len() + s.record.get().len())
            .sum::<usize>()
        + std::mem::size_of_val(contributions)
}

/// Writes findings (already in order) to an anonymous temporary file.
struct RunWriter {
    out: BufWriter<File>,
    count: u64,
    line: Vec<u8>,
}

impl RunWriter {
    fn new() -> Result<Self, FindingSpillError> {
        let file = tempfile::tempfile().map_err(FindingSpillError::Write)?;
        Ok(RunWriter {
            out: BufWriter::with_capacity(1 << 16, file),
            count: 0,
            line: Vec::new(),
        })
    }

    fn write(
        &mut self,
        finding: &Finding,
        contributions: &[Contribution],
    ) -> Result<(), FindingSpillError> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, finding)
            .map_err(|e| FindingSpillError::Write(e.into()))?;
        self.encode(contributions)
            .map_err(FindingSpillError::Write)?;
        self.count += 1;
        Ok(())
    }

    fn encode(&mut self, contributions: &[Contribution]) -> std::io::Result<()> {
        write_len(&mut self.out, self.line.len())?;
        self.out.write_all(&self.line)?;
        write_len(&mut self.out, contributions.len())?;
        for c in contributions {
            self.out.write_all(&(c.input as u64).to_le_bytes())?;
            self.out.write_all(&c.count.to_le_bytes())?;
            self.out.write_all(&c.first_ms.to_le_bytes())?;
            self.out.write_all(&c.last_ms.to_le_bytes())?;
        }
        Ok(())
    }

    fn finish(self) -> Result<FindingRun, FindingSpillError> {
        let mut file = self
            .out
            .into_inner()
            .map_err(|e| FindingSpillError::Write(e.into_error()))?;
        file.seek(SeekFrom::Start(0))
            .map_err(FindingSpillError::Write)?;
        Ok(FindingRun {
            file,
            count: self.count,
            level: 0,
        })
    }
}

fn write_run<'a>(
    items: impl Iterator<Item = &'a FindingItem>,
) -> Result<FindingRun, FindingSpillError> {
    let mut writer = RunWriter::new()?;
    for (finding, contributions) in items {
        writer.write(finding, contributions)?;
    }
    writer.finish()
}

fn write_len(out: &mut impl Write, len: usize) -> std::io::Result<()> {
    let len = u32::try_from(len)
        .map_err(|_| std::io::Error::other("a finding of 4 GiB cannot be spilled"))?;
    out.write_all(&len.to_le_bytes())
}

/// Reads the findings of a run back, in order.
struct RunReader {
    input: BufReader<File>,
    left: u64,
    line: Vec<u8>,
}

impl RunReader {
    fn new(run: FindingRun) -> Self {
        RunReader {
            input: BufReader::with_capacity(1 << 16, run.file),
            left: run.count,
            line: Vec::new(),
        }
    }

    fn next(&mut self) -> Result<Option<FindingItem>, FindingSpillError> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        let len = self.len()?;
        self.line.resize(len, 0);
        self.input
            .read_exact(&mut self.line)
            .map_err(FindingSpillError::Read)?;
        let finding: Finding = serde_json::from_slice(&self.line)
            .map_err(|e| FindingSpillError::Corrupt(format!("a finding does not parse: {e}")))?;
        let mut contributions = Vec::with_capacity(self.len()?.min(1 << 16));
        for _ in 0..contributions.capacity() {
            let [input, count, first_ms, last_ms] =
                [self.u64()?, self.u64()?, self.u64()?, self.u64()?];
            contributions.push(Contribution {
                input: usize::try_from(input).map_err(|_| {
                    FindingSpillError::Corrupt("input index out of range".to_string())
                })?,
                count,
                first_ms: first_ms as i64,
                last_ms: last_ms as i64,
            });
        }
        Ok(Some((finding, contributions)))
    }

    fn u64(&mut self) -> Result<u64, FindingSpillError> {
        let mut buf = [0; 8];
        self.input
            .read_exact(&mut buf)
            .map_err(FindingSpillError::Read)?;
        Ok(u64::from_le_bytes(buf))
    }

    fn len(&mut self) -> Result<usize, FindingSpillError> {
        let mut buf = [0; 4];
        self.input
            .read_exact(&mut buf)
            .map_err(FindingSpillError::Read)?;
        Ok(u32::from_le_bytes(buf) as usize)
    }
}

/// One input of the merge: the findings still in memory (sorted) or a run.
enum Source {
    Memory(std::vec::IntoIter<FindingItem>),
    Run(RunReader),
}

impl Source {
    fn next(&mut self) -> Result<Option<FindingItem>, FindingSpillError> {
        match self {
            Source::Memory(items) => Ok(items.next()),
            Source::Run(reader) => reader.next(),
        }
    }
}

/// The heap entry of a source's next finding: its key, then the source's position (runs in
/// the order they were written, memory last), which keeps equal keys in push order.
type Head = Reverse<((i64, String, String), usize)>;

/// The findings of a run in [`sort_key`] order, read once: an iterator over the findings in
/// memory merged with the spilled runs. A run that cannot be read back yields an error, and
/// its remaining findings are lost; the other sources go on.
#[derive(Default)]
pub struct SortedFindings {
    sources: Vec<Source>,
    heads: BinaryHeap<Head>,
    pending: Vec<Option<FindingItem>>,
    errors: Vec<FindingSpillError>,
    left: u64,
    spilled_runs: u64,
}

impl std::fmt::Debug for SortedFindings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SortedFindings")
            .field("left", &self.left)
            .field("spilled_runs", &self.spilled_runs)
            .finish()
    }
}

impl SortedFindings {
    /// Findings already in order, all in memory.
    pub fn from_sorted(items: Vec<FindingItem>) -> Self {
        let count = items.len() as u64;
        Self::merge_of(items, Vec::new(), count)
    }

    fn merge_of(memory: Vec<FindingItem>, runs: Vec<FindingRun>, count: u64) -> Self {
        let mut sources: Vec<Source> = runs
            .into_iter()
            .map(|run| Source::Run(RunReader::new(run)))
            .collect();
        sources.push(Source::Memory(memory.into_iter()));
        let mut merge = SortedFindings {
            pending: (0..sources.len()).map(|_| None).collect(),
            sources,
            heads: BinaryHeap::new(),
            errors: Vec::new(),
            left: count,
            spilled_runs: 0,
        };
        for at in 0..merge.sources.len() {
            merge.advance(at);
        }
        merge
    }

    /// Reads source `at`'s next finding into the heap.
    fn advance(&mut self, at: usize) {
        match self.sources[at].next() {
            Ok(Some(item)) => {
                let (first, rule, id) = sort_key(&item.0);
                self.heads
                    .push(Reverse(((first, rule.to_string(), id.to_string()), at)));
                self.pending[at] = Some(item);
            }
            Ok(None) => {}
            Err(error) => self.errors.push(error),
        }
    }

    /// How many findings are left to read (those lost to a read error included).
    pub fn len(&self) -> usize {
        usize::try_from(self.left).unwrap_or(usize::MAX)
    }

    /// Whether no finding is left.
    pub fn is_empty(&self) -> bool {
        self.left == 0
    }

    /// How many sorted runs were spilled to temporary files while the findings were
    /// collected (0 when they fitted the budget).
    pub fn spilled_runs(&self) -> u64 {
        self.spilled_runs
    }

    /// Every finding, in order, in memory.
    pub fn into_vec(self) -> Result<Vec<FindingItem>, FindingSpillError> {
        self.collect()
    }
}

impl Iterator for SortedFindings {
    type Item = Result<FindingItem, FindingSpillError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(error) = self.errors.pop() {
            return Some(Err(error));
        }
        let Reverse((_, at)) = self.heads.pop()?;
        let item = self.pending[at].take()?;
        self.left = self.left.saturating_sub(1);
        self.advance(at);
        Some(Ok(item))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::value::RawValue;
    use vigil_findings::{RuleKind, Sample, Severity, Status};

    fn finding(first_seen_ms: i64, rule: &str, id: &str, record: &str) -> Finding {
        Finding {
            id: id.to_string(),
            rule_id: rule.to_string(),
            rule_title: format!("Rule {rule}"),
            rule_kind: RuleKind::Sigma,
            description: "x".repeat(2000),
            severity: Severity::from_score(70),
            first_seen_ms,
            last_seen_ms: first_seen_ms + 5,
            window_start_ms: first_seen_ms - first_seen_ms % 3600,
            event_count: 3,
            dedup_key: format!("alice|{id}"),
            account: Some("123456789012".to_string()),
            region: None,
            principal: Some("alice".to_string()),
            resources: vec!["bucket".to_string()],
            source_ips: Vec::new(),
            log_sources: Vec::new(),
            tags: vec!["attack.t1078".to_string()],
            runbook: None,
            intel: Vec::new(),
            samples: vec![Sample {
                origin: "a.json.gz:3".to_string(),
                source: vigil_event::LogSource::CloudTrail,
                time_ms: Some(first_seen_ms),
                record: RawValue::from_string(record.to_string()).unwrap(),
            }],
            status: Status::New,
            history: Vec::new(),
        }
    }

    /// 2,000 findings in a scrambled order, some with equal times, with contributions.
    fn scrambled() -> Vec<FindingItem> {
        (0..2000u64)
            .map(|n| {
                let spread = n * 7919 % 2000;
                let item = finding(
                    (spread / 3) as i64,
                    &format!("r{}", spread % 5),
                    &format!("{n:032x}"),
                    // Raw record text with spaces and escapes: it must come back as is.
                    &format!(r#"{{"eventName": "Get\u0041", "n": {n}, "f": 1.50}}"#),
                );
                let contributions = (0..n % 3)
                    .map(|i| Contribution {
                        input: i as usize,
                        count: n,
                        first_ms: -(n as i64),
                        last_ms: n as i64,
                    })
                    .collect();
                (item, contributions)
            })
            .collect()
    }

    fn sorted_in_memory(mut items: Vec<FindingItem>) -> Vec<String> {
        sort_items(&mut items);
        items.iter().map(line).collect()
    }

    fn line((finding, contributions): &FindingItem) -> String {
        format!(
            "{} {:?}",
            serde_json::to_string(finding).unwrap(),
            contributions
        )
    }

    fn through(sorter_budget: usize, items: Vec<FindingItem>) -> (u64, Vec<String>) {
        let mut sorter = FindingSorter::new(sorter_budget);
        for (finding, contributions) in items {
            sorter.push(finding, contributions);
        }
        let sorted = sorter.finish();
        assert_eq!(sorted.len(), 2000);
        let runs = sorted.spilled_runs();
        let lines = sorted.into_vec().unwrap().iter().map(line).collect();
        (runs, lines)
    }

    #[test]
    fn spilled_findings_come_back_in_the_order_of_a_sort_in_memory() {
        let expected = sorted_in_memory(scrambled());
        let (runs, in_memory) = through(usize::MAX, scrambled());
        assert_eq!(runs, 0);
        assert_eq!(in_memory, expected);
        // 2,000 findings of about 2.5 KiB over a 256 KiB budget: several runs.
        let (runs, spilled) = through(256 << 10, scrambled());
        assert!(runs > 5, "{runs} runs");
        assert_eq!(spilled, expected);
    }

    #[test]
    fn many_runs_are_merged_on_the_way_and_the_order_holds() {
        let expected = sorted_in_memory(scrambled());
        // A budget of nothing: one run per finding, 2,000 runs, merged in tiers.
        let mut sorter = FindingSorter::new(0);
        for (finding, contributions) in scrambled() {
            sorter.push(finding, contributions);
            assert!(
                sorter.runs.len() < 3 * FAN_IN,
                "{} runs open",
                sorter.runs.len()
            );
        }
        assert_eq!(sorter.spilled_runs, 2000);
        let lines: Vec<String> = sorter
            .finish()
            .into_vec()
            .unwrap()
            .iter()
            .map(line)
            .collect();
        assert_eq!(lines, expected);
    }

    #[test]
    fn a_truncated_run_is_an_error_not_a_panic() {
        let mut writer = RunWriter::new().unwrap();
        let (finding, contributions) = &scrambled()[1];
        writer.write(finding, contributions).unwrap();
        let mut run = writer.finish().unwrap();
        run.count = 2;
        let results: Vec<_> = SortedFindings::merge_of(Vec::new(), vec![run], 2).collect();
        assert!(results[0].is_ok());
        assert!(matches!(results[1], Err(FindingSpillError::Read(_))));
        assert_eq!(results.len(), 2);
    }
}
