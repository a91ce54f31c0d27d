//! CloudTrail trails as the controls see them: deduplicated across regions, with their
//! selectors interpreted.

use std::collections::{HashMap, HashSet};

use crate::snapshot::{
    AccountSnapshot, AdvancedEventSelector, Bucket, Snapshot, Trail, TrailSelectors,
};

/// The trails an account sees, once each, and the regions whose DescribeTrails failed.
pub(crate) struct TrailView<'a> {
    pub trails: Vec<&'a Trail>,
    pub gaps: Vec<String>,
}

/// Every trail visible in any region of the account. DescribeTrails with shadow trails lists
/// a multi-region trail in every region: keep one copy, preferring its home region's.
pub(crate) fn visible(account: &AccountSnapshot) -> TrailView<'_> {
    let mut order: Vec<&str> = Vec::new();
    let mut chosen: HashMap<&str, &Trail> = HashMap::new();
    let mut gaps = Vec::new();
    for region in &account.regions {
        match region.logging.trails.get("cloudtrail:DescribeTrails") {
            Err(gap) => gaps.push(format!("{}: {gap}", region.region)),
            Ok(trails) => {
                for trail in trails {
                    let key = trail.trail_arn.as_str();
                    match chosen.get(key) {
                        None => {
                            order.push(key);
                            chosen.insert(key, trail);
                        }
                        Some(_) if trail.home_region == region.region => {
                            chosen.insert(key, trail);
                        }
                        Some(_) => {}
                    }
                }
            }
        }
    }
    let trails = order
        .into_iter()
        .filter_map(|key| chosen.get(key).copied())
        .collect();
    TrailView { trails, gaps }
}

/// The trail's ARN names the account (organisation trails seen from a member account do not).
pub(crate) fn owned_by(trail: &Trail, account: &AccountSnapshot) -> bool {
    trail.trail_arn.split(':').nth(4) == Some(account.account_id.as_str())
}

/// (read, write) coverage of one advanced selector's `readOnly` field.
fn advanced_read_write(selector: &AdvancedEventSelector) -> (bool, bool) {
    match selector
        .field_selectors
        .iter()
        .find(|f| f.field == "readOnly")
    {
        None => (true, true),
        Some(field) => {
            let read = field.equals.iter().any(|v| v == "true")
                || field.not_equals.iter().any(|v| v == "false");
            let write = field.equals.iter().any(|v| v == "false")
                || field.not_equals.iter().any(|v| v == "true");
            (read, write)
        }
    }
}

fn field_equals(selector: &AdvancedEventSelector, field: &str, value: &str) -> bool {
    selector
        .field_selectors
        .iter()
        .any(|f| f.field == field && f.equals.iter().any(|v| v == value))
}

/// The selectors record every read and every write management event (no excluded sources).
pub(crate) fn logs_management_events(selectors: &TrailSelectors) -> bool {
    let (mut read, mut write) = (false, false);
    for selector in &selectors.event_selectors {
        if selector.include_management_events
            && selector.exclude_management_event_sources.is_empty()
        {
            read |= matches!(selector.read_write_type.as_str(), "All" | "ReadOnly");
            write |= matches!(selector.read_write_type.as_str(), "All" | "WriteOnly");
        }
    }
    for selector in &selectors.advanced_event_selectors {
        let excludes = selector
            .field_selectors
            .iter()
            .any(|f| f.field == "eventSource");
        if field_equals(selector, "eventCategory", "Management") && !excludes {
            let (r, w) = advanced_read_write(selector);
            read |= r;
            write |= w;
        }
    }
    read && write
}

/// `arn:<partition>:s3` or `arn:<partition>:s3:::` — every bucket.
fn all_buckets(value: &str) -> bool {
    value.starts_with("arn:") && (value.ends_with(":s3") || value.ends_with(":s3:::"))
}

/// The selectors record S3 object-level events of the kind (write or read) for every bucket.
pub(crate) fn covers_s3_objects(selectors: &TrailSelectors, write: bool) -> bool {
    let basic = selectors.event_selectors.iter().any(|selector| {
        let kind_ok = match selector.read_write_type.as_str() {
            "All" => true,
            "WriteOnly" => write,
            "ReadOnly" => !write,
            _ => false,
        };
        kind_ok
            && selector
                .data_resources
                .iter()
                .any(|d| d.kind == "AWS::S3::Object" && d.values.iter().any(|v| all_buckets(v)))
    });
    let advanced = selectors.advanced_event_selectors.iter().any(|selector| {
        let (read, wrote) = advanced_read_write(selector);
        // Any filter on event names, callers or specific buckets leaves some writes/reads out.
        let narrowed = selector
            .field_selectors
            .iter()
            .any(|f| match f.field.as_str() {
                "eventName" | "userIdentity.arn" => true,
                "resources.ARN" => {
                    let excludes = !(f.not_equals.is_empty()
                        && f.not_starts_with.is_empty()
                        && f.not_ends_with.is_empty()
                        && f.ends_with.is_empty());
                    excludes
                        || !f
                            .starts_with
                            .iter()
                            .chain(&f.equals)
                            .all(|v| all_buckets(v))
                }
                _ => false,
            });
        field_equals(selector, "eventCategory", "Data")
            && field_equals(selector, "resources.type", "AWS::S3::Object")
            && !narrowed
            && if write { wrote } else { read }
    });
    basic || advanced
}

/// Buckets of every scanned account, by name, to find who owns a trail's bucket.
pub(crate) struct BucketIndex<'a> {
    by_name: HashMap<&'a str, (&'a str, &'a Bucket)>,
    /// Accounts whose bucket list could not be read.
    pub unreadable: HashSet<&'a str>,
}

impl<'a> BucketIndex<'a> {
    pub fn new(snapshot: &'a Snapshot) -> Self {
        let mut by_name = HashMap::new();
        let mut unreadable = HashSet::new();
        for account in &snapshot.accounts {
            match account.buckets.ok() {
                Some(buckets) => {
                    for bucket in buckets {
                        by_name.insert(bucket.name.as_str(), (account.account_id.as_str(), bucket));
                    }
                }
                None => {
                    unreadable.insert(account.account_id.as_str());
                }
            }
        }
        BucketIndex {
            by_name,
            unreadable,
        }
    }

    /// (owner account, bucket) for a bucket name.
    pub fn find(&self, name: &str) -> Option<(&'a str, &'a Bucket)> {
        self.by_name.get(name).copied()
    }
}
