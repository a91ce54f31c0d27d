//! The contract between the executor and the actions that change (or read) AWS.
//!
//! An [`Action`] is one typed unit of response: it documents itself ([`ActionInfo`]),
//! declares the IAM permissions it needs ([`Action::permissions`]), says how a human would do
//! the same by hand ([`Action::cli`]), and runs ([`Action::run`]) under a [`StepEnv`] that
//! says whether to execute or only plan, which case and account it acts for, what guard
//! rails apply and where evidence goes. The AWS SDK stays behind this trait: the executor,
//! the playbooks and the runbook renderer never see an SDK type, and tests drive them with
//! fake actions.
//!
//! Rules every implementation follows:
//! - **Dry-run by default.** With `env.execute == false` an action makes only read calls
//!   (and EC2 calls with `DryRun=true` where AWS has the flag, reported with
//!   `dry_run_checked`), and returns [`Outcome::Planned`] with the calls it would make.
//! - **Idempotent.** It reads the current state first; when the target state already holds
//!   it returns [`Outcome::AlreadyDone`] and changes nothing.
//! - **Guarded.** Before changing a resource it calls `env.guard.allow_change` with the
//!   resource's ARN or id and its tags; a refusal is returned as [`ActionError::Protected`]
//!   or [`ActionError::LimitReached`].
//! - **Recorded.** `before` and `after` hold the state it read before and after the change;
//!   captured material (instance metadata, replaced policies, command output) goes to
//!   `env.evidence` and its hashes into `evidence`.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Parameters of one step, after templating.
pub type Params = Map<String, Value>;

/// How an action behaves without `--execute`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DryRunMode {
    /// AWS checks the request with the API's `DryRun` flag (EC2), then nothing changes.
    Native,
    /// vigil reads the current state and lists the calls it would make.
    Plan,
    /// The action only reads; dry-run and execute do the same.
    ReadOnly,
}

/// One documented parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamDoc {
    pub name: &'static str,
    pub required: bool,
    pub description: &'static str,
}

/// What an action is, for humans, runbooks and the IAM policy.
#[derive(Debug, Clone, Copy)]
pub struct ActionInfo {
    /// Dotted name used in playbooks, e.g. `ec2.isolate_instance`.
    pub name: &'static str,
    /// One line: what it does.
    pub summary: &'static str,
    pub params: &'static [ParamDoc],
    /// A playbook step using the action, in YAML.
    pub example: &'static str,
    /// Whether it changes anything in the account.
    pub mutating: bool,
    pub dry_run: DryRunMode,
    /// What before-state it records in the ledger.
    pub records: &'static str,
}

/// What a step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The change was made.
    Changed,
    /// The target state already held; nothing was changed.
    AlreadyDone,
    /// Dry-run: the calls in the report were not made (except read and `DryRun` calls).
    Planned,
    /// A read-only action (capture, collect, notify preview) completed.
    Done,
}

/// One AWS API call an action made or would make.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiCall {
    /// Service name as in IAM, e.g. `ec2`.
    pub service: String,
    /// Operation name as in the API, e.g. `ModifyInstanceAttribute`.
    pub operation: String,
    pub params: Value,
    /// AWS request id, when the call was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// True when the call was made with `DryRun=true` and AWS answered that it would succeed.
    #[serde(default)]
    pub dry_run_checked: bool,
    /// False in a plan: the call was not made.
    pub made: bool,
}

/// The report of one step, written to the ledger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepReport {
    pub outcome: Outcome,
    /// The mutating calls made (or planned), in order. Read calls may be listed too.
    pub calls: Vec<ApiCall>,
    pub before: Value,
    pub after: Value,
    /// Values later steps can template from (`{{ steps.<id>.outputs.<key> }}`).
    pub outputs: Map<String, Value>,
    /// SHA-256 hex of evidence items this step stored.
    pub evidence: Vec<String>,
    /// Resources (ARN or id) this step changed; counted against the run's limit.
    pub resources_changed: Vec<String>,
    /// Free text for the operator (why nothing was done, what a human must do next).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl StepReport {
    /// An empty report with the given outcome.
    pub fn new(outcome: Outcome) -> Self {
        StepReport {
            outcome,
            calls: Vec::new(),
            before: Value::Null,
            after: Value::Null,
            outputs: Map::new(),
            evidence: Vec::new(),
            resources_changed: Vec::new(),
            note: None,
        }
    }
}

/// Why a step failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "kind", content = "message", rename_all = "snake_case")]
pub enum ActionError {
    /// A parameter is missing or malformed.
    #[error("invalid parameter: {0}")]
    InvalidParams(String),
    /// The resource does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The resource is tagged `vigil:protected=true`.
    #[error("protected resource, not changed: {0}")]
    Protected(String),
    /// The run's limit of changed resources would be exceeded.
    #[error("limit of changed resources reached: {0}")]
    LimitReached(String),
    /// AWS refused the call (AccessDenied, UnauthorizedOperation).
    #[error("access denied: {0}")]
    Denied(String),
    /// Throttling or a transient error that outlived the SDK's retries; worth retrying.
    #[error("transient error: {0}")]
    Transient(String),
    /// Anything else.
    #[error("{0}")]
    Failed(String),
}

/// Guard rails the executor enforces through the actions.
pub trait Guard: Send + Sync {
    /// Called before changing `resource` (ARN or id) whose tags are `tags`. Refuses protected
    /// resources (`vigil:protected=true`) and changes beyond the run's limit.
    fn allow_change(&self, resource: &str, tags: &[(String, String)]) -> Result<(), ActionError>;
}

/// A captured item for the evidence vault.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceItem {
    pub case_id: String,
    /// A short name, e.g. `i-0abc-metadata.json`.
    pub name: String,
    pub media_type: String,
    pub bytes: Vec<u8>,
    /// ARN (or id) of what it was collected from.
    pub source: Option<String>,
    pub account: Option<String>,
    pub region: Option<String>,
    /// How it was collected, e.g. `ec2:DescribeInstances by ec2.capture_metadata`.
    pub method: String,
}

/// Where actions put what they capture. The vault implements it; tests keep items in memory.
pub trait EvidenceSink: Send + Sync {
    /// Stores an item and returns its SHA-256 (hex).
    fn put(&self, item: EvidenceItem) -> Result<String, String>;
}

/// Everything an action needs to know about the step it runs in.
pub struct StepEnv<'a> {
    pub run_id: &'a str,
    pub case_id: &'a str,
    /// The vigil operator (and, in the session name, the AWS principal) acting.
    pub responder: &'a str,
    /// Target account and region; `None` means the context's own.
    pub account: Option<&'a str>,
    pub region: Option<&'a str>,
    /// False: dry-run. Only read calls and `DryRun=true` calls are made.
    pub execute: bool,
    pub guard: &'a dyn Guard,
    pub evidence: &'a dyn EvidenceSink,
    /// The run's clock (UTC), so tests and the ledger agree on "now".
    pub now: chrono::DateTime<chrono::Utc>,
}

/// One action of the catalog.
#[async_trait::async_trait]
pub trait Action: Send + Sync {
    fn info(&self) -> &'static ActionInfo;

    /// The IAM actions (`service:Operation`) a run with these parameters needs.
    fn permissions(&self, params: &Params) -> Vec<&'static str>;

    /// Every IAM action any run may need: the union over all parameters.
    fn all_permissions(&self) -> Vec<&'static str>;

    /// The AWS CLI commands a responder would type to do the same by hand.
    fn cli(&self, params: &Params) -> Vec<String>;

    /// Runs the step (or plans it, under dry-run).
    async fn run(&self, env: &StepEnv<'_>, params: &Params) -> Result<StepReport, ActionError>;
}

/// The actions a run can use, by name.
#[derive(Clone, Default)]
pub struct Catalog {
    actions: BTreeMap<&'static str, Arc<dyn Action>>,
}

impl Catalog {
    pub fn new() -> Self {
        Catalog::default()
    }

    /// Adds an action; a second action with the same name replaces the first.
    pub fn register(&mut self, action: Arc<dyn Action>) {
        self.actions.insert(action.info().name, action);
    }

    pub fn get(&self, name: &str) -> Option<&Arc<dyn Action>> {
        self.actions.get(name)
    }

    /// Actions in name order.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn Action>> {
        self.actions.values()
    }

    pub fn len(&self) -> usize {
        self.actions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }
}
