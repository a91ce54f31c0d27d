//! The 75 controls. Each is one [`Control`]: its [`ControlInfo`] and an evaluation
//! function over one account of the snapshot, kept side by side in the module of its area.
//! The registry is the concatenation of the area lists, in number order.

mod data;
mod detection;
mod iam;
mod infrastructure;
mod metric_filters;
mod network;
mod readiness;
mod statement;
mod support;
mod trails;

#[cfg(test)]
mod fixture;
#[cfg(test)]
mod fixture_regional;
#[cfg(test)]
mod tests;

use std::sync::OnceLock;

use chrono::{DateTime, Utc};

use crate::options::EvalOptions;
use crate::result::{ControlInfo, ControlResult};
use crate::snapshot::{AccountSnapshot, Snapshot};

pub(crate) use support::Out;

/// A control: what it is, and how it is evaluated for one account.
pub(crate) struct Control {
    pub info: ControlInfo,
    pub eval: fn(&Ctx<'_>, &AccountSnapshot, &mut Out),
}

/// What an evaluation function can see besides the account it evaluates.
pub(crate) struct Ctx<'a> {
    pub snapshot: &'a Snapshot,
    pub opts: &'a EvalOptions,
    /// The reference time for ages: the snapshot's collection time.
    pub now: DateTime<Utc>,
}

/// Every control, in number order.
pub(crate) fn registry() -> &'static [&'static Control] {
    static REGISTRY: OnceLock<Vec<&'static Control>> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut all: Vec<&'static Control> = iam::CONTROLS
            .iter()
            .chain(detection::CONTROLS)
            .chain(infrastructure::CONTROLS)
            .chain(data::CONTROLS)
            .chain(readiness::CONTROLS)
            .collect();
        all.sort_by_key(|control| control.info.number);
        all
    })
}

/// Every control's description, in number order.
pub(crate) fn catalog() -> &'static [ControlInfo] {
    static CATALOG: OnceLock<Vec<ControlInfo>> = OnceLock::new();
    CATALOG.get_or_init(|| {
        registry()
            .iter()
            .map(|control| control.info.clone())
            .collect()
    })
}

/// Runs the selected controls over every account, in control order, then applies mutes.
pub(crate) fn evaluate(snapshot: &Snapshot, opts: &EvalOptions) -> Vec<ControlResult> {
    let ctx = Ctx {
        snapshot,
        opts,
        now: snapshot.collected_at,
    };
    let mut results = Vec::new();
    for control in registry() {
        if !opts.selection.selects(&control.info) {
            continue;
        }
        let mut out = Out::new(control.info.id, &snapshot.partition);
        for account in &snapshot.accounts {
            (control.eval)(&ctx, account, &mut out);
        }
        results.extend(out.into_results());
    }
    let mute_clock = opts.now.unwrap_or_else(Utc::now);
    opts.mutes.apply(&mut results, mute_clock);
    results
}

#[cfg(test)]
mod registry_tests {
    use super::*;
    use crate::result::{Area, Status};
    use vigil_findings::SeverityLabel;

    const ACTIONS: [&str; 14] = [
        "s3.block_public_access",
        "s3.remove_public_acl",
        "s3.remove_public_policy_statements",
        "s3.enable_default_encryption",
        "ec2.make_snapshot_private",
        "rds.make_snapshot_private",
        "ec2.make_image_private",
        "ec2.revoke_ingress_rule",
        "kms.cancel_key_deletion",
        "cloudtrail.start_logging",
        "guardduty.enable_detector",
        "config.start_recorder",
        "iam.deactivate_access_key",
        "iam.delete_login_profile",
    ];

    #[test]
    fn the_catalog_holds_75_numbered_controls_with_complete_text() {
        let catalog = catalog();
        assert_eq!(catalog.len(), 75);
        for (index, info) in catalog.iter().enumerate() {
            let number = index + 1;
            assert_eq!(usize::from(info.number), number);
            assert_eq!(info.id, format!("VIG-{number:02}"));
            assert!(info.title.len() > 10, "{} title", info.id);
            assert!(info.description.len() > 80, "{} description", info.id);
            assert!(info.remediation.len() > 60, "{} remediation", info.id);
            assert!(
                info.remediation.contains("aws ") || info.remediation.contains("console"),
                "{} remediation names no CLI command or console step",
                info.id
            );
            if let Some(action) = info.remediation_action {
                assert!(ACTIONS.contains(&action), "{}: {action}", info.id);
            }
            for id in info.security_hub {
                let (service, number) = id.split_once('.').expect("Service.N");
                assert!(!service.is_empty() && number.parse::<u32>().is_ok(), "{id}");
            }
            if let Some(cis) = info.cis {
                assert!(
                    cis.split('.').all(|part| part.parse::<u32>().is_ok()),
                    "{cis}"
                );
            }
            assert_eq!(
                info.severity.label,
                SeverityLabel::from_score(info.severity.score)
            );
        }
    }

    #[test]
    fn frameworks_map_as_controls_md_says() {
        let info = |n: usize| &catalog()[n - 1];
        assert_eq!(info(3).cis, Some("1.5"));
        assert_eq!(info(3).security_hub, &["IAM.9"]);
        assert_eq!(info(24).cis, Some("3.1"));
        assert_eq!(info(52).security_hub, &["S3.1"]);
        assert_eq!(info(22).security_hub, &["KMS.1", "KMS.2"]);
        assert_eq!(info(40).area, Area::InfrastructureProtection);
        assert_eq!(info(66).area, Area::IncidentResponse);
        assert!(catalog()[..23]
            .iter()
            .all(|c| c.area == Area::IdentityAccess));
        assert!(catalog()[23..38].iter().all(|c| c.area == Area::Detection));
        assert!(catalog()[38..51]
            .iter()
            .all(|c| c.area == Area::InfrastructureProtection));
        assert!(catalog()[51..64]
            .iter()
            .all(|c| c.area == Area::DataProtection));
        assert!(catalog()[64..]
            .iter()
            .all(|c| c.area == Area::IncidentResponse));
    }

    #[test]
    fn an_empty_snapshot_evaluates_to_nothing() {
        let results = evaluate(&Snapshot::default(), &EvalOptions::default());
        assert!(results.is_empty());
        let _ = Status::Pass;
    }
}
