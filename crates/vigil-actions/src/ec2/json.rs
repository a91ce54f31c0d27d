//! EC2 SDK types as JSON for evidence and before/after state.
//!
//! The SDK's types do not implement `serde::Serialize` (only behind an unstable cfg), so the
//! fields a responder needs are written out here, named as in the EC2 API.

use aws_sdk_ec2::types::{
    Instance, IpPermission, NetworkInterface, SecurityGroup, Snapshot, Volume,
};
use serde_json::{json, Value};

use crate::common::{ec2_tags, tags_json};

fn time(t: Option<&aws_smithy_types::DateTime>) -> Value {
    match t.and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok()) {
        Some(s) => Value::String(s),
        None => Value::Null,
    }
}

fn opt(s: Option<&str>) -> Value {
    s.map(|s| Value::String(s.to_string()))
        .unwrap_or(Value::Null)
}

/// An instance: identity, placement, network, profile, storage, metadata options, tags.
pub fn instance(i: &Instance) -> Value {
    json!({
        "InstanceId": opt(i.instance_id()),
        "InstanceType": i.instance_type().map(|t| t.as_str()),
        "ImageId": opt(i.image_id()),
        "State": i.state().and_then(|s| s.name()).map(|s| s.as_str()),
        "LaunchTime": time(i.launch_time()),
        "Architecture": i.architecture().map(|a| a.as_str()),
        "PlatformDetails": opt(i.platform_details()),
        "KeyName": opt(i.key_name()),
        "VpcId": opt(i.vpc_id()),
        "SubnetId": opt(i.subnet_id()),
        "AvailabilityZone": opt(i.placement().and_then(|p| p.availability_zone())),
        "PrivateIpAddress": opt(i.private_ip_address()),
        "PrivateDnsName": opt(i.private_dns_name()),
        "PublicIpAddress": opt(i.public_ip_address()),
        "PublicDnsName": opt(i.public_dns_name()),
        "IamInstanceProfile": i.iam_instance_profile().map(|p| json!({
            "Arn": opt(p.arn()), "Id": opt(p.id()),
        })),
        "SecurityGroups": i.security_groups().iter().map(|g| json!({
            "GroupId": opt(g.group_id()), "GroupName": opt(g.group_name()),
        })).collect::<Vec<_>>(),
        "NetworkInterfaces": i.network_interfaces().iter().map(|n| json!({
            "NetworkInterfaceId": opt(n.network_interface_id()),
            "SubnetId": opt(n.subnet_id()),
            "MacAddress": opt(n.mac_address()),
            "PrivateIpAddresses": n.private_ip_addresses().iter()
                .filter_map(|a| a.private_ip_address()).collect::<Vec<_>>(),
            "PublicIp": opt(n.association().and_then(|a| a.public_ip())),
            "Groups": n.groups().iter().filter_map(|g| g.group_id()).collect::<Vec<_>>(),
            "DeviceIndex": n.attachment().and_then(|a| a.device_index()),
        })).collect::<Vec<_>>(),
        "BlockDeviceMappings": i.block_device_mappings().iter().map(|b| json!({
            "DeviceName": opt(b.device_name()),
            "VolumeId": opt(b.ebs().and_then(|e| e.volume_id())),
            "DeleteOnTermination": b.ebs().and_then(|e| e.delete_on_termination()),
        })).collect::<Vec<_>>(),
        "RootDeviceName": opt(i.root_device_name()),
        "MetadataOptions": i.metadata_options().map(|m| json!({
            "HttpTokens": m.http_tokens().map(|t| t.as_str()),
            "HttpEndpoint": m.http_endpoint().map(|t| t.as_str()),
            "HttpPutResponseHopLimit": m.http_put_response_hop_limit(),
        })),
        "Tags": tags_json(&ec2_tags(i.tags())),
    })
}

/// An EBS volume.
pub fn volume(v: &Volume) -> Value {
    json!({
        "VolumeId": opt(v.volume_id()),
        "Size": v.size(),
        "VolumeType": v.volume_type().map(|t| t.as_str()),
        "State": v.state().map(|s| s.as_str()),
        "Encrypted": v.encrypted(),
        "KmsKeyId": opt(v.kms_key_id()),
        "SnapshotId": opt(v.snapshot_id()),
        "AvailabilityZone": opt(v.availability_zone()),
        "CreateTime": time(v.create_time()),
        "Attachments": v.attachments().iter().map(|a| json!({
            "InstanceId": opt(a.instance_id()),
            "Device": opt(a.device()),
            "State": a.state().map(|s| s.as_str()),
            "DeleteOnTermination": a.delete_on_termination(),
        })).collect::<Vec<_>>(),
        "Tags": tags_json(&ec2_tags(v.tags())),
    })
}

/// A network interface.
pub fn network_interface(n: &NetworkInterface) -> Value {
    json!({
        "NetworkInterfaceId": opt(n.network_interface_id()),
        "SubnetId": opt(n.subnet_id()),
        "VpcId": opt(n.vpc_id()),
        "MacAddress": opt(n.mac_address()),
        "Status": n.status().map(|s| s.as_str()),
        "SourceDestCheck": n.source_dest_check(),
        "PrivateIpAddresses": n.private_ip_addresses().iter()
            .filter_map(|a| a.private_ip_address()).collect::<Vec<_>>(),
        "PublicIp": opt(n.association().and_then(|a| a.public_ip())),
        "Ipv6Addresses": n.ipv6_addresses().iter()
            .filter_map(|a| a.ipv6_address()).collect::<Vec<_>>(),
        "Groups": n.groups().iter().map(|g| json!({
            "GroupId": opt(g.group_id()), "GroupName": opt(g.group_name()),
        })).collect::<Vec<_>>(),
        "Attachment": n.attachment().map(|a| json!({
            "AttachmentId": opt(a.attachment_id()),
            "InstanceId": opt(a.instance_id()),
            "DeviceIndex": a.device_index(),
        })),
        "Tags": tags_json(&ec2_tags(n.tag_set())),
    })
}

/// A security group rule.
pub fn ip_permission(p: &IpPermission) -> Value {
    json!({
        "IpProtocol": opt(p.ip_protocol()),
        "FromPort": p.from_port(),
        "ToPort": p.to_port(),
        "IpRanges": p.ip_ranges().iter().filter_map(|r| r.cidr_ip()).collect::<Vec<_>>(),
        "Ipv6Ranges": p.ipv6_ranges().iter().filter_map(|r| r.cidr_ipv6()).collect::<Vec<_>>(),
        "UserIdGroupPairs": p.user_id_group_pairs().iter()
            .filter_map(|g| g.group_id()).collect::<Vec<_>>(),
        "PrefixListIds": p.prefix_list_ids().iter()
            .filter_map(|l| l.prefix_list_id()).collect::<Vec<_>>(),
    })
}

/// A security group and its rules.
pub fn security_group(g: &SecurityGroup) -> Value {
    json!({
        "GroupId": opt(g.group_id()),
        "GroupName": opt(g.group_name()),
        "Description": opt(g.description()),
        "VpcId": opt(g.vpc_id()),
        "IpPermissions": g.ip_permissions().iter().map(ip_permission).collect::<Vec<_>>(),
        "IpPermissionsEgress": g.ip_permissions_egress().iter().map(ip_permission).collect::<Vec<_>>(),
        "Tags": tags_json(&ec2_tags(g.tags())),
    })
}

/// An EBS snapshot.
pub fn snapshot(s: &Snapshot) -> Value {
    json!({
        "SnapshotId": opt(s.snapshot_id()),
        "VolumeId": opt(s.volume_id()),
        "State": s.state().map(|x| x.as_str()),
        "StartTime": time(s.start_time()),
        "Description": opt(s.description()),
        "Encrypted": s.encrypted(),
        "KmsKeyId": opt(s.kms_key_id()),
        "VolumeSize": s.volume_size(),
        "Tags": tags_json(&ec2_tags(s.tags())),
    })
}
