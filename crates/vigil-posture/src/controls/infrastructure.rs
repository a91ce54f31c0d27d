//! Infrastructure protection: networks and compute — controls 39–51.

use std::collections::HashMap;

use ipnet::IpNet;
use serde_json::json;

use super::network::{admin_exposure, nacl_open_ports, peering_route_problems, Internet};
use super::support::{arn, each_regional, join, resource, Out, CRITICAL, HIGH, LOW, MEDIUM};
use super::{Control, Ctx};
use crate::policy::{Exposure, PolicyQuery, PolicyResourceKind};
use crate::result::{Area, ControlInfo, ResourceRef};
use crate::snapshot::{AccountSnapshot, RegionSnapshot, SecurityGroup};

pub(super) static CONTROLS: &[Control] = &[
    Control {
        info: ControlInfo {
            id: "VIG-39",
            number: 39,
            title: "No network ACL admits the internet to SSH or RDP",
            description: "A NACL that allows 0.0.0.0/0 or ::/0 to ports 22 or 3389 leaves \
                subnet-wide remote administration reachable from anywhere; only security \
                groups then stand between the internet and every host's admin port. Rules are \
                read in order: an earlier deny protects a later allow.",
            severity: MEDIUM,
            area: Area::InfrastructureProtection,
            cis: Some("5.1"),
            security_hub: &["EC2.21"],
            remediation: "aws ec2 replace-network-acl-entry --network-acl-id ACL --ingress \
                --rule-number N --protocol tcp --port-range From=22,To=22 --cidr-block \
                ADMIN_CIDR --rule-action allow (or delete-network-acl-entry).",
            remediation_action: None,
        },
        eval: nacl_admin_ports,
    },
    Control {
        info: ControlInfo {
            id: "VIG-40",
            number: 40,
            title: "No security group admits 0.0.0.0/0 to remote administration ports",
            description: "SSH (22) and RDP (3389) open to any IPv4 address are scanned within \
                minutes and brute-forced continuously. Use Session Manager or restrict the \
                source to known ranges.",
            severity: HIGH,
            area: Area::InfrastructureProtection,
            cis: Some("5.2"),
            security_hub: &["EC2.53"],
            remediation: "aws ec2 revoke-security-group-ingress --group-id SG --ip-permissions \
                IpProtocol=tcp,FromPort=22,ToPort=22,IpRanges=[{CidrIp=0.0.0.0/0}]; use SSM \
                Session Manager for shell access.",
            remediation_action: Some("ec2.revoke_ingress_rule"),
        },
        eval: sg_admin_ipv4,
    },
    Control {
        info: ControlInfo {
            id: "VIG-41",
            number: 41,
            title: "No security group admits ::/0 to remote administration ports",
            description: "The IPv6 twin of control 40: ::/0 to SSH or RDP exposes hosts to the \
                whole IPv6 internet, and is easy to miss when only IPv4 rules are reviewed.",
            severity: HIGH,
            area: Area::InfrastructureProtection,
            cis: Some("5.3"),
            security_hub: &["EC2.54"],
            remediation: "aws ec2 revoke-security-group-ingress --group-id SG --ip-permissions \
                IpProtocol=tcp,FromPort=22,ToPort=22,Ipv6Ranges=[{CidrIpv6=::/0}]",
            remediation_action: Some("ec2.revoke_ingress_rule"),
        },
        eval: sg_admin_ipv6,
    },
    Control {
        info: ControlInfo {
            id: "VIG-42",
            number: 42,
            title: "Default security groups restrict all traffic",
            description: "Resources launched without an explicit group land in the VPC's default \
                group, which by default lets members talk to each other and out to anywhere. \
                Emptying it forces deliberate, least-privilege groups.",
            severity: HIGH,
            area: Area::InfrastructureProtection,
            cis: Some("5.4"),
            security_hub: &["EC2.2"],
            remediation: "aws ec2 revoke-security-group-ingress --group-id DEFAULT_SG \
                --ip-permissions '…' and aws ec2 revoke-security-group-egress for every rule, \
                after moving resources to dedicated groups.",
            remediation_action: Some("ec2.revoke_ingress_rule"),
        },
        eval: default_sg_closed,
    },
    Control {
        info: ControlInfo {
            id: "VIG-43",
            number: 43,
            title: "VPC peering routes are least access",
            description: "A route through a peering connection should reach only the peer \
                subnets that need it, never a default route or more than the peer VPC's own \
                CIDRs. Broad peering routes turn one compromised VPC into a path to another.",
            severity: LOW,
            area: Area::InfrastructureProtection,
            cis: Some("5.5"),
            security_hub: &[],
            remediation: "aws ec2 delete-route --route-table-id RTB --destination-cidr-block \
                BROAD_CIDR && aws ec2 create-route --route-table-id RTB \
                --destination-cidr-block PEER_SUBNET_CIDR --vpc-peering-connection-id PCX",
            remediation_action: None,
        },
        eval: peering_least_access,
    },
    Control {
        info: ControlInfo {
            id: "VIG-44",
            number: 44,
            title: "Instances require IMDSv2",
            description: "IMDSv1 answers any GET, so an SSRF bug in an application hands its \
                role credentials to the attacker. IMDSv2's session tokens stop that; require \
                them (or disable the metadata endpoint).",
            severity: HIGH,
            area: Area::InfrastructureProtection,
            cis: Some("5.6"),
            security_hub: &["EC2.8"],
            remediation: "aws ec2 modify-instance-metadata-options --instance-id i-… \
                --http-tokens required --http-endpoint enabled; set the account default: aws \
                ec2 modify-instance-metadata-defaults --http-tokens required",
            remediation_action: None,
        },
        eval: imdsv2,
    },
    Control {
        info: ControlInfo {
            id: "VIG-45",
            number: 45,
            title: "No security group opens high-risk ports to the internet",
            description: "Databases, file sharing, mail, Telnet, FTP and admin consoles \
                (Security Hub EC2.19's list, configurable) must never accept connections from \
                0.0.0.0/0 or ::/0: they are the services ransomware crews scan for.",
            severity: CRITICAL,
            area: Area::InfrastructureProtection,
            cis: None,
            security_hub: &["EC2.19"],
            remediation: "aws ec2 revoke-security-group-ingress --group-id SG --ip-permissions \
                IpProtocol=tcp,FromPort=PORT,ToPort=PORT,IpRanges=[{CidrIp=0.0.0.0/0}]; put the \
                service behind a load balancer, VPN or private link.",
            remediation_action: Some("ec2.revoke_ingress_rule"),
        },
        eval: sg_high_risk,
    },
    Control {
        info: ControlInfo {
            id: "VIG-46",
            number: 46,
            title: "RDS instances are not publicly accessible",
            description: "A publicly accessible DB instance gets a public DNS name resolving to a \
                public IP; one permissive security group away from the internet's password \
                guessers.",
            severity: CRITICAL,
            area: Area::InfrastructureProtection,
            cis: Some("2.3.3"),
            security_hub: &["RDS.2"],
            remediation: "aws rds modify-db-instance --db-instance-identifier DB \
                --no-publicly-accessible --apply-immediately",
            remediation_action: None,
        },
        eval: rds_private,
    },
    Control {
        info: ControlInfo {
            id: "VIG-47",
            number: 47,
            title: "RDS instances apply minor version upgrades automatically",
            description: "Minor versions carry security fixes for the database engine; automatic \
                upgrades in the maintenance window keep instances patched.",
            severity: HIGH,
            area: Area::InfrastructureProtection,
            cis: Some("2.3.2"),
            security_hub: &["RDS.13"],
            remediation: "aws rds modify-db-instance --db-instance-identifier DB \
                --auto-minor-version-upgrade --apply-immediately",
            remediation_action: None,
        },
        eval: rds_minor_upgrades,
    },
    Control {
        info: ControlInfo {
            id: "VIG-48",
            number: 48,
            title: "EC2 instances are managed by Systems Manager",
            description: "SSM-managed instances can be patched, inventoried and reached for \
                response without opening SSH. An instance SSM does not know is outside patching \
                and remote forensics.",
            severity: MEDIUM,
            area: Area::InfrastructureProtection,
            cis: None,
            security_hub: &["SSM.1"],
            remediation: "Install/start the SSM Agent and attach AmazonSSMManagedInstanceCore to \
                the instance role (or enable Default Host Management: aws ssm update-service-setting \
                --setting-id /ssm/managed-instance/default-ec2-instance-management-role \
                --setting-value ROLE).",
            remediation_action: None,
        },
        eval: ssm_managed,
    },
    Control {
        info: ControlInfo {
            id: "VIG-49",
            number: 49,
            title: "Instances have no public IP and subnets do not assign one",
            description: "Public IPs make instances directly reachable and directly able to \
                exfiltrate. Expose services through load balancers; subnets that auto-assign \
                public IPs make every launch public by default.",
            severity: HIGH,
            area: Area::InfrastructureProtection,
            cis: None,
            security_hub: &["EC2.9", "EC2.15"],
            remediation: "aws ec2 modify-subnet-attribute --subnet-id SUBNET \
                --no-map-public-ip-on-launch; relaunch instances without public IPs behind a \
                load balancer or NAT.",
            remediation_action: None,
        },
        eval: no_public_ips,
    },
    Control {
        info: ControlInfo {
            id: "VIG-50",
            number: 50,
            title: "Lambda function policies do not allow public invocation",
            description: "A function policy granting \"*\" lets anyone invoke the function (and \
                run up its bill or reach what its role can reach). Decided by resource-policy \
                analysis: conditions that really restrict the caller count, wildcards do not.",
            severity: CRITICAL,
            area: Area::InfrastructureProtection,
            cis: None,
            security_hub: &["Lambda.1"],
            remediation: "aws lambda get-policy --function-name FN, then aws lambda \
                remove-permission --function-name FN --statement-id SID for the public \
                statement; add a SourceArn/SourceAccount condition for service principals.",
            remediation_action: None,
        },
        eval: lambda_not_public,
    },
    Control {
        info: ControlInfo {
            id: "VIG-51",
            number: 51,
            title: "EKS cluster endpoints are not public",
            description: "A public Kubernetes API endpoint is an internet-facing control plane: \
                a leaked kubeconfig or an API vulnerability is exploitable from anywhere.",
            severity: HIGH,
            area: Area::InfrastructureProtection,
            cis: None,
            security_hub: &["EKS.1"],
            remediation: "aws eks update-cluster-config --name CLUSTER --resources-vpc-config \
                endpointPublicAccess=false,endpointPrivateAccess=true",
            remediation_action: None,
        },
        eval: eks_private,
    },
];

fn instance_ref(
    out: &Out,
    account: &AccountSnapshot,
    region: &RegionSnapshot,
    id: &str,
) -> ResourceRef {
    let arn = arn(
        out,
        "ec2",
        &region.region,
        &account.account_id,
        &format!("instance/{id}"),
    );
    resource("AWS::EC2::Instance", arn, account, &region.region)
}

fn sg_ref(
    out: &Out,
    account: &AccountSnapshot,
    region: &RegionSnapshot,
    group: &SecurityGroup,
) -> ResourceRef {
    let arn = arn(
        out,
        "ec2",
        &region.region,
        &account.account_id,
        &format!("security-group/{}", group.group_id),
    );
    resource("AWS::EC2::SecurityGroup", arn, account, &region.region)
}

fn nacl_admin_ports(ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    let ports = &ctx.opts.thresholds.admin_ports;
    each_regional(
        out,
        account,
        "ec2:DescribeNetworkAcls",
        "network ACLs",
        |r| &r.network.network_acls,
        |out, region, acl| {
            let id = arn(
                out,
                "ec2",
                &region.region,
                &account.account_id,
                &format!("network-acl/{}", acl.network_acl_id),
            );
            let here = resource("AWS::EC2::NetworkAcl", id, account, &region.region);
            let open = nacl_open_ports(acl, ports);
            if open.is_empty() {
                out.pass(
                    here,
                    format!(
                        "{} does not admit the internet to admin ports.",
                        acl.network_acl_id
                    ),
                );
            } else {
                let list: Vec<String> = open
                    .iter()
                    .map(|(port, rule)| format!("{port} (rule {rule})"))
                    .collect();
                out.fail(
                    here,
                    format!(
                        "{} admits the internet to {}.",
                        acl.network_acl_id,
                        join(&list)
                    ),
                    json!({ "open": list }),
                );
            }
        },
    );
}

fn sg_exposure(
    ctx: &Ctx<'_>,
    account: &AccountSnapshot,
    out: &mut Out,
    internet: Internet,
    ports: &[u16],
    what: &str,
) {
    let _ = ctx;
    each_regional(
        out,
        account,
        "ec2:DescribeSecurityGroups",
        "security groups",
        |r| &r.network.security_groups,
        |out, region, group| {
            let here = sg_ref(out, account, region, group);
            let open = admin_exposure(group, ports, internet);
            if open.is_empty() {
                out.pass(
                    here,
                    format!(
                        "{} does not open {what} to {}.",
                        group.group_id,
                        internet.label()
                    ),
                );
            } else {
                let list: Vec<String> = open.iter().map(u16::to_string).collect();
                let reason = format!(
                    "{} opens port(s) {} to {}.",
                    group.group_id,
                    join(&list),
                    internet.label()
                );
                out.fail(
                    here,
                    reason,
                    json!({ "ports": open, "source": internet.label() }),
                );
            }
        },
    );
}

fn sg_admin_ipv4(ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    sg_exposure(
        ctx,
        account,
        out,
        Internet::V4,
        &ctx.opts.thresholds.admin_ports,
        "admin ports",
    );
}

fn sg_admin_ipv6(ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    sg_exposure(
        ctx,
        account,
        out,
        Internet::V6,
        &ctx.opts.thresholds.admin_ports,
        "admin ports",
    );
}

fn sg_high_risk(ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    let ports = &ctx.opts.thresholds.high_risk_ports;
    each_regional(
        out,
        account,
        "ec2:DescribeSecurityGroups",
        "security groups",
        |r| &r.network.security_groups,
        |out, region, group| {
            let here = sg_ref(out, account, region, group);
            let mut open: Vec<u16> = admin_exposure(group, ports, Internet::V4);
            open.extend(admin_exposure(group, ports, Internet::V6));
            open.sort_unstable();
            open.dedup();
            if open.is_empty() {
                out.pass(
                    here,
                    format!(
                        "{} opens no high-risk port to the internet.",
                        group.group_id
                    ),
                );
            } else {
                let list: Vec<String> = open.iter().map(u16::to_string).collect();
                out.fail(
                    here,
                    format!(
                        "{} opens high-risk port(s) {} to the internet.",
                        group.group_id,
                        join(&list)
                    ),
                    json!({ "ports": open }),
                );
            }
        },
    );
}

fn default_sg_closed(_ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    each_regional(
        out,
        account,
        "ec2:DescribeSecurityGroups",
        "default security groups",
        |r| &r.network.security_groups,
        |out, region, group| {
            if group.group_name != "default" {
                return;
            }
            let rules = group.ip_permissions.len() + group.ip_permissions_egress.len();
            let vpc = group.vpc_id.as_deref().unwrap_or("EC2-Classic");
            out.judge(
                sg_ref(out, account, region, group),
                rules == 0,
                format!("The default group of {vpc} has no rules."),
                format!("The default group of {vpc} has {rules} rule set(s)."),
            );
        },
    );
}

fn peering_least_access(_ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    each_regional(
        out,
        account,
        "ec2:DescribeRouteTables",
        "route tables with peering routes",
        |r| &r.network.route_tables,
        |out, region, table| {
            if table
                .routes
                .iter()
                .all(|r| r.vpc_peering_connection_id.is_none())
            {
                return;
            }
            let id = arn(
                out,
                "ec2",
                &region.region,
                &account.account_id,
                &format!("route-table/{}", table.route_table_id),
            );
            let here = resource("AWS::EC2::RouteTable", id, account, &region.region);
            match region
                .network
                .vpc_peering_connections
                .get("ec2:DescribeVpcPeeringConnections")
            {
                Err(gap) => out.unknown(here, gap),
                Ok(peerings) => {
                    let by_id: HashMap<&str, _> = peerings
                        .iter()
                        .map(|p| (p.vpc_peering_connection_id.as_str(), p))
                        .collect();
                    let problems = peering_route_problems(table, &by_id);
                    if problems.is_empty() {
                        out.pass(
                            here,
                            format!(
                                "{}'s peering routes stay within the peer VPCs.",
                                table.route_table_id
                            ),
                        );
                    } else {
                        out.fail(
                            here,
                            format!("{}: {}.", table.route_table_id, join(&problems)),
                            json!({ "routes": problems }),
                        );
                    }
                }
            }
        },
    );
}

fn live(state: &str) -> bool {
    !matches!(state, "terminated" | "shutting-down")
}

fn imdsv2(_ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    each_regional(
        out,
        account,
        "ec2:DescribeInstances",
        "EC2 instances",
        |r| &r.compute.instances,
        |out, region, instance| {
            if !live(&instance.state) {
                return;
            }
            let options = instance.metadata_options.as_ref();
            let tokens = options.and_then(|o| o.http_tokens.as_deref());
            let disabled = options.and_then(|o| o.http_endpoint.as_deref()) == Some("disabled");
            let here = instance_ref(out, account, region, &instance.instance_id);
            if tokens == Some("required") || disabled {
                out.pass(
                    here,
                    format!(
                        "{} requires IMDSv2 (or has metadata disabled).",
                        instance.instance_id
                    ),
                );
            } else {
                let reason = format!(
                    "{} accepts IMDSv1 (HttpTokens {}).",
                    instance.instance_id,
                    tokens.unwrap_or("unset")
                );
                out.fail(here, reason, json!({ "http_tokens": tokens }));
            }
        },
    );
}

fn rds_private(_ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    each_regional(
        out,
        account,
        "rds:DescribeDBInstances",
        "RDS DB instances",
        |r| &r.services.db_instances,
        |out, region, db| {
            out.judge(
                resource(
                    "AWS::RDS::DBInstance",
                    db.db_instance_arn.clone(),
                    account,
                    &region.region,
                ),
                !db.publicly_accessible,
                format!("{} is not publicly accessible.", db.db_instance_identifier),
                format!("{} is publicly accessible.", db.db_instance_identifier),
            );
        },
    );
}

fn rds_minor_upgrades(_ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    each_regional(
        out,
        account,
        "rds:DescribeDBInstances",
        "RDS DB instances",
        |r| &r.services.db_instances,
        |out, region, db| {
            out.judge(
                resource(
                    "AWS::RDS::DBInstance",
                    db.db_instance_arn.clone(),
                    account,
                    &region.region,
                ),
                db.auto_minor_version_upgrade,
                format!(
                    "{} upgrades minor versions automatically.",
                    db.db_instance_identifier
                ),
                format!(
                    "{} has automatic minor version upgrades off.",
                    db.db_instance_identifier
                ),
            );
        },
    );
}

fn ssm_managed(_ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    each_regional(
        out,
        account,
        "ec2:DescribeInstances",
        "EC2 instances",
        |r| &r.compute.instances,
        |out, region, instance| {
            if !live(&instance.state) {
                return;
            }
            let here = instance_ref(out, account, region, &instance.instance_id);
            match region
                .compute
                .ssm_managed_instances
                .get("ssm:DescribeInstanceInformation")
            {
                Err(gap) => out.unknown(here, gap),
                Ok(managed) => {
                    let known = managed
                        .iter()
                        .any(|m| m.instance_id == instance.instance_id);
                    out.judge(
                        here,
                        known,
                        format!("{} is managed by Systems Manager.", instance.instance_id),
                        format!(
                            "{} is not registered with Systems Manager.",
                            instance.instance_id
                        ),
                    );
                }
            }
        },
    );
}

fn no_public_ips(_ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    each_regional(
        out,
        account,
        "ec2:DescribeInstances",
        "EC2 instances or subnets",
        |r| &r.compute.instances,
        |out, region, instance| {
            if !live(&instance.state) {
                return;
            }
            let here = instance_ref(out, account, region, &instance.instance_id);
            match &instance.public_ip_address {
                Some(ip) => out.fail(
                    here,
                    format!("{} has public IP {ip}.", instance.instance_id),
                    json!({ "public_ip": ip }),
                ),
                None => out.pass(here, format!("{} has no public IP.", instance.instance_id)),
            }
        },
    );
    for region in &account.regions {
        match region.network.subnets.get("ec2:DescribeSubnets") {
            Err(gap) => out.unknown(super::support::account_ref(account, &region.region), gap),
            Ok(subnets) => {
                for subnet in subnets {
                    let id = subnet.subnet_arn.clone().unwrap_or_else(|| {
                        arn(
                            out,
                            "ec2",
                            &region.region,
                            &account.account_id,
                            &format!("subnet/{}", subnet.subnet_id),
                        )
                    });
                    out.judge(
                        resource("AWS::EC2::Subnet", id, account, &region.region),
                        !subnet.map_public_ip_on_launch,
                        format!("{} does not auto-assign public IPs.", subnet.subnet_id),
                        format!("{} auto-assigns public IPs on launch.", subnet.subnet_id),
                    );
                }
            }
        }
    }
}

fn lambda_not_public(ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    let trusted = super::readiness::trusted_accounts(ctx);
    each_regional(
        out,
        account,
        "lambda:ListFunctions",
        "Lambda functions",
        |r| &r.compute.lambda_functions,
        |out, region, function| {
            let here = resource(
                "AWS::Lambda::Function",
                function.function_arn.clone(),
                account,
                &region.region,
            );
            let policy = match function.policy.get("lambda:GetPolicy") {
                Err(gap) => return out.unknown(here, gap),
                Ok(None) => {
                    return out.pass(
                        here,
                        format!("{} has no resource policy.", function.function_name),
                    )
                }
                Ok(Some(policy)) => policy,
            };
            let query = PolicyQuery {
                kind: PolicyResourceKind::LambdaFunction,
                resource_arn: &function.function_arn,
                owner_account: &account.account_id,
                trusted_accounts: &trusted,
            };
            match ctx.opts.policy.resource_policy(policy, &query) {
                Err(why) => out.unknown(here, why),
                Ok(verdict) if verdict.exposure == Exposure::Public => {
                    let why: Vec<String> = verdict
                        .grants
                        .iter()
                        .map(|g| g.explanation.clone())
                        .collect();
                    out.fail(
                        here,
                        format!(
                            "{} can be invoked by anyone: {}.",
                            function.function_name,
                            join(&why)
                        ),
                        json!({ "grants": verdict.grants }),
                    )
                }
                Ok(verdict) => out.pass(
                    here,
                    format!(
                        "{}'s policy is not public ({:?}).",
                        function.function_name, verdict.exposure
                    ),
                ),
            }
        },
    );
}

fn eks_private(_ctx: &Ctx<'_>, account: &AccountSnapshot, out: &mut Out) {
    each_regional(
        out,
        account,
        "eks:DescribeCluster",
        "EKS clusters",
        |r| &r.compute.eks_clusters,
        |out, region, cluster| {
            let here = resource(
                "AWS::EKS::Cluster",
                cluster.arn.clone(),
                account,
                &region.region,
            );
            if !cluster.endpoint_public_access {
                return out.pass(here, format!("{}'s API endpoint is private.", cluster.name));
            }
            let open = cluster.public_access_cidrs.is_empty()
                || cluster
                    .public_access_cidrs
                    .iter()
                    .any(|c| c.parse::<IpNet>().is_ok_and(|n| n.prefix_len() == 0));
            let scope = if open {
                "any address".to_string()
            } else {
                join(&cluster.public_access_cidrs)
            };
            out.fail(
                here,
                format!(
                    "{}'s API endpoint is public (reachable from {scope}).",
                    cluster.name
                ),
                json!({ "public_access_cidrs": cluster.public_access_cidrs }),
            );
        },
    );
}
