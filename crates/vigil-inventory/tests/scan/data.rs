//! VIG-52..VIG-64: data protection.

use vigil_posture::snapshot::{BucketVersioning, PublicAccessBlock};
use vigil_posture::{Collected, Snapshot, Status};

use super::{ok, Checks, Coverage};
use crate::fixture::{Fixture, SECOND_REGION};

pub fn live(c: &mut Checks, fx: &Fixture) {
    use Status::{Fail, Pass};
    // The account-level Block Public Access is not set (NoSuchPublicAccessBlockConfiguration
    // is an answer, read through s3control with the emulator endpoint).
    c.expect_all("VIG-52", Fail);
    c.expect("VIG-53", "good-private", Pass);
    c.expect("VIG-53", "bad-public-acl", Fail);
    c.expect("VIG-54", "good-private", Pass);
    c.expect("VIG-54", "bad-public-policy", Fail);
    // moto answers GetBucketVersioning with a <GetBucketVersioningResponse> root element
    // instead of <VersioningConfiguration>, which the SDK rejects (edited below).
    c.expect_unknown("VIG-55", "s3:GetBucketVersioning");
    // Public by policy and public by ACL (AllUsers READ) both fail.
    c.expect("VIG-56", "bad-public-policy", Fail);
    c.expect("VIG-56", "bad-public-acl", Fail);
    c.expect("VIG-56", "good-private", Pass);
    c.expect_in("VIG-57", "us-east-1", Pass);
    c.expect_in("VIG-57", SECOND_REGION, Fail);
    c.expect("VIG-58", &fx.plain_volume, Fail);
    c.expect("VIG-58", &fx.encrypted_volume, Pass);
    c.expect("VIG-59", ":db:bad-db", Fail);
    c.expect("VIG-59", ":db:good-db", Pass);
    c.expect("VIG-60", &fx.efs_plain, Fail);
    c.expect("VIG-60", &fx.efs_encrypted, Pass);
    c.expect("VIG-61", &fx.rotating_key, Pass);
    c.expect("VIG-61", &fx.static_key, Fail);
    c.expect("VIG-62", &fx.deleted_key, Fail);
    c.expect("VIG-62", &fx.public_key, Fail);
    c.expect("VIG-62", &fx.rotating_key, Pass);
    c.expect("VIG-63", &fx.public_snapshot, Fail);
    c.expect("VIG-63", &fx.private_snapshot, Pass);
    c.expect("VIG-63", "snapshot:bad-db-snapshot", Fail);
    c.expect("VIG-63", "snapshot:good-db-snapshot", Pass);
    c.expect("VIG-64", "secret:bad-static-secret", Fail);
    c.expect("VIG-64", "secret:good-rotated-secret", Pass);
}

pub fn edited(snapshot: &Snapshot, coverage: &mut Coverage) {
    let mut c = Checks::edited("account block public access", snapshot, |a| {
        a.account_public_access_block = Collected::Ok(Some(PublicAccessBlock {
            block_public_acls: true,
            ignore_public_acls: true,
            block_public_policy: true,
            restrict_public_buckets: true,
        }));
    });
    c.expect_all("VIG-52", Status::Pass);
    // The account-level block now covers the bucket whose own block is missing.
    c.expect("VIG-53", "bad-public-acl", Status::Pass);
    coverage.absorb(c);
    // What GetBucketVersioning would answer: MFA Delete on the good bucket only.
    let mut c = Checks::edited("mfa delete", snapshot, |a| {
        for bucket in ok(&mut a.buckets, "buckets") {
            let on = bucket.name == "good-private";
            bucket.versioning = Collected::Ok(BucketVersioning {
                status: Some("Enabled".into()),
                mfa_delete: Some(if on { "Enabled" } else { "Disabled" }.into()),
            });
        }
    });
    c.expect("VIG-55", "good-private", Status::Pass);
    c.expect("VIG-55", "bad-public-acl", Status::Fail);
    coverage.absorb(c);
}
