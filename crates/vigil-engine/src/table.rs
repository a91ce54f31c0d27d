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

use crate::draft::FindingDraft;
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

/// Drafts by (rule index, window start).
#[derive(Debug, Default)]
pub struct DraftTable {
    pub windows: FxHashMap<(u32, i64), WindowDrafts>,
}

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
        let time = event.time_ms.unwrap_or(0);
        if let Some((_, draft)) = window.keyed.get_mut(key) {
            draft.add_event(rule, event, common, samples);
            draft.credit(input, time);
            return;
        }
        let hash = stable_hash(key);
        if window.keyed.len() >= cap && !window.ranks_below_largest(hash, key) {
            // The hot path of a flood: straight into the overflow, no draft of its own.
            match window.overflow.as_mut() {
                Some(overflow) => overflow.add_event(rule, event, common, samples),
                None => {
                    let draft =
                        FindingDraft::new(rule, event, common, key.into(), window_start, samples);
                    window.overflow = Some(draft);
                }
            }
            if let Some(overflow) = window.overflow.as_mut() {
                overflow.credit(input, time);
            }
            return;
        }
        let mut draft =
            FindingDraft::new(rule, event, common, key.to_string(), window_start, samples);
        draft.credit(input, time);
        window.admit(key.into(), hash, draft, cap, samples);
    }

    /// Merges another table (a file's) into this one.
    pub fn merge(&mut self, other: DraftTable, cap: usize, samples: usize) {
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
        let doc =
            sonic_rs::from_str(r#"{"eventName":"X","eventTime":"2026-11-20T10:00:00Z"}"#).unwrap();
        Event::new(LogSource::CloudTrail, doc, Origin::new("f", n))
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
}
