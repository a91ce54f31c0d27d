//! Data and edge services: RDS, EFS, KMS, Secrets Manager, load balancers, API Gateway
//! (per region), CloudFront (global).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Collected;

/// The data-service inventory of one region.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct ServicesData {
    /// rds:DescribeDBInstances.
    pub db_instances: Collected<Vec<DbInstance>>,
    /// rds:DescribeDBSnapshots(SnapshotType=manual), each with DescribeDBSnapshotAttributes.
    pub db_snapshots: Collected<Vec<DbSnapshot>>,
    /// rds:DescribeDBClusterSnapshots(SnapshotType=manual), each with
    /// DescribeDBClusterSnapshotAttributes.
    pub db_cluster_snapshots: Collected<Vec<DbSnapshot>>,
    /// efs:DescribeFileSystems.
    pub efs_file_systems: Collected<Vec<EfsFileSystem>>,
    /// kms:ListKeys, each with DescribeKey, GetKeyRotationStatus, GetKeyPolicy.
    pub kms_keys: Collected<Vec<KmsKey>>,
    /// secretsmanager:ListSecrets.
    pub secrets: Collected<Vec<Secret>>,
    /// elbv2:DescribeLoadBalancers, each with DescribeLoadBalancerAttributes.
    pub load_balancers: Collected<Vec<LoadBalancer>>,
    /// elb:DescribeLoadBalancers (classic), each with DescribeLoadBalancerAttributes.
    pub classic_load_balancers: Collected<Vec<ClassicLoadBalancer>>,
    /// apigateway:GetRestApis + GetStages.
    pub api_gateway_stages: Collected<Vec<ApiGatewayStage>>,
}

/// rds:DescribeDBInstances → DBInstance.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct DbInstance {
    /// DBInstanceIdentifier.
    pub db_instance_identifier: String,
    /// DBInstanceArn.
    pub db_instance_arn: String,
    /// Engine.
    pub engine: String,
    /// PubliclyAccessible.
    pub publicly_accessible: bool,
    /// AutoMinorVersionUpgrade.
    pub auto_minor_version_upgrade: bool,
    /// StorageEncrypted.
    pub storage_encrypted: bool,
    /// KmsKeyId.
    pub kms_key_id: Option<String>,
}

/// A manual DB (or cluster) snapshot with its `restore` attribute.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct DbSnapshot {
    /// DBSnapshotIdentifier / DBClusterSnapshotIdentifier.
    pub snapshot_identifier: String,
    /// DBSnapshotArn / DBClusterSnapshotArn.
    pub snapshot_arn: String,
    /// Encrypted / StorageEncrypted.
    pub encrypted: bool,
    /// Describe…SnapshotAttributes → the AttributeValues of `restore` (`all` = public).
    pub restore_attribute: Collected<Vec<String>>,
}

/// efs:DescribeFileSystems → FileSystemDescription.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct EfsFileSystem {
    /// FileSystemId.
    pub file_system_id: String,
    /// FileSystemArn.
    pub file_system_arn: String,
    /// Encrypted.
    pub encrypted: bool,
    /// KmsKeyId.
    pub kms_key_id: Option<String>,
}

/// kms:DescribeKey → KeyMetadata, with rotation status and key policy.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct KmsKey {
    /// KeyId.
    pub key_id: String,
    /// Arn.
    pub arn: String,
    /// KeyManager: `CUSTOMER` or `AWS`.
    pub key_manager: String,
    /// KeyState: `Enabled`, `Disabled`, `PendingDeletion`, …
    pub key_state: String,
    /// KeySpec (`SYMMETRIC_DEFAULT`, `RSA_2048`, …).
    pub key_spec: String,
    /// Origin: `AWS_KMS`, `EXTERNAL`, `AWS_CLOUDHSM`, `EXTERNAL_KEY_STORE`.
    pub origin: String,
    /// DeletionDate (for PendingDeletion).
    pub deletion_date: Option<DateTime<Utc>>,
    /// kms:GetKeyRotationStatus → KeyRotationEnabled.
    pub rotation_enabled: Collected<bool>,
    /// kms:GetKeyPolicy(PolicyName=default) → Policy JSON text.
    pub policy: Collected<String>,
}

/// secretsmanager:ListSecrets → SecretListEntry.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct Secret {
    /// ARN.
    pub arn: String,
    /// Name.
    pub name: String,
    /// RotationEnabled.
    pub rotation_enabled: bool,
    /// LastRotatedDate.
    pub last_rotated_date: Option<DateTime<Utc>>,
}

/// elbv2:DescribeLoadBalancers → LoadBalancer, with its attributes.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct LoadBalancer {
    /// LoadBalancerArn.
    pub load_balancer_arn: String,
    /// LoadBalancerName.
    pub load_balancer_name: String,
    /// Type: `application`, `network`, `gateway`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Scheme: `internet-facing` or `internal`.
    pub scheme: String,
    /// elbv2:DescribeLoadBalancerAttributes → Key → Value (`access_logs.s3.enabled`).
    pub attributes: Collected<std::collections::BTreeMap<String, String>>,
}

/// elb:DescribeLoadBalancers → LoadBalancerDescription, with AccessLog.Enabled.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct ClassicLoadBalancer {
    /// LoadBalancerName.
    pub load_balancer_name: String,
    /// Scheme.
    pub scheme: String,
    /// elb:DescribeLoadBalancerAttributes → AccessLog.Enabled.
    pub access_log_enabled: Collected<bool>,
}

/// apigateway:GetStages → Stage of a REST API.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct ApiGatewayStage {
    /// The REST API id.
    pub rest_api_id: String,
    /// The REST API name.
    pub rest_api_name: String,
    /// stageName.
    pub stage_name: String,
    /// methodSettings["*/*"].loggingLevel: `OFF`, `ERROR`, `INFO` (absent = OFF).
    pub logging_level: Option<String>,
    /// accessLogSettings.destinationArn.
    pub access_log_destination_arn: Option<String>,
}

/// cloudfront:ListDistributions + GetDistributionConfig (global).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct CloudFrontDistribution {
    /// Id.
    pub id: String,
    /// ARN.
    pub arn: String,
    /// DomainName.
    pub domain_name: String,
    /// DistributionConfig.Logging.Enabled (standard logging).
    pub logging_enabled: bool,
    /// DistributionConfig.Logging.Bucket.
    pub logging_bucket: Option<String>,
}
