//! The executor with fake actions: plans, executions, approvals, guard rails, failures,
//! resume, idempotency, decision trees, notifications and the ledger.

mod common;

use std::sync::Arc;

use common::{ec2_finding, real_catalog, World};
use serde_json::{json, Value};
use tempfile::TempDir;
use vigil_respond::action::ActionError;
use vigil_respond::{
    verify_ledger, Catalog, Executor, MemoryEvidence, Playbook, RespondError, ResponseConfig,
    ResponseStore, Run, RunFilter, RunStatus, StartOptions, StepStatus,
};
use vigil_store::SqliteStore;

const DEV: &str = "111111111111";
const PROD: &str = "222222222222";
const INSTANCE: &str = "i-0a1b2c3d4e5f60718";

const CONTAIN: &str = r#"
id: contain
title: Contain an instance
description: Test playbook.
triggers:
  rules: [r1]
inputs:
  instance_id:
    from: [resources, samples.record.resource.instanceDetails.instanceId]
    format: instance_id
steps:
  - id: capture
    action: ec2.capture_metadata
    params: { instance_id: "{{ inputs.instance_id }}" }
  - id: protect
    action: ec2.enable_termination_protection
    params: { instance_id: "{{ inputs.instance_id }}" }
  - id: where
    decide:
      - when: { var: steps.capture.outputs.tags.Environment, equals: prod }
        goto: prod
      - when: { var: finding.severity.score, gte: 90 }
        goto: prod
    otherwise: dev
branches:
  prod:
    production: true
    steps:
      - id: isolate
        action: ec2.isolate_instance
        params: { instance_id: "{{ inputs.instance_id }}" }
      - goto: tail
  dev:
    steps:
      - id: isolate_dev
        action: ec2.isolate_instance
        params: { instance_id: "{{ inputs.instance_id }}", isolation_group_name: dev-quarantine }
      - goto: tail
  tail:
    steps:
      - id: snapshot
        action: ec2.snapshot_volumes
        params: { instance_id: "{{ inputs.instance_id }}" }
      - id: tag
        action: ec2.tag_resource
        params:
          resource_id: "{{ inputs.instance_id }}"
          tags: { Quarantine: "{{ context.case_id }}" }
"#;

struct Harness {
    _dir: TempDir,
    path: std::path::PathBuf,
    world: Arc<World>,
    catalog: Catalog,
    config: ResponseConfig,
    evidence: MemoryEvidence,
}

impl Harness {
    fn new() -> Harness {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("vigil.db");
        let world = Arc::new(World::default());
        let catalog = real_catalog(&world);
        let mut config = ResponseConfig::default();
        config.environments.insert(DEV.into(), "dev".into());
        config.environments.insert(PROD.into(), "prod".into());
        Harness {
            _dir: dir,
            path,
            world,
            catalog,
            config,
            evidence: MemoryEvidence::new(),
        }
    }

    fn playbook(&self, yaml: &str) -> Playbook {
        Playbook::load(yaml, "test.yml", &self.catalog).unwrap_or_else(|e| panic!("{e}"))
    }

    /// A store opened afresh, as another process would.
    fn store(&self) -> SqliteStore {
        SqliteStore::open(&self.path).expect("the store opens")
    }

    async fn start(
        &self,
        playbook: &Playbook,
        finding: &Value,
        execute: bool,
    ) -> Result<Run, RespondError> {
        let mut store = self.store();
        let options = StartOptions {
            execute,
            responder: "alice".into(),
            ..StartOptions::default()
        };
        Executor::new(&self.catalog, &mut store, &self.config, &self.evidence)
            .start(playbook, finding, &options)
            .await
    }

    async fn approve(&self, run: &str, by: &str) -> Result<Run, RespondError> {
        let mut store = self.store();
        Executor::new(&self.catalog, &mut store, &self.config, &self.evidence)
            .approve(run, by, "looked at it")
            .await
    }

    async fn deny(&self, run: &str, by: &str) -> Result<Run, RespondError> {
        let mut store = self.store();
        Executor::new(&self.catalog, &mut store, &self.config, &self.evidence)
            .deny(run, by, "not this one")
            .await
    }

    async fn resume(&self, run: &str) -> Result<Run, RespondError> {
        let mut store = self.store();
        Executor::new(&self.catalog, &mut store, &self.config, &self.evidence)
            .resume(run, "bob")
            .await
    }

    fn kinds(&self, run: &str) -> Vec<String> {
        let store = self.store();
        store
            .ledger(Some(run))
            .expect("reads")
            .into_iter()
            .map(|e| e.draft.kind)
            .collect()
    }
}

fn status_of(run: &Run, step: &str) -> Option<StepStatus> {
    run.step(step).map(|s| s.status)
}

#[tokio::test]
async fn a_dry_run_changes_nothing_and_lists_the_calls() {
    let h = Harness::new();
    let playbook = h.playbook(CONTAIN);
    let run = h
        .start(&playbook, &ec2_finding(INSTANCE, PROD, "HIGH", 75), false)
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::Planned);
    assert!(h.world.changes().is_empty(), "a plan changes nothing");
    assert!(h.world.calls().iter().all(|c| !c.execute));
    let planned: Vec<_> = run
        .calls()
        .into_iter()
        .filter(|(_, c)| !c.made)
        .map(|(s, _)| s)
        .collect();
    assert_eq!(planned, ["protect", "isolate_dev", "snapshot", "tag"]);
    assert_eq!(status_of(&run, "protect"), Some(StepStatus::Planned));
    assert!(
        run.step("protect").unwrap().requires_approval,
        "prod: shown as needing approval"
    );
    let tag_params = run.step("tag").unwrap().params.clone().unwrap();
    assert_eq!(
        tag_params["tags"]["Quarantine"],
        json!(format!("case-f-{INSTANCE}"))
    );
    let stored = h.store().get_run(&run.id).unwrap().unwrap();
    assert_eq!(stored.status, "planned");
    assert!(!stored.execute);
}

#[tokio::test]
async fn an_execution_in_dev_runs_every_step_and_records_it() {
    let h = Harness::new();
    let playbook = h.playbook(CONTAIN);
    let run = h
        .start(&playbook, &ec2_finding(INSTANCE, DEV, "HIGH", 75), true)
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    assert_eq!(
        h.world.executed(),
        [
            "ec2.capture_metadata",
            "ec2.enable_termination_protection",
            "ec2.isolate_instance",
            "ec2.snapshot_volumes",
            "ec2.tag_resource"
        ]
    );
    assert_eq!(
        run.step("where").and_then(|s| s.branch.as_deref()),
        Some("dev")
    );
    assert!(run.changed_resources.contains(INSTANCE));
    let ledger = h.store().ledger(Some(&run.id)).unwrap();
    let finished: Vec<_> = ledger
        .iter()
        .filter(|e| e.draft.kind == "step_finished")
        .collect();
    assert_eq!(finished.len(), 5);
    let isolate = finished
        .iter()
        .find(|e| e.draft.step_id.as_deref() == Some("isolate_dev"))
        .unwrap();
    assert_eq!(isolate.draft.actor, "alice");
    assert_eq!(
        isolate.draft.body["request_ids"],
        json!(["req-ec2.isolate_instance-i-0a1b2c3d4e5f60718"])
    );
    assert_eq!(
        isolate.draft.body["report"]["before"],
        json!({"state": "before"})
    );
    assert_eq!(
        isolate.draft.body["params"]["isolation_group_name"],
        json!("dev-quarantine")
    );
    assert_eq!(ledger.first().unwrap().draft.kind, "run_started");
    assert_eq!(ledger.last().unwrap().draft.kind, "run_finished");
    assert!(verify_ledger(&h.store()).unwrap().is_intact());
}

#[tokio::test]
async fn production_waits_for_approval_at_every_mutating_step() {
    let h = Harness::new();
    let playbook = h.playbook(CONTAIN);
    let run = h
        .start(&playbook, &ec2_finding(INSTANCE, PROD, "HIGH", 75), true)
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::AwaitingApproval);
    assert_eq!(run.awaiting_step().map(|s| s.id.as_str()), Some("protect"));
    assert_eq!(
        h.world.executed(),
        ["ec2.capture_metadata"],
        "reads run, changes wait"
    );
    let mut current = run;
    let mut approvals = 0;
    while current.status == RunStatus::AwaitingApproval {
        current = h.approve(&current.id, "bob").await.unwrap();
        approvals += 1;
    }
    assert_eq!(current.status, RunStatus::Succeeded);
    assert_eq!(approvals, 4, "protect, isolate_dev, snapshot, tag");
    assert_eq!(h.world.executed().len(), 5, "no step ran twice");
    let approval = current.step("tag").unwrap().approval.clone().unwrap();
    assert_eq!((approval.approved, approval.by.as_str()), (true, "bob"));
    let kinds = h.kinds(&current.id);
    assert_eq!(
        kinds.iter().filter(|k| *k == "approval_requested").count(),
        4
    );
    assert_eq!(kinds.iter().filter(|k| *k == "approval").count(), 4);
}

#[tokio::test]
async fn resuming_a_run_that_waits_does_not_ask_again_or_run_the_step() {
    let h = Harness::new();
    let playbook = h.playbook(CONTAIN);
    let run = h
        .start(&playbook, &ec2_finding(INSTANCE, PROD, "HIGH", 75), true)
        .await
        .unwrap();
    let again = h.resume(&run.id).await.unwrap();
    assert_eq!(again.status, RunStatus::AwaitingApproval);
    assert_eq!(h.world.executed(), ["ec2.capture_metadata"]);
    let kinds = h.kinds(&run.id);
    assert_eq!(
        kinds.iter().filter(|k| *k == "approval_requested").count(),
        1
    );
}

#[tokio::test]
async fn a_denial_stops_the_run() {
    let h = Harness::new();
    let playbook = h.playbook(CONTAIN);
    let run = h
        .start(&playbook, &ec2_finding(INSTANCE, PROD, "HIGH", 75), true)
        .await
        .unwrap();
    let denied = h.deny(&run.id, "carol").await.unwrap();
    assert_eq!(denied.status, RunStatus::Denied);
    assert_eq!(status_of(&denied, "protect"), Some(StepStatus::Denied));
    assert!(
        denied.step("isolate_dev").is_none(),
        "nothing after the denied step"
    );
    assert_eq!(h.world.executed(), ["ec2.capture_metadata"]);
    let resumed = h.resume(&run.id).await.unwrap();
    assert_eq!(resumed.status, RunStatus::Denied);
    let late = h.approve(&run.id, "bob").await;
    assert!(
        matches!(late, Err(RespondError::NotAwaitingApproval { .. })),
        "{late:?}"
    );
    assert!(h.kinds(&run.id).contains(&"denial".to_string()));
}

#[tokio::test]
async fn four_eyes_refuses_self_approval() {
    let mut h = Harness::new();
    h.config.four_eyes = true;
    let playbook = h.playbook(CONTAIN);
    let run = h
        .start(&playbook, &ec2_finding(INSTANCE, PROD, "HIGH", 75), true)
        .await
        .unwrap();
    let refused = h.approve(&run.id, "alice").await;
    assert!(
        matches!(refused, Err(RespondError::SameApprover { .. })),
        "{refused:?}"
    );
    assert_eq!(
        h.approve(&run.id, "bob")
            .await
            .unwrap()
            .awaiting_step()
            .map(|s| s.id.clone()),
        Some("isolate_dev".into())
    );
}

#[tokio::test]
async fn a_production_tag_on_the_instance_takes_the_production_branch() {
    let h = Harness::new();
    h.world.tag(INSTANCE, "Environment", "prod");
    let playbook = h.playbook(CONTAIN);
    let run = h
        .start(&playbook, &ec2_finding(INSTANCE, DEV, "HIGH", 75), true)
        .await
        .unwrap();
    assert_eq!(
        run.step("where").and_then(|s| s.branch.as_deref()),
        Some("prod")
    );
    assert_eq!(run.status, RunStatus::AwaitingApproval);
    assert_eq!(
        run.awaiting_step().map(|s| s.id.as_str()),
        Some("isolate"),
        "dev account: protect ran; the production branch waits"
    );
    assert_eq!(
        h.world.executed(),
        ["ec2.capture_metadata", "ec2.enable_termination_protection"]
    );
    let next = h.approve(&run.id, "bob").await.unwrap();
    assert_eq!(
        next.awaiting_step().map(|s| s.id.as_str()),
        Some("snapshot"),
        "production holds in the branch the production branch continues into"
    );
}

#[tokio::test]
async fn severity_chooses_the_branch_too() {
    let h = Harness::new();
    let playbook = h.playbook(CONTAIN);
    let run = h
        .start(
            &playbook,
            &ec2_finding(INSTANCE, DEV, "CRITICAL", 95),
            false,
        )
        .await
        .unwrap();
    assert_eq!(
        run.step("where").and_then(|s| s.branch.as_deref()),
        Some("prod")
    );
    assert!(run
        .step("where")
        .unwrap()
        .reason
        .as_deref()
        .unwrap()
        .contains("finding.severity.score"));
    let low = h
        .start(
            &playbook,
            &ec2_finding("i-0000000011111111a", DEV, "MEDIUM", 50),
            false,
        )
        .await
        .unwrap();
    assert_eq!(
        low.step("where").and_then(|s| s.branch.as_deref()),
        Some("dev")
    );
}

#[tokio::test]
async fn a_protected_resource_is_refused_and_left_alone() {
    let h = Harness::new();
    h.world.tag(INSTANCE, "vigil:protected", "true");
    let playbook = h.playbook(CONTAIN);
    let run = h
        .start(&playbook, &ec2_finding(INSTANCE, DEV, "HIGH", 75), true)
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(status_of(&run, "protect"), Some(StepStatus::Failed));
    let error = run.step("protect").unwrap().error.clone().unwrap();
    assert!(error.starts_with("protected:"), "{error}");
    assert!(h.world.changes().is_empty());
    assert!(run.changed_resources.is_empty());
}

#[tokio::test]
async fn the_run_limit_stops_changes_to_further_resources() {
    let mut h = Harness::new();
    h.config.max_resources_changed = 1;
    let playbook = h.playbook(
        r#"
id: two
title: Two resources
description: Tags two resources.
steps:
  - id: first
    action: ec2.tag_resource
    params: { resource_id: i-11111111 }
  - id: again
    action: ec2.stop_instance
    params: { instance_id: i-11111111 }
  - id: second
    action: ec2.tag_resource
    params: { resource_id: i-22222222 }
"#,
    );
    let run = h
        .start(&playbook, &json!({"id": "f1", "account": DEV}), true)
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(
        status_of(&run, "again"),
        Some(StepStatus::Succeeded),
        "the same resource counts once"
    );
    let error = run.step("second").unwrap().error.clone().unwrap();
    assert!(error.starts_with("limit_reached:"), "{error}");
    assert_eq!(run.changed_resources.len(), 1);
}

const RETRYING: &str = r#"
id: retrying
title: Retries
description: Retries then goes on.
steps:
  - id: isolate
    action: ec2.isolate_instance
    params: { instance_id: i-11111111 }
    on_error: { retry: 2, backoff_ms: 1 }
  - id: snapshot
    action: ec2.snapshot_volumes
    params: { instance_id: i-11111111 }
    on_error: continue
  - id: tag
    action: ec2.tag_resource
    params: { resource_id: i-11111111 }
"#;

#[tokio::test]
async fn transient_errors_are_retried_and_continue_goes_on() {
    let h = Harness::new();
    h.world.fail(
        "ec2.isolate_instance",
        vec![ActionError::Transient("throttled".into()); 2],
    );
    h.world.fail(
        "ec2.snapshot_volumes",
        vec![ActionError::Failed("quota".into())],
    );
    let playbook = h.playbook(RETRYING);
    let run = h
        .start(&playbook, &json!({"id": "f1", "account": DEV}), true)
        .await
        .unwrap();
    assert_eq!(
        run.step("isolate").map(|s| (s.status, s.attempts)),
        Some((StepStatus::Succeeded, 3))
    );
    assert_eq!(status_of(&run, "snapshot"), Some(StepStatus::Failed));
    assert_eq!(status_of(&run, "tag"), Some(StepStatus::Succeeded));
    assert_eq!(run.status, RunStatus::CompletedWithErrors);
    let kinds = h.kinds(&run.id);
    assert_eq!(kinds.iter().filter(|k| *k == "step_retry").count(), 2);
    assert_eq!(kinds.iter().filter(|k| *k == "step_failed").count(), 1);
}

#[tokio::test]
async fn retries_run_out_and_other_errors_are_not_retried() {
    let h = Harness::new();
    h.world.fail(
        "ec2.isolate_instance",
        vec![ActionError::Transient("throttled".into()); 3],
    );
    let playbook = h.playbook(RETRYING);
    let run = h
        .start(&playbook, &json!({"id": "f1", "account": DEV}), true)
        .await
        .unwrap();
    assert_eq!(
        run.step("isolate").map(|s| (s.status, s.attempts)),
        Some((StepStatus::Failed, 3))
    );
    assert_eq!(run.status, RunStatus::Failed, "on_error stops by default");
    assert!(run.step("snapshot").is_none());

    let h = Harness::new();
    h.world.fail(
        "ec2.isolate_instance",
        vec![ActionError::Denied("UnauthorizedOperation".into())],
    );
    let run = h
        .start(&playbook, &json!({"id": "f1", "account": DEV}), true)
        .await
        .unwrap();
    assert_eq!(run.step("isolate").map(|s| s.attempts), Some(1));
    assert!(run
        .error
        .as_deref()
        .unwrap()
        .contains("UnauthorizedOperation"));
}

#[tokio::test]
async fn resume_after_a_failure_does_not_redo_succeeded_steps() {
    let h = Harness::new();
    h.world.fail(
        "ec2.snapshot_volumes",
        vec![ActionError::Failed("SnapshotLimitExceeded".into())],
    );
    let playbook = h.playbook(CONTAIN);
    let run = h
        .start(&playbook, &ec2_finding(INSTANCE, DEV, "HIGH", 75), true)
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(h.world.executed().len(), 4);
    let resumed = h.resume(&run.id).await.unwrap();
    assert_eq!(resumed.status, RunStatus::Succeeded);
    assert_eq!(
        h.world.executed(),
        [
            "ec2.capture_metadata",
            "ec2.enable_termination_protection",
            "ec2.isolate_instance",
            "ec2.snapshot_volumes",
            "ec2.snapshot_volumes",
            "ec2.tag_resource"
        ],
        "only the failed step is tried again"
    );
    assert!(h.kinds(&run.id).contains(&"run_resumed".to_string()));
    assert_eq!(
        h.store()
            .ledger(Some(&run.id))
            .unwrap()
            .iter()
            .find(|e| e.draft.kind == "run_resumed")
            .unwrap()
            .draft
            .actor,
        "bob"
    );
}

#[tokio::test]
async fn resume_after_a_crash_mid_step_runs_that_step_again() {
    let h = Harness::new();
    let playbook = h.playbook(CONTAIN);
    let run = h
        .start(&playbook, &ec2_finding(INSTANCE, DEV, "HIGH", 75), true)
        .await
        .unwrap();
    // Rewind the stored run to how a crash during `snapshot` leaves it.
    let mut store = h.store();
    let mut record = store.get_run(&run.id).unwrap().unwrap();
    let mut crashed = Run::from_record(&record).unwrap();
    crashed.status = RunStatus::Running;
    crashed.steps.retain(|s| s.id != "tag");
    let snapshot = crashed
        .steps
        .iter_mut()
        .find(|s| s.id == "snapshot")
        .unwrap();
    snapshot.status = StepStatus::Running;
    snapshot.report = None;
    record.status = "running".into();
    record.body = serde_json::to_value(&crashed).unwrap();
    store.save_run(&mut record, &[]).unwrap();
    let before = h.world.executed().len();
    let resumed = h.resume(&run.id).await.unwrap();
    assert_eq!(resumed.status, RunStatus::Succeeded);
    assert_eq!(
        h.world.executed()[before..],
        [
            "ec2.snapshot_volumes".to_string(),
            "ec2.tag_resource".to_string()
        ]
    );
    assert_eq!(
        status_of(&resumed, "snapshot"),
        Some(StepStatus::AlreadyDone),
        "the action converged"
    );
}

#[tokio::test]
async fn running_the_playbook_again_converges() {
    let h = Harness::new();
    let playbook = h.playbook(CONTAIN);
    let finding = ec2_finding(INSTANCE, DEV, "HIGH", 75);
    let first = h.start(&playbook, &finding, true).await.unwrap();
    let changes = h.world.changes();
    let second = h.start(&playbook, &finding, true).await.unwrap();
    assert_ne!(first.id, second.id);
    assert_eq!(second.status, RunStatus::Succeeded);
    assert_eq!(h.world.changes(), changes);
    for step in ["protect", "isolate_dev", "snapshot", "tag"] {
        assert_eq!(
            status_of(&second, step),
            Some(StepStatus::AlreadyDone),
            "{step}"
        );
    }
    let runs = h
        .store()
        .list_runs(&RunFilter {
            finding_id: Some(format!("f-{INSTANCE}")),
            ..RunFilter::default()
        })
        .unwrap();
    assert_eq!(runs.len(), 2);
    assert!(runs
        .iter()
        .all(|r| r.case_id == format!("case-f-{INSTANCE}")));
}

#[tokio::test]
async fn a_second_run_while_one_waits_is_refused() {
    let h = Harness::new();
    let playbook = h.playbook(CONTAIN);
    let finding = ec2_finding(INSTANCE, PROD, "HIGH", 75);
    let first = h.start(&playbook, &finding, true).await.unwrap();
    let second = h.start(&playbook, &finding, true).await;
    match second {
        Err(RespondError::RunInProgress { run_id, .. }) => assert_eq!(run_id, first.id),
        other => panic!("{other:?}"),
    }
    assert!(
        h.start(&playbook, &finding, false).await.is_ok(),
        "a plan is always allowed"
    );
}

#[tokio::test]
async fn a_template_without_a_value_fails_the_step_naming_it() {
    let h = Harness::new();
    let playbook = h.playbook(
        r#"
id: missing
title: Missing
description: Uses a field this finding lacks.
steps:
  - id: tag
    action: ec2.tag_resource
    params: { resource_id: "{{ finding.principal }}" }
"#,
    );
    let run = h
        .start(&playbook, &json!({"id": "f1", "account": DEV}), true)
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::Failed);
    let error = run.step("tag").unwrap().error.clone().unwrap();
    assert!(error.contains("{{ finding.principal }}"), "{error}");
    assert!(h.world.calls().is_empty());
    // A field no finding has is refused when the playbook loads, not at run time.
    let unknown = r#"
id: unknown
title: Unknown
description: Uses a field no finding has.
steps:
  - id: tag
    action: ec2.tag_resource
    params: { resource_id: "{{ finding.principal_arn }}" }
"#;
    let errors = Playbook::load(unknown, "unknown.yml", &h.catalog)
        .expect_err("refused")
        .to_string();
    assert!(
        errors.contains("unknown.yml:8")
            && errors.contains("unknown finding field `principal_arn`"),
        "{errors}"
    );
}

#[tokio::test]
async fn a_finding_without_the_inputs_is_refused_before_anything_runs() {
    let h = Harness::new();
    let playbook = h.playbook(CONTAIN);
    let result = h
        .start(
            &playbook,
            &json!({"id": "f1", "resources": ["sg-12345678"]}),
            true,
        )
        .await;
    match result {
        Err(RespondError::Inputs { problems, .. }) => {
            assert!(problems[0].starts_with("instance_id:"), "{problems:?}");
            assert!(problems[0].contains("sg-12345678"));
        }
        other => panic!("{other:?}"),
    }
    assert!(h.world.calls().is_empty());
    assert!(h
        .store()
        .list_runs(&RunFilter::default())
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_plan_shows_placeholders_for_outputs_of_planned_steps() {
    let h = Harness::new();
    h.world.set_outputs(
        "ec2.snapshot_volumes",
        json!({"snapshot_ids": ["snap-11111111"]}),
    );
    let playbook = h.playbook(
        r#"
id: share
title: Share
description: Snapshots and shares.
steps:
  - id: snapshot
    action: ec2.snapshot_volumes
    params: { instance_id: i-11111111 }
  - id: share
    action: ec2.share_snapshot
    params: { snapshot_id: "{{ steps.snapshot.outputs.snapshot_ids }}", account_id: "333333333333" }
"#,
    );
    let plan = h
        .start(&playbook, &json!({"id": "f1", "account": DEV}), false)
        .await
        .unwrap();
    let params = plan.step("share").unwrap().params.clone().unwrap();
    assert_eq!(
        params["snapshot_id"],
        json!("<steps.snapshot.outputs.snapshot_ids>")
    );
    let run = h
        .start(&playbook, &json!({"id": "f2", "account": DEV}), true)
        .await
        .unwrap();
    let params = run.step("share").unwrap().params.clone().unwrap();
    assert_eq!(params["snapshot_id"], json!(["snap-11111111"]));
}

#[tokio::test]
async fn notifications_carry_the_finding_what_was_done_and_the_next_step() {
    let mut h = Harness::new();
    h.config
        .vars
        .insert("webhook".into(), json!("https://hooks.example/x"));
    let mut yaml = CONTAIN.to_string();
    yaml.push_str(
        r#"notifications:
  - on: [awaiting_approval, finished]
    action: notify.webhook
    when: { var: config.webhook, exists: true }
    params: { url: "{{ config.webhook }}", text: "{{ run.summary }}" }
"#,
    );
    let playbook = h.playbook(&yaml);
    let run = h
        .start(&playbook, &ec2_finding(INSTANCE, PROD, "HIGH", 75), true)
        .await
        .unwrap();
    let sent: Vec<_> = h
        .world
        .calls()
        .into_iter()
        .filter(|c| c.action == "notify.webhook")
        .collect();
    assert_eq!(sent.len(), 1);
    let text = sent[0].params["text"].as_str().unwrap().to_string();
    assert!(
        text.contains("GuardDuty: instance talks to a command and control server [HIGH]"),
        "{text}"
    );
    assert!(
        text.contains("capture (ec2.capture_metadata): succeeded"),
        "{text}"
    );
    assert!(
        text.contains(&format!("vigil respond approve {} --by NAME", run.id)),
        "{text}"
    );
    assert_eq!(sent[0].params["url"], json!("https://hooks.example/x"));
    assert!(h.kinds(&run.id).contains(&"notification".to_string()));
}

#[tokio::test]
async fn tampering_with_the_ledger_of_a_run_is_caught() {
    let h = Harness::new();
    let playbook = h.playbook(CONTAIN);
    let run = h
        .start(&playbook, &ec2_finding(INSTANCE, DEV, "HIGH", 75), true)
        .await
        .unwrap();
    let ledger = h.store().ledger(Some(&run.id)).unwrap();
    let isolate = ledger
        .iter()
        .find(|e| {
            e.draft.kind == "step_finished" && e.draft.step_id.as_deref() == Some("isolate_dev")
        })
        .unwrap();
    let raw = rusqlite_connection(&h.path);
    raw.execute_batch("DROP TRIGGER response_ledger_no_update;")
        .unwrap();
    raw.execute(
        "UPDATE response_ledger SET actor = 'someone-else' WHERE seq = ?1",
        [isolate.seq],
    )
    .unwrap();
    let check = verify_ledger(&h.store()).unwrap();
    assert_eq!(check.first_broken.map(|b| b.seq), Some(isolate.seq));
}

fn rusqlite_connection(path: &std::path::Path) -> vigil_store_raw::Connection {
    vigil_store_raw::Connection::open(path).unwrap()
}

/// The raw SQLite connection a tamperer would use.
mod vigil_store_raw {
    pub use rusqlite::Connection;
}
