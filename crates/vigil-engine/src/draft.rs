//! A finding while it is being built: folded from matches on a worker, merged across files
//! in any order with the same result, and turned into a [`vigil_findings::Finding`] at the end.

use std::collections::BTreeSet;
use std::sync::Arc;

use vigil_event::{Common, Event, LogSource, Origin};

use crate::ruleset::LoadedRule;

/// At most this many resources and source IPs are kept per finding (the smallest, so the
/// result does not depend on the order files were read in).
pub const MAX_LISTED: usize = 20;

/// One evidence record kept with a finding. The text is shared: an event that several
/// drafts keep as evidence is serialised and held once (see [`SampleCache`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleRecord {
    pub time_ms: Option<i64>,
    pub origin: Origin,
    pub source: LogSource,
    pub json: Arc<str>,
}

impl SampleRecord {
    /// The event's record as JSON text.
    pub fn of(event: &Event) -> Option<SampleRecord> {
        thread_local! {
            /// The text of the last record, kept for the next: serialised into a buffer that
            /// has room, then copied once into the shared text.
            static TEXT: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        /// A buffer grown past this by a huge record is given back after it.
        const KEPT_BYTES: usize = 1 << 20;
        let json = TEXT.with_borrow_mut(|text| {
            text.clear();
            let json = match event.write_record_json(text) {
                Ok(()) => std::str::from_utf8(text).ok().map(Arc::<str>::from),
                Err(_) => None,
            };
            if text.capacity() > KEPT_BYTES {
                *text = Vec::new();
            }
            json
        })?;
        Some(SampleRecord {
            time_ms: event.time_ms,
            origin: event.origin.clone(),
            source: event.source,
            json,
        })
    }

    fn is_of(&self, event: &Event) -> bool {
        self.origin == event.origin && self.time_ms == event.time_ms && self.source == event.source
    }

    fn order_key(&self) -> (i64, &Origin) {
        (self.time_ms.unwrap_or(i64::MIN), &self.origin)
    }
}

/// The evidence record of the event being folded, made once for all the drafts that keep
/// it: an event matching several rules (11 on average under the flood stress set) would
/// otherwise be serialised, and held, once per draft.
#[derive(Debug, Default)]
pub struct SampleCache {
    last: Option<SampleRecord>,
    /// Bytes of record text made so far (for the drafts' memory estimate).
    pub made_bytes: usize,
}

impl SampleCache {
    /// The sample of `event`, made on the first call for it.
    pub fn sample_of(&mut self, event: &Event) -> Option<SampleRecord> {
        match &self.last {
            Some(last) if last.is_of(event) => Some(last.clone()),
            _ => {
                let sample = SampleRecord::of(event)?;
                self.made_bytes += sample.json.len();
                self.last = Some(sample.clone());
                Some(sample)
            }
        }
    }
}

/// Who/where a finding is about, taken from its earliest event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subject {
    pub account: Option<String>,
    pub region: Option<String>,
    pub principal: Option<String>,
}

/// What one input file contributed to a finding (the store sums these per input).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contribution {
    pub input: usize,
    pub count: u64,
    pub first_ms: i64,
    pub last_ms: i64,
}

/// A finding being aggregated.
#[derive(Debug, Clone)]
pub struct FindingDraft {
    pub dedup_key: String,
    pub window_start_ms: i64,
    pub first_ms: i64,
    pub last_ms: i64,
    pub count: u64,
    pub(crate) earliest: (i64, Origin),
    pub subject: Subject,
    pub resources: BTreeSet<String>,
    pub source_ips: BTreeSet<String>,
    pub sources: BTreeSet<LogSource>,
    pub intel: BTreeSet<(String, String, String)>,
    pub samples: Vec<SampleRecord>,
    pub contributions: Vec<Contribution>,
}

impl FindingDraft {
    /// A draft from its first matching event.
    pub fn new(
        rule: &LoadedRule,
        event: &Event,
        common: &Common<'_>,
        dedup_key: String,
        window_start_ms: i64,
        sample_limit: usize,
    ) -> Self {
        Self::new_sharing(
            rule,
            event,
            common,
            dedup_key,
            window_start_ms,
            sample_limit,
            &mut SampleCache::default(),
        )
    }

    /// Like [`FindingDraft::new`], taking the event's sample from `cache`.
    pub fn new_sharing(
        rule: &LoadedRule,
        event: &Event,
        common: &Common<'_>,
        dedup_key: String,
        window_start_ms: i64,
        sample_limit: usize,
        cache: &mut SampleCache,
    ) -> Self {
        let time = event.time_ms.unwrap_or(0);
        let mut draft = FindingDraft {
            dedup_key,
            window_start_ms,
            first_ms: time,
            last_ms: time,
            count: 0,
            earliest: (i64::MAX, event.origin.clone()),
            subject: Subject::default(),
            resources: BTreeSet::new(),
            source_ips: BTreeSet::new(),
            sources: BTreeSet::new(),
            intel: BTreeSet::new(),
            samples: Vec::new(),
            contributions: Vec::new(),
        };
        draft.add_event_sharing(rule, event, common, sample_limit, cache);
        draft
    }

    /// Folds one more matching event in.
    pub fn add_event(
        &mut self,
        rule: &LoadedRule,
        event: &Event,
        common: &Common<'_>,
        sample_limit: usize,
    ) {
        let mut cache = SampleCache::default();
        self.add_event_sharing(rule, event, common, sample_limit, &mut cache);
    }

    /// Like [`FindingDraft::add_event`], taking the event's sample from `cache`. Returns
    /// about how many bytes the draft grew by (its new sample's text is counted by `cache`).
    pub fn add_event_sharing(
        &mut self,
        rule: &LoadedRule,
        event: &Event,
        common: &Common<'_>,
        sample_limit: usize,
        cache: &mut SampleCache,
    ) -> usize {
        let mut grown = 0;
        let time = event.time_ms.unwrap_or(0);
        self.count += 1;
        self.first_ms = self.first_ms.min(time);
        self.last_ms = self.last_ms.max(time);
        self.sources.insert(event.source);
        if (time, &event.origin) < (self.earliest.0, &self.earliest.1) {
            self.earliest = (time, event.origin.clone());
            self.subject = Subject {
                account: common.account.map(str::to_string),
                region: common.region.map(str::to_string),
                principal: common.principal.id().map(str::to_string),
            };
        }
        for resource in &common.resources {
            grown += add_str(&mut self.resources, resource);
        }
        if let Some(ip) = common.source_ip {
            grown += add_str(&mut self.source_ips, ip);
        }
        if rule.uses_lists {
            for hit in rule.rule.explain(event).intel_hits {
                let bytes = hit.field.len() + hit.list.len() + hit.entry.len() + 96;
                if self.intel.insert((hit.field, hit.list, hit.entry)) {
                    grown += bytes;
                }
            }
        }
        if self.wants_sample(time, &event.origin, sample_limit) {
            if let Some(sample) = cache.sample_of(event) {
                self.push_sample(sample, sample_limit);
                grown += SAMPLE_BYTES;
            }
        }
        grown
    }

    fn wants_sample(&self, time: i64, origin: &Origin, limit: usize) -> bool {
        self.samples.len() < limit
            || self
                .samples
                .last()
                .is_some_and(|last| (time, origin) < last.order_key())
    }

    fn push_sample(&mut self, sample: SampleRecord, limit: usize) {
        let at = self
            .samples
            .partition_point(|s| s.order_key() <= sample.order_key());
        self.samples.insert(at, sample);
        self.samples.dedup_by(|a, b| a.origin == b.origin);
        self.samples.truncate(limit);
    }

    /// Merges another draft of the same finding. The result does not depend on the order of
    /// merges: counts add, times widen, and bounded sets keep their smallest members.
    pub fn merge(&mut self, other: FindingDraft, sample_limit: usize) {
        self.count += other.count;
        self.first_ms = self.first_ms.min(other.first_ms);
        self.last_ms = self.last_ms.max(other.last_ms);
        if (other.earliest.0, &other.earliest.1) < (self.earliest.0, &self.earliest.1) {
            self.earliest = other.earliest;
            self.subject = other.subject;
        }
        add_bounded(&mut self.resources, other.resources);
        add_bounded(&mut self.source_ips, other.source_ips);
        self.sources.extend(other.sources);
        self.intel.extend(other.intel);
        for sample in other.samples {
            self.push_sample(sample, sample_limit);
        }
        for contribution in other.contributions {
            match self
                .contributions
                .iter_mut()
                .find(|c| c.input == contribution.input)
            {
                Some(mine) => {
                    mine.count += contribution.count;
                    mine.first_ms = mine.first_ms.min(contribution.first_ms);
                    mine.last_ms = mine.last_ms.max(contribution.last_ms);
                }
                None => self.contributions.push(contribution),
            }
        }
    }

    /// About how many bytes of memory the draft holds (a sample shared by several drafts
    /// counts a share in each).
    pub fn approx_bytes(&self) -> usize {
        let texts =
            |set: &BTreeSet<String>| set.iter().map(|t| t.len() + LISTED_BYTES).sum::<usize>();
        let samples: usize = self
            .samples
            .iter()
            .map(|s| SAMPLE_BYTES + s.json.len() / Arc::strong_count(&s.json).max(1))
            .sum();
        let intel: usize = self
            .intel
            .iter()
            .map(|(a, b, c)| a.len() + b.len() + c.len() + 96)
            .sum();
        std::mem::size_of::<Self>()
            + self.dedup_key.len()
            + texts(&self.resources)
            + texts(&self.source_ips)
            + samples
            + intel
            + self.contributions.len() * std::mem::size_of::<Contribution>()
    }

    /// Credits one match at `time` to input `input` (a worker reads files one after the other,
    /// so the input is nearly always the last one credited).
    /// Returns the bytes added (a new contribution's).
    pub fn credit(&mut self, input: usize, time: i64) -> usize {
        let found = match self.contributions.last_mut() {
            Some(last) if last.input == input => Some(last),
            _ => self.contributions.iter_mut().find(|c| c.input == input),
        };
        match found {
            Some(contribution) => {
                contribution.count += 1;
                contribution.first_ms = contribution.first_ms.min(time);
                contribution.last_ms = contribution.last_ms.max(time);
                0
            }
            None => {
                self.contributions.push(Contribution {
                    input,
                    count: 1,
                    first_ms: time,
                    last_ms: time,
                });
                std::mem::size_of::<Contribution>()
            }
        }
    }
}

/// What a kept sample costs a draft besides the (shared) record text.
const SAMPLE_BYTES: usize = 64;

/// What a listed string costs besides its text.
const LISTED_BYTES: usize = 48;

/// Adds `item` to a bounded set without allocating when it is already there or would be
/// dropped at once (the hot path of a burst). Returns the bytes added (0 if none).
fn add_str(set: &mut BTreeSet<String>, item: &str) -> usize {
    if set.contains(item) {
        return 0;
    }
    if set.len() >= MAX_LISTED && set.last().is_some_and(|last| item >= last.as_str()) {
        return 0;
    }
    set.insert(item.to_string());
    if set.len() > MAX_LISTED {
        set.pop_last();
    }
    item.len() + LISTED_BYTES
}

fn add_bounded<T: Ord, S: Into<T>>(set: &mut BTreeSet<T>, items: impl IntoIterator<Item = S>) {
    for item in items {
        set.insert(item.into());
        if set.len() > MAX_LISTED {
            set.pop_last();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(time: i64, record: u64) -> SampleRecord {
        SampleRecord {
            time_ms: Some(time),
            origin: Origin::new("f", record),
            source: LogSource::CloudTrail,
            json: "{}".into(),
        }
    }

    fn draft(samples: &[(i64, u64)], resources: &[&str]) -> FindingDraft {
        let mut draft = FindingDraft {
            dedup_key: "k".into(),
            window_start_ms: 0,
            first_ms: samples.iter().map(|s| s.0).min().unwrap_or(0),
            last_ms: samples.iter().map(|s| s.0).max().unwrap_or(0),
            count: samples.len() as u64,
            earliest: (i64::MAX, Origin::new("f", 0)),
            subject: Subject::default(),
            resources: BTreeSet::new(),
            source_ips: BTreeSet::new(),
            sources: BTreeSet::new(),
            intel: BTreeSet::new(),
            samples: Vec::new(),
            contributions: Vec::new(),
        };
        for &(time, record) in samples {
            draft.push_sample(sample(time, record), 3);
        }
        add_bounded(
            &mut draft.resources,
            resources.iter().map(|r| r.to_string()),
        );
        draft
    }

    #[test]
    fn merge_order_does_not_change_the_result() {
        let a = draft(&[(5, 1), (1, 2)], &["b", "a"]);
        let b = draft(&[(3, 3), (9, 4), (2, 5)], &["c"]);
        let mut ab = a.clone();
        ab.merge(b.clone(), 3);
        let mut ba = b;
        ba.merge(a, 3);
        assert_eq!(ab.count, 5);
        assert_eq!((ab.first_ms, ab.last_ms), (1, 9));
        assert_eq!(ab.samples, ba.samples);
        assert_eq!(ab.resources, ba.resources);
        let times: Vec<_> = ab.samples.iter().map(|s| s.time_ms.unwrap()).collect();
        assert_eq!(times, vec![1, 2, 3]);
    }

    #[test]
    fn contributions_of_one_input_combine() {
        let mut a = draft(&[(5, 1)], &[]);
        a.credit(0, 5);
        let mut b = draft(&[(1, 2), (9, 3)], &[]);
        b.credit(0, 1);
        b.credit(0, 9);
        let mut c = draft(&[(4, 4)], &[]);
        c.credit(1, 4);
        a.merge(b, 3);
        a.merge(c, 3);
        let first = &a.contributions[0];
        assert_eq!(
            (first.input, first.count, first.first_ms, first.last_ms),
            (0, 3, 1, 9)
        );
        assert_eq!(a.contributions.len(), 2);
    }

    #[test]
    fn adding_a_string_keeps_the_smallest_without_duplicates() {
        let mut set = BTreeSet::new();
        for i in (0..40).rev() {
            add_str(&mut set, &format!("{i:02}"));
            add_str(&mut set, "05");
        }
        assert_eq!(set.len(), MAX_LISTED);
        assert_eq!(set.last().map(String::as_str), Some("19"));
    }

    #[test]
    fn listed_values_are_bounded_to_the_smallest() {
        let mut set = BTreeSet::new();
        add_bounded(&mut set, (0..50).rev().map(|i| format!("{i:02}")));
        assert_eq!(set.len(), MAX_LISTED);
        assert_eq!(set.first().map(String::as_str), Some("00"));
        assert_eq!(set.last().map(String::as_str), Some("19"));
    }
}
