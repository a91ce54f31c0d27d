//! Merging two partial findings of the same id (one per input file, one per worker...).

use crate::model::{Finding, Sample, MAX_LISTED, MAX_SAMPLES};

impl Finding {
    /// Folds `other`, a partial finding with the same id, into `self`.
    ///
    /// Counts add up; first seen is the minimum and last seen the maximum; resources, source
    /// IPs, log sources, tags and intel matches are united in order of appearance (self's
    /// first) and bounded to [`MAX_LISTED`]; the [`MAX_SAMPLES`] samples with the smallest
    /// (time, origin) are kept; severity is the higher of the two. Status and history are
    /// self's. Counts, times, severity and samples do not depend on the order of merging.
    pub fn merge(&mut self, other: Finding) {
        self.event_count = self.event_count.saturating_add(other.event_count);
        self.first_seen_ms = self.first_seen_ms.min(other.first_seen_ms);
        self.last_seen_ms = self.last_seen_ms.max(other.last_seen_ms);
        self.window_start_ms = self.window_start_ms.min(other.window_start_ms);
        if other.severity.score > self.severity.score {
            self.severity = other.severity;
        }
        fill(&mut self.account, other.account);
        fill(&mut self.region, other.region);
        fill(&mut self.principal, other.principal);
        fill(&mut self.runbook, other.runbook);
        unite(&mut self.resources, other.resources, MAX_LISTED);
        unite(&mut self.source_ips, other.source_ips, MAX_LISTED);
        unite(&mut self.intel, other.intel, MAX_LISTED);
        unite(&mut self.log_sources, other.log_sources, usize::MAX);
        unite(&mut self.tags, other.tags, usize::MAX);
        self.samples = earliest_samples(std::mem::take(&mut self.samples), other.samples);
    }
}

fn fill(slot: &mut Option<String>, other: Option<String>) {
    if slot.is_none() {
        *slot = other;
    }
}

/// Appends the items of `extra` that `list` does not hold yet, up to `bound` items.
fn unite<T: PartialEq>(list: &mut Vec<T>, extra: Vec<T>, bound: usize) {
    for item in extra {
        if list.len() >= bound {
            break;
        }
        if !list.contains(&item) {
            list.push(item);
        }
    }
}

/// The [`MAX_SAMPLES`] samples with the smallest (time, origin) of both lists, one per
/// origin.
pub(crate) fn earliest_samples(mut samples: Vec<Sample>, extra: Vec<Sample>) -> Vec<Sample> {
    samples.extend(extra);
    samples.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    samples.dedup_by(|a, b| a.origin == b.origin);
    samples.truncate(MAX_SAMPLES);
    samples
}

#[cfg(test)]
mod tests {
    use serde_json::value::RawValue;
    use vigil_event::LogSource;

    use crate::model::{Finding, RuleKind, Sample, Status};
    use crate::Severity;

    fn sample(origin: &str, time_ms: i64) -> Sample {
        let record = format!(r#"{{"origin":"{origin}"}}"#);
        Sample {
            origin: origin.to_string(),
            source: LogSource::CloudTrail,
            time_ms: Some(time_ms),
            record: RawValue::from_string(record).expect("test records are valid JSON"),
        }
    }

    fn partial(file: &str, times: &[i64], resources: &[&str]) -> Finding {
        let samples = times
            .iter()
            .enumerate()
            .map(|(n, time)| sample(&format!("{file}:{n}"), *time))
            .collect();
        Finding {
            id: Finding::stable_id("r1", "alice", 0),
            rule_id: "r1".into(),
            rule_title: "Rule one".into(),
            rule_kind: RuleKind::Sigma,
            description: "d".into(),
            severity: Severity::from_score(50),
            first_seen_ms: times.iter().copied().min().unwrap_or(0),
            last_seen_ms: times.iter().copied().max().unwrap_or(0),
            window_start_ms: 0,
            event_count: times.len() as u64,
            dedup_key: "alice".into(),
            account: None,
            region: Some("eu-west-1".into()),
            principal: Some("alice".into()),
            resources: resources.iter().map(|r| r.to_string()).collect(),
            source_ips: Vec::new(),
            log_sources: vec![LogSource::CloudTrail],
            tags: vec!["attack.t1078".into()],
            runbook: None,
            intel: Vec::new(),
            samples,
            status: Status::New,
            history: Vec::new(),
        }
    }

    #[test]
    fn merge_sums_counts_and_widens_times() {
        let mut a = partial("a", &[100, 300, 200], &["b1"]);
        a.merge(partial("b", &[50, 400], &["b2", "b1"]));
        assert_eq!(a.event_count, 5);
        assert_eq!((a.first_seen_ms, a.last_seen_ms), (50, 400));
        assert_eq!(a.resources, ["b1", "b2"]);
        assert_eq!(a.tags, ["attack.t1078"]);
    }

    #[test]
    fn merge_is_commutative_for_counts_times_and_samples() {
        let left = partial("a", &[100, 300, 200, 700], &["x"]);
        let right = partial("b", &[50, 400, 300, 900], &["y"]);
        let mut one = left.clone();
        one.merge(right.clone());
        let mut two = right;
        two.merge(left);
        assert_eq!(one.event_count, two.event_count);
        assert_eq!(one.first_seen_ms, two.first_seen_ms);
        assert_eq!(one.last_seen_ms, two.last_seen_ms);
        assert_eq!(one.samples, two.samples);
        let origins: Vec<&str> = one.samples.iter().map(|s| s.origin.as_str()).collect();
        assert_eq!(origins, ["b:0", "a:0", "a:2", "a:1", "b:2"]);
    }

    #[test]
    fn merge_keeps_status_and_history_of_self() {
        let mut mine = partial("a", &[1], &[]);
        mine.status = Status::Resolved;
        let mut theirs = partial("b", &[2], &[]);
        theirs.status = Status::Suppressed;
        mine.merge(theirs);
        assert_eq!(mine.status, Status::Resolved);
    }

    #[test]
    fn merged_lists_stay_bounded() {
        let names: Vec<String> = (0..30).map(|n| format!("r{n}")).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let mut a = partial("a", &[1], &refs[..15]);
        a.merge(partial("b", &[2], &refs[10..]));
        assert_eq!(a.resources.len(), crate::MAX_LISTED);
        assert_eq!(a.resources.last().map(String::as_str), Some("r19"));
    }

    #[test]
    fn merging_the_same_sample_twice_keeps_one() {
        let mut a = partial("a", &[1, 2], &[]);
        a.merge(partial("a", &[1, 2], &[]));
        assert_eq!(a.samples.len(), 2);
    }
}
