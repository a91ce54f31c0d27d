//! Assertions over evaluated results, one module per control area. Each area module has
//! `live` (the moto collection as it is) and `edited` (the same collected snapshot with one
//! field changed, for the state moto cannot create — old dates, root credentials — or for
//! the other side of an account-level control, which has one result per account).
//!
//! [`Checks`] collects mismatches instead of stopping at the first, and remembers which
//! (control, status) pairs were asserted, so the test can prove every control has both a
//! failing and a passing case ([`Coverage`]).

pub mod data;
pub mod detection;
pub mod identity;
pub mod infrastructure;
pub mod readiness;

use std::collections::{BTreeMap, BTreeSet};

use vigil_posture::snapshot::{AccountSnapshot, RegionSnapshot};
use vigil_posture::{evaluate, ControlResult, EvalOptions, Snapshot, Status};

/// Which statuses were asserted for which control, over every [`Checks`] of the run.
#[derive(Default)]
pub struct Coverage {
    asserted: BTreeMap<String, BTreeSet<Status>>,
    failures: Vec<String>,
}

impl Coverage {
    /// Controls among VIG-01..VIG-75 without both an asserted FAIL and an asserted PASS.
    pub fn missing_pairs(&self) -> Vec<String> {
        (1..=75)
            .map(|n| format!("VIG-{n:02}"))
            .filter(|id| {
                let seen = self.asserted.get(id);
                !seen.is_some_and(|s| s.contains(&Status::Fail) && s.contains(&Status::Pass))
            })
            .collect()
    }

    /// Every mismatch of every [`Checks`] absorbed so far.
    pub fn failures(&self) -> &[String] {
        &self.failures
    }

    pub fn absorb(&mut self, checks: Checks) {
        for (control, statuses) in checks.asserted {
            self.asserted.entry(control).or_default().extend(statuses);
        }
        self.failures.extend(checks.failures);
    }
}

/// The results of one evaluation and the mismatches found in them.
pub struct Checks {
    label: String,
    results: Vec<ControlResult>,
    failures: Vec<String>,
    asserted: BTreeMap<String, BTreeSet<Status>>,
}

impl Checks {
    pub fn new(label: &str, results: Vec<ControlResult>) -> Self {
        Checks {
            label: label.to_string(),
            results,
            failures: Vec::new(),
            asserted: BTreeMap::new(),
        }
    }

    /// Evaluates a copy of `snapshot` with its (only) account changed by `edit`.
    pub fn edited(
        label: &str,
        snapshot: &Snapshot,
        edit: impl FnOnce(&mut AccountSnapshot),
    ) -> Self {
        let mut copy = snapshot.clone();
        edit(&mut copy.accounts[0]);
        Checks::new(label, evaluate(&copy, &EvalOptions::default()))
    }

    fn fail(&mut self, text: String) {
        self.failures.push(format!("[{}] {text}", self.label));
    }

    fn note(&mut self, control: &str, status: Status) {
        self.asserted
            .entry(control.to_string())
            .or_default()
            .insert(status);
    }

    fn matching(&self, control: &str, keep: impl Fn(&ControlResult) -> bool) -> Vec<usize> {
        (0..self.results.len())
            .filter(|&i| self.results[i].control == control && keep(&self.results[i]))
            .collect()
    }

    fn judge(&mut self, control: &str, what: &str, found: Vec<usize>, status: Status) {
        self.note(control, status);
        if found.is_empty() {
            let ids: Vec<String> = self
                .results
                .iter()
                .filter(|r| r.control == control)
                .map(|r| format!("{} ({})", r.resource.id, r.resource.region))
                .collect();
            return self.fail(format!(
                "{control}: no result for {what} (results: {ids:?})"
            ));
        }
        for i in found {
            let r = &self.results[i];
            if r.status != status {
                let text = format!(
                    "{control} {} ({}): expected {status}, got {}: {}",
                    r.resource.id, r.resource.region, r.status, r.reason
                );
                self.fail(text);
            }
        }
    }

    /// The results of `control` about a resource whose id contains `resource` all have
    /// `status` (and there is at least one).
    pub fn expect(&mut self, control: &str, resource: &str, status: Status) {
        let found = self.matching(control, |r| r.resource.id.contains(resource));
        self.judge(control, resource, found, status);
    }

    /// Every result of `control` has `status` (account-level controls).
    pub fn expect_all(&mut self, control: &str, status: Status) {
        let found = self.matching(control, |_| true);
        self.judge(control, "the account", found, status);
    }

    /// Every result of `control` in `region` has `status`.
    pub fn expect_in(&mut self, control: &str, region: &str, status: Status) {
        let found = self.matching(control, |r| r.resource.region == region);
        self.judge(control, region, found, status);
    }

    /// Every result of `control` is UNKNOWN and names `call` — never PASS.
    pub fn expect_unknown(&mut self, control: &str, call: &str) {
        let found = self.matching(control, |_| true);
        self.expect_unknown_among(control, call, found);
    }

    fn expect_unknown_among(&mut self, control: &str, call: &str, found: Vec<usize>) {
        self.note(control, Status::Unknown);
        if found.is_empty() {
            return self.fail(format!("{control}: no result"));
        }
        for i in found {
            let r = &self.results[i];
            if r.status != Status::Unknown || !r.reason.contains(call) {
                let text = format!(
                    "{control} {} ({}): expected UNKNOWN naming {call}, got {}: {}",
                    r.resource.id, r.resource.region, r.status, r.reason
                );
                self.fail(text);
            }
        }
    }

    /// A mismatch found by the caller's own check.
    pub fn report(&mut self, text: String) {
        self.fail(text);
    }
}

/// The data of one region of the account.
pub fn region<'a>(account: &'a mut AccountSnapshot, name: &str) -> &'a mut RegionSnapshot {
    let index = account
        .regions
        .iter()
        .position(|r| r.region == name)
        .unwrap_or_else(|| panic!("region {name} was not collected"));
    &mut account.regions[index]
}

/// The collected value, which the edit needs (a failed call here is a test failure).
pub fn ok<'a, T: std::fmt::Debug>(
    value: &'a mut vigil_posture::Collected<T>,
    what: &str,
) -> &'a mut T {
    match value {
        vigil_posture::Collected::Ok(inner) => inner,
        other => panic!("{what} was not collected: {other:?}"),
    }
}
