//! The text of a notification: the finding, what the run did, and what a human does next.

use std::fmt::Write;

use serde_json::Value;

use crate::playbook::Playbook;
use crate::run::{Run, RunStatus, StepStatus};

/// The message for `run` of `playbook`: what was found, what was done (step by step),
/// and the next human step. Notify steps template it as `{{ run.summary }}`.
pub fn notification_text(run: &Run, playbook: &Playbook) -> String {
    let mut out = String::new();
    let mode = if run.execute { "" } else { " (dry run)" };
    let _ = writeln!(
        out,
        "[vigil] {} - run {} {}{mode}",
        playbook.title,
        run.id,
        run.status.as_str()
    );
    finding_lines(&run.finding, &mut out);
    let _ = writeln!(
        out,
        "Case: {} | environment: {} | responder: {}",
        run.case_id, run.context.environment, run.responder
    );
    let done: Vec<_> = run
        .steps
        .iter()
        .filter(|s| s.action.is_some() && s.status != StepStatus::Pending)
        .collect();
    if !done.is_empty() {
        let _ = writeln!(out, "Done:");
        for step in done {
            let detail = step
                .error
                .clone()
                .or_else(|| step.report.as_ref().and_then(|r| r.note.clone()))
                .map(|d| format!(" - {d}"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  - {} ({}): {}{detail}",
                step.id,
                step.action.as_deref().unwrap_or(""),
                step.status.as_str()
            );
        }
    }
    let _ = writeln!(out, "Next: {}", next_step(run, playbook));
    out
}

fn finding_lines(finding: &Value, out: &mut String) {
    let text = |key: &str| finding.get(key).and_then(Value::as_str).unwrap_or("-");
    let severity = finding
        .pointer("/severity/label")
        .and_then(Value::as_str)
        .unwrap_or("-");
    let _ = writeln!(
        out,
        "Finding: {} [{severity}] ({})",
        text("title"),
        text("id")
    );
    let _ = writeln!(
        out,
        "Account {} region {} principal {}",
        text("account"),
        text("region"),
        text("principal")
    );
    if let Some(resources) = finding.get("resources").and_then(Value::as_array) {
        let list: Vec<_> = resources.iter().filter_map(Value::as_str).take(5).collect();
        if !list.is_empty() {
            let _ = writeln!(out, "Resources: {}", list.join(", "));
        }
    }
}

/// What a human does next.
fn next_step(run: &Run, playbook: &Playbook) -> String {
    let first_human = playbook
        .human_steps
        .first()
        .map(|s| s.as_str())
        .unwrap_or("review the ledger and close the case");
    match run.status {
        RunStatus::AwaitingApproval => {
            let step = run.awaiting_step().map_or("?", |s| s.id.as_str());
            format!(
                "approve step `{step}`: vigil respond approve {id} --by NAME (or: vigil respond deny {id} --by NAME)",
                id = run.id
            )
        }
        RunStatus::Failed => format!(
            "fix the cause ({}) then: vigil respond resume {}",
            run.error.as_deref().unwrap_or("see the ledger"),
            run.id
        ),
        RunStatus::Planned => format!(
            "review the plan, then run it: vigil respond run {} --execute",
            playbook.id
        ),
        RunStatus::Denied => format!("the response was denied; {first_human}"),
        _ => first_human.to_string(),
    }
}
