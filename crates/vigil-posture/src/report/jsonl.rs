//! JSON Lines: one object per result, the result's own fields with its control's metadata
//! joined in, so each line stands alone in a log pipeline.

use std::io::{self, Write};

use serde_json::{json, Value};

use super::view::Row;

/// Writes one line per result, in report order.
pub(super) fn write(rows: &[Row<'_>], out: &mut dyn Write) -> io::Result<()> {
    for row in rows {
        serde_json::to_writer(&mut *out, &line(row))?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// One result as a JSON object. `severity` is the control's (what a failure of it means),
/// whatever the result's status; `muted` is `null` unless a mute applies.
pub(super) fn line(row: &Row<'_>) -> Value {
    let (result, control) = (row.result, row.control);
    json!({
        "id": row.finding_id(),
        "control": control.id,
        "title": control.title,
        "area": control.area,
        "severity": control.severity,
        "cis": control.cis,
        "security_hub": control.security_hub,
        "status": result.status.as_str(),
        "muted": result.muted,
        "resource": result.resource,
        "reason": result.reason,
        "details": result.details,
        "remediation_action": control.remediation_action,
    })
}
