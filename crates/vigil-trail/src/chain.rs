//! Links between digests: each digest names the one before it, with its hash and signature.
//!
//! Beyond the AWS CLI, which follows `previousDigestS3Object` and relies on the signature
//! alone, this checks that `previousDigestHashValue` is the SHA-256 of the previous digest as
//! found and that `previousDigestSignature` is the signature on it, and reports digests that
//! nothing links to.

use std::collections::{BTreeMap, BTreeSet};

use crate::digest::{CheckedDigest, DigestProblem};
use crate::layout::DigestName;
use crate::report::ChainFinding;

/// A digest as the verifier knows it.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub name: DigestName,
    pub state: State,
}

#[derive(Debug, Clone)]
pub(crate) enum State {
    Checked(Box<CheckedDigest>),
    Unreadable(DigestProblem),
    Missing { referenced_by: String },
}

impl Entry {
    pub fn checked(&self) -> Option<&CheckedDigest> {
        match &self.state {
            State::Checked(c) => Some(c),
            _ => None,
        }
    }

    /// The key this digest names as its previous one, when it is readable and names one.
    fn previous_key(&self) -> Option<&str> {
        self.checked()
            .and_then(|c| c.digest.previous())
            .map(|(_, k)| k)
    }
}

/// One trail's digests in one account and region, in time order.
type Stream<'a> = Vec<(&'a String, &'a Entry)>;

/// Groups digests by trail, account and region, and finds the breaks in each chain.
pub(crate) fn analyse(entries: &BTreeMap<String, Entry>, bucket: &str) -> Vec<ChainFinding> {
    let mut streams: BTreeMap<(&str, &str, &str, &str), Stream<'_>> = BTreeMap::new();
    for (key, entry) in entries {
        let n = &entry.name;
        streams
            .entry((&n.account_root, &n.region, &n.trail_name, &n.home_region))
            .or_default()
            .push((key, entry));
    }
    let mut findings = Vec::new();
    for mut stream in streams.into_values() {
        stream.sort_by_key(|(key, entry)| (entry.name.end, *key));
        findings.extend(links(&stream, entries, bucket));
        findings.extend(unlinked(&stream, entries));
    }
    findings
}

/// Gaps, links to other buckets, and links whose hash or signature does not match.
fn links(
    stream: &Stream<'_>,
    entries: &BTreeMap<String, Entry>,
    bucket: &str,
) -> Vec<ChainFinding> {
    let mut findings = Vec::new();
    for (i, (key, entry)) in stream.iter().enumerate() {
        let Some(current) = entry.checked() else {
            continue;
        };
        let Some((prev_bucket, prev_key)) = current.digest.previous() else {
            if let Some((older_key, older)) = i.checked_sub(1).map(|j| stream[j]) {
                findings.push(ChainFinding::Gap {
                    older: older_key.clone(),
                    newer: (*key).clone(),
                    from: older
                        .checked()
                        .map(|c| c.digest.digest_end_time.clone())
                        .unwrap_or_else(|| older.name.end.to_rfc3339()),
                    to: current.digest.digest_start_time.clone(),
                });
            }
            continue;
        };
        if prev_bucket != bucket {
            findings.push(ChainFinding::OtherBucket {
                key: (*key).clone(),
                previous: format!("s3://{prev_bucket}/{prev_key}"),
            });
            continue;
        }
        let Some(previous) = entries.get(prev_key).and_then(Entry::checked) else {
            continue; // missing, unreadable or before the range: reported elsewhere or out of scope
        };
        for reason in link_problems(current, previous) {
            findings.push(ChainFinding::BrokenLink {
                key: (*key).clone(),
                previous: prev_key.to_string(),
                reason,
            });
        }
    }
    findings
}

fn link_problems(current: &CheckedDigest, previous: &CheckedDigest) -> Vec<String> {
    let mut problems = Vec::new();
    let actual = hex::encode(previous.sha256);
    match &current.digest.previous_digest_hash_value {
        Some(recorded) if recorded.eq_ignore_ascii_case(&actual) => {}
        Some(recorded) => problems.push(format!(
            "previousDigestHashValue is {recorded}, the previous digest hashes to {actual}"
        )),
        None => problems.push("previousDigestHashValue is null".to_string()),
    }
    let recorded = current.digest.previous_digest_signature.as_deref();
    let found = previous.signature.as_deref();
    let same = matches!((recorded, found), (Some(r), Some(f)) if r.eq_ignore_ascii_case(f));
    if !same {
        problems.push(format!(
            "previousDigestSignature is {}, the previous digest's signature metadata is {}",
            abbreviate(recorded),
            abbreviate(found)
        ));
    }
    problems
}

fn abbreviate(signature: Option<&str>) -> String {
    match signature {
        None => "absent".to_string(),
        // By characters: the value comes from the file and need not be ASCII.
        Some(s) if s.chars().count() > 16 => {
            format!("{}...", s.chars().take(16).collect::<String>())
        }
        Some(s) => s.to_string(),
    }
}

/// Digests that the next digest in time does not name, when it names another digest that is
/// there: a chain that forks or a digest put in that CloudTrail did not chain.
fn unlinked(stream: &Stream<'_>, entries: &BTreeMap<String, Entry>) -> Vec<ChainFinding> {
    let named: BTreeSet<&str> = stream
        .iter()
        .filter_map(|(_, e)| e.previous_key())
        .collect();
    let mut findings = Vec::new();
    for pair in stream.windows(2) {
        let (key, entry) = pair[0];
        let (next_key, next) = pair[1];
        if named.contains(key.as_str()) || matches!(entry.state, State::Missing { .. }) {
            continue;
        }
        let Some(next_previous) = next.previous_key() else {
            continue; // the next one is unreadable or starts a chain (a gap)
        };
        let explained = entries
            .get(next_previous)
            .is_some_and(|e| matches!(e.state, State::Missing { .. }));
        if !explained {
            findings.push(ChainFinding::Unlinked {
                key: key.clone(),
                next: next_key.clone(),
            });
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::abbreviate;

    #[test]
    fn abbreviating_a_non_ascii_signature_does_not_panic() {
        assert_eq!(
            abbreviate(Some(&"é".repeat(20))),
            format!("{}...", "é".repeat(16))
        );
        assert_eq!(abbreviate(None), "absent");
    }
}
