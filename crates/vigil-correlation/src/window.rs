//! The window of one (correlation, group): entries in time order, the measure the condition
//! is compared with, and suppression after a hit.
//!
//! Two kinds of window, chosen by the condition:
//! - **Sliding** when every bound is a lower bound (`gt`, `gte`; temporal types without a
//!   condition): the window holds the entries of the last `timespan` (an entry stays while
//!   `now - entry.time <= timespan`, so a span of exactly `timespan` fits); the condition is
//!   checked as each entry arrives. On a hit the window is emptied and the hit stays open for
//!   `timespan` after firing: entries of that period are counted into the hit instead of a new
//!   window, so a burst fires once per window.
//! - **Tumbling** otherwise (`lt`, `lte`, `eq`, `neq`, ranges): a window opens at the first
//!   entry and closes `timespan` later; the condition is checked when it closes — when the
//!   group's next entry comes after the window's end, or at the end of input. "Fewer than 3 in
//!   1h" thus fires for a group seen 1 or 2 times in the hour after its first event; a group
//!   never seen has no window and never fires.

use std::collections::VecDeque;
use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};

use vigil_event::Origin;

use crate::compiled::Compiled;
use crate::observe::{Group, Text};
use crate::{CorrelationHit, CorrelationKind};

/// One observation inside a window (the group is the window's).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Entry {
    pub time_ms: i64,
    pub origin: Origin,
    pub member: usize,
    pub value: Option<Text>,
    /// For an entry made from a chained correlation's hit: that hit's evidence.
    pub evidence: Option<Arc<[Origin]>>,
}

impl Entry {
    fn origins(&self) -> &[Origin] {
        match &self.evidence {
            Some(evidence) => evidence,
            None => std::slice::from_ref(&self.origin),
        }
    }
}

/// A hit that suppresses refiring until `until_ms`, absorbing the entries of that time.
struct OpenHit {
    hit: CorrelationHit,
    until_ms: i64,
    values: FxHashSet<Text>,
    members: Vec<bool>,
}

/// The state of one (correlation, group). One window is reused for the groups of a
/// correlation in turn ([`Window::start`]), keeping its allocations.
pub(crate) struct Window<'a> {
    correlation: usize,
    spec: &'a Compiled,
    /// The group-by values; named (`(field, value)` pairs) only when a hit is made.
    group: Group,
    entries: VecDeque<Entry>,
    /// value_count: entries per distinct value in the window.
    values: FxHashMap<Text, u32>,
    /// Entries per member in the window.
    seen: Vec<u32>,
    /// temporal_ordered: per member k, the latest start time of an in-order run through
    /// members 0..=k.
    chain: Vec<Option<i64>>,
    /// Tumbling windows: when the current window opened.
    start_ms: Option<i64>,
    open: Option<OpenHit>,
    hits: Vec<CorrelationHit>,
}

impl<'a> Window<'a> {
    pub(crate) fn new(correlation: usize, spec: &'a Compiled) -> Self {
        let members = spec.members.len();
        Window {
            correlation,
            spec,
            group: Group::from(Vec::new()),
            entries: VecDeque::new(),
            values: FxHashMap::default(),
            seen: vec![0; members],
            chain: vec![None; members],
            start_ms: None,
            open: None,
            hits: Vec::new(),
        }
    }

    /// Adds the group's next entry (entries must come in time order).
    pub(crate) fn push(&mut self, entry: Entry) {
        if self.spec.on_arrival {
            self.push_sliding(entry);
        } else {
            self.push_tumbling(entry);
        }
    }

    /// Starts the window of `group`, empty (after [`Window::finish`] of the previous one).
    pub(crate) fn start(&mut self, group: Group) {
        self.group = group;
        self.clear();
        self.start_ms = None;
        self.open = None;
    }

    /// Ends the group's input: emits the open hit or closes the tumbling window, and moves
    /// the group's hits to `hits`.
    pub(crate) fn finish(&mut self, hits: &mut Vec<CorrelationHit>) {
        self.emit_open();
        self.close();
        hits.append(&mut self.hits);
    }

    fn timespan(&self) -> i64 {
        self.spec.rule.timespan_ms
    }

    fn push_sliding(&mut self, entry: Entry) {
        if let Some(open) = self.open.as_mut() {
            if entry.time_ms <= open.until_ms {
                open.absorb(&entry);
                return;
            }
            self.emit_open();
        }
        let now = entry.time_ms;
        let floor = now.saturating_sub(self.timespan());
        while self.entries.front().is_some_and(|e| e.time_ms < floor) {
            self.pop_front();
        }
        self.insert(entry);
        if self.spec.threshold.holds(self.measure(floor)) {
            let hit = self.hit(now);
            let values = self.values.drain().map(|(value, _)| value).collect();
            let members = self.seen.iter().map(|n| *n > 0).collect();
            self.clear();
            self.open = Some(OpenHit {
                hit,
                until_ms: now.saturating_add(self.timespan()),
                values,
                members,
            });
        }
    }

    fn push_tumbling(&mut self, entry: Entry) {
        let end = self
            .start_ms
            .map(|start| start.saturating_add(self.timespan()));
        if end.is_some_and(|end| entry.time_ms > end) {
            self.close();
        }
        if self.start_ms.is_none() {
            self.start_ms = Some(entry.time_ms);
        }
        self.insert(entry);
    }

    /// Checks the tumbling window's condition and starts afresh.
    fn close(&mut self) {
        let Some(start) = self.start_ms.take() else {
            return;
        };
        if !self.entries.is_empty() && self.spec.threshold.holds(self.measure(start)) {
            let mut hit = self.hit(start.saturating_add(self.timespan()));
            hit.distinct = self.distinct(
                self.values.len(),
                self.seen.iter().filter(|n| **n > 0).count(),
            );
            self.hits.push(hit);
        }
        self.clear();
    }

    fn emit_open(&mut self) {
        if let Some(open) = self.open.take() {
            let members = open.members.iter().filter(|seen| **seen).count();
            let mut hit = open.hit;
            hit.distinct = self.distinct(open.values.len(), members);
            self.hits.push(hit);
        }
    }

    fn distinct(&self, values: usize, members: usize) -> Option<u64> {
        let count = match self.spec.rule.kind {
            CorrelationKind::EventCount => return None,
            CorrelationKind::ValueCount { .. } => values,
            CorrelationKind::Temporal | CorrelationKind::TemporalOrdered => members,
        };
        Some(u64::try_from(count).unwrap_or(u64::MAX))
    }

    /// The number the condition is compared with, counting only what started at or after
    /// `floor`.
    fn measure(&self, floor: i64) -> u64 {
        let measure = match self.spec.rule.kind {
            CorrelationKind::EventCount => self.entries.len(),
            CorrelationKind::ValueCount { .. } => self.values.len(),
            CorrelationKind::Temporal => self.seen.iter().filter(|n| **n > 0).count(),
            CorrelationKind::TemporalOrdered => self
                .chain
                .iter()
                .take_while(|start| start.is_some_and(|start| start >= floor))
                .count(),
        };
        u64::try_from(measure).unwrap_or(u64::MAX)
    }

    fn insert(&mut self, entry: Entry) {
        if let Some(value) = &entry.value {
            *self.values.entry(value.clone()).or_insert(0) += 1;
        }
        if let Some(seen) = self.seen.get_mut(entry.member) {
            *seen += 1;
        }
        self.extend_chain(entry.member, entry.time_ms);
        self.entries.push_back(entry);
    }

    /// An entry of member k continues the latest in-order run through member k-1 (or starts
    /// one, for member 0).
    fn extend_chain(&mut self, member: usize, time_ms: i64) {
        let start = match member.checked_sub(1) {
            None => Some(time_ms),
            Some(previous) => self.chain.get(previous).copied().flatten(),
        };
        if let (Some(start), Some(slot)) = (start, self.chain.get_mut(member)) {
            *slot = Some(slot.map_or(start, |old| old.max(start)));
        }
    }

    fn pop_front(&mut self) {
        let Some(entry) = self.entries.pop_front() else {
            return;
        };
        if let Some(value) = &entry.value {
            if let Some(count) = self.values.get_mut(value) {
                *count -= 1;
                if *count == 0 {
                    self.values.remove(value);
                }
            }
        }
        if let Some(seen) = self.seen.get_mut(entry.member) {
            *seen = seen.saturating_sub(1);
        }
    }

    fn clear(&mut self) {
        self.entries.clear();
        // Clearing a map resets all its capacity; the window is reused for every group.
        if !self.values.is_empty() {
            self.values.clear();
        }
        self.seen.iter_mut().for_each(|n| *n = 0);
        self.chain.iter_mut().for_each(|start| *start = None);
    }

    /// A hit from the entries in the window, decided at `fired_ms`.
    fn hit(&self, fired_ms: i64) -> CorrelationHit {
        let mut hit = CorrelationHit {
            correlation: self.correlation,
            first_ms: self.entries.front().map_or(fired_ms, |e| e.time_ms),
            last_ms: self.entries.back().map_or(fired_ms, |e| e.time_ms),
            fired_ms,
            group: self
                .spec
                .rule
                .group_by
                .iter()
                .zip(self.group.iter())
                .map(|(name, value)| (name.clone(), value.to_string()))
                .collect(),
            count: u64::try_from(self.entries.len()).unwrap_or(u64::MAX),
            distinct: None,
            contributing: Vec::new(),
        };
        for entry in &self.entries {
            hit.add_evidence(entry.origins());
        }
        hit
    }
}

impl OpenHit {
    fn absorb(&mut self, entry: &Entry) {
        self.hit.count = self.hit.count.saturating_add(1);
        self.hit.last_ms = self.hit.last_ms.max(entry.time_ms);
        self.hit.add_evidence(entry.origins());
        if let Some(value) = &entry.value {
            self.values.insert(value.clone());
        }
        if let Some(seen) = self.members.get_mut(entry.member) {
            *seen = true;
        }
    }
}
