//! The shape every control shares: a sink for results, resource references, and walkers
//! over per-region lists that turn a failed call into UNKNOWN and an empty account into
//! NOT_APPLICABLE.

use std::fmt::Display;

use chrono::{DateTime, Utc};
use serde_json::Value;
use vigil_findings::{Severity, SeverityLabel};

use crate::result::{ControlResult, ResourceRef, Status};
use crate::snapshot::{AccountSnapshot, Collected, RegionSnapshot};

/// The region name of global resources.
pub(crate) const GLOBAL: &str = "global";

pub(crate) const CRITICAL: Severity = Severity {
    label: SeverityLabel::Critical,
    score: 90,
};
pub(crate) const HIGH: Severity = Severity {
    label: SeverityLabel::High,
    score: 70,
};
pub(crate) const MEDIUM: Severity = Severity {
    label: SeverityLabel::Medium,
    score: 50,
};
pub(crate) const LOW: Severity = Severity {
    label: SeverityLabel::Low,
    score: 30,
};

/// Collects one control's results.
pub(crate) struct Out {
    control: &'static str,
    partition: String,
    results: Vec<ControlResult>,
}

impl Out {
    pub fn new(control: &'static str, partition: &str) -> Out {
        Out {
            control,
            partition: partition.to_string(),
            results: Vec::new(),
        }
    }

    pub fn into_results(self) -> Vec<ControlResult> {
        self.results
    }

    pub fn len(&self) -> usize {
        self.results.len()
    }

    pub fn partition(&self) -> &str {
        &self.partition
    }

    pub fn push(
        &mut self,
        resource: ResourceRef,
        status: Status,
        reason: impl Into<String>,
        details: Value,
    ) {
        self.results.push(ControlResult {
            control: self.control.to_string(),
            status,
            resource,
            reason: reason.into(),
            details,
            muted: None,
        });
    }

    pub fn pass(&mut self, resource: ResourceRef, reason: impl Into<String>) {
        self.push(resource, Status::Pass, reason, Value::Null);
    }

    pub fn fail(&mut self, resource: ResourceRef, reason: impl Into<String>, details: Value) {
        self.push(resource, Status::Fail, reason, details);
    }

    pub fn unknown(&mut self, resource: ResourceRef, why: impl Display) {
        self.push(resource, Status::Unknown, why.to_string(), Value::Null);
    }

    pub fn not_applicable(&mut self, resource: ResourceRef, reason: impl Into<String>) {
        self.push(resource, Status::NotApplicable, reason, Value::Null);
    }

    /// PASS or FAIL on one condition.
    pub fn judge(&mut self, resource: ResourceRef, ok: bool, pass: String, fail: String) {
        if ok {
            self.pass(resource, pass);
        } else {
            self.fail(resource, fail, Value::Null);
        }
    }
}

/// The account itself, in a region (`global` for account-wide settings).
pub(crate) fn account_ref(account: &AccountSnapshot, region: &str) -> ResourceRef {
    ResourceRef {
        id: format!("AWS::::Account:{}", account.account_id),
        kind: "AWS::::Account".into(),
        account: account.account_id.clone(),
        region: region.into(),
    }
}

/// A resource of `kind` with id (ARN) `id`.
pub(crate) fn resource(
    kind: &str,
    id: impl Into<String>,
    account: &AccountSnapshot,
    region: &str,
) -> ResourceRef {
    ResourceRef {
        id: id.into(),
        kind: kind.into(),
        account: account.account_id.clone(),
        region: region.into(),
    }
}

/// An ARN in the snapshot's partition.
pub(crate) fn arn(out: &Out, service: &str, region: &str, account: &str, path: &str) -> String {
    format!(
        "arn:{}:{service}:{region}:{account}:{path}",
        out.partition()
    )
}

/// Whole days from `then` to `now` (negative if `then` is later).
pub(crate) fn days_since(now: DateTime<Utc>, then: DateTime<Utc>) -> i64 {
    (now - then).num_days()
}

/// Judges every item of a per-region list of one account. A region whose list could not
/// be read gives one UNKNOWN for that region; an account where nothing was judged (and
/// nothing was unknown) gives one NOT_APPLICABLE naming `noun`.
pub(crate) fn each_regional<T>(
    out: &mut Out,
    account: &AccountSnapshot,
    call: &str,
    noun: &str,
    list: impl Fn(&RegionSnapshot) -> &Collected<Vec<T>>,
    mut judge: impl FnMut(&mut Out, &RegionSnapshot, &T),
) {
    let before = out.len();
    for region in &account.regions {
        match list(region).get(call) {
            Ok(items) => items.iter().for_each(|item| judge(out, region, item)),
            Err(gap) => out.unknown(account_ref(account, &region.region), gap),
        }
    }
    if out.len() == before {
        let scope = format!("{} scanned region(s)", account.regions.len());
        out.not_applicable(
            account_ref(account, GLOBAL),
            format!("No {noun} in the {scope}."),
        );
    }
}

/// Judges every item of an account-wide list (IAM, S3); see [`each_regional`].
pub(crate) fn each_global<T>(
    out: &mut Out,
    account: &AccountSnapshot,
    call: &str,
    noun: &str,
    list: &Collected<Vec<T>>,
    mut judge: impl FnMut(&mut Out, &T),
) {
    let before = out.len();
    match list.get(call) {
        Ok(items) => items.iter().for_each(|item| judge(out, item)),
        Err(gap) => out.unknown(account_ref(account, GLOBAL), gap),
    }
    if out.len() == before {
        out.not_applicable(
            account_ref(account, GLOBAL),
            format!("No {noun} in the account."),
        );
    }
}

/// Judges one per-region setting of one account: UNKNOWN where it could not be read.
pub(crate) fn each_region<T>(
    out: &mut Out,
    account: &AccountSnapshot,
    call: &str,
    value: impl Fn(&RegionSnapshot) -> &Collected<T>,
    mut judge: impl FnMut(&mut Out, &RegionSnapshot, &T),
) {
    for region in &account.regions {
        match value(region).get(call) {
            Ok(item) => judge(out, region, item),
            Err(gap) => out.unknown(account_ref(account, &region.region), gap),
        }
    }
}

/// Joins names for a reason sentence: `a, b and c`.
pub(crate) fn join(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}
