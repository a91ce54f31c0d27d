//! The store interface: SQLite implements it here; PostgreSQL can implement it later.

use vigil_findings::{Finding, Status};

use crate::{BaselineValue, FindingContribution, FindingFilter, Result, Suppression, UpsertReport};

/// Where findings, suppressions and first-seen baselines live.
///
/// Writes are idempotent: a finding is the merge of its inputs' contributions, and a
/// contribution upserted again for the same input replaces the earlier one. Status and
/// history belong to the store and survive every upsert.
pub trait Store {
    /// Stores a batch of contributions atomically. A finding seen for the first time starts
    /// as NEW with a history entry, or as SUPPRESSED when an active suppression matches it.
    ///
    /// A backend must give the same stored findings however a caller cuts its contributions
    /// into batches: a finding is the merge ([`Finding::merge`]) of all its inputs'
    /// contributions in input-key order, with its status and history. Within a batch, a
    /// finding with several contributions is written once (`created` or `updated` counts it
    /// once); a contribution given twice counts as given last. The report lists the batch's
    /// findings that are SUPPRESSED after the upsert ([`UpsertReport::suppressed_ids`]), so
    /// callers need not read them back.
    fn upsert_findings(&mut self, batch: &[FindingContribution]) -> Result<UpsertReport>;

    /// The finding with this id.
    fn get(&self, id: &str) -> Result<Option<Finding>>;

    /// The findings that pass `filter`, newest (last seen) first.
    fn list(&self, filter: &FindingFilter) -> Result<Vec<Finding>>;

    /// Moves a finding to `status`, recording who and why; returns the updated finding.
    fn set_status(&mut self, id: &str, status: Status, by: &str, reason: &str) -> Result<Finding>;

    /// Adds a suppression and applies it to the stored NEW and NOTIFIED findings it
    /// matches; returns how many it suppressed.
    fn add_suppression(&mut self, suppression: &Suppression) -> Result<u64>;

    /// Every suppression, expired ones included, oldest first.
    fn list_suppressions(&self) -> Result<Vec<Suppression>>;

    /// Removes a suppression; `false` when there was none with this id. Findings it already
    /// suppressed stay suppressed.
    fn remove_suppression(&mut self, id: &str) -> Result<bool>;

    /// Whether a first-seen rule has seen `value` for `group`.
    fn baseline_contains(&self, rule_id: &str, group: &str, value: &str) -> Result<bool>;

    /// Records `value` for `group` as seen at `first_ms` (keeping the earliest time);
    /// returns whether it is new.
    fn baseline_insert(
        &mut self,
        rule_id: &str,
        group: &str,
        value: &str,
        first_ms: i64,
    ) -> Result<bool>;

    /// Every value a first-seen rule has seen, with its group and first time, ordered by
    /// group and value.
    fn baseline_load(&self, rule_id: &str) -> Result<Vec<BaselineValue>>;

    /// Records many values at once, in one transaction, keeping the earliest time of each;
    /// returns how many were new.
    fn baseline_insert_many(&mut self, rule_id: &str, entries: &[BaselineValue]) -> Result<u64>;
}
