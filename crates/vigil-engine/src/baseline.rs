//! First-seen baselines: a value of a field never seen before for a group (a region an
//! account never used, an API a principal never called) after a training period.
//!
//! The run collects, per rule, the earliest event of each (group, value). Those are taken in
//! time order against the values already known — from the store, persisted across runs —
//! and every new value is learned. A new value raises a finding unless it falls inside the
//! training period: before `--train-until`, or within the rule's `training` duration of the
//! first event the rule ever learned from.

use std::collections::{HashMap, HashSet};

use rustc_hash::{FxHashMap, FxHashSet};
use vigil_event::Origin;
use vigil_findings::{Finding, RuleKind};

use crate::draft::{Contribution, FindingDraft, SampleRecord};
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

/// Reads back the records of events at the given origins (see `correlate::read_records`).
pub(crate) type ReadBack<'a> = dyn Fn(&FxHashSet<&Origin>) -> FxHashMap<Origin, SampleRecord> + 'a;

/// Judges every rule's candidates against its baseline and builds the findings of the new
/// values. The evidence record of a candidate read from a file is not kept while reading
/// (most candidates are learnt, not reported, and a record is ~1.4 KB): the records of the
/// candidates that become findings are read back here, through `read_back`.
pub(crate) fn first_seen_findings(
    set: &RuleSet,
    candidates: crate::worker::FirstSeenTable,
    train_until_ms: Option<i64>,
    store: &mut dyn BaselineStore,
    read_back: &ReadBack<'_>,
) -> (Vec<(Finding, Vec<Contribution>)>, Vec<String>) {
    let mut rules: Vec<(u32, Vec<FirstSeenCandidate>)> = candidates
        .into_iter()
        .map(|(rule, by_key)| (rule, by_key.into_values().collect()))
        .collect();
    rules.sort_by_key(|(rule, _)| *rule);
    let mut fresh_by_rule = Vec::new();
    let mut errors = Vec::new();
    for (rule, mut candidates) in rules {
        candidates.sort_by(|a, b| (a.time_ms, &a.origin).cmp(&(b.time_ms, &b.origin)));
        match judge_rule(set, rule, candidates, train_until_ms, store) {
            Ok(fresh) if !fresh.is_empty() => fresh_by_rule.push((rule, fresh)),
            Ok(_) => {}
            Err(error) => errors.push(error),
        }
    }
    let wanted: FxHashSet<&Origin> = fresh_by_rule
        .iter()
        .flat_map(|(_, fresh)| fresh)
        .filter(|candidate| candidate.sample.is_none())
        .map(|candidate| &candidate.origin)
        .collect();
    let records = if wanted.is_empty() {
        FxHashMap::default()
    } else {
        read_back(&wanted)
    };
    let mut findings = Vec::new();
    for (rule_index, mut fresh) in fresh_by_rule {
        for candidate in &mut fresh {
            // One event may be the first of a new value for several rules.
            if candidate.sample.is_none() {
                candidate.sample = records.get(&candidate.origin).cloned();
            }
        }
        let Some(rule) = set.rules.get(rule_index as usize) else {
            continue;
        };
        if let Some(spec) = &rule.meta.first_seen {
            findings.extend(group_new_values(rule, spec, fresh));
        }
    }
    (findings, errors)
}

/// Learns the new values among `candidates` (in time order) and returns the ones outside
/// the training period: the values to report.
fn judge_rule(
    set: &RuleSet,
    rule_index: u32,
    candidates: Vec<FirstSeenCandidate>,
    train_until_ms: Option<i64>,
    store: &mut dyn BaselineStore,
) -> Result<Vec<FirstSeenCandidate>, String> {
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
    Ok(fresh)
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

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::sync::Arc;

    use super::*;
    use crate::ruleset::RuleSetOptions;
    use crate::worker::FirstSeenTable;

    const RECORD: &str = r#"{"eventVersion":"1.09","eventTime":"2026-11-20T10:00:00Z","eventSource":"ec2.amazonaws.com","eventName":"RunInstances","awsRegion":"ap-southeast-1","recipientAccountId":"111122223333","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/dev"}}"#;

    fn candidate(time_ms: i64, origin: &Origin, sample: bool) -> FirstSeenCandidate {
        FirstSeenCandidate {
            group: "111122223333".to_string(),
            value: "ap-southeast-1".to_string(),
            time_ms,
            origin: origin.clone(),
            sample: sample.then(|| SampleRecord {
                time_ms: Some(time_ms),
                origin: origin.clone(),
                source: vigil_event::LogSource::CloudTrail,
                json: Arc::from(RECORD),
            }),
        }
    }

    /// The records of new values are read back once, for the candidates that became findings
    /// and kept no record; an event that is the first of a new value for two rules gives its
    /// record to both findings.
    #[test]
    fn records_of_new_values_are_read_back_once_for_every_rule_that_needs_them() {
        let set = RuleSet::load(&RuleSetOptions {
            builtin: true,
            ..RuleSetOptions::default()
        });
        let rules: Vec<u32> = (0..set.rules.len() as u32)
            .filter(|&i| set.rules[i as usize].meta.first_seen.is_some())
            .take(2)
            .collect();
        assert_eq!(rules.len(), 2, "the pack has first-seen rules");
        let origin = Origin::new("today.json", 2);
        let learnt = Origin::new("today.json", 1);
        let after_training = 1_000 * 24 * 3_600_000;
        let table = |sample: bool| -> FirstSeenTable {
            rules
                .iter()
                .map(|&rule| {
                    let mut by_key = FxHashMap::default();
                    // Known from the store below: learnt again, never reported.
                    let mut known = candidate(after_training, &learnt, false);
                    known.value = "us-east-1".to_string();
                    by_key.insert("known".into(), known);
                    by_key.insert("new".into(), candidate(after_training, &origin, sample));
                    (rule, by_key)
                })
                .collect()
        };
        let store = || {
            let mut store = MemoryBaselines::default();
            for &rule in &rules {
                let entry = BaselineEntry {
                    group: "111122223333".to_string(),
                    value: "us-east-1".to_string(),
                    first_ms: 0,
                };
                let id = &set.rules[rule as usize].id;
                store.insert(id, &[entry]).unwrap();
            }
            store
        };
        let asked: RefCell<Vec<Vec<Origin>>> = RefCell::default();
        let read_back = |wanted: &FxHashSet<&Origin>| {
            asked
                .borrow_mut()
                .push(wanted.iter().map(|o| (*o).clone()).collect());
            wanted
                .iter()
                .map(|o| (*o).clone())
                .map(|o| {
                    (
                        o.clone(),
                        candidate(after_training, &o, true).sample.unwrap(),
                    )
                })
                .collect()
        };
        let (findings, errors) =
            first_seen_findings(&set, table(false), None, &mut store(), &read_back);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(asked.borrow().as_slice(), [vec![origin.clone()]]);
        assert_eq!(findings.len(), 2);
        for (finding, _) in &findings {
            assert_eq!(finding.samples.len(), 1, "{}", finding.rule_id);
            assert_eq!(finding.samples[0].origin, "today.json:2");
            assert_eq!(finding.account.as_deref(), Some("111122223333"));
        }

        // Records kept while reading (standard input) are not read back.
        asked.borrow_mut().clear();
        let (kept, _) = first_seen_findings(&set, table(true), None, &mut store(), &read_back);
        assert!(asked.borrow().is_empty());
        let samples = |found: &[(Finding, Vec<Contribution>)]| -> Vec<String> {
            found
                .iter()
                .flat_map(|(f, _)| f.samples.iter().map(|s| s.record.get().to_string()))
                .collect()
        };
        assert_eq!(samples(&kept), samples(&findings));
    }
}
