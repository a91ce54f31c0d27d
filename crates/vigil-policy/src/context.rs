//! The facts about the resource an analysis needs: its kind, its ARN, its owner and who the
//! owner trusts (the "zone of trust" of IAM Access Analyzer).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::condition::parse_cidr;

/// The kind of resource a policy is attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResourceKind {
    S3Bucket,
    KmsKey,
    SqsQueue,
    SnsTopic,
    LambdaFunction,
    IamRoleTrust,
    SecretsManagerSecret,
    EcrRepository,
    Other,
}

impl ResourceKind {
    /// Every kind, for CLI help and tests.
    pub const ALL: [ResourceKind; 9] = [
        ResourceKind::S3Bucket,
        ResourceKind::KmsKey,
        ResourceKind::SqsQueue,
        ResourceKind::SnsTopic,
        ResourceKind::LambdaFunction,
        ResourceKind::IamRoleTrust,
        ResourceKind::SecretsManagerSecret,
        ResourceKind::EcrRepository,
        ResourceKind::Other,
    ];

    /// The short name used on the command line: `s3`, `kms`, `sqs`, `sns`, `lambda`,
    /// `iam-role`, `secretsmanager`, `ecr`, `other`.
    pub fn name(self) -> &'static str {
        match self {
            ResourceKind::S3Bucket => "s3",
            ResourceKind::KmsKey => "kms",
            ResourceKind::SqsQueue => "sqs",
            ResourceKind::SnsTopic => "sns",
            ResourceKind::LambdaFunction => "lambda",
            ResourceKind::IamRoleTrust => "iam-role",
            ResourceKind::SecretsManagerSecret => "secretsmanager",
            ResourceKind::EcrRepository => "ecr",
            ResourceKind::Other => "other",
        }
    }

    /// The kind of the resource an ARN names (`arn:aws:s3:::bucket` → S3 bucket).
    pub fn from_arn(arn: &str) -> ResourceKind {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let (service, resource) = match parts.as_slice() {
            [_, _, service, _, _, resource] => (*service, *resource),
            _ => return ResourceKind::Other,
        };
        match service {
            "s3" if !resource.contains('/') => ResourceKind::S3Bucket,
            "kms" => ResourceKind::KmsKey,
            "sqs" => ResourceKind::SqsQueue,
            "sns" => ResourceKind::SnsTopic,
            "lambda" => ResourceKind::LambdaFunction,
            "iam" if resource.starts_with("role/") => ResourceKind::IamRoleTrust,
            "secretsmanager" => ResourceKind::SecretsManagerSecret,
            "ecr" => ResourceKind::EcrRepository,
            _ => ResourceKind::Other,
        }
    }
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ResourceKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ResourceKind::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                let names: Vec<&str> = ResourceKind::ALL.iter().map(|k| k.name()).collect();
                format!(
                    "unknown resource kind {s:?} (expected one of {})",
                    names.join(", ")
                )
            })
    }
}

/// What the analysis needs to know beyond the policy text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnalysisContext {
    pub kind: ResourceKind,
    /// The resource the policy is attached to, when known (statements without `Resource`
    /// apply to it).
    #[serde(default)]
    pub resource_arn: Option<String>,
    /// The account that owns the resource.
    pub owner_account: String,
    /// Other accounts inside the zone of trust (grants to them are internal).
    #[serde(default)]
    pub trusted_accounts: Vec<String>,
    /// Organisations inside the zone of trust (`o-...`).
    #[serde(default)]
    pub trusted_org_ids: Vec<String>,
    /// VPC ids, VPC endpoint ids and CIDRs inside the zone of trust: a public grant limited
    /// to them is internal.
    #[serde(default)]
    pub trusted_networks: Vec<String>,
}

impl AnalysisContext {
    /// A context with no trusted accounts, organisations or networks.
    pub fn new(kind: ResourceKind, owner_account: &str) -> Self {
        AnalysisContext {
            kind,
            resource_arn: None,
            owner_account: owner_account.to_string(),
            trusted_accounts: Vec::new(),
            trusted_org_ids: Vec::new(),
            trusted_networks: Vec::new(),
        }
    }

    /// Set the resource ARN.
    pub fn with_resource(mut self, arn: &str) -> Self {
        self.resource_arn = Some(arn.to_string());
        self
    }

    /// Is the account the owner or a trusted account?
    pub fn account_in_zone(&self, account: &str) -> bool {
        account == self.owner_account || self.trusted_accounts.iter().any(|a| a == account)
    }

    /// Is the organisation trusted?
    pub fn org_in_zone(&self, org: &str) -> bool {
        self.trusted_org_ids.iter().any(|o| o == org)
    }

    /// Is the VPC, endpoint or CIDR inside a trusted network?
    pub fn network_in_zone(&self, value: &str) -> bool {
        self.trusted_networks.iter().any(|trusted| {
            trusted == value
                || match (parse_cidr(trusted), parse_cidr(value)) {
                    (Some(outer), Some(inner)) => outer.contains(&inner),
                    _ => false,
                }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_from_arns_and_names() {
        assert_eq!(
            ResourceKind::from_arn("arn:aws:s3:::bucket"),
            ResourceKind::S3Bucket
        );
        assert_eq!(
            ResourceKind::from_arn("arn:aws:s3:::bucket/key"),
            ResourceKind::Other
        );
        assert_eq!(
            ResourceKind::from_arn("arn:aws:iam::111122223333:role/x"),
            ResourceKind::IamRoleTrust
        );
        assert_eq!(
            ResourceKind::from_arn("arn:aws:kms:us-east-1:111122223333:key/1"),
            ResourceKind::KmsKey
        );
        assert_eq!(ResourceKind::from_arn("not an arn"), ResourceKind::Other);
        for kind in ResourceKind::ALL {
            assert_eq!(kind.name().parse::<ResourceKind>(), Ok(kind));
        }
        assert!("bucket".parse::<ResourceKind>().is_err());
    }

    #[test]
    fn zone_of_trust() {
        let mut ctx = AnalysisContext::new(ResourceKind::S3Bucket, "111122223333");
        ctx.trusted_accounts.push("444455556666".into());
        ctx.trusted_networks.push("10.0.0.0/8".into());
        assert!(ctx.account_in_zone("111122223333") && ctx.account_in_zone("444455556666"));
        assert!(!ctx.account_in_zone("777788889999"));
        assert!(ctx.network_in_zone("10.1.0.0/16"));
        assert!(!ctx.network_in_zone("11.0.0.0/16"));
    }
}
