//! Sorting observations for evaluation without comparing their groups' strings.
//!
//! [`evaluation_order`] orders groups by content: when two groups differ — most comparisons
//! of a sort over many groups — that is a `memcmp` over ARNs that share long prefixes, and
//! it was half the cost of evaluation. Evaluation only needs each group's observations
//! together and in order among themselves: groups' windows are independent of each other,
//! and the hits are sorted by a total key at the end. So, when the observations are
//! evaluated alone (nothing spilled), they are ordered by the address of their group's
//! allocation, an integer comparison; copies of one group with separate allocations
//! (interned by different workers) are then made to share one, and sorted again.
//!
//! Observations merged with spilled runs keep [`evaluation_order`]: the runs were written
//! in it, and a merge needs one order everywhere.

use std::sync::Arc;

use rustc_hash::FxHashSet;

use crate::observe::Group;
use crate::Observation;

/// Sorts `observations` by correlation rank (`ranks`, see `CorrelationSet::ranks`), then
/// group (by identity, see the module documentation), then time, origin, member and value —
/// [`evaluation_order`] except for the order of groups among themselves.
pub(crate) fn sort_for_evaluation(ranks: &[usize], observations: &mut [Observation]) {
    let rank = |o: &Observation| {
        ranks
            .get(o.correlation as usize)
            .copied()
            .unwrap_or(usize::MAX)
    };
    let address = |group: &Group| Arc::as_ptr(group).cast::<u8>() as usize;
    let sort = |observations: &mut [Observation]| {
        observations.sort_unstable_by(|a, b| {
            rank(a)
                .cmp(&rank(b))
                .then_with(|| address(&a.group).cmp(&address(&b.group)))
                .then_with(|| a.time_ms.cmp(&b.time_ms))
                .then_with(|| a.origin.cmp(&b.origin))
                .then_with(|| a.member.cmp(&b.member))
                .then_with(|| a.value.cmp(&b.value))
        });
    };
    // Sorted by address, each allocation's observations are one run; copies of one group
    // (interned by different workers, or before and after a spill) are separate runs until
    // they share an allocation, and then sorted again.
    sort(observations);
    if share_equal_groups(observations) {
        sort(observations);
    }
}

/// Makes the runs of groups with equal content (in observations sorted by group address)
/// share one allocation; true if any run changed. Each run's group is hashed once.
fn share_equal_groups(observations: &mut [Observation]) -> bool {
    let mut first: FxHashSet<Group> = FxHashSet::default();
    let mut changed = false;
    let mut start = 0;
    while let Some(head) = observations.get(start) {
        let group = Arc::clone(&head.group);
        let end = observations[start..]
            .iter()
            .position(|o| !Arc::ptr_eq(&o.group, &group))
            .map_or(observations.len(), |n| start + n);
        match first.get(&group) {
            Some(shared) if !Arc::ptr_eq(shared, &group) => {
                for observation in &mut observations[start..end] {
                    observation.group = Arc::clone(shared);
                }
                changed = true;
            }
            Some(_) => {}
            None => {
                first.insert(group);
            }
        }
        start = end;
    }
    changed
}

#[cfg(test)]
mod tests {
    use std::cmp::Ordering;

    use super::*;
    use crate::evaluate::evaluation_order;
    use crate::observe::Text;
    use vigil_event::Origin;

    /// Observations with colliding and extreme fields, groups shared and not, in a
    /// scrambled order.
    fn scrambled() -> Vec<Observation> {
        let users: Vec<Text> = ["bob", "alice", "al", "", "zed"]
            .iter()
            .map(|u| Text::from(*u))
            .collect();
        let files: Vec<Arc<str>> = ["f/b", "f/a", "f/a2"]
            .iter()
            .map(|f| Arc::from(*f))
            .collect();
        let shared: Vec<crate::Group> = users.iter().map(|u| Arc::from(vec![u.clone()])).collect();
        let mut out = Vec::new();
        for i in 0..600u64 {
            let user = (i * 7 % 5) as usize;
            // Half share one allocation per group, half have their own (another worker's).
            let group = if i % 2 == 0 {
                shared[user].clone()
            } else {
                Arc::from(vec![Text::from(users[user].as_ref())])
            };
            let time = match i % 9 {
                0 => i64::MIN,
                1 => i64::MAX,
                2 => -((i * 13 % 50) as i64),
                _ => (i * 31 % 40) as i64,
            };
            let record = if i % 11 == 0 {
                u64::MAX - (i % 3)
            } else {
                i * 17 % 30
            };
            out.push(Observation {
                correlation: (i * 5 % 4) as u32,
                member: (i % 2) as u32,
                time_ms: time,
                origin: Origin::new(files[(i % 3) as usize].clone(), record),
                group_hash: Observation::hash_group(&group),
                group,
                value: (i % 4 != 0).then(|| Text::from(format!("v{}", i % 3))),
            });
        }
        out
    }

    #[test]
    fn each_group_is_together_and_in_order() {
        let ranks = [2, 0, usize::MAX, 1];
        let mut keyed = scrambled();
        let all = keyed.clone();
        sort_for_evaluation(&ranks, &mut keyed);
        // Ranks ascend; within a rank each group's observations are one run in evaluation
        // order, and nothing was lost or duplicated.
        let rank = |o: &Observation| {
            ranks
                .get(o.correlation as usize)
                .copied()
                .unwrap_or(usize::MAX)
        };
        assert!(keyed.windows(2).all(|p| rank(&p[0]) <= rank(&p[1])));
        let mut seen: Vec<(usize, crate::Group)> = Vec::new();
        for pair in keyed.windows(2) {
            let same = rank(&pair[0]) == rank(&pair[1]) && pair[0].group == pair[1].group;
            if same {
                assert_ne!(
                    evaluation_order(&ranks, &pair[0], &pair[1]),
                    Ordering::Greater
                );
            } else {
                let key = (rank(&pair[0]), pair[0].group.clone());
                assert!(!seen.contains(&key), "group {key:?} split");
                seen.push(key);
            }
        }
        let mut sorted = keyed.clone();
        let mut expected = all;
        sorted.sort_by(|a, b| evaluation_order(&ranks, a, b));
        expected.sort_by(|a, b| evaluation_order(&ranks, a, b));
        assert_eq!(sorted, expected);
    }

    #[test]
    fn tiny_inputs_are_left_alone() {
        let mut none: Vec<Observation> = Vec::new();
        sort_for_evaluation(&[], &mut none);
        let mut one = scrambled();
        one.truncate(1);
        let before = one.clone();
        sort_for_evaluation(&[], &mut one);
        assert_eq!(one, before);
    }
}
