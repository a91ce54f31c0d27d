//! The built-in playbooks load against a catalog of fakes named like the real actions, their
//! triggers name rules of the built-in pack, and each one plans (and the EC2 one runs)
//! against a realistic finding.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use common::{ec2_finding, real_catalog, World};
use serde_json::{json, Value};
use vigil_respond::{
    builtin_playbooks, Executor, MemoryEvidence, Playbook, ResponseConfig, Run, RunStatus,
    StartOptions, StepStatus, BUILTIN_PLAYBOOKS,
};
use vigil_store::SqliteStore;

fn playbooks(world: &Arc<World>) -> Vec<Playbook> {
    builtin_playbooks(&real_catalog(world)).unwrap_or_else(|e| panic!("{e}"))
}

/// Every rule id in the repository's rule pack.
fn rule_ids() -> BTreeSet<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules");
    let mut ids = BTreeSet::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("the rules directory") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
                let text = std::fs::read_to_string(&path).expect("a rule file");
                for line in text.lines() {
                    if let Some(id) = line.strip_prefix("id:") {
                        ids.insert(id.trim().trim_matches('\'').to_string());
                    }
                }
            }
        }
    }
    ids
}

#[test]
fn every_builtin_playbook_loads_and_triggers_on_real_rules() {
    let world = Arc::new(World::default());
    let loaded = playbooks(&world);
    assert_eq!(loaded.len(), BUILTIN_PLAYBOOKS.len());
    let known = rule_ids();
    assert!(known.len() > 100, "the rule pack is found");
    for playbook in &loaded {
        assert!(
            !playbook.triggers.rules.is_empty(),
            "{} has rule triggers",
            playbook.id
        );
        for rule in &playbook.triggers.rules {
            assert!(
                known.contains(rule),
                "{}: rule {rule} is not in rules/",
                playbook.id
            );
        }
        assert!(
            !playbook.human_steps.is_empty(),
            "{} lists the human steps",
            playbook.id
        );
    }
    let ids: BTreeSet<_> = loaded.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids.len(), loaded.len(), "ids are unique");
}

struct Bench {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    world: Arc<World>,
    config: ResponseConfig,
}

impl Bench {
    fn new() -> Bench {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("vigil.db");
        let mut config = ResponseConfig::default();
        config
            .environments
            .insert("111111111111".into(), "dev".into());
        config
            .vars
            .insert("webhook_url".into(), json!("https://hooks.example/ir"));
        Bench {
            _dir: dir,
            path,
            world: Arc::new(World::default()),
            config,
        }
    }

    async fn run(&self, id: &str, finding: &Value, execute: bool) -> Run {
        let catalog = real_catalog(&self.world);
        let playbook = playbooks(&self.world)
            .into_iter()
            .find(|p| p.id == id)
            .expect("the playbook");
        assert!(playbook.matches(finding), "{id} triggers on its finding");
        let mut store = SqliteStore::open(&self.path).expect("opens");
        let evidence = MemoryEvidence::new();
        let options = StartOptions {
            execute,
            responder: "alice".into(),
            ..StartOptions::default()
        };
        Executor::new(&catalog, &mut store, &self.config, &evidence)
            .start(&playbook, finding, &options)
            .await
            .unwrap_or_else(|e| panic!("{id}: {e}"))
    }
}

fn executed_steps(run: &Run) -> Vec<&str> {
    run.steps
        .iter()
        .filter(|s| s.action.is_some() && !matches!(s.status, StepStatus::Skipped))
        .map(|s| s.id.as_str())
        .collect()
}

#[tokio::test]
async fn cloudtrail_logging_stopped_restarts_notifies_and_collects() {
    let bench = Bench::new();
    let finding = json!({
        "id": "f-stop", "rule_id": "f6249e2b-b281-4380-bcf9-ebccff2a4cfb", "title": "CloudTrail logging stopped",
        "severity": {"label": "CRITICAL", "score": 90}, "account": "222222222222", "region": "us-east-1",
        "principal": "arn:aws:iam::222222222222:user/mallory", "resources": ["management-trail"],
        "first_seen_ms": 1_790_000_000_000_i64, "tags": [],
        "samples": [{"record": {"eventName": "StopLogging", "requestParameters": {"name": "management-trail"}}}]
    });
    let run = bench
        .run("cloudtrail-logging-stopped", &finding, true)
        .await;
    assert_eq!(
        run.status,
        RunStatus::Succeeded,
        "prod, yet StartLogging is auto-approved: {:?}",
        run.error
    );
    assert_eq!(
        executed_steps(&run),
        ["start_logging", "notify_webhook", "collect_activity"]
    );
    let collect = run
        .step("collect_activity")
        .unwrap()
        .params
        .clone()
        .unwrap();
    assert_eq!(
        collect["principal_arn"],
        json!("arn:aws:iam::222222222222:user/mallory")
    );
    assert_eq!(
        collect["start"],
        json!("2026-09-20T14:13:20.000Z"),
        "a day before the first event"
    );
    let text = run.step("notify_webhook").unwrap().params.clone().unwrap()["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        text.contains("start_logging (cloudtrail.start_logging): succeeded"),
        "{text}"
    );
}

#[tokio::test]
async fn ec2_compromise_in_dev_contains_in_order_and_never_terminates_by_default() {
    let bench = Bench::new();
    bench.world.set_outputs("ec2.capture_metadata", json!({"asg_name": "web-asg", "instance_profile_arn": "arn:aws:iam::111111111111:instance-profile/web"}));
    let run = bench
        .run(
            "ec2-instance-compromise",
            &ec2_finding("i-0a1b2c3d4e5f60718", "111111111111", "HIGH", 75),
            true,
        )
        .await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.error);
    assert_eq!(
        executed_steps(&run),
        [
            "capture",
            "protect",
            "isolate",
            "detach_asg",
            "deregister_lb",
            "snapshot",
            "tag",
            "remove_profile",
            "stop"
        ]
    );
    assert_eq!(
        run.step("may_terminate").and_then(|s| s.branch.as_deref()),
        Some("keep")
    );
    assert!(!bench
        .world
        .executed()
        .contains(&"ec2.terminate_instance".to_string()));
}

#[tokio::test]
async fn the_response_tag_asks_for_memory_capture_before_the_stop() {
    let bench = Bench::new();
    let finding = json!({
        "id": "f-tag", "rule_id": "724f0258-331a-4c0a-aa0f-720b20b3e462", "title": "Response tag applied",
        "severity": {"label": "INFORMATIONAL", "score": 10}, "account": "111111111111", "region": "us-east-1",
        "resources": ["i-0a1b2c3d4e5f60718"], "tags": [],
        "samples": [{"record": {"eventName": "CreateTags", "requestParameters": {
            "resourcesSet": {"items": [{"resourceId": "i-0a1b2c3d4e5f60718"}]},
            "tagSet": {"items": [{"key": "Response", "value": "Isolate+MemoryCapture"}]}}}}]
    });
    let run = bench.run("ec2-instance-compromise", &finding, false).await;
    assert_eq!(run.status, RunStatus::Planned);
    assert_eq!(
        run.step("investigation").and_then(|s| s.branch.as_deref()),
        Some("online")
    );
    let steps = executed_steps(&run);
    let volatile = steps
        .iter()
        .position(|s| *s == "capture_volatile")
        .expect("memory capture");
    let stop = steps.iter().position(|s| *s == "stop").expect("stop");
    assert!(volatile < stop, "{steps:?}");
}

#[tokio::test]
async fn ec2_compromise_in_production_waits_and_dev_may_terminate_when_configured() {
    let bench = Bench::new();
    let run = bench
        .run(
            "ec2-instance-compromise",
            &ec2_finding("i-0a1b2c3d4e5f60718", "222222222222", "HIGH", 75),
            true,
        )
        .await;
    assert_eq!(run.status, RunStatus::AwaitingApproval);
    assert_eq!(run.awaiting_step().map(|s| s.id.as_str()), Some("protect"));

    let mut bench = Bench::new();
    bench
        .config
        .vars
        .insert("terminate_non_production".into(), json!(true));
    let run = bench
        .run(
            "ec2-instance-compromise",
            &ec2_finding("i-0a1b2c3d4e5f60718", "111111111111", "HIGH", 75),
            true,
        )
        .await;
    assert_eq!(
        run.status,
        RunStatus::AwaitingApproval,
        "terminating always needs a human"
    );
    assert_eq!(
        run.awaiting_step().map(|s| s.id.as_str()),
        Some("terminate_instance")
    );
}

#[tokio::test]
async fn the_other_playbooks_plan_against_their_findings() {
    let bench = Bench::new();
    let key = json!({
        "id": "f-key", "rule_id": "68bae98e-59b4-4bf0-be36-0f277103afce", "title": "Exposed key",
        "severity": {"label": "CRITICAL", "score": 90}, "account": "111111111111", "resources": ["AKIASDDU4ZH26CWQZ3BL"], "tags": [],
        "samples": [{"record": {"check-name": "Exposed Access Keys", "check-item-detail": {"Access Key ID": "AKIASDDU4ZH26CWQZ3BL", "User Name (IAM or Root)": "ci-deploy"}}}]
    });
    let run = bench.run("exposed-access-key", &key, false).await;
    assert_eq!(run.status, RunStatus::Planned, "{:?}", run.error);
    let params = run.step("deactivate_key").unwrap().params.clone().unwrap();
    assert_eq!(
        params,
        json!({"access_key_id": "AKIASDDU4ZH26CWQZ3BL", "user_name": "ci-deploy"})
    );

    let root = json!({
        "id": "f-root", "rule_id": "3425cccd-43e2-4418-a85e-d43f22f8a25b", "title": "Root login without MFA",
        "severity": {"label": "CRITICAL", "score": 90}, "account": "111111111111", "tags": [], "resources": [], "samples": []
    });
    let run = bench.run("root-account-usage", &root, false).await;
    assert_eq!(
        run.step("severity").and_then(|s| s.branch.as_deref()),
        Some("urgent")
    );
    assert_eq!(
        run.step("collect_root_activity")
            .unwrap()
            .params
            .clone()
            .unwrap()["principal_arn"],
        json!("arn:aws:iam::111111111111:root")
    );

    let bucket = json!({
        "id": "f-s3", "rule_id": "60643463-da53-46bc-8683-0bc87cdd48f5", "title": "Bucket ACL public",
        "severity": {"label": "HIGH", "score": 70}, "account": "111111111111", "tags": [], "resources": ["arn:aws:s3:::customer-exports"],
        "samples": [{"record": {"eventName": "PutBucketAcl", "requestParameters": {"bucketName": "customer-exports"}}}]
    });
    let run = bench.run("s3-bucket-public", &bucket, false).await;
    assert_eq!(status(&run, "remove_public_acl"), Some(StepStatus::Planned));
    assert_eq!(
        status(&run, "remove_public_policy"),
        Some(StepStatus::Skipped)
    );

    let group = json!({
        "id": "f-sg", "rule_id": "952a051c-0b93-420b-92de-ae9bee458643", "title": "SG open",
        "severity": {"label": "MEDIUM", "score": 50}, "account": "111111111111", "tags": [], "resources": ["sg-0a1b2c3d4e5f60718"],
        "principal": "arn:aws:iam::111111111111:user/svc-backup",
        "samples": [{"record": {"eventName": "AuthorizeSecurityGroupIngress", "requestParameters": {"groupId": "sg-0a1b2c3d4e5f60718",
            "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 8080, "toPort": 8080, "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}}}}]
    });
    let run = bench
        .run("security-group-open-to-world", &group, false)
        .await;
    assert_eq!(status(&run, "revoke_by_id"), Some(StepStatus::Skipped));
    assert_eq!(
        run.step("revoke_by_range").unwrap().params.clone().unwrap(),
        json!({"group_id": "sg-0a1b2c3d4e5f60718", "protocol": "tcp", "from_port": 8080, "to_port": 8080, "cidr": "0.0.0.0/0"})
    );

    let flow = json!({
        "id": "f-ip", "rule_id": "910cd4e4-d192-4b56-a18f-6bacb52e3b82", "title": "Flow to malicious IP",
        "severity": {"label": "HIGH", "score": 70}, "account": "111111111111", "tags": [], "resources": ["eni-0abc", "i-0a1b2c3d4e5f60718"],
        "intel": [{"field": "dstaddr", "list": "malicious_ips", "entry": "203.0.113.66"}], "source_ips": ["10.0.1.5"], "samples": []
    });
    bench
        .world
        .set_outputs("ec2.capture_metadata", json!({"subnet_id": "subnet-0abc"}));
    let run = bench.run("instance-malicious-ip", &flow, false).await;
    assert_eq!(
        run.step("block_ip").unwrap().params.clone().unwrap(),
        json!({"subnet_id": "subnet-0abc", "cidr": "203.0.113.66/32"})
    );
}

fn status(run: &Run, step: &str) -> Option<StepStatus> {
    run.step(step).map(|s| s.status)
}
