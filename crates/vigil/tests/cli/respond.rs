//! `vigil respond`, `runbook`, `iam-policy`: the generated files are current, and a finding
//! from the example incident is answered end to end against moto through the real SDK.

use std::path::Path;

use crate::common::{repo, vigil_env, vigil_in, EMULATOR_ENV};

/// docs/runbooks/ holds one runbook per built-in playbook, exactly as `vigil runbook render
/// --all` writes them today.
#[test]
fn docs_runbooks_are_current() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("runbooks");
    let run = vigil_in(
        dir.path(),
        &["runbook", "render", "--all", out.to_str().unwrap()],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let checked_in = repo().join("docs/runbooks");
    let mut rendered = 0;
    for entry in std::fs::read_dir(&out).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap();
        let want = std::fs::read_to_string(&path).unwrap();
        let have = std::fs::read_to_string(checked_in.join(name)).unwrap_or_default();
        assert!(
            want == have,
            "docs/runbooks/{} is out of date: run `cargo run -- runbook render --all docs/runbooks`",
            name.to_string_lossy()
        );
        rendered += 1;
    }
    assert!(rendered >= 7, "only {rendered} runbooks rendered");
    let checked_in_count = std::fs::read_dir(&checked_in).unwrap().count();
    assert_eq!(
        checked_in_count, rendered,
        "docs/runbooks has files no playbook renders"
    );
}

/// deploy/iam-policy.json is the policy `vigil iam-policy` prints for every built-in playbook.
#[test]
fn deploy_iam_policy_is_current() {
    let dir = tempfile::tempdir().unwrap();
    let run = vigil_in(dir.path(), &["iam-policy"], None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let printed: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let file = std::fs::read_to_string(repo().join("deploy/iam-policy.json")).unwrap_or_default();
    let checked_in: serde_json::Value = serde_json::from_str(&file).unwrap_or_default();
    assert!(
        printed == checked_in,
        "deploy/iam-policy.json is out of date: run `cargo run -- iam-policy > deploy/iam-policy.json`"
    );
    let actions: Vec<&str> = printed["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["Action"].as_array().unwrap().iter())
        .filter_map(|a| a.as_str())
        .collect();
    assert!(actions.contains(&"cloudtrail:StartLogging"));
    assert!(actions.contains(&"ec2:ModifyInstanceAttribute"));
    assert!(!actions.iter().any(|a| a.ends_with(":*") || *a == "*"));
    // Only what the chosen playbooks use.
    let only = vigil_in(
        dir.path(),
        &["iam-policy", "--playbook", "cloudtrail-logging-stopped"],
        None,
    );
    assert_eq!(only.code, 0, "{}", only.stderr);
    assert!(only.stdout.contains("cloudtrail:StartLogging"));
    assert!(!only.stdout.contains("ec2:ModifyInstanceAttribute"));
}

/// docs/actions.md is `vigil actions --markdown`; `vigil actions NAME` shows one entry and an
/// unknown name is a usage error.
#[test]
fn docs_actions_is_current_and_one_action_can_be_shown() {
    let dir = tempfile::tempdir().unwrap();
    let run = vigil_in(dir.path(), &["actions", "--markdown"], None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let checked_in = std::fs::read_to_string(repo().join("docs/actions.md")).unwrap_or_default();
    assert!(
        run.stdout == checked_in,
        "docs/actions.md is out of date: run `cargo run -- actions --markdown > docs/actions.md`"
    );
    let entries = run.stdout.matches("\n### `").count();
    assert!(entries >= 36, "only {entries} actions documented");

    let list = vigil_in(dir.path(), &["actions"], None);
    assert_eq!(list.code, 0, "{}", list.stderr);
    assert_eq!(list.stdout.lines().count(), entries, "{}", list.stdout);
    assert!(list
        .stdout
        .lines()
        .any(|l| l.starts_with("ec2.isolate_instance ") && l.contains("changes")));

    let one = vigil_in(dir.path(), &["actions", "ec2.share_snapshot"], None);
    assert_eq!(one.code, 0, "{}", one.stderr);
    assert!(
        one.stdout.starts_with("### `ec2.share_snapshot`"),
        "{}",
        one.stdout
    );
    assert!(one.stdout.contains("`kms:CreateGrant`"), "{}", one.stdout);
    assert!(
        one.stdout.contains("| `account_id` | yes |"),
        "{}",
        one.stdout
    );

    let unknown = vigil_in(dir.path(), &["actions", "ec2.no_such_action"], None);
    assert_eq!(unknown.code, 2, "{}", unknown.stderr);
    assert!(
        unknown.stderr.contains("no action `ec2.no_such_action`"),
        "{}",
        unknown.stderr
    );
}

/// A configured playbook with a built-in's id replaces it (and is what `--playbook ID`, the
/// runbook and the IAM policy use); two configured playbooks with one id are an error naming
/// both files.
#[test]
fn a_configured_playbook_replaces_the_builtin_with_its_id() {
    let dir = tempfile::tempdir().unwrap();
    let own = dir.path().join("playbooks");
    std::fs::create_dir(&own).unwrap();
    let builtin =
        std::fs::read_to_string(repo().join("playbooks/cloudtrail-logging-stopped.yml")).unwrap();
    let title_line = builtin
        .lines()
        .find(|l| l.starts_with("title:"))
        .unwrap()
        .to_string();
    let changed = builtin.replace(&title_line, "title: Our own trail playbook");
    std::fs::write(own.join("trail.yml"), &changed).unwrap();
    std::fs::write(
        dir.path().join("vigil.toml"),
        "playbooks = [\"playbooks\"]\n",
    )
    .unwrap();

    let listed = vigil_in(dir.path(), &["playbooks"], None);
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    let trail: Vec<&str> = listed
        .stdout
        .lines()
        .filter(|l| l.starts_with("cloudtrail-logging-stopped "))
        .collect();
    assert_eq!(trail.len(), 1, "{}", listed.stdout);
    assert!(
        trail[0].contains("Our own trail playbook"),
        "{}",
        listed.stdout
    );
    // Configured playbooks come first: they are preferred when triggers overlap.
    assert!(
        listed.stdout.starts_with("cloudtrail-logging-stopped "),
        "{}",
        listed.stdout
    );
    let runbook = vigil_in(
        dir.path(),
        &["runbook", "render", "cloudtrail-logging-stopped"],
        None,
    );
    assert_eq!(runbook.code, 0, "{}", runbook.stderr);
    assert!(runbook.stdout.contains("Our own trail playbook"));

    std::fs::write(own.join("trail-again.yml"), &changed).unwrap();
    let twice = vigil_in(dir.path(), &["playbooks"], None);
    assert_eq!(twice.code, 2, "{}", twice.stdout);
    assert!(
        twice
            .stderr
            .contains("two playbooks have the id `cloudtrail-logging-stopped`")
            && twice.stderr.contains("trail.yml")
            && twice.stderr.contains("trail-again.yml"),
        "{}",
        twice.stderr
    );
}

/// The example incident's account; moto maps credentials from a role assumed there to it.
const INCIDENT_ACCOUNT: &str = "111122223333";

/// Configuration acting in the incident's account through the incident-response role, as
/// `vigil respond --role` does.
async fn incident_account(endpoint: &str) -> aws_config::SdkConfig {
    let ctx = vigil_aws::AwsContext::load(vigil_aws::AwsOptions {
        role_name: Some("IncidentResponse".into()),
        ..vigil_aws::AwsOptions::for_emulator(endpoint)
    })
    .await
    .unwrap();
    ctx.config_for(Some(INCIDENT_ACCOUNT), Some("us-east-1"))
        .await
        .unwrap()
}

fn cloudtrail_is_logging(endpoint: &str, trail: &str) -> bool {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let cfg = incident_account(endpoint).await;
        let status = aws_sdk_cloudtrail::Client::new(&cfg)
            .get_trail_status()
            .name(trail)
            .send()
            .await
            .unwrap();
        status.is_logging().unwrap_or(false)
    })
}

fn make_stopped_trail(endpoint: &str, trail: &str) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let cfg = incident_account(endpoint).await;
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&cfg)
                .force_path_style(true)
                .build(),
        );
        s3.create_bucket()
            .bucket("org-trail-logs")
            .send()
            .await
            .unwrap();
        aws_sdk_cloudtrail::Client::new(&cfg)
            .create_trail()
            .name(trail)
            .s3_bucket_name("org-trail-logs")
            .send()
            .await
            .unwrap();
    });
}

/// The guide's own event-driven example: the example incident stops the trail
/// `management-events` in account 111122223333, which vigil reaches by assuming the
/// incident-response role there (the guide's "direct access" pattern); `vigil respond` plans, then executes, the playbook that turns logging
/// back on, records the run in the ledger and the case's evidence, and converges on a second
/// run. (moto does not implement LookupEvents, so the playbook's activity collection fails
/// and, as the playbook says, the run continues past it.)
#[test]
fn a_stopped_trail_is_restarted_end_to_end() {
    let moto = vigil_testkit::MotoServer::start().expect("moto");
    let endpoint = moto.endpoint();
    make_stopped_trail(&endpoint, "management-events");
    assert!(!cloudtrail_is_logging(&endpoint, "management-events"));

    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let store = d.join("vigil.sqlite");
    let store = store.to_str().unwrap();
    let logs = repo().join("examples/incident/logs");
    let detect = vigil_in(
        d,
        &[
            "detect",
            logs.to_str().unwrap(),
            "--store",
            store,
            "--format",
            "jsonl",
            "--no-progress",
        ],
        None,
    );
    assert!(detect.code == 0 || detect.code == 1, "{}", detect.stderr);
    let finding = detect
        .jsonl()
        .into_iter()
        .find(|f| f["rule_id"] == "f6249e2b-b281-4380-bcf9-ebccff2a4cfb")
        .expect("the example incident stops CloudTrail logging");
    let id = finding["id"].as_str().unwrap().to_string();
    let key = d.join("signing.key");
    let vault = d.join("vault");
    let common = |extra: &[&str]| -> Vec<String> {
        let mut args: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        args.extend(
            [
                "--store",
                store,
                "--endpoint-url",
                &endpoint,
                "--vault",
                vault.to_str().unwrap(),
                "--key",
                key.to_str().unwrap(),
                "--responder",
                "alice",
                "--role",
                "IncidentResponse",
            ]
            .map(String::from),
        );
        args
    };
    // moto takes any credentials; the binary reads them from the environment like the AWS CLI.
    let env = EMULATOR_ENV;
    let run_vigil = |args: Vec<String>| {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        vigil_env(d, &refs, None, &env)
    };

    // A plan changes nothing.
    let plan = run_vigil(common(&["respond", "plan", &id]));
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
    assert!(plan.stdout.contains("DRY-RUN"), "{}", plan.stdout);
    assert!(
        plan.stdout.contains("cloudtrail:StartLogging"),
        "{}",
        plan.stdout
    );
    assert!(!cloudtrail_is_logging(&endpoint, "management-events"));

    // Executing turns logging back on.
    let run = run_vigil(common(&["respond", "run", &id, "--execute"]));
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("EXECUTE"), "{}", run.stdout);
    assert!(cloudtrail_is_logging(&endpoint, "management-events"));
    let run_id = run
        .stdout
        .split_whitespace()
        .nth(1)
        .expect("run id")
        .to_string();

    // The run is in the store, its ledger verifies, and its case holds the ledger as evidence.
    let status = run_vigil(common(&["respond", "status", &run_id]));
    assert_eq!(status.code, 0, "{}", status.stderr);
    assert!(status.stdout.contains("start_logging"), "{}", status.stdout);
    let ledger = run_vigil(common(&["respond", "verify-ledger"]));
    assert_eq!(ledger.code, 0, "{}\n{}", ledger.stdout, ledger.stderr);
    let case = format!("case-{id}");
    let evidence = vigil_in(
        d,
        &[
            "evidence",
            "list",
            &case,
            "--vault",
            vault.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(evidence.code, 0, "{}", evidence.stderr);
    assert!(evidence.stdout.contains("ledger-"), "{}", evidence.stdout);

    // The store links the case's finding, its runs (the plan and the execution) and the
    // evidence in the vault (the run's ledger).
    let shown = run_vigil(vec![
        "case".into(),
        case.clone(),
        "--store".into(),
        store.to_string(),
        "--json".into(),
    ]);
    assert_eq!(shown.code, 0, "{}\n{}", shown.stdout, shown.stderr);
    let view: serde_json::Value = serde_json::from_str(&shown.stdout).unwrap();
    assert_eq!(view["findings"][0]["id"], id.as_str(), "{}", shown.stdout);
    assert_eq!(
        view["runs"].as_array().map(Vec::len),
        Some(2),
        "{}",
        shown.stdout
    );
    assert!(
        view["evidence"].as_array().is_some_and(|e| e
            .iter()
            .any(|i| i["name"].as_str().is_some_and(|n| n.starts_with("ledger")))),
        "{}",
        shown.stdout
    );

    // A second run converges: the trail is already logging.
    let again = run_vigil(common(&["respond", "run", &id, "--execute"]));
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    assert!(again.stdout.contains("already_done"), "{}", again.stdout);
    assert!(cloudtrail_is_logging(&endpoint, "management-events"));
    let _ = Path::new(store);
}

/// The guide's tag-driven response, end to end: a responder tags an instance
/// `Response=Isolate`; `vigil detect` turns the CloudTrail record into a finding; `vigil
/// respond run --execute` (dev account: no approval) runs the EC2 compromise playbook in moto,
/// and the instance is read back isolated, protected, snapshotted, tagged and stopping. A
/// second run converges: no second isolation group, no second snapshot.
#[test]
fn a_tagged_instance_is_contained_end_to_end() {
    let ami = (
        "ami-0abcdef1234567890".to_string(),
        "vigil-test".to_string(),
    );
    let moto = vigil_testkit::MotoServer::start_with(vigil_testkit::MotoOptions {
        single_ami: Some(ami.clone()),
    })
    .expect("moto");
    let endpoint = moto.endpoint();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let ec2 = || {
        runtime.block_on(async {
            let ctx = vigil_aws::AwsContext::load(vigil_aws::AwsOptions::for_emulator(&endpoint))
                .await
                .unwrap();
            aws_sdk_ec2::Client::new(ctx.base())
        })
    };
    let client = ec2();
    let instance_id = runtime.block_on(async {
        let out = client
            .run_instances()
            .image_id(&ami.0)
            .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
            .min_count(1)
            .max_count(1)
            .send()
            .await
            .unwrap();
        out.instances()[0].instance_id().unwrap().to_string()
    });

    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let record = serde_json::json!({
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/carol",
                         "accountId": "123456789012", "userName": "carol"},
        "eventSource": "ec2.amazonaws.com",
        "eventName": "CreateTags",
        "requestParameters": {
            "resourcesSet": {"items": [{"resourceId": instance_id}]},
            "tagSet": {"items": [{"key": "Response", "value": "Isolate"}]}
        }
    });
    let id = finding_of(d, vec![record], "724f0258-331a-4c0a-aa0f-720b20b3e462");
    let run = respond_execute(d, &endpoint, &id, None);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("ec2-instance-compromise"),
        "{}",
        run.stdout
    );

    let read_back = || {
        runtime.block_on(async {
            let described = client
                .describe_instances()
                .instance_ids(&instance_id)
                .send()
                .await
                .unwrap();
            let instance = described.reservations()[0].instances()[0].clone();
            let protection = client
                .describe_instance_attribute()
                .instance_id(&instance_id)
                .attribute(aws_sdk_ec2::types::InstanceAttributeName::DisableApiTermination)
                .send()
                .await
                .unwrap()
                .disable_api_termination()
                .and_then(|v| v.value())
                .unwrap_or(false);
            let snapshots = client
                .describe_snapshots()
                .filters(
                    aws_sdk_ec2::types::Filter::builder()
                        .name("tag-key")
                        .values("vigil:case")
                        .build(),
                )
                .send()
                .await
                .unwrap()
                .snapshots()
                .len();
            let isolation_groups = client
                .describe_security_groups()
                .filters(
                    aws_sdk_ec2::types::Filter::builder()
                        .name("group-name")
                        .values("vigil-isolation")
                        .build(),
                )
                .send()
                .await
                .unwrap()
                .security_groups()
                .len();
            (instance, protection, snapshots, isolation_groups)
        })
    };
    let (instance, protection, snapshots, groups) = read_back();
    let names: Vec<&str> = instance
        .security_groups()
        .iter()
        .filter_map(|g| g.group_name())
        .collect();
    assert_eq!(names, vec!["vigil-isolation"], "{}", run.stdout);
    assert!(protection, "termination protection is off");
    assert_eq!(snapshots, 1, "one tagged snapshot of the root volume");
    assert_eq!(groups, 1);
    assert!(
        instance
            .tags()
            .iter()
            .any(|t| t.key() == Some("Quarantine")
                && t.value().is_some_and(|v| v.starts_with("case-"))),
        "no Quarantine tag"
    );
    let state = instance
        .state()
        .and_then(|s| s.name())
        .map(|n| n.as_str().to_string());
    assert!(
        matches!(state.as_deref(), Some("stopping" | "stopped")),
        "{state:?}"
    );

    let again = respond_execute(d, &endpoint, &id, None);
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    assert!(again.stdout.contains("already_done"), "{}", again.stdout);
    let (_, _, snapshots, groups) = read_back();
    assert_eq!((snapshots, groups), (1, 1), "a re-run duplicated something");
}

/// Trusted Advisor reports an exposed key: the finding from its EventBridge event runs the
/// exposed-access-key playbook in moto and the key is read back Inactive (the activity
/// collection fails in moto, which lacks LookupEvents, and the playbook goes on past it).
#[test]
fn an_exposed_key_is_deactivated_end_to_end() {
    let moto = vigil_testkit::MotoServer::start().expect("moto");
    let endpoint = moto.endpoint();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let iam = runtime.block_on(async {
        let ctx = vigil_aws::AwsContext::load(vigil_aws::AwsOptions::for_emulator(&endpoint))
            .await
            .unwrap();
        aws_sdk_iam::Client::new(ctx.base())
    });
    let key_id = runtime.block_on(async {
        iam.create_user()
            .user_name("ci-deploy")
            .send()
            .await
            .unwrap();
        let key = iam
            .create_access_key()
            .user_name("ci-deploy")
            .send()
            .await
            .unwrap();
        key.access_key().unwrap().access_key_id().to_string()
    });
    let key_status = || {
        runtime.block_on(async {
            let keys = iam
                .list_access_keys()
                .user_name("ci-deploy")
                .send()
                .await
                .unwrap();
            keys.access_key_metadata()[0]
                .status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default()
        })
    };
    assert_eq!(key_status(), "Active");

    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let event = std::fs::read_to_string(
        repo().join("examples/incident/logs/eventbridge/2026-10-14T0340Z-trusted-advisor-exposed-access-keys.json"),
    )
    .unwrap()
    .replace("AKIASDDU4ZH26CWQZ3BL", &key_id)
    .replace("111122223333", "123456789012");
    std::fs::write(d.join("ta.json"), event).unwrap();
    std::fs::write(
        d.join("vigil.toml"),
        "[respond]\nenvironments = { \"123456789012\" = \"dev\" }\n",
    )
    .unwrap();
    let id = detect_finding(d, "ta.json", "68bae98e-59b4-4bf0-be36-0f277103afce");
    let run = respond_execute(d, &endpoint, &id, None);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("exposed-access-key"), "{}", run.stdout);
    assert_eq!(key_status(), "Inactive", "{}", run.stdout);
    let again = respond_execute(d, &endpoint, &id, None);
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    assert!(again.stdout.contains("already_done"), "{}", again.stdout);
}

/// Detects `file` (in `dir`) into `dir/s.sqlite` and returns the id of the finding of `rule`.
fn detect_finding(dir: &Path, file: &str, rule: &str) -> String {
    let detect = vigil_in(
        dir,
        &[
            "detect",
            file,
            "--store",
            "s.sqlite",
            "--format",
            "jsonl",
            "--no-progress",
        ],
        None,
    );
    let finding = detect
        .jsonl()
        .into_iter()
        .find(|f| f["rule_id"] == rule)
        .unwrap_or_else(|| {
            panic!(
                "no finding of {rule}:\n{}\n{}",
                detect.stdout, detect.stderr
            )
        });
    finding["id"].as_str().unwrap().to_string()
}

/// Writes `records` as a CloudTrail file in `dir` (with a dev environment for its account in
/// vigil.toml), detects it into `dir/s.sqlite` and returns the id of the finding of `rule`.
fn finding_of(dir: &Path, records: Vec<serde_json::Value>, rule: &str) -> String {
    let records: Vec<serde_json::Value> = records
        .into_iter()
        .map(|mut r| {
            let common = serde_json::json!({
                "eventVersion": "1.09",
                "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/mallory",
                                 "accountId": "123456789012", "userName": "mallory"},
                "eventTime": "2026-11-22T10:00:00Z",
                "awsRegion": "us-east-1",
                "sourceIPAddress": "198.51.100.7",
                "userAgent": "aws-cli/2.15",
                "eventID": "5f1d2c3b-0000-4000-8000-000000000002",
                "eventType": "AwsApiCall",
                "recipientAccountId": "123456789012"
            });
            // The record's own fields (a root userIdentity, say) win over the defaults.
            for (k, v) in common.as_object().unwrap() {
                if r.get(k).is_none() {
                    r[k] = v.clone();
                }
            }
            r
        })
        .collect();
    std::fs::write(
        dir.join("events.json"),
        serde_json::to_vec(&serde_json::json!({ "Records": records })).unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.join("vigil.toml"),
        "[respond]\nenvironments = { \"123456789012\" = \"dev\" }\n",
    )
    .unwrap();
    detect_finding(dir, "events.json", rule)
}

/// Runs `vigil respond run FINDING --execute [--playbook ID]` against moto in `dir`.
fn respond_execute(
    dir: &Path,
    endpoint: &str,
    id: &str,
    playbook: Option<&str>,
) -> crate::common::Run {
    let env = EMULATOR_ENV;
    let mut args = vec![
        "respond",
        "run",
        id,
        "--execute",
        "--store",
        "s.sqlite",
        "--endpoint-url",
        endpoint,
        "--vault",
        "vault",
        "--key",
        "signing.key",
    ];
    if let Some(p) = playbook {
        args.extend(["--playbook", p]);
    }
    vigil_env(dir, &args, None, &env)
}

/// moto with a security group open to the world on SSH (and a private HTTPS rule), and a
/// finding about it detected into `dir`.
struct OpenGroup {
    moto: vigil_testkit::MotoServer,
    runtime: tokio::runtime::Runtime,
    ec2: aws_sdk_ec2::Client,
    group: String,
    finding: String,
}

impl OpenGroup {
    fn new(dir: &Path) -> OpenGroup {
        let moto = vigil_testkit::MotoServer::start().expect("moto");
        let endpoint = moto.endpoint();
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let ec2 = runtime.block_on(async {
            let ctx = vigil_aws::AwsContext::load(vigil_aws::AwsOptions::for_emulator(&endpoint))
                .await
                .unwrap();
            aws_sdk_ec2::Client::new(ctx.base())
        });
        let permission = |port: i32, cidr: &str| {
            aws_sdk_ec2::types::IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(port)
                .to_port(port)
                .ip_ranges(aws_sdk_ec2::types::IpRange::builder().cidr_ip(cidr).build())
                .build()
        };
        let group = runtime.block_on(async {
            let g = ec2
                .create_security_group()
                .group_name("web")
                .description("web tier")
                .send()
                .await
                .unwrap();
            let id = g.group_id().unwrap().to_string();
            ec2.authorize_security_group_ingress()
                .group_id(&id)
                .ip_permissions(permission(22, "0.0.0.0/0"))
                .ip_permissions(permission(443, "10.0.0.0/8"))
                .send()
                .await
                .unwrap();
            id
        });
        let record = serde_json::json!({
            "eventSource": "ec2.amazonaws.com",
            "eventName": "AuthorizeSecurityGroupIngress",
            "requestParameters": {"groupId": group, "ipPermissions": {"items": [
                {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22,
                 "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}}
        });
        let finding = finding_of(dir, vec![record], "615974e0-ab5e-42d9-8dcd-f09b18ad065d");
        OpenGroup {
            moto,
            runtime,
            ec2,
            group,
            finding,
        }
    }

    /// The group's ingress rules as moto holds them: (port, CIDR), sorted.
    fn rules(&self) -> Vec<(i32, String)> {
        self.runtime.block_on(async {
            let out = self
                .ec2
                .describe_security_groups()
                .group_ids(&self.group)
                .send()
                .await
                .unwrap();
            let mut rules: Vec<(i32, String)> = out.security_groups()[0]
                .ip_permissions()
                .iter()
                .flat_map(|p| {
                    p.ip_ranges()
                        .iter()
                        .map(|r| {
                            (
                                p.from_port().unwrap_or(-1),
                                r.cidr_ip().unwrap_or("").to_string(),
                            )
                        })
                        .collect::<Vec<_>>()
                })
                .collect();
            rules.sort();
            rules
        })
    }
}

/// A security group opened to the world on SSH: the playbook revokes exactly that rule and
/// leaves the group's other rules alone.
#[test]
fn a_world_open_security_group_rule_is_revoked_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let world = OpenGroup::new(dir.path());
    assert_eq!(world.rules().len(), 2);
    let run = respond_execute(dir.path(), &world.moto.endpoint(), &world.finding, None);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("security-group-open-to-world"),
        "{}",
        run.stdout
    );
    assert_eq!(
        world.rules(),
        vec![(443, "10.0.0.0/8".to_string())],
        "{}",
        run.stdout
    );
}

/// The same finding in a production account: the run stops before the change, `status`
/// shows the approver what the step will do, the responder cannot approve their own run
/// (`four_eyes`),
/// and another person's approval makes the change (read back from moto).
#[test]
fn a_production_change_waits_for_an_approval_by_someone_else() {
    let dir = tempfile::tempdir().unwrap();
    let world = OpenGroup::new(dir.path());
    std::fs::write(
        dir.path().join("vigil.toml"),
        "[respond]\nenvironments = { \"123456789012\" = \"prod\" }\nfour_eyes = true\n",
    )
    .unwrap();
    let endpoint = world.moto.endpoint();
    let respond = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend([
            "--store",
            "s.sqlite",
            "--endpoint-url",
            &endpoint,
            "--vault",
            "vault",
            "--key",
            "signing.key",
        ]);
        vigil_env(dir.path(), &all, None, &EMULATOR_ENV)
    };
    let started = respond(&[
        "respond",
        "run",
        &world.finding,
        "--execute",
        "--responder",
        "alice",
    ]);
    assert_eq!(started.code, 0, "{}\n{}", started.stdout, started.stderr);
    let run_id = started
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("run "))
        .and_then(|l| l.split_whitespace().next())
        .expect("the run id")
        .to_string();
    assert_eq!(
        world.rules().len(),
        2,
        "nothing changes before the approval"
    );

    let status = respond(&["respond", "status", &run_id]);
    assert_eq!(status.code, 0, "{}", status.stderr);
    assert!(
        status.stdout.contains("(ec2.revoke_ingress_rule):")
            && status
                .stdout
                .contains(&format!("group_id: \"{}\"", world.group)),
        "the approver sees the action and its parameters:\n{}",
        status.stdout
    );

    let own = respond(&["respond", "approve", &run_id, "--by", "alice"]);
    assert_eq!(own.code, 2, "{}\n{}", own.stdout, own.stderr);
    assert_eq!(world.rules().len(), 2);

    let approved = respond(&["respond", "approve", &run_id, "--by", "bob"]);
    assert_eq!(approved.code, 0, "{}\n{}", approved.stdout, approved.stderr);
    assert_eq!(world.rules(), vec![(443, "10.0.0.0/8".to_string())]);
}

/// A bucket policy made public: the playbook turns on Block Public Access and removes the
/// public statement (keeping the original policy as evidence); the bucket is read back.
#[test]
fn a_public_bucket_is_closed_end_to_end() {
    let moto = vigil_testkit::MotoServer::start().expect("moto");
    let endpoint = moto.endpoint();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let s3 = runtime.block_on(async {
        let ctx = vigil_aws::AwsContext::load(vigil_aws::AwsOptions::for_emulator(&endpoint))
            .await
            .unwrap();
        aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(ctx.base())
                .force_path_style(true)
                .build(),
        )
    });
    let policy = serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::shared-assets/*"}]});
    runtime.block_on(async {
        s3.create_bucket()
            .bucket("shared-assets")
            .send()
            .await
            .unwrap();
        s3.put_bucket_policy()
            .bucket("shared-assets")
            .policy(policy.to_string())
            .send()
            .await
            .unwrap();
    });
    let dir = tempfile::tempdir().unwrap();
    let record = serde_json::json!({
        "eventSource": "s3.amazonaws.com",
        "eventName": "PutBucketPolicy",
        "requestParameters": {"bucketName": "shared-assets", "bucketPolicy": policy, "policy": ""}
    });
    let id = finding_of(
        dir.path(),
        vec![record],
        "46c06aa9-66a6-4407-a686-aa7d8866c9e4",
    );
    let run = respond_execute(dir.path(), &endpoint, &id, None);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("s3-bucket-public"), "{}", run.stdout);
    runtime.block_on(async {
        let bpa = s3
            .get_public_access_block()
            .bucket("shared-assets")
            .send()
            .await
            .unwrap();
        let c = bpa.public_access_block_configuration().unwrap();
        assert_eq!(
            (
                c.block_public_acls(),
                c.ignore_public_acls(),
                c.block_public_policy(),
                c.restrict_public_buckets()
            ),
            (Some(true), Some(true), Some(true), Some(true))
        );
        let left = s3.get_bucket_policy().bucket("shared-assets").send().await;
        assert!(left.is_err(), "the public policy is still there: {left:?}");
    });
}

/// GuardDuty reports an instance calling a malicious address: the playbook denies the
/// address at the instance's subnet, isolates and snapshots the instance; all read back.
#[test]
fn an_instance_talking_to_a_malicious_ip_is_contained_end_to_end() {
    let ami = (
        "ami-0abcdef1234567890".to_string(),
        "vigil-test".to_string(),
    );
    let moto = vigil_testkit::MotoServer::start_with(vigil_testkit::MotoOptions {
        single_ami: Some(ami.clone()),
    })
    .expect("moto");
    let endpoint = moto.endpoint();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let ec2 = runtime.block_on(async {
        let ctx = vigil_aws::AwsContext::load(vigil_aws::AwsOptions::for_emulator(&endpoint))
            .await
            .unwrap();
        aws_sdk_ec2::Client::new(ctx.base())
    });
    let (instance_id, subnet_id) = runtime.block_on(async {
        let out = ec2
            .run_instances()
            .image_id(&ami.0)
            .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
            .min_count(1)
            .max_count(1)
            .send()
            .await
            .unwrap();
        let i = &out.instances()[0];
        (
            i.instance_id().unwrap().to_string(),
            i.subnet_id().unwrap_or_default().to_string(),
        )
    });
    // The GuardDuty sample from the AWS documentation, made about this instance and a
    // malicious caller (and no longer a generated sample, which the rule ignores).
    let sample = std::fs::read_to_string(repo().join(
        "crates/vigil-input/tests/data/aws-samples/guardduty/getfindings-response-sample-unauthorizedaccess-ec2-rdpbruteforce.json",
    ))
    .unwrap();
    let mut doc: serde_json::Value = serde_json::from_str(&sample).unwrap();
    let f = &mut doc["findings"][0];
    f["type"] = "UnauthorizedAccess:EC2/MaliciousIPCaller.Custom".into();
    f["region"] = "us-east-1".into();
    f["resource"]["instanceDetails"]["instanceId"] = instance_id.clone().into();
    f["service"]["additionalInfo"]["sample"] = false.into();
    f["service"]["action"]["networkConnectionAction"]["remoteIpDetails"]["ipAddressV4"] =
        "203.0.113.9".into();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("gd.json"), serde_json::to_vec(&doc).unwrap()).unwrap();
    std::fs::write(
        d.join("vigil.toml"),
        "[respond]\nenvironments = { \"123456789012\" = \"dev\" }\n",
    )
    .unwrap();
    let id = detect_finding(d, "gd.json", "1658854a-2eb3-4201-af65-4ef42588a151");
    // Both EC2 playbooks trigger on this rule; the one made for it is chosen by name.
    let run = respond_execute(d, &endpoint, &id, Some("instance-malicious-ip"));
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("instance-malicious-ip"),
        "{}",
        run.stdout
    );
    runtime.block_on(async {
        let described = ec2
            .describe_instances()
            .instance_ids(&instance_id)
            .send()
            .await
            .unwrap();
        let groups: Vec<String> = described.reservations()[0].instances()[0]
            .security_groups()
            .iter()
            .filter_map(|g| g.group_name().map(str::to_string))
            .collect();
        assert_eq!(
            groups,
            vec!["vigil-isolation".to_string()],
            "{}",
            run.stdout
        );
        let acls = ec2.describe_network_acls().send().await.unwrap();
        let denied = acls.network_acls().iter().any(|acl| {
            acl.associations()
                .iter()
                .any(|a| a.subnet_id() == Some(subnet_id.as_str()))
                && acl.entries().iter().any(|e| {
                    e.cidr_block() == Some("203.0.113.9/32")
                        && e.rule_action() == Some(&aws_sdk_ec2::types::RuleAction::Deny)
                })
        });
        assert!(denied, "no deny entry for the address: {}", run.stdout);
    });
}

/// Root used the account: the root-account-usage playbook pages the team over SNS (read back
/// from an SQS queue subscribed to the topic) with the finding, what was done and the human
/// steps; collecting root's activity fails in moto (no LookupEvents) and the run goes on.
#[test]
fn root_usage_notifies_the_team_end_to_end() {
    let moto = vigil_testkit::MotoServer::start().expect("moto");
    let endpoint = moto.endpoint();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (sqs, queue_url, topic_arn) = runtime.block_on(async {
        let ctx = vigil_aws::AwsContext::load(vigil_aws::AwsOptions::for_emulator(&endpoint))
            .await
            .unwrap();
        let sns = aws_sdk_sns::Client::new(ctx.base());
        let sqs = aws_sdk_sqs::Client::new(ctx.base());
        let topic = sns.create_topic().name("security").send().await.unwrap();
        let topic_arn = topic.topic_arn().unwrap().to_string();
        let queue = sqs.create_queue().queue_name("pager").send().await.unwrap();
        let queue_url = queue.queue_url().unwrap().to_string();
        sns.subscribe()
            .topic_arn(&topic_arn)
            .protocol("sqs")
            .endpoint("arn:aws:sqs:us-east-1:123456789012:pager")
            .send()
            .await
            .unwrap();
        (sqs, queue_url, topic_arn)
    });
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let record = serde_json::json!({
        "eventSource": "iam.amazonaws.com",
        "eventName": "CreateUser",
        "userIdentity": {"type": "Root", "arn": "arn:aws:iam::123456789012:root",
                         "accountId": "123456789012", "principalId": "123456789012"},
        "requestParameters": {"userName": "backdoor"}
    });
    let id = finding_of(d, vec![record], "8ae020b7-ec9f-41a4-be3b-c2b5d6d0cf59");
    // finding_of wrote the dev environment; add the notification target.
    let mut toml = std::fs::read_to_string(d.join("vigil.toml")).unwrap();
    toml.push_str(&format!(
        "[respond.vars]\nsns_topic_arn = \"{topic_arn}\"\n"
    ));
    std::fs::write(d.join("vigil.toml"), toml).unwrap();
    let run = respond_execute(d, &endpoint, &id, None);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("root-account-usage"), "{}", run.stdout);
    let messages = runtime.block_on(async {
        sqs.receive_message()
            .queue_url(&queue_url)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap()
            .messages()
            .iter()
            .filter_map(|m| m.body().map(str::to_string))
            .collect::<Vec<_>>()
    });
    assert_eq!(messages.len(), 1, "{messages:?}\n{}", run.stdout);
    assert!(
        messages[0].contains("root account used in 123456789012"),
        "{}",
        messages[0]
    );
}
