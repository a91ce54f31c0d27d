//! The registry itself: every action declares real IAM permissions, documents itself, and its
//! per-run permissions are part of its declared union.

use std::collections::BTreeSet;

use vigil_actions::{catalog, ActionOptions};
use vigil_aws::{AwsContext, AwsOptions};
use vigil_respond::action::{Catalog, Params};

/// Notifiers that only talk to a webhook or an SMTP server call no AWS API.
fn may_have_no_permissions(name: &str) -> bool {
    matches!(name, "notify.webhook" | "notify.email")
}

fn known_actions() -> BTreeSet<String> {
    let text = include_str!("../../data/iam-actions.txt");
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

async fn registry() -> Catalog {
    // No call is made: the endpoint only has to be well-formed.
    let ctx = AwsContext::load(AwsOptions::for_emulator("http://127.0.0.1:9"))
        .await
        .expect("context");
    catalog(ctx, ActionOptions::default())
}

#[test]
fn iam_action_list_is_sorted_and_well_formed() {
    let text = include_str!("../../data/iam-actions.txt");
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let mut sorted = lines.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(
        lines, sorted,
        "data/iam-actions.txt must be sorted and unique"
    );
    for line in &lines {
        let (service, action) = line.split_once(':').expect("service:Action");
        assert!(
            !service.is_empty()
                && service
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
            "bad service in {line}"
        );
        assert!(
            action.starts_with(|c: char| c.is_ascii_uppercase())
                && action.bytes().all(|b| b.is_ascii_alphanumeric()),
            "bad action in {line}"
        );
    }
    // Spot checks of names that differ from the S3 operation names.
    for name in [
        "s3:PutEncryptionConfiguration",
        "s3:GetBucketPublicAccessBlock",
        "s3:ListBucket",
        "ec2:ModifyInstanceAttribute",
        "iam:PutRolePolicy",
        "ssm:SendCommand",
    ] {
        assert!(lines.contains(&name), "{name} missing");
    }
    assert!(!lines.contains(&"s3:PutBucketEncryption"));
}

#[tokio::test]
async fn every_action_declares_real_permissions() {
    let known = known_actions();
    let catalog = registry().await;
    assert!(
        catalog.len() >= 10,
        "only {} actions registered",
        catalog.len()
    );
    for action in catalog.iter() {
        let info = action.info();
        let all = action.all_permissions();
        if !may_have_no_permissions(info.name) {
            assert!(!all.is_empty(), "{} declares no permissions", info.name);
        }
        for perm in &all {
            assert!(
                known.contains(*perm),
                "{}: {perm} is not a known IAM action (data/iam-actions.txt)",
                info.name
            );
        }
        let per_run = action.permissions(&Params::new());
        for perm in per_run {
            assert!(
                all.contains(&perm),
                "{}: {perm} from permissions() is missing from all_permissions()",
                info.name
            );
        }
    }
}

#[tokio::test]
async fn every_action_documents_itself() {
    let catalog = registry().await;
    for action in catalog.iter() {
        let info = action.info();
        let (module, verb) = info.name.split_once('.').expect("dotted name");
        assert!(!module.is_empty() && !verb.is_empty(), "{}", info.name);
        assert!(!info.summary.is_empty(), "{} has no summary", info.name);
        assert!(
            info.example.contains(info.name),
            "{}: the example does not use the action",
            info.name
        );
        assert!(!info.records.is_empty(), "{} records nothing", info.name);
        // Required parameters appear in the example.
        for p in info.params.iter().filter(|p| p.required) {
            assert!(
                info.example.contains(p.name),
                "{}: example lacks required parameter {}",
                info.name,
                p.name
            );
        }
        // The CLI equivalent of an empty step still names the service it calls.
        let cli = action.cli(&Params::new());
        if info.mutating {
            assert!(!cli.is_empty(), "{} has no CLI equivalent", info.name);
        }
    }
}

/// The `{{ ... }}` expressions of a text.
fn expressions(text: &str) -> Vec<String> {
    text.split("{{")
        .skip(1)
        .filter_map(|rest| rest.split_once("}}").map(|(e, _)| e.trim().to_string()))
        .collect()
}

/// Every action's YAML example is a step a playbook author can paste: wrapped in a playbook
/// that declares the inputs and earlier steps it refers to, it loads (variables, parameters
/// and conditions validated) and its step uses the action it documents.
#[tokio::test]
async fn every_example_is_a_valid_playbook_step() {
    let registry = registry().await;
    let mut problems = Vec::new();
    for action in registry.iter() {
        let info = action.info();
        let mut inputs = BTreeSet::new();
        let mut earlier = BTreeSet::new();
        for expr in expressions(info.example) {
            let variable = expr.split('|').next().unwrap_or("").trim();
            let mut parts = variable.split(['.', '[']);
            match (parts.next(), parts.next()) {
                (Some("inputs"), Some(name)) => {
                    inputs.insert(name.to_string());
                }
                (Some("steps"), Some(id)) => {
                    earlier.insert(id.to_string());
                }
                _ => {}
            }
        }
        let mut yaml = String::from("id: example\ntitle: Example\ndescription: d\n");
        if !inputs.is_empty() {
            yaml.push_str("inputs:\n");
            for name in &inputs {
                yaml.push_str(&format!("  {name}:\n    from: [resources]\n"));
            }
        }
        yaml.push_str("steps:\n");
        for id in &earlier {
            yaml.push_str(&format!(
                "  - id: {id}\n    action: ec2.capture_metadata\n    params:\n      instance_id: i-0123456789abcdef0\n"
            ));
        }
        for line in info.example.lines() {
            yaml.push_str("  ");
            yaml.push_str(line);
            yaml.push('\n');
        }
        match vigil_respond::Playbook::load(&yaml, info.name, &registry) {
            Ok(playbook) => {
                let used = playbook.steps.last().and_then(|s| s.action.clone());
                if used.as_deref() != Some(info.name) {
                    problems.push(format!("{}: the example uses {used:?}", info.name));
                }
            }
            Err(errors) => problems.push(format!("{}: {errors}\n{yaml}", info.name)),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}
