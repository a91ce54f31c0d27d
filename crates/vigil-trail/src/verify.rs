//! The verifier: find the digests of a range, check each, follow the chains back, check the
//! log files the valid digests list, and find the log files no digest lists.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

use chrono::{DateTime, Duration, Utc};
use futures_util::stream::{self, StreamExt};

use crate::chain::{self, Entry, State};
use crate::digest::{check_digest, gunzip_sha256, DigestProblem, FoundAt, HASH_ALGORITHM};
use crate::discover::{discover, Found, Range};
use crate::error::{KeyError, TrailError};
use crate::keys::KeyRing;
use crate::layout::{DigestName, TrailLocation};
use crate::report::{DigestResult, DigestStatus, LogResult, LogStatus, VerifyReport};
use crate::source::Source;

/// How many objects are read at once.
pub(crate) const CONCURRENT_READS: usize = 16;

/// What to verify.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyOptions {
    pub location: TrailLocation,
    /// Log files delivered from this time on (all when `None`).
    pub start: Option<DateTime<Utc>>,
    /// Log files delivered up to this time (now when `None`).
    pub end: Option<DateTime<Utc>>,
}

impl VerifyOptions {
    /// Checks the location and the range.
    pub fn validated(mut self) -> Result<Self, TrailError> {
        self.location = self.location.validated()?;
        if let (Some(start), Some(end)) = (self.start, self.end) {
            if start > end {
                return Err(TrailError::InvalidOption(format!(
                    "the start {start} is after the end {end}"
                )));
            }
        }
        Ok(self)
    }

    pub(crate) fn range(&self) -> Range {
        Range {
            start: self.start,
            end: self.end.unwrap_or_else(Utc::now),
        }
    }
}

/// Where the public keys come from.
pub trait KeyProvider: Sync {
    /// The keys that may have signed digests of `regions` between `start` and `end`.
    fn keys_for(
        &self,
        regions: &[String],
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> impl Future<Output = Result<KeyRing, KeyError>> + Send;
}

/// A fixed set of keys (from `--public-key FILE`).
impl KeyProvider for KeyRing {
    async fn keys_for(
        &self,
        _regions: &[String],
        _start: DateTime<Utc>,
        _end: DateTime<Utc>,
    ) -> Result<KeyRing, KeyError> {
        Ok(self.clone())
    }
}

/// Verifies the trail in `source`. Bad files are entries in the report; `Err` is for what
/// stops the whole run (a listing that fails, keys that cannot be loaded, bad options).
pub async fn verify<S: Source, K: KeyProvider>(
    source: &S,
    keys: &K,
    options: &VerifyOptions,
) -> Result<VerifyReport, TrailError> {
    let options = options.clone().validated()?;
    let range = options.range();
    let found = discover(source, &options.location, range).await?;
    let keys = load_keys(keys, &found).await?;
    let entries = check_digests(source, &keys, &found, range).await;
    let chain = chain::analyse(&entries, source.bucket());
    let logs = check_logs(source, &entries, &found).await;
    Ok(VerifyReport {
        source: source.locate(&options.location.awslogs_root()),
        start: range.start,
        end: range.end,
        digests: digest_results(source, &entries),
        logs,
        chain,
    })
}

async fn load_keys<K: KeyProvider>(keys: &K, found: &Found) -> Result<KeyRing, KeyError> {
    let (Some(first), Some(last)) = (
        found.digests.iter().map(|(_, n)| n.end).min(),
        found.digests.iter().map(|(_, n)| n.end).max(),
    ) else {
        return Ok(KeyRing::new());
    };
    let mut regions = BTreeSet::new();
    for (_, name) in &found.digests {
        regions.insert(name.region.clone());
        regions.insert(name.home_region.clone());
    }
    let regions: Vec<String> = regions.into_iter().collect();
    // A digest covers the hour before its end; a day's margin costs nothing.
    keys.keys_for(&regions, first - Duration::days(1), last)
        .await
}

/// Checks every digest found, then follows each chain back to digests not listed (before the
/// listed days, or deleted), as long as they fall in the range.
async fn check_digests<S: Source>(
    source: &S,
    keys: &KeyRing,
    found: &Found,
    range: Range,
) -> BTreeMap<String, Entry> {
    let mut entries: BTreeMap<String, Entry> = stream::iter(&found.digests)
        .map(|(key, name)| async move {
            let entry = read_digest(source, keys, key, name.clone(), None).await;
            (key.clone(), entry)
        })
        .buffer_unordered(CONCURRENT_READS)
        .collect()
        .await;
    let mut to_follow: Vec<String> = entries.keys().cloned().collect();
    while let Some(key) = to_follow.pop() {
        let Some(previous) = entries
            .get(&key)
            .and_then(Entry::checked)
            .and_then(|c| c.digest.previous())
            .filter(|(bucket, _)| *bucket == source.bucket())
            .map(|(_, k)| k.to_string())
        else {
            continue;
        };
        if entries.contains_key(&previous) {
            continue;
        }
        let Some(name) = DigestName::parse(&previous) else {
            continue; // signed by CloudTrail but not a digest key: nothing to follow
        };
        if range.start.is_some_and(|s| name.end < s) {
            continue; // before the range
        }
        let entry = read_digest(source, keys, &previous, name, Some(&key)).await;
        to_follow.push(previous.clone());
        entries.insert(previous, entry);
    }
    entries
}

/// Reads and checks one digest; `referenced_by` is the digest that names it, when it was not
/// listed but followed (then its absence makes it missing rather than unreadable).
async fn read_digest<S: Source>(
    source: &S,
    keys: &KeyRing,
    key: &str,
    name: DigestName,
    referenced_by: Option<&str>,
) -> Entry {
    let unreadable = |reason: String| State::Unreadable(DigestProblem::Unreadable { reason });
    let state = match source.get(key).await {
        Ok(Some(object)) => {
            let at = FoundAt {
                bucket: source.bucket(),
                key,
                account: &name.account,
            };
            match check_digest(&at, &object.bytes, &object.metadata, keys) {
                Ok(checked) => State::Checked(Box::new(checked)),
                Err(problem) => State::Unreadable(problem),
            }
        }
        Ok(None) => match referenced_by {
            Some(by) => State::Missing {
                referenced_by: by.to_string(),
            },
            None => unreadable("listed, but gone when read".to_string()),
        },
        Err(e) => unreadable(e.to_string()),
    };
    Entry { name, state }
}

fn digest_results<S: Source>(source: &S, entries: &BTreeMap<String, Entry>) -> Vec<DigestResult> {
    entries
        .iter()
        .map(|(key, entry)| DigestResult {
            key: key.clone(),
            location: source.locate(key),
            status: match &entry.state {
                State::Checked(c) if c.problems.is_empty() => DigestStatus::Valid,
                State::Checked(c) => DigestStatus::Invalid {
                    problems: c.problems.clone(),
                },
                State::Unreadable(p) => DigestStatus::Invalid {
                    problems: vec![p.clone()],
                },
                State::Missing { referenced_by } => DigestStatus::Missing {
                    referenced_by: referenced_by.clone(),
                },
            },
        })
        .collect()
}

/// What a valid digest records about a log file.
struct Listed {
    digest: String,
    bucket: String,
    hash: String,
    algorithm: String,
}

async fn check_logs<S: Source>(
    source: &S,
    entries: &BTreeMap<String, Entry>,
    found: &Found,
) -> Vec<LogResult> {
    let mut vouched: BTreeMap<String, Listed> = BTreeMap::new();
    let mut unvouched: BTreeMap<String, String> = BTreeMap::new();
    for (key, entry) in entries {
        let Some(checked) = entry.checked() else {
            continue;
        };
        for log in &checked.digest.log_files {
            if checked.problems.is_empty() {
                vouched.entry(log.s3_object.clone()).or_insert(Listed {
                    digest: key.clone(),
                    bucket: log.s3_bucket.clone(),
                    hash: log.hash_value.clone(),
                    algorithm: log.hash_algorithm.clone(),
                });
            } else {
                unvouched.insert(log.s3_object.clone(), key.clone());
            }
        }
    }
    let mut results: BTreeMap<String, (Option<String>, LogStatus)> = stream::iter(&vouched)
        .map(|(key, listed)| async move {
            let status = check_log(source, key, listed).await;
            (key.clone(), (Some(listed.digest.clone()), status))
        })
        .buffer_unordered(CONCURRENT_READS)
        .collect()
        .await;
    for (key, digest) in unvouched {
        results
            .entry(key)
            .or_insert((Some(digest), LogStatus::Unverified));
    }
    let newest = newest_digest_per_folder(entries);
    for (key, name) in &found.logs {
        if results.contains_key(key) {
            continue;
        }
        let folder = (name.account_root.as_str(), name.region.as_str());
        let status = match newest.get(&folder) {
            Some(end) if name.time <= *end => LogStatus::NotCovered,
            _ => LogStatus::Pending,
        };
        results.insert(key.clone(), (None, status));
    }
    results
        .into_iter()
        .map(|(key, (digest, status))| LogResult {
            location: source.locate(&key),
            key,
            digest,
            status,
        })
        .collect()
}

async fn check_log<S: Source>(source: &S, key: &str, listed: &Listed) -> LogStatus {
    if listed.algorithm != HASH_ALGORITHM {
        return LogStatus::Invalid {
            reason: format!(
                "hash algorithm {:?}, not {HASH_ALGORITHM}",
                listed.algorithm
            ),
        };
    }
    if listed.bucket != source.bucket() {
        return LogStatus::Invalid {
            reason: format!("listed in bucket {}, which was not read", listed.bucket),
        };
    }
    let object = match source.get(key).await {
        Ok(Some(object)) => object,
        Ok(None) => return LogStatus::Missing,
        Err(e) => {
            return LogStatus::Invalid {
                reason: e.to_string(),
            }
        }
    };
    match gunzip_sha256(&object.bytes) {
        Ok(hash) if hex::encode(hash).eq_ignore_ascii_case(&listed.hash) => LogStatus::Valid,
        Ok(hash) => LogStatus::Modified {
            expected: listed.hash.clone(),
            actual: hex::encode(hash),
        },
        Err(reason) => LogStatus::Invalid { reason },
    }
}

/// The end of the newest digest found in each account and region: log files after it have
/// no digest yet.
fn newest_digest_per_folder(
    entries: &BTreeMap<String, Entry>,
) -> BTreeMap<(&str, &str), DateTime<Utc>> {
    let mut newest: BTreeMap<(&str, &str), DateTime<Utc>> = BTreeMap::new();
    for entry in entries.values() {
        if matches!(entry.state, State::Missing { .. }) {
            continue;
        }
        let folder = (entry.name.account_root.as_str(), entry.name.region.as_str());
        let end = newest.entry(folder).or_insert(entry.name.end);
        *end = (*end).max(entry.name.end);
    }
    newest
}
