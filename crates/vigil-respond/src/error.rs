//! What can go wrong in the response engine (outside a step: a step's failure is part of
//! the run, recorded in its state and the ledger).

use crate::playbook::PlaybookErrors;

/// A response engine error.
#[derive(Debug, thiserror::Error)]
pub enum RespondError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] vigil_store::StoreError),
    /// The playbook does not load (for `resume`: the version stored with the run).
    #[error("playbook does not load:\n{0}")]
    Playbook(#[from] PlaybookErrors),
    /// The finding lacks inputs the playbook needs, or has them in the wrong shape.
    #[error("playbook {playbook}: the finding does not supply its inputs:\n{}", .problems.join("\n"))]
    Inputs {
        playbook: String,
        /// One line per input: `instance_id: ...`.
        problems: Vec<String>,
    },
    /// No run has this id.
    #[error("no run with id {0}")]
    NoRun(String),
    /// A run of the same playbook for the same finding is under way.
    #[error("run {run_id} of this playbook for this finding is {status}: resume it (vigil respond resume {run_id}) instead of starting another")]
    RunInProgress { run_id: String, status: String },
    /// `approve` or `deny` on a run that waits for nobody.
    #[error("run {run_id} is {status}, not awaiting approval")]
    NotAwaitingApproval { run_id: String, status: String },
    /// The approver is the responder and configuration asks for four eyes.
    #[error("{by} started run {run_id} and cannot approve it (four_eyes is on)")]
    SameApprover { run_id: String, by: String },
    /// A stored run cannot be read.
    #[error("run {run_id} is unreadable: {reason}")]
    Corrupt { run_id: String, reason: String },
}
