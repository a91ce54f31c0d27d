//! VIG-65..VIG-75: incident-response readiness.

use chrono::Duration;
use vigil_posture::snapshot::{AlternateContact, BucketVersioning, MetricAlarm};
use vigil_posture::{evaluate, Collected, EvalOptions, Readiness, Snapshot, Status};
use vigil_testkit::MOTO_ACCOUNT;

use super::{ok, region, Checks, Coverage};
use crate::fixture::{Fixture, SECOND_REGION};

pub fn live(c: &mut Checks, fx: &Fixture) {
    use Status::{Fail, Pass};
    c.expect_all("VIG-65", Fail); // billing and operations contacts missing
    c.expect("VIG-66", "role/bad-incident-response-open", Fail);
    c.expect("VIG-66", "role/good-incident-response", Pass);
    // The bad role was assumed by the fixture (RoleLastUsed is today) and nothing alarms on
    // it; the good one is idle and a metric filter names it.
    c.expect("VIG-67", "role/bad-break-glass", Fail);
    c.expect("VIG-67", "role/good-break-glass", Pass);
    // Versioning is unreadable from moto (see VIG-55), so the evidence bucket is unknown.
    c.expect_unknown("VIG-68", "s3:GetBucketVersioning");
    c.expect("VIG-69", &fx.good_vpc, Pass);
    c.expect("VIG-69", &fx.default_vpc, Fail);
    c.expect("VIG-70", &fx.forensic_image, Pass); // built a moment ago
                                                  // moto does not implement ssm:DescribeInstanceInformation (edited in infrastructure).
    c.expect_unknown("VIG-71", "ssm:DescribeInstanceInformation");
    c.expect_in("VIG-72", "us-east-1", Pass);
    c.expect_in("VIG-72", SECOND_REGION, Fail); // only a detail-filtered rule
                                                // moto cannot serve CloudWatch to the Rust SDK (see VIG-33): edited below.
    c.expect_unknown("VIG-73", "cloudwatch:DescribeAlarms");
    // Without a configured security account the delivery target cannot be judged.
    c.expect_unknown("VIG-74", "readiness.security_account");
    c.expect_all("VIG-75", Pass);
}

/// VIG-74 from the same snapshot with a security account configured: this account (its
/// trail delivers to its own bucket) passes, another account fails.
pub fn central_trail(snapshot: &Snapshot, coverage: &mut Coverage) {
    for (security, status) in [(MOTO_ACCOUNT, Status::Pass), ("999988887777", Status::Fail)] {
        let opts = EvalOptions {
            readiness: Readiness {
                security_account: Some(security.to_string()),
                ..Readiness::default()
            },
            ..EvalOptions::default()
        };
        let mut c = Checks::new("security account", evaluate(snapshot, &opts));
        c.expect_all("VIG-74", status);
        coverage.absorb(c);
    }
}

pub fn edited(snapshot: &Snapshot, coverage: &mut Coverage) {
    let mut c = Checks::edited("all contacts", snapshot, |a| {
        let contact = Collected::Ok(Some(AlternateContact {
            email_address: Some("finance@example.com".into()),
            ..AlternateContact::default()
        }));
        a.alternate_contacts.billing = contact.clone();
        a.alternate_contacts.operations = contact;
    });
    c.expect_all("VIG-65", Status::Pass);
    coverage.absorb(c);
    evidence(snapshot, coverage);
    let old = snapshot.collected_at - Duration::days(90);
    let mut c = Checks::edited("old forensic image", snapshot, |a| {
        for image in ok(&mut region(a, "us-east-1").compute.images, "images") {
            image.creation_date = Some(old);
        }
    });
    c.expect_all("VIG-70", Status::Fail);
    coverage.absorb(c);
    // What DescribeAlarms would answer for a billing alarm notifying a topic, or for one
    // without an action.
    for notifies in [true, false] {
        let mut c = Checks::edited("billing alarm", snapshot, |a| {
            let topic = format!("arn:aws:sns:us-east-1:{MOTO_ACCOUNT}:security-alerts");
            region(a, "us-east-1").logging.metric_alarms = Collected::Ok(vec![MetricAlarm {
                alarm_name: "good-billing".into(),
                metric_name: Some("EstimatedCharges".into()),
                namespace: Some("AWS/Billing".into()),
                actions_enabled: true,
                alarm_actions: if notifies { vec![topic] } else { Vec::new() },
                ..MetricAlarm::default()
            }]);
        });
        c.expect_all("VIG-73", if notifies { Status::Pass } else { Status::Fail });
        coverage.absorb(c);
    }
    let mut c = Checks::edited("detached guardrails", snapshot, |a| {
        let policies = ok(&mut a.service_control_policies, "scps");
        for policy in policies.iter_mut().filter(|p| p.name == "good-guardrails") {
            policy.targets.clear();
        }
    });
    c.expect_all("VIG-75", Status::Fail);
    coverage.absorb(c);
}

/// What GetBucketVersioning would answer: versioning on (Object Lock forces it), or
/// suspended on the evidence bucket.
fn evidence(snapshot: &Snapshot, coverage: &mut Coverage) {
    for (status, expected) in [("Enabled", Status::Pass), ("Suspended", Status::Fail)] {
        let mut c = Checks::edited("evidence versioning", snapshot, |a| {
            for bucket in ok(&mut a.buckets, "buckets") {
                let evidence = bucket.name == "good-evidence";
                bucket.versioning = Collected::Ok(BucketVersioning {
                    status: Some(if evidence { status } else { "Enabled" }.into()),
                    mfa_delete: None,
                });
            }
        });
        c.expect_all("VIG-68", expected);
        coverage.absorb(c);
    }
}
