//! A human table of every result, worst first, followed by the summary.

use std::io::{self, Write};

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};

use super::view::{terminal_text, truncate_middle, worst_first, Row};
use crate::result::{ScanReport, Status};

/// Longest title, resource and reason shown; the full values are in the other formats.
const MAX_TITLE: usize = 44;
const MAX_RESOURCE: usize = 64;
const MAX_REASON: usize = 72;

/// Writes the table (no colour: the output may be a file or a pipe), then the summary.
pub(super) fn write(report: &ScanReport, rows: &[Row<'_>], out: &mut dyn Write) -> io::Result<()> {
    if rows.is_empty() {
        out.write_all(b"no results\n\n")?;
    } else {
        let mut sorted = rows.to_vec();
        sorted.sort_by(worst_first);
        writeln!(out, "{}\n", table(&sorted))?;
    }
    out.write_all(super::summary::render(report, rows).as_bytes())
}

fn table(rows: &[Row<'_>]) -> Table {
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header([
            "STATUS", "SEVERITY", "CONTROL", "TITLE", "ACCOUNT", "REGION", "RESOURCE", "REASON",
        ]);
    for row in rows {
        let status = row.result.status.as_str();
        let status = match row.is_muted() {
            true => format!("{status} (muted)"),
            false => status.to_string(),
        };
        let resource = &row.result.resource;
        // PASS and NOT_APPLICABLE have no severity: nothing is wrong.
        let severity = match row.result.status {
            Status::Fail | Status::Unknown => row.control.severity.label.to_string(),
            Status::Pass | Status::NotApplicable => "-".to_string(),
        };
        table.add_row([
            status,
            severity,
            row.control.id.to_string(),
            terminal_text(row.control.title, MAX_TITLE),
            terminal_text(&resource.account, 20),
            terminal_text(&resource.region, 20),
            truncate_middle(&terminal_text(&resource.id, usize::MAX), MAX_RESOURCE),
            terminal_text(&row.result.reason, MAX_REASON),
        ]);
    }
    table
}
