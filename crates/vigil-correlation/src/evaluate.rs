//! Evaluation: observations sorted so the result does not depend on input order, one window
//! per (correlation, group), and hits of chained correlations fed to the correlations that
//! reference them.

use vigil_event::FieldPath;

use crate::compiled::Compiled;
use crate::observe::Text;
use crate::window::{Entry, Window};
use crate::{CorrelationHit, CorrelationSet, Observation};

/// An entry with its group, ordered by group, then time, then origin.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Keyed {
    group: Box<[Text]>,
    entry: Entry,
}

impl From<Observation> for Keyed {
    fn from(observation: Observation) -> Self {
        Keyed {
            group: observation.group,
            entry: Entry {
                time_ms: observation.time_ms,
                origin: observation.origin,
                member: observation.member,
                value: observation.value,
                evidence: None,
            },
        }
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
    pub fn evaluate_all(&self, observations: Vec<Observation>) -> Vec<CorrelationHit> {
        let mut inbox: Vec<Vec<Keyed>> = vec![Vec::new(); self.correlations.len()];
        for observation in observations {
            if let Some(pending) = inbox.get_mut(observation.correlation) {
                pending.push(Keyed::from(observation));
            }
        }
        let mut hits = Vec::new();
        for &index in &self.order {
            let (Some(correlation), Some(pending)) =
                (self.correlations.get(index), inbox.get_mut(index))
            else {
                continue;
            };
            let found = evaluate_correlation(index, correlation, std::mem::take(pending));
            for hit in &found {
                for &(dependent, member) in &correlation.dependents {
                    let derived = self.chained_entry(dependent, member, hit);
                    if let (Some(derived), Some(pending)) = (derived, inbox.get_mut(dependent)) {
                        pending.push(derived);
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
        let group = fields
            .group
            .iter()
            .map(lookup)
            .collect::<Option<Box<[_]>>>()?;
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

/// Runs the windows of one correlation over its entries, one group at a time.
fn evaluate_correlation(
    index: usize,
    correlation: &Compiled,
    mut pending: Vec<Keyed>,
) -> Vec<CorrelationHit> {
    let group_size = correlation.rule.group_by.len();
    let members = correlation.members.len();
    let counts_values = correlation.counts_values();
    pending.retain(|keyed| {
        keyed.group.len() == group_size
            && keyed.entry.member < members
            && (!counts_values || keyed.entry.value.is_some())
    });
    pending.sort_unstable();
    let mut hits = Vec::new();
    let mut current: Option<(Box<[Text]>, Window)> = None;
    for Keyed { group, entry } in pending {
        if current.as_ref().is_none_or(|(open, _)| *open != group) {
            if let Some((_, window)) = current.take() {
                hits.extend(window.finish());
            }
            let named = group_pairs(correlation, &group);
            current = Some((group, Window::new(index, correlation, named)));
        }
        if let Some((_, window)) = current.as_mut() {
            window.push(entry);
        }
    }
    if let Some((_, window)) = current {
        hits.extend(window.finish());
    }
    hits
}

fn group_pairs(correlation: &Compiled, values: &[Text]) -> Vec<(String, String)> {
    correlation
        .rule
        .group_by
        .iter()
        .zip(values)
        .map(|(name, value)| (name.clone(), value.to_string()))
        .collect()
}

#[cfg(test)]
#[path = "evaluate_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "chain_tests.rs"]
mod chain_tests;
