//! The detection run: spread files over worker threads, merge what they found in an order
//! that does not depend on scheduling, then run the stages that need the whole picture
//! (correlation, first-seen baselines) and build the findings.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

use vigil_input::{FileReport, Input, ReadOptions};

use crate::baseline::{self, BaselineStore};
use crate::correlate;
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
}

/// Default memory for correlation observations (see `DetectOptions::correlation_memory_bytes`).
pub const DEFAULT_CORRELATION_MEMORY_BYTES: usize = 128 << 20;

/// Default memory for finding drafts (see `DetectOptions::finding_memory_bytes`).
pub const DEFAULT_FINDING_MEMORY_BYTES: usize = 64 << 20;

impl Default for DetectOptions {
    fn default() -> Self {
        DetectOptions {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            read: ReadOptions::default(),
            samples_per_finding: 5,
            train_until_ms: None,
            keys_per_window: crate::table::DEFAULT_KEYS_PER_WINDOW,
            correlation_memory_bytes: DEFAULT_CORRELATION_MEMORY_BYTES,
            finding_memory_bytes: DEFAULT_FINDING_MEMORY_BYTES,
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
    // Correlations first: their evaluation (the observations, the evidence read back) is the
    // largest transient memory of this stage, and the drafts are smaller than the findings
    // they become (a draft shares its evidence records with the other drafts of an event; a
    // finding holds its own copies).
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
    let first_seen = std::mem::take(&mut merged.first_seen);
    let (baseline_findings, baseline_errors) =
        baseline::first_seen_findings(set, first_seen, options.train_until_ms, baselines);
    findings.extend(baseline_findings);
    let spilled_drafts = merged.drafts.runs.iter().map(|run| run.len()).sum();
    let (standalone, draft_errors) = output::standalone_findings(
        set,
        std::mem::take(&mut merged.drafts),
        options.keys_per_window,
        options.samples_per_finding,
    );
    findings.extend(standalone);
    output::sort_findings(&mut findings);
    merged
        .rejects
        .sort_by(|a, b| (&a.file, a.record).cmp(&(&b.file, b.record)));
    let reports: Vec<FileReport> = reports.into_iter().flatten().collect();
    let totals = Totals {
        spilled_observations,
        spilled_drafts,
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
    use crate::ruleset::RuleSetOptions;

    fn run(correlation_memory_bytes: usize, threads: usize) -> Detection {
        run_with(
            correlation_memory_bytes,
            DEFAULT_FINDING_MEMORY_BYTES,
            threads,
        )
    }

    fn run_with(
        correlation_memory_bytes: usize,
        finding_memory_bytes: usize,
        threads: usize,
    ) -> Detection {
        let set = RuleSet::load(&RuleSetOptions {
            builtin: true,
            ..RuleSetOptions::default()
        });
        let logs = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/incident/logs");
        let inputs = vigil_input::expand(&[logs.to_string()]).unwrap();
        let options = DetectOptions {
            threads,
            correlation_memory_bytes,
            finding_memory_bytes,
            ..DetectOptions::default()
        };
        let mut baselines = crate::MemoryBaselines::default();
        detect(
            &set,
            &inputs,
            &options,
            &mut baselines,
            &Progress::default(),
        )
    }

    fn findings_json(detection: &Detection) -> Vec<String> {
        detection
            .findings()
            .map(|f| serde_json::to_string(f).unwrap())
            .collect()
    }

    #[test]
    fn spilling_correlation_observations_gives_the_same_findings() {
        let in_memory = run(DEFAULT_CORRELATION_MEMORY_BYTES, 1);
        assert_eq!(in_memory.totals.spilled_observations, 0);
        let correlations = in_memory
            .findings()
            .filter(|f| f.rule_kind == vigil_findings::RuleKind::Correlation)
            .count();
        assert!(
            correlations >= 2,
            "the example incident has correlation findings"
        );
        for threads in [1, 2] {
            let spilled = run(0, threads);
            assert!(
                spilled.totals.spilled_observations > 0,
                "a budget of nothing spills"
            );
            assert!(spilled.correlation_errors.is_empty());
            assert_eq!(findings_json(&spilled), findings_json(&in_memory));
        }
    }

    #[test]
    fn spilling_finding_drafts_gives_the_same_findings() {
        let in_memory = run(DEFAULT_CORRELATION_MEMORY_BYTES, 1);
        assert_eq!(in_memory.totals.spilled_drafts, 0);
        assert!(
            in_memory.findings.len() >= 5,
            "the example incident has findings"
        );
        for threads in [1, 2] {
            let spilled = run_with(DEFAULT_CORRELATION_MEMORY_BYTES, 0, threads);
            assert!(
                spilled.totals.spilled_drafts > 0,
                "a budget of nothing spills"
            );
            assert!(spilled.draft_errors.is_empty());
            assert_eq!(findings_json(&spilled), findings_json(&in_memory));
        }
    }
}
