//! Compute: EC2 instances, EBS, images, Systems Manager, Lambda, EKS — per region.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Collected;

/// The compute inventory of one region.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct ComputeData {
    /// ec2:DescribeInstances (every state but `terminated`).
    pub instances: Collected<Vec<Instance>>,
    /// ec2:GetInstanceMetadataDefaults → AccountLevel (`None` = no defaults set).
    pub instance_metadata_defaults: Collected<Option<MetadataOptions>>,
    /// ec2:GetEbsEncryptionByDefault → EbsEncryptionByDefault.
    pub ebs_encryption_by_default: Collected<bool>,
    /// ec2:DescribeVolumes.
    pub volumes: Collected<Vec<Volume>>,
    /// ec2:DescribeSnapshots(OwnerIds=self), each with DescribeSnapshotAttribute.
    pub snapshots: Collected<Vec<EbsSnapshot>>,
    /// ec2:DescribeImages(Owners=self).
    pub images: Collected<Vec<Image>>,
    /// ssm:DescribeInstanceInformation.
    pub ssm_managed_instances: Collected<Vec<ManagedInstance>>,
    /// lambda:ListFunctions, each with GetPolicy.
    pub lambda_functions: Collected<Vec<LambdaFunction>>,
    /// eks:ListClusters + DescribeCluster.
    pub eks_clusters: Collected<Vec<EksCluster>>,
}

/// ec2:DescribeInstances → Instance.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct Instance {
    /// InstanceId.
    pub instance_id: String,
    /// State.Name (`running`, `stopped`, …).
    pub state: String,
    /// VpcId.
    pub vpc_id: Option<String>,
    /// SubnetId.
    pub subnet_id: Option<String>,
    /// ImageId.
    pub image_id: Option<String>,
    /// LaunchTime.
    pub launch_time: Option<DateTime<Utc>>,
    /// IamInstanceProfile.Arn (`None` = no profile).
    pub iam_instance_profile_arn: Option<String>,
    /// PublicIpAddress.
    pub public_ip_address: Option<String>,
    /// MetadataOptions.
    pub metadata_options: Option<MetadataOptions>,
    /// SecurityGroups[].GroupId.
    pub security_group_ids: Vec<String>,
    /// Tags, key → value.
    pub tags: BTreeMap<String, String>,
}

/// Instance metadata service options (instance MetadataOptions or the account defaults).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct MetadataOptions {
    /// HttpTokens: `required` (IMDSv2 only) or `optional`.
    pub http_tokens: Option<String>,
    /// HttpEndpoint: `enabled` or `disabled`.
    pub http_endpoint: Option<String>,
    /// HttpPutResponseHopLimit.
    pub http_put_response_hop_limit: Option<i32>,
}

/// ec2:DescribeVolumes → Volume.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct Volume {
    /// VolumeId.
    pub volume_id: String,
    /// Encrypted.
    pub encrypted: bool,
    /// KmsKeyId.
    pub kms_key_id: Option<String>,
    /// State (`in-use`, `available`).
    pub state: String,
    /// Attachments[].InstanceId.
    pub attached_instance_ids: Vec<String>,
}

/// ec2:DescribeSnapshots → Snapshot, with its createVolumePermission attribute.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct EbsSnapshot {
    /// SnapshotId.
    pub snapshot_id: String,
    /// VolumeId.
    pub volume_id: Option<String>,
    /// Encrypted.
    pub encrypted: bool,
    /// StartTime.
    pub start_time: Option<DateTime<Utc>>,
    /// ec2:DescribeSnapshotAttribute(createVolumePermission) → CreateVolumePermissions.
    pub create_volume_permissions: Collected<Vec<CreateVolumePermission>>,
}

/// One createVolumePermission entry: `group = "all"` makes the snapshot public.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct CreateVolumePermission {
    /// Group (`all`).
    pub group: Option<String>,
    /// UserId (an account id).
    pub user_id: Option<String>,
}

/// ec2:DescribeImages → Image.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct Image {
    /// ImageId.
    pub image_id: String,
    /// Name.
    pub name: Option<String>,
    /// CreationDate.
    pub creation_date: Option<DateTime<Utc>>,
    /// State (`available`).
    pub state: String,
    /// Public.
    pub public: bool,
    /// Tags, key → value.
    pub tags: BTreeMap<String, String>,
}

/// ssm:DescribeInstanceInformation → InstanceInformation.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct ManagedInstance {
    /// InstanceId.
    pub instance_id: String,
    /// PingStatus: `Online`, `ConnectionLost`, `Inactive`.
    pub ping_status: String,
    /// LastPingDateTime.
    pub last_ping_date_time: Option<DateTime<Utc>>,
    /// AgentVersion.
    pub agent_version: Option<String>,
    /// PlatformName.
    pub platform_name: Option<String>,
}

/// lambda:ListFunctions → FunctionConfiguration, with GetPolicy.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct LambdaFunction {
    /// FunctionName.
    pub function_name: String,
    /// FunctionArn.
    pub function_arn: String,
    /// Runtime.
    pub runtime: Option<String>,
    /// lambda:GetPolicy → Policy JSON text (`None` = ResourceNotFoundException, no policy).
    pub policy: Collected<Option<String>>,
}

/// eks:DescribeCluster → Cluster.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct EksCluster {
    /// Name.
    pub name: String,
    /// Arn.
    pub arn: String,
    /// ResourcesVpcConfig.EndpointPublicAccess.
    pub endpoint_public_access: bool,
    /// ResourcesVpcConfig.EndpointPrivateAccess.
    pub endpoint_private_access: bool,
    /// ResourcesVpcConfig.PublicAccessCidrs.
    pub public_access_cidrs: Vec<String>,
}
