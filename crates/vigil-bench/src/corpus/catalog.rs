//! The API calls of ordinary traffic and how often each happens (per 100,000 records).
//! Read-only calls (Describe*, List*, Get*) dominate, as they do in real trails; data events
//! (S3 objects) and the KMS/STS calls that services make on every request follow.

/// One API call of the catalog.
pub struct Api {
    /// The service's short name (`ec2` → `ec2.amazonaws.com`).
    pub service: &'static str,
    pub name: &'static str,
    pub weight: u32,
}

const fn api(service: &'static str, name: &'static str, weight: u32) -> Api {
    Api {
        service,
        name,
        weight,
    }
}

pub const CATALOG: &[Api] = &[
    api("ec2", "DescribeInstances", 4200),
    api("ec2", "DescribeInstanceStatus", 1500),
    api("ec2", "DescribeSecurityGroups", 1600),
    api("ec2", "DescribeVolumes", 1200),
    api("ec2", "DescribeNetworkInterfaces", 1400),
    api("ec2", "DescribeSubnets", 900),
    api("ec2", "DescribeVpcs", 700),
    api("ec2", "DescribeImages", 700),
    api("ec2", "DescribeTags", 900),
    api("ec2", "DescribeSnapshots", 500),
    api("ec2", "DescribeAddresses", 300),
    api("ec2", "DescribeRouteTables", 300),
    api("ec2", "DescribeAvailabilityZones", 400),
    api("ec2", "DescribeRegions", 350),
    api("ec2", "DescribeLaunchTemplateVersions", 250),
    api("ec2", "CreateTags", 250),
    api("ec2", "RunInstances", 60),
    api("ec2", "TerminateInstances", 50),
    api("ec2", "StartInstances", 30),
    api("ec2", "StopInstances", 30),
    api("ec2", "CreateNetworkInterface", 90),
    api("ec2", "DeleteNetworkInterface", 90),
    api("ec2", "CreateSnapshot", 40),
    api("ec2", "DeleteSnapshot", 30),
    api("ec2", "CreateVolume", 30),
    api("ec2", "AttachVolume", 25),
    api("sts", "AssumeRole", 6500),
    api("sts", "GetCallerIdentity", 2200),
    api("sts", "AssumeRoleWithWebIdentity", 1100),
    api("s3", "GetObject", 6000),
    api("s3", "PutObject", 3000),
    api("s3", "HeadObject", 1300),
    api("s3", "ListObjects", 1300),
    api("s3", "DeleteObject", 350),
    api("s3", "CopyObject", 150),
    api("s3", "GetBucketAcl", 1600),
    api("s3", "GetBucketLocation", 1200),
    api("s3", "GetBucketPolicy", 600),
    api("s3", "GetBucketVersioning", 450),
    api("s3", "GetBucketEncryption", 400),
    api("s3", "GetBucketTagging", 300),
    api("s3", "GetBucketPublicAccessBlock", 300),
    api("s3", "HeadBucket", 450),
    api("s3", "PutBucketTagging", 20),
    api("s3", "CreateBucket", 10),
    api("kms", "Decrypt", 6500),
    api("kms", "GenerateDataKey", 3200),
    api("kms", "Encrypt", 600),
    api("kms", "DescribeKey", 800),
    api("kms", "ListAliases", 250),
    api("kms", "GetKeyPolicy", 150),
    api("kms", "CreateGrant", 80),
    api("kms", "RetireGrant", 40),
    api("iam", "GetRole", 1000),
    api("iam", "ListRoles", 400),
    api("iam", "GetUser", 300),
    api("iam", "ListUsers", 250),
    api("iam", "ListAttachedRolePolicies", 500),
    api("iam", "ListRolePolicies", 300),
    api("iam", "GetPolicy", 300),
    api("iam", "GetPolicyVersion", 300),
    api("iam", "ListAccessKeys", 150),
    api("iam", "GetAccountSummary", 80),
    api("iam", "CreateRole", 12),
    api("iam", "AttachRolePolicy", 15),
    api("iam", "PutRolePolicy", 12),
    api("iam", "TagRole", 15),
    api("lambda", "GetFunction", 500),
    api("lambda", "ListFunctions20150331", 400),
    api("lambda", "GetFunctionConfiguration", 250),
    api("lambda", "ListTags", 150),
    api("lambda", "GetPolicy20150331v2", 80),
    api("lambda", "UpdateFunctionCode20150331v2", 40),
    api("lambda", "CreateFunction20150331", 12),
    api("cloudtrail", "DescribeTrails", 250),
    api("cloudtrail", "GetTrailStatus", 250),
    api("cloudtrail", "LookupEvents", 300),
    api("cloudtrail", "GetEventSelectors", 120),
    api("cloudtrail", "ListTrails", 60),
    api("guardduty", "ListDetectors", 250),
    api("guardduty", "GetDetector", 120),
    api("guardduty", "ListFindings", 150),
    api("guardduty", "GetFindings", 150),
    api("rds", "DescribeDBInstances", 700),
    api("rds", "DescribeDBClusters", 350),
    api("rds", "DescribeDBSnapshots", 250),
    api("rds", "ListTagsForResource", 250),
    api("rds", "DescribeDBEngineVersions", 80),
    api("rds", "CreateDBSnapshot", 20),
    api("ssm", "GetParameter", 1700),
    api("ssm", "GetParameters", 1000),
    api("ssm", "GetParametersByPath", 500),
    api("ssm", "UpdateInstanceInformation", 1300),
    api("ssm", "DescribeInstanceInformation", 600),
    api("ssm", "DescribeParameters", 150),
    api("ssm", "ListCommands", 80),
    api("ssm", "PutParameter", 40),
    api("ssm", "StartSession", 15),
    api("secretsmanager", "GetSecretValue", 1700),
    api("secretsmanager", "DescribeSecret", 350),
    api("secretsmanager", "ListSecrets", 150),
    api("secretsmanager", "PutSecretValue", 15),
    api("logs", "CreateLogStream", 1700),
    api("logs", "DescribeLogGroups", 500),
    api("logs", "DescribeLogStreams", 500),
    api("logs", "FilterLogEvents", 150),
    api("logs", "GetLogEvents", 150),
    api("logs", "CreateLogGroup", 40),
    api("monitoring", "GetMetricData", 1300),
    api("monitoring", "DescribeAlarms", 500),
    api("monitoring", "ListMetrics", 350),
    api("monitoring", "PutMetricAlarm", 25),
    api("dynamodb", "DescribeTable", 700),
    api("dynamodb", "ListTables", 250),
    api("dynamodb", "DescribeContinuousBackups", 80),
    api("dynamodb", "DescribeTimeToLive", 80),
    api("ecr", "GetAuthorizationToken", 1000),
    api("ecr", "BatchGetImage", 700),
    api("ecr", "GetDownloadUrlForLayer", 700),
    api("ecr", "DescribeRepositories", 150),
    api("ecs", "DescribeTasks", 350),
    api("ecs", "ListTasks", 250),
    api("ecs", "DescribeServices", 250),
    api("ecs", "DescribeTaskDefinition", 150),
    api("ecs", "ListClusters", 80),
    api("elasticloadbalancing", "DescribeLoadBalancers", 500),
    api("elasticloadbalancing", "DescribeTargetHealth", 500),
    api("elasticloadbalancing", "DescribeTargetGroups", 350),
    api("elasticloadbalancing", "RegisterTargets", 40),
    api("autoscaling", "DescribeAutoScalingGroups", 500),
    api("autoscaling", "DescribeScalingActivities", 80),
    api("cloudformation", "DescribeStacks", 500),
    api("cloudformation", "DescribeStackEvents", 250),
    api("cloudformation", "ListStacks", 150),
    api("cloudformation", "GetTemplate", 80),
    api("config", "PutEvaluations", 500),
    api("config", "DescribeConfigRules", 150),
    api("config", "DescribeConfigurationRecorderStatus", 80),
    api("sqs", "GetQueueAttributes", 250),
    api("sqs", "ListQueues", 80),
    api("sns", "GetTopicAttributes", 150),
    api("sns", "ListTopics", 80),
    api("organizations", "DescribeOrganization", 150),
    api("organizations", "ListAccounts", 80),
    api("route53", "ListHostedZones", 150),
    api("route53", "ListResourceRecordSets", 150),
    api("route53", "ChangeResourceRecordSets", 25),
    api("eks", "DescribeCluster", 250),
    api("eks", "ListClusters", 80),
    api("elasticache", "DescribeCacheClusters", 150),
    api("securityhub", "BatchImportFindings", 500),
    api("securityhub", "GetFindings", 150),
    api("tagging", "GetResources", 250),
    api("health", "DescribeEventAggregates", 150),
    api("signin", "ConsoleLogin", 80),
    api("events", "ListRules", 80),
];

/// Services whose calls CloudTrail records in us-east-1 whatever the caller's region.
pub fn is_global(service: &str) -> bool {
    matches!(
        service,
        "iam" | "signin" | "route53" | "organizations" | "account" | "health"
    )
}

/// Whether CloudTrail marks the call `readOnly`.
pub fn is_read_only(name: &str) -> bool {
    [
        "Describe",
        "List",
        "Get",
        "Head",
        "Lookup",
        "BatchGet",
        "Decrypt",
        "GenerateDataKey",
        "Filter",
    ]
    .iter()
    .any(|prefix| name.starts_with(prefix))
}

/// Whether the call is an S3 data event (object level).
pub fn is_data_event(service: &str, name: &str) -> bool {
    service == "s3" && name.contains("Object")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_dominate_the_catalog() {
        let total: u32 = CATALOG.iter().map(|a| a.weight).sum();
        let reads: u32 = CATALOG
            .iter()
            .filter(|a| is_read_only(a.name))
            .map(|a| a.weight)
            .sum();
        assert!(reads * 10 > total * 6, "{reads} of {total}");
        let services: std::collections::BTreeSet<&str> =
            CATALOG.iter().map(|a| a.service).collect();
        assert!(services.len() >= 25, "{services:?}");
    }
}
