//! First-seen baselines: a value of a field never seen before for a group (a region an
//! account never used, an API a principal never called) after a training period.
//!
//! The run collects, per rule, the earliest event of each (group, value). Those are taken in
//! time order against the values already known — from the store, persisted across runs —
//! and every new value is learned. A new value raises a finding unless it falls inside the
//! training period: before `--train-until`, or within the rule's `training` duration of the
//! first event the rule ever learned from.

use std::collections::{HashMap, HashSet};

use vigil_findings::{Finding, RuleKind};

use crate::draft::{Contribution, FindingDraft};
use crate::output::{base_finding, fill_evidence, RuleInfo, DERIVED_INPUT};
use crate::ruleset::RuleSet;
use crate::worker::FirstSeenCandidate;

/// One known value of a first-seen rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaselineEntry {
    pub group: String,
    pub value: String,
    pub first_ms: i64,
}

/// Where first-seen state lives between runs.
pub trait BaselineStore {
    /// Every value known for `rule_id`.
    fn load(&mut self, rule_id: &str) -> Result<Vec<BaselineEntry>, String>;
    /// Records newly learned values.
    fn insert(&mut self, rule_id: &str, entries: &[BaselineEntry]) -> Result<(), String>;
}

/// A baseline kept in memory only (`--store none`, tests).
#[derive(Debug, Default)]
pub struct MemoryBaselines {
    rules: HashMap<String, Vec<BaselineEntry>>,
}

impl BaselineStore for MemoryBaselines {
    fn load(&mut self, rule_id: &str) -> Result<Vec<BaselineEntry>, String> {
        Ok(self.rules.get(rule_id).cloned().unwrap_or_default())
    }

    fn insert(&mut self, rule_id: &str, entries: &[BaselineEntry]) -> Result<(), String> {
        self.rules
            .entry(rule_id.to_string())
            .or_default()
            .extend_from_slice(entries);
        Ok(())
    }
}

pub(crate) fn first_seen_findings(
    set: &RuleSet,
    candidates: crate::worker::FirstSeenTable,
    train_until_ms: Option<i64>,
    store: &mut dyn BaselineStore,
) -> (Vec<(Finding, Vec<Contribution>)>, Vec<String>) {
    let mut rules: Vec<(u32, Vec<FirstSeenCandidate>)> = candidates
        .into_iter()
        .map(|(rule, by_key)| (rule, by_key.into_values().collect()))
        .collect();
    rules.sort_by_key(|(rule, _)| *rule);
    let mut findings = Vec::new();
    let mut errors = Vec::new();
    for (rule, mut candidates) in rules {
        candidates.sort_by(|a, b| (a.time_ms, &a.origin).cmp(&(b.time_ms, &b.origin)));
        match judge_rule(set, rule, candidates, train_until_ms, store) {
            Ok(found) => findings.extend(found),
            Err(error) => errors.push(error),
        }
    }
    (findings, errors)
}

fn judge_rule(
    set: &RuleSet,
    rule_index: u32,
    candidates: Vec<FirstSeenCandidate>,
    train_until_ms: Option<i64>,
    store: &mut dyn BaselineStore,
) -> Result<Vec<(Finding, Vec<Contribution>)>, String> {
    let Some(rule) = set.rules.get(rule_index as usize) else {
        return Ok(Vec::new());
    };
    let Some(spec) = &rule.meta.first_seen else {
        return Ok(Vec::new());
    };
    let known_entries = store.load(&rule.id)?;
    let training_start = known_entries
        .iter()
        .map(|e| e.first_ms)
        .chain(candidates.first().map(|c| c.time_ms))
        .min()
        .unwrap_or(0);
    let training_end = training_start.saturating_add(spec.training_ms);
    let mut known: HashSet<(String, String)> = known_entries
        .into_iter()
        .map(|e| (e.group, e.value))
        .collect();
    let mut learned = Vec::new();
    let mut fresh = Vec::new();
    for candidate in candidates {
        if !known.insert((candidate.group.clone(), candidate.value.clone())) {
            continue;
        }
        learned.push(BaselineEntry {
            group: candidate.group.clone(),
            value: candidate.value.clone(),
            first_ms: candidate.time_ms,
        });
        let training = candidate.time_ms < training_end
            || train_until_ms.is_some_and(|until| candidate.time_ms < until);
        if !training {
            fresh.push(candidate);
        }
    }
    store.insert(&rule.id, &learned)?;
    Ok(group_new_values(rule, spec, fresh))
}

/// New values of one group within one dedup window are one finding: a principal calling ten
/// APIs it never called in an hour is one burst, not ten alerts.
fn group_new_values(
    rule: &crate::ruleset::LoadedRule,
    spec: &crate::meta::FirstSeen,
    fresh: Vec<FirstSeenCandidate>,
) -> Vec<(Finding, Vec<Contribution>)> {
    let window = rule.meta.window_ms.max(1);
    let mut groups: Vec<((String, i64), Vec<FirstSeenCandidate>)> = Vec::new();
    for candidate in fresh {
        let key = (
            candidate.group.clone(),
            candidate.time_ms - candidate.time_ms.rem_euclid(window),
        );
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push(candidate),
            None => groups.push((key, vec![candidate])),
        }
    }
    groups
        .into_iter()
        .map(|((group, window_start), members)| {
            new_values_finding(rule, spec, &group, window_start, members)
        })
        .collect()
}

fn new_values_finding(
    rule: &crate::ruleset::LoadedRule,
    spec: &crate::meta::FirstSeen,
    group: &str,
    window_start: i64,
    members: Vec<FirstSeenCandidate>,
) -> (Finding, Vec<Contribution>) {
    let mut finding = base_finding(&RuleInfo::of(rule), RuleKind::FirstSeen);
    let dedup_key = format!("{group}|{}", spec.field);
    finding.id = Finding::stable_id(&rule.id, &dedup_key, window_start);
    finding.dedup_key = dedup_key;
    finding.window_start_ms = window_start;
    finding.first_seen_ms = members
        .iter()
        .map(|m| m.time_ms)
        .min()
        .unwrap_or(window_start);
    finding.last_seen_ms = members
        .iter()
        .map(|m| m.time_ms)
        .max()
        .unwrap_or(window_start);
    finding.event_count = members.len() as u64;
    let values: Vec<&str> = members
        .iter()
        .map(|m| m.value.as_str())
        .take(crate::draft::MAX_LISTED)
        .collect();
    finding.description = format!(
        "{}\n\nNew values of {} for {}: {}",
        finding.description,
        spec.field,
        if group.is_empty() { "-" } else { group },
        values.join(", ")
    );
    let mut draft: Option<FindingDraft> = None;
    for member in &members {
        let Some(sample) = &member.sample else {
            continue;
        };
        let Ok(doc) = sonic_rs::from_str::<vigil_event::Value>(&sample.json) else {
            continue;
        };
        let event = vigil_event::Event::new(sample.source, doc, sample.origin.clone());
        match draft.as_mut() {
            Some(draft) => draft.add_event(rule, &event, &event.common(), FIRST_SEEN_SAMPLES),
            None => {
                draft = Some(FindingDraft::new(
                    rule,
                    &event,
                    &event.common(),
                    String::new(),
                    0,
                    FIRST_SEEN_SAMPLES,
                ));
            }
        }
    }
    if let Some(draft) = draft {
        fill_evidence(&mut finding, draft);
    }
    let contribution = Contribution {
        input: DERIVED_INPUT,
        count: finding.event_count,
        first_ms: finding.first_seen_ms,
        last_ms: finding.last_seen_ms,
    };
    (finding, vec![contribution])
}

/// Evidence records kept on a first-seen finding.
const FIRST_SEEN_SAMPLES: usize = 5;
