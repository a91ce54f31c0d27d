//! The adapter from [`PolicyVerdicts`] to the `vigil-policy` analyzer.

use vigil_policy::{
    analyze, analyze_s3, AclGrant, AclGrantee, AclPermission, Analysis, AnalysisContext,
    BlockPublicAccess, GrantSource, Policy, PrincipalClass, ResourceKind, S3Acl, Verdict,
};

use super::{
    Exposure, GrantSummary, PolicyQuery, PolicyResourceKind, PolicyVerdict, PolicyVerdicts,
};
use crate::snapshot::{BucketAcl, PublicAccessBlock};

/// Resource-policy answers from `vigil-policy` (sound: it never calls a public policy
/// non-public).
#[derive(Clone, Copy, Debug, Default)]
pub struct VigilPolicyAnalyzer;

fn context(query: &PolicyQuery<'_>) -> AnalysisContext {
    let kind = match query.kind {
        PolicyResourceKind::S3Bucket => ResourceKind::S3Bucket,
        PolicyResourceKind::KmsKey => ResourceKind::KmsKey,
        PolicyResourceKind::LambdaFunction => ResourceKind::LambdaFunction,
        PolicyResourceKind::IamRoleTrust => ResourceKind::IamRoleTrust,
    };
    let mut ctx = AnalysisContext::new(kind, query.owner_account).with_resource(query.resource_arn);
    ctx.trusted_accounts = query.trusted_accounts.to_vec();
    ctx
}

fn parse(policy: &str) -> Result<Policy, String> {
    Policy::parse(policy).map_err(|err| format!("the policy cannot be analysed: {err}"))
}

/// The principal as text: `*` for anyone / any AWS account, else its id or ARN.
fn principal_text(principal: &PrincipalClass) -> String {
    match principal {
        PrincipalClass::Public | PrincipalClass::AnyAwsAccount => "*".into(),
        PrincipalClass::AnyService => "service:*".into(),
        PrincipalClass::Account(id)
        | PrincipalClass::AwsPrincipal(id)
        | PrincipalClass::Org(id)
        | PrincipalClass::Service(id)
        | PrincipalClass::Federated(id)
        | PrincipalClass::CanonicalUser(id) => id.clone(),
    }
}

/// The account behind an outside principal (an ARN's account field), else the principal.
fn outside_party(principal: &PrincipalClass) -> String {
    match principal {
        PrincipalClass::AwsPrincipal(arn) => arn
            .split(':')
            .nth(4)
            .filter(|a| !a.is_empty())
            .map(String::from)
            .unwrap_or_else(|| arn.clone()),
        other => principal_text(other),
    }
}

fn verdict(analysis: Analysis, policy: Option<&Policy>) -> PolicyVerdict {
    let exposure = match analysis.verdict {
        Verdict::Public | Verdict::AnyAuthenticated => Exposure::Public,
        Verdict::CrossAccount => Exposure::CrossAccount,
        Verdict::Internal => Exposure::OwnerOnly,
    };
    let mut external: Vec<String> = analysis
        .grants
        .iter()
        .filter(|g| g.exposure >= Verdict::CrossAccount)
        .map(|g| outside_party(&g.principal))
        .collect();
    external.sort();
    external.dedup();
    let grants = analysis
        .grants
        .iter()
        .map(|grant| {
            let statement = policy
                .filter(|_| grant.source == GrantSource::Policy)
                .and_then(|p| p.statements.iter().find(|s| s.index == grant.statement));
            GrantSummary {
                principal: principal_text(&grant.principal),
                actions: grant.actions.clone(),
                condition_keys: statement
                    .map(|s| s.conditions.iter().map(|c| c.key.clone()).collect())
                    .unwrap_or_default(),
                explanation: grant.explanation.clone(),
            }
        })
        .collect();
    PolicyVerdict {
        exposure,
        external_accounts: external,
        grants,
    }
}

fn s3_acl(acl: &BucketAcl) -> Result<S3Acl, String> {
    let grants = acl
        .grants
        .iter()
        .map(|grant| {
            let permission = AclPermission::parse(&grant.permission)
                .ok_or_else(|| format!("unknown ACL permission {:?}", grant.permission))?;
            let grantee = match (
                grant.grantee_type.as_str(),
                &grant.grantee_uri,
                &grant.grantee_id,
            ) {
                (_, Some(uri), _) => AclGrantee::from_group_uri(uri),
                ("CanonicalUser", _, Some(id)) => AclGrantee::CanonicalUser(id.clone()),
                ("AmazonCustomerByEmail", _, id) => {
                    AclGrantee::Email(id.clone().unwrap_or_default())
                }
                (kind, _, _) => return Err(format!("unreadable ACL grantee of type {kind:?}")),
            };
            Ok(AclGrant {
                grantee,
                permission,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(S3Acl {
        owner_canonical_id: Some(acl.owner_id.clone()).filter(|id| !id.is_empty()),
        grants,
        // Object Ownership is not in the snapshot: assume ACLs are in force, which can only
        // overstate exposure.
        acls_disabled: false,
    })
}

impl PolicyVerdicts for VigilPolicyAnalyzer {
    fn resource_policy(
        &self,
        policy: &str,
        query: &PolicyQuery<'_>,
    ) -> Result<PolicyVerdict, String> {
        let parsed = parse(policy)?;
        Ok(verdict(analyze(&parsed, &context(query)), Some(&parsed)))
    }

    fn s3_bucket(
        &self,
        policy: Option<&str>,
        acl: &BucketAcl,
        block: &PublicAccessBlock,
        query: &PolicyQuery<'_>,
    ) -> Result<PolicyVerdict, String> {
        let parsed = policy.map(parse).transpose()?;
        let bpa = BlockPublicAccess {
            block_public_acls: block.block_public_acls,
            ignore_public_acls: block.ignore_public_acls,
            block_public_policy: block.block_public_policy,
            restrict_public_buckets: block.restrict_public_buckets,
        };
        let analysis = analyze_s3(parsed.as_ref(), &s3_acl(acl)?, &bpa, &context(query));
        Ok(verdict(analysis, parsed.as_ref()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::{AclGrant as SnapshotGrant, ALL_USERS_URI};

    fn query(kind: PolicyResourceKind, trusted: &[String]) -> PolicyQuery<'_> {
        PolicyQuery {
            kind,
            resource_arn: "arn:aws:s3:::data",
            owner_account: "111122223333",
            trusted_accounts: trusted,
        }
    }

    fn acl(public: bool) -> BucketAcl {
        let mut grants = vec![SnapshotGrant {
            grantee_type: "CanonicalUser".into(),
            grantee_id: Some("owner".into()),
            grantee_uri: None,
            permission: "FULL_CONTROL".into(),
        }];
        if public {
            grants.push(SnapshotGrant {
                grantee_type: "Group".into(),
                grantee_uri: Some(ALL_USERS_URI.into()),
                grantee_id: None,
                permission: "READ".into(),
            });
        }
        BucketAcl {
            owner_id: "owner".into(),
            grants,
        }
    }

    #[test]
    fn a_public_bucket_policy_is_public_unless_restrict_public_buckets() {
        let policy = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data/*"}]}"#;
        let q = query(PolicyResourceKind::S3Bucket, &[]);
        let open = VigilPolicyAnalyzer
            .s3_bucket(Some(policy), &acl(false), &PublicAccessBlock::default(), &q)
            .unwrap();
        assert_eq!(open.exposure, Exposure::Public);
        assert!(open.grants[0].explanation.starts_with("Public"));
        let restricted = PublicAccessBlock {
            restrict_public_buckets: true,
            ..Default::default()
        };
        let closed = VigilPolicyAnalyzer
            .s3_bucket(Some(policy), &acl(false), &restricted, &q)
            .unwrap();
        assert_ne!(closed.exposure, Exposure::Public);
    }

    #[test]
    fn a_public_acl_counts_unless_ignored() {
        let q = query(PolicyResourceKind::S3Bucket, &[]);
        let open = VigilPolicyAnalyzer
            .s3_bucket(None, &acl(true), &PublicAccessBlock::default(), &q)
            .unwrap();
        assert_eq!(open.exposure, Exposure::Public);
        let ignore = PublicAccessBlock {
            ignore_public_acls: true,
            ..Default::default()
        };
        let closed = VigilPolicyAnalyzer
            .s3_bucket(None, &acl(true), &ignore, &q)
            .unwrap();
        assert_eq!(closed.exposure, Exposure::OwnerOnly);
    }

    #[test]
    fn cross_account_grants_name_the_account_and_trust_removes_them() {
        let policy = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::444455556666:role/reader"},
            "Action": "kms:Decrypt", "Resource": "*"}]}"#;
        let outside = VigilPolicyAnalyzer
            .resource_policy(policy, &query(PolicyResourceKind::KmsKey, &[]))
            .unwrap();
        assert_eq!(outside.exposure, Exposure::CrossAccount);
        assert_eq!(outside.external_accounts, vec!["444455556666"]);
        let trusted = ["444455556666".to_string()];
        let inside = VigilPolicyAnalyzer
            .resource_policy(policy, &query(PolicyResourceKind::KmsKey, &trusted))
            .unwrap();
        assert_eq!(inside.exposure, Exposure::OwnerOnly);
        assert!(inside.external_accounts.is_empty());
    }

    #[test]
    fn trust_grants_carry_their_condition_keys() {
        let trust = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "sts:AssumeRole",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]}"#;
        let answer = VigilPolicyAnalyzer
            .resource_policy(trust, &query(PolicyResourceKind::IamRoleTrust, &[]))
            .unwrap();
        assert_eq!(answer.grants.len(), 1, "{answer:#?}");
        assert_eq!(
            answer.grants[0].condition_keys,
            vec!["aws:MultiFactorAuthPresent"]
        );
        let bad =
            VigilPolicyAnalyzer.resource_policy("{", &query(PolicyResourceKind::IamRoleTrust, &[]));
        assert!(bad
            .unwrap_err()
            .starts_with("the policy cannot be analysed"));
    }
}
