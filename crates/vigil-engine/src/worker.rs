//! One worker's view of one input file: read it, route each event through the index to the
//! rules that could match, and fold matches into a [`Partial`].

use rustc_hash::FxHashMap;
use vigil_event::{Common, Event, FieldLookup, FieldPath, Origin};
use vigil_input::{RecordSink, Reject};

use crate::draft::SampleRecord;
use crate::enrich;
use crate::index::CandidateScratch;
use crate::ruleset::{LoadedRule, RuleSet};
use crate::table::DraftTable;

/// A first-seen observation: the earliest event of this run with `value` for `group`.
#[derive(Debug, Clone)]
pub struct FirstSeenCandidate {
    pub rule: u32,
    pub group: String,
    pub value: String,
    pub time_ms: i64,
    pub origin: Origin,
    pub sample: Option<SampleRecord>,
}

/// What one worker thread found across the files it read — and, once merged, what the
/// whole run found.
#[derive(Default)]
pub struct Partial {
    /// Findings of standalone rules.
    pub drafts: DraftTable,
    /// Correlation observations.
    pub observations: Vec<vigil_correlation::Observation>,
    /// Records of correlated events read from standard input, by origin.
    pub correlation_samples: FxHashMap<Origin, SampleRecord>,
    /// First-seen candidates, earliest per (rule, group, value).
    pub first_seen: FxHashMap<(u32, String, String), FirstSeenCandidate>,
    pub rejects: Vec<Reject>,
    pub evaluated: u64,
    pub matches: u64,
}

impl Partial {
    /// Whether an event at (`time_ms`, `origin`) would be the earliest for `key`.
    fn is_earliest(&self, key: &(u32, String, String), time_ms: i64, origin: &Origin) -> bool {
        self.first_seen
            .get(key)
            .is_none_or(|c| (time_ms, origin) < (c.time_ms, &c.origin))
    }

    /// Merges what another worker found. The result does not depend on the order of merges.
    pub fn absorb(&mut self, other: Partial, keys_per_window: usize, samples: usize) {
        self.evaluated += other.evaluated;
        self.matches += other.matches;
        self.drafts.merge(other.drafts, keys_per_window, samples);
        self.observations.extend(other.observations);
        self.correlation_samples.extend(other.correlation_samples);
        for (key, candidate) in other.first_seen {
            if self.is_earliest(&key, candidate.time_ms, &candidate.origin) {
                self.first_seen.insert(key, candidate);
            }
        }
        self.rejects.extend(other.rejects);
    }
}

/// Reads events of one file into a partial result.
pub struct FileWorker<'a> {
    set: &'a RuleSet,
    scratch: CandidateScratch,
    samples_per_finding: usize,
    keys_per_window: usize,
    /// The dedup key of the current match, reused across matches.
    key: String,
    /// Index of the input being read, which matches are credited to.
    pub input: usize,
    /// Whether the input cannot be read again (standard input), so correlated events keep
    /// their records now.
    pub keep_correlation_records: bool,
    /// Shares the group and value strings of correlation observations.
    interner: vigil_correlation::Interner,
    pub partial: Partial,
}

impl<'a> FileWorker<'a> {
    pub fn new(set: &'a RuleSet, samples_per_finding: usize, keys_per_window: usize) -> Self {
        FileWorker {
            set,
            scratch: CandidateScratch::default(),
            samples_per_finding,
            keys_per_window,
            key: String::new(),
            input: 0,
            keep_correlation_records: false,
            interner: vigil_correlation::Interner::default(),
            partial: Partial::default(),
        }
    }

    fn on_match(&mut self, index: u32, event: &Event) {
        let Some(rule) = self.set.rules.get(index as usize) else {
            return;
        };
        self.partial.matches += 1;
        if self.set.correlations.wants(index as usize) {
            self.observe(index as usize, event);
        }
        if !rule.standalone {
            return;
        }
        match &rule.meta.first_seen {
            Some(first_seen) => self.first_seen(index, first_seen, event),
            None => self.fold(index, rule, event),
        }
    }

    fn fold(&mut self, index: u32, rule: &LoadedRule, event: &Event) {
        let common = event.common();
        dedup_key_into(rule, event, &common, &mut self.key);
        let time = event.time_ms.unwrap_or(0);
        let window_start = time - time.rem_euclid(rule.meta.window_ms.max(1));
        self.partial.drafts.add_match(
            index,
            rule,
            window_start,
            &self.key,
            event,
            &common,
            self.input,
            self.keys_per_window,
            self.samples_per_finding,
        );
    }

    fn observe(&mut self, index: usize, event: &Event) {
        let time = event.time_ms.unwrap_or(0);
        let observations = self.set.correlations.observe_interned(
            index,
            time,
            event,
            &event.origin,
            &mut self.interner,
        );
        // Records of correlated events are read back from their files for the hits that need
        // them (see `correlate.rs`); standard input cannot be read twice, so its records are
        // kept now.
        if !observations.is_empty() && self.keep_correlation_records {
            if let Some(sample) = SampleRecord::of(event) {
                self.partial
                    .correlation_samples
                    .insert(event.origin.clone(), sample);
            }
        }
        self.partial.observations.extend(observations);
    }

    fn first_seen(&mut self, index: u32, spec: &crate::meta::FirstSeen, event: &Event) {
        let Some(value) = scalar_text(event, &spec.field) else {
            return;
        };
        let key = (index, joined(event, &spec.group_by), value);
        let time_ms = event.time_ms.unwrap_or(0);
        // Checked before building the candidate: most events are not the earliest, and the
        // candidate carries the record.
        if !self.partial.is_earliest(&key, time_ms, &event.origin) {
            return;
        }
        let candidate = FirstSeenCandidate {
            rule: index,
            group: key.1.clone(),
            value: key.2.clone(),
            time_ms,
            origin: event.origin.clone(),
            sample: SampleRecord::of(event),
        };
        self.partial.first_seen.insert(key, candidate);
    }
}

impl RecordSink for FileWorker<'_> {
    fn event(&mut self, mut event: Event) {
        self.partial.evaluated += 1;
        if let Some(geo) = &self.set.geo {
            enrich::add_geo(&mut event, geo);
        }
        let set = self.set;
        let mut scratch = std::mem::take(&mut self.scratch);
        for &index in set.index.candidates(&event, &mut scratch) {
            if set.rules[index as usize].rule.matches(&event) {
                self.on_match(index, &event);
            }
        }
        self.scratch = scratch;
    }

    fn reject(&mut self, reject: Reject) {
        self.partial.rejects.push(reject);
    }
}

/// The dedup key of a match, written into `out`: the rule's `dedup` fields, or principal +
/// first resource. The principal of an assumed-role session is its role (the session
/// issuer): every session has its own ARN, and keying on it would make each session of one
/// role a finding of its own.
pub fn dedup_key_into(rule: &LoadedRule, event: &Event, common: &Common<'_>, out: &mut String) {
    out.clear();
    match &rule.meta.dedup {
        Some(fields) => out.push_str(&joined(event, fields)),
        None => {
            let principal = common.principal.issuer.or(common.principal.id());
            out.push_str(principal.unwrap_or("-"));
            out.push('|');
            out.push_str(common.resources.first().copied().unwrap_or("-"));
        }
    }
}

/// The first value of each field as text, joined with `|` (`-` for an absent field).
pub fn joined(event: &Event, fields: &[FieldPath]) -> String {
    let mut out = String::new();
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push('|');
        }
        out.push_str(scalar_text(event, field).as_deref().unwrap_or("-"));
    }
    out
}

/// The virtual field naming who acted, the same way for every session of a role: the role
/// (session issuer) of an assumed-role session, otherwise the principal's ARN, name or key.
/// Usable in `vigil.dedup` and `first_seen` (`field` and `group-by`).
pub const PRINCIPAL_FIELD: &str = "vigil.principal";

/// The first value at `field` as text: strings as they are, other scalars as JSON.
pub fn scalar_text(event: &Event, field: &FieldPath) -> Option<String> {
    use sonic_rs::JsonValueTrait;
    if field.as_str() == PRINCIPAL_FIELD {
        let common = event.common();
        return common
            .principal
            .issuer
            .or(common.principal.id())
            .map(str::to_string);
    }
    let value = event.first(field)?;
    match value.as_str() {
        Some(text) => Some(text.to_string()),
        None if value.is_null() => None,
        None => Some(value.to_string()),
    }
}
