//! Dropping, before the sort, the observations of groups that cannot hit.
//!
//! Most groups are seen once or twice (on CloudTrail, 357,318 groups for 560,746
//! observations per million records), while a correlation such as "20 distinct APIs in 10
//! minutes" needs at least 20 observations of one group. A group with fewer observations
//! than its correlation's [`Compiled::min_entries`] over the whole run has no window that
//! can hit, so its observations change nothing: removing them first leaves the hits as they
//! are and spares the sort (the serial part of the end of a run) most of its input.
//!
//! [`Compiled::min_entries`]: crate::compiled::Compiled

use crate::{CorrelationSet, Observation};

impl CorrelationSet {
    /// Removes the observations of every (correlation, group) with fewer observations than
    /// that correlation needs to hit.
    ///
    /// Groups are counted by their [`Observation::group_hash`] in a table of small counters,
    /// each (correlation, group) at two places, its count the smaller of the two (a
    /// count-min sketch): reading no group's strings and hashing nothing, in a table that
    /// stays in cache. Copies of one group interned by different workers hash alike and
    /// count together. Another group sharing a counter can only make a count larger, so
    /// a group is never dropped that could hit; at worst one that cannot is kept, and the
    /// windows then find it does not.
    pub(crate) fn drop_groups_that_cannot_hit(&self, observations: &mut Vec<Observation>) {
        let needs = |observation: &Observation| {
            self.correlations
                .get(observation.correlation as usize)
                .map_or(0, |c| c.min_entries)
        };
        if !self.correlations.iter().any(|c| c.min_entries > 1) {
            return;
        }
        let sketch_size = observations
            .len()
            .saturating_mul(4)
            .checked_next_power_of_two()
            .unwrap_or(usize::MAX)
            .max(1024);
        let bits = sketch_size.trailing_zeros();
        let mut counts = vec![0u16; sketch_size];
        for observation in observations.iter() {
            if needs(observation) > 1 {
                for at in places(observation, bits) {
                    if let Some(count) = counts.get_mut(at) {
                        *count = count.saturating_add(1);
                    }
                }
            }
        }
        observations.retain(|observation| {
            let needed = needs(observation);
            if needed <= 1 {
                return true;
            }
            let count = places(observation, bits)
                .iter()
                .map(|&at| counts.get(at).copied().unwrap_or(u16::MAX))
                .min()
                .unwrap_or(u16::MAX);
            // A saturated counter says "at least 65,535".
            count == u16::MAX || usize::from(count) >= needed
        });
    }
}

/// The two counters of an observation's (correlation, group) in a sketch of `2^bits`
/// counters: the high bits of two multiplicative hashes of its group hash and correlation.
fn places(observation: &Observation, bits: u32) -> [usize; 2] {
    let key = observation.group_hash
        ^ u64::from(observation.correlation).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let shift = 64 - bits.clamp(1, 63);
    let first = key.wrapping_mul(0xa076_1d64_78bd_642f) >> shift;
    let second = key.rotate_left(29).wrapping_mul(0xe703_7ed1_a0b4_28db) >> shift;
    [first as usize, second as usize]
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::observe::{Group, Text};
    use crate::order::sort_for_evaluation;
    use crate::test_support::*;
    use crate::{CompareOp, CorrelationKind};

    /// Correlation 0 counts events (`gt: 3`, so 4 needed), 1 counts distinct values
    /// (`gte: 2`), 2 is tumbling (`lt: 3`: one event can hit), all grouped by user.
    fn three_kinds() -> CorrelationSet {
        let count = correlation("c", CorrelationKind::EventCount, &["a"], &["user"], MINUTE);
        let values = correlation(
            "v",
            CorrelationKind::ValueCount { field: "t".into() },
            &["a"],
            &["user"],
            MINUTE,
        );
        let few = correlation("f", CorrelationKind::EventCount, &["a"], &["user"], MINUTE);
        build_ok(
            vec![
                with_condition(count, CompareOp::Gt, 3),
                with_condition(values, CompareOp::Gte, 2),
                with_condition(few, CompareOp::Lt, 3),
            ],
            &base_rules(&["a"]),
        )
    }

    /// Users with 1 to 6 observations per correlation, every group split over two
    /// allocations (two workers) for the odd records.
    fn observations() -> Vec<Observation> {
        let mut out = Vec::new();
        let mut record = 0;
        for (u, user) in ["u1", "u2", "u3", "u4", "u5", "u6"].iter().enumerate() {
            let worker_a: Group = Arc::from(vec![Text::from(*user)]);
            let worker_b: Group = Arc::from(vec![Text::from(*user)]);
            for i in 0..=u {
                for correlation in 0..3 {
                    record += 1;
                    let group = if record % 2 == 0 {
                        &worker_a
                    } else {
                        &worker_b
                    };
                    out.push(Observation {
                        correlation,
                        member: 0,
                        time_ms: 1000 * i as i64,
                        origin: vigil_event::Origin::new("f", record),
                        group: Arc::clone(group),
                        value: (correlation == 1).then(|| Text::from(format!("t{i}"))),
                        group_hash: Observation::hash_group(group),
                    });
                }
            }
        }
        out
    }

    #[test]
    fn minimum_entries_follow_the_lower_bound() {
        let set = three_kinds();
        let needs: Vec<usize> = set.correlations.iter().map(|c| c.min_entries).collect();
        assert_eq!(needs, vec![4, 2, 0]);
    }

    #[test]
    fn a_correlation_fed_by_another_is_never_culled() {
        let base = correlation(
            "base",
            CorrelationKind::EventCount,
            &["a"],
            &["user"],
            MINUTE,
        );
        let top = correlation(
            "top",
            CorrelationKind::EventCount,
            &["base", "a"],
            &["user"],
            MINUTE,
        );
        let set = build_ok(
            vec![
                with_condition(base, CompareOp::Gte, 2),
                with_condition(top, CompareOp::Gte, 9),
            ],
            &base_rules(&["a"]),
        );
        assert_eq!(set.correlations[0].min_entries, 2);
        assert_eq!(set.correlations[1].min_entries, 0);
    }

    #[test]
    fn groups_too_small_to_hit_are_dropped_counting_all_their_copies() {
        let set = three_kinds();
        let mut kept = observations();
        set.drop_groups_that_cannot_hit(&mut kept);
        let users = |correlation: u32| {
            let mut users: Vec<&str> = kept
                .iter()
                .filter(|o| o.correlation == correlation)
                .map(|o| o.group[0].as_ref())
                .collect();
            users.dedup();
            users
        };
        // u4 has 4 observations, 2 in each allocation: counted together, it stays.
        assert_eq!(users(0), ["u4", "u5", "u6"]);
        assert_eq!(users(1), ["u2", "u3", "u4", "u5", "u6"]);
        assert_eq!(users(2), ["u1", "u2", "u3", "u4", "u5", "u6"]);
    }

    #[test]
    fn culling_leaves_the_hits_as_they_were() {
        let set = three_kinds();
        let ranks = set.ranks();
        let mut all = observations();
        sort_for_evaluation(&ranks, &mut all);
        let uncut = set.evaluate_sorted(&ranks, all.into_iter());
        let cut = set.evaluate_all(observations());
        assert!(uncut.iter().any(|hit| hit.correlation == 0));
        assert!(uncut.iter().any(|hit| hit.correlation == 1));
        assert_eq!(cut, uncut);
    }

    /// Among many groups sharing the sketch's counters, every group with enough
    /// observations stays (a count can only be too high), and most of the others go.
    #[test]
    fn crowded_counters_never_drop_a_group_that_could_hit() {
        let set = three_kinds();
        let mut all = Vec::new();
        for user in 0..20_000u64 {
            let name = format!("arn:aws:iam::1:user/u{user}");
            let times = if user % 100 == 0 { 4 } else { 1 };
            for i in 0..times {
                all.push(observation(
                    0,
                    0,
                    i * 1000,
                    user * 10 + i as u64,
                    &[&name],
                    None,
                ));
            }
        }
        let mut kept = all.clone();
        set.drop_groups_that_cannot_hit(&mut kept);
        let busy = all.iter().filter(|o| o.origin.record % 1000 < 4).count();
        assert_eq!(busy, 800);
        let kept_busy = kept.iter().filter(|o| o.origin.record % 1000 < 4).count();
        assert_eq!(kept_busy, busy, "every observation of a group of 4 stays");
        assert!(
            kept.len() < busy + 1_000,
            "kept {} of {}",
            kept.len(),
            all.len()
        );
    }
}
