//! Reads the resource policy of one resource, by ARN, for `vigil policy analyze ARN`.
//!
//! The eight kinds the analyzer knows: S3 bucket (policy, ACL, bucket and account Block
//! Public Access), KMS key, SQS queue, SNS topic, Lambda function, IAM role trust policy,
//! Secrets Manager secret, ECR repository. "No policy" answers are data (`policy: None`),
//! not errors.

use aws_sdk_s3::types::{Permission, Type};
use vigil_aws::{error_chain, AwsContext};
use vigil_policy::{AclGrant, AclGrantee, AclPermission, BlockPublicAccess, ResourceKind, S3Acl};

/// A resource policy and what the analysis needs beside it.
#[derive(Debug, Clone, Default)]
pub struct FetchedPolicy {
    /// The policy document (JSON text); `None` when the resource has none.
    pub policy: Option<String>,
    /// The account that owns the resource.
    pub owner_account: Option<String>,
    /// For S3 buckets: the ACL and the effective Block Public Access settings.
    pub s3: Option<(S3Acl, BlockPublicAccess)>,
    /// The calls made, `service:Operation`.
    pub calls: Vec<String>,
}

/// Errors while reading a resource policy.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{0}: not an ARN vigil can read a resource policy for (s3, kms, sqs, sns, lambda, iam role, secretsmanager, ecr)")]
    Unsupported(String),
    #[error("{arn}: {call} failed: {reason}")]
    Call {
        arn: String,
        call: &'static str,
        reason: String,
    },
    #[error(transparent)]
    Aws(#[from] vigil_aws::AwsError),
}

struct Arn<'a> {
    service: &'a str,
    region: &'a str,
    account: &'a str,
    resource: &'a str,
}

fn split_arn(arn: &str) -> Option<Arn<'_>> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(_partition), Some(service), Some(region), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    Some(Arn {
        service,
        region,
        account,
        resource,
    })
}

/// Reads the resource policy of `arn` with the context's credentials (in the ARN's account
/// and region when an incident-response role is configured).
pub async fn fetch(ctx: &AwsContext, arn: &str) -> Result<FetchedPolicy, FetchError> {
    let parsed = split_arn(arn).ok_or_else(|| FetchError::Unsupported(arn.to_string()))?;
    let kind = ResourceKind::from_arn(arn);
    let account = (!parsed.account.is_empty()).then_some(parsed.account);
    let region = (!parsed.region.is_empty()).then_some(parsed.region);
    let cfg = ctx.config_for(account, region).await?;
    let call_err = |call: &'static str| {
        move |e: &(dyn std::error::Error + 'static)| FetchError::Call {
            arn: arn.to_string(),
            call,
            reason: error_chain(e),
        }
    };
    let mut out = FetchedPolicy {
        owner_account: account.map(str::to_string),
        ..FetchedPolicy::default()
    };
    match (kind, parsed.service) {
        (ResourceKind::S3Bucket, _) => {
            let bucket = parsed.resource.split('/').next().unwrap_or(parsed.resource);
            let mut conf = aws_sdk_s3::config::Builder::from(&cfg);
            if ctx.is_emulator() {
                conf = conf.force_path_style(true);
            }
            let s3 = aws_sdk_s3::Client::from_conf(conf.build());
            out.calls.push("s3:GetBucketPolicy".into());
            out.policy = match s3.get_bucket_policy().bucket(bucket).send().await {
                Ok(o) => o.policy,
                Err(e) if code_of(&e) == Some("NoSuchBucketPolicy") => None,
                Err(e) => return Err(call_err("s3:GetBucketPolicy")(&e)),
            };
            out.calls.push("s3:GetBucketAcl".into());
            let acl = s3
                .get_bucket_acl()
                .bucket(bucket)
                .send()
                .await
                .map_err(|e| call_err("s3:GetBucketAcl")(&e))?;
            let owner_id = acl.owner().and_then(|o| o.id()).map(str::to_string);
            let grants = acl
                .grants()
                .iter()
                .filter_map(|g| {
                    let grantee = g.grantee()?;
                    let permission = g.permission().and_then(|p| match p {
                        Permission::FullControl => AclPermission::parse("FULL_CONTROL"),
                        other => AclPermission::parse(other.as_str()),
                    })?;
                    let grantee = match grantee.r#type() {
                        Type::Group => AclGrantee::from_group_uri(grantee.uri().unwrap_or("")),
                        Type::CanonicalUser => {
                            AclGrantee::CanonicalUser(grantee.id().unwrap_or("").to_string())
                        }
                        _ => AclGrantee::from_group_uri(grantee.uri().unwrap_or("")),
                    };
                    Some(AclGrant {
                        grantee,
                        permission,
                    })
                })
                .collect();
            out.calls.push("s3:GetBucketPublicAccessBlock".into());
            let bucket_bpa = match s3.get_public_access_block().bucket(bucket).send().await {
                Ok(o) => o
                    .public_access_block_configuration()
                    .map(|c| BlockPublicAccess {
                        block_public_acls: c.block_public_acls().unwrap_or(false),
                        ignore_public_acls: c.ignore_public_acls().unwrap_or(false),
                        block_public_policy: c.block_public_policy().unwrap_or(false),
                        restrict_public_buckets: c.restrict_public_buckets().unwrap_or(false),
                    }),
                Err(e) if code_of(&e) == Some("NoSuchPublicAccessBlockConfiguration") => None,
                Err(e) => return Err(call_err("s3:GetBucketPublicAccessBlock")(&e)),
            };
            // The account-level setting needs the account id, which bucket ARNs omit.
            let caller = ctx.caller_identity(account).await?;
            out.owner_account = Some(caller.account.clone());
            let control = aws_sdk_s3control::Client::new(&cfg);
            out.calls.push("s3:GetAccountPublicAccessBlock".into());
            let account_bpa = match control
                .get_public_access_block()
                .account_id(&caller.account)
                .send()
                .await
            {
                Ok(o) => o
                    .public_access_block_configuration()
                    .map(|c| BlockPublicAccess {
                        block_public_acls: c.block_public_acls().unwrap_or(false),
                        ignore_public_acls: c.ignore_public_acls().unwrap_or(false),
                        block_public_policy: c.block_public_policy().unwrap_or(false),
                        restrict_public_buckets: c.restrict_public_buckets().unwrap_or(false),
                    }),
                Err(_) => None,
            };
            out.s3 = Some((
                S3Acl {
                    owner_canonical_id: owner_id,
                    grants,
                    acls_disabled: false,
                },
                BlockPublicAccess::effective(account_bpa.as_ref(), bucket_bpa.as_ref()),
            ));
        }
        (ResourceKind::KmsKey, _) => {
            out.calls.push("kms:GetKeyPolicy".into());
            let o = aws_sdk_kms::Client::new(&cfg)
                .get_key_policy()
                .key_id(arn)
                .policy_name("default")
                .send()
                .await
                .map_err(|e| call_err("kms:GetKeyPolicy")(&e))?;
            out.policy = o.policy;
        }
        (ResourceKind::SqsQueue, _) => {
            let sqs = aws_sdk_sqs::Client::new(&cfg);
            out.calls.push("sqs:GetQueueUrl".into());
            let url = sqs
                .get_queue_url()
                .queue_name(parsed.resource)
                .queue_owner_aws_account_id(parsed.account)
                .send()
                .await
                .map_err(|e| call_err("sqs:GetQueueUrl")(&e))?;
            out.calls.push("sqs:GetQueueAttributes".into());
            let attrs = sqs
                .get_queue_attributes()
                .queue_url(url.queue_url().unwrap_or_default())
                .attribute_names(aws_sdk_sqs::types::QueueAttributeName::Policy)
                .send()
                .await
                .map_err(|e| call_err("sqs:GetQueueAttributes")(&e))?;
            out.policy = attrs
                .attributes()
                .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::Policy))
                .cloned();
        }
        (ResourceKind::SnsTopic, _) => {
            out.calls.push("sns:GetTopicAttributes".into());
            let o = aws_sdk_sns::Client::new(&cfg)
                .get_topic_attributes()
                .topic_arn(arn)
                .send()
                .await
                .map_err(|e| call_err("sns:GetTopicAttributes")(&e))?;
            out.policy = o.attributes().and_then(|a| a.get("Policy")).cloned();
        }
        (ResourceKind::LambdaFunction, _) => {
            out.calls.push("lambda:GetPolicy".into());
            out.policy = match aws_sdk_lambda::Client::new(&cfg)
                .get_policy()
                .function_name(arn)
                .send()
                .await
            {
                Ok(o) => o.policy,
                Err(e) if code_of(&e) == Some("ResourceNotFoundException") => None,
                Err(e) => return Err(call_err("lambda:GetPolicy")(&e)),
            };
        }
        (ResourceKind::IamRoleTrust, _) => {
            let name = parsed
                .resource
                .rsplit('/')
                .next()
                .unwrap_or(parsed.resource);
            out.calls.push("iam:GetRole".into());
            let o = aws_sdk_iam::Client::new(&cfg)
                .get_role()
                .role_name(name)
                .send()
                .await
                .map_err(|e| call_err("iam:GetRole")(&e))?;
            // The trust policy comes URL-encoded.
            out.policy = o
                .role()
                .and_then(|r| r.assume_role_policy_document())
                .map(percent_decode);
        }
        (ResourceKind::SecretsManagerSecret, _) => {
            out.calls.push("secretsmanager:GetResourcePolicy".into());
            let o = aws_sdk_secretsmanager::Client::new(&cfg)
                .get_resource_policy()
                .secret_id(arn)
                .send()
                .await
                .map_err(|e| call_err("secretsmanager:GetResourcePolicy")(&e))?;
            out.policy = o.resource_policy;
        }
        (ResourceKind::EcrRepository, _) => {
            let name = parsed
                .resource
                .strip_prefix("repository/")
                .unwrap_or(parsed.resource);
            out.calls.push("ecr:GetRepositoryPolicy".into());
            out.policy = match aws_sdk_ecr::Client::new(&cfg)
                .get_repository_policy()
                .repository_name(name)
                .registry_id(parsed.account)
                .send()
                .await
            {
                Ok(o) => o.policy_text,
                Err(e) if code_of(&e) == Some("RepositoryPolicyNotFoundException") => None,
                Err(e) => return Err(call_err("ecr:GetRepositoryPolicy")(&e)),
            };
        }
        _ => return Err(FetchError::Unsupported(arn.to_string())),
    }
    Ok(out)
}

fn code_of<E, R>(error: &aws_smithy_runtime_api::client::result::SdkError<E, R>) -> Option<&str>
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata,
{
    error.as_service_error().and_then(|e| e.code())
}

/// Decodes `%XX` escapes (IAM returns trust policies URL-encoded).
fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_policies_are_url_decoded() {
        assert_eq!(
            percent_decode("%7B%22Version%22%3A%222012-10-17%22%7D"),
            r#"{"Version":"2012-10-17"}"#
        );
        assert_eq!(percent_decode("{\"a\":1}"), "{\"a\":1}");
        assert_eq!(percent_decode("100%"), "100%");
    }

    #[test]
    fn arns_split_into_their_parts() {
        let a = split_arn("arn:aws:sqs:eu-west-1:111122223333:queue-1").unwrap();
        assert_eq!(
            (a.service, a.region, a.account, a.resource),
            ("sqs", "eu-west-1", "111122223333", "queue-1")
        );
        assert!(split_arn("not-an-arn").is_none());
    }
}
