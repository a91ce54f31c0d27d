//! Posture assessment: the 75 controls vigil evaluates over an inventory snapshot.
//!
//! A scan has two halves. `vigil-inventory` calls the AWS APIs and fills a
//! [`Snapshot`] (versioned JSON: per account, per region, exactly the data the controls
//! need, each call's error kept next to where its data would be). This crate then
//! evaluates the controls over the snapshot — no AWS access, so a scan can be re-run
//! offline — and produces one [`ControlResult`] per control and resource: PASS, FAIL,
//! UNKNOWN (with the failed call) or NOT_APPLICABLE, each with a one-sentence reason.
//!
//! The controls cover the five areas of the Security Pillar ([`Area`]) and map to the
//! CIS AWS Foundations Benchmark v3.0 and AWS Security Hub control ids ([`ControlInfo`]).
//! [`EvalOptions`] carries the [`Thresholds`] (CIS defaults), readiness expectations,
//! the [`Selection`] of controls (by id, area, or framework) and [`Mutes`] (accepted
//! risks with expiry). Resource-policy questions go through [`PolicyVerdicts`].
//!
//! Main types: [`Snapshot`], [`Collected`], [`ControlInfo`], [`ControlResult`],
//! [`ScanReport`], [`EvalOptions`].
//!
//! ```
//! use vigil_posture::snapshot::{AccountSnapshot, Collected, PasswordPolicy, Snapshot};
//! use vigil_posture::{evaluate, EvalOptions, Selection, Status};
//!
//! let mut account = AccountSnapshot { account_id: "111122223333".into(), ..Default::default() };
//! account.iam.password_policy = Collected::Ok(Some(PasswordPolicy {
//!     minimum_password_length: Some(8),
//!     ..Default::default()
//! }));
//! let snapshot = Snapshot { accounts: vec![account], ..Default::default() };
//! let opts = EvalOptions {
//!     selection: Selection::parse("VIG-06", "").unwrap(),
//!     ..Default::default()
//! };
//! let results = evaluate(&snapshot, &opts);
//! assert_eq!(results[0].status, Status::Fail);
//! assert!(results[0].reason.contains("8"));
//! ```

mod controls;
pub mod options;
pub mod policy;
pub mod report;
pub mod result;
pub mod snapshot;

pub use options::{
    EvalOptions, Framework, MuteRule, Mutes, Readiness, Selection, Selector, Thresholds,
};
pub use policy::{
    Exposure, GrantSummary, PolicyQuery, PolicyResourceKind, PolicyVerdict, PolicyVerdicts,
    UnwiredPolicyAnalyzer, VigilPolicyAnalyzer,
};
pub use result::{
    control, controls, Area, ControlInfo, ControlResult, Mute, ResourceRef, ScanReport, Status,
    StatusCounts,
};
pub use snapshot::{Collected, Snapshot, SnapshotError};

/// Evaluates the selected controls over every account of the snapshot and applies the
/// mutes. Results come in control order, then account order.
pub fn evaluate(snapshot: &Snapshot, opts: &EvalOptions) -> Vec<ControlResult> {
    controls::evaluate(snapshot, opts)
}
