//! The ASFF vocabularies vigil maps to: finding `Types` (namespace/category) from MITRE
//! ATT&CK, and resource `Type` from an ARN or a resource id.

use crate::{Finding, RuleKind, Tactic};

/// The ASFF `Types` of a finding: `TTPs/<category>` for the tactics ASFF has a category
/// for, `Effects/<category>` for exfiltration and impact, `Unusual Behaviors/...` for
/// first-seen rules. Never empty (falls back to the bare namespace).
pub fn asff_types(finding: &Finding) -> Vec<String> {
    let techniques = finding.techniques();
    let mut types: Vec<String> = finding
        .tactics()
        .into_iter()
        .map(|tactic| tactic_type(tactic, &techniques))
        .collect();
    if finding.rule_kind == RuleKind::FirstSeen {
        let category = if finding.principal.is_some() {
            "Unusual Behaviors/User"
        } else {
            "Unusual Behaviors"
        };
        types.push(category.to_string());
    }
    if types.is_empty() {
        types.push("TTPs".to_string());
    }
    let mut seen = Vec::new();
    types.retain(|kind| {
        let first = !seen.contains(kind);
        seen.push(kind.clone());
        first
    });
    types
}

/// The ASFF type for one tactic. ASFF's TTP categories are the ATT&CK tactics from initial
/// access to command and control; exfiltration and impact are effects.
fn tactic_type(tactic: Tactic, techniques: &[crate::TechniqueRef]) -> String {
    match tactic {
        Tactic::Reconnaissance => "TTPs/Discovery".to_string(),
        Tactic::ResourceDevelopment => "TTPs".to_string(),
        Tactic::Exfiltration => "Effects/Data Exfiltration".to_string(),
        Tactic::Impact => impact_type(techniques).to_string(),
        other => format!("TTPs/{}", other.name()),
    }
}

/// The effect an impact technique has: resource hijacking consumes resources, destruction
/// and encryption destroy data, (network) denial of service denies service.
fn impact_type(techniques: &[crate::TechniqueRef]) -> &'static str {
    let named = |ids: &[&str]| {
        techniques
            .iter()
            .any(|t| ids.contains(&t.technique.as_str()))
    };
    if named(&["T1496"]) {
        "Effects/Resource Consumption"
    } else if named(&["T1485", "T1486", "T1490", "T1561", "T1565"]) {
        "Effects/Data Destruction"
    } else if named(&["T1498", "T1499"]) {
        "Effects/Denial of Service"
    } else {
        "Effects"
    }
}

/// ARN service + resource prefix → ASFF resource type.
const ARN_TYPES: &[(&str, &str, &str)] = &[
    ("iam", "user/", "AwsIamUser"),
    ("iam", "role/", "AwsIamRole"),
    ("iam", "policy/", "AwsIamPolicy"),
    ("iam", "group/", "AwsIamGroup"),
    ("ec2", "instance/", "AwsEc2Instance"),
    ("ec2", "security-group/", "AwsEc2SecurityGroup"),
    ("ec2", "vpc/", "AwsEc2Vpc"),
    ("ec2", "subnet/", "AwsEc2Subnet"),
    ("ec2", "network-interface/", "AwsEc2NetworkInterface"),
    ("ec2", "volume/", "AwsEc2Volume"),
    ("kms", "key/", "AwsKmsKey"),
    ("lambda", "function:", "AwsLambdaFunction"),
    ("cloudtrail", "trail/", "AwsCloudTrailTrail"),
    ("rds", "db:", "AwsRdsDbInstance"),
    ("rds", "snapshot:", "AwsRdsDbSnapshot"),
    ("secretsmanager", "secret:", "AwsSecretsManagerSecret"),
    ("guardduty", "detector/", "AwsGuardDutyDetector"),
    ("ecr", "repository/", "AwsEcrRepository"),
    ("eks", "cluster/", "AwsEksCluster"),
];

/// Bare resource id prefix → ASFF resource type (ids CloudTrail writes without an ARN).
const ID_TYPES: &[(&str, &str)] = &[
    ("i-", "AwsEc2Instance"),
    ("sg-", "AwsEc2SecurityGroup"),
    ("vpc-", "AwsEc2Vpc"),
    ("subnet-", "AwsEc2Subnet"),
    ("eni-", "AwsEc2NetworkInterface"),
    ("vol-", "AwsEc2Volume"),
    ("AKIA", "AwsIamAccessKey"),
    ("ASIA", "AwsIamAccessKey"),
];

/// The ASFF resource type of an ARN or resource id; `Other` when vigil cannot tell.
pub fn asff_resource_type(id: &str) -> &'static str {
    match Arn::parse(id) {
        Some(arn) => arn_type(&arn),
        None => ID_TYPES
            .iter()
            .find(|(prefix, _)| id.starts_with(prefix) && id.len() > prefix.len())
            .map_or("Other", |(_, kind)| kind),
    }
}

fn arn_type(arn: &Arn<'_>) -> &'static str {
    match arn.service {
        "s3" if arn.resource.contains('/') => "AwsS3Object",
        "s3" => "AwsS3Bucket",
        "sns" => "AwsSnsTopic",
        "sqs" => "AwsSqsQueue",
        service => ARN_TYPES
            .iter()
            .find(|(s, prefix, _)| *s == service && arn.resource.starts_with(prefix))
            .map_or("Other", |(_, _, kind)| kind),
    }
}

/// The parts of an ARN vigil reads: `arn:partition:service:region:account:resource`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Arn<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    pub(crate) fn parse(text: &'a str) -> Option<Arn<'a>> {
        let mut parts = text.splitn(6, ':');
        if parts.next()? != "arn" {
            return None;
        }
        let partition = parts.next()?;
        let service = parts.next()?;
        let region = parts.next()?;
        let _account = parts.next()?;
        let resource = parts.next()?;
        Some(Arn {
            partition,
            service,
            region,
            resource,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_and_ids_get_their_resource_types() {
        let cases = [
            ("arn:aws:iam::123456789012:user/alice", "AwsIamUser"),
            ("arn:aws:iam::123456789012:role/admin", "AwsIamRole"),
            ("arn:aws:s3:::my-bucket", "AwsS3Bucket"),
            ("arn:aws:s3:::my-bucket/key.txt", "AwsS3Object"),
            (
                "arn:aws:ec2:us-east-1:123456789012:instance/i-0abc",
                "AwsEc2Instance",
            ),
            (
                "arn:aws:lambda:us-east-1:123456789012:function:f",
                "AwsLambdaFunction",
            ),
            (
                "arn:aws:cloudtrail:us-east-1:123456789012:trail/t",
                "AwsCloudTrailTrail",
            ),
            ("arn:aws:dynamodb:us-east-1:123456789012:table/t", "Other"),
            ("i-0123456789abcdef0", "AwsEc2Instance"),
            ("sg-0123", "AwsEc2SecurityGroup"),
            ("AKIAIOSFODNN7EXAMPLE", "AwsIamAccessKey"),
            ("alice", "Other"),
            ("i-", "Other"),
        ];
        for (id, kind) in cases {
            assert_eq!(asff_resource_type(id), kind, "{id}");
        }
    }

    #[test]
    fn arns_split_into_their_parts() {
        let arn = Arn::parse("arn:aws-cn:ec2:cn-north-1:1:instance/i-1");
        assert_eq!(
            arn.map(|a| (a.partition, a.region)),
            Some(("aws-cn", "cn-north-1"))
        );
        assert_eq!(Arn::parse("arn:aws:s3"), None);
        assert_eq!(Arn::parse("bucket"), None);
    }
}
