//! Turning drafts into findings, and the result of a run.

use serde_json::value::RawValue;
use vigil_findings::{Finding, IntelMatch, RuleKind, Sample, Severity, Status};
use vigil_input::{FileReport, Input, Reject};

use crate::draft::{Contribution, FindingDraft, SampleRecord};
use crate::draft_spill::DraftMerge;
use crate::finding_spill::SortedFindings;
use crate::ruleset::{LoadedRule, RuleSet};
use crate::table::DraftTable;

/// Contribution input index used for findings derived from the whole run (correlations,
/// first-seen), which belong to no single input.
pub const DERIVED_INPUT: usize = usize::MAX;

/// Counts of a run. Invariant: `records_read == evaluated + rejected`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    pub files: usize,
    pub files_skipped: usize,
    pub files_failed: usize,
    pub records_read: u64,
    pub evaluated: u64,
    pub rejected: u64,
    pub matches: u64,
    /// Correlation observations spilled to temporary files (beyond the memory budget).
    pub spilled_observations: u64,
    /// Finding drafts spilled to temporary files (beyond the memory budget).
    pub spilled_drafts: u64,
    /// Sorted runs of findings spilled to temporary files on their way to the output
    /// (beyond the memory budget).
    pub spilled_finding_runs: u64,
    /// Evidence records of correlation hits read again from their files (those not kept
    /// from the first pass), and the files they were read from.
    pub read_back_records: u64,
    pub read_back_files: u64,
}

impl Totals {
    pub(crate) fn of(reports: &[FileReport], evaluated: u64, matches: u64) -> Totals {
        Totals {
            files: reports.len(),
            files_skipped: reports.iter().filter(|r| r.skipped.is_some()).count(),
            files_failed: reports.iter().filter(|r| r.error.is_some()).count(),
            records_read: reports.iter().map(|r| r.records_read).sum(),
            evaluated,
            rejected: reports.iter().map(|r| r.rejected).sum(),
            matches,
            spilled_observations: 0,
            spilled_drafts: 0,
            spilled_finding_runs: 0,
            read_back_records: 0,
            read_back_files: 0,
        }
    }
}

/// The result of a detection run.
pub struct Detection {
    /// Deduplicated findings, sorted by first seen, rule and id, each with what every input
    /// contributed to it: an iterator that reads them once, from memory and from the
    /// temporary files they were spilled to beyond `DetectOptions::output_memory_bytes`.
    pub findings: SortedFindings,
    pub inputs: Vec<Input>,
    /// One report per input read, in input order.
    pub reports: Vec<FileReport>,
    /// Rejected records, by file and position.
    pub rejects: Vec<Reject>,
    pub totals: Totals,
    /// Baseline store errors (the run still completes; first-seen state may be partial).
    pub baseline_errors: Vec<String>,
    /// Correlation observations that could not be read back from their temporary file (the
    /// run still completes; hits of the lost observations may be missing).
    pub correlation_errors: Vec<String>,
    /// Finding drafts that could not be read back from their temporary file (the run still
    /// completes; the findings of the lost drafts may be missing or short).
    pub draft_errors: Vec<String>,
    /// How long each stage took.
    pub timings: Timings,
}

/// Wall time of each stage of a run: where a slow run spent its time (`vigil detect -vv`,
/// `vigil-bench engine`). The standalone findings are built while the correlations are
/// evaluated and their evidence read back, so those stages overlap.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timings {
    /// The first pass: every input read and every event evaluated, on all threads.
    pub reading: std::time::Duration,
    /// Standalone findings built from the drafts (spilled drafts merged back).
    pub standalone: std::time::Duration,
    /// Correlation observations sorted and evaluated.
    pub correlation: std::time::Duration,
    /// Evidence records of correlation hits read back from their files.
    pub read_back: std::time::Duration,
    /// First-seen baselines checked and updated.
    pub baselines: std::time::Duration,
    /// The findings of every stage sorted (spilled runs written) for the output.
    pub sorting: std::time::Duration,
}

/// Builds the findings of standalone rules and hands each to `emit`; returns the errors of
/// reading spilled drafts back.
pub(crate) fn standalone_findings(
    set: &RuleSet,
    table: DraftTable,
    keys_per_window: usize,
    samples: usize,
    mut emit: impl FnMut(Finding, Vec<Contribution>),
) -> Vec<String> {
    if table.runs.is_empty() {
        for (index, draft, overflow) in table.into_drafts() {
            if let Some(rule) = set.rules.get(index as usize) {
                let (finding, contributions) =
                    finding_from_draft(rule, draft, overflow, keys_per_window);
                emit(finding, contributions);
            }
        }
        return Vec::new();
    }
    let (memory, runs) = table.into_sorted();
    let errors = DraftMerge::new(memory, runs, samples).for_each_final(
        keys_per_window,
        |index, draft, overflow| {
            if let Some(rule) = set.rules.get(index as usize) {
                let (finding, contributions) =
                    finding_from_draft(rule, draft, overflow, keys_per_window);
                emit(finding, contributions);
            }
        },
    );
    errors.iter().map(ToString::to_string).collect()
}

/// The dedup key of the finding that holds a flooding rule's matches beyond the first keys.
pub const OVERFLOW_KEY: &str = "(overflow)";

fn finding_from_draft(
    rule: &LoadedRule,
    mut draft: FindingDraft,
    overflow: bool,
    keys_per_window: usize,
) -> (Finding, Vec<Contribution>) {
    let intel = std::mem::take(&mut draft.intel)
        .into_iter()
        .map(|(field, list, entry)| IntelMatch { field, list, entry })
        .collect::<Vec<_>>();
    let kind = if intel.is_empty() {
        RuleKind::Sigma
    } else {
        RuleKind::ThreatIntel
    };
    let mut finding = base_finding(&RuleInfo::of(rule), kind);
    let key = if overflow {
        OVERFLOW_KEY.to_string()
    } else {
        std::mem::take(&mut draft.dedup_key)
    };
    if overflow {
        finding.description = format!(
            "More than {keys_per_window} distinct principals/resources matched this rule in one \
             window; the matches of all the others are counted in this one finding.\n\n{}",
            finding.description
        );
    }
    finding.id = Finding::stable_id(&rule.id, &key, draft.window_start_ms);
    finding.dedup_key = key;
    finding.window_start_ms = draft.window_start_ms;
    finding.first_seen_ms = draft.first_ms;
    finding.last_seen_ms = draft.last_ms;
    finding.event_count = draft.count;
    finding.intel = intel;
    // In input order: drafts merged from threads and spilled runs list inputs in whatever
    // order they met them.
    let mut contributions = std::mem::take(&mut draft.contributions);
    contributions.sort_unstable_by_key(|c| c.input);
    fill_evidence(&mut finding, draft);
    (finding, contributions)
}

/// Who and what a finding is about, and its evidence records, from the draft of its events.
pub(crate) fn fill_evidence(finding: &mut Finding, draft: FindingDraft) {
    finding.account = draft.subject.account;
    finding.region = draft.subject.region;
    finding.principal = draft.subject.principal;
    finding.resources = draft.resources.into_iter().collect();
    finding.source_ips = draft.source_ips.into_iter().collect();
    finding.log_sources = draft.sources.into_iter().collect();
    finding.samples = draft.samples.iter().filter_map(to_sample).collect();
}

/// What a finding needs to know about the rule that raised it.
pub(crate) struct RuleInfo<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub description: Option<&'a str>,
    pub level: Option<&'a str>,
    pub tags: &'a [String],
    pub runbook: Option<&'a str>,
}

impl<'a> RuleInfo<'a> {
    pub fn of(rule: &'a LoadedRule) -> Self {
        RuleInfo {
            id: &rule.id,
            title: &rule.rule.title,
            description: rule.rule.description.as_deref(),
            level: rule.rule.level.as_deref(),
            tags: &rule.rule.tags,
            runbook: rule.meta.runbook.as_deref(),
        }
    }
}

/// A finding with the rule's fields filled in and everything else empty.
pub(crate) fn base_finding(rule: &RuleInfo<'_>, kind: RuleKind) -> Finding {
    Finding {
        id: String::new(),
        rule_id: rule.id.to_string(),
        rule_title: rule.title.to_string(),
        rule_kind: kind,
        description: rule.description.unwrap_or(rule.title).trim().to_string(),
        severity: rule
            .level
            .and_then(Severity::from_sigma_level)
            .unwrap_or_else(|| Severity::from_score(50)),
        first_seen_ms: 0,
        last_seen_ms: 0,
        window_start_ms: 0,
        event_count: 0,
        dedup_key: String::new(),
        account: None,
        region: None,
        principal: None,
        resources: Vec::new(),
        source_ips: Vec::new(),
        log_sources: Vec::new(),
        tags: rule.tags.to_vec(),
        runbook: rule.runbook.map(str::to_string),
        intel: Vec::new(),
        samples: Vec::new(),
        status: Status::New,
        history: Vec::new(),
    }
}

pub(crate) fn to_sample(record: &SampleRecord) -> Option<Sample> {
    Some(Sample {
        origin: record.origin.to_string(),
        source: record.source,
        time_ms: record.time_ms,
        record: RawValue::from_string(record.json.to_string()).ok()?,
    })
}
