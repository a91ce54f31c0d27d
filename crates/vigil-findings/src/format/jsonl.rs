//! JSON Lines: one finding per line, the whole model plus RFC 3339 times.

use std::io::Write;

use serde::Serialize;
use vigil_event::time::format_rfc3339_ms;

use super::{Format, FormatError, WriteSummary};
use crate::Finding;

/// The line written for a finding: every field of the model (samples embedded as JSON), with
/// `first_seen` and `last_seen` as RFC 3339 next to the epoch milliseconds.
#[derive(Serialize)]
struct JsonlFinding<'a> {
    #[serde(flatten)]
    finding: &'a Finding,
    first_seen: String,
    last_seen: String,
}

/// The JSON Lines line for one finding, without the newline.
pub fn jsonl_finding(finding: &Finding) -> Result<String, FormatError> {
    let line = JsonlFinding {
        finding,
        first_seen: format_rfc3339_ms(finding.first_seen_ms),
        last_seen: format_rfc3339_ms(finding.last_seen_ms),
    };
    serde_json::to_string(&line).map_err(|source| FormatError::Encode {
        format: Format::Jsonl,
        id: finding.id.clone(),
        source,
    })
}

/// Writes one finding per line.
pub fn write_jsonl(findings: &[Finding], out: &mut dyn Write) -> Result<WriteSummary, FormatError> {
    for finding in findings {
        let mut line = jsonl_finding(finding)?;
        line.push('\n');
        out.write_all(line.as_bytes())
            .map_err(|source| FormatError::Io {
                format: Format::Jsonl,
                source,
            })?;
    }
    Ok(WriteSummary {
        written: findings.len(),
        skipped: Vec::new(),
    })
}
