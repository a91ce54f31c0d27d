//! Output formats: a human table, JSON Lines, ASFF (Security Hub) and OCSF Detection Finding.

mod asff;
mod asff_taxonomy;
mod jsonl;
mod ocsf;
mod table;

use std::fmt;
use std::io::{self, Write};
use std::str::FromStr;

pub use asff::{asff_finding, write_asff, write_asff_with, AsffOptions};
pub use asff_taxonomy::{asff_resource_type, asff_types};
pub use jsonl::{jsonl_finding, write_jsonl};
pub use ocsf::{ocsf_finding, write_ocsf, OCSF_SCHEMA_VERSION};
pub use table::write_table;

use crate::Finding;

/// An output format, as chosen with `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// A compact human table.
    Table,
    /// One JSON finding per line.
    Jsonl,
    /// A JSON array of AWS Security Finding Format findings (`BatchImportFindings` input).
    Asff,
    /// A JSON array of OCSF Detection Findings (class 2004).
    Ocsf,
}

impl Format {
    /// Every format.
    pub const ALL: [Format; 4] = [Format::Table, Format::Jsonl, Format::Asff, Format::Ocsf];

    /// The name used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Jsonl => "jsonl",
            Format::Asff => "asff",
            Format::Ocsf => "ocsf",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|format| format.as_str().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| format!("unknown format `{text}` (table, jsonl, asff, ocsf)"))
    }
}

/// Why findings could not be written.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// The output could not be written to.
    #[error("cannot write {format} output")]
    Io {
        /// The format being written.
        format: Format,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// A finding could not be encoded (a sample record that is not valid JSON).
    #[error("cannot encode finding {id} as {format}")]
    Encode {
        /// The format being written.
        format: Format,
        /// The finding's id.
        id: String,
        /// The encoding error.
        #[source]
        source: serde_json::Error,
    },
}

/// What a writer wrote, and what it had to leave out and why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteSummary {
    /// Findings written.
    pub written: usize,
    /// Findings left out: (finding id, reason). Only ASFF leaves findings out, when a finding
    /// has no AWS account and no default account was given.
    pub skipped: Vec<(String, String)>,
}

/// Writes `findings` to `out` in `format`.
pub fn write_findings(
    format: Format,
    findings: &[Finding],
    out: &mut dyn Write,
) -> Result<WriteSummary, FormatError> {
    match format {
        Format::Table => write_table(findings, out),
        Format::Jsonl => write_jsonl(findings, out),
        Format::Asff => write_asff(findings, out),
        Format::Ocsf => write_ocsf(findings, out),
    }
}

/// Writes a JSON array of `items`, one element per line, pretty enough to read and diff.
fn write_json_array(
    format: Format,
    items: &[serde_json::Value],
    out: &mut dyn Write,
) -> Result<(), FormatError> {
    let io_error = |source| FormatError::Io { format, source };
    // Encoding a `Value` cannot fail (its map keys are strings); report it as I/O if it did.
    let text = serde_json::to_string_pretty(items).map_err(|e| io_error(e.into()))?;
    out.write_all(text.as_bytes()).map_err(io_error)?;
    out.write_all(b"\n").map_err(io_error)
}

/// `text` cut to at most `max` characters, on a character boundary, with `…` marking a cut.
pub(crate) fn truncate_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_by_name() {
        for format in Format::ALL {
            assert_eq!(format.as_str().parse::<Format>(), Ok(format));
        }
        assert_eq!("JSONL".parse::<Format>(), Ok(Format::Jsonl));
        assert!("csv".parse::<Format>().is_err());
    }

    #[test]
    fn truncation_counts_characters_not_bytes() {
        assert_eq!(truncate_chars("short", 10), "short");
        let cut = truncate_chars("ééééé", 3);
        assert_eq!(cut, "éé…");
        assert_eq!(cut.chars().count(), 3);
    }
}
