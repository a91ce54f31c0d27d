//! The posture scan's inventory: concurrent AWS collectors that fill a
//! [`vigil_posture::Snapshot`], which the controls then evaluate offline.
//!
//! [`collect`] resolves the accounts (the caller's own, a list, or AWS Organizations
//! `ListAccounts`) and the regions (the context's, a list, or every enabled region from
//! `ec2:DescribeRegions`), then runs one collector per service, region and account
//! concurrently. Every request — each page of a paginated call included — goes through one
//! semaphore ([`InventoryOptions::concurrency`]), is counted ([`CollectStats`]), and has its
//! error kept next to where its data would be, so the controls that need it report UNKNOWN
//! naming the call, never PASS. "Not configured" answers (`NoSuchBucketPolicy`,
//! `NoSuchEntity` for the password policy, …) are data. Throttling is retried with
//! exponential backoff by the SDK's standard retry mode, configured in
//! [`vigil_aws::AwsContext`], which also assumes the scan role in each account.
//!
//! Main items: [`InventoryOptions`], [`collect`], [`CollectStats`], [`ProgressEvent`],
//! [`InventoryError`], [`SERVICES`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use vigil_aws::{AwsContext, AwsOptions};
//! use vigil_inventory::{collect, InventoryOptions};
//!
//! let ctx = AwsContext::load(AwsOptions::default()).await?;
//! let opts = InventoryOptions { regions: vec!["eu-west-1".into()], ..Default::default() };
//! let (snapshot, stats) = collect(&ctx, &opts, &|event| eprintln!("{event:?}")).await?;
//! snapshot.save("inventory.json")?;
//! println!("{} API calls, {} failed", stats.api_calls, stats.api_errors);
//! # Ok(()) }
//! ```

mod call;
mod collect;
mod convert;
mod run;

/// Reads one resource's policy by ARN, for `vigil policy analyze ARN` (written by the lead).
pub mod resource_policy;

use std::collections::BTreeMap;

use vigil_posture::Snapshot;

pub use run::SERVICES;

/// What to collect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InventoryOptions {
    /// Regions to scan. Empty: the context's region. `"all"` (alone or in the list): every
    /// region enabled for the account (`ec2:DescribeRegions`).
    pub regions: Vec<String>,
    /// Account ids to scan, each through the context's role. Empty: the caller's own.
    pub accounts: Vec<String>,
    /// Add every ACTIVE account of the organisation (`organizations:ListAccounts`, from the
    /// management or a delegated administrator account).
    pub use_organization: bool,
    /// At most this many AWS requests in flight at once (default 16).
    pub concurrency: usize,
    /// Collect only these services (names from [`SERVICES`]); `None` = all. Data of other
    /// services stays `not_collected`, and the controls that need it say so.
    pub services: Option<Vec<String>>,
}

impl Default for InventoryOptions {
    fn default() -> Self {
        InventoryOptions {
            regions: Vec::new(),
            accounts: Vec::new(),
            use_organization: false,
            concurrency: 16,
            services: None,
        }
    }
}

/// How much the inventory asked of AWS.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CollectStats {
    /// Requests made, every page of a paginated call counted (retries of one request are
    /// the SDK's and count once).
    pub api_calls: u64,
    /// Requests that failed after their retries (denied, unsupported, transport).
    pub api_errors: u64,
    /// Per service (`iam`, `ec2`, …): (calls, errors).
    pub per_service: BTreeMap<String, (u64, u64)>,
}

/// What the collectors are doing, for a progress display.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProgressEvent {
    /// Accounts and regions are resolved; `groups` call groups will start and finish.
    Planned {
        /// The accounts to scan.
        accounts: Vec<String>,
        /// The regions to scan in each.
        regions: Vec<String>,
        /// The number of (account, region, service) groups.
        groups: usize,
    },
    /// A group of calls to one service in one region of one account started.
    GroupStarted {
        /// Account id.
        account: String,
        /// Region, or the home region for global services.
        region: String,
        /// Service name (one of [`SERVICES`]).
        service: &'static str,
    },
    /// The group finished.
    GroupFinished {
        /// Account id.
        account: String,
        /// Region.
        region: String,
        /// Service name.
        service: &'static str,
        /// Requests it made.
        calls: u64,
        /// Requests that failed.
        errors: u64,
    },
    /// An account could not be reached at all (its role could not be assumed): every
    /// item of it is recorded as this error.
    AccountFailed {
        /// Account id.
        account: String,
        /// Why.
        reason: String,
    },
}

/// Why an inventory could not be made at all. Failures of single calls are not errors:
/// they are recorded in the snapshot.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    /// An option is invalid.
    #[error("invalid inventory option: {0}")]
    InvalidOption(String),
    /// The AWS configuration could not be built.
    #[error(transparent)]
    Aws(#[from] vigil_aws::AwsError),
    /// The region list could not be read (`ec2:DescribeRegions` for `all`).
    #[error("cannot list the enabled regions ({call} failed, {code}): {message}")]
    Regions {
        /// The call.
        call: String,
        /// AWS error code.
        code: String,
        /// Message.
        message: String,
    },
    /// The organisation's accounts could not be listed.
    #[error("cannot list the organisation's accounts ({call} failed, {code}): {message}")]
    Organization {
        /// The call.
        call: String,
        /// AWS error code.
        code: String,
        /// Message.
        message: String,
    },
    /// A collector task panicked (a bug in vigil).
    #[error("an inventory task failed: {0}")]
    Task(String),
}

/// Collects the inventory of every selected account and region.
///
/// `progress` is called from the calling task as groups of calls start and finish. Only
/// problems that prevent a scan at all are errors; a failed call is recorded in the
/// snapshot (and counted in [`CollectStats::api_errors`]).
pub async fn collect(
    ctx: &vigil_aws::AwsContext,
    opts: &InventoryOptions,
    progress: &dyn Fn(ProgressEvent),
) -> Result<(Snapshot, CollectStats), InventoryError> {
    run::collect(ctx, opts, progress).await
}
