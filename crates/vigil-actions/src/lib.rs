//! vigil's response actions: the typed steps a playbook runs against AWS.
//!
//! Each action implements [`vigil_respond::action::Action`]: it documents itself, declares
//! the exact IAM actions it needs, prints the equivalent AWS CLI commands, and runs under a
//! [`vigil_respond::action::StepEnv`] that says whether to execute or only plan. Every action
//! is dry-run by default (read calls and EC2 `DryRun=true` checks only), idempotent (it reads
//! the current state first and answers `AlreadyDone` when the target state holds), guarded
//! (`vigil:protected=true` resources are refused) and recorded (before/after state, captured
//! material in the evidence vault).
//!
//! Modules follow the incident-response guide's appendices:
//! - [`ec2`]: capture, termination protection, isolation and its release, Auto Scaling and
//!   load-balancer detachment, snapshots, tags, instance-profile removal, stop/terminate, and
//!   the forensic workstation (snapshot sharing, workstation launch, volume attach, ingress);
//! - [`ssm`]: volatile-data capture with SSM Run Command;
//! - [`iam`]: access-key deactivation, deny-all for a user, role session revocation, console
//!   password removal; [`cloudtrail`]: activity collection (LookupEvents or local trail files);
//! - [`logging`]: restarting CloudTrail, GuardDuty and AWS Config after tampering;
//! - [`s3`], [`snapshots`]: closing public buckets, ACLs, policies, snapshots and images;
//! - [`network`]: one security-group rule, network-ACL denies, WAF IP sets; [`kms`]: saving a
//!   key scheduled for deletion; [`notify`]: webhook, SNS and e-mail notifications;
//! - [`common`]: SDK error mapping, request ids, parameters, tags, dry-run and evidence
//!   helpers, and the shared IAM session revocation.
//!
//! Main entry point: [`catalog`], which registers every action with one [`ActionOptions`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use vigil_actions::{catalog, ActionOptions};
//! use vigil_aws::{AwsContext, AwsOptions};
//! let ctx = AwsContext::load(AwsOptions::default()).await?;
//! let actions = catalog(ctx, ActionOptions::default());
//! let isolate = actions.get("ec2.isolate_instance").expect("registered");
//! println!("{}: {:?}", isolate.info().summary, isolate.all_permissions());
//! # Ok(()) }
//! ```

use std::sync::Arc;

use vigil_aws::AwsContext;
use vigil_respond::action::{Action, Catalog};

pub mod common;
pub mod ec2;
pub mod ssm;
// Helper "misc" adds its modules here as their files land (iam, cloudtrail, logging, s3,
// snapshots, network, kms, notify).
pub mod cloudtrail;
pub mod iam;
pub mod kms;
pub mod logging;
pub mod network;
pub mod notify;
pub mod s3;
pub mod snapshots;

/// Default name of the no-rules security group isolated instances are moved to.
pub const DEFAULT_ISOLATION_GROUP: &str = "vigil-isolation";

/// Per-deployment settings the actions share.
#[derive(Debug, Clone)]
pub struct ActionOptions {
    /// Name of the isolation security group created per VPC (`ec2.isolate_instance`), used
    /// when a step does not name one.
    pub isolation_group_name: String,
    /// Bucket where evidence captured on the instance itself (SSM output) is written, used
    /// when a step does not name one.
    pub evidence_bucket: Option<String>,
    /// Key prefix inside [`ActionOptions::evidence_bucket`].
    pub evidence_prefix: Option<String>,
    /// Name of the environment variable holding the SMTP password for e-mail notifications
    /// (never the password itself, so it cannot leak through `Debug` or a config dump).
    pub smtp_password_env: Option<String>,
}

impl Default for ActionOptions {
    fn default() -> Self {
        ActionOptions {
            isolation_group_name: DEFAULT_ISOLATION_GROUP.to_string(),
            evidence_bucket: None,
            evidence_prefix: None,
            smtp_password_env: None,
        }
    }
}

/// Every action vigil knows, each holding `ctx` (it asks it for an `SdkConfig` per step).
///
/// Each module exposes `pub fn actions(ctx: &AwsContext, opts: &ActionOptions) ->
/// Vec<Arc<dyn Action>>`; this function registers them all.
pub fn catalog(ctx: AwsContext, options: ActionOptions) -> Catalog {
    let mut catalog = Catalog::new();
    let groups: Vec<Vec<Arc<dyn Action>>> = vec![
        ec2::actions(&ctx, &options),
        ssm::actions(&ctx, &options),
        // misc: register iam, cloudtrail, logging, s3, snapshots, network, kms, notify here.
        iam::actions(&ctx, &options),
        cloudtrail::actions(&ctx, &options),
        logging::actions(&ctx, &options),
        s3::actions(&ctx, &options),
        snapshots::actions(&ctx, &options),
        network::actions(&ctx, &options),
        kms::actions(&ctx, &options),
        notify::actions(&ctx, &options),
    ];
    for action in groups.into_iter().flatten() {
        catalog.register(action);
    }
    catalog
}
