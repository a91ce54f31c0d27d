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
}

impl Default for DetectOptions {
    fn default() -> Self {
        DetectOptions {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            read: ReadOptions::default(),
            samples_per_finding: 5,
            train_until_ms: None,
            keys_per_window: crate::table::DEFAULT_KEYS_PER_WINDOW,
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
    let merged = Mutex::new(Partial::default());
    let reports = Mutex::new(vec![None; inputs.len()]);
    let threads = options.threads.clamp(1, inputs.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..threads {
            // One worker per thread, kept across files: a key seen in many files is one
            // draft per thread, credited to each file it came from.
            scope.spawn(|| {
                let mut worker =
                    FileWorker::new(set, options.samples_per_finding, options.keys_per_window);
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

fn finish(
    set: &RuleSet,
    inputs: &[Input],
    options: &DetectOptions,
    baselines: &mut dyn BaselineStore,
    mut merged: Partial,
    reports: Vec<Option<FileReport>>,
) -> Detection {
    let mut findings = output::standalone_findings(
        set,
        std::mem::take(&mut merged.drafts),
        options.keys_per_window,
    );
    findings.extend(correlate::correlation_findings(
        set,
        std::mem::take(&mut merged.observations),
        &merged.correlation_samples,
        inputs,
        &options.read,
        options.samples_per_finding,
    ));
    let first_seen = std::mem::take(&mut merged.first_seen);
    let (baseline_findings, baseline_errors) =
        baseline::first_seen_findings(set, first_seen, options.train_until_ms, baselines);
    findings.extend(baseline_findings);
    output::sort_findings(&mut findings);
    merged
        .rejects
        .sort_by(|a, b| (&a.file, a.record).cmp(&(&b.file, b.record)));
    let reports: Vec<FileReport> = reports.into_iter().flatten().collect();
    let totals = Totals::of(&reports, merged.evaluated, merged.matches);
    Detection {
        findings,
        inputs: inputs.to_vec(),
        reports,
        rejects: merged.rejects,
        totals,
        baseline_errors,
    }
}
