//! Selection, mutes and thresholds, end to end through `evaluate`.

use crate::controls::fixture::*;
use crate::options::{MuteRule, Mutes, Selection};
use crate::result::{Area, Status};

#[test]
fn selection_by_area_framework_and_exclusion() {
    let s = good();
    let mut opts = options("");
    opts.selection = Selection::parse("incident_response", "VIG-70").unwrap();
    let results = crate::evaluate(&s, &opts);
    assert!(!results.is_empty());
    assert!(results
        .iter()
        .all(|r| crate::control(&r.control).unwrap().area == Area::IncidentResponse));
    assert!(results.iter().all(|r| r.control != "VIG-70"));
    opts.selection = Selection::parse("security-hub", "").unwrap();
    let results = crate::evaluate(&s, &opts);
    assert!(results.iter().any(|r| r.control == "VIG-52"));
    assert!(results
        .iter()
        .all(|r| !crate::control(&r.control).unwrap().security_hub.is_empty()));
    opts.selection = Selection::parse("cis", "").unwrap();
    let results = crate::evaluate(&s, &opts);
    assert!(results
        .iter()
        .all(|r| crate::control(&r.control).unwrap().cis.is_some()));
    assert!(results.iter().any(|r| r.control == "VIG-03"));
}

fn mute(control: &str, resource: Option<&str>, expires_in_days: Option<i64>) -> MuteRule {
    MuteRule {
        control: control.into(),
        resource: resource.map(String::from),
        account: Some(ACCOUNT.into()),
        reason: "accepted by the CISO until migration".into(),
        expires: expires_in_days.map(|d| days_ago(-d)),
        by: Some("ciso@example.com".into()),
    }
}

#[test]
fn mutes_apply_until_they_expire() {
    let mut s = good();
    if let crate::Collected::Ok(dbs) = &mut region(&mut s).services.db_instances {
        dbs[0].publicly_accessible = true;
    }
    let mut opts = options("VIG-46");
    opts.mutes = Mutes(vec![mute(
        "VIG-46",
        Some("arn:aws:rds:*:db:orders"),
        Some(10),
    )]);
    let results = crate::evaluate(&s, &opts);
    assert_eq!(results[0].status, Status::Fail);
    let muted = results[0].muted.as_ref().expect("muted");
    assert_eq!(muted.by.as_deref(), Some("ciso@example.com"));
    // Expired: the result counts again.
    opts.mutes = Mutes(vec![mute("VIG-46", None, Some(-1))]);
    assert!(crate::evaluate(&s, &opts)[0].muted.is_none());
    // Another resource pattern or account does not match.
    opts.mutes = Mutes(vec![mute("VIG-46", Some("arn:aws:rds:*:db:billing"), None)]);
    assert!(crate::evaluate(&s, &opts)[0].muted.is_none());
    let mut other_account = mute("*", None, None);
    other_account.account = Some(OTHER.into());
    opts.mutes = Mutes(vec![other_account]);
    assert!(crate::evaluate(&s, &opts)[0].muted.is_none());
    opts.mutes = Mutes(vec![mute("*", None, None)]);
    assert!(crate::evaluate(&s, &opts)[0].muted.is_some());
}

#[test]
fn mutes_read_from_configuration() {
    let text = r#"[{"control": "VIG-40", "resource": "arn:aws:ec2:*:security-group/sg-bastion",
        "reason": "bastion, IP-restricted upstream", "expires": "2024-12-31T00:00:00Z"}]"#;
    let mutes: Mutes = serde_json::from_str(text).unwrap();
    assert_eq!(
        mutes.0[0].expires.unwrap().to_rfc3339(),
        "2024-12-31T00:00:00+00:00"
    );
    let missing_reason = r#"[{"control": "VIG-40"}]"#;
    assert!(serde_json::from_str::<Mutes>(missing_reason).is_err());
}

#[test]
fn results_are_in_control_order_and_serialise_for_the_report() {
    let s = good();
    let results = crate::evaluate(&s, &options(""));
    let numbers: Vec<u8> = results
        .iter()
        .map(|r| crate::control(&r.control).unwrap().number)
        .collect();
    assert!(numbers.windows(2).all(|w| w[0] <= w[1]));
    let text = serde_json::to_string(&results).unwrap();
    let back: Vec<crate::ControlResult> = serde_json::from_str(&text).unwrap();
    assert_eq!(back, results);
}
