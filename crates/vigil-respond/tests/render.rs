//! Runbook rendering (a golden file) and the least-privilege IAM policy.

mod common;

use std::sync::Arc;

use common::{real_catalog, World};
use serde_json::json;
use vigil_respond::{builtin_playbooks, iam_policy, render_runbook, Catalog, Playbook};

const PLAYBOOK: &str = r#"
id: contain-instance
title: Contain an instance
description: |
  Isolates an instance and keeps its disks.
triggers:
  rules: [1658854a-2eb3-4201-af65-4ef42588a151]
  events:
    - eventName: CreateTags
      requestParameters.tagSet.items.value: "*Isolate*"
  min_severity: medium
prerequisites:
  - An evidence bucket.
inputs:
  instance_id:
    from: [resources]
    format: instance_id
steps:
  - id: capture
    action: ec2.capture_metadata
    params: { instance_id: "{{ inputs.instance_id }}" }
  - id: where
    title: Production?
    decide:
      - when: { var: context.environment, equals: prod }
        goto: prod
        description: the account is production
    otherwise: dev
branches:
  prod:
    production: true
    description: Every change waits.
    steps:
      - goto: dev
  dev:
    steps:
      - id: isolate
        title: Isolate it
        description: Swaps its security groups.
        action: ec2.isolate_instance
        params: { instance_id: "{{ inputs.instance_id }}" }
        on_error: { retry: 2, backoff_ms: 100 }
      - id: unprofile
        action: ec2.remove_instance_profile
        approval: required
        when: { var: steps.capture.outputs.instance_profile_arn, exists: true }
        params: { instance_id: "{{ inputs.instance_id }}", revoke_role_sessions: false }
        on_error: continue
human_steps:
  - Tell the owner.
notifications:
  - on: [awaiting_approval]
    action: notify.webhook
    params: { url: https://hooks.example/x, text: "{{ run.summary }}" }
references:
  - https://example.com/guide
"#;

fn catalog() -> Catalog {
    real_catalog(&Arc::new(World::default()))
}

#[test]
fn the_runbook_matches_its_golden_file() {
    let catalog = catalog();
    let playbook = Playbook::load(PLAYBOOK, "contain.yml", &catalog).unwrap();
    let rendered = render_runbook(&playbook, &catalog);
    let golden =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/runbook_contain.md");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&golden, &rendered).expect("writes the golden file");
    }
    let expected =
        std::fs::read_to_string(&golden).expect("the golden file (UPDATE_GOLDEN=1 writes it)");
    assert_eq!(
        rendered, expected,
        "the runbook changed; review it and rerun with UPDATE_GOLDEN=1"
    );
}

#[test]
fn every_builtin_runbook_has_its_commands_and_human_steps() {
    let catalog = catalog();
    for playbook in builtin_playbooks(&catalog).unwrap() {
        let text = render_runbook(&playbook, &catalog);
        assert!(text.starts_with(&format!("# Runbook: {}", playbook.title)));
        assert!(
            text.contains("```sh\n   aws "),
            "{}: CLI commands",
            playbook.id
        );
        assert!(text.contains("## Human steps"), "{}", playbook.id);
        assert!(
            !text.contains("{{"),
            "{}: templates are shown as placeholders",
            playbook.id
        );
    }
}

#[test]
fn the_iam_policy_is_minimal_grouped_and_sorted() {
    let catalog = catalog();
    let playbook = Playbook::load(PLAYBOOK, "contain.yml", &catalog).unwrap();
    let policy = iam_policy(&catalog, &[&playbook, &playbook]);
    assert_eq!(
        policy,
        json!({
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "VigilEc2",
                    "Effect": "Allow",
                    "Action": [
                        "ec2:CreateSecurityGroup",
                        "ec2:DescribeIamInstanceProfileAssociations",
                        "ec2:DescribeInstances",
                        "ec2:DescribeVolumes",
                        "ec2:DisassociateIamInstanceProfile",
                        "ec2:ModifyInstanceAttribute",
                        "ec2:RevokeSecurityGroupEgress"
                    ],
                    "Resource": "*"
                }
            ]
        }),
        "revoke_role_sessions: false needs no iam:PutRolePolicy; the webhook needs nothing"
    );
    let with_revoke = PLAYBOOK.replace("revoke_role_sessions: false", "revoke_role_sessions: true");
    let playbook = Playbook::load(&with_revoke, "contain.yml", &catalog).unwrap();
    let statements = iam_policy(&catalog, &[&playbook])["Statement"].clone();
    assert_eq!(
        statements[1],
        json!({"Sid": "VigilIam", "Effect": "Allow", "Action": ["iam:PutRolePolicy"], "Resource": "*"})
    );
}

#[test]
fn the_builtin_policy_covers_every_step_and_nothing_twice() {
    let catalog = catalog();
    let loaded = builtin_playbooks(&catalog).unwrap();
    let refs: Vec<&Playbook> = loaded.iter().collect();
    let policy = iam_policy(&catalog, &refs);
    let mut seen = Vec::new();
    for statement in policy["Statement"].as_array().unwrap() {
        let actions: Vec<&str> = statement["Action"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        let mut sorted = actions.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(actions, sorted);
        let service = actions[0].split(':').next().unwrap();
        assert!(
            actions
                .iter()
                .all(|a| a.starts_with(&format!("{service}:"))),
            "one service per statement"
        );
        seen.extend(actions);
    }
    for needed in [
        "cloudtrail:StartLogging",
        "iam:UpdateAccessKey",
        "ec2:StopInstances",
        "s3:PutBucketPublicAccessBlock",
        "ec2:CreateNetworkAclEntry",
        "ssm:SendCommand",
        "sns:Publish",
    ] {
        assert!(seen.contains(&needed), "{needed}");
    }
    assert!(
        !seen
            .iter()
            .any(|a| a.starts_with("wafv2:") || a.starts_with("kms:")),
        "no action the playbooks do not use"
    );
}
