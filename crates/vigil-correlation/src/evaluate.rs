//! Evaluation: observations sorted so the result does not depend on input order, one window
//! per (correlation, group), and hits of chained correlations fed to the correlations that
//! reference them.

use std::cmp::Ordering;
use std::sync::Arc;

use vigil_event::FieldPath;

use crate::compiled::Compiled;
use crate::observe::{Group, Text};
use crate::window::{Entry, Window};
use crate::{CorrelationHit, CorrelationSet, Observation};

/// An entry with its group, ordered by group, then time, then origin.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Keyed {
    group: Group,
    entry: Entry,
}

impl From<Observation> for Keyed {
    fn from(observation: Observation) -> Self {
        Keyed {
            group: observation.group,
            entry: Entry {
                time_ms: observation.time_ms,
                origin: observation.origin,
                member: observation.member as usize,
                value: observation.value,
                evidence: None,
            },
        }
    }
}

/// The order observations are evaluated in: by the rank of their correlation in evaluation
/// order (`ranks`, see `CorrelationSet::ranks`), then as [`Keyed`] orders its entries
/// (group, time, origin, member, value). Groups interned by one worker share their
/// allocation, so equal groups usually compare by pointer.
pub(crate) fn evaluation_order(ranks: &[usize], a: &Observation, b: &Observation) -> Ordering {
    let rank = |o: &Observation| {
        ranks
            .get(o.correlation as usize)
            .copied()
            .unwrap_or(usize::MAX)
    };
    rank(a)
        .cmp(&rank(b))
        .then_with(|| compare_groups(&a.group, &b.group))
        .then_with(|| a.time_ms.cmp(&b.time_ms))
        .then_with(|| a.origin.cmp(&b.origin))
        .then_with(|| a.member.cmp(&b.member))
        .then_with(|| a.value.cmp(&b.value))
}

fn compare_groups(a: &Group, b: &Group) -> Ordering {
    if Arc::ptr_eq(a, b) {
        Ordering::Equal
    } else {
        a.cmp(b)
    }
}

impl CorrelationSet {
    /// The hits that are findings of their own ([`CorrelationSet::reports`]): every hit of
    /// [`CorrelationSet::evaluate_all`] except those of correlations only used by others.
    pub fn evaluate(&self, observations: Vec<Observation>) -> Vec<CorrelationHit> {
        let mut hits = self.evaluate_all(observations);
        hits.retain(|hit| self.reports(hit.correlation));
        hits
    }

    /// Every hit of every correlation, intermediate links of chains included, ordered by
    /// firing time, correlation, group. The same observations in any order give the same hits.
    ///
    /// Correlations run in dependency order; each hit of a correlation becomes, at its
    /// `fired_ms`, an observation of every correlation that references it, whose group-by
    /// fields (through its aliases) are looked up among the hit's group-by names. A hit that
    /// lacks one of them does not correlate further.
    ///
    /// The observations are sorted in place and read where they are (no second copy: they
    /// are most of a run's memory); only the hits of chained correlations are added to them.
    pub fn evaluate_all(&self, observations: Vec<Observation>) -> Vec<CorrelationHit> {
        self.evaluate_all_spilled(observations, Vec::new()).0
    }

    /// Evaluates observations that come in evaluation order (see [`evaluation_order`]), or
    /// in an order that differs from it only in the order of groups among themselves (each
    /// group's observations together; see `order::sort_for_evaluation`).
    pub(crate) fn evaluate_sorted(
        &self,
        ranks: &[usize],
        observations: impl Iterator<Item = Observation>,
    ) -> Vec<CorrelationHit> {
        let mut stream = observations.peekable();
        let mut chained: Vec<Vec<Keyed>> = vec![Vec::new(); self.correlations.len()];
        let mut hits = Vec::new();
        for (rank, &index) in self.order.iter().enumerate() {
            let rank_of = |o: &Observation| ranks.get(o.correlation as usize).copied();
            // Nothing sorts before this rank any more; skip what cannot be evaluated.
            while stream
                .next_if(|o| rank_of(o).is_none_or(|r| r < rank))
                .is_some()
            {}
            let (Some(correlation), Some(derived)) =
                (self.correlations.get(index), chained.get_mut(index))
            else {
                continue;
            };
            let mine = std::iter::from_fn(|| stream.next_if(|o| rank_of(o) == Some(rank)));
            let found = if derived.is_empty() {
                evaluate_correlation(index, correlation, mine.map(Keyed::from))
            } else {
                // A chained correlation: its own observations and the hits it builds on,
                // sorted together (hits are few; such a correlation's observations are held).
                let mut pending = std::mem::take(derived);
                pending.extend(mine.map(Keyed::from));
                pending.sort_unstable();
                evaluate_correlation(index, correlation, pending.into_iter())
            };
            for hit in &found {
                for &(dependent, member) in &correlation.dependents {
                    let entry = self.chained_entry(dependent, member, hit);
                    if let (Some(entry), Some(pending)) = (entry, chained.get_mut(dependent)) {
                        pending.push(entry);
                    }
                }
            }
            hits.extend(found);
        }
        hits.sort_by(|a, b| {
            (a.fired_ms, a.correlation, &a.group, a.first_ms).cmp(&(
                b.fired_ms,
                b.correlation,
                &b.group,
                b.first_ms,
            ))
        });
        hits
    }

    /// The entry that `hit` makes for member `member` of correlation `dependent`.
    fn chained_entry(
        &self,
        dependent: usize,
        member: usize,
        hit: &CorrelationHit,
    ) -> Option<Keyed> {
        let fields = self.correlations.get(dependent)?.fields.get(member)?;
        let lookup = |path: &FieldPath| {
            hit.group
                .iter()
                .find(|(name, _)| name == path.as_str())
                .map(|(_, value)| Text::from(value.as_str()))
        };
        let group = fields.group.iter().map(lookup).collect::<Option<Group>>()?;
        let value = match &fields.value {
            Some(path) => Some(lookup(path)?),
            None => None,
        };
        Some(Keyed {
            group,
            entry: Entry {
                time_ms: hit.fired_ms,
                origin: hit.contributing.first()?.clone(),
                member,
                value,
                evidence: Some(hit.contributing.clone().into()),
            },
        })
    }
}

/// Runs the windows of one correlation over its entries, which come sorted (group, then
/// time), one group at a time.
fn evaluate_correlation(
    index: usize,
    correlation: &Compiled,
    entries: impl Iterator<Item = Keyed>,
) -> Vec<CorrelationHit> {
    let group_size = correlation.rule.group_by.len();
    let members = correlation.members.len();
    let counts_values = correlation.counts_values();
    let usable = |keyed: &Keyed| {
        keyed.group.len() == group_size
            && keyed.entry.member < members
            && (!counts_values || keyed.entry.value.is_some())
    };
    let mut hits = Vec::new();
    let mut window = Window::new(index, correlation);
    let mut current: Option<Group> = None;
    for Keyed { group, entry } in entries.filter(usable) {
        if current
            .as_ref()
            .is_none_or(|open| compare_groups(open, &group) != Ordering::Equal)
        {
            if current.is_some() {
                window.finish(&mut hits);
            }
            window.start(Arc::clone(&group));
            current = Some(group);
        }
        window.push(entry);
    }
    if current.is_some() {
        window.finish(&mut hits);
    }
    hits
}

#[cfg(test)]
#[path = "evaluate_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "chain_tests.rs"]
mod chain_tests;
