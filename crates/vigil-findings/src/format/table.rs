//! A compact human table: severity, rule, principal, resource, count, last seen.

use std::io::Write;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, CellAlignment, ContentArrangement, Table};
use vigil_event::time::format_rfc3339_ms;

use super::{truncate_chars, Format, FormatError, WriteSummary};
use crate::Finding;

/// Longest text shown in a cell; the full value is in the other formats and in `show`.
const MAX_CELL: usize = 60;

/// Writes the findings as a table (no colour: the output may be a file or a pipe).
pub fn write_table(findings: &[Finding], out: &mut dyn Write) -> Result<WriteSummary, FormatError> {
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header([
            "SEVERITY",
            "RULE",
            "PRINCIPAL",
            "RESOURCE",
            "COUNT",
            "LAST SEEN",
            "STATUS",
            "ID",
        ]);
    for finding in findings {
        table.add_row(row(finding));
    }
    let text = if findings.is_empty() {
        "no findings\n".to_string()
    } else {
        format!("{table}\n")
    };
    out.write_all(text.as_bytes())
        .map_err(|source| FormatError::Io {
            format: Format::Table,
            source,
        })?;
    Ok(WriteSummary {
        written: findings.len(),
        skipped: Vec::new(),
    })
}

fn row(finding: &Finding) -> Vec<Cell> {
    let resource = match finding.resources.as_slice() {
        [] => String::from("-"),
        [one] => one.clone(),
        [first, rest @ ..] => format!("{first} (+{})", rest.len()),
    };
    vec![
        Cell::new(finding.severity.label),
        Cell::new(truncate_chars(&finding.rule_title, MAX_CELL)),
        Cell::new(truncate_chars(
            finding.principal.as_deref().unwrap_or("-"),
            MAX_CELL,
        )),
        Cell::new(truncate_chars(&resource, MAX_CELL)),
        Cell::new(finding.event_count).set_alignment(CellAlignment::Right),
        Cell::new(format_rfc3339_ms(finding.last_seen_ms)),
        Cell::new(finding.status),
        Cell::new(&finding.id),
    ]
}
