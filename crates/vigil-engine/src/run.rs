//! The detection run: spread files over worker threads, merge what they found in an order
//! that does not depend on scheduling, then run the stages that need the whole picture
//! (correlation, first-seen baselines) and build the findings.

use std::panic::resume_unwind;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rustc_hash::FxHashSet;
use vigil_event::Origin;
use vigil_findings::Finding;
use vigil_input::{FileReport, Input, ReadOptions};

use crate::baseline::{self, BaselineStore};
use crate::correlate;
use crate::draft::Contribution;
use crate::finding_spill::FindingSorter;
use crate::memory::{self, MemoryBudget, DEFAULT_MEMORY_BYTES};
use crate::output::{self, Detection, Timings, Totals};
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
    let started = Instant::now();
    let (merged, reports) = evaluate_files(set, inputs, options, progress);
    let reading = started.elapsed();
    finish(set, inputs, options, baselines, merged, reports, reading)
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

/// Standalone findings waiting between the thread that builds them and the one that sorts
/// them.
const STANDALONE_QUEUE: usize = 256;

fn finish(
    set: &RuleSet,
    inputs: &[Input],
    options: &DetectOptions,
    baselines: &mut dyn BaselineStore,
    mut merged: Partial,
    reports: Vec<Option<FileReport>>,
    reading: Duration,
) -> Detection {
    let mut timings = Timings {
        reading,
        ..Timings::default()
    };
    let spilled_drafts = merged.drafts.runs.iter().map(|run| run.len()).sum();
    let spilled_observations = merged.spilled.iter().map(|run| run.len()).sum();
    let drafts = std::mem::take(&mut merged.drafts);
    let observations = std::mem::take(&mut merged.observations);
    let spilled = std::mem::take(&mut merged.spilled);
    let kept = std::mem::take(&mut merged.correlation_samples);
    let first_seen = std::mem::take(&mut merged.first_seen);
    // The stages that need the whole run are independent of each other until their findings
    // are sorted together. On more than one thread they run side by side: the correlations
    // are evaluated (and their evidence read back, on `threads` threads) on a thread of
    // their own, the standalone findings are built from the drafts on another and handed to
    // this one through a short queue (on a flood, merging spilled drafts back and sorting
    // and spilling the findings take about as long each), and this one checks the
    // first-seen baselines and sorts. On one thread, one after the other. The order findings
    // are pushed into the sorter does not matter: their sort keys (first seen, rule id, id)
    // differ between stages. Memory: the drafts shrink as they become findings, which the
    // sorter holds within its own budget; the correlation evaluation sorts the observations
    // in place and adds the hits and the evidence read back.
    let mut sorter = FindingSorter::new(options.output_memory_bytes);
    let standalone = |emit: &mut dyn FnMut(Finding, Vec<Contribution>)| {
        let started = Instant::now();
        let errors = output::standalone_findings(
            set,
            drafts,
            options.keys_per_window,
            options.samples_per_finding,
            emit,
        );
        (errors, started.elapsed())
    };
    let correlations =
        || correlate::correlation_findings(set, observations, spilled, &kept, inputs, options);
    let read_back = |wanted: &FxHashSet<&Origin>| {
        correlate::read_records(
            wanted,
            inputs,
            &options.read,
            options.threads,
            set.geo.as_ref(),
        )
    };
    let started = Instant::now();
    let (correlated, (draft_errors, standalone_time), (baseline_findings, baseline_errors)) =
        if options.threads > 1 {
            std::thread::scope(|scope| {
                let correlations = scope.spawn(correlations);
                let (queue, queued) = std::sync::mpsc::sync_channel(STANDALONE_QUEUE);
                let standalone = scope.spawn(move || {
                    standalone(&mut |finding, contributions| {
                        // The receiving end lives until this thread is joined.
                        let _ = queue.send((finding, contributions));
                    })
                });
                let baseline = baseline::first_seen_findings(
                    set,
                    first_seen,
                    options.train_until_ms,
                    baselines,
                    &read_back,
                );
                timings.baselines = started.elapsed();
                for (finding, contributions) in queued {
                    sorter.push(finding, contributions);
                }
                let standalone = standalone
                    .join()
                    .unwrap_or_else(|panic| resume_unwind(panic));
                let correlated = correlations
                    .join()
                    .unwrap_or_else(|panic| resume_unwind(panic));
                (correlated, standalone, baseline)
            })
        } else {
            let standalone = standalone(&mut |finding, contributions| {
                sorter.push(finding, contributions);
            });
            let correlated = correlations();
            let started = Instant::now();
            let baseline = baseline::first_seen_findings(
                set,
                first_seen,
                options.train_until_ms,
                baselines,
                &read_back,
            );
            timings.baselines = started.elapsed();
            (correlated, standalone, baseline)
        };
    timings.standalone = standalone_time;
    drop(kept);
    timings.correlation = correlated.evaluation;
    timings.read_back = correlated.read_back;
    let started = Instant::now();
    for (finding, contributions) in correlated.findings.into_iter().chain(baseline_findings) {
        sorter.push(finding, contributions);
    }
    let findings = sorter.finish();
    timings.sorting = started.elapsed();
    merged
        .rejects
        .sort_by(|a, b| (&a.file, a.record).cmp(&(&b.file, b.record)));
    let reports: Vec<FileReport> = reports.into_iter().flatten().collect();
    let totals = Totals {
        spilled_observations,
        spilled_drafts,
        spilled_finding_runs: findings.spilled_runs(),
        read_back_records: correlated.read_back_records,
        read_back_files: correlated.read_back_files,
        ..Totals::of(&reports, merged.evaluated, merged.matches)
    };
    tracing::debug!(
        reading = ?timings.reading,
        standalone = ?timings.standalone,
        correlation = ?timings.correlation,
        read_back = ?timings.read_back,
        baselines = ?timings.baselines,
        sorting = ?timings.sorting,
        "detection stages"
    );
    Detection {
        findings,
        inputs: inputs.to_vec(),
        reports,
        rejects: merged.rejects,
        totals,
        baseline_errors,
        correlation_errors: correlated.errors.iter().map(ToString::to_string).collect(),
        draft_errors,
        timings,
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

    /// The stages report their time, and the read-back what it read: a run over the
    /// example incident has correlation findings, so each stage up to the sort took time.
    #[test]
    fn a_run_reports_its_stages_and_its_read_back() {
        for threads in [1, 2] {
            let (detection, findings) = run(DEFAULTS, threads);
            let t = detection.timings;
            assert!(t.reading > Duration::ZERO, "{t:?}");
            assert!(t.standalone > Duration::ZERO, "{t:?}");
            assert!(t.correlation > Duration::ZERO, "{t:?}");
            assert!(t.sorting > Duration::ZERO, "{t:?}");
            let totals = &detection.totals;
            assert!(totals.read_back_files <= totals.read_back_records);
            assert_eq!(totals.read_back_files == 0, totals.read_back_records == 0);
            assert!(!findings.is_empty());
        }
        // With no room for records kept from the first pass, every sample of a correlation
        // finding is read back.
        let budgets = Budgets {
            correlation: 0,
            ..DEFAULTS
        };
        let (detection, findings) = run(budgets, 1);
        let correlation_samples: usize = findings
            .iter()
            .filter(|(f, _)| f.rule_kind == vigil_findings::RuleKind::Correlation)
            .map(|(f, _)| f.samples.len())
            .sum();
        assert!(correlation_samples > 0);
        assert!(detection.totals.read_back_records > 0);
        assert!(detection.totals.read_back_records as usize <= correlation_samples);
        assert!(detection.timings.read_back > Duration::ZERO);
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
