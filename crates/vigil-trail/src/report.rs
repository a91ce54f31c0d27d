//! What a verification found: every digest, every log file, every break in a chain.
//!
//! `Display` prints the problems and warnings and a summary; the alternate form (`{:#}`)
//! prints every file, valid ones too. [`VerifyReport::is_valid`] is what the exit code
//! follows.

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::digest::DigestProblem;

/// The result of [`crate::verify`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerifyReport {
    /// Where the trail was read (`s3://bucket/prefix/` or a directory).
    pub source: String,
    /// The range asked for.
    pub start: Option<DateTime<Utc>>,
    pub end: DateTime<Utc>,
    /// Every digest in the range, and every one a digest names that could not be found;
    /// sorted by key.
    pub digests: Vec<DigestResult>,
    /// Every log file listed by a digest or found in a log folder for the range; sorted by key.
    pub logs: Vec<LogResult>,
    /// Breaks and restarts of digest chains.
    pub chain: Vec<ChainFinding>,
}

/// One digest file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DigestResult {
    pub key: String,
    /// Where to find it (`s3://...` or a path).
    pub location: String,
    #[serde(flatten)]
    pub status: DigestStatus,
}

/// What became of a digest.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum DigestStatus {
    Valid,
    Invalid {
        problems: Vec<DigestProblem>,
    },
    /// Named as the previous digest by `referenced_by`, and not there.
    Missing {
        referenced_by: String,
    },
}

/// One log file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogResult {
    pub key: String,
    pub location: String,
    /// The digest that lists it, if any.
    pub digest: Option<String>,
    #[serde(flatten)]
    pub status: LogStatus,
}

/// What became of a log file.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum LogStatus {
    /// Its SHA-256 matches a valid digest.
    Valid,
    /// Its SHA-256 differs from the one its digest records.
    Modified { expected: String, actual: String },
    /// Listed by a valid digest and not there.
    Missing,
    /// Not readable as gzip, or listed with another hash algorithm than SHA-256.
    Invalid { reason: String },
    /// In a log folder for the range, and no digest lists it.
    NotCovered,
    /// Listed only by digests that are not valid: nothing vouches for it.
    Unverified,
    /// Newer than the newest digest of its region: its digest is not written yet.
    Pending,
}

/// A break or restart in a chain of digests.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "finding", rename_all = "snake_case")]
pub enum ChainFinding {
    /// `newer` starts a new chain (its previous digest is null) after `older`: no digests
    /// were written between the two — logging or log file validation was off.
    Gap {
        older: String,
        newer: String,
        from: String,
        to: String,
    },
    /// `key` names `previous`, which is there but does not match what `key` records.
    BrokenLink {
        key: String,
        previous: String,
        reason: String,
    },
    /// `key` is in the range, but no later digest names it as its previous one.
    Unlinked { key: String, next: String },
    /// `key` names a previous digest in another bucket, which was not followed.
    OtherBucket { key: String, previous: String },
}

/// Counts of every kind of result.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub digests_valid: usize,
    pub digests_invalid: usize,
    pub digests_missing: usize,
    pub logs_valid: usize,
    pub logs_modified: usize,
    pub logs_missing: usize,
    pub logs_invalid: usize,
    pub logs_not_covered: usize,
    pub logs_unverified: usize,
    pub logs_pending: usize,
    pub gaps: usize,
    pub broken_links: usize,
    pub unlinked: usize,
    pub other_bucket_links: usize,
}

impl Summary {
    /// Things that mean the trail is not intact.
    pub fn problems(&self) -> usize {
        self.digests_invalid
            + self.digests_missing
            + self.logs_modified
            + self.logs_missing
            + self.logs_invalid
            + self.logs_not_covered
            + self.logs_unverified
            + self.broken_links
            + self.unlinked
    }

    /// Things a responder must know that are not integrity failures: gaps in logging, files
    /// too new to be digested, chains continuing in another bucket.
    pub fn warnings(&self) -> usize {
        self.gaps + self.logs_pending + self.other_bucket_links
    }
}

impl VerifyReport {
    /// The counts.
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for d in &self.digests {
            match d.status {
                DigestStatus::Valid => s.digests_valid += 1,
                DigestStatus::Invalid { .. } => s.digests_invalid += 1,
                DigestStatus::Missing { .. } => s.digests_missing += 1,
            }
        }
        for l in &self.logs {
            match l.status {
                LogStatus::Valid => s.logs_valid += 1,
                LogStatus::Modified { .. } => s.logs_modified += 1,
                LogStatus::Missing => s.logs_missing += 1,
                LogStatus::Invalid { .. } => s.logs_invalid += 1,
                LogStatus::NotCovered => s.logs_not_covered += 1,
                LogStatus::Unverified => s.logs_unverified += 1,
                LogStatus::Pending => s.logs_pending += 1,
            }
        }
        for c in &self.chain {
            match c {
                ChainFinding::Gap { .. } => s.gaps += 1,
                ChainFinding::BrokenLink { .. } => s.broken_links += 1,
                ChainFinding::Unlinked { .. } => s.unlinked += 1,
                ChainFinding::OtherBucket { .. } => s.other_bucket_links += 1,
            }
        }
        s
    }

    /// True when at least one digest was found and nothing is wrong (warnings allowed).
    pub fn is_valid(&self) -> bool {
        let s = self.summary();
        s.problems() == 0 && s.digests_valid > 0
    }

    /// The digest result for a key.
    pub fn digest(&self, key: &str) -> Option<&DigestResult> {
        self.digests.iter().find(|d| d.key == key)
    }

    /// The log result for a key.
    pub fn log(&self, key: &str) -> Option<&LogResult> {
        self.logs.iter().find(|l| l.key == key)
    }
}

fn time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let every = f.alternate();
        let from = self.start.as_ref().map(time);
        writeln!(
            f,
            "CloudTrail log file integrity: {} from {} to {}",
            self.source,
            from.as_deref().unwrap_or("the first digest"),
            time(&self.end)
        )?;
        for d in &self.digests {
            match &d.status {
                DigestStatus::Valid if every => writeln!(f, "digest  valid        {}", d.location)?,
                DigestStatus::Valid => {}
                DigestStatus::Invalid { problems } => {
                    let why: Vec<String> = problems.iter().map(ToString::to_string).collect();
                    writeln!(f, "digest  INVALID      {}: {}", d.location, why.join("; "))?
                }
                DigestStatus::Missing { referenced_by } => writeln!(
                    f,
                    "digest  MISSING      {} (named as previous by {referenced_by})",
                    d.location
                )?,
            }
        }
        for c in &self.chain {
            write_chain(f, c)?;
        }
        for l in &self.logs {
            write_log(f, l, every)?;
        }
        write_summary(f, &self.summary(), self.is_valid())
    }
}

fn write_chain(f: &mut fmt::Formatter<'_>, c: &ChainFinding) -> fmt::Result {
    match c {
        ChainFinding::Gap {
            older,
            newer,
            from,
            to,
        } => writeln!(
            f,
            "chain   GAP          no digests from {from} to {to}: logging or validation was \
             off ({newer} starts a new chain after {older})"
        ),
        ChainFinding::BrokenLink {
            key,
            previous,
            reason,
        } => {
            writeln!(f, "chain   BROKEN LINK  {key} -> {previous}: {reason}")
        }
        ChainFinding::Unlinked { key, next } => writeln!(
            f,
            "chain   UNLINKED     {key}: the next digest {next} names another previous digest"
        ),
        ChainFinding::OtherBucket { key, previous } => writeln!(
            f,
            "chain   NOT FOLLOWED {key} -> {previous}: the previous digest is in another bucket"
        ),
    }
}

fn write_log(f: &mut fmt::Formatter<'_>, l: &LogResult, every: bool) -> fmt::Result {
    let by = |f: &mut fmt::Formatter<'_>| match &l.digest {
        Some(d) => write!(f, " (listed by {d})"),
        None => Ok(()),
    };
    match &l.status {
        LogStatus::Valid if every => writeln!(f, "log     valid        {}", l.location),
        LogStatus::Valid => Ok(()),
        LogStatus::Modified { expected, actual } => {
            write!(
                f,
                "log     MODIFIED     {}: SHA-256 {actual}, the digest records {expected}",
                l.location
            )?;
            by(f)?;
            writeln!(f)
        }
        LogStatus::Missing => {
            write!(f, "log     MISSING      {}", l.location)?;
            by(f)?;
            writeln!(f)
        }
        LogStatus::Invalid { reason } => {
            write!(f, "log     INVALID      {}: {reason}", l.location)?;
            by(f)?;
            writeln!(f)
        }
        LogStatus::NotCovered => {
            writeln!(f, "log     NOT COVERED  {}: no digest lists it", l.location)
        }
        LogStatus::Unverified => {
            write!(
                f,
                "log     UNVERIFIED   {}: listed only by an invalid digest",
                l.location
            )?;
            by(f)?;
            writeln!(f)
        }
        LogStatus::Pending => writeln!(
            f,
            "log     pending      {}: newer than the newest digest",
            l.location
        ),
    }
}

fn write_summary(f: &mut fmt::Formatter<'_>, s: &Summary, valid: bool) -> fmt::Result {
    writeln!(
        f,
        "digests: {} valid, {} invalid, {} missing",
        s.digests_valid, s.digests_invalid, s.digests_missing
    )?;
    writeln!(
        f,
        "log files: {} valid, {} modified, {} missing, {} invalid, {} not covered, {} \
         unverified, {} pending",
        s.logs_valid,
        s.logs_modified,
        s.logs_missing,
        s.logs_invalid,
        s.logs_not_covered,
        s.logs_unverified,
        s.logs_pending
    )?;
    writeln!(
        f,
        "chains: {} gaps, {} broken links, {} unlinked digests, {} links to other buckets",
        s.gaps, s.broken_links, s.unlinked, s.other_bucket_links
    )?;
    if valid {
        write!(f, "result: VALID")?;
        if s.warnings() > 0 {
            write!(f, " ({} warnings)", s.warnings())?;
        }
        writeln!(f)
    } else if s.digests_valid == 0 && s.problems() == 0 {
        writeln!(f, "result: FAILED (no digest files found in the range)")
    } else {
        writeln!(f, "result: FAILED ({} problems)", s.problems())
    }
}
