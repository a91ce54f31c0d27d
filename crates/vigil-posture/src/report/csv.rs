//! CSV: a header row, then one row per result in report order, for spreadsheets and ticket
//! imports. Quoting is RFC 4180, done by the `csv` crate.
//!
//! Cells that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, tab or
//! carriage return — OWASP's "CSV injection") get a leading `'`: resource names and reasons
//! come from the scanned accounts, and opening a report must not execute what an attacker
//! put into a tag or a bucket policy.

use std::io::{self, Write};

use super::view::{rfc3339, Row};

/// The header row.
pub(super) const HEADER: [&str; 17] = [
    "account",
    "region",
    "control",
    "title",
    "area",
    "severity",
    "status",
    "muted",
    "mute_reason",
    "mute_expires",
    "resource_type",
    "resource_id",
    "reason",
    "cis",
    "security_hub",
    "remediation_action",
    "remediation",
];

/// Writes the header and one row per result.
pub(super) fn write(rows: &[Row<'_>], out: &mut dyn Write) -> io::Result<()> {
    let mut writer = ::csv::Writer::from_writer(out);
    writer.write_record(HEADER).map_err(io::Error::from)?;
    for row in rows {
        let record = record(row);
        writer
            .write_record(record.iter().map(|cell| neutralise(cell).into_owned()))
            .map_err(io::Error::from)?;
    }
    writer.flush()
}

fn record(row: &Row<'_>) -> [String; 17] {
    let (result, control) = (row.result, row.control);
    let mute = result.muted.as_ref();
    [
        result.resource.account.clone(),
        result.resource.region.clone(),
        control.id.to_string(),
        control.title.to_string(),
        control.area.name().to_string(),
        control.severity.label.as_str().to_string(),
        result.status.as_str().to_string(),
        mute.is_some().to_string(),
        mute.map(|m| m.reason.clone()).unwrap_or_default(),
        mute.and_then(|m| m.expires)
            .map(rfc3339)
            .unwrap_or_default(),
        result.resource.kind.clone(),
        result.resource.id.clone(),
        result.reason.clone(),
        control.cis.unwrap_or_default().to_string(),
        control.security_hub.join(" "),
        control.remediation_action.unwrap_or_default().to_string(),
        control.remediation.to_string(),
    ]
}

/// `cell` with a leading `'` when a spreadsheet would read it as a formula.
pub(super) fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised_and_others_kept() {
        assert_eq!(neutralise("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise("-1+2"), "'-1+2");
        assert_eq!(neutralise("arn:aws:s3:::bucket"), "arn:aws:s3:::bucket");
        assert_eq!(neutralise(""), "");
    }
}
