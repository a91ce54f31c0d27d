//! Finding the digests and log files of a time range, by listing only the folders that can
//! hold them: accounts (and organisation ids) and regions by folder listing, then one listing
//! per day folder when a start time is given.

use chrono::{DateTime, Utc};

use crate::error::SourceError;
use crate::layout::{
    day_folders, digest_spillover, is_account, is_org_id, is_region, DigestName, LogName,
    TrailLocation, DIGEST_FOLDER, LOG_FOLDER,
};
use crate::source::Source;

/// A time range; `start: None` means from the first file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Range {
    pub start: Option<DateTime<Utc>>,
    pub end: DateTime<Utc>,
}

impl Range {
    /// Digests that can list the log files of the range: those ending in it, or up to the
    /// spillover after it.
    fn holds_digest(&self, end: DateTime<Utc>) -> bool {
        self.start.is_none_or(|s| end >= s) && end <= self.end + digest_spillover()
    }

    fn holds_log(&self, time: DateTime<Utc>) -> bool {
        self.start.is_none_or(|s| time >= s) && time <= self.end
    }
}

/// The digests and log files found for a range.
#[derive(Debug, Default)]
pub(crate) struct Found {
    pub digests: Vec<(String, DigestName)>,
    pub logs: Vec<(String, LogName)>,
}

/// Lists the digests and log files of `location` in `range`.
pub(crate) async fn discover<S: Source>(
    source: &S,
    location: &TrailLocation,
    range: Range,
) -> Result<Found, SourceError> {
    let mut found = Found::default();
    for account_root in account_roots(source, location).await? {
        for region in regions(source, location, &account_root).await? {
            let digest_folder = format!("{account_root}{DIGEST_FOLDER}/{region}/");
            for key in list_range(source, &digest_folder, range, true).await? {
                if let Some(name) = DigestName::parse(&key) {
                    let trail_ok = location
                        .trail_name
                        .as_ref()
                        .is_none_or(|t| *t == name.trail_name);
                    if trail_ok && name.account_root == account_root && range.holds_digest(name.end)
                    {
                        found.digests.push((key, name));
                    }
                }
            }
            let log_folder = format!("{account_root}{LOG_FOLDER}/{region}/");
            for key in list_range(source, &log_folder, range, false).await? {
                if let Some(name) = LogName::parse(&key) {
                    if name.account_root == account_root && range.holds_log(name.time) {
                        found.logs.push((key, name));
                    }
                }
            }
        }
    }
    Ok(found)
}

/// `[prefix/]AWSLogs/[org/]<account>/` for every account to look at.
async fn account_roots<S: Source>(
    source: &S,
    location: &TrailLocation,
) -> Result<Vec<String>, SourceError> {
    let root = location.awslogs_root();
    let wanted = |account: &str| location.account.as_ref().is_none_or(|a| a == account);
    let mut out = Vec::new();
    for folder in source.list_folders(&root).await? {
        if is_account(&folder) && location.org_id.is_none() && wanted(&folder) {
            out.push(format!("{root}{folder}/"));
        } else if is_org_id(&folder) && location.org_id.as_ref().is_none_or(|o| *o == folder) {
            let org_root = format!("{root}{folder}/");
            for account in source.list_folders(&org_root).await? {
                if is_account(&account) && wanted(&account) {
                    out.push(format!("{org_root}{account}/"));
                }
            }
        }
    }
    Ok(out)
}

/// The regions to look at below an account.
async fn regions<S: Source>(
    source: &S,
    location: &TrailLocation,
    account_root: &str,
) -> Result<Vec<String>, SourceError> {
    if let Some(region) = &location.region {
        return Ok(vec![region.clone()]);
    }
    let mut out = Vec::new();
    for folder in [DIGEST_FOLDER, LOG_FOLDER] {
        for region in source
            .list_folders(&format!("{account_root}{folder}/"))
            .await?
        {
            if is_region(&region) && !out.contains(&region) {
                out.push(region);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The keys below `folder` (a region folder) for the range: one listing per day folder when
/// the range has a start, else the whole folder.
async fn list_range<S: Source>(
    source: &S,
    folder: &str,
    range: Range,
    digests: bool,
) -> Result<Vec<String>, SourceError> {
    let Some(start) = range.start else {
        return source.list_keys(folder).await;
    };
    let end = if digests {
        range.end + digest_spillover()
    } else {
        range.end
    };
    let mut keys = Vec::new();
    for day in day_folders(start, end) {
        keys.extend(source.list_keys(&format!("{folder}{day}")).await?);
    }
    Ok(keys)
}
