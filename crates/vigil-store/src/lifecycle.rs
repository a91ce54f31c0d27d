//! Status rules every store backend applies the same way.

use vigil_findings::{Finding, Status, StatusChange};

use crate::Suppression;

/// Who the engine is in status history.
pub const ENGINE: &str = "vigil";

/// Starts the lifecycle of a finding seen for the first time: NEW, then SUPPRESSED when the
/// first active suppression in `suppressions` matches. Returns whether it was suppressed.
pub fn start(finding: &mut Finding, suppressions: &[Suppression], now_ms: i64) -> bool {
    finding.status = Status::New;
    finding.history = vec![StatusChange {
        at_ms: now_ms,
        from: None,
        to: Status::New,
        by: ENGINE.to_string(),
        reason: format!("detected by rule {}", finding.rule_id),
    }];
    let matching = suppressions
        .iter()
        .find(|s| s.is_active(now_ms) && s.matches(finding));
    match matching {
        Some(suppression) => {
            suppress(finding, suppression, now_ms);
            true
        }
        None => false,
    }
}

/// Moves a finding to SUPPRESSED by `suppression`, naming it and its reason in the history.
pub fn suppress(finding: &mut Finding, suppression: &Suppression, now_ms: i64) {
    let reason = format!(
        "suppression {} by {}: {}",
        suppression.id, suppression.author, suppression.reason
    );
    change(
        finding,
        Status::Suppressed,
        &format!("suppression:{}", suppression.id),
        &reason,
        now_ms,
    );
}

/// Moves a finding to `status`, appending the change to its history.
pub fn change(finding: &mut Finding, status: Status, by: &str, reason: &str, now_ms: i64) {
    finding.history.push(StatusChange {
        at_ms: now_ms,
        from: Some(finding.status),
        to: status,
        by: by.to_string(),
        reason: reason.to_string(),
    });
    finding.status = status;
}

/// Whether a suppression added now should mute a stored finding in this status (open ones
/// only: resolved findings stay resolved).
pub fn suppressible(status: Status) -> bool {
    matches!(status, Status::New | Status::Notified)
}
