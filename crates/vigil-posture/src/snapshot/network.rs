//! EC2 networking, per region.

use serde::{Deserialize, Serialize};

use super::Collected;

/// The network inventory of one region.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct NetworkData {
    /// ec2:DescribeVpcs.
    pub vpcs: Collected<Vec<Vpc>>,
    /// ec2:DescribeSubnets.
    pub subnets: Collected<Vec<Subnet>>,
    /// ec2:DescribeSecurityGroups.
    pub security_groups: Collected<Vec<SecurityGroup>>,
    /// ec2:DescribeNetworkAcls.
    pub network_acls: Collected<Vec<NetworkAcl>>,
    /// ec2:DescribeRouteTables.
    pub route_tables: Collected<Vec<RouteTable>>,
    /// ec2:DescribeVpcPeeringConnections.
    pub vpc_peering_connections: Collected<Vec<VpcPeeringConnection>>,
    /// ec2:DescribeFlowLogs.
    pub flow_logs: Collected<Vec<FlowLog>>,
}

/// ec2:DescribeVpcs → Vpc.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct Vpc {
    /// VpcId.
    pub vpc_id: String,
    /// IsDefault.
    pub is_default: bool,
    /// CidrBlock (primary IPv4).
    pub cidr_block: Option<String>,
    /// CidrBlockAssociationSet[].CidrBlock (all IPv4 CIDRs, the primary included).
    pub cidr_blocks: Vec<String>,
    /// OwnerId.
    pub owner_id: Option<String>,
}

/// ec2:DescribeSubnets → Subnet.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct Subnet {
    /// SubnetId.
    pub subnet_id: String,
    /// SubnetArn.
    pub subnet_arn: Option<String>,
    /// VpcId.
    pub vpc_id: String,
    /// MapPublicIpOnLaunch.
    pub map_public_ip_on_launch: bool,
    /// DefaultForAz.
    pub default_for_az: bool,
}

/// ec2:DescribeSecurityGroups → SecurityGroup.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct SecurityGroup {
    /// GroupId.
    pub group_id: String,
    /// GroupName (`default` for a VPC's default group).
    pub group_name: String,
    /// VpcId.
    pub vpc_id: Option<String>,
    /// Description.
    pub description: String,
    /// IpPermissions (ingress).
    pub ip_permissions: Vec<IpPermission>,
    /// IpPermissionsEgress.
    pub ip_permissions_egress: Vec<IpPermission>,
    /// Tags, key → value.
    pub tags: std::collections::BTreeMap<String, String>,
}

/// One security group rule set (IpPermission).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct IpPermission {
    /// IpProtocol: `tcp`, `udp`, `icmp`, `-1` (all), or a number.
    pub ip_protocol: String,
    /// FromPort (absent for all protocols).
    pub from_port: Option<i32>,
    /// ToPort.
    pub to_port: Option<i32>,
    /// IpRanges[].CidrIp.
    pub ip_ranges: Vec<String>,
    /// Ipv6Ranges[].CidrIpv6.
    pub ipv6_ranges: Vec<String>,
    /// UserIdGroupPairs[].GroupId.
    pub user_id_group_pairs: Vec<String>,
    /// PrefixListIds[].PrefixListId.
    pub prefix_list_ids: Vec<String>,
}

/// ec2:DescribeNetworkAcls → NetworkAcl.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct NetworkAcl {
    /// NetworkAclId.
    pub network_acl_id: String,
    /// VpcId.
    pub vpc_id: String,
    /// IsDefault.
    pub is_default: bool,
    /// Entries.
    pub entries: Vec<NaclEntry>,
    /// Associations[].SubnetId.
    pub subnet_ids: Vec<String>,
}

/// One NACL entry.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct NaclEntry {
    /// RuleNumber (32767 is the implicit deny).
    pub rule_number: i32,
    /// Protocol: `-1` (all), `6` (TCP), `17` (UDP), …
    pub protocol: String,
    /// RuleAction: `allow` or `deny`.
    pub rule_action: String,
    /// Egress.
    pub egress: bool,
    /// CidrBlock.
    pub cidr_block: Option<String>,
    /// Ipv6CidrBlock.
    pub ipv6_cidr_block: Option<String>,
    /// PortRange.From (absent = all ports).
    pub port_from: Option<i32>,
    /// PortRange.To.
    pub port_to: Option<i32>,
}

/// ec2:DescribeRouteTables → RouteTable.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct RouteTable {
    /// RouteTableId.
    pub route_table_id: String,
    /// VpcId.
    pub vpc_id: String,
    /// Routes.
    pub routes: Vec<Route>,
}

/// One route.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct Route {
    /// DestinationCidrBlock.
    pub destination_cidr_block: Option<String>,
    /// DestinationIpv6CidrBlock.
    pub destination_ipv6_cidr_block: Option<String>,
    /// VpcPeeringConnectionId.
    pub vpc_peering_connection_id: Option<String>,
    /// GatewayId.
    pub gateway_id: Option<String>,
}

/// ec2:DescribeVpcPeeringConnections → VpcPeeringConnection.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct VpcPeeringConnection {
    /// VpcPeeringConnectionId.
    pub vpc_peering_connection_id: String,
    /// Status.Code (`active`).
    pub status: String,
    /// RequesterVpcInfo.
    pub requester: PeeringVpcInfo,
    /// AccepterVpcInfo.
    pub accepter: PeeringVpcInfo,
}

/// One side of a peering connection.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct PeeringVpcInfo {
    /// VpcId.
    pub vpc_id: String,
    /// OwnerId.
    pub owner_id: String,
    /// Region.
    pub region: Option<String>,
    /// CidrBlockSet[].CidrBlock (CidrBlock when the set is absent).
    pub cidr_blocks: Vec<String>,
}

/// ec2:DescribeFlowLogs → FlowLog.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct FlowLog {
    /// FlowLogId.
    pub flow_log_id: String,
    /// ResourceId (VPC, subnet or ENI id).
    pub resource_id: String,
    /// FlowLogStatus (`ACTIVE`).
    pub flow_log_status: String,
    /// TrafficType: `ACCEPT`, `REJECT`, `ALL`.
    pub traffic_type: String,
    /// LogDestinationType: `cloud-watch-logs`, `s3`, `kinesis-data-firehose`.
    pub log_destination_type: Option<String>,
}
