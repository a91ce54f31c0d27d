//! VIG-39..VIG-51: infrastructure protection.

use vigil_posture::snapshot::ManagedInstance;
use vigil_posture::{Collected, Snapshot, Status};

use super::{region, Checks, Coverage};
use crate::fixture::{Fixture, SECOND_REGION};

pub fn live(c: &mut Checks, fx: &Fixture) {
    use Status::{Fail, Pass};
    c.expect("VIG-39", &fx.nacl_open_ssh, Fail);
    c.expect("VIG-39", &fx.nacl_closed, Pass);
    c.expect("VIG-40", &fx.sg_open_ssh, Fail);
    c.expect("VIG-40", &fx.sg_open_rdp, Fail);
    c.expect("VIG-40", &fx.sg_restricted, Pass);
    c.expect("VIG-41", &fx.sg_open_ssh_v6, Fail);
    c.expect("VIG-41", &fx.sg_restricted, Pass);
    c.expect("VIG-42", &fx.good_default_sg, Pass);
    c.expect("VIG-42", &fx.default_default_sg, Fail);
    c.expect("VIG-43", &fx.route_table_wide_peering, Fail);
    c.expect("VIG-43", &fx.route_table_narrow_peering, Pass);
    c.expect("VIG-44", &fx.imds_v1_instance, Fail);
    c.expect("VIG-44", &fx.imds_v2_instance, Pass);
    c.expect("VIG-45", &fx.sg_open_ssh, Fail); // 22 is on the high-risk list too
    c.expect("VIG-45", &fx.sg_restricted, Pass);
    c.expect("VIG-46", ":db:bad-db", Fail);
    c.expect("VIG-46", ":db:good-db", Pass);
    c.expect("VIG-47", ":db:bad-db", Fail);
    c.expect("VIG-47", ":db:good-db", Pass);
    // moto does not implement ssm:DescribeInstanceInformation (HTTP 500).
    c.expect_unknown("VIG-48", "ssm:DescribeInstanceInformation");
    c.expect("VIG-49", &fx.public_instance, Fail);
    c.expect("VIG-49", &fx.imds_v2_instance, Pass);
    c.expect("VIG-49", &fx.default_subnet, Fail); // default subnets map public IPs
    c.expect("VIG-49", &fx.private_subnet, Pass);
    c.expect("VIG-50", "function:bad-public-fn", Fail);
    c.expect("VIG-50", "function:good-rotator", Pass); // Secrets Manager of this account only
    c.expect("VIG-50", "function:good-no-policy", Pass);
    c.expect("VIG-51", "cluster/bad-public-endpoint", Fail);
    c.expect("VIG-51", "cluster/good-private-endpoint", Pass);
}

/// What DescribeInstanceInformation would answer with the agent on two of the three
/// instances (`all` = on every running instance of the home region).
fn managed(fx: &Fixture, all: bool) -> Vec<ManagedInstance> {
    let mut ids = vec![fx.imds_v2_instance.clone(), fx.public_instance.clone()];
    if all {
        ids.push(fx.imds_v1_instance.clone());
    }
    ids.into_iter()
        .map(|instance_id| ManagedInstance {
            instance_id,
            ping_status: "Online".into(),
            ..ManagedInstance::default()
        })
        .collect()
}

pub fn edited(snapshot: &Snapshot, fx: &Fixture, coverage: &mut Coverage) {
    for all in [false, true] {
        let mut c = Checks::edited("ssm agents", snapshot, |a| {
            region(a, "us-east-1").compute.ssm_managed_instances = Collected::Ok(managed(fx, all));
            region(a, SECOND_REGION).compute.ssm_managed_instances = Collected::Ok(Vec::new());
        });
        c.expect("VIG-48", &fx.imds_v2_instance, Status::Pass);
        if all {
            c.expect("VIG-48", &fx.imds_v1_instance, Status::Pass);
            c.expect_in("VIG-71", "us-east-1", Status::Pass);
        } else {
            c.expect("VIG-48", &fx.imds_v1_instance, Status::Fail);
            c.expect_in("VIG-71", "us-east-1", Status::Fail);
        }
        coverage.absorb(c);
    }
}
