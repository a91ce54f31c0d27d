//! One worker's view of one input file: read it, route each event through the index to the
//! rules that could match, and fold matches into a [`Partial`].

use rustc_hash::FxHashMap;
use vigil_event::{Common, Event, FieldLookup, FieldPath, KeyBuffer, KeyedEvent, Origin};
use vigil_input::{RecordSink, Reject};

use crate::draft::SampleRecord;
use crate::enrich;
use crate::index::CandidateScratch;
use crate::ruleset::{LoadedRule, RuleSet};
use crate::table::DraftTable;

/// A first-seen observation: the earliest event of this run with `value` for `group`.
#[derive(Debug, Clone)]
pub struct FirstSeenCandidate {
    pub group: String,
    pub value: String,
    pub time_ms: i64,
    pub origin: Origin,
    /// The event's record, kept only when its input cannot be read again (standard input).
    pub sample: Option<SampleRecord>,
}

/// First-seen candidates by rule, then by [`first_seen_key`] of (group, value).
pub type FirstSeenTable = FxHashMap<u32, FxHashMap<Box<str>, FirstSeenCandidate>>;

/// The key of a (group, value) pair: the group's length, the group, the value (unambiguous
/// whatever the texts hold), written into `out`.
fn first_seen_key(group: &str, value: &str, out: &mut String) {
    out.clear();
    push_decimal(group.len(), out);
    out.push(':');
    out.push_str(group);
    out.push_str(value);
}

/// Appends `n` in decimal (what `write!(out, "{n}")` writes, without the formatter: this
/// runs for every first-seen match).
fn push_decimal(n: usize, out: &mut String) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = n;
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    for &digit in &digits[at..] {
        out.push(char::from(digit));
    }
}

/// Whether an event at (`time_ms`, `origin`) would be the earliest for `key`.
fn is_earliest(
    candidates: &FxHashMap<Box<str>, FirstSeenCandidate>,
    key: &str,
    time_ms: i64,
    origin: &Origin,
) -> bool {
    candidates
        .get(key)
        .is_none_or(|c| (time_ms, origin) < (c.time_ms, &c.origin))
}

/// What one worker thread found across the files it read — and, once merged, what the
/// whole run found.
#[derive(Default)]
pub struct Partial {
    /// Findings of standalone rules.
    pub drafts: DraftTable,
    /// Correlation observations in memory.
    pub observations: Vec<vigil_correlation::Observation>,
    /// Correlation observations spilled to temporary files beyond the memory budget.
    pub spilled: Vec<vigil_correlation::SpilledRun>,
    /// Records of correlated events read from standard input, by origin.
    pub correlation_samples: FxHashMap<Origin, SampleRecord>,
    /// First-seen candidates, earliest per (rule, group, value).
    pub first_seen: FirstSeenTable,
    pub rejects: Vec<Reject>,
    pub evaluated: u64,
    pub matches: u64,
}

impl Partial {
    /// Merges what another worker found. The result does not depend on the order of merges.
    pub fn absorb(&mut self, other: Partial, keys_per_window: usize, samples: usize) {
        self.evaluated += other.evaluated;
        self.matches += other.matches;
        self.drafts.merge(other.drafts, keys_per_window, samples);
        if self.observations.is_empty() {
            // The first merge moves the vector: observations are most of a run's memory.
            self.observations = other.observations;
        } else {
            self.observations.extend(other.observations);
        }
        self.spilled.extend(other.spilled);
        self.correlation_samples.extend(other.correlation_samples);
        for (rule, theirs) in other.first_seen {
            let ours = self.first_seen.entry(rule).or_default();
            for (key, candidate) in theirs {
                if is_earliest(ours, &key, candidate.time_ms, &candidate.origin) {
                    ours.insert(key, candidate);
                }
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
    /// Whether the input cannot be read again (standard input), so correlated events and
    /// first-seen candidates keep their records now (those of files are read back at the
    /// end of the run, for the findings that need them).
    pub keep_correlation_records: bool,
    /// Shares the group and value strings of correlation observations.
    interner: vigil_correlation::Interner,
    /// Bytes of observations, with the strings and groups they share, kept in memory before
    /// they are spilled to a temporary file.
    pub observation_budget: usize,
    first_seen_buffers: FirstSeenBuffers,
    /// The storage of each event's key table, reused.
    key_buffer: KeyBuffer,
    pub partial: Partial,
    /// Records of correlated events kept from the first pass so that the evidence
    /// read-back has fewer files to read again (see [`RecordCache`]).
    record_cache: RecordCache,
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
            observation_budget: usize::MAX,
            first_seen_buffers: FirstSeenBuffers::default(),
            key_buffer: KeyBuffer::default(),
            partial: Partial::default(),
            record_cache: RecordCache::default(),
        }
    }

    /// Folds a match of rule `index`. `common` holds the event's common fields once a match
    /// needed them, so several matches of one event read them once.
    fn on_match<'e>(
        &mut self,
        index: u32,
        keyed: &KeyedEvent<'e>,
        common: &mut Option<Common<'e>>,
    ) {
        let Some(rule) = self.set.rules.get(index as usize) else {
            return;
        };
        self.partial.matches += 1;
        if self.set.correlations.wants(index as usize) {
            self.observe(index as usize, keyed);
        }
        if !rule.standalone {
            return;
        }
        let event = keyed.event();
        match &rule.meta.first_seen {
            Some(first_seen) => self.first_seen(index, first_seen, keyed, common),
            None => {
                let common = common.get_or_insert_with(|| keyed.common());
                self.fold(index, rule, event, common);
            }
        }
    }

    fn fold(&mut self, index: u32, rule: &LoadedRule, event: &Event, common: &Common<'_>) {
        dedup_key_into(rule, event, common, &mut self.key);
        let time = event.time_ms.unwrap_or(0);
        let window_start = time - time.rem_euclid(rule.meta.window_ms.max(1));
        self.partial.drafts.add_match(
            index,
            rule,
            window_start,
            &self.key,
            event,
            common,
            self.input,
            self.keys_per_window,
            self.samples_per_finding,
        );
    }

    fn observe(&mut self, index: usize, keyed: &KeyedEvent<'_>) {
        let event = keyed.event();
        let time = event.time_ms.unwrap_or(0);
        let before = self.partial.observations.len();
        let added = self.set.correlations.observe_into(
            index,
            time,
            keyed,
            &event.origin,
            &mut self.interner,
            &mut self.partial.observations,
        );
        if added == 0 {
            return;
        }
        // Records of correlated events are read back from their files for the hits that need
        // them (see `correlate.rs`); standard input cannot be read twice, so its records are
        // kept now. Of the others, those of groups seen before are kept while they fit
        // (`RecordCache`: on the 100k-record corpus, 44 files read back instead of 118; on
        // 1M records it fills early and saves little). A record kept here is exactly the
        // one the read-back gives: both are enriched alike.
        if self.keep_correlation_records {
            if let Some(sample) = SampleRecord::of(event) {
                self.partial
                    .correlation_samples
                    .insert(event.origin.clone(), sample);
            }
        } else {
            let new = self.partial.observations.get(before..).unwrap_or_default();
            let mut seen = false;
            for observation in new {
                seen |= self
                    .record_cache
                    .seen_before(observation.correlation, observation.group_hash());
            }
            if seen {
                let share = self.observation_budget / RecordCache::BUDGET_SHARE;
                self.record_cache
                    .keep(event, share, &mut self.partial.correlation_samples);
            }
        }
        if self.observation_bytes() >= self.observation_budget {
            // The kept records are only a cache: they go first.
            self.record_cache
                .clear(&mut self.partial.correlation_samples);
            if self.observation_bytes() >= self.observation_budget {
                self.spill();
            }
        }
    }

    /// The memory the observations in memory hold: their own size, the strings and groups
    /// they share through the interner, and the records kept for the read-back.
    fn observation_bytes(&self) -> usize {
        self.partial.observations.len() * std::mem::size_of::<vigil_correlation::Observation>()
            + self.interner.memory_bytes()
            + self.record_cache.bytes()
    }

    /// Moves the observations in memory to a temporary file. If that fails (no temporary
    /// directory, disk full), they stay in memory and the budget grows: the run goes on.
    fn spill(&mut self) {
        match self.set.correlations.spill(&mut self.partial.observations) {
            Ok(run) => self.partial.spilled.push(run),
            Err(error) => {
                tracing::warn!(%error, "Correlation observations not spilled; kept in memory");
                self.observation_budget = self.observation_budget.saturating_mul(2);
            }
        }
        // A fresh interner: the spilled observations no longer need the strings.
        self.interner = vigil_correlation::Interner::default();
    }

    /// Folds a match of the first-seen rule `index`: keeps the event if it is the earliest
    /// of this run for its (group, value). Fields are read through the keyed event, and
    /// [`PRINCIPAL_FIELD`] from the event's common fields shared with the other matches.
    fn first_seen<'e>(
        &mut self,
        index: u32,
        spec: &crate::meta::FirstSeen,
        keyed: &KeyedEvent<'e>,
        common: &mut Option<Common<'e>>,
    ) {
        // Built in reused buffers: most events are not the earliest for their key, so the
        // common case allocates nothing.
        let FirstSeenBuffers { group, value, key } = &mut self.first_seen_buffers;
        value.clear();
        if !field_text_into(keyed, common, &spec.field, value) {
            return;
        }
        group.clear();
        for (i, field) in spec.group_by.iter().enumerate() {
            if i > 0 {
                group.push('|');
            }
            if !field_text_into(keyed, common, field, group) {
                group.push('-');
            }
        }
        first_seen_key(group, value, key);
        let event = keyed.event();
        let time_ms = event.time_ms.unwrap_or(0);
        let candidates = self.partial.first_seen.entry(index).or_default();
        if !is_earliest(candidates, key, time_ms, &event.origin) {
            return;
        }
        // Most candidates are learnt, not reported: the record of one read from a file is
        // read back if it becomes a finding (`baseline::first_seen_findings`).
        let sample = if self.keep_correlation_records {
            SampleRecord::of(event)
        } else {
            None
        };
        let candidate = FirstSeenCandidate {
            group: group.clone(),
            value: value.clone(),
            time_ms,
            origin: event.origin.clone(),
            sample,
        };
        candidates.insert(key.as_str().into(), candidate);
    }
}

/// Records of correlated file events kept during the first pass, so that the evidence
/// read-back at the end of the run reads fewer files again. Which observations will be the
/// samples of a hit is only known once every observation is in; but hits come from groups
/// with many observations and most groups have one, so the records of groups this worker has
/// seen before are kept, in `Partial::correlation_samples` (which the read-back consults
/// first), up to a share of the observation budget. The bytes are counted in that budget;
/// when it is reached the cache is emptied first, then the observations spilled as before.
/// Keeping more or fewer records changes which records are read back, never the findings.
#[derive(Default)]
struct RecordCache {
    /// One bit per hash of (correlation, group): set once a group was seen. A collision only
    /// keeps a record that was not needed.
    seen: Vec<u64>,
    /// The origins kept, to remove them again from the shared map.
    kept: Vec<Origin>,
    /// Bytes kept: record text, origins and map entries.
    bytes: usize,
    /// No more records are kept once the share was reached or the cache emptied.
    closed: bool,
}

impl RecordCache {
    /// Bits of the seen-groups filter (512 KiB): few false positives for hundreds of
    /// thousands of groups.
    const SEEN_BITS: usize = 1 << 22;
    /// The cache may take up to 1/`BUDGET_SHARE` of the observation budget: 13 MiB of the
    /// default 106 MiB on one thread. More would keep more (a half keeps nearly every record
    /// the 100k corpus needs) but raised the peak RSS of 1M records on two threads from 220
    /// to 285 MiB, over the 256 MiB target: the budget is full there already.
    const BUDGET_SHARE: usize = 8;

    /// Whether (correlation, group) was seen before; marks it seen.
    fn seen_before(&mut self, correlation: u32, group_hash: u64) -> bool {
        if self.closed {
            return false;
        }
        if self.seen.is_empty() {
            self.seen = vec![0; Self::SEEN_BITS / 64];
            self.bytes += Self::SEEN_BITS / 8;
        }
        let mixed = (group_hash ^ u64::from(correlation).wrapping_mul(0x9e37_79b9_7f4a_7c15))
            .wrapping_mul(0xff51_afd7_ed55_8ccd);
        let bit = (mixed >> 40) as usize % Self::SEEN_BITS;
        let (word, mask) = (bit / 64, 1u64 << (bit % 64));
        let Some(slot) = self.seen.get_mut(word) else {
            return false;
        };
        let seen = *slot & mask != 0;
        *slot |= mask;
        seen
    }

    /// Keeps the record of `event` in `samples` unless the cache would exceed `share` bytes
    /// (then it closes).
    fn keep(&mut self, event: &Event, share: usize, samples: &mut FxHashMap<Origin, SampleRecord>) {
        if self.closed || samples.contains_key(&event.origin) {
            return;
        }
        let Some(sample) = SampleRecord::of(event) else {
            return;
        };
        let bytes = sample.json.len()
            + std::mem::size_of::<SampleRecord>()
            + 2 * std::mem::size_of::<Origin>()
            + 16;
        if self.bytes + bytes > share {
            self.closed = true;
            return;
        }
        self.bytes += bytes;
        self.kept.push(event.origin.clone());
        samples.insert(event.origin.clone(), sample);
    }

    /// Removes every record kept from `samples`, frees the cache and closes it.
    fn clear(&mut self, samples: &mut FxHashMap<Origin, SampleRecord>) {
        if self.bytes == 0 && self.closed {
            return;
        }
        for origin in self.kept.drain(..) {
            samples.remove(&origin);
        }
        self.kept = Vec::new();
        self.seen = Vec::new();
        self.bytes = 0;
        self.closed = true;
    }

    fn bytes(&self) -> usize {
        self.bytes
    }
}

/// Like [`scalar_text_into`], reading `field` through `keyed` and [`PRINCIPAL_FIELD`] from
/// `common` (filled on first use).
fn field_text_into<'e>(
    keyed: &KeyedEvent<'e>,
    common: &mut Option<Common<'e>>,
    field: &FieldPath,
    out: &mut String,
) -> bool {
    if field.as_str() == PRINCIPAL_FIELD {
        let common = common.get_or_insert_with(|| keyed.common());
        return match common.principal.issuer.or(common.principal.id()) {
            Some(principal) => {
                out.push_str(principal);
                true
            }
            None => false,
        };
    }
    value_text_into(keyed.first(field), out)
}

/// Reused text buffers of the first-seen stage.
#[derive(Default)]
struct FirstSeenBuffers {
    group: String,
    value: String,
    key: String,
}

impl RecordSink for FileWorker<'_> {
    fn event(&mut self, mut event: Event) {
        self.partial.evaluated += 1;
        if let Some(geo) = &self.set.geo {
            enrich::add_geo(&mut event, geo);
        }
        let set = self.set;
        let mut scratch = std::mem::take(&mut self.scratch);
        let keyed = KeyedEvent::new_in(&event, std::mem::take(&mut self.key_buffer));
        let mut common = None;
        let mut memo = vigil_sigma::EventMemo::new(&keyed);
        for &index in set.index.candidates_of(event.source, &keyed, &mut scratch) {
            if set.rules[index as usize].rule.matches_in(&mut memo) {
                self.on_match(index, &keyed, &mut common);
            }
        }
        self.scratch = scratch;
        drop(memo);
        self.key_buffer = keyed.into_buffer();
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
        Some(fields) => joined_into(event, fields, out),
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
    joined_into(event, fields, &mut out);
    out
}

/// Like [`joined`], written into `out` (cleared first).
pub fn joined_into(event: &Event, fields: &[FieldPath], out: &mut String) {
    out.clear();
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push('|');
        }
        if !scalar_text_into(event, field, out) {
            out.push('-');
        }
    }
}

/// The virtual field naming who acted, the same way for every session of a role: the role
/// (session issuer) of an assumed-role session, otherwise the principal's ARN, name or key.
/// Usable in `vigil.dedup` and `first_seen` (`field` and `group-by`).
pub const PRINCIPAL_FIELD: &str = "vigil.principal";

/// The first value at `field` as text: strings as they are, other scalars as JSON.
pub fn scalar_text(event: &Event, field: &FieldPath) -> Option<String> {
    let mut out = String::new();
    scalar_text_into(event, field, &mut out).then_some(out)
}

/// Like [`scalar_text`], appending the text to `out`; false (and nothing appended) when the
/// field is absent or null.
pub fn scalar_text_into(event: &Event, field: &FieldPath, out: &mut String) -> bool {
    if field.as_str() == PRINCIPAL_FIELD {
        let common = event.common();
        return match common.principal.issuer.or(common.principal.id()) {
            Some(principal) => {
                out.push_str(principal);
                true
            }
            None => false,
        };
    }
    value_text_into(event.first(field), out)
}

/// Appends `value` as text (strings as they are, other scalars as JSON); false (and nothing
/// appended) when it is absent or null.
fn value_text_into(value: Option<&vigil_event::Value>, out: &mut String) -> bool {
    use sonic_rs::JsonValueTrait;
    let Some(value) = value else {
        return false;
    };
    match value.as_str() {
        Some(text) => out.push_str(text),
        None if value.is_null() => return false,
        None => {
            use std::fmt::Write;
            let _ = write!(out, "{value}");
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(record: u64, text: &str) -> Event {
        let doc = sonic_rs::from_str(&format!(r#"{{"eventName":"X","pad":"{text}"}}"#)).unwrap();
        let origin = Origin {
            file: "f.json".into(),
            record,
        };
        Event::new(vigil_event::LogSource::CloudTrail, doc, origin)
    }

    #[test]
    fn the_record_cache_keeps_within_its_share_and_empties_to_what_it_found() {
        let mut samples = FxHashMap::default();
        // A record kept for another reason (standard input) is not the cache's to remove.
        let other = event(1_000, "stdin");
        samples.insert(other.origin.clone(), SampleRecord::of(&other).unwrap());
        let mut cache = RecordCache::default();
        assert!(!cache.seen_before(0, 42));
        assert!(cache.seen_before(0, 42));
        assert!(!cache.seen_before(1, 42), "another correlation");
        assert!(!cache.seen_before(0, 43), "another group");
        let share = cache.bytes() + 20 * 1024;
        for record in 1..=200 {
            cache.keep(&event(record, &"x".repeat(500)), share, &mut samples);
            assert!(cache.bytes() <= share, "{} > {share}", cache.bytes());
        }
        let kept = samples.len() - 1;
        assert!((10..200).contains(&kept), "kept {kept}");
        for (origin, sample) in &samples {
            assert_eq!(sample.origin, *origin);
        }
        // Closed once full: nothing more is kept, even what would fit.
        cache.keep(&event(500, ""), usize::MAX, &mut samples);
        assert_eq!(samples.len(), kept + 1);
        cache.clear(&mut samples);
        assert_eq!(cache.bytes(), 0);
        assert_eq!(samples.len(), 1);
        assert!(samples.contains_key(&other.origin));
        assert!(
            !cache.seen_before(0, 42),
            "an emptied cache keeps nothing more"
        );
    }

    #[test]
    fn first_seen_keys_are_written_as_before() {
        let mut key = String::new();
        for (group, value) in [("", ""), ("111122223333", "us-east-1"), ("a|b", "x")] {
            first_seen_key(group, value, &mut key);
            assert_eq!(key, format!("{}:{group}{value}", group.len()));
        }
        for n in [0, 7, 10, 99, 100, 12_345, usize::MAX] {
            let mut out = String::from("x");
            push_decimal(n, &mut out);
            assert_eq!(out, format!("x{n}"));
        }
        // The length prefix keeps (group, value) pairs apart that concatenate alike.
        let mut other = String::new();
        first_seen_key("ab", "c", &mut key);
        first_seen_key("a", "bc", &mut other);
        assert_ne!(key, other);
    }
}
