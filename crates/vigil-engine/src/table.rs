//! Finding drafts of a run (or of one file), grouped by rule and dedup window, with a flood
//! guard: at most `cap` dedup keys of one rule in one window get a finding of their own; the
//! matches of every other key are folded into one overflow finding for that rule and window.
//!
//! Which keys keep their own finding must not depend on the order files are read in, so the
//! choice is a property of the keys: the `cap` keys with the smallest stable hash. A file's
//! table applies the same rule as the run's, so a key evicted from a file's table would be
//! evicted from the run's too, and counts always add up: every match is in exactly one draft.

use rustc_hash::FxHashMap;
use vigil_event::{Common, Event};

use crate::draft::{FindingDraft, SampleCache};
use crate::draft_spill::{write_run, DraftRun, DraftSlot};
use crate::ruleset::LoadedRule;

/// Default number of dedup keys of one rule in one window that get a finding of their own.
pub const DEFAULT_KEYS_PER_WINDOW: usize = 100;

/// The drafts of one rule in one dedup window: by dedup key, each with the key's stable hash
/// (keys are ranked by (hash, key) for the flood guard).
#[derive(Debug, Default)]
pub struct WindowDrafts {
    pub keyed: FxHashMap<Box<str>, (u64, FindingDraft)>,
    pub overflow: Option<FindingDraft>,
    /// The largest kept key once the window is full (recomputed after an eviction).
    largest: Option<(u64, Box<str>)>,
}

/// Drafts by (rule index, window start), in memory up to a budget and beyond it in sorted
/// runs on disk (see `draft_spill.rs`).
#[derive(Debug)]
pub struct DraftTable {
    pub windows: FxHashMap<(u32, i64), WindowDrafts>,
    /// The sample of the last event folded, shared by all the drafts that keep it.
    samples: SampleCache,
    /// Memory the drafts in `windows` may take before they are spilled (`usize::MAX`: never).
    pub budget_bytes: usize,
    /// An estimate of the drafts' memory (counted exactly when it passes the budget).
    approx_bytes: usize,
    /// `samples.made_bytes` when last added to `approx_bytes`.
    samples_counted: usize,
    /// Drafts spilled to temporary files.
    pub runs: Vec<DraftRun>,
}

impl Default for DraftTable {
    fn default() -> Self {
        DraftTable {
            windows: FxHashMap::default(),
            samples: SampleCache::default(),
            budget_bytes: usize::MAX,
            approx_bytes: 0,
            samples_counted: 0,
            runs: Vec::new(),
        }
    }
}

/// What a new draft costs besides its own fields: its key in the table and a table entry.
fn new_draft_bytes(key: &str) -> usize {
    key.len() + DRAFT_ENTRY_BYTES
}

/// What a table entry costs besides the draft and its key.
const DRAFT_ENTRY_BYTES: usize = 64;

/// FNV-1a: a hash that is the same in every build and on every machine, so the keys kept
/// under the flood guard are too.
pub fn stable_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl DraftTable {
    /// Folds one match in.
    #[allow(clippy::too_many_arguments)]
    pub fn add_match(
        &mut self,
        rule_index: u32,
        rule: &LoadedRule,
        window_start: i64,
        key: &str,
        event: &Event,
        common: &Common<'_>,
        input: usize,
        cap: usize,
        samples: usize,
    ) {
        let window = self.windows.entry((rule_index, window_start)).or_default();
        let cache = &mut self.samples;
        let time = event.time_ms.unwrap_or(0);
        if let Some((_, draft)) = window.keyed.get_mut(key) {
            let grown = draft.add_event_sharing(rule, event, common, samples, cache)
                + draft.credit(input, time);
            self.note_growth(grown);
            return;
        }
        let hash = stable_hash(key);
        if window.keyed.len() >= cap && !window.ranks_below_largest(hash, key) {
            // The hot path of a flood: straight into the overflow, no draft of its own.
            let mut grown = 0;
            match window.overflow.as_mut() {
                Some(overflow) => {
                    grown += overflow.add_event_sharing(rule, event, common, samples, cache);
                }
                None => {
                    let draft = FindingDraft::new_sharing(
                        rule,
                        event,
                        common,
                        key.into(),
                        window_start,
                        samples,
                        cache,
                    );
                    grown += draft.approx_bytes();
                    window.overflow = Some(draft);
                }
            }
            if let Some(overflow) = window.overflow.as_mut() {
                grown += overflow.credit(input, time);
            }
            self.note_growth(grown);
            return;
        }
        let mut draft = FindingDraft::new_sharing(
            rule,
            event,
            common,
            key.to_string(),
            window_start,
            samples,
            cache,
        );
        draft.credit(input, time);
        let grown = draft.approx_bytes() + new_draft_bytes(key);
        window.admit(key.into(), hash, draft, cap, samples);
        self.note_growth(grown);
    }

    /// Adds `bytes` and the samples made since to the estimate; past the budget, counts the
    /// drafts and spills them when they take more than three quarters of it (so that a count
    /// near the budget does not repeat on every match).
    fn note_growth(&mut self, bytes: usize) {
        let made = self.samples.made_bytes - self.samples_counted;
        self.samples_counted = self.samples.made_bytes;
        self.approx_bytes += bytes + made;
        if self.approx_bytes <= self.budget_bytes {
            return;
        }
        self.approx_bytes = self.memory_bytes();
        if self.approx_bytes > self.budget_bytes / 4 * 3 {
            self.spill();
        }
    }

    /// About how much memory the drafts in `windows` take.
    pub fn memory_bytes(&self) -> usize {
        self.windows
            .values()
            .flat_map(|w| w.keyed.values().map(|(_, d)| d).chain(&w.overflow))
            .map(|d| d.approx_bytes() + DRAFT_ENTRY_BYTES)
            .sum()
    }

    /// Writes the drafts in memory to a sorted run and empties the table. If that fails (no
    /// temporary directory, disk full), they stay in memory and the budget doubles: the run
    /// goes on.
    pub fn spill(&mut self) {
        let mut drafts = self.slots();
        drafts.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        match write_run(drafts.iter().map(|(slot, draft)| (slot, *draft))) {
            Ok(run) => {
                self.runs.push(run);
                self.windows = FxHashMap::default();
                self.approx_bytes = 0;
            }
            Err(error) => {
                tracing::warn!(%error, "Finding drafts not spilled; kept in memory");
                self.budget_bytes = self.budget_bytes.saturating_mul(2);
            }
        }
    }

    /// Every draft in memory with its slot.
    fn slots(&self) -> Vec<(DraftSlot, &FindingDraft)> {
        let mut out = Vec::new();
        for (&(rule, window_start), window) in &self.windows {
            for (key, (hash, draft)) in &window.keyed {
                let slot = DraftSlot {
                    rule,
                    window_start,
                    overflow: false,
                    hash: *hash,
                    key: key.clone(),
                };
                out.push((slot, draft));
            }
            if let Some(draft) = &window.overflow {
                out.push((overflow_slot(rule, window_start), draft));
            }
        }
        out
    }

    /// The drafts in memory, sorted by slot, and the spilled runs.
    pub fn into_sorted(self) -> (Vec<(DraftSlot, FindingDraft)>, Vec<DraftRun>) {
        let mut drafts = Vec::new();
        for ((rule, window_start), window) in self.windows {
            for (key, (hash, draft)) in window.keyed {
                let slot = DraftSlot {
                    rule,
                    window_start,
                    overflow: false,
                    hash,
                    key,
                };
                drafts.push((slot, draft));
            }
            if let Some(draft) = window.overflow {
                drafts.push((overflow_slot(rule, window_start), draft));
            }
        }
        drafts.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        (drafts, self.runs)
    }

    /// Merges another table (a file's or a worker's) into this one.
    pub fn merge(&mut self, other: DraftTable, cap: usize, samples: usize) {
        self.runs.extend(other.runs);
        let added = other.approx_bytes;
        for (slot, theirs) in other.windows {
            let ours = self.windows.entry(slot).or_default();
            for (key, (hash, draft)) in theirs.keyed {
                match ours.keyed.get_mut(&key) {
                    Some((_, existing)) => existing.merge(draft, samples),
                    None => ours.admit(key, hash, draft, cap, samples),
                }
            }
            if let Some(overflow) = theirs.overflow {
                ours.spill(overflow, samples);
            }
        }
        self.note_growth(added);
    }

    /// Every draft by reference, with whether it is an overflow draft.
    #[cfg(test)]
    fn drafts(&self) -> impl Iterator<Item = (u32, &FindingDraft, bool)> {
        self.windows.iter().flat_map(|((rule, _), window)| {
            let keyed = window.keyed.values().map(move |(_, d)| (*rule, d, false));
            keyed.chain(window.overflow.iter().map(move |d| (*rule, d, true)))
        })
    }

    /// Every draft, with whether it is an overflow draft.
    pub fn into_drafts(self) -> impl Iterator<Item = (u32, FindingDraft, bool)> {
        self.windows.into_iter().flat_map(|((rule, _), window)| {
            let keyed = window
                .keyed
                .into_values()
                .map(move |(_, d)| (rule, d, false));
            keyed.chain(window.overflow.map(|d| (rule, d, true)))
        })
    }
}

fn overflow_slot(rule: u32, window_start: i64) -> DraftSlot {
    DraftSlot {
        rule,
        window_start,
        overflow: true,
        hash: 0,
        key: "".into(),
    }
}

impl WindowDrafts {
    /// Whether (hash, key) ranks below the largest kept key of a full window.
    fn ranks_below_largest(&mut self, hash: u64, key: &str) -> bool {
        if self.largest.is_none() {
            self.largest = self
                .keyed
                .iter()
                .map(|(k, (h, _))| (*h, k))
                .max()
                .map(|(h, k)| (h, k.clone()));
        }
        self.largest
            .as_ref()
            .is_some_and(|(big_hash, big_key)| (hash, key) < (*big_hash, big_key.as_ref()))
    }

    /// Adds a draft for a key not in the table yet, keeping the `cap` smallest keys.
    fn admit(&mut self, key: Box<str>, hash: u64, draft: FindingDraft, cap: usize, samples: usize) {
        if self.keyed.len() < cap {
            self.keyed.insert(key, (hash, draft));
            return;
        }
        if !self.ranks_below_largest(hash, &key) {
            self.spill(draft, samples);
            return;
        }
        if let Some((_, big_key)) = self.largest.take() {
            if let Some((_, evicted)) = self.keyed.remove(&big_key) {
                self.spill(evicted, samples);
            }
        }
        self.keyed.insert(key, (hash, draft));
    }

    fn spill(&mut self, draft: FindingDraft, samples: usize) {
        match self.overflow.as_mut() {
            Some(overflow) => overflow.merge(draft, samples),
            None => self.overflow = Some(draft),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::RuleMeta;
    use vigil_event::{LogSource, Origin};

    fn rule() -> LoadedRule {
        let text = "title: t\nid: r\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  sel:\n    eventName: X\n  condition: sel\n";
        let mut report = vigil_sigma::load_str(text, "t.yml", &vigil_sigma::LoadOptions::default());
        let rule = report.rules.remove(0);
        LoadedRule {
            id: "r".into(),
            uses_lists: false,
            rule,
            meta: RuleMeta::parse(&serde_json::Value::Null).unwrap(),
            standalone: true,
        }
    }

    fn event(n: u64) -> Event {
        let text = format!(
            r#"{{"eventName":"X","eventTime":"2026-11-20T10:{:02}:00Z","sourceIPAddress":"10.0.0.{}","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/u{}"}}}}"#,
            n % 60,
            n % 41,
            n % 7
        );
        let doc = sonic_rs::from_str(&text).unwrap();
        Event::new(LogSource::CloudTrail, doc, Origin::new("f", n))
    }

    /// What a test compares of a final draft: key (`*` for overflow), count, first and last
    /// time, subject, source IPs and sample origins.
    type Summary = (String, u64, i64, i64, Option<String>, Vec<String>, Vec<u64>);

    /// The final drafts of a table, through the merge of its runs when it has any.
    fn finals(table: DraftTable, cap: usize, samples: usize) -> Vec<Summary> {
        let summary = |draft: FindingDraft, overflow: bool| {
            (
                if overflow {
                    "*".into()
                } else {
                    draft.dedup_key
                },
                draft.count,
                draft.first_ms,
                draft.last_ms,
                draft.subject.principal,
                draft.source_ips.into_iter().collect(),
                draft.samples.iter().map(|s| s.origin.record).collect(),
            )
        };
        let mut out = Vec::new();
        if table.runs.is_empty() {
            out.extend(table.into_drafts().map(|(_, d, o)| summary(d, o)));
        } else {
            let (memory, runs) = table.into_sorted();
            let merge = crate::draft_spill::DraftMerge::new(memory, runs, samples);
            let errors = merge.for_each_final(cap, |_, d, o| out.push(summary(d, o)));
            assert!(errors.is_empty(), "{errors:?}");
        }
        out.sort();
        out
    }

    /// Ten files of matches over 30 keys, folded per file then merged in the given order.
    fn run(order: &[usize], cap: usize) -> Vec<(String, u64, bool)> {
        let rule = rule();
        let files: Vec<DraftTable> = (0..10)
            .map(|file| {
                let mut table = DraftTable::default();
                for i in 0..(file * 7 + 3) {
                    let key = format!("key-{}", (file * 13 + i * 5) % 30);
                    let event = event((file * 100 + i) as u64);
                    let common = event.common();
                    table.add_match(0, &rule, 0, &key, &event, &common, file, cap, 2);
                }
                table
            })
            .collect();
        let mut files: Vec<Option<DraftTable>> = files.into_iter().map(Some).collect();
        let mut merged = DraftTable::default();
        for &i in order {
            if let Some(table) = files[i].take() {
                merged.merge(table, cap, 2);
            }
        }
        for (_, draft, _) in merged.drafts() {
            let credited: u64 = draft.contributions.iter().map(|c| c.count).sum();
            assert_eq!(
                credited, draft.count,
                "contributions must add up to the count"
            );
        }
        let mut out: Vec<_> = merged
            .into_drafts()
            .map(|(_, d, overflow)| {
                (
                    if overflow { "*".into() } else { d.dedup_key },
                    d.count,
                    overflow,
                )
            })
            .collect();
        out.sort();
        out
    }

    #[test]
    fn the_flood_guard_keeps_the_same_keys_whatever_the_order() {
        let forward: Vec<usize> = (0..10).collect();
        let backward: Vec<usize> = (0..10).rev().collect();
        let shuffled = [3, 7, 0, 9, 1, 5, 2, 8, 6, 4];
        let a = run(&forward, 8);
        assert_eq!(a, run(&backward, 8));
        assert_eq!(a, run(&shuffled, 8));
        assert_eq!(a.iter().filter(|(_, _, overflow)| !overflow).count(), 8);
        assert_eq!(a.iter().filter(|(_, _, overflow)| *overflow).count(), 1);
    }

    #[test]
    fn every_match_is_counted_exactly_once() {
        let total: u64 = (0..10).map(|file| (file * 7 + 3) as u64).sum();
        for cap in [1, 8, 100] {
            let counted: u64 = run(&(0..10).collect::<Vec<_>>(), cap)
                .iter()
                .map(|(_, n, _)| n)
                .sum();
            assert_eq!(counted, total, "cap {cap}");
        }
        assert!(run(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 100)
            .iter()
            .all(|(_, _, overflow)| !overflow));
    }

    /// Files of matches over many keys and two windows, folded per file into tables with
    /// `budget` bytes each, then merged.
    fn folded(budget: usize, cap: usize) -> DraftTable {
        let rule = rule();
        let mut merged = DraftTable {
            budget_bytes: budget,
            ..DraftTable::default()
        };
        for file in 0..6u64 {
            let mut table = DraftTable {
                budget_bytes: budget,
                ..DraftTable::default()
            };
            for i in 0..400u64 {
                let n = file * 1000 + (i * 37) % 400;
                let key = format!("key-{}", (n * 7) % 90);
                let event = event(n);
                let common = event.common();
                let window = (n % 2) as i64;
                table.add_match(
                    0,
                    &rule,
                    window,
                    &key,
                    &event,
                    &common,
                    file as usize,
                    cap,
                    3,
                );
                assert!(
                    table.memory_bytes() <= budget,
                    "{} bytes in memory over a budget of {budget}",
                    table.memory_bytes()
                );
            }
            merged.merge(table, cap, 3);
        }
        merged
    }

    #[test]
    fn spilled_drafts_give_the_same_drafts_as_in_memory() {
        for cap in [5, 1000] {
            let in_memory = folded(usize::MAX, cap);
            assert!(in_memory.runs.is_empty());
            let expected = finals(in_memory, cap, 3);
            assert!(expected.iter().any(|d| d.0 == "*") == (cap == 5));
            for budget in [0, 4 << 10, 32 << 10] {
                let spilled = folded(budget, cap);
                assert!(!spilled.runs.is_empty(), "budget {budget} spills");
                assert_eq!(
                    finals(spilled, cap, 3),
                    expected,
                    "budget {budget}, cap {cap}"
                );
            }
        }
    }

    #[test]
    fn the_drafts_in_memory_stay_within_the_budget() {
        // `folded` checks the budget after every match; here, that it spills more often
        // with less memory and not at all with enough.
        let runs = |budget| folded(budget, 1000).runs.len();
        assert!(runs(4 << 10) > runs(32 << 10));
        assert!(runs(32 << 10) > 0);
        assert_eq!(runs(64 << 20), 0);
    }
}
