//! What a posture scan leaves behind: the [`ScanReport`](crate::result::ScanReport) written
//! as a human table, JSON Lines, ASFF (Security Hub), OCSF Compliance Finding (class 2003),
//! CSV, SARIF 2.1.0 or a self-contained HTML page, plus a terminal [`summary`].
//!
//! Every machine format carries, for each result, the vigil control id, its Security Hub
//! control id(s), its CIS AWS Foundations Benchmark v3.0.0 id, the status and the resource.
//! Muted results stay in every output, marked as muted (ASFF `SUPPRESSED`, OCSF status
//! Suppressed, SARIF `suppressions`), so the record of what was accepted is never lost.
//!
//! A result naming a control that is not in the catalogue (a report written by another
//! version of vigil) is an error naming the result's position, not a panic.
//!
//! ```
//! use vigil_posture::report::{summary, write_report, ReportFormat};
//! use vigil_posture::ScanReport;
//!
//! let report = ScanReport {
//!     started_at: chrono::DateTime::UNIX_EPOCH,
//!     finished_at: chrono::DateTime::UNIX_EPOCH,
//!     accounts: vec!["111122223333".into()],
//!     regions: vec!["us-east-1".into()],
//!     results: vec![],
//!     api_calls: 0,
//!     api_errors: 0,
//! };
//! let format: ReportFormat = "sarif".parse().unwrap();
//! let mut out = Vec::new();
//! write_report(format, &report, &mut out).unwrap();
//! assert!(String::from_utf8(out).unwrap().contains(r#""version": "2.1.0""#));
//! assert!(summary(&report).contains("No failing controls."));
//! ```

mod asff;
mod charts;
mod csv;
mod html;
mod html_sections;
mod jsonl;
mod ocsf;
mod sarif;
mod summary;
mod table;
mod view;

use std::fmt;
use std::io::{self, Write};
use std::str::FromStr;

pub use ocsf::OCSF_SCHEMA_VERSION;
pub use summary::summary;

use crate::result::ScanReport;

/// The CIS benchmark the controls' `cis` ids refer to.
pub const CIS_BENCHMARK: &str = "CIS AWS Foundations Benchmark v3.0.0";

/// An output format of `vigil scan`, as chosen with `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReportFormat {
    /// A human table of every result, worst first, followed by the [`summary`].
    Table,
    /// One JSON object per result, with the control's metadata joined in.
    Jsonl,
    /// A JSON array of AWS Security Finding Format findings with `Compliance` set
    /// (`BatchImportFindings` input for a custom product).
    Asff,
    /// A JSON array of OCSF Compliance Findings (class 2003).
    Ocsf,
    /// One CSV row per result, with a header row (RFC 4180 quoting).
    Csv,
    /// A SARIF 2.1.0 log: one rule per evaluated control, one result per FAIL or UNKNOWN.
    Sarif,
    /// A self-contained HTML page (inline CSS and SVG, no script, no external asset).
    Html,
}

impl ReportFormat {
    /// Every format.
    pub const ALL: [ReportFormat; 7] = [
        ReportFormat::Table,
        ReportFormat::Jsonl,
        ReportFormat::Asff,
        ReportFormat::Ocsf,
        ReportFormat::Csv,
        ReportFormat::Sarif,
        ReportFormat::Html,
    ];

    /// The name used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportFormat::Table => "table",
            ReportFormat::Jsonl => "jsonl",
            ReportFormat::Asff => "asff",
            ReportFormat::Ocsf => "ocsf",
            ReportFormat::Csv => "csv",
            ReportFormat::Sarif => "sarif",
            ReportFormat::Html => "html",
        }
    }

    /// The usual file extension of the format (`report.sarif`, `report.html`).
    pub fn extension(self) -> &'static str {
        match self {
            ReportFormat::Table => "txt",
            ReportFormat::Jsonl => "jsonl",
            ReportFormat::Asff | ReportFormat::Ocsf => "json",
            ReportFormat::Csv => "csv",
            ReportFormat::Sarif => "sarif",
            ReportFormat::Html => "html",
        }
    }
}

impl fmt::Display for ReportFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ReportFormat {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        ReportFormat::ALL
            .into_iter()
            .find(|format| format.as_str().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| {
                format!(
                    "unknown report format `{text}` (table, jsonl, asff, ocsf, csv, sarif, html)"
                )
            })
    }
}

/// Writes `report` to `out` in `format`.
///
/// Fails with [`io::ErrorKind::InvalidData`] when a result names a control that is not in
/// the catalogue, or (ASFF only) when a result has no 12-digit AWS account id, naming the
/// result's position; otherwise only with the writer's own errors.
pub fn write_report(
    format: ReportFormat,
    report: &ScanReport,
    out: &mut dyn Write,
) -> io::Result<()> {
    let rows = view::rows(report)?;
    match format {
        ReportFormat::Table => table::write(report, &rows, out),
        ReportFormat::Jsonl => jsonl::write(&rows, out),
        ReportFormat::Asff => asff::write(report, &rows, out),
        ReportFormat::Ocsf => ocsf::write(report, &rows, out),
        ReportFormat::Csv => csv::write(&rows, out),
        ReportFormat::Sarif => sarif::write(report, &rows, out),
        ReportFormat::Html => html::write(report, &rows, out),
    }
}

/// Writes a JSON value followed by a newline, pretty enough to read and diff.
fn write_pretty_json(value: &serde_json::Value, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_by_name_in_any_case() {
        for format in ReportFormat::ALL {
            assert_eq!(format.as_str().parse::<ReportFormat>(), Ok(format));
            assert_eq!(format.to_string(), format.as_str());
        }
        assert_eq!(" SARIF ".parse::<ReportFormat>(), Ok(ReportFormat::Sarif));
        let error = "pdf".parse::<ReportFormat>().unwrap_err();
        assert!(error.contains("`pdf`") && error.contains("html"), "{error}");
    }
}
