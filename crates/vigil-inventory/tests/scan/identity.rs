//! VIG-01..VIG-23: identity and access management.

use chrono::Duration;
use vigil_posture::snapshot::{AccessAnalyzer, CredentialReportRow, SsoInstance};
use vigil_posture::{Collected, Snapshot, Status};
use vigil_testkit::MOTO_ACCOUNT;

use super::{ok, region, Checks, Coverage};
use crate::fixture::{Fixture, SECOND_REGION};

pub fn live(c: &mut Checks, fx: &Fixture) {
    use Status::{Fail, Pass};
    c.expect_all("VIG-01", Pass); // security contact set
                                  // moto's GetAccountSummary: AccountAccessKeysPresent and AccountMFAEnabled are fixed at
                                  // 0 (it cannot give root keys or MFA); the other sides are edited below.
    c.expect_all("VIG-02", Pass);
    c.expect_all("VIG-03", Fail);
    c.expect_all("VIG-04", Fail);
    // moto's credential report has no `<root_account>` row: the root's use is unknown.
    c.expect_unknown("VIG-05", "no root row");
    c.expect_all("VIG-06", Fail); // minimum length 8
    c.expect_all("VIG-07", Fail); // no reuse prevention
    c.expect_all("VIG-23", Fail);
    c.expect("VIG-08", "user/bad-console-no-mfa", Fail);
    c.expect("VIG-08", "user/good-console-mfa", Pass);
    // The idle key made with the user fails; the key the fixture signed a request with passes.
    c.expect("VIG-09", "user/bad-console-no-mfa", Fail);
    c.expect("VIG-09", "user/good-group-member", Pass);
    // Credentials made a moment ago are not stale (moto cannot backdate: edited below).
    c.expect("VIG-10", "user/good-group-member", Pass);
    c.expect("VIG-11", "user/bad-direct-admin", Fail); // two active keys
    c.expect("VIG-11", "user/good-group-member", Pass);
    // Keys made a moment ago are within 90 days (aged in `edited`).
    c.expect("VIG-12", "user/good-group-member", Pass);
    c.expect("VIG-13", "user/bad-direct-admin", Fail);
    c.expect("VIG-13", "user/good-group-member", Pass);
    c.expect("VIG-14", "policy/AdministratorAccess", Fail);
    c.expect("VIG-14", "policy/good-narrow", Pass);
    c.expect_all("VIG-15", Pass); // AWSSupportAccess on good-support
    c.expect("VIG-16", &fx.imds_v1_instance, Fail);
    c.expect("VIG-16", &fx.imds_v2_instance, Pass);
    // moto reports every server certificate as expiring on 2012-05-08.
    c.expect("VIG-17", "server-certificate/bad-expired-cert", Fail);
    // moto has no IAM Access Analyzer (ListAnalyzers answers HTTP 500).
    c.expect_unknown("VIG-18", "access-analyzer:ListAnalyzers");
    c.expect_all("VIG-19", Pass); // an OIDC provider
    c.expect_all("VIG-20", Fail); // AWSCloudShellFullAccess on bad-cloudshell-admins
    c.expect("VIG-21", "policy/bad-s3-star", Fail);
    c.expect("VIG-21", "policy/good-narrow", Pass);
    c.expect("VIG-22", "policy/bad-decrypt-all", Fail);
    c.expect("VIG-22", "policy/good-narrow", Pass);
}

/// Root-user edits: the summary flags moto fixes at 0, and a root row.
fn root(snapshot: &Snapshot, coverage: &mut Coverage) {
    let summary = |key: &'static str, value: i64| {
        move |a: &mut vigil_posture::snapshot::AccountSnapshot| {
            ok(&mut a.iam.account_summary, "account summary").insert(key.into(), value);
        }
    };
    let mut c = Checks::edited(
        "root keys",
        snapshot,
        summary("AccountAccessKeysPresent", 1),
    );
    c.expect_all("VIG-02", Status::Fail);
    coverage.absorb(c);
    let mut c = Checks::edited("root mfa", snapshot, summary("AccountMFAEnabled", 1));
    c.expect_all("VIG-03", Status::Pass);
    // The virtual device named like the root's, as moto listed it, makes it not hardware.
    c.expect_all("VIG-04", Status::Fail);
    coverage.absorb(c);
    let mut c = Checks::edited("root hardware mfa", snapshot, |a| {
        summary("AccountMFAEnabled", 1)(a);
        ok(&mut a.iam.virtual_mfa_devices, "mfa devices")
            .retain(|d| !d.serial_number.ends_with("root-account-mfa-device"));
    });
    c.expect_all("VIG-04", Status::Pass);
    coverage.absorb(c);
    for (days, status) in [(5, Status::Fail), (200, Status::Pass)] {
        let used = (snapshot.collected_at - Duration::days(days)).to_rfc3339();
        let mut c = Checks::edited("root use", snapshot, |a| {
            ok(&mut a.iam.credential_report, "credential report").push(CredentialReportRow {
                user: "<root_account>".into(),
                arn: format!("arn:aws:iam::{MOTO_ACCOUNT}:root"),
                password_enabled: "not_supported".into(),
                password_last_used: used,
                access_key_1_active: "false".into(),
                access_key_1_last_used_date: "N/A".into(),
                access_key_2_active: "false".into(),
                access_key_2_last_used_date: "N/A".into(),
                ..CredentialReportRow::default()
            });
        });
        c.expect_all("VIG-05", status);
        coverage.absorb(c);
    }
}

pub fn edited(snapshot: &Snapshot, coverage: &mut Coverage) {
    root(snapshot, coverage);
    let mut c = Checks::edited("no security contact", snapshot, |a| {
        a.alternate_contacts.security = Collected::Ok(None);
    });
    c.expect_all("VIG-01", Status::Fail);
    coverage.absorb(c);
    let mut c = Checks::edited("strong password policy", snapshot, |a| {
        let policy = ok(&mut a.iam.password_policy, "password policy")
            .as_mut()
            .expect("the fixture sets a password policy");
        policy.minimum_password_length = Some(14);
        policy.password_reuse_prevention = Some(24);
        policy.require_symbols = true;
        policy.require_numbers = true;
        policy.require_uppercase_characters = true;
        policy.require_lowercase_characters = true;
    });
    for control in ["VIG-06", "VIG-07", "VIG-23"] {
        c.expect_all(control, Status::Pass);
    }
    coverage.absorb(c);
    keys(snapshot, coverage);
    entities_and_certificates(snapshot, coverage);
    analyzers_and_federation(snapshot, coverage);
}

/// moto cannot backdate keys: age the credential report of the collected snapshot.
fn keys(snapshot: &Snapshot, coverage: &mut Coverage) {
    let old = (snapshot.collected_at - Duration::days(200)).to_rfc3339();
    let mut c = Checks::edited("old keys", snapshot, |a| {
        let rows = ok(&mut a.iam.credential_report, "credential report");
        for row in rows.iter_mut().filter(|r| r.user == "good-group-member") {
            row.user_creation_time = old.clone();
            row.access_key_1_last_rotated = old.clone();
            row.access_key_1_last_used_date = old.clone();
        }
    });
    c.expect("VIG-10", "user/good-group-member", Status::Fail);
    c.expect("VIG-12", "user/good-group-member", Status::Fail);
    coverage.absorb(c);
}

fn entities_and_certificates(snapshot: &Snapshot, coverage: &mut Coverage) {
    let mut c = Checks::edited("policy entities", snapshot, |a| {
        a.iam.support_access_entities = Collected::Ok(Default::default());
        a.iam.cloudshell_full_access_entities = Collected::Ok(Default::default());
    });
    c.expect_all("VIG-15", Status::Fail);
    c.expect_all("VIG-20", Status::Pass);
    coverage.absorb(c);
    let later = snapshot.collected_at + Duration::days(300);
    let mut c = Checks::edited("valid certificate", snapshot, |a| {
        for cert in ok(&mut a.iam.server_certificates, "certificates") {
            cert.expiration = Some(later);
        }
    });
    c.expect(
        "VIG-17",
        "server-certificate/bad-expired-cert",
        Status::Pass,
    );
    coverage.absorb(c);
}

fn analyzers_and_federation(snapshot: &Snapshot, coverage: &mut Coverage) {
    // What ListAnalyzers would answer in AWS: an active account analyzer in the home region,
    // none in the other.
    let mut c = Checks::edited("analyzers", snapshot, |a| {
        region(a, "us-east-1").logging.access_analyzers = Collected::Ok(vec![AccessAnalyzer {
            arn: format!("arn:aws:access-analyzer:us-east-1:{MOTO_ACCOUNT}:analyzer/account"),
            name: "account".into(),
            kind: "ACCOUNT".into(),
            status: "ACTIVE".into(),
        }]);
        region(a, SECOND_REGION).logging.access_analyzers = Collected::Ok(Vec::new());
    });
    c.expect_in("VIG-18", "us-east-1", Status::Pass);
    c.expect_in("VIG-18", SECOND_REGION, Status::Fail);
    coverage.absorb(c);
    // Without providers, the IAM Identity Center instance decides. moto's ListInstances always
    // answers one ACTIVE instance (CreateInstance is not implemented), so the collected
    // instance passes on its own, and removing it too fails below.
    assert!(
        matches!(&snapshot.accounts[0].sso_instances, Collected::Ok(list)
            if list.len() == 1 && list[0].instance_arn.starts_with("arn:aws:sso:::instance/")
                && list[0].status.as_deref() == Some("ACTIVE")),
        "sso-admin:ListInstances collected: {:?}",
        snapshot.accounts[0].sso_instances
    );
    let mut c = Checks::edited("no providers", snapshot, |a| {
        a.iam.oidc_providers = Collected::Ok(Vec::new());
        a.iam.saml_providers = Collected::Ok(Vec::new());
    });
    c.expect_all("VIG-19", Status::Pass);
    coverage.absorb(c);
    let mut c = Checks::edited("no central identity", snapshot, |a| {
        a.iam.oidc_providers = Collected::Ok(Vec::new());
        a.iam.saml_providers = Collected::Ok(Vec::new());
        a.sso_instances = Collected::Ok(Vec::<SsoInstance>::new());
    });
    c.expect_all("VIG-19", Status::Fail);
    coverage.absorb(c);
}
