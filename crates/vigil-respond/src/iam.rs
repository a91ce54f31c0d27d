//! The least-privilege IAM policy of a set of playbooks.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

use crate::action::Catalog;
use crate::playbook::{NodeKind, Playbook};
use crate::template::{render_value, Expr};

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
            let params = placeholder_params(params);
            for permission in action.permissions(&params) {
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
