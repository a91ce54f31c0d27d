//! Loading playbooks: every problem names the file, the line and the reason.

mod common;

use std::sync::Arc;

use common::{real_catalog, World};
use serde_json::json;
use vigil_respond::{Catalog, Playbook, PlaybookErrors};

fn catalog() -> Catalog {
    real_catalog(&Arc::new(World::default()))
}

fn errors(yaml: &str) -> Vec<(Option<usize>, String)> {
    match Playbook::load(yaml, "bad.yml", &catalog()) {
        Ok(_) => panic!("loaded:\n{yaml}"),
        Err(PlaybookErrors(errors)) => {
            assert!(errors.iter().all(|e| e.origin == "bad.yml"));
            errors.into_iter().map(|e| (e.line, e.reason)).collect()
        }
    }
}

/// Asserts one error mentions `needle` at `line`.
fn has(found: &[(Option<usize>, String)], line: usize, needle: &str) {
    assert!(
        found
            .iter()
            .any(|(l, r)| *l == Some(line) && r.contains(needle)),
        "no error at line {line} containing {needle:?} in {found:#?}"
    );
}

const HEAD: &str = "id: t\ntitle: T\ndescription: D\n";

#[test]
fn yaml_syntax_errors_name_the_line() {
    let found = errors(&format!(
        "{HEAD}steps:\n  - id: a\n    params: {{ x: [1, 2 }}\n"
    ));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0, Some(6));
}

#[test]
fn type_errors_name_the_field_and_line() {
    let found = errors(&format!(
        "{HEAD}steps:\n  - id: a\n    action: ec2.stop_instance\n    params: {{ instance_id: i-1 }}\n    on_error: sometimes\n"
    ));
    has(&found, 8, "steps[0].on_error");
    has(&found, 8, "`sometimes`");
    let found = errors(&format!(
        "{HEAD}steps:\n  - id: a\n    acton: ec2.stop_instance\n"
    ));
    has(&found, 6, "unknown field `acton`");
    let found = errors("id: t\ntitle: T\nsteps: []\n");
    has(&found, 1, "missing field `description`");
}

#[test]
fn unknown_actions_and_parameters_are_refused() {
    let found = errors(&format!(
        "{HEAD}steps:\n  - id: a\n    action: ec2.stop_everything\n  - id: b\n    action: ec2.stop_instance\n    params:\n      instance: i-1\n"
    ));
    has(&found, 6, "unknown action `ec2.stop_everything`");
    has(&found, 10, "has no parameter `instance`");
    has(&found, 9, "needs parameter `instance_id`");
}

#[test]
fn unknown_template_variables_are_refused() {
    let found = errors(&format!(
        "{HEAD}inputs:\n  instance_id: {{ from: [resources] }}\nsteps:\n  - id: a\n    action: ec2.stop_instance\n    params: {{ instance_id: '{{{{ inputs.instance }}}}' }}\n  - id: b\n    action: ec2.tag_resource\n    params:\n      resource_id: '{{{{ steps.zz.outputs.id }}}}'\n      tags: {{ Case: '{{{{ context.case }}}}', Who: '{{{{ whoever.x }}}}' }}\n"
    ));
    has(&found, 9, "no input `instance` is declared");
    has(&found, 13, "no step has id `zz`");
    has(&found, 14, "unknown context variable `case`");
    has(&found, 14, "unknown variable `whoever`");
}

#[test]
fn template_syntax_errors_are_refused() {
    let found = errors(&format!(
        "{HEAD}steps:\n  - id: a\n    action: ec2.stop_instance\n    params: {{ instance_id: '{{{{ inputs.x' }}\n"
    ));
    has(&found, 7, "`{{` without `}}`");
}

#[test]
fn outputs_of_steps_that_may_not_have_run_need_a_default() {
    let yaml = format!(
        "{HEAD}steps:\n  - id: d\n    decide:\n      - when: {{ var: context.environment, equals: dev }}\n        goto: dev\n    otherwise: prod\nbranches:\n  dev:\n    steps:\n      - id: snap\n        action: ec2.snapshot_volumes\n        params: {{ instance_id: i-1 }}\n      - goto: tail\n  prod:\n    steps:\n      - goto: tail\n  tail:\n    steps:\n      - id: share\n        action: ec2.share_snapshot\n        params: {{ snapshot_id: '{{{{ steps.snap.outputs.id }}}}', account_id: '1' }}\n"
    );
    let found = errors(&yaml);
    has(
        &found,
        24,
        "step `snap` does not run before `share` on every path",
    );
    let fixed = yaml.replace(
        "steps.snap.outputs.id }}",
        "steps.snap.outputs.id | default(\"none\") }}",
    );
    if let Err(e) = Playbook::load(&fixed, "ok.yml", &catalog()) {
        panic!("{e}");
    }
    let own = errors(&format!(
        "{HEAD}steps:\n  - id: a\n    action: ec2.tag_resource\n    params: {{ resource_id: '{{{{ steps.a.outputs.x }}}}' }}\n"
    ));
    has(&own, 7, "cannot use its own result");
}

#[test]
fn missing_branches_cycles_and_unreachable_steps_are_refused() {
    let found = errors(&format!(
        "{HEAD}steps:\n  - id: d\n    decide:\n      - when: {{ var: context.environment, equals: dev }}\n        goto: nowhere\n    otherwise: a\n  - id: after\n    action: ec2.stop_instance\n    params: {{ instance_id: i-1 }}\nbranches:\n  a:\n    steps:\n      - goto: b\n  b:\n    steps:\n      - goto: a\n  lonely:\n    steps:\n      - goto: a\n"
    ));
    has(&found, 8, "branch `nowhere` does not exist");
    has(&found, 10, "never runs");
    assert!(
        found
            .iter()
            .any(|(_, r)| r.contains("the flow loops: a -> b -> a")),
        "{found:#?}"
    );
    assert!(
        found
            .iter()
            .any(|(_, r)| r.contains("branch `lonely` is never reached")),
        "{found:#?}"
    );
}

#[test]
fn decisions_need_otherwise_and_well_formed_conditions() {
    let found = errors(&format!(
        "{HEAD}steps:\n  - id: d\n    decide:\n      - when: {{ var: context.environment }}\n        goto: a\nbranches:\n  a:\n    steps:\n      - id: s\n        action: ec2.stop_instance\n        params: {{ instance_id: i-1 }}\n"
    ));
    has(&found, 5, "needs `otherwise:`");
    has(&found, 7, "needs exactly one test");
}

#[test]
fn a_goto_with_a_condition_is_refused() {
    // A `when` on a `goto` would be ignored at run time: a conditional jump is a decision.
    let found = errors(&format!(
        "{HEAD}steps:\n  - goto: a\n    when: {{ var: context.environment, equals: dev }}\nbranches:\n  a:\n    steps:\n      - id: s\n        action: ec2.stop_instance\n        params: {{ instance_id: i-1 }}\n"
    ));
    has(&found, 5, "a `goto` has no `params` or `when`");
}

#[test]
fn duplicate_ids_and_bad_inputs_are_refused() {
    let found = errors(&format!(
        "{HEAD}inputs:\n  key:\n    from: ['a..b']\n    pattern: '(['\nsteps:\n  - id: a\n    action: ec2.stop_instance\n    params: {{ instance_id: i-1 }}\n  - id: a\n    action: ec2.stop_instance\n    params: {{ instance_id: i-2 }}\n"
    ));
    has(&found, 6, "empty key");
    has(&found, 7, "invalid regex");
    has(&found, 12, "step id `a` is used twice");
}

#[test]
fn a_valid_playbook_loads_and_matches_its_triggers() {
    let yaml = format!(
        "{HEAD}triggers:\n  rules: [r1]\n  tags: [attack.t1496]\n  finding_types: ['Backdoor:EC2/*']\n  events:\n    - eventName: CreateTags\n      requestParameters.tagSet.items.key: Response\n      requestParameters.tagSet.items.value: '*Isolate*'\n  min_severity: low\nsteps:\n  - id: a\n    action: ec2.stop_instance\n    params: {{ instance_id: i-1 }}\n"
    );
    let playbook = Playbook::load(&yaml, "ok.yml", &catalog()).unwrap();
    let base =
        json!({"rule_id": "other", "severity": {"label": "HIGH"}, "tags": [], "samples": []});
    let with = |key: &str, value: serde_json::Value| {
        let mut f = base.clone();
        f[key] = value;
        f
    };
    assert!(!playbook.matches(&base));
    assert!(playbook.matches(&with("rule_id", json!("r1"))));
    assert!(playbook.matches(&with("tags", json!(["ATTACK.T1496"]))));
    assert!(playbook.matches(&with(
        "samples",
        json!([{"record": {"type": "Backdoor:EC2/C&CActivity.B"}}])
    )));
    let tag_event = json!([{"record": {"eventName": "CreateTags", "requestParameters": {"tagSet": {"items": [{"key": "Response", "value": "Isolate+MemoryCapture"}]}}}}]);
    assert!(playbook.matches(&with("samples", tag_event.clone())));
    let other_tag = json!([{"record": {"eventName": "CreateTags", "requestParameters": {"tagSet": {"items": [{"key": "Owner", "value": "x"}]}}}}]);
    assert!(!playbook.matches(&with("samples", other_tag)));
    let mut informational = with("rule_id", json!("r1"));
    informational["severity"]["label"] = json!("INFORMATIONAL");
    assert!(!playbook.matches(&informational), "below min_severity");
}
