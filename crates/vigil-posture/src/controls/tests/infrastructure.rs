use crate::controls::fixture::*;
use crate::controls::fixture_regional::nacl;
use crate::result::Status::{Fail, NotApplicable, Pass, Unknown};
use crate::snapshot::*;

fn groups(s: &mut Snapshot) -> &mut Vec<SecurityGroup> {
    match &mut region(s).network.security_groups {
        Collected::Ok(groups) => groups,
        _ => panic!("fixture has groups"),
    }
}

fn instances(s: &mut Snapshot) -> &mut Vec<Instance> {
    match &mut region(s).compute.instances {
        Collected::Ok(list) => list,
        _ => panic!("fixture has instances"),
    }
}

fn open_rule(protocol: &str, from: i32, to: i32, v4: &str, v6: &str) -> IpPermission {
    IpPermission {
        ip_protocol: protocol.into(),
        from_port: Some(from),
        to_port: Some(to),
        ip_ranges: if v4.is_empty() {
            vec![]
        } else {
            vec![v4.into()]
        },
        ipv6_ranges: if v6.is_empty() {
            vec![]
        } else {
            vec![v6.into()]
        },
        ..Default::default()
    }
}

#[test]
fn vig39_nacl_admin_ports_in_rule_order() {
    let mut s = good();
    expect(&s, "VIG-39", Pass);
    let acl = match &mut region(&mut s).network.network_acls {
        Collected::Ok(acls) => &mut acls[0],
        _ => unreachable!(),
    };
    acl.entries
        .push(nacl(130, "-1", "allow", "0.0.0.0/0", None));
    let fail = expect(&s, "VIG-39", Fail);
    assert!(fail[0].reason.contains("22 (rule 130)") && fail[0].reason.contains("3389 (rule 130)"));
    // An earlier deny for the internet on 22 and 3389 protects them.
    if let Collected::Ok(acls) = &mut region(&mut s).network.network_acls {
        acls[0]
            .entries
            .push(nacl(50, "6", "deny", "0.0.0.0/0", Some((22, 22))));
        acls[0]
            .entries
            .push(nacl(51, "6", "deny", "0.0.0.0/0", Some((3389, 3389))));
    }
    expect(&s, "VIG-39", Pass);
    region(&mut s).network.network_acls = denied("ec2:DescribeNetworkAcls");
    expect(&s, "VIG-39", Unknown);
}

#[test]
fn vig40_sg_admin_ports_ipv4() {
    let mut s = good();
    expect(&s, "VIG-40", Pass);
    groups(&mut s)[1]
        .ip_permissions
        .push(open_rule("tcp", 3380, 3390, "0.0.0.0/0", ""));
    let fail = expect_some(&s, "VIG-40", Fail);
    assert!(
        fail[0].reason.contains("3389") && fail[0].resource.id.ends_with("security-group/sg-web")
    );
    // IPv6 exposure is control 41's, not 40's.
    let mut s = good();
    groups(&mut s)[1]
        .ip_permissions
        .push(open_rule("tcp", 22, 22, "", "::/0"));
    expect(&s, "VIG-40", Pass);
    region(&mut s).network.security_groups = denied("ec2:DescribeSecurityGroups");
    expect(&s, "VIG-40", Unknown);
}

#[test]
fn vig41_sg_admin_ports_ipv6() {
    let mut s = good();
    expect(&s, "VIG-41", Pass);
    groups(&mut s)[1]
        .ip_permissions
        .push(open_rule("-1", -1, -1, "", "::/0"));
    expect_some(&s, "VIG-41", Fail);
    region(&mut s).network.security_groups = denied("ec2:DescribeSecurityGroups");
    expect(&s, "VIG-41", Unknown);
}

#[test]
fn vig42_default_security_group_closed() {
    let mut s = good();
    let pass = expect(&s, "VIG-42", Pass);
    assert_eq!(pass.len(), 1, "only the default group is judged");
    groups(&mut s)[0].ip_permissions.push(IpPermission {
        ip_protocol: "-1".into(),
        user_id_group_pairs: vec!["sg-default".into()],
        ..Default::default()
    });
    expect(&s, "VIG-42", Fail);
    region(&mut s).network.security_groups = denied("ec2:DescribeSecurityGroups");
    expect(&s, "VIG-42", Unknown);
}

#[test]
fn vig43_peering_routes_within_peer_cidr() {
    let mut s = good();
    expect(&s, "VIG-43", Pass);
    if let Collected::Ok(tables) = &mut region(&mut s).network.route_tables {
        tables[0].routes[1].destination_cidr_block = Some("10.0.0.0/8".into());
    }
    let fail = expect(&s, "VIG-43", Fail);
    assert!(
        fail[0].reason.contains("wider than peer VPC vpc-2"),
        "{}",
        fail[0].reason
    );
    if let Collected::Ok(tables) = &mut region(&mut s).network.route_tables {
        tables[0].routes[1].destination_cidr_block = Some("0.0.0.0/0".into());
    }
    expect(&s, "VIG-43", Fail);
    region(&mut s).network.vpc_peering_connections = denied("ec2:DescribeVpcPeeringConnections");
    expect(&s, "VIG-43", Unknown);
    if let Collected::Ok(tables) = &mut region(&mut s).network.route_tables {
        tables[0].routes.truncate(1);
    }
    expect(&s, "VIG-43", NotApplicable);
}

#[test]
fn vig44_imdsv2() {
    let mut s = good();
    expect(&s, "VIG-44", Pass);
    instances(&mut s)[0]
        .metadata_options
        .as_mut()
        .unwrap()
        .http_tokens = Some("optional".into());
    let fail = expect(&s, "VIG-44", Fail);
    assert!(fail[0].reason.contains("optional"));
    instances(&mut s)[0]
        .metadata_options
        .as_mut()
        .unwrap()
        .http_endpoint = Some("disabled".into());
    expect(&s, "VIG-44", Pass);
    region(&mut s).compute.instances = denied("ec2:DescribeInstances");
    expect(&s, "VIG-44", Unknown);
}

#[test]
fn vig45_high_risk_ports_with_configurable_list() {
    let mut s = good();
    expect(&s, "VIG-45", Pass);
    groups(&mut s)[1]
        .ip_permissions
        .push(open_rule("tcp", 3306, 3306, "0.0.0.0/0", ""));
    let fail = expect_some(&s, "VIG-45", Fail);
    assert!(fail[0].reason.contains("3306"));
    let mut opts = options("VIG-45");
    opts.thresholds.high_risk_ports = vec![5432];
    let results = crate::evaluate(&s, &opts);
    assert!(results.iter().all(|r| r.status == Pass));
    region(&mut s).network.security_groups = denied("ec2:DescribeSecurityGroups");
    expect(&s, "VIG-45", Unknown);
}

fn dbs(s: &mut Snapshot) -> &mut Vec<DbInstance> {
    match &mut region(s).services.db_instances {
        Collected::Ok(list) => list,
        _ => panic!("fixture has databases"),
    }
}

#[test]
fn vig46_rds_not_public() {
    let mut s = good();
    expect(&s, "VIG-46", Pass);
    dbs(&mut s)[0].publicly_accessible = true;
    expect(&s, "VIG-46", Fail);
    region(&mut s).services.db_instances = Collected::Ok(vec![]);
    expect(&s, "VIG-46", NotApplicable);
    region(&mut s).services.db_instances = denied("rds:DescribeDBInstances");
    expect(&s, "VIG-46", Unknown);
}

#[test]
fn vig47_rds_minor_upgrades() {
    let mut s = good();
    expect(&s, "VIG-47", Pass);
    dbs(&mut s)[0].auto_minor_version_upgrade = false;
    expect(&s, "VIG-47", Fail);
    region(&mut s).services.db_instances = denied("rds:DescribeDBInstances");
    expect(&s, "VIG-47", Unknown);
}

#[test]
fn vig48_instances_managed_by_ssm() {
    let mut s = good();
    expect(&s, "VIG-48", Pass);
    region(&mut s).compute.ssm_managed_instances = Collected::Ok(vec![]);
    expect(&s, "VIG-48", Fail);
    region(&mut s).compute.ssm_managed_instances = denied("ssm:DescribeInstanceInformation");
    expect(&s, "VIG-48", Unknown);
}

#[test]
fn vig49_public_ips_on_instances_and_subnets() {
    let mut s = good();
    expect(&s, "VIG-49", Pass);
    instances(&mut s)[0].public_ip_address = Some("203.0.113.9".into());
    let fail = expect_some(&s, "VIG-49", Fail);
    assert_eq!(fail[0].resource.kind, "AWS::EC2::Instance");
    let mut s = good();
    if let Collected::Ok(subnets) = &mut region(&mut s).network.subnets {
        subnets[0].map_public_ip_on_launch = true;
    }
    let fail = expect_some(&s, "VIG-49", Fail);
    assert_eq!(fail[0].resource.kind, "AWS::EC2::Subnet");
    region(&mut s).network.subnets = denied("ec2:DescribeSubnets");
    expect_some(&s, "VIG-49", Unknown);
}

fn function_policy(s: &mut Snapshot, policy: &str) {
    if let Collected::Ok(functions) = &mut region(s).compute.lambda_functions {
        functions[0].policy = Collected::Ok(Some(policy.into()));
    }
}

#[test]
fn vig50_lambda_policy_not_public() {
    let mut s = good();
    expect(&s, "VIG-50", Pass);
    function_policy(
        &mut s,
        r#"{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunction", "Resource": "*"}]}"#,
    );
    expect(&s, "VIG-50", Fail);
    function_policy(
        &mut s,
        r#"{"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "lambda:InvokeFunction"}]}"#,
    );
    expect(&s, "VIG-50", Pass);
    function_policy(&mut s, "{broken");
    expect(&s, "VIG-50", Unknown);
    if let Collected::Ok(functions) = &mut region(&mut s).compute.lambda_functions {
        functions[0].policy = denied("lambda:GetPolicy");
    }
    expect(&s, "VIG-50", Unknown);
}

#[test]
fn vig51_eks_endpoint_private() {
    let mut s = good();
    expect(&s, "VIG-51", Pass);
    if let Collected::Ok(clusters) = &mut region(&mut s).compute.eks_clusters {
        clusters[0].endpoint_public_access = true;
        clusters[0].public_access_cidrs = vec!["0.0.0.0/0".into()];
    }
    let fail = expect(&s, "VIG-51", Fail);
    assert!(fail[0].reason.contains("any address"));
    region(&mut s).compute.eks_clusters = denied("eks:DescribeCluster");
    expect(&s, "VIG-51", Unknown);
}
