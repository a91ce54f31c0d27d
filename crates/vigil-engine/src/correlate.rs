//! Correlation findings: evaluate the observations of the whole run in time order and turn
//! each hit into a finding whose samples are the contributing events we kept.

use std::time::{Duration, Instant};

use rustc_hash::{FxHashMap, FxHashSet};
use vigil_correlation::{CorrelationHit, Observation, SpillError, SpilledRun};
use vigil_event::{Event, Origin};
use vigil_findings::{Finding, RuleKind};
use vigil_input::{Input, ReadOptions, RecordSink, Reject};
use vigil_intel::GeoDb;

use crate::draft::{Contribution, SampleRecord};
use crate::output::{base_finding, to_sample, RuleInfo, DERIVED_INPUT};
use crate::ruleset::RuleSet;
use crate::run::DetectOptions;

/// The correlation stage of a run: its findings, and what it cost.
#[derive(Default)]
pub(crate) struct Correlated {
    pub findings: Vec<(Finding, Vec<Contribution>)>,
    /// Spilled observations that could not be read back.
    pub errors: Vec<SpillError>,
    /// Sorting and evaluating the observations.
    pub evaluation: Duration,
    /// Reading evidence records back from their files.
    pub read_back: Duration,
    pub read_back_records: u64,
    pub read_back_files: u64,
}

pub(crate) fn correlation_findings(
    set: &RuleSet,
    observations: Vec<Observation>,
    spilled: Vec<SpilledRun>,
    kept: &FxHashMap<Origin, SampleRecord>,
    inputs: &[Input],
    options: &DetectOptions,
) -> Correlated {
    let sample_limit = options.samples_per_finding;
    let mut outcome = Correlated::default();
    if observations.is_empty() && spilled.is_empty() {
        return outcome;
    }
    let started = Instant::now();
    let (hits, errors) = set.correlations.evaluate_spilled(observations, spilled);
    outcome.errors = errors;
    outcome.evaluation = started.elapsed();
    let started = Instant::now();
    let wanted: FxHashSet<&Origin> = hits
        .iter()
        .flat_map(|hit| hit.contributing.iter().take(sample_limit))
        .filter(|origin| !kept.contains_key(*origin))
        .collect();
    let read_back = read_records(
        &wanted,
        inputs,
        &options.read,
        options.threads,
        set.geo.as_ref(),
    );
    outcome.read_back = started.elapsed();
    outcome.read_back_records = wanted.len() as u64;
    outcome.read_back_files = wanted
        .iter()
        .map(|origin| &origin.file)
        .collect::<FxHashSet<_>>()
        .len() as u64;
    outcome.findings = hits
        .into_iter()
        .map(|hit| hit_finding(set, hit, kept, &read_back, sample_limit))
        .collect();
    outcome
}

/// Reads the records at `wanted` back from their files: only the files that hold one, spread
/// over `threads`, and in each only the wanted records are parsed (the others are skipped
/// unparsed). Each is enriched with `geo` as the first pass enriched it, so a record read
/// back is the record the rules saw. A file that changed since is read as it is now; a
/// record that is gone is simply not a sample.
pub(crate) fn read_records(
    wanted: &FxHashSet<&Origin>,
    inputs: &[Input],
    read: &ReadOptions,
    threads: usize,
    geo: Option<&GeoDb>,
) -> FxHashMap<Origin, SampleRecord> {
    let mut by_file: FxHashMap<&str, FxHashSet<u64>> = FxHashMap::default();
    for origin in wanted {
        by_file
            .entry(&origin.file)
            .or_default()
            .insert(origin.record);
    }
    let files: Vec<(&Input, &FxHashSet<u64>)> = inputs
        .iter()
        .filter(|i| matches!(i, Input::File(_)))
        .filter_map(|input| Some((input, by_file.get(input.name().as_ref())?)))
        .collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let found = std::sync::Mutex::new(FxHashMap::default());
    std::thread::scope(|scope| {
        for _ in 0..threads.clamp(1, files.len().max(1)) {
            scope.spawn(|| {
                let mut mine = FxHashMap::default();
                loop {
                    let at = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some((input, records)) = files.get(at) else {
                        break;
                    };
                    let mut sink = RecordPicker {
                        geo,
                        records,
                        last: records.iter().copied().max().unwrap_or(0),
                        found: &mut mine,
                    };
                    let _ = vigil_input::read_input(input, read, &mut sink);
                }
                if let Ok(mut found) = found.lock() {
                    found.extend(mine);
                }
            });
        }
    });
    found
        .into_inner()
        .unwrap_or_else(|poison| poison.into_inner())
}

/// Keeps the events whose record number was asked for.
struct RecordPicker<'a> {
    geo: Option<&'a GeoDb>,
    records: &'a FxHashSet<u64>,
    /// The largest of `records`: the rest of a file past it is not split.
    last: u64,
    found: &'a mut FxHashMap<Origin, SampleRecord>,
}

impl RecordSink for RecordPicker<'_> {
    fn event(&mut self, mut event: Event) {
        if self.records.contains(&event.origin.record) {
            if let Some(geo) = self.geo {
                crate::enrich::add_geo(&mut event, geo);
            }
            if let Some(sample) = SampleRecord::of(&event) {
                self.found.insert(event.origin.clone(), sample);
            }
        }
    }

    fn reject(&mut self, _reject: Reject) {}

    fn is_selective(&self) -> bool {
        true
    }

    fn wants(&self, record: u64) -> bool {
        self.records.contains(&record)
    }

    fn last_wanted(&self) -> Option<u64> {
        Some(self.last)
    }
}

fn hit_finding(
    set: &RuleSet,
    hit: CorrelationHit,
    kept: &FxHashMap<Origin, SampleRecord>,
    read_back: &FxHashMap<Origin, SampleRecord>,
    sample_limit: usize,
) -> (Finding, Vec<Contribution>) {
    let rule = set.correlations.rule(hit.correlation);
    let meta = &set.correlation_meta[hit.correlation];
    let id = rule
        .id
        .clone()
        .or_else(|| rule.name.clone())
        .unwrap_or_else(|| rule.title.clone());
    let info = RuleInfo {
        id: &id,
        title: &rule.title,
        description: rule.description.as_deref(),
        level: rule.level.as_deref(),
        tags: &rule.tags,
        runbook: meta.runbook.as_deref(),
    };
    let mut finding = base_finding(&info, RuleKind::Correlation);
    let dedup_key = hit
        .group
        .iter()
        .map(|(field, value)| format!("{field}={value}"))
        .collect::<Vec<_>>()
        .join("|");
    finding.id = Finding::stable_id(&id, &dedup_key, hit.first_ms);
    finding.dedup_key = dedup_key;
    finding.window_start_ms = hit.first_ms;
    finding.first_seen_ms = hit.first_ms;
    finding.last_seen_ms = hit.last_ms;
    finding.event_count = hit.count;
    let kept: Vec<&SampleRecord> = hit
        .contributing
        .iter()
        .filter_map(|origin| kept.get(origin).or_else(|| read_back.get(origin)))
        .take(sample_limit)
        .collect();
    fill_subject(&mut finding, &kept);
    finding.samples = kept.iter().filter_map(|s| to_sample(s)).collect();
    let contribution = Contribution {
        input: DERIVED_INPUT,
        count: hit.count,
        first_ms: hit.first_ms,
        last_ms: hit.last_ms,
    };
    (finding, vec![contribution])
}

/// Account, region, principal, resources and IPs of a correlation finding come from the
/// contributing events we kept.
fn fill_subject(finding: &mut Finding, samples: &[&SampleRecord]) {
    for sample in samples {
        let Ok(doc) = sonic_rs::from_str::<vigil_event::Value>(&sample.json) else {
            continue;
        };
        let event = vigil_event::Event::new(sample.source, doc, sample.origin.clone());
        let common = event.common();
        finding.log_sources.push(sample.source);
        if finding.account.is_none() {
            finding.account = common.account.map(str::to_string);
            finding.region = common.region.map(str::to_string);
            finding.principal = common.principal.id().map(str::to_string);
        }
        for resource in common.resources {
            push_unique(&mut finding.resources, resource);
        }
        if let Some(ip) = common.source_ip {
            push_unique(&mut finding.source_ips, ip);
        }
    }
    finding.log_sources.sort();
    finding.log_sources.dedup();
}

fn push_unique(list: &mut Vec<String>, value: &str) {
    if list.len() < crate::draft::MAX_LISTED && !list.iter().any(|v| v == value) {
        list.push(value.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ruleset::RuleSetOptions;
    use crate::worker::FileWorker;

    fn incident() -> Vec<Input> {
        let logs = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/incident/logs");
        vigil_input::expand(&[logs.to_string()]).unwrap()
    }

    fn assert_read_back_equal(kept: &FxHashMap<Origin, SampleRecord>, inputs: &[Input]) {
        let read = ReadOptions::default();
        let wanted: FxHashSet<&Origin> = kept.keys().collect();
        for threads in [1, 2] {
            let found = read_records(&wanted, inputs, &read, threads, None);
            assert_eq!(found.len(), wanted.len());
            for (origin, sample) in &found {
                let expected = &kept[origin];
                assert_eq!(sample.json, expected.json, "{origin:?}");
                assert_eq!(sample.time_ms, expected.time_ms);
                assert_eq!(sample.source, expected.source);
            }
        }
    }

    /// Whichever records are wanted (some skipped between them, or none), the read-back finds
    /// exactly the records a full read gives.
    #[test]
    fn records_read_back_equal_those_of_a_full_read() {
        let inputs = incident();
        let mut all = FxHashMap::default();
        for input in &inputs {
            let mut collected = vigil_input::Collected::default();
            vigil_input::read_input(input, &ReadOptions::default(), &mut collected);
            for event in &collected.events {
                all.insert(event.origin.clone(), SampleRecord::of(event).unwrap());
            }
        }
        assert!(all.len() > 20, "{} records", all.len());
        for every in [1, 3, 7] {
            let some: FxHashMap<Origin, SampleRecord> = all
                .iter()
                .filter(|(origin, _)| origin.record % every == 0)
                .map(|(origin, sample)| (origin.clone(), sample.clone()))
                .collect();
            assert_read_back_equal(&some, &inputs);
        }
    }

    /// The records the worker keeps during the first pass (so they need not be read back)
    /// are exactly the records the read-back would find.
    #[test]
    fn records_kept_while_reading_equal_the_records_read_back() {
        let set = RuleSet::load(&RuleSetOptions {
            builtin: true,
            ..RuleSetOptions::default()
        });
        let inputs = incident();
        let mut worker = FileWorker::new(&set, 5, 16);
        worker.observation_budget = 64 << 20;
        for (at, input) in inputs.iter().enumerate() {
            worker.input = at;
            vigil_input::read_input(input, &ReadOptions::default(), &mut worker);
        }
        let kept = &worker.partial.correlation_samples;
        assert!(
            !kept.is_empty(),
            "the incident has groups observed repeatedly"
        );
        assert!(kept.len() < worker.partial.observations.len());
        assert_read_back_equal(kept, &inputs);
    }
}
