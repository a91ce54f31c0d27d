//! vigil's response engine: playbooks as code, run by an executor that asks for approvals,
//! respects guard rails and writes every step to a hash-chained ledger.
//!
//! - [`Playbook`]: a YAML file with triggers, inputs taken from the finding, steps that call
//!   catalog [`Action`]s with templated parameters, decision nodes over the run's context
//!   (environment, tags, severity, earlier steps' outputs), per-step `on_error` and
//!   `approval`, notifications and the human steps. [`Playbook::load`] reports every
//!   problem with file and line, and checks action names, parameters, template variables,
//!   branches and cycles against a [`Catalog`].
//! - [`Executor`]: `start` (a plan with `execute: false`, or an execution), `resume`,
//!   `approve`, `deny`, `status`. Runs, step states, approvals and the ledger live in a
//!   [`vigil_store::ResponseStore`], so each of these works from another process.
//! - [`ResponseConfig`] and [`RunGuard`]: environments, production approvals, the
//!   `vigil:protected=true` tag, the per-run limit of changed resources.
//! - [`render_runbook`] (Markdown for humans, with the AWS CLI commands) and
//!   [`iam_policy`] (the least-privilege policy of a set of playbooks).
//! - [`notification_text`]: the finding, what was done, the next human step.
//!
//! ```
//! use std::sync::Arc;
//! use vigil_respond::action::*;
//! use vigil_respond::{Catalog, Executor, MemoryEvidence, Playbook, ResponseConfig, RunStatus, StartOptions};
//!
//! struct Tag;
//! static TAG: ActionInfo = ActionInfo {
//!     name: "ec2.tag_resource", summary: "Tags a resource", example: "",
//!     params: &[ParamDoc { name: "resource_id", required: true, description: "id" }],
//!     mutating: true, dry_run: DryRunMode::Native, records: "tags",
//! };
//! #[async_trait::async_trait]
//! impl Action for Tag {
//!     fn info(&self) -> &'static ActionInfo { &TAG }
//!     fn permissions(&self, _: &Params) -> Vec<&'static str> { vec!["ec2:CreateTags"] }
//!     fn all_permissions(&self) -> Vec<&'static str> { vec!["ec2:CreateTags"] }
//!     fn cli(&self, p: &Params) -> Vec<String> { vec![format!("aws ec2 create-tags --resources {}", p["resource_id"])] }
//!     async fn run(&self, env: &StepEnv<'_>, _: &Params) -> Result<StepReport, ActionError> {
//!         Ok(StepReport::new(if env.execute { Outcome::Changed } else { Outcome::Planned }))
//!     }
//! }
//!
//! let mut catalog = Catalog::new();
//! catalog.register(Arc::new(Tag));
//! let yaml = "id: tag\ntitle: Tag it\ndescription: Tags the instance.\n\
//!             inputs:\n  instance_id: { from: [resources], format: instance_id }\n\
//!             steps:\n  - id: tag\n    action: ec2.tag_resource\n    params: { resource_id: '{{ inputs.instance_id }}' }\n";
//! let playbook = Playbook::load(yaml, "tag.yml", &catalog).unwrap();
//! let dir = tempfile::tempdir().unwrap();
//! let mut store = vigil_store::SqliteStore::open(dir.path().join("vigil.db")).unwrap();
//! let (config, evidence) = (ResponseConfig::default(), MemoryEvidence::new());
//! let finding = serde_json::json!({"id": "f1", "resources": ["i-0123456789abcdef0"]});
//! let options = StartOptions { responder: "alice".into(), ..StartOptions::default() };
//! let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
//! let run = runtime.block_on(async {
//!     Executor::new(&catalog, &mut store, &config, &evidence).start(&playbook, &finding, &options).await
//! }).unwrap();
//! assert_eq!(run.status, RunStatus::Planned);
//! ```

pub mod action;
mod builtin;
pub mod condition;
mod config;
mod error;
mod executor;
mod iam;
mod inputs;
mod notify;
pub mod path;
pub mod playbook;
mod reference;
mod run;
mod runbook;
pub mod template;
mod yaml;

pub use action::{Action, Catalog};
pub use builtin::{builtin_playbooks, BUILTIN_PLAYBOOKS};
pub use config::{MemoryEvidence, ResponseConfig, RunGuard};
pub use error::RespondError;
pub use executor::{Executor, StartOptions};
pub use iam::iam_policy;
pub use inputs::resolve_inputs;
pub use notify::notification_text;
pub use playbook::{Playbook, PlaybookError, PlaybookErrors};
pub use reference::{render_action, render_action_list, render_action_reference};
pub use run::{
    ApprovalRecord, Run, RunContext, RunStatus, StepState, StepStatus, CONTEXT_KEYS, FINDING_KEYS,
};
pub use runbook::render_runbook;
pub use vigil_store::{LedgerCheck, ResponseStore, RunFilter};

/// Checks the whole action ledger of `store`: `first_broken` names the first entry whose
/// content or link does not hold.
pub fn verify_ledger<S: ResponseStore + ?Sized>(store: &S) -> Result<LedgerCheck, RespondError> {
    Ok(store.verify_ledger()?)
}
