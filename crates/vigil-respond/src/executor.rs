//! The executor: starts runs (dry or executing), walks the playbook's flows, asks for
//! approvals, retries transient failures, resumes stopped runs, and writes every step,
//! decision, approval and denial to the ledger in the same transaction as the run's state.
//!
//! A step's state is saved as `running` before its action is called: a second process
//! resuming the same run conflicts on that save and never calls the action twice, and a
//! run that crashed mid-step shows the step as `running` and retries it on resume (actions
//! are idempotent). Decisions are recorded with the branch they took, so a resumed run
//! follows the same path even if the context changed since.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use vigil_store::{LedgerDraft, ResponseStore, RunFilter};

use crate::action::{ActionError, Catalog, EvidenceSink, Outcome, StepEnv};
use crate::config::{ResponseConfig, RunGuard};
use crate::error::RespondError;
use crate::inputs::resolve_inputs;
use crate::notify::notification_text;
use crate::playbook::{AfterError, Approval, Node, NodeKind, Playbook, RunEvent, MAIN_FLOW};
use crate::run::{ApprovalRecord, Run, RunContext, RunStatus, StepState, StepStatus};
use crate::template::{render_value, Expr, TemplateError};

/// How a run starts.
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    /// False: a dry run (plan): only read calls and `DryRun=true` calls are made.
    pub execute: bool,
    /// The operator.
    pub responder: String,
    /// The case; by default `case-<finding id>`.
    pub case_id: Option<String>,
    /// The run id; by default a new one.
    pub run_id: Option<String>,
    /// Target account and region; by default the finding's.
    pub account: Option<String>,
    pub region: Option<String>,
}

/// Runs playbooks against a store.
pub struct Executor<'a, S: ResponseStore + ?Sized> {
    catalog: &'a Catalog,
    store: &'a mut S,
    config: &'a ResponseConfig,
    evidence: &'a dyn EvidenceSink,
    clock: fn() -> DateTime<Utc>,
    /// Who is acting now (the responder, the approver, whoever resumed).
    actor: String,
}

/// Whether the flow goes on after a step.
enum Next {
    Continue,
    Halt,
}

impl<'a, S: ResponseStore + ?Sized> Executor<'a, S> {
    pub fn new(
        catalog: &'a Catalog,
        store: &'a mut S,
        config: &'a ResponseConfig,
        evidence: &'a dyn EvidenceSink,
    ) -> Self {
        Executor {
            catalog,
            store,
            config,
            evidence,
            clock: Utc::now,
            actor: String::new(),
        }
    }

    /// Replaces the clock (tests, replays).
    pub fn with_clock(mut self, clock: fn() -> DateTime<Utc>) -> Self {
        self.clock = clock;
        self
    }

    /// Starts a run of `playbook` for `finding` (a finding as JSON) and drives it until it
    /// finishes, fails, or waits for an approver.
    pub async fn start(
        &mut self,
        playbook: &Playbook,
        finding: &Value,
        options: &StartOptions,
    ) -> Result<Run, RespondError> {
        let finding_id = finding.get("id").and_then(Value::as_str).map(String::from);
        if options.execute {
            self.refuse_duplicate(&playbook.id, finding_id.as_deref())?;
        }
        let inputs =
            resolve_inputs(playbook, finding).map_err(|problems| RespondError::Inputs {
                playbook: playbook.id.clone(),
                problems,
            })?;
        let now = (self.clock)();
        let run_id = options
            .run_id
            .clone()
            .unwrap_or_else(|| new_run_id(&playbook.id, finding_id.as_deref(), now));
        let case_id = options
            .case_id
            .clone()
            .unwrap_or_else(|| match &finding_id {
                Some(id) => format!("case-{id}"),
                None => format!("case-{run_id}"),
            });
        let text = |key: &str| finding.get(key).and_then(Value::as_str).map(String::from);
        let account = options.account.clone().or_else(|| text("account"));
        let context = RunContext {
            run_id: run_id.clone(),
            case_id: case_id.clone(),
            responder: options.responder.clone(),
            environment: self.config.environment_of(account.as_deref()),
            account,
            region: options.region.clone().or_else(|| text("region")),
            execute: options.execute,
            now: rfc3339(now),
            finding_id: finding_id.clone(),
            severity: finding
                .pointer("/severity/label")
                .and_then(Value::as_str)
                .map(String::from),
            severity_score: finding.pointer("/severity/score").and_then(Value::as_i64),
            first_seen: finding_time(finding, "first_seen_ms").map(rfc3339),
            last_seen: finding_time(finding, "last_seen_ms").map(rfc3339),
            lookback_start: Some(rfc3339(
                finding_time(finding, "first_seen_ms").unwrap_or(now)
                    - chrono::Duration::hours(i64::from(self.config.lookback_hours)),
            )),
        };
        let mut run = Run {
            id: run_id,
            case_id,
            playbook_id: playbook.id.clone(),
            playbook_title: playbook.title.clone(),
            finding_id,
            status: RunStatus::Running,
            execute: options.execute,
            responder: options.responder.clone(),
            context,
            inputs,
            finding: finding.clone(),
            steps: Vec::new(),
            changed_resources: Default::default(),
            playbook_source: playbook.source.clone(),
            playbook_origin: playbook.origin.clone(),
            error: None,
            created_at: rfc3339(now),
            updated_at: rfc3339(now),
            version: 0,
        };
        self.actor = options.responder.clone();
        let started = json!({
            "playbook": playbook.id,
            "playbook_sha256": sha256_hex(playbook.source.as_bytes()),
            "finding_id": run.finding_id,
            "execute": run.execute,
            "environment": run.context.environment,
            "account": run.context.account,
            "region": run.context.region,
            "inputs": run.inputs,
        });
        self.save(&mut run, vec![("run_started", None, started)])?;
        self.drive(playbook, &mut run).await?;
        Ok(run)
    }

    /// Continues a stopped run: after a failure (the failed step is tried again), a crash
    /// (the interrupted step is tried again) or an approval. Steps already settled are not
    /// run again. A closed run is returned as it is.
    pub async fn resume(&mut self, run_id: &str, by: &str) -> Result<Run, RespondError> {
        let mut run = self.load(run_id)?;
        if run.status.is_closed() {
            return Ok(run);
        }
        let playbook = Playbook::load(&run.playbook_source, &run.playbook_origin, self.catalog)?;
        self.actor = by.to_string();
        if run.status != RunStatus::AwaitingApproval {
            let from = run.status.as_str();
            run.status = RunStatus::Running;
            run.error = None;
            self.save(
                &mut run,
                vec![("run_resumed", None, json!({ "from": from }))],
            )?;
        }
        self.drive(&playbook, &mut run).await?;
        Ok(run)
    }

    /// Approves the step the run waits on, and continues the run.
    pub async fn approve(
        &mut self,
        run_id: &str,
        by: &str,
        reason: &str,
    ) -> Result<Run, RespondError> {
        let mut run = self.decide_approval(run_id, by, reason, true)?;
        let playbook = Playbook::load(&run.playbook_source, &run.playbook_origin, self.catalog)?;
        run.status = RunStatus::Running;
        self.drive(&playbook, &mut run).await?;
        Ok(run)
    }

    /// Denies the step the run waits on; the run stops as `denied`.
    pub async fn deny(
        &mut self,
        run_id: &str,
        by: &str,
        reason: &str,
    ) -> Result<Run, RespondError> {
        let mut run = self.decide_approval(run_id, by, reason, false)?;
        let playbook = Playbook::load(&run.playbook_source, &run.playbook_origin, self.catalog)?;
        run.status = RunStatus::Denied;
        self.save(
            &mut run,
            vec![("run_finished", None, json!({ "status": "denied" }))],
        )?;
        self.notify(&playbook, &mut run, RunEvent::Denied).await;
        Ok(run)
    }

    /// The run with this id.
    pub fn status(&self, run_id: &str) -> Result<Run, RespondError> {
        self.load(run_id)
    }

    /// The runs that pass `filter` (by case, finding, playbook, status), newest first.
    pub fn runs(&self, filter: &RunFilter) -> Result<Vec<Run>, RespondError> {
        self.store
            .list_runs(filter)?
            .iter()
            .map(Run::from_record)
            .collect()
    }

    fn load(&self, run_id: &str) -> Result<Run, RespondError> {
        let record = self
            .store
            .get_run(run_id)?
            .ok_or_else(|| RespondError::NoRun(run_id.to_string()))?;
        Run::from_record(&record)
    }

    fn refuse_duplicate(&self, playbook: &str, finding: Option<&str>) -> Result<(), RespondError> {
        let Some(finding) = finding else {
            return Ok(());
        };
        let filter = RunFilter {
            finding_id: Some(finding.to_string()),
            playbook_id: Some(playbook.to_string()),
            ..RunFilter::default()
        };
        let open = self.store.list_runs(&filter)?.into_iter().find(|r| {
            r.execute
                && (r.status == RunStatus::Running.as_str()
                    || r.status == RunStatus::AwaitingApproval.as_str())
        });
        match open {
            Some(record) => Err(RespondError::RunInProgress {
                run_id: record.id,
                status: record.status,
            }),
            None => Ok(()),
        }
    }

    fn decide_approval(
        &mut self,
        run_id: &str,
        by: &str,
        reason: &str,
        approved: bool,
    ) -> Result<Run, RespondError> {
        let mut run = self.load(run_id)?;
        let not_waiting = || RespondError::NotAwaitingApproval {
            run_id: run_id.to_string(),
            status: run.status.as_str().to_string(),
        };
        if run.status != RunStatus::AwaitingApproval {
            return Err(not_waiting());
        }
        let step_id = run
            .awaiting_step()
            .map(|s| s.id.clone())
            .ok_or_else(not_waiting)?;
        if self.config.four_eyes && by == run.responder {
            return Err(RespondError::SameApprover {
                run_id: run_id.to_string(),
                by: by.to_string(),
            });
        }
        self.actor = by.to_string();
        let record = ApprovalRecord {
            approved,
            by: by.to_string(),
            reason: reason.to_string(),
            at: rfc3339((self.clock)()),
        };
        if let Some(step) = run.step_mut(&step_id) {
            step.approval = Some(record.clone());
            if !approved {
                step.status = StepStatus::Denied;
            }
        }
        let kind = if approved { "approval" } else { "denial" };
        let params = run.step(&step_id).and_then(|s| s.params.clone());
        let body = json!({ "by": by, "reason": reason, "approved": approved, "params": params });
        self.save(&mut run, vec![(kind, Some(step_id), body)])?;
        Ok(run)
    }

    /// Walks the flows from the start, going past settled steps, until the run finishes or
    /// halts.
    async fn drive(&mut self, playbook: &Playbook, run: &mut Run) -> Result<(), RespondError> {
        let mut flow = MAIN_FLOW.to_string();
        let mut index = 0;
        loop {
            let Some(node) = playbook.flow(&flow).and_then(|nodes| nodes.get(index)) else {
                return self.finish(playbook, run).await;
            };
            match node.kind() {
                Some(NodeKind::Goto { target }) => {
                    flow = target.to_string();
                    index = 0;
                }
                Some(NodeKind::Decide {
                    id,
                    choices,
                    otherwise,
                }) => {
                    let recorded = run.step(id).and_then(|s| s.branch.clone());
                    flow = match recorded {
                        Some(branch) => branch,
                        None => self.decide(playbook, run, &flow, id, choices, otherwise)?,
                    };
                    index = 0;
                }
                Some(NodeKind::Action { id, action }) => {
                    match self.step(playbook, run, &flow, node, id, action).await? {
                        Next::Continue => index += 1,
                        Next::Halt => return Ok(()),
                    }
                }
                // Validation refuses such nodes; a stored playbook is validated on load.
                None => return Ok(()),
            }
        }
    }

    fn decide(
        &mut self,
        playbook: &Playbook,
        run: &mut Run,
        flow: &str,
        id: &str,
        choices: &[crate::playbook::Choice],
        otherwise: &str,
    ) -> Result<String, RespondError> {
        let root = self.scope(playbook, run);
        let chosen = choices.iter().find(|c| c.when.eval(&root));
        let (branch, reason) = match chosen {
            Some(choice) => (choice.goto.clone(), choice.when.describe()),
            None => (otherwise.to_string(), "no condition held".to_string()),
        };
        let mut state = StepState::new(id, flow, None);
        state.status = StepStatus::Succeeded;
        state.branch = Some(branch.clone());
        state.reason = Some(reason.clone());
        state.finished_at = Some(rfc3339((self.clock)()));
        run.steps.push(state);
        let body = json!({ "branch": branch, "because": reason });
        self.save(run, vec![("decision", Some(id.to_string()), body)])?;
        Ok(branch)
    }

    async fn step(
        &mut self,
        playbook: &Playbook,
        run: &mut Run,
        flow: &str,
        node: &Node,
        id: &str,
        action_name: &str,
    ) -> Result<Next, RespondError> {
        if run.step(id).is_none() {
            run.steps.push(StepState::new(id, flow, Some(action_name)));
        }
        let prior = run
            .step(id)
            .cloned()
            .unwrap_or_else(|| StepState::new(id, flow, None));
        match prior.status {
            status if status.is_settled() => return Ok(Next::Continue),
            StepStatus::Failed if prior.continued => return Ok(Next::Continue),
            StepStatus::Denied => {
                run.status = RunStatus::Denied;
                return Ok(Next::Halt);
            }
            StepStatus::AwaitingApproval if prior.approval.is_none() => {
                // Still waiting: nothing to record again.
                run.status = RunStatus::AwaitingApproval;
                return Ok(Next::Halt);
            }
            _ => {}
        }
        let root = self.scope(playbook, run);
        if let Some(when) = &node.when {
            if !when.eval(&root) {
                let reason = format!("skipped: {} does not hold", when.describe());
                self.update(run, id, |s| {
                    s.status = StepStatus::Skipped;
                    s.reason = Some(reason.clone());
                });
                self.save(
                    run,
                    vec![(
                        "step_skipped",
                        Some(id.to_string()),
                        json!({ "reason": reason }),
                    )],
                )?;
                return Ok(Next::Continue);
            }
        }
        let Some(action) = self.catalog.get(action_name).cloned() else {
            let error = format!("action `{action_name}` is not in the catalog");
            return self.fail(playbook, run, node, id, error, 0).await;
        };
        let info = action.info();
        let params = match self.render(run, &root, &node.params) {
            Ok(params) => params,
            Err(error) => {
                let error = format!("parameters: {error}");
                return self.fail(playbook, run, node, id, error, 0).await;
            }
        };
        let needs_approval = node.approval == Approval::Required
            || (info.mutating
                && self.config.production_requires_approval
                && !self
                    .config
                    .auto_approved_actions
                    .iter()
                    .any(|a| a == action_name)
                && (in_production(playbook, run, flow)
                    || self.config.is_production(&run.context.environment)));
        let approved = prior.approval.as_ref().is_some_and(|a| a.approved);
        self.update(run, id, |s| {
            s.params = Some(Value::Object(params.clone()));
            s.requires_approval = needs_approval;
        });
        if run.execute && needs_approval && !approved {
            self.update(run, id, |s| s.status = StepStatus::AwaitingApproval);
            run.status = RunStatus::AwaitingApproval;
            let body = json!({ "action": action_name, "params": params, "flow": flow });
            self.save(
                run,
                vec![("approval_requested", Some(id.to_string()), body)],
            )?;
            self.notify(playbook, run, RunEvent::AwaitingApproval).await;
            return Ok(Next::Halt);
        }
        self.call(playbook, run, node, id, action, params).await
    }

    /// Calls the action, retrying transient errors, and records the result.
    async fn call(
        &mut self,
        playbook: &Playbook,
        run: &mut Run,
        node: &Node,
        id: &str,
        action: std::sync::Arc<dyn crate::action::Action>,
        params: Map<String, Value>,
    ) -> Result<Next, RespondError> {
        let name = action.info().name;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let started = rfc3339((self.clock)());
            self.update(run, id, |s| {
                s.status = StepStatus::Running;
                s.attempts += 1;
                s.started_at = Some(started.clone());
                s.error = None;
            });
            let body = json!({ "action": name, "params": params, "attempt": attempt, "execute": run.execute });
            // Saved before the call: the claim that stops a second process running it too.
            self.save(run, vec![("step_started", Some(id.to_string()), body)])?;
            let guard = RunGuard::new(self.config, run.changed_resources.clone());
            let result = {
                let env = StepEnv {
                    run_id: &run.id,
                    case_id: &run.case_id,
                    responder: &run.responder,
                    account: run.context.account.as_deref(),
                    region: run.context.region.as_deref(),
                    execute: run.execute,
                    guard: &guard,
                    evidence: self.evidence,
                    now: (self.clock)(),
                };
                action.run(&env, &params).await
            };
            if run.execute {
                run.changed_resources.extend(guard.changed());
            }
            match result {
                Ok(report) => {
                    if run.execute {
                        run.changed_resources
                            .extend(report.resources_changed.iter().cloned());
                    }
                    let status = match report.outcome {
                        Outcome::Changed | Outcome::Done => StepStatus::Succeeded,
                        Outcome::AlreadyDone => StepStatus::AlreadyDone,
                        Outcome::Planned => StepStatus::Planned,
                    };
                    let finished = rfc3339((self.clock)());
                    let body = json!({
                        "action": name,
                        "params": params,
                        "status": status.as_str(),
                        "attempts": attempt,
                        "request_ids": report.calls.iter().filter_map(|c| c.request_id.clone()).collect::<Vec<_>>(),
                        "report": report,
                    });
                    self.update(run, id, |s| {
                        s.status = status;
                        s.report = Some(report);
                        s.finished_at = Some(finished);
                    });
                    self.save(run, vec![("step_finished", Some(id.to_string()), body)])?;
                    return Ok(Next::Continue);
                }
                Err(ActionError::Transient(message)) if attempt <= node.on_error.retries => {
                    let wait = node
                        .on_error
                        .backoff_ms
                        .saturating_mul(1 << (attempt - 1).min(16));
                    let body = json!({ "action": name, "attempt": attempt, "error": message, "retry_in_ms": wait });
                    self.store.append_ledger(&[self.draft(
                        run,
                        "step_retry",
                        Some(id.to_string()),
                        body,
                    )])?;
                    tokio::time::sleep(Duration::from_millis(wait)).await;
                }
                Err(error) => {
                    return self
                        .fail(playbook, run, node, id, error_text(&error), attempt)
                        .await;
                }
            }
        }
    }

    /// Records a failed step; the run stops or goes on as `on_error` says.
    async fn fail(
        &mut self,
        playbook: &Playbook,
        run: &mut Run,
        node: &Node,
        id: &str,
        error: String,
        attempts: u32,
    ) -> Result<Next, RespondError> {
        let go_on = node.on_error.then == AfterError::Continue;
        let finished = rfc3339((self.clock)());
        self.update(run, id, |s| {
            s.status = StepStatus::Failed;
            s.error = Some(error.clone());
            s.continued = go_on;
            s.finished_at = Some(finished);
        });
        let body = json!({ "error": error, "attempts": attempts, "then": if go_on { "continue" } else { "stop" } });
        let mut entries = vec![("step_failed", Some(id.to_string()), body)];
        if go_on {
            self.save(run, entries)?;
            return Ok(Next::Continue);
        }
        run.status = RunStatus::Failed;
        run.error = Some(format!("step {id}: {error}"));
        entries.push((
            "run_stopped",
            None,
            json!({ "status": "failed", "step": id }),
        ));
        self.save(run, entries)?;
        self.notify(playbook, run, RunEvent::Failed).await;
        Ok(Next::Halt)
    }

    async fn finish(&mut self, playbook: &Playbook, run: &mut Run) -> Result<(), RespondError> {
        run.status = if !run.execute {
            RunStatus::Planned
        } else if run.steps.iter().any(|s| s.status == StepStatus::Failed) {
            RunStatus::CompletedWithErrors
        } else {
            RunStatus::Succeeded
        };
        let body = json!({
            "status": run.status.as_str(),
            "changed_resources": run.changed_resources,
        });
        self.save(run, vec![("run_finished", None, body)])?;
        self.notify(playbook, run, RunEvent::Finished).await;
        Ok(())
    }

    /// Sends the playbook's notifications for `event`. A notification that fails is
    /// recorded in the ledger and never fails the run.
    async fn notify(&mut self, playbook: &Playbook, run: &mut Run, event: RunEvent) {
        for notification in playbook
            .notifications
            .iter()
            .filter(|n| n.on.contains(&event))
        {
            let root = self.scope(playbook, run);
            if notification.when.as_ref().is_some_and(|w| !w.eval(&root)) {
                continue;
            }
            let outcome = match (
                self.render(run, &root, &notification.params),
                self.catalog.get(&notification.action),
            ) {
                (Ok(params), Some(action)) => {
                    let guard = RunGuard::new(self.config, run.changed_resources.clone());
                    let env = StepEnv {
                        run_id: &run.id,
                        case_id: &run.case_id,
                        responder: &run.responder,
                        account: run.context.account.as_deref(),
                        region: run.context.region.as_deref(),
                        execute: run.execute,
                        guard: &guard,
                        evidence: self.evidence,
                        now: (self.clock)(),
                    };
                    action.run(&env, &params).await.map_err(|e| error_text(&e))
                }
                (Err(error), _) => Err(error.to_string()),
                (_, None) => Err(format!(
                    "action `{}` is not in the catalog",
                    notification.action
                )),
            };
            let body = match outcome {
                Ok(report) => {
                    json!({ "event": event, "action": notification.action, "outcome": report.outcome, "calls": report.calls })
                }
                Err(error) => {
                    json!({ "event": event, "action": notification.action, "error": error })
                }
            };
            let draft = self.draft(run, "notification", None, body);
            if let Err(error) = self.store.append_ledger(&[draft]) {
                // The run's own state is saved; a notification that cannot be recorded is
                // reported on stderr rather than failing the run.
                eprintln!(
                    "vigil: run {}: could not record a notification: {error}",
                    run.id
                );
            }
        }
    }

    /// The variables templates and conditions see.
    fn scope(&self, playbook: &Playbook, run: &Run) -> Value {
        let mut steps = Map::new();
        for step in &run.steps {
            let report = step.report.as_ref();
            steps.insert(
                step.id.clone(),
                json!({
                    "outputs": report.map(|r| Value::Object(r.outputs.clone())).unwrap_or(Value::Null),
                    "outcome": report.map(|r| json!(r.outcome)).unwrap_or(Value::Null),
                    "state": step.status.as_str(),
                    "error": step.error,
                    "note": report.and_then(|r| r.note.clone()),
                    "branch": step.branch,
                }),
            );
        }
        json!({
            "finding": run.finding,
            "inputs": run.inputs,
            "context": run.context,
            "config": self.config.vars,
            "steps": steps,
            "run": {
                "id": run.id,
                "case_id": run.case_id,
                "status": run.status.as_str(),
                "execute": run.execute,
                "summary": notification_text(run, playbook),
            },
            "playbook": { "id": playbook.id, "title": playbook.title },
        })
    }

    /// Renders a step's parameters, leaving out those that render to null. In a plan, a value from a step that was only planned
    /// becomes a placeholder (`<steps.snapshot.outputs.snapshot_ids>`).
    fn render(
        &self,
        run: &Run,
        root: &Value,
        params: &Map<String, Value>,
    ) -> Result<Map<String, Value>, TemplateError> {
        let planned = |expr: &Expr| -> Option<Value> {
            if run.execute || expr.path.head() != Some("steps") {
                return None;
            }
            let step = match expr.path.segments.get(1) {
                Some(crate::path::Segment::Key(id)) => run.step(id)?,
                _ => return None,
            };
            (step.status == StepStatus::Planned)
                .then(|| Value::String(format!("<{}>", expr.variable)))
        };
        match render_value(&Value::Object(params.clone()), root, &planned)? {
            // A parameter that renders to null (`{{ inputs.x | default(null) }}`) is left
            // out: the action sees an optional parameter not given.
            Value::Object(mut map) => {
                map.retain(|_, value| !value.is_null());
                Ok(map)
            }
            _ => Ok(Map::new()),
        }
    }

    fn update(&self, run: &mut Run, id: &str, change: impl FnOnce(&mut StepState)) {
        if let Some(step) = run.step_mut(id) {
            change(step);
        }
    }

    fn draft(&self, run: &Run, kind: &str, step: Option<String>, body: Value) -> LedgerDraft {
        LedgerDraft {
            run_id: run.id.clone(),
            case_id: run.case_id.clone(),
            at_ms: (self.clock)().timestamp_millis(),
            actor: self.actor.clone(),
            kind: kind.to_string(),
            step_id: step,
            body,
        }
    }

    /// Saves the run with ledger entries, in one transaction.
    fn save(
        &mut self,
        run: &mut Run,
        entries: Vec<(&str, Option<String>, Value)>,
    ) -> Result<(), RespondError> {
        let now = (self.clock)();
        run.updated_at = rfc3339(now);
        let created_ms = DateTime::parse_from_rfc3339(&run.created_at)
            .map_or(now.timestamp_millis(), |t| t.timestamp_millis());
        let mut record = run.to_record(created_ms, now.timestamp_millis())?;
        let drafts: Vec<LedgerDraft> = entries
            .into_iter()
            .map(|(kind, step, body)| self.draft(run, kind, step, body))
            .collect();
        self.store.save_run(&mut record, &drafts)?;
        run.version = record.version;
        Ok(())
    }
}

/// Whether the run is in production at `flow`: the flow is a production branch, or the run
/// went through one (a decision that chose production holds for the rest of the run, also
/// in the flows the branch continues into).
fn in_production(playbook: &Playbook, run: &Run, flow: &str) -> bool {
    playbook.is_production(flow)
        || run
            .steps
            .iter()
            .filter_map(|s| s.branch.as_deref())
            .any(|branch| playbook.is_production(branch))
}

fn error_text(error: &ActionError) -> String {
    let kind = serde_json::to_value(error)
        .ok()
        .and_then(|v| v.get("kind").and_then(Value::as_str).map(String::from))
        .unwrap_or_default();
    format!("{kind}: {error}")
}

fn finding_time(finding: &Value, key: &str) -> Option<DateTime<Utc>> {
    finding
        .get(key)
        .and_then(Value::as_i64)
        .and_then(DateTime::from_timestamp_millis)
}

fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A new run id: `run-<utc date and time>-<8 hex digits>`, unique across processes (the hex
/// digits hash the playbook, the finding, the clock, the process id and a counter).
fn new_run_id(playbook: &str, finding: Option<&str>, now: DateTime<Utc>) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let seed = format!(
        "{playbook}\n{}\n{wall}\n{}\n{}",
        finding.unwrap_or(""),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let hex = sha256_hex(seed.as_bytes());
    format!("run-{}-{}", now.format("%Y%m%dT%H%M%S"), &hex[..8])
}
