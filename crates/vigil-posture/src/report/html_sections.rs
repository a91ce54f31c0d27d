//! The lists of the HTML report: failing controls with their resources and remediation,
//! results that could not be evaluated, muted results, and passing controls.

use maud::{html, Markup};

use super::html::{label_class, plural};
use super::view::{failing_controls, worst_first, Row, Tally};
use crate::result::{ControlInfo, Status};

/// Resources listed per control; the rest are counted (every result is in the CSV).
const MAX_RESOURCES: usize = 200;
/// Failing controls shown open: the critical and high ones.
const OPEN_FROM_SCORE: u8 = 70;

pub(super) fn failing_section(rows: &[Row<'_>]) -> Markup {
    let groups = failing_controls(rows);
    html! {
        h2 id="failing" { "Failing controls" }
        @if groups.is_empty() {
            p.card.empty-state { "No control fails." }
        }
        @for (control, failed) in &groups {
            details class={ "control " (label_class(control.severity.label)) }
                data-control=(control.id) open[control.severity.score >= OPEN_FROM_SCORE] {
                summary {
                    span class={ "badge " (label_class(control.severity.label)) } {
                        (control.severity.label.as_str())
                    }
                    span.id { (control.id) }
                    span.title {
                        (control.title)
                        span.refs { (references(control)) }
                    }
                    span.count { (plural(failed.len(), "resource")) }
                }
                div.body {
                    p { (control.description) }
                    h4 { "Remediation" }
                    p.remediation { (control.remediation) }
                    @if let Some(action) = control.remediation_action {
                        p.note { "Automated response action: " code { (action) } }
                    }
                    h4 { "Failing resources" }
                    (resource_table(failed))
                }
            }
        }
    }
}

/// `Identity and access management · CIS 1.4 · Security Hub IAM.4`.
fn references(control: &ControlInfo) -> String {
    let mut parts = vec![control.area.title().to_string()];
    if let Some(cis) = control.cis {
        parts.push(format!("CIS {cis}"));
    }
    if !control.security_hub.is_empty() {
        parts.push(format!("Security Hub {}", control.security_hub.join(", ")));
    }
    parts.join(" · ")
}

fn resource_table(rows: &[Row<'_>]) -> Markup {
    html! {
        table {
            thead { tr { th { "Resource" } th { "Type" } th { "Account" } th { "Region" } th { "Why" } } }
            tbody {
                @for row in rows.iter().take(MAX_RESOURCES) {
                    tr {
                        td.arn { (row.result.resource.id) }
                        td { (row.result.resource.kind) }
                        td.nowrap { (row.result.resource.account) }
                        td.nowrap { (row.result.resource.region) }
                        td { (row.result.reason) }
                    }
                }
            }
        }
        @if rows.len() > MAX_RESOURCES {
            p.note { "… and " (rows.len() - MAX_RESOURCES) " more; every result is in the CSV and JSON outputs." }
        }
    }
}

pub(super) fn unknown_section(rows: &[Row<'_>]) -> Markup {
    let mut unknown: Vec<Row<'_>> = rows
        .iter()
        .filter(|row| row.result.status == Status::Unknown && !row.is_muted())
        .copied()
        .collect();
    if unknown.is_empty() {
        return html! {};
    }
    unknown.sort_by(worst_first);
    html! {
        h2 id="unknown" { "Not evaluated" }
        p.note { "These checks could not be decided, usually because an API call was denied or failed. They are not counted as passing; grant the access and scan again." }
        div.card {
            table {
                thead { tr { th { "Control" } th { "Resource" } th { "Region" } th { "Why" } } }
                tbody {
                    @for row in unknown.iter().take(MAX_RESOURCES) {
                        tr {
                            td { (row.control.id) " " (row.control.title) }
                            td.arn { (row.result.resource.id) }
                            td.nowrap { (row.result.resource.region) }
                            td { (row.result.reason) }
                        }
                    }
                }
            }
            @if unknown.len() > MAX_RESOURCES {
                p.note { "… and " (unknown.len() - MAX_RESOURCES) " more." }
            }
        }
    }
}

pub(super) fn muted_section(rows: &[Row<'_>]) -> Markup {
    let mut muted: Vec<Row<'_>> = rows.iter().filter(|row| row.is_muted()).copied().collect();
    if muted.is_empty() {
        return html! {};
    }
    muted.sort_by(worst_first);
    html! {
        h2 id="muted" { "Muted" }
        p.note { "Accepted by someone, with a reason. Muted results are not scored; they come back when the mute expires." }
        div.card {
            table {
                thead { tr { th { "Control" } th { "Status" } th { "Resource" } th { "Reason" } th { "By" } th { "Expires" } } }
                tbody {
                    @for row in muted.iter().take(MAX_RESOURCES) {
                        @if let Some(mute) = &row.result.muted {
                            tr {
                                td { (row.control.id) " " (row.control.title) }
                                td { (row.result.status.as_str()) }
                                td.arn { (row.result.resource.id) }
                                td.prewrap { (mute.reason) }
                                td { (mute.by.as_deref().unwrap_or("–")) }
                                td.nowrap { (mute.expires.map(|e| e.format("%Y-%m-%d").to_string()).unwrap_or_else(|| "never".to_string())) }
                            }
                        }
                    }
                }
            }
            @if muted.len() > MAX_RESOURCES {
                p.note { "… and " (muted.len() - MAX_RESOURCES) " more." }
            }
        }
    }
}

/// Controls whose every scored result passes.
pub(super) fn passing_section(rows: &[Row<'_>]) -> Markup {
    let mut passing: Vec<(&'static ControlInfo, usize)> = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for row in rows {
        if seen.contains(&row.control.id) {
            continue;
        }
        seen.push(row.control.id);
        let tally = Tally::of(rows.iter().filter(|r| r.control.id == row.control.id));
        if tally.pass > 0 && tally.fail == 0 && tally.unknown == 0 {
            passing.push((row.control, tally.pass));
        }
    }
    if passing.is_empty() {
        return html! {};
    }
    passing.sort_by_key(|(control, _)| control.number);
    html! {
        h2 id="passing" { "Passing controls" }
        div.card {
            table {
                thead { tr { th { "Control" } th { "Area" } th { "Severity" } th { "Resources checked" } } }
                tbody {
                    @for (control, count) in &passing {
                        tr data-control=(control.id) {
                            td { (control.id) " " (control.title) }
                            td { (control.area.title()) }
                            td { (control.severity.label.as_str()) }
                            td { (count) }
                        }
                    }
                }
            }
        }
    }
}
