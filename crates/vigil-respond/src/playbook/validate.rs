//! Load-time checks: everything a run would otherwise trip on halfway through an incident.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;

use super::model::{Node, NodeKind, Playbook, MAIN_FLOW};
use crate::action::Catalog;
use crate::path::{JsonPath, Segment};
use crate::run::{CONTEXT_KEYS, FINDING_KEYS};
use crate::template::{exprs_in, Filter};

/// A problem: the path of the node it is about, and the reason.
pub(super) type Problem = (String, String);

/// Every problem in the playbook.
pub(super) fn validate(playbook: &Playbook, catalog: &Catalog) -> Vec<Problem> {
    let mut problems = Vec::new();
    header(playbook, &mut problems);
    inputs(playbook, &mut problems);
    triggers(playbook, &mut problems);
    let ids = step_ids(playbook, &mut problems);
    for (flow, nodes) in playbook.flows() {
        for (index, node) in nodes.iter().enumerate() {
            let path = Playbook::node_path(flow, index);
            node_shape(playbook, catalog, node, &path, &mut problems);
            if index + 1 < nodes.len()
                && matches!(
                    node.kind(),
                    Some(NodeKind::Decide { .. } | NodeKind::Goto { .. })
                )
            {
                problems.push((
                    Playbook::node_path(flow, index + 1),
                    "this step follows a decision or `goto` in the same flow and never runs".into(),
                ));
            }
        }
    }
    let acyclic = graph(playbook, &mut problems);
    let preceding = if acyclic {
        must_precede(playbook)
    } else {
        HashMap::new()
    };
    let scope = Scope {
        playbook,
        ids: &ids,
        preceding: &preceding,
    };
    for (flow, nodes) in playbook.flows() {
        for (index, node) in nodes.iter().enumerate() {
            scope.node_variables(node, &Playbook::node_path(flow, index), &mut problems);
        }
    }
    for (i, notification) in playbook.notifications.iter().enumerate() {
        let path = format!("notifications[{i}]");
        if notification.on.is_empty() {
            problems.push((format!("{path}.on"), "`on` names no run event".into()));
        }
        action_params(
            catalog,
            &notification.action,
            &notification.params,
            &path,
            &mut problems,
        );
        scope.templates(
            &Value::Object(notification.params.clone()),
            &format!("{path}.params"),
            None,
            &mut problems,
        );
        if let Some(when) = &notification.when {
            scope.condition(when, &format!("{path}.when"), &mut problems);
        }
    }
    problems
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
}

fn header(playbook: &Playbook, problems: &mut Vec<Problem>) {
    if !valid_name(&playbook.id) {
        problems.push((
            "id".into(),
            format!(
                "`{}` is not a valid id (letters, digits, `-`, `_`)",
                playbook.id
            ),
        ));
    }
    if playbook.title.trim().is_empty() {
        problems.push(("title".into(), "the title is empty".into()));
    }
    if playbook.steps.is_empty() {
        problems.push(("steps".into(), "the playbook has no steps".into()));
    }
    for name in playbook.branches.keys() {
        if name == MAIN_FLOW {
            problems.push((
                format!("branches.{name}"),
                "`main` is the name of the top-level flow".into(),
            ));
        } else if !valid_name(name) {
            problems.push((
                format!("branches.{name}"),
                format!("`{name}` is not a valid branch name"),
            ));
        }
    }
}

fn inputs(playbook: &Playbook, problems: &mut Vec<Problem>) {
    for (name, input) in &playbook.inputs {
        let path = format!("inputs.{name}");
        if !valid_name(name) || name.contains('-') {
            problems.push((
                path.clone(),
                format!("`{name}` is not a valid input name (letters, digits, `_`)"),
            ));
        }
        if input.from.is_empty() && input.default.is_none() {
            problems.push((
                format!("{path}.from"),
                "an input needs `from` paths or a `default`".into(),
            ));
        }
        for (i, from) in input.from.iter().enumerate() {
            if let Err(reason) = JsonPath::parse(from) {
                problems.push((format!("{path}.from[{i}]"), reason));
            }
        }
        if let Some(pattern) = &input.pattern {
            if let Err(error) = regex::Regex::new(pattern) {
                problems.push((format!("{path}.pattern"), format!("invalid regex: {error}")));
            }
        }
    }
}

fn triggers(playbook: &Playbook, problems: &mut Vec<Problem>) {
    let triggers = &playbook.triggers;
    if let Some(level) = &triggers.min_severity {
        if super::trigger::severity_rank(level).is_none() {
            problems.push((
                "triggers.min_severity".into(),
                format!("`{level}` is not a severity (informational, low, medium, high, critical)"),
            ));
        }
    }
    for (i, event) in triggers.events.iter().enumerate() {
        if event.is_empty() {
            problems.push((
                format!("triggers.events[{i}]"),
                "an event match needs at least one field".into(),
            ));
        }
        for (field, value) in event {
            let path = format!("triggers.events[{i}].{field}");
            if let Err(reason) = JsonPath::parse(field) {
                problems.push((path.clone(), reason));
            }
            if matches!(value, Value::Object(_) | Value::Null) {
                problems.push((
                    path,
                    "an event match value is a glob, a number, a boolean or a list of them".into(),
                ));
            }
        }
    }
}

/// The ids of action and decision nodes; duplicates and missing ids are problems.
fn step_ids(playbook: &Playbook, problems: &mut Vec<Problem>) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for (flow, nodes) in playbook.flows() {
        for (index, node) in nodes.iter().enumerate() {
            let path = Playbook::node_path(flow, index);
            match (&node.id, node.kind()) {
                (_, Some(NodeKind::Goto { .. })) | (_, None) => {}
                (None, _) => problems.push((path, "this step needs an `id`".into())),
                (Some(id), _) if !valid_name(id) => problems.push((
                    format!("{path}.id"),
                    format!("`{id}` is not a valid step id"),
                )),
                (Some(id), _) => {
                    if !ids.insert(id.clone()) {
                        problems.push((
                            format!("{path}.id"),
                            format!("step id `{id}` is used twice"),
                        ));
                    }
                }
            }
        }
    }
    ids
}

fn node_shape(
    playbook: &Playbook,
    catalog: &Catalog,
    node: &Node,
    path: &str,
    problems: &mut Vec<Problem>,
) {
    let branch_exists = |name: &str| playbook.branches.contains_key(name);
    match node.kind() {
        None => problems.push((
            path.to_string(),
            "a step has exactly one of `action`, `decide` or `goto`".into(),
        )),
        Some(NodeKind::Action { action, .. }) => {
            action_params(catalog, action, &node.params, path, problems);
            if node.otherwise.is_some() {
                problems.push((
                    format!("{path}.otherwise"),
                    "`otherwise` belongs to a decision".into(),
                ));
            }
        }
        Some(NodeKind::Decide {
            choices, otherwise, ..
        }) => {
            if choices.is_empty() {
                problems.push((
                    format!("{path}.decide"),
                    "a decision needs at least one choice".into(),
                ));
            }
            if otherwise.is_empty() {
                problems.push((
                    path.to_string(),
                    "a decision needs `otherwise:` (the branch when no choice holds)".into(),
                ));
            } else if !branch_exists(otherwise) {
                problems.push((
                    format!("{path}.otherwise"),
                    format!("branch `{otherwise}` does not exist"),
                ));
            }
            for (i, choice) in choices.iter().enumerate() {
                let choice_path = format!("{path}.decide[{i}]");
                if !branch_exists(&choice.goto) {
                    problems.push((
                        format!("{choice_path}.goto"),
                        format!("branch `{}` does not exist", choice.goto),
                    ));
                }
                for (at, reason) in choice.when.check(&format!("{choice_path}.when")) {
                    problems.push((at, reason));
                }
            }
            if !node.params.is_empty() || node.when.is_some() {
                problems.push((
                    path.to_string(),
                    "a decision has no `params` or `when` (use the choices' conditions)".into(),
                ));
            }
        }
        Some(NodeKind::Goto { target }) => {
            if !branch_exists(target) {
                problems.push((
                    format!("{path}.goto"),
                    format!("branch `{target}` does not exist"),
                ));
            }
            if !node.params.is_empty() || node.when.is_some() {
                problems.push((
                    path.to_string(),
                    "a `goto` has no `params` or `when` (for a conditional jump, use a decision: \
                     `decide:` with `otherwise:`)"
                        .into(),
                ));
            }
        }
    }
    if let Some(when) = &node.when {
        problems.extend(when.check(&format!("{path}.when")));
    }
}

fn action_params(
    catalog: &Catalog,
    action: &str,
    params: &serde_json::Map<String, Value>,
    path: &str,
    problems: &mut Vec<Problem>,
) {
    let Some(found) = catalog.get(action) else {
        problems.push((
            format!("{path}.action"),
            format!("unknown action `{action}`"),
        ));
        return;
    };
    let info = found.info();
    if info.params.is_empty() {
        return;
    }
    for name in params.keys() {
        if !info.params.iter().any(|p| p.name == name) {
            let known: Vec<_> = info.params.iter().map(|p| p.name).collect();
            problems.push((
                format!("{path}.params.{name}"),
                format!(
                    "`{action}` has no parameter `{name}` (it takes {})",
                    known.join(", ")
                ),
            ));
        }
    }
    for doc in info.params.iter().filter(|p| p.required) {
        if !params.contains_key(doc.name) {
            problems.push((
                format!("{path}.params"),
                format!("`{action}` needs parameter `{}`", doc.name),
            ));
        }
    }
}

/// Checks the branch graph: every branch exists (checked per node), no cycles, every branch
/// reachable from `main`. Returns whether it is acyclic.
fn graph(playbook: &Playbook, problems: &mut Vec<Problem>) -> bool {
    let edges: BTreeMap<&str, Vec<&str>> = playbook
        .flows()
        .map(|(name, nodes)| (name, nodes.iter().flat_map(Node::targets).collect()))
        .collect();
    let mut state: BTreeMap<&str, u8> = BTreeMap::new(); // 1 visiting, 2 done
    let mut acyclic = true;
    fn visit<'a>(
        flow: &'a str,
        edges: &BTreeMap<&'a str, Vec<&'a str>>,
        state: &mut BTreeMap<&'a str, u8>,
        trail: &mut Vec<&'a str>,
        problems: &mut Vec<Problem>,
        acyclic: &mut bool,
    ) {
        match state.get(flow) {
            Some(2) => return,
            Some(_) => {
                *acyclic = false;
                let start = trail.iter().position(|f| *f == flow).unwrap_or(0);
                let mut cycle: Vec<&str> = trail[start..].to_vec();
                cycle.push(flow);
                problems.push((
                    format!("branches.{flow}"),
                    format!("the flow loops: {}", cycle.join(" -> ")),
                ));
                return;
            }
            None => {}
        }
        state.insert(flow, 1);
        trail.push(flow);
        for next in edges.get(flow).into_iter().flatten() {
            if edges.contains_key(next) {
                visit(next, edges, state, trail, problems, acyclic);
            }
        }
        trail.pop();
        state.insert(flow, 2);
    }
    visit(
        MAIN_FLOW,
        &edges,
        &mut state,
        &mut Vec::new(),
        problems,
        &mut acyclic,
    );
    for name in playbook.branches.keys() {
        if !state.contains_key(name.as_str()) {
            problems.push((
                format!("branches.{name}"),
                format!("branch `{name}` is never reached"),
            ));
        }
    }
    acyclic
}

/// For each step id, the steps that run before it on every path that reaches it.
fn must_precede(playbook: &Playbook) -> HashMap<String, BTreeSet<String>> {
    let mut out: HashMap<String, BTreeSet<String>> = HashMap::new();
    fn walk(
        playbook: &Playbook,
        flow: &str,
        mut before: Vec<String>,
        out: &mut HashMap<String, BTreeSet<String>>,
        budget: &mut u32,
    ) {
        if *budget == 0 {
            return;
        }
        *budget -= 1;
        for node in playbook.flow(flow).unwrap_or(&[]) {
            if let Some(id) = &node.id {
                let set: BTreeSet<String> = before.iter().cloned().collect();
                out.entry(id.clone())
                    .and_modify(|known| *known = known.intersection(&set).cloned().collect())
                    .or_insert(set);
                before.push(id.clone());
            }
            let targets = node.targets();
            if !targets.is_empty() {
                for target in targets {
                    walk(playbook, target, before.clone(), out, budget);
                }
                return;
            }
        }
    }
    // Paths multiply with each decision; a playbook with more than this many paths is
    // checked on the first ones only.
    let mut budget = 10_000;
    walk(playbook, MAIN_FLOW, Vec::new(), &mut out, &mut budget);
    out
}

/// What templates and conditions may refer to.
struct Scope<'a> {
    playbook: &'a Playbook,
    ids: &'a BTreeSet<String>,
    preceding: &'a HashMap<String, BTreeSet<String>>,
}

const RUN_KEYS: &[&str] = &["id", "case_id", "status", "summary", "execute"];
const PLAYBOOK_KEYS: &[&str] = &["id", "title"];
const STEP_KEYS: &[&str] = &["outputs", "outcome", "state", "error", "note", "branch"];

impl Scope<'_> {
    fn node_variables(&self, node: &Node, path: &str, problems: &mut Vec<Problem>) {
        let at = node.id.as_deref();
        self.templates(
            &Value::Object(node.params.clone()),
            &format!("{path}.params"),
            at,
            problems,
        );
        if let Some(when) = &node.when {
            self.condition(when, &format!("{path}.when"), problems);
        }
        for (i, choice) in node.decide.iter().flatten().enumerate() {
            self.condition(&choice.when, &format!("{path}.decide[{i}].when"), problems);
        }
    }

    fn templates(&self, value: &Value, path: &str, at: Option<&str>, problems: &mut Vec<Problem>) {
        for (where_, parsed) in exprs_in(value, path) {
            match parsed {
                Err(error) => problems.push((where_, error.to_string())),
                Ok(template) => {
                    for expr in template.exprs() {
                        let has_default =
                            expr.filters.iter().any(|f| matches!(f, Filter::Default(_)));
                        if let Err(reason) = self.variable(&expr.path, at, has_default) {
                            problems.push((
                                where_.clone(),
                                format!("`{{{{ {} }}}}`: {reason}", expr.source),
                            ));
                        }
                    }
                }
            }
        }
    }

    fn condition(
        &self,
        condition: &crate::condition::Condition,
        path: &str,
        problems: &mut Vec<Problem>,
    ) {
        for var in condition.variables() {
            if let Ok(parsed) = JsonPath::parse(var) {
                // Conditions test for absence themselves (`exists: false`), so a step that
                // may not have run is not an error here.
                if let Err(reason) = self.variable(&parsed, None, true) {
                    problems.push((path.to_string(), format!("`{var}`: {reason}")));
                }
            }
        }
    }

    /// Whether a variable can have a value at step `at`.
    fn variable(&self, path: &JsonPath, at: Option<&str>, has_default: bool) -> Result<(), String> {
        let key = |n: usize| match path.segments.get(n) {
            Some(Segment::Key(k)) => Some(k.as_str()),
            _ => None,
        };
        let known = |n: usize, keys: &[&str], what: &str| match key(n) {
            Some(k) if keys.contains(&k) => Ok(()),
            Some(k) => Err(format!("unknown {what} `{k}` (known: {})", keys.join(", "))),
            None => Err(format!("name a {what} ({})", keys.join(", "))),
        };
        match path.head() {
            Some("finding") => known(1, FINDING_KEYS, "finding field"),
            Some("config") => Ok(()),
            Some("inputs") => match key(1) {
                Some(name) if self.playbook.inputs.contains_key(name) => Ok(()),
                Some(name) => Err(format!("no input `{name}` is declared under `inputs:`")),
                None => Err("name an input".into()),
            },
            Some("context") => known(1, CONTEXT_KEYS, "context variable"),
            Some("run") => known(1, RUN_KEYS, "run variable"),
            Some("playbook") => known(1, PLAYBOOK_KEYS, "playbook variable"),
            Some("steps") => {
                let Some(id) = key(1) else {
                    return Err("name a step".into());
                };
                if !self.ids.contains(id) {
                    return Err(format!("no step has id `{id}`"));
                }
                if path.segments.len() > 2 {
                    known(2, STEP_KEYS, "step field")?;
                }
                match at {
                    Some(at) if at == id => Err("a step cannot use its own result".into()),
                    Some(at) if !has_default => {
                        let runs_before = self.preceding.get(at).is_none_or(|set| set.contains(id));
                        if runs_before {
                            Ok(())
                        } else {
                            Err(format!(
                                "step `{id}` does not run before `{at}` on every path (add `| default(...)`)"
                            ))
                        }
                    }
                    _ => Ok(()),
                }
            }
            Some(other) => Err(format!(
                "unknown variable `{other}` (finding, inputs, steps, context, config, run, playbook)"
            )),
            None => Err("a variable starts with a name".into()),
        }
    }
}
