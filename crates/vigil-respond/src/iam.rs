//! The least-privilege IAM policy of a set of playbooks.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

use crate::action::{Action, Catalog};
use crate::playbook::{NodeKind, Playbook};
use crate::template::{render_value, Expr, Filter};

/// The IAM policy that lets vigil run `playbooks`: the permissions each step's action
/// declares for that step's parameters (so `revoke_role_sessions: false` needs less than
/// `true`), plus those of the notifications; one statement per service, actions sorted and
/// deduplicated, statements in service order.
///
/// Templated parameters are unknown until a run; they are given as placeholders, and an
/// action decides its permissions from the parameters that are literal.
pub fn iam_policy(catalog: &Catalog, playbooks: &[&Playbook]) -> Value {
    let mut by_service: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for playbook in playbooks {
        let steps = playbook
            .flows()
            .flat_map(|(_, nodes)| nodes.iter())
            .filter_map(|node| match node.kind() {
                Some(NodeKind::Action { action, .. }) => Some((action, &node.params)),
                _ => None,
            });
        let notifications = playbook
            .notifications
            .iter()
            .map(|n| (n.action.as_str(), &n.params));
        for (name, params) in steps.chain(notifications) {
            let Some(action) = catalog.get(name) else {
                continue;
            };
            for permission in step_permissions(action.as_ref(), params) {
                let (service, _) = permission.split_once(':').unwrap_or((permission, ""));
                by_service
                    .entry(service.to_string())
                    .or_default()
                    .insert(permission.to_string());
            }
        }
    }
    let statements: Vec<Value> = by_service
        .into_iter()
        .map(|(service, actions)| {
            json!({
                "Sid": format!("Vigil{}", sid_word(&service)),
                "Effect": "Allow",
                "Action": actions.into_iter().collect::<Vec<_>>(),
                "Resource": "*",
            })
        })
        .collect();
    json!({ "Version": "2012-10-17", "Statement": statements })
}

/// What a step of `action` with the playbook's (templated) `params` may need: the union over
/// [`param_variants`]. The IAM policy and the runbook's prerequisites both use it.
pub(crate) fn step_permissions(
    action: &dyn Action,
    params: &Map<String, Value>,
) -> BTreeSet<&'static str> {
    param_variants(params)
        .iter()
        .flat_map(|variant| action.permissions(variant))
        .collect()
}

/// The parameter sets a step can be run with, as far as its permissions go: every template
/// given (as a placeholder), and, for the expressions with a `default(...)` filter, which a
/// run renders to the default when the value is missing (`user_name: "{{ inputs.user_name |
/// default(null) }}"`), each of them on its own and all together at their defaults — an
/// action may need more without a parameter (finding the user of an access key needs
/// `iam:GetAccessKeyLastUsed`).
fn param_variants(params: &Map<String, Value>) -> Vec<Map<String, Value>> {
    let defaulted = std::cell::RefCell::new(BTreeSet::new());
    let root = Value::Object(Map::new());
    let record = |expr: &Expr| {
        if expr.filters.iter().any(|f| matches!(f, Filter::Default(_))) {
            defaulted.borrow_mut().insert(expr.source.clone());
        }
        Some(Value::String(format!("<{}>", expr.variable)))
    };
    let all_given = match render_value(&Value::Object(params.clone()), &root, &record) {
        Ok(Value::Object(map)) => map,
        _ => params.clone(),
    };
    let defaulted = defaulted.into_inner();
    let mut variants = vec![all_given];
    let absent = |missing: &dyn Fn(&str) -> bool| {
        let fallback = |expr: &Expr| {
            (!missing(&expr.source)).then(|| Value::String(format!("<{}>", expr.variable)))
        };
        match render_value(&Value::Object(params.clone()), &root, &fallback) {
            // As the executor does: a parameter that renders to null is not given.
            Ok(Value::Object(mut map)) => {
                map.retain(|_, value| !value.is_null());
                Some(map)
            }
            _ => None,
        }
    };
    for source in &defaulted {
        variants.extend(absent(&|s: &str| s == source));
    }
    if defaulted.len() > 1 {
        variants.extend(absent(&|s: &str| defaulted.contains(s)));
    }
    variants
}

/// Parameters with every template replaced by `<variable>`.
pub(crate) fn placeholder_params(params: &Map<String, Value>) -> Map<String, Value> {
    let placeholder = |expr: &Expr| Some(Value::String(format!("<{}>", expr.variable)));
    let root = Value::Object(Map::new());
    match render_value(&Value::Object(params.clone()), &root, &placeholder) {
        Ok(Value::Object(map)) => map,
        _ => params.clone(),
    }
}

/// `elasticloadbalancing` -> `Elasticloadbalancing`; a statement id is alphanumeric.
fn sid_word(service: &str) -> String {
    let clean: String = service
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    let mut chars = clean.chars();
    match chars.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => "Other".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::{
        Action, ActionError, ActionInfo, DryRunMode, ParamDoc, Params, StepEnv, StepReport,
    };
    use std::sync::Arc;

    /// Like iam.deactivate_access_key: without a user name it must look the key's user up.
    struct Deactivate;

    static INFO: ActionInfo = ActionInfo {
        name: "iam.deactivate_access_key",
        summary: "Deactivate a key",
        params: &[
            ParamDoc {
                name: "access_key_id",
                required: true,
                description: "",
            },
            ParamDoc {
                name: "user_name",
                required: false,
                description: "",
            },
        ],
        example: "",
        mutating: true,
        dry_run: DryRunMode::Plan,
        records: "",
    };

    #[async_trait::async_trait]
    impl Action for Deactivate {
        fn info(&self) -> &'static ActionInfo {
            &INFO
        }
        fn permissions(&self, params: &Params) -> Vec<&'static str> {
            let mut p = vec!["iam:UpdateAccessKey"];
            if !params.contains_key("user_name") {
                p.push("iam:GetAccessKeyLastUsed");
            }
            p
        }
        fn all_permissions(&self) -> Vec<&'static str> {
            vec!["iam:UpdateAccessKey", "iam:GetAccessKeyLastUsed"]
        }
        fn cli(&self, _: &Params) -> Vec<String> {
            Vec::new()
        }
        async fn run(&self, _: &StepEnv<'_>, _: &Params) -> Result<StepReport, ActionError> {
            Err(ActionError::Failed("not run in this test".into()))
        }
    }

    fn policy_actions(user_name: &str) -> Vec<String> {
        let mut catalog = Catalog::new();
        catalog.register(Arc::new(Deactivate));
        let text = format!(
            "id: key\ntitle: Key\ndescription: d\ninputs:\n  access_key_id:\n    from: [principal.access_key]\n  user_name:\n    from: [principal.user_name]\n    required: false\nsteps:\n  - id: deactivate\n    action: iam.deactivate_access_key\n    params:\n      access_key_id: \"{{{{ inputs.access_key_id }}}}\"\n      user_name: {user_name}\n"
        );
        let playbook = Playbook::load(&text, "key.yml", &catalog).expect("playbook loads");
        iam_policy(&catalog, &[&playbook])["Statement"][0]["Action"]
            .as_array()
            .expect("actions")
            .iter()
            .filter_map(|a| a.as_str().map(str::to_string))
            .collect()
    }

    #[test]
    fn a_parameter_that_may_render_to_its_default_counts_both_ways() {
        assert_eq!(
            policy_actions("\"{{ inputs.user_name | default(null) }}\""),
            vec!["iam:GetAccessKeyLastUsed", "iam:UpdateAccessKey"],
            "without a user name the key's user is looked up"
        );
        assert_eq!(
            policy_actions("\"{{ inputs.user_name }}\""),
            vec!["iam:UpdateAccessKey"],
            "a template without a default is always given (the step fails otherwise)"
        );
        assert_eq!(policy_actions("alice"), vec!["iam:UpdateAccessKey"]);
    }

    #[test]
    fn each_defaulted_expression_is_tried_alone_and_all_together() {
        let params: Map<String, Value> = serde_json::from_value(serde_json::json!({
            "a": "{{ inputs.a | default(null) }}",
            "b": "{{ inputs.b | default('x') }}",
            "c": "{{ inputs.c }}",
        }))
        .unwrap();
        let variants = param_variants(&params);
        let shown: Vec<Value> = variants.into_iter().map(Value::Object).collect();
        assert_eq!(
            shown,
            vec![
                serde_json::json!({"a": "<inputs.a>", "b": "<inputs.b>", "c": "<inputs.c>"}),
                serde_json::json!({"b": "<inputs.b>", "c": "<inputs.c>"}),
                serde_json::json!({"a": "<inputs.a>", "b": "x", "c": "<inputs.c>"}),
                serde_json::json!({"b": "x", "c": "<inputs.c>"}),
            ]
        );
    }
}
