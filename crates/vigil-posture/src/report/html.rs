//! The HTML report: one self-contained page a security lead can put in front of a CISO —
//! the score overall and per Security Pillar area, how results split by status, failures by
//! severity, a map of every control, then each failing control with its resources and its
//! remediation, what could not be evaluated, and what was muted.
//!
//! Inline CSS and SVG only: no script, no font, no image, no link to anything, so the file
//! opens offline, attaches to a ticket and prints. Markup is built with `maud`, which escapes
//! every value: resource names, tags and reasons come from the scanned accounts and must not
//! be able to inject markup into the page.

use std::io::{self, Write};

use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::charts::{bar_chart, percent, ring, score_class, stacked_bar, Segment};
use super::html_sections::{failing_section, muted_section, passing_section, unknown_section};
use super::view::{failing_controls, label_title, score, Row, Tally, LABELS_WORST_FIRST};
use crate::result::{Area, ScanReport, Status};

const CSS: &str = include_str!("report.css");

/// Writes the page.
pub(super) fn write(report: &ScanReport, rows: &[Row<'_>], out: &mut dyn Write) -> io::Result<()> {
    out.write_all(page(report, rows).into_string().as_bytes())?;
    out.write_all(b"\n")
}

fn page(report: &ScanReport, rows: &[Row<'_>]) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="generator" content={ "vigil " (env!("CARGO_PKG_VERSION")) };
                title { "AWS security posture — " (scope_title(report)) }
                style { (PreEscaped(CSS)) }
            }
            body {
                (masthead(report))
                main {
                    (kpis(rows))
                    (areas(report, rows))
                    (distributions(rows))
                    (control_map(rows))
                    (failing_section(rows))
                    (unknown_section(rows))
                    (muted_section(rows))
                    (passing_section(rows))
                }
                (footer(report))
            }
        }
    }
}

/// `123456789012` for one account, `3 accounts` for more.
fn scope_title(report: &ScanReport) -> String {
    match report.accounts.as_slice() {
        [one] => one.clone(),
        many => format!("{} accounts", many.len()),
    }
}

fn masthead(report: &ScanReport) -> Markup {
    let duration = (report.finished_at - report.started_at)
        .num_seconds()
        .max(0);
    html! {
        header.masthead {
            div.inner {
                div {
                    div.eyebrow { "vigil · posture report" }
                    h1 { "AWS security posture" }
                    p.scope {
                        span { (plural(report.accounts.len(), "account")) }
                        span { (plural(report.regions.len(), "region")) }
                        span { "scanned " (report.finished_at.format("%-d %B %Y, %H:%M UTC")) }
                        span { "took " (super::summary::human_duration(duration)) }
                        span { (plural(report.api_calls as usize, "API call")) }
                        @if report.api_errors > 0 {
                            span { (plural(report.api_errors as usize, "API error")) }
                        }
                    }
                    @if !report.accounts.is_empty() {
                        p.scope.accounts { "Accounts: " (report.accounts.join(", ")) }
                    }
                    @if !report.regions.is_empty() {
                        p.scope.regions { "Regions: " (report.regions.join(", ")) }
                    }
                }
                div.overall id="overall-score" data-score=(percent(score(report, None))) {
                    (ring(score(report, None), 132, "Overall score"))
                    div.caption { "Overall score" }
                }
            }
        }
    }
}

/// `1 account`, `3 regions`.
pub(super) fn plural(count: usize, noun: &str) -> String {
    let s = if count == 1 { "" } else { "s" };
    format!("{count} {noun}{s}")
}

fn kpis(rows: &[Row<'_>]) -> Markup {
    let failing = failing_controls(rows);
    let tally = Tally::of(rows);
    let severe = failing
        .iter()
        .filter(|(control, _)| control.severity.score >= 70)
        .count();
    let kpi = |class: &str, id: &str, value: usize, label: &str| {
        html! {
            div class={ "kpi " (class) } id=(id) {
                div.value { (value) }
                div.label { (label) }
            }
        }
    };
    html! {
        section.kpis aria-label="Key figures" {
            (kpi("fail", "kpi-failing-controls", failing.len(), "failing controls"))
            (kpi("critical", "kpi-severe-controls", severe, "of them critical or high"))
            (kpi("fail", "kpi-failing-resources", tally.fail, "failed checks"))
            (kpi("unknown", "kpi-unknown", tally.unknown, "checks not evaluated"))
            (kpi("muted", "kpi-muted", tally.muted, "muted results"))
        }
    }
}

fn areas(report: &ScanReport, rows: &[Row<'_>]) -> Markup {
    html! {
        h2 { "Score by area" }
        section.areas {
            @for area in Area::ALL {
                @let in_area: Vec<Row<'_>> = rows.iter().filter(|r| r.control.area == area).copied().collect();
                @let tally = Tally::of(&in_area);
                @let area_score = score(report, Some(area));
                div class={ "card area " (score_class(area_score)) } data-area=(area.name().to_string())
                    data-score=(percent(area_score)) {
                    h3 { (area.title()) }
                    (ring(area_score, 96, area.title()))
                    @if tally.total() == 0 {
                        div.counts { "No results" }
                    } @else {
                        div.counts { (tally.pass) " pass · " (tally.fail) " fail" }
                    }
                    @if tally.unknown > 0 {
                        div.counts { (tally.unknown) " not evaluated" }
                    }
                }
            }
        }
        p.note { "Score: checks that pass, out of those that pass or fail. Muted, not evaluated and not applicable checks are not scored." }
    }
}

fn distributions(rows: &[Row<'_>]) -> Markup {
    let tally = Tally::of(rows);
    let statuses = status_segments(&tally);
    let failed: Vec<Row<'_>> = rows
        .iter()
        .filter(|row| row.result.status == Status::Fail && !row.is_muted())
        .copied()
        .collect();
    let severities: Vec<Segment<'_>> = LABELS_WORST_FIRST[..4]
        .iter()
        .map(|label| Segment {
            label: label_title(*label),
            class: label_class(*label),
            count: failed
                .iter()
                .filter(|row| row.control.severity.label == *label)
                .count(),
        })
        .collect();
    html! {
        section.two {
            div.card {
                h2 { "Results by status" }
                (stacked_bar(&statuses, "Results by status"))
                ul.legend id="status-counts" {
                    @for segment in &statuses {
                        li data-status=(segment.class) {
                            span class={ "dot " (segment.class) } {}
                            (segment.label) " " b { (segment.count) }
                        }
                    }
                }
                p.note { (plural(tally.total(), "result")) " over " (plural(distinct_resources(rows), "resource")) "." }
                h4 { "By area" }
                div.area-bars {
                    @for area in Area::ALL {
                        @let area_tally = Tally::of(rows.iter().filter(|r| r.control.area == area));
                        div.area-bar-name { (area.title()) }
                        (stacked_bar(&status_segments(&area_tally), area.title()))
                        div.area-bar-total { (area_tally.total()) }
                    }
                }
            }
            div.card {
                h2 { "Failed checks by severity" }
                (bar_chart(&severities, "Failed checks by severity"))
                h4 { "Most severe failing controls" }
                ol.top-failing {
                    @for (control, failed) in failing_controls(rows).iter().take(5) {
                        li {
                            span class={ "badge " (label_class(control.severity.label)) } {
                                (control.severity.label.as_str())
                            }
                            span.top-title { (control.id) " " (control.title) }
                            span.top-count { (failed.len()) }
                        }
                    }
                }
            }
        }
    }
}

fn status_segments(tally: &Tally) -> [Segment<'static>; 5] {
    [
        Segment {
            label: "Pass",
            class: "pass",
            count: tally.pass,
        },
        Segment {
            label: "Fail",
            class: "fail",
            count: tally.fail,
        },
        Segment {
            label: "Not evaluated",
            class: "unknown",
            count: tally.unknown,
        },
        Segment {
            label: "Not applicable",
            class: "na",
            count: tally.not_applicable,
        },
        Segment {
            label: "Muted",
            class: "muted",
            count: tally.muted,
        },
    ]
}

fn distinct_resources(rows: &[Row<'_>]) -> usize {
    let mut ids: Vec<&str> = rows
        .iter()
        .map(|row| row.result.resource.id.as_str())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids.len()
}

/// The CSS class of a severity label.
pub(super) fn label_class(label: vigil_findings::SeverityLabel) -> &'static str {
    match label {
        vigil_findings::SeverityLabel::Critical => "critical",
        vigil_findings::SeverityLabel::High => "high",
        vigil_findings::SeverityLabel::Medium => "medium",
        vigil_findings::SeverityLabel::Low => "low",
        vigil_findings::SeverityLabel::Informational => "informational",
    }
}

/// Every evaluated control as a tile coloured by its worst unmuted result, per area.
fn control_map(rows: &[Row<'_>]) -> Markup {
    html! {
        h2 { "Control map" }
        section.card {
            div.map {
                @for area in Area::ALL {
                    @let tiles = tiles(rows, area);
                    @if !tiles.is_empty() {
                        div.name { (area.title()) }
                        div.tiles {
                            @for (id, title, class, status) in &tiles {
                                span class={ "tile " (class) } title={ (id) " " (title) ": " (status) } { (id) }
                            }
                        }
                    }
                }
            }
            ul.legend {
                li { span.dot.fail {} "Failing" }
                li { span.dot.unknown {} "Not evaluated" }
                li { span.dot.pass {} "Passing" }
                li { span.dot.na {} "Not applicable" }
                li { span.dot.muted {} "Muted" }
            }
        }
    }
}

/// (id, title, CSS class, status text) of each control of `area` with results.
fn tiles(
    rows: &[Row<'_>],
    area: Area,
) -> Vec<(&'static str, &'static str, &'static str, &'static str)> {
    let mut controls: Vec<_> = rows
        .iter()
        .filter(|row| row.control.area == area)
        .map(|row| row.control)
        .collect();
    controls.sort_by_key(|control| control.number);
    controls.dedup_by_key(|control| control.id);
    controls
        .into_iter()
        .map(|control| {
            let tally = Tally::of(rows.iter().filter(|row| row.control.id == control.id));
            let (class, status) = match tally {
                t if t.fail > 0 => ("fail", "failing"),
                t if t.unknown > 0 => ("unknown", "not evaluated"),
                t if t.pass > 0 => ("pass", "passing"),
                t if t.not_applicable > 0 => ("na", "not applicable"),
                _ => ("muted", "muted"),
            };
            (control.id, control.title, class, status)
        })
        .collect()
}

fn footer(report: &ScanReport) -> Markup {
    html! {
        footer {
            "Generated by vigil " (env!("CARGO_PKG_VERSION")) " from a scan started "
            (super::view::rfc3339(report.started_at)) " and finished "
            (super::view::rfc3339(report.finished_at)) ". Controls map to the AWS Well-Architected Security Pillar, "
            (super::CIS_BENCHMARK) " and AWS Security Hub controls."
        }
    }
}
