//! The detection run: spread files over worker threads, merge what they found in an order
//! that does not depend on scheduling, then run the stages that need the whole picture
//! (correlation, first-seen baselines) and build the findings.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

use vigil_input::{FileReport, Input, ReadOptions};

use crate::baseline::{self, BaselineStore};
use crate::correlate;
use crate::finding_spill::FindingSorter;
use crate::memory::{self, MemoryBudget, DEFAULT_MEMORY_BYTES};
use crate::output::{self, Detection, Totals};
use crate::ruleset::RuleSet;
use crate::worker::{FileWorker, Partial};

/// How to run.
#[derive(Debug, Clone)]
pub struct DetectOptions {
    /// Worker threads (at least 1).
    pub threads: usize,
    /// Input limits.
    pub read: ReadOptions,
    /// Evidence records kept per finding.
    pub samples_per_finding: usize,
    /// Events before this time only train first-seen baselines.
    pub train_until_ms: Option<i64>,
    /// Dedup keys of one rule in one window that get a finding of their own; the matches of
    /// the others are folded into one overflow finding (see `table.rs`).
    pub keys_per_window: usize,
    /// Memory for correlation observations and the strings and groups they share, over all
    /// threads. Beyond it, a worker sorts its
    /// observations and spills them to an anonymous temporary file; evaluation merges them
    /// back (same hits), so memory does not grow with the input.
    pub correlation_memory_bytes: usize,
    /// Memory for finding drafts (each with its evidence records), over all threads. Beyond
    /// it, a worker sorts its drafts and spills them to an anonymous temporary file; the
    /// findings are built while merging them back (same findings), so memory does not grow
    /// with the number of findings while they are aggregated.
    pub finding_memory_bytes: usize,
    /// Memory for the built findings on their way to the output, sorted. Beyond it, the
    /// findings in memory are sorted and spilled to an anonymous temporary file; reading
    /// [`Detection::findings`] merges them back (same order), so a flood of findings reaches
    /// the output and the store without being in memory all at once.
    pub output_memory_bytes: usize,
}

impl Default for DetectOptions {
    /// As many threads as the machine has cores, and the budgets of
    /// [`DEFAULT_MEMORY_BYTES`] for them.
    fn default() -> Self {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        DetectOptions {
            threads,
            read: ReadOptions::default(),
            samples_per_finding: 5,
            train_until_ms: None,
            keys_per_window: crate::table::DEFAULT_KEYS_PER_WINDOW,
            correlation_memory_bytes: 0,
            finding_memory_bytes: 0,
            output_memory_bytes: 0,
        }
        .with_memory(DEFAULT_MEMORY_BYTES)
    }
}

impl DetectOptions {
    /// These options with the budgets of a run of `self.threads` threads within
    /// `total_bytes` ([`MemoryBudget::split`]): set `threads` first.
    pub fn with_memory(self, total_bytes: usize) -> Self {
        let budget = MemoryBudget::split(total_bytes, self.threads);
        DetectOptions {
            correlation_memory_bytes: budget.correlation_bytes,
            finding_memory_bytes: budget.finding_bytes,
            output_memory_bytes: budget.output_bytes,
            ..self
        }
    }
}

/// Live counters a progress display can read while a run goes on.
#[derive(Debug, Default)]
pub struct Progress {
    pub files_done: AtomicUsize,
    pub records: AtomicU64,
}

/// Runs detection over `inputs`.
pub fn detect(
    set: &RuleSet,
    inputs: &[Input],
    options: &DetectOptions,
    baselines: &mut dyn BaselineStore,
    progress: &Progress,
) -> Detection {
    memory::bound_allocator_slack();
    let (merged, reports) = evaluate_files(set, inputs, options, progress);
    finish(set, inputs, options, baselines, merged, reports)
}

fn evaluate_files(
    set: &RuleSet,
    inputs: &[Input],
    options: &DetectOptions,
    progress: &Progress,
) -> (Partial, Vec<Option<FileReport>>) {
    let next = AtomicUsize::new(0);
    let mut first = Partial::default();
    first.drafts.budget_bytes = options.finding_memory_bytes;
    let merged = Mutex::new(first);
    let reports = Mutex::new(vec![None; inputs.len()]);
    let threads = options.threads.clamp(1, inputs.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..threads {
            // One worker per thread, kept across files: a key seen in many files is one
            // draft per thread, credited to each file it came from.
            scope.spawn(|| {
                let mut worker =
                    FileWorker::new(set, options.samples_per_finding, options.keys_per_window);
                worker.observation_budget =
                    observation_budget(options.correlation_memory_bytes, threads);
                worker.partial.drafts.budget_bytes = options.finding_memory_bytes / threads;
                loop {
                    let at = next.fetch_add(1, Ordering::Relaxed);
                    let Some(input) = inputs.get(at) else { break };
                    worker.input = at;
                    worker.keep_correlation_records = matches!(input, Input::Stdin);
                    let report = vigil_input::read_input(input, &options.read, &mut worker);
                    progress
                        .records
                        .fetch_add(report.records_read, Ordering::Relaxed);
                    if let Ok(mut reports) = reports.lock() {
                        reports[at] = Some(report);
                    }
                    progress.files_done.fetch_add(1, Ordering::Relaxed);
                }
                if let Ok(mut merged) = merged.lock() {
                    let (cap, samples) = (options.keys_per_window, options.samples_per_finding);
                    merged.absorb(worker.partial, cap, samples);
                }
            });
        }
    });
    let merged = merged
        .into_inner()
        .unwrap_or_else(|poison| poison.into_inner());
    let reports = reports
        .into_inner()
        .unwrap_or_else(|poison| poison.into_inner());
    (merged, reports)
}

/// How many bytes of observations (with the strings they share) one of `threads` workers
/// keeps in memory before spilling.
fn observation_budget(bytes: usize, threads: usize) -> usize {
    let each = std::mem::size_of::<vigil_correlation::Observation>();
    (bytes / threads.max(1)).max(64 * each)
}

fn finish(
    set: &RuleSet,
    inputs: &[Input],
    options: &DetectOptions,
    baselines: &mut dyn BaselineStore,
    mut merged: Partial,
    reports: Vec<Option<FileReport>>,
) -> Detection {
    // Standalone findings first, into the budgeted sorter: the drafts (up to their budget)
    // are gone before the correlation evaluation, whose transient memory (the observations
    // sorted and merged with their spilled runs, the hits, the evidence read back) is the
    // largest of this stage; the sorter holds at most its own budget meanwhile. The order
    // findings are pushed in does not matter: their sort keys (first seen, rule id, id)
    // differ between stages.
    let mut sorter = FindingSorter::new(options.output_memory_bytes);
    let spilled_drafts = merged.drafts.runs.iter().map(|run| run.len()).sum();
    let draft_errors = output::standalone_findings(
        set,
        std::mem::take(&mut merged.drafts),
        options.keys_per_window,
        options.samples_per_finding,
        |finding, contributions| sorter.push(finding, contributions),
    );
    let spilled_observations = merged.spilled.iter().map(|run| run.len()).sum();
    let (mut findings, spill_errors) = correlate::correlation_findings(
        set,
        std::mem::take(&mut merged.observations),
        std::mem::take(&mut merged.spilled),
        &merged.correlation_samples,
        inputs,
        options,
    );
    merged.correlation_samples = Default::default();
    for (finding, contributions) in findings.drain(..) {
        sorter.push(finding, contributions);
    }
    drop(findings);
    let first_seen = std::mem::take(&mut merged.first_seen);
    let (baseline_findings, baseline_errors) =
        baseline::first_seen_findings(set, first_seen, options.train_until_ms, baselines);
    for (finding, contributions) in baseline_findings {
        sorter.push(finding, contributions);
    }
    let findings = sorter.finish();
    merged
        .rejects
        .sort_by(|a, b| (&a.file, a.record).cmp(&(&b.file, b.record)));
    let reports: Vec<FileReport> = reports.into_iter().flatten().collect();
    let totals = Totals {
        spilled_observations,
        spilled_drafts,
        spilled_finding_runs: findings.spilled_runs(),
        ..Totals::of(&reports, merged.evaluated, merged.matches)
    };
    Detection {
        findings,
        inputs: inputs.to_vec(),
        reports,
        rejects: merged.rejects,
        totals,
        baseline_errors,
        correlation_errors: spill_errors.iter().map(ToString::to_string).collect(),
        draft_errors,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding_spill::FindingItem;
    use crate::ruleset::RuleSetOptions;

    /// Budgets of a test run, in bytes.
    struct Budgets {
        correlation: usize,
        drafts: usize,
        output: usize,
    }

    const DEFAULTS: Budgets = Budgets {
        correlation: 128 << 20,
        drafts: 64 << 20,
        output: 32 << 20,
    };

    /// A run over the example incident: the detection, and its findings read out of it.
    fn run(budgets: Budgets, threads: usize) -> (Detection, Vec<FindingItem>) {
        let set = RuleSet::load(&RuleSetOptions {
            builtin: true,
            ..RuleSetOptions::default()
        });
        let logs = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/incident/logs");
        let inputs = vigil_input::expand(&[logs.to_string()]).unwrap();
        let options = DetectOptions {
            threads,
            correlation_memory_bytes: budgets.correlation,
            finding_memory_bytes: budgets.drafts,
            output_memory_bytes: budgets.output,
            ..DetectOptions::default()
        };
        let mut baselines = crate::MemoryBaselines::default();
        let mut detection = detect(
            &set,
            &inputs,
            &options,
            &mut baselines,
            &Progress::default(),
        );
        let findings = std::mem::take(&mut detection.findings).into_vec().unwrap();
        (detection, findings)
    }

    fn findings_json(findings: &[FindingItem]) -> Vec<String> {
        findings
            .iter()
            .map(|(f, c)| format!("{} {c:?}", serde_json::to_string(f).unwrap()))
            .collect()
    }

    #[test]
    fn spilling_correlation_observations_gives_the_same_findings() {
        let (in_memory, expected) = run(DEFAULTS, 1);
        assert_eq!(in_memory.totals.spilled_observations, 0);
        let correlations = expected
            .iter()
            .filter(|(f, _)| f.rule_kind == vigil_findings::RuleKind::Correlation)
            .count();
        assert!(
            correlations >= 2,
            "the example incident has correlation findings"
        );
        for threads in [1, 2] {
            let budgets = Budgets {
                correlation: 0,
                ..DEFAULTS
            };
            let (spilled, findings) = run(budgets, threads);
            assert!(
                spilled.totals.spilled_observations > 0,
                "a budget of nothing spills"
            );
            assert!(spilled.correlation_errors.is_empty());
            assert_eq!(findings_json(&findings), findings_json(&expected));
        }
    }

    #[test]
    fn spilling_finding_drafts_gives_the_same_findings() {
        let (in_memory, expected) = run(DEFAULTS, 1);
        assert_eq!(in_memory.totals.spilled_drafts, 0);
        assert!(expected.len() >= 5, "the example incident has findings");
        for threads in [1, 2] {
            let budgets = Budgets {
                drafts: 0,
                ..DEFAULTS
            };
            let (spilled, findings) = run(budgets, threads);
            assert!(
                spilled.totals.spilled_drafts > 0,
                "a budget of nothing spills"
            );
            assert!(spilled.draft_errors.is_empty());
            assert_eq!(findings_json(&findings), findings_json(&expected));
        }
    }

    #[test]
    fn streaming_findings_through_spilled_runs_gives_the_same_findings_in_the_same_order() {
        let (in_memory, expected) = run(DEFAULTS, 1);
        assert_eq!(in_memory.totals.spilled_finding_runs, 0);
        let kinds: std::collections::BTreeSet<_> =
            expected.iter().map(|(f, _)| f.rule_kind.as_str()).collect();
        assert!(kinds.len() >= 2, "findings of several stages: {kinds:?}");
        for threads in [1, 2] {
            let budgets = Budgets {
                output: 0,
                drafts: 0,
                ..DEFAULTS
            };
            let (spilled, findings) = run(budgets, threads);
            assert!(
                spilled.totals.spilled_finding_runs >= expected.len() as u64,
                "a budget of nothing spills every finding: {} runs",
                spilled.totals.spilled_finding_runs
            );
            assert_eq!(findings_json(&findings), findings_json(&expected));
        }
    }
}
