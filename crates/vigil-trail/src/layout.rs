//! CloudTrail's S3 key layout: where digests and log files live and what their names say.
//!
//! ```text
//! [prefix/]AWSLogs/[o-org/]<account>/CloudTrail-Digest/<region>/YYYY/MM/DD/
//!     <account>_CloudTrail-Digest_<region>_<trail>_<home-region>_<YYYYMMDDTHHMMSSZ>.json.gz
//! [prefix/]AWSLogs/[o-org/]<account>/CloudTrail/<region>/YYYY/MM/DD/
//!     <account>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<unique>.json.gz
//! ```
//! (The CloudTrail user guide, "CloudTrail digest file structure" and "Finding your
//! CloudTrail log files".) Names are parsed, never guessed: a key that does not have this
//! shape is not a digest or a log file.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};

use crate::error::TrailError;

/// The folder of digest files below an account.
pub const DIGEST_FOLDER: &str = "CloudTrail-Digest";
/// The folder of log files below an account.
pub const LOG_FOLDER: &str = "CloudTrail";

/// Where a trail's files are, and which of them to look at.
///
/// `account`, `region` and `trail_name` narrow the search; when `None`, every account, region
/// or trail found under the prefix is verified.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrailLocation {
    /// The trail's S3 key prefix (the part before `AWSLogs/`), without slashes at the ends.
    pub prefix: Option<String>,
    /// The organisation id of an organisation trail (`o-...`).
    pub org_id: Option<String>,
    /// The 12-digit account whose files to verify.
    pub account: Option<String>,
    /// The region whose files to verify (the region in the key path).
    pub region: Option<String>,
    /// Only the digests of this trail (the trail name in the digest file name).
    pub trail_name: Option<String>,
}

impl TrailLocation {
    /// Checks the fields and normalises the prefix (no leading or trailing `/`).
    pub fn validated(mut self) -> Result<Self, TrailError> {
        if let Some(prefix) = &self.prefix {
            let trimmed = prefix.trim_matches('/');
            let bad_segment = |s: &str| s.is_empty() || s == "." || s == "..";
            if !trimmed.is_empty() && trimmed.split('/').any(bad_segment) {
                return Err(TrailError::InvalidOption(format!(
                    "prefix {prefix:?} has an empty, `.` or `..` segment"
                )));
            }
            self.prefix = (!trimmed.is_empty()).then(|| trimmed.to_string());
        }
        if let Some(account) = &self.account {
            if !is_account(account) {
                return Err(TrailError::InvalidOption(format!(
                    "account id {account:?} must be 12 digits"
                )));
            }
        }
        if let Some(org) = &self.org_id {
            if !is_org_id(org) {
                return Err(TrailError::InvalidOption(format!(
                    "organisation id {org:?} must look like o-abc123def4 (o- and 10 to 32 \
                     lowercase letters or digits)"
                )));
            }
        }
        if let Some(region) = &self.region {
            if !is_region(region) {
                return Err(TrailError::InvalidOption(format!(
                    "region {region:?} is not a region name such as us-east-1"
                )));
            }
        }
        Ok(self)
    }

    /// `[prefix/]AWSLogs/`: the folder that holds accounts (or organisation ids).
    pub fn awslogs_root(&self) -> String {
        match &self.prefix {
            Some(p) => format!("{p}/AWSLogs/"),
            None => "AWSLogs/".to_string(),
        }
    }
}

/// What a digest file's key says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestName {
    /// The key up to and including `AWSLogs/[org/]<account>/` (where this account's files are).
    pub account_root: String,
    pub org_id: Option<String>,
    pub account: String,
    /// The region whose events the digest covers (the folder region).
    pub region: String,
    pub trail_name: String,
    /// The trail's home region.
    pub home_region: String,
    /// The digest's end time, from the name (to the second).
    pub end: DateTime<Utc>,
}

impl DigestName {
    /// Parses a digest key; `None` when the key is not a CloudTrail digest key.
    pub fn parse(key: &str) -> Option<Self> {
        let at = FolderKey::parse(key, DIGEST_FOLDER)?;
        let head = format!("{}_CloudTrail-Digest_{}_", at.account, at.region);
        let rest = at.file.strip_prefix(&head)?.strip_suffix(".json.gz")?;
        let (rest, stamp) = rest.rsplit_once('_')?;
        let (trail_name, home_region) = rest.rsplit_once('_')?;
        if trail_name.is_empty() || !is_region(home_region) {
            return None;
        }
        let end = NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%SZ")
            .ok()?
            .and_utc();
        if !at.date_matches(end) {
            return None;
        }
        Some(DigestName {
            account_root: at.account_root,
            org_id: at.org_id,
            account: at.account,
            region: at.region,
            trail_name: trail_name.to_string(),
            home_region: home_region.to_string(),
            end,
        })
    }
}

/// What a log file's key says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogName {
    pub account_root: String,
    pub org_id: Option<String>,
    pub account: String,
    pub region: String,
    /// The time in the file name (to the minute).
    pub time: DateTime<Utc>,
}

impl LogName {
    /// Parses a log file key; `None` when the key is not a CloudTrail log file key.
    pub fn parse(key: &str) -> Option<Self> {
        let at = FolderKey::parse(key, LOG_FOLDER)?;
        let head = format!("{}_CloudTrail_{}_", at.account, at.region);
        let rest = at.file.strip_prefix(&head)?.strip_suffix(".json.gz")?;
        let (stamp, unique) = rest.split_once('_')?;
        if unique.is_empty() {
            return None;
        }
        let time = NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%MZ")
            .ok()?
            .and_utc();
        Some(LogName {
            account_root: at.account_root,
            org_id: at.org_id,
            account: at.account,
            region: at.region,
            time,
        })
    }
}

/// The common part of digest and log keys:
/// `[prefix/]AWSLogs/[org/]<account>/<folder>/<region>/YYYY/MM/DD/<file>`.
struct FolderKey<'a> {
    account_root: String,
    org_id: Option<String>,
    account: String,
    region: String,
    date: NaiveDate,
    file: &'a str,
}

impl<'a> FolderKey<'a> {
    fn parse(key: &'a str, folder: &str) -> Option<Self> {
        let segments: Vec<&str> = key.split('/').collect();
        // The last `AWSLogs` segment: a prefix may itself contain one.
        let logs = segments.iter().rposition(|s| *s == "AWSLogs")?;
        let after = &segments[logs + 1..];
        let (org_id, after) = match after {
            [org, account, ..] if is_org_id(org) && is_account(account) => {
                (Some(org.to_string()), &after[1..])
            }
            _ => (None, after),
        };
        let [account, f, region, year, month, day, file] = after else {
            return None;
        };
        if !is_account(account) || *f != folder || !is_region(region) {
            return None;
        }
        let date =
            NaiveDate::from_ymd_opt(year.parse().ok()?, month.parse().ok()?, day.parse().ok()?)?;
        if year.len() != 4 || month.len() != 2 || day.len() != 2 {
            return None;
        }
        let root_segments = logs + 1 + usize::from(org_id.is_some()) + 1;
        Some(FolderKey {
            account_root: format!("{}/", segments[..root_segments].join("/")),
            org_id,
            account: account.to_string(),
            region: region.to_string(),
            date,
            file,
        })
    }

    fn date_matches(&self, time: DateTime<Utc>) -> bool {
        self.date == time.date_naive()
    }
}

/// The day folders (`YYYY/MM/DD/`) from `start` to `end`, both included.
pub fn day_folders(start: DateTime<Utc>, end: DateTime<Utc>) -> Vec<String> {
    let mut day = start.date_naive();
    let last = end.date_naive();
    let mut out = Vec::new();
    while day <= last {
        out.push(day.format("%Y/%m/%d/").to_string());
        match day.succ_opt() {
            Some(next) => day = next,
            None => break,
        }
    }
    out
}

/// How long after a log file's time the digest that lists it may end: digests are written
/// hourly and list the files delivered in their hour, so an hour plus delivery delays.
pub fn digest_spillover() -> Duration {
    Duration::minutes(90)
}

/// True for a 12-digit account id.
pub fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// True for an organisation id (`o-` and 10 to 32 lowercase letters or digits).
pub fn is_org_id(s: &str) -> bool {
    s.strip_prefix("o-").is_some_and(|rest| {
        (10..=32).contains(&rest.len())
            && rest
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    })
}

/// True for something shaped like a region name (`us-east-1`, `us-gov-west-1`, `cn-north-1`).
pub fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const DIGEST: &str = "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/\
        111122223333_CloudTrail-Digest_us-east-2_your-trail-name_us-east-2_20150817T150131Z.json.gz";
    const LOG: &str = "AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/17/\
        111122223333_CloudTrail_us-east-2_20150817T1445Z_9nYN7gp2eWAJHIfT.json.gz";

    #[test]
    fn parses_the_documented_digest_key() {
        let name = DigestName::parse(DIGEST).expect("documented key");
        assert_eq!(name.account, "111122223333");
        assert_eq!(name.region, "us-east-2");
        assert_eq!(name.trail_name, "your-trail-name");
        assert_eq!(name.home_region, "us-east-2");
        assert_eq!(name.org_id, None);
        assert_eq!(name.account_root, "AWSLogs/111122223333/");
        assert_eq!(
            name.end,
            Utc.with_ymd_and_hms(2015, 8, 17, 15, 1, 31).unwrap()
        );
    }

    #[test]
    fn parses_prefixed_organisation_keys_and_trail_names_with_underscores() {
        let key = "logs/a/AWSLogs/o-exampleorgid/111122223333/CloudTrail-Digest/eu-west-1/\
            2024/02/29/111122223333_CloudTrail-Digest_eu-west-1_org_trail_1_us-east-1_\
            20240229T235959Z.json.gz";
        let name = DigestName::parse(key).expect("org key");
        assert_eq!(name.org_id.as_deref(), Some("o-exampleorgid"));
        assert_eq!(name.trail_name, "org_trail_1");
        assert_eq!(name.home_region, "us-east-1");
        assert_eq!(name.region, "eu-west-1");
        assert_eq!(
            name.account_root,
            "logs/a/AWSLogs/o-exampleorgid/111122223333/"
        );
    }

    #[test]
    fn rejects_keys_that_are_not_digests() {
        for key in [
            LOG,
            "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/notes.txt",
            // day folder does not match the time in the name
            "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/18/\
             111122223333_CloudTrail-Digest_us-east-2_t_us-east-2_20150817T150131Z.json.gz",
            // another account's name in this account's folder
            "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/\
             444455556666_CloudTrail-Digest_us-east-2_t_us-east-2_20150817T150131Z.json.gz",
            "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/13/17/\
             111122223333_CloudTrail-Digest_us-east-2_t_us-east-2_20151317T150131Z.json.gz",
        ] {
            assert_eq!(DigestName::parse(key), None, "{key}");
        }
    }

    #[test]
    fn parses_the_documented_log_key() {
        let name = LogName::parse(LOG).expect("documented key");
        assert_eq!(name.region, "us-east-2");
        assert_eq!(
            name.time,
            Utc.with_ymd_and_hms(2015, 8, 17, 14, 45, 0).unwrap()
        );
        assert_eq!(LogName::parse(DIGEST), None);
    }

    #[test]
    fn validates_options() {
        let ok = TrailLocation {
            prefix: Some("/trails/prod/".into()),
            account: Some("111122223333".into()),
            org_id: Some("o-aa11bb22cc".into()),
            region: Some("us-gov-west-1".into()),
            trail_name: None,
        }
        .validated()
        .unwrap();
        assert_eq!(ok.prefix.as_deref(), Some("trails/prod"));
        assert_eq!(ok.awslogs_root(), "trails/prod/AWSLogs/");
        for bad in [
            TrailLocation {
                account: Some("1234".into()),
                ..Default::default()
            },
            TrailLocation {
                org_id: Some("org-1".into()),
                ..Default::default()
            },
            TrailLocation {
                region: Some("useast1".into()),
                ..Default::default()
            },
            TrailLocation {
                prefix: Some("a/../b".into()),
                ..Default::default()
            },
        ] {
            assert!(bad.clone().validated().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn lists_day_folders_across_a_month_end() {
        let start = Utc.with_ymd_and_hms(2024, 2, 28, 23, 0, 0).unwrap();
        let end = Utc.with_ymd_and_hms(2024, 3, 1, 0, 30, 0).unwrap();
        assert_eq!(
            day_folders(start, end),
            ["2024/02/28/", "2024/02/29/", "2024/03/01/"]
        );
    }
}
