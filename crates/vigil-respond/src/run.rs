//! A response run as the executor keeps it: context, inputs, the state of each step,
//! approvals, and the resources changed so far. Stored as the body of a
//! [`vigil_store::RunRecord`], so `status`, `resume`, `approve` and `deny` work from any
//! process.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use vigil_store::RunRecord;

use crate::action::StepReport;
use crate::error::RespondError;

/// The keys of `context.*` in templates and conditions.
pub const CONTEXT_KEYS: &[&str] = &[
    "run_id",
    "case_id",
    "responder",
    "environment",
    "account",
    "region",
    "execute",
    "now",
    "finding_id",
    "severity",
    "severity_score",
    "first_seen",
    "last_seen",
    "lookback_start",
];

/// The top-level fields of a finding as a run sees it (`finding.*`): vigil_findings::Finding
/// serialised. Playbook validation rejects any other `finding.<field>`.
pub const FINDING_KEYS: &[&str] = &[
    "id",
    "rule_id",
    "title",
    "rule_kind",
    "description",
    "severity",
    "first_seen_ms",
    "last_seen_ms",
    "window_start_ms",
    "event_count",
    "dedup_key",
    "account",
    "region",
    "principal",
    "resources",
    "source_ips",
    "log_sources",
    "tags",
    "runbook",
    "intel",
    "samples",
    "status",
    "history",
];

/// What a run knows about where and for whom it acts (`context.*`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunContext {
    pub run_id: String,
    pub case_id: String,
    pub responder: String,
    /// The account's environment from configuration (`dev`, `staging`, `prod`).
    pub environment: String,
    pub account: Option<String>,
    pub region: Option<String>,
    pub execute: bool,
    /// When the run started (RFC 3339).
    pub now: String,
    pub finding_id: Option<String>,
    /// The finding's severity label (`HIGH`).
    pub severity: Option<String>,
    pub severity_score: Option<i64>,
    /// The finding's first and last event (RFC 3339).
    #[serde(default)]
    pub first_seen: Option<String>,
    #[serde(default)]
    pub last_seen: Option<String>,
    /// Where an activity search starts: `lookback_hours` before the first event (or before
    /// the run, for a finding without times).
    #[serde(default)]
    pub lookback_start: Option<String>,
}

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// A dry run that went through every step.
    Planned,
    Running,
    AwaitingApproval,
    Succeeded,
    /// Finished, with steps that failed under `on_error: continue`.
    CompletedWithErrors,
    /// Stopped at a failed step; `resume` retries it.
    Failed,
    /// Stopped because an approver said no.
    Denied,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Planned => "planned",
            RunStatus::Running => "running",
            RunStatus::AwaitingApproval => "awaiting_approval",
            RunStatus::Succeeded => "succeeded",
            RunStatus::CompletedWithErrors => "completed_with_errors",
            RunStatus::Failed => "failed",
            RunStatus::Denied => "denied",
        }
    }

    /// Whether the run is over (nothing to resume).
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            RunStatus::Planned
                | RunStatus::Succeeded
                | RunStatus::CompletedWithErrors
                | RunStatus::Denied
        )
    }
}

/// Where a step is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Pending,
    Running,
    AwaitingApproval,
    Succeeded,
    AlreadyDone,
    Planned,
    Failed,
    Skipped,
    Denied,
}

impl StepStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::Pending => "pending",
            StepStatus::Running => "running",
            StepStatus::AwaitingApproval => "awaiting_approval",
            StepStatus::Succeeded => "succeeded",
            StepStatus::AlreadyDone => "already_done",
            StepStatus::Planned => "planned",
            StepStatus::Failed => "failed",
            StepStatus::Skipped => "skipped",
            StepStatus::Denied => "denied",
        }
    }

    /// Whether the step is settled and a resumed run goes past it.
    pub fn is_settled(self) -> bool {
        matches!(
            self,
            StepStatus::Succeeded
                | StepStatus::AlreadyDone
                | StepStatus::Planned
                | StepStatus::Skipped
        )
    }
}

/// An approver's decision on a step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovalRecord {
    pub approved: bool,
    pub by: String,
    pub reason: String,
    /// RFC 3339.
    pub at: String,
}

/// The state of one step (or decision) of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepState {
    pub id: String,
    /// The flow it belongs to (`main` or a branch).
    pub flow: String,
    /// The action, for action steps; `None` for decisions.
    pub action: Option<String>,
    pub status: StepStatus,
    /// Attempts made (retries included).
    pub attempts: u32,
    /// The parameters after templating.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<StepReport>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The failure was recorded and the run went on (`on_error: continue`).
    #[serde(default)]
    pub continued: bool,
    /// For a decision: the branch taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// Why: the condition that chose a branch, why a step was skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Whether an execution of this step needs an approver.
    #[serde(default)]
    pub requires_approval: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<ApprovalRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
}

impl StepState {
    pub(crate) fn new(id: &str, flow: &str, action: Option<&str>) -> StepState {
        StepState {
            id: id.to_string(),
            flow: flow.to_string(),
            action: action.map(String::from),
            status: StepStatus::Pending,
            attempts: 0,
            params: None,
            report: None,
            error: None,
            continued: false,
            branch: None,
            reason: None,
            requires_approval: false,
            approval: None,
            started_at: None,
            finished_at: None,
        }
    }
}

/// A response run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub id: String,
    pub case_id: String,
    pub playbook_id: String,
    pub playbook_title: String,
    pub finding_id: Option<String>,
    pub status: RunStatus,
    /// False for a dry run (plan).
    pub execute: bool,
    /// Who started it.
    pub responder: String,
    pub context: RunContext,
    /// The playbook's inputs, taken from the finding.
    pub inputs: Map<String, Value>,
    /// The finding as it was when the run started.
    pub finding: Value,
    /// The steps reached so far, in the order they were reached.
    pub steps: Vec<StepState>,
    /// Resources changed so far (counted against the run's limit).
    pub changed_resources: BTreeSet<String>,
    /// The playbook's YAML and origin: `resume` runs the same version.
    pub playbook_source: String,
    pub playbook_origin: String,
    /// Why the run stopped, when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    pub updated_at: String,
    /// The store's version of the run (optimistic concurrency).
    #[serde(skip)]
    pub version: i64,
}

impl Run {
    /// The state of a step, if the run reached it.
    pub fn step(&self, id: &str) -> Option<&StepState> {
        self.steps.iter().find(|s| s.id == id)
    }

    pub(crate) fn step_mut(&mut self, id: &str) -> Option<&mut StepState> {
        self.steps.iter_mut().find(|s| s.id == id)
    }

    /// The step waiting for an approver, if any.
    pub fn awaiting_step(&self) -> Option<&StepState> {
        self.steps
            .iter()
            .find(|s| s.status == StepStatus::AwaitingApproval && s.approval.is_none())
    }

    /// Every API call the run made or planned, in order (step id, call).
    pub fn calls(&self) -> Vec<(&str, &crate::action::ApiCall)> {
        self.steps
            .iter()
            .flat_map(|s| {
                s.report
                    .iter()
                    .flat_map(|r| r.calls.iter())
                    .map(move |call| (s.id.as_str(), call))
            })
            .collect()
    }

    /// The record the store keeps.
    pub fn to_record(&self, created_ms: i64, updated_ms: i64) -> Result<RunRecord, RespondError> {
        let body = serde_json::to_value(self).map_err(|e| RespondError::Corrupt {
            run_id: self.id.clone(),
            reason: e.to_string(),
        })?;
        Ok(RunRecord {
            id: self.id.clone(),
            case_id: self.case_id.clone(),
            playbook_id: self.playbook_id.clone(),
            finding_id: self.finding_id.clone(),
            status: self.status.as_str().to_string(),
            execute: self.execute,
            responder: self.responder.clone(),
            created_ms,
            updated_ms,
            version: self.version,
            body,
        })
    }

    /// The run in a stored record.
    pub fn from_record(record: &RunRecord) -> Result<Run, RespondError> {
        let mut run: Run =
            serde_json::from_value(record.body.clone()).map_err(|e| RespondError::Corrupt {
                run_id: record.id.clone(),
                reason: e.to_string(),
            })?;
        run.version = record.version;
        Ok(run)
    }
}

#[cfg(test)]
mod finding_keys_tests {
    use super::FINDING_KEYS;

    /// FINDING_KEYS is exactly what a serialised finding has: a field added to or renamed in
    /// vigil_findings::Finding fails here until the list follows.
    #[test]
    fn finding_keys_are_the_fields_of_a_serialised_finding() {
        let finding: vigil_findings::Finding = serde_json::from_value(serde_json::json!({
            "id": "f1", "rule_id": "r1", "title": "t", "rule_kind": "sigma",
            "description": "d", "severity": {"label": "HIGH", "score": 70},
            "first_seen_ms": 1, "last_seen_ms": 2, "window_start_ms": 0, "event_count": 1,
            "dedup_key": "k", "account": "111122223333", "region": "us-east-1",
            "principal": "arn:aws:iam::111122223333:user/alice", "resources": ["i-1"],
            "source_ips": ["198.51.100.7"], "log_sources": [], "tags": [], "runbook": null,
            "intel": [], "samples": [], "status": "NEW", "history": []
        }))
        .expect("a finding with exactly FINDING_KEYS deserialises");
        let value = serde_json::to_value(&finding).expect("serialises");
        let mut keys: Vec<&str> = value
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        let mut expected = FINDING_KEYS.to_vec();
        keys.sort_unstable();
        expected.sort_unstable();
        assert_eq!(keys, expected);
    }
}
