//! The terminal summary: what was scanned, the score per Security Pillar area, counts per
//! status, the failing controls worst first, and what could not be evaluated.

use std::fmt::Write as _;

use super::view::{failing_controls, known_rows, score, terminal_text, worst_first, Row, Tally};
use crate::result::{Area, ScanReport, Status};

/// Failing controls listed before "and N more".
const TOP_FAILING: usize = 10;
/// UNKNOWN results listed before "and N more".
const TOP_UNKNOWN: usize = 5;
/// Width of a score bar, in characters.
const BAR: usize = 10;

/// The terminal summary of `report`, ending with a newline. Results naming a control this
/// version of vigil does not know are counted in a note and otherwise left out.
pub fn summary(report: &ScanReport) -> String {
    let (rows, unknown_controls) = known_rows(report);
    let mut text = render(report, &rows);
    if !unknown_controls.is_empty() {
        let _ = writeln!(
            text,
            "\nNote: {} result(s) name controls this version of vigil does not know and are left out.",
            unknown_controls.len()
        );
    }
    text
}

/// The summary of rows already joined with their controls.
pub(super) fn render(report: &ScanReport, rows: &[Row<'_>]) -> String {
    let mut text = String::new();
    scope(&mut text, report);
    areas(&mut text, report, rows);
    failing(&mut text, rows);
    unknown(&mut text, rows);
    text
}

fn scope(text: &mut String, report: &ScanReport) {
    let duration = (report.finished_at - report.started_at)
        .num_seconds()
        .max(0);
    let _ = writeln!(
        text,
        "Posture scan of {} in {}, finished {} ({}), {} API calls, {} errors",
        listing("account", &report.accounts),
        listing("region", &report.regions),
        report.finished_at.format("%Y-%m-%d %H:%M:%S UTC"),
        human_duration(duration),
        report.api_calls,
        report.api_errors,
    );
}

/// `1 account (123456789012)`, `5 regions (us-east-1, …)`.
fn listing(noun: &str, items: &[String]) -> String {
    let plural = if items.len() == 1 { "" } else { "s" };
    let shown: Vec<String> = items.iter().take(3).map(|i| terminal_text(i, 40)).collect();
    let more = if items.len() > 3 { ", …" } else { "" };
    match items.len() {
        0 => format!("no {noun}s"),
        n => format!("{n} {noun}{plural} ({}{more})", shown.join(", ")),
    }
}

/// `42s`, `2m13s`, `2h01m`.
pub(super) fn human_duration(seconds: i64) -> String {
    match seconds {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m{:02}s", s / 60, s % 60),
        s => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

fn areas(text: &mut String, report: &ScanReport, rows: &[Row<'_>]) {
    let _ = writeln!(
        text,
        "\n{:<32} {:>5}  {:<BAR$}  {:>5} {:>5} {:>7} {:>5} {:>5}",
        "AREA", "SCORE", "", "PASS", "FAIL", "UNKNOWN", "N/A", "MUTED"
    );
    for area in Area::ALL {
        let tally = Tally::of(rows.iter().filter(|row| row.control.area == area));
        area_line(text, area.title(), score(report, Some(area)), &tally);
    }
    let tally = Tally::of(rows);
    area_line(text, "Overall", score(report, None), &tally);
    let _ = writeln!(
        text,
        "Score: PASS among PASS and FAIL; muted, UNKNOWN and N/A results are not scored."
    );
}

fn area_line(text: &mut String, title: &str, score: Option<f64>, tally: &Tally) {
    let (percent, bar) = match score {
        Some(score) => (format!("{:.0}%", score.floor()), bar(score)),
        None => ("-".to_string(), String::new()),
    };
    let _ = writeln!(
        text,
        "{title:<32} {percent:>5}  {bar:<BAR$}  {:>5} {:>5} {:>7} {:>5} {:>5}",
        tally.pass, tally.fail, tally.unknown, tally.not_applicable, tally.muted
    );
}

/// `███████░░░` for 70 %: filled blocks round down, so 99 % never looks like 100 %.
fn bar(score: f64) -> String {
    let filled = ((score / 100.0) * BAR as f64)
        .floor()
        .clamp(0.0, BAR as f64) as usize;
    "█".repeat(filled) + &"░".repeat(BAR - filled)
}

fn failing(text: &mut String, rows: &[Row<'_>]) {
    let groups = failing_controls(rows);
    if groups.is_empty() {
        let _ = writeln!(text, "\nNo failing controls.");
        return;
    }
    let _ = writeln!(text, "\nFailing controls, worst first:");
    for (control, failed) in groups.iter().take(TOP_FAILING) {
        let noun = if failed.len() == 1 {
            "resource"
        } else {
            "resources"
        };
        let _ = writeln!(
            text,
            "  {:<8} {:<7} {:<60} {} {noun}",
            control.severity.label.as_str(),
            control.id,
            terminal_text(control.title, 60),
            failed.len(),
        );
    }
    if groups.len() > TOP_FAILING {
        let _ = writeln!(text, "  … and {} more", groups.len() - TOP_FAILING);
    }
}

fn unknown(text: &mut String, rows: &[Row<'_>]) {
    let mut unknown: Vec<Row<'_>> = rows
        .iter()
        .filter(|row| row.result.status == Status::Unknown && !row.is_muted())
        .copied()
        .collect();
    if unknown.is_empty() {
        return;
    }
    unknown.sort_by(worst_first);
    let _ = writeln!(
        text,
        "\n{} result(s) could not be evaluated (UNKNOWN); fix access and scan again:",
        unknown.len()
    );
    for row in unknown.iter().take(TOP_UNKNOWN) {
        let _ = writeln!(
            text,
            "  {:<7} {}: {}",
            row.control.id,
            terminal_text(&row.result.resource.id, 60),
            terminal_text(&row.result.reason, 100),
        );
    }
    if unknown.len() > TOP_UNKNOWN {
        let _ = writeln!(text, "  … and {} more", unknown.len() - TOP_UNKNOWN);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_round_down() {
        assert_eq!(bar(100.0), "██████████");
        assert_eq!(bar(99.9), "█████████░");
        assert_eq!(bar(0.0), "░░░░░░░░░░");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(42), "42s");
        assert_eq!(human_duration(133), "2m13s");
        assert_eq!(human_duration(7260), "2h01m");
    }
}
