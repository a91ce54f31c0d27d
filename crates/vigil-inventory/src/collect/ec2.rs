//! EC2: the network inventory and the EC2 part of compute, per region.

use std::collections::BTreeMap;

use aws_config::SdkConfig;
use aws_sdk_ec2::types as ec2;
use aws_sdk_ec2::Client;
use futures_util::future::join_all;
use vigil_posture::snapshot::{
    ComputeData, CreateVolumePermission, EbsSnapshot, FlowLog, Image, Instance, IpPermission,
    MetadataOptions, NaclEntry, NetworkAcl, NetworkData, PeeringVpcInfo, Route, RouteTable,
    SecurityGroup, Subnet, Volume, Vpc, VpcPeeringConnection,
};
use vigil_posture::Collected;

use crate::call::{collected, Group};
use crate::convert::{opt, opt_time, text};
use crate::run::Env;

/// Network data and the EC2 fields of compute data.
pub(crate) async fn collect(
    env: &Env,
    cfg: &SdkConfig,
    region: &str,
) -> (NetworkData, ComputeData) {
    let Some(g) = env.group("ec2", region) else {
        return Default::default();
    };
    let c = Client::new(cfg);
    let (vpcs, subnets, security_groups, network_acls, route_tables, peering, flow_logs) = tokio::join!(
        g.pages(
            "DescribeVpcs",
            c.describe_vpcs().into_paginator().send(),
            |p| { p.vpcs.unwrap_or_default().iter().map(vpc).collect() }
        ),
        g.pages(
            "DescribeSubnets",
            c.describe_subnets().into_paginator().send(),
            |p| { p.subnets.unwrap_or_default().iter().map(subnet).collect() }
        ),
        g.pages(
            "DescribeSecurityGroups",
            c.describe_security_groups().into_paginator().send(),
            |p| {
                p.security_groups
                    .unwrap_or_default()
                    .iter()
                    .map(security_group)
                    .collect()
            }
        ),
        g.pages(
            "DescribeNetworkAcls",
            c.describe_network_acls().into_paginator().send(),
            |p| {
                p.network_acls
                    .unwrap_or_default()
                    .iter()
                    .map(network_acl)
                    .collect()
            }
        ),
        g.pages(
            "DescribeRouteTables",
            c.describe_route_tables().into_paginator().send(),
            |p| {
                p.route_tables
                    .unwrap_or_default()
                    .iter()
                    .map(route_table)
                    .collect()
            }
        ),
        g.pages(
            "DescribeVpcPeeringConnections",
            c.describe_vpc_peering_connections().into_paginator().send(),
            |p| p
                .vpc_peering_connections
                .unwrap_or_default()
                .iter()
                .map(peering_connection)
                .collect()
        ),
        g.pages(
            "DescribeFlowLogs",
            c.describe_flow_logs().into_paginator().send(),
            |p| {
                p.flow_logs
                    .unwrap_or_default()
                    .iter()
                    .map(flow_log)
                    .collect()
            }
        ),
    );
    let network = NetworkData {
        vpcs: collected(vpcs),
        subnets: collected(subnets),
        security_groups: collected(security_groups),
        network_acls: collected(network_acls),
        route_tables: collected(route_tables),
        vpc_peering_connections: collected(peering),
        flow_logs: collected(flow_logs),
    };
    let (instances, defaults, ebs_default, volumes, snapshots, images) = tokio::join!(
        instances(&g, &c),
        g.call(
            "GetInstanceMetadataDefaults",
            c.get_instance_metadata_defaults().send()
        ),
        g.call(
            "GetEbsEncryptionByDefault",
            c.get_ebs_encryption_by_default().send()
        ),
        g.pages(
            "DescribeVolumes",
            c.describe_volumes().into_paginator().send(),
            |p| { p.volumes.unwrap_or_default().iter().map(volume).collect() }
        ),
        snapshots(&g, &c),
        g.call("DescribeImages", c.describe_images().owners("self").send()),
    );
    let compute = ComputeData {
        instances: collected(instances),
        instance_metadata_defaults: collected(defaults.map(|out| {
            out.account_level().map(|d| MetadataOptions {
                http_tokens: d.http_tokens().map(|v| v.as_str().to_string()),
                http_endpoint: d.http_endpoint().map(|v| v.as_str().to_string()),
                http_put_response_hop_limit: d.http_put_response_hop_limit(),
            })
        })),
        ebs_encryption_by_default: collected(
            ebs_default.map(|out| out.ebs_encryption_by_default().unwrap_or(false)),
        ),
        volumes: collected(volumes),
        snapshots,
        images: collected(images.map(|out| out.images().iter().map(image).collect())),
        ..ComputeData::default()
    };
    (network, compute)
}

fn tags(tags: &[ec2::Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| Some((t.key()?.to_string(), text(t.value()))))
        .collect()
}

fn vpc(v: &ec2::Vpc) -> Vpc {
    Vpc {
        vpc_id: text(v.vpc_id()),
        is_default: v.is_default().unwrap_or(false),
        cidr_block: opt(v.cidr_block()),
        cidr_blocks: v
            .cidr_block_association_set()
            .iter()
            .filter_map(|a| a.cidr_block().map(str::to_string))
            .collect(),
        owner_id: opt(v.owner_id()),
    }
}

fn subnet(s: &ec2::Subnet) -> Subnet {
    Subnet {
        subnet_id: text(s.subnet_id()),
        subnet_arn: opt(s.subnet_arn()),
        vpc_id: text(s.vpc_id()),
        map_public_ip_on_launch: s.map_public_ip_on_launch().unwrap_or(false),
        default_for_az: s.default_for_az().unwrap_or(false),
    }
}

fn security_group(g: &ec2::SecurityGroup) -> SecurityGroup {
    SecurityGroup {
        group_id: text(g.group_id()),
        group_name: text(g.group_name()),
        vpc_id: opt(g.vpc_id()),
        description: text(g.description()),
        ip_permissions: g.ip_permissions().iter().map(ip_permission).collect(),
        ip_permissions_egress: g
            .ip_permissions_egress()
            .iter()
            .map(ip_permission)
            .collect(),
        tags: tags(g.tags()),
    }
}

fn ip_permission(p: &ec2::IpPermission) -> IpPermission {
    IpPermission {
        ip_protocol: text(p.ip_protocol()),
        from_port: p.from_port(),
        to_port: p.to_port(),
        ip_ranges: p
            .ip_ranges()
            .iter()
            .filter_map(|r| opt(r.cidr_ip()))
            .collect(),
        ipv6_ranges: p
            .ipv6_ranges()
            .iter()
            .filter_map(|r| opt(r.cidr_ipv6()))
            .collect(),
        user_id_group_pairs: p
            .user_id_group_pairs()
            .iter()
            .filter_map(|g| opt(g.group_id()))
            .collect(),
        prefix_list_ids: p
            .prefix_list_ids()
            .iter()
            .filter_map(|l| opt(l.prefix_list_id()))
            .collect(),
    }
}

fn network_acl(n: &ec2::NetworkAcl) -> NetworkAcl {
    NetworkAcl {
        network_acl_id: text(n.network_acl_id()),
        vpc_id: text(n.vpc_id()),
        is_default: n.is_default().unwrap_or(false),
        entries: n
            .entries()
            .iter()
            .map(|e| NaclEntry {
                rule_number: e.rule_number().unwrap_or_default(),
                protocol: text(e.protocol()),
                rule_action: e
                    .rule_action()
                    .map(|a| a.as_str().to_string())
                    .unwrap_or_default(),
                egress: e.egress().unwrap_or(false),
                cidr_block: opt(e.cidr_block()),
                ipv6_cidr_block: opt(e.ipv6_cidr_block()),
                port_from: e.port_range().and_then(|r| r.from()),
                port_to: e.port_range().and_then(|r| r.to()),
            })
            .collect(),
        subnet_ids: n
            .associations()
            .iter()
            .filter_map(|a| opt(a.subnet_id()))
            .collect(),
    }
}

fn route_table(t: &ec2::RouteTable) -> RouteTable {
    RouteTable {
        route_table_id: text(t.route_table_id()),
        vpc_id: text(t.vpc_id()),
        routes: t
            .routes()
            .iter()
            .map(|r| Route {
                destination_cidr_block: opt(r.destination_cidr_block()),
                destination_ipv6_cidr_block: opt(r.destination_ipv6_cidr_block()),
                vpc_peering_connection_id: opt(r.vpc_peering_connection_id()),
                gateway_id: opt(r.gateway_id()),
            })
            .collect(),
    }
}

fn peering_side(v: Option<&ec2::VpcPeeringConnectionVpcInfo>) -> PeeringVpcInfo {
    let Some(v) = v else {
        return PeeringVpcInfo::default();
    };
    let mut cidr_blocks: Vec<String> = v
        .cidr_block_set()
        .iter()
        .filter_map(|c| opt(c.cidr_block()))
        .collect();
    if cidr_blocks.is_empty() {
        cidr_blocks.extend(opt(v.cidr_block()));
    }
    PeeringVpcInfo {
        vpc_id: text(v.vpc_id()),
        owner_id: text(v.owner_id()),
        region: opt(v.region()),
        cidr_blocks,
    }
}

fn peering_connection(p: &ec2::VpcPeeringConnection) -> VpcPeeringConnection {
    VpcPeeringConnection {
        vpc_peering_connection_id: text(p.vpc_peering_connection_id()),
        status: p
            .status()
            .and_then(|s| s.code())
            .map(|c| c.as_str().to_string())
            .unwrap_or_default(),
        requester: peering_side(p.requester_vpc_info()),
        accepter: peering_side(p.accepter_vpc_info()),
    }
}

fn flow_log(f: &ec2::FlowLog) -> FlowLog {
    FlowLog {
        flow_log_id: text(f.flow_log_id()),
        resource_id: text(f.resource_id()),
        flow_log_status: text(f.flow_log_status()),
        traffic_type: f
            .traffic_type()
            .map(|t| t.as_str().to_string())
            .unwrap_or_default(),
        log_destination_type: f.log_destination_type().map(|t| t.as_str().to_string()),
    }
}

async fn instances(g: &Group, c: &Client) -> Result<Vec<Instance>, crate::call::CallError> {
    let not_terminated = ec2::Filter::builder()
        .name("instance-state-name")
        .set_values(Some(
            ["pending", "running", "shutting-down", "stopping", "stopped"]
                .map(String::from)
                .to_vec(),
        ))
        .build();
    let pages = c
        .describe_instances()
        .filters(not_terminated)
        .into_paginator()
        .send();
    g.pages("DescribeInstances", pages, |p| {
        p.reservations
            .unwrap_or_default()
            .iter()
            .flat_map(|r| r.instances().iter().map(instance))
            .collect()
    })
    .await
}

fn instance(i: &ec2::Instance) -> Instance {
    Instance {
        instance_id: text(i.instance_id()),
        state: i
            .state()
            .and_then(|s| s.name())
            .map(|n| n.as_str().to_string())
            .unwrap_or_default(),
        vpc_id: opt(i.vpc_id()),
        subnet_id: opt(i.subnet_id()),
        image_id: opt(i.image_id()),
        launch_time: opt_time(i.launch_time()),
        iam_instance_profile_arn: i.iam_instance_profile().and_then(|p| opt(p.arn())),
        public_ip_address: opt(i.public_ip_address()),
        metadata_options: i.metadata_options().map(|m| MetadataOptions {
            http_tokens: m.http_tokens().map(|v| v.as_str().to_string()),
            http_endpoint: m.http_endpoint().map(|v| v.as_str().to_string()),
            http_put_response_hop_limit: m.http_put_response_hop_limit(),
        }),
        security_group_ids: i
            .security_groups()
            .iter()
            .filter_map(|g| opt(g.group_id()))
            .collect(),
        tags: tags(i.tags()),
    }
}

fn volume(v: &ec2::Volume) -> Volume {
    Volume {
        volume_id: text(v.volume_id()),
        encrypted: v.encrypted().unwrap_or(false),
        kms_key_id: opt(v.kms_key_id()),
        state: v
            .state()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        attached_instance_ids: v
            .attachments()
            .iter()
            .filter_map(|a| opt(a.instance_id()))
            .collect(),
    }
}

/// The account's own snapshots, each with its createVolumePermission attribute.
async fn snapshots(g: &Group, c: &Client) -> Collected<Vec<EbsSnapshot>> {
    let pages = c
        .describe_snapshots()
        .owner_ids("self")
        .into_paginator()
        .send();
    let listed = match g
        .pages("DescribeSnapshots", pages, |p| {
            p.snapshots.unwrap_or_default()
        })
        .await
    {
        Ok(listed) => listed,
        Err(err) => return err.collected(),
    };
    let detailed = listed.iter().map(|s| async move {
        let id = text(s.snapshot_id());
        let attribute = g
            .call(
                "DescribeSnapshotAttribute",
                c.describe_snapshot_attribute()
                    .snapshot_id(&id)
                    .attribute(ec2::SnapshotAttributeName::CreateVolumePermission)
                    .send(),
            )
            .await
            .map(|out| {
                out.create_volume_permissions()
                    .iter()
                    .map(|p| CreateVolumePermission {
                        group: p.group().map(|g| g.as_str().to_string()),
                        user_id: opt(p.user_id()),
                    })
                    .collect()
            });
        EbsSnapshot {
            snapshot_id: id,
            volume_id: opt(s.volume_id()),
            encrypted: s.encrypted().unwrap_or(false),
            start_time: opt_time(s.start_time()),
            create_volume_permissions: collected(attribute),
        }
    });
    Collected::Ok(join_all(detailed).await)
}

fn image(i: &ec2::Image) -> Image {
    Image {
        image_id: text(i.image_id()),
        name: opt(i.name()),
        // DescribeImages gives CreationDate as ISO 8601 text.
        creation_date: i
            .creation_date()
            .and_then(|d| chrono::DateTime::parse_from_rfc3339(d).ok())
            .map(|d| d.with_timezone(&chrono::Utc)),
        state: i
            .state()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        public: i.public().unwrap_or(false),
        tags: tags(i.tags()),
    }
}
