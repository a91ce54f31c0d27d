//! Account-level settings: alternate contacts, S3 account Block Public Access, the
//! organisation and its service control policies, and CloudFront (a global service).

use aws_config::SdkConfig;
use futures_util::future::join_all;
use vigil_posture::snapshot::{
    AlternateContact, AlternateContacts, CloudFrontDistribution, Organization, PublicAccessBlock,
    ServiceControlPolicy, SsoInstance,
};
use vigil_posture::Collected;

use crate::call::{collected, optional, CallError, Group};
use crate::convert::{opt, text};
use crate::run::Env;

/// account:GetAlternateContact for SECURITY, BILLING and OPERATIONS.
pub(crate) async fn alternate_contacts(
    env: &Env,
    cfg: &SdkConfig,
    region: &str,
) -> AlternateContacts {
    use aws_sdk_account::types::AlternateContactType as Kind;
    let Some(g) = env.group("account", region) else {
        return AlternateContacts::default();
    };
    let c = aws_sdk_account::Client::new(cfg);
    let one = |kind: Kind| {
        let (g, c) = (&g, &c);
        async move {
            let out = g
                .call(
                    "GetAlternateContact",
                    c.get_alternate_contact()
                        .alternate_contact_type(kind)
                        .send(),
                )
                .await
                .map(|out| {
                    out.alternate_contact().map(|a| AlternateContact {
                        name: opt(a.name()),
                        title: opt(a.title()),
                        email_address: opt(a.email_address()),
                        phone_number: opt(a.phone_number()),
                    })
                });
            match optional(out, &["ResourceNotFoundException"]) {
                Collected::Ok(found) => Collected::Ok(found.flatten()),
                Collected::Error {
                    call,
                    code,
                    message,
                } => Collected::Error {
                    call,
                    code,
                    message,
                },
                Collected::NotCollected => Collected::NotCollected,
            }
        }
    };
    let (security, billing, operations) = tokio::join!(
        one(Kind::Security),
        one(Kind::Billing),
        one(Kind::Operations)
    );
    AlternateContacts {
        security,
        billing,
        operations,
    }
}

/// s3control:GetPublicAccessBlock for the account.
pub(crate) async fn account_public_access_block(
    env: &Env,
    cfg: &SdkConfig,
    region: &str,
) -> Collected<Option<PublicAccessBlock>> {
    let Some(g) = env.group("s3control", region) else {
        return Collected::NotCollected;
    };
    let mut conf = aws_sdk_s3control::config::Builder::from(cfg);
    if env.emulator {
        // The endpoint rules put the account id in front of the host name
        // (`123456789012.s3-control…`), which an emulator on 127.0.0.1 cannot answer.
        if let Some(url) = cfg.endpoint_url() {
            conf = conf.endpoint_resolver(FixedEndpoint(url.to_string()));
        }
    }
    let c = aws_sdk_s3control::Client::from_conf(conf.build());
    let out = g
        .call(
            "GetPublicAccessBlock",
            c.get_public_access_block().account_id(&env.account).send(),
        )
        .await
        .map(|out| {
            out.public_access_block_configuration()
                .map(|b| PublicAccessBlock {
                    block_public_acls: b.block_public_acls().unwrap_or(false),
                    ignore_public_acls: b.ignore_public_acls().unwrap_or(false),
                    block_public_policy: b.block_public_policy().unwrap_or(false),
                    restrict_public_buckets: b.restrict_public_buckets().unwrap_or(false),
                })
        });
    match optional(out, &["NoSuchPublicAccessBlockConfiguration"]) {
        Collected::Ok(found) => Collected::Ok(found.flatten()),
        other => other.map_none(),
    }
}

/// Sends every S3 Control request to one URL (emulators only).
#[derive(Debug)]
struct FixedEndpoint(String);

impl aws_sdk_s3control::config::endpoint::ResolveEndpoint for FixedEndpoint {
    fn resolve_endpoint<'a>(
        &'a self,
        _params: &'a aws_sdk_s3control::config::endpoint::Params,
    ) -> aws_sdk_s3control::config::endpoint::EndpointFuture<'a> {
        let endpoint = aws_smithy_types::endpoint::Endpoint::builder()
            .url(self.0.clone())
            .build();
        aws_sdk_s3control::config::endpoint::EndpointFuture::ready(Ok(endpoint))
    }
}

/// Re-types an error or not-collected value (it has no data to convert).
trait MapNone<T> {
    fn map_none<U>(self) -> Collected<U>;
}

impl<T> MapNone<T> for Collected<T> {
    fn map_none<U>(self) -> Collected<U> {
        match self {
            Collected::Error {
                call,
                code,
                message,
            } => Collected::Error {
                call,
                code,
                message,
            },
            _ => Collected::NotCollected,
        }
    }
}

/// sso-admin:ListInstances in the home region: the IAM Identity Center instance, if any (an
/// account or organisation has at most one, in the region where it was enabled; scanning
/// with that region as home finds it).
pub(crate) async fn sso_instances(
    env: &Env,
    cfg: &SdkConfig,
    region: &str,
) -> Collected<Vec<SsoInstance>> {
    let Some(g) = env.group("sso-admin", region) else {
        return Collected::NotCollected;
    };
    let c = aws_sdk_ssoadmin::Client::new(cfg);
    collected(
        g.pages(
            "ListInstances",
            c.list_instances().into_paginator().send(),
            |page| {
                page.instances()
                    .iter()
                    .map(|i| SsoInstance {
                        instance_arn: text(i.instance_arn()),
                        identity_store_id: text(i.identity_store_id()),
                        status: i.status().map(|s| s.as_str().to_string()),
                    })
                    .collect()
            },
        )
        .await,
    )
}

/// organizations:DescribeOrganization and the service control policies.
pub(crate) async fn organization(
    env: &Env,
    cfg: &SdkConfig,
    region: &str,
) -> (
    Collected<Option<Organization>>,
    Collected<Vec<ServiceControlPolicy>>,
) {
    let Some(g) = env.group("organizations", region) else {
        return (Collected::NotCollected, Collected::NotCollected);
    };
    let c = aws_sdk_organizations::Client::new(cfg);
    let described = g
        .call("DescribeOrganization", c.describe_organization().send())
        .await
        .map(|out| {
            out.organization().map(|o| Organization {
                id: text(o.id()),
                arn: text(o.arn()),
                master_account_id: text(o.master_account_id()),
                feature_set: o
                    .feature_set()
                    .map(|f| f.as_str().to_string())
                    .unwrap_or_default(),
            })
        });
    let organization = match optional(described, &["AWSOrganizationsNotInUseException"]) {
        Collected::Ok(found) => Collected::Ok(found.flatten()),
        other => other.map_none(),
    };
    let policies = match &organization {
        // Outside an organisation there are no SCPs to read.
        Collected::Ok(None) => Collected::Ok(Vec::new()),
        _ => collected(service_control_policies(&g, &c).await),
    };
    (organization, policies)
}

async fn service_control_policies(
    g: &Group,
    c: &aws_sdk_organizations::Client,
) -> Result<Vec<ServiceControlPolicy>, CallError> {
    use aws_sdk_organizations::types::PolicyType;
    let pages = c
        .list_policies()
        .filter(PolicyType::ServiceControlPolicy)
        .into_paginator()
        .send();
    let listed = g
        .pages("ListPolicies", pages, |p| p.policies.unwrap_or_default())
        .await?;
    let detailed = listed.iter().map(|p| async move {
        let id = text(p.id());
        let (content, targets) = tokio::join!(
            g.call("DescribePolicy", c.describe_policy().policy_id(&id).send()),
            g.pages(
                "ListTargetsForPolicy",
                c.list_targets_for_policy()
                    .policy_id(&id)
                    .into_paginator()
                    .send(),
                |page| page
                    .targets
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|t| opt(t.target_id()))
                    .collect()
            ),
        );
        Ok::<_, CallError>(ServiceControlPolicy {
            id: id.clone(),
            name: text(p.name()),
            arn: text(p.arn()),
            aws_managed: p.aws_managed(),
            content: content?
                .policy()
                .and_then(|p| opt(p.content()))
                .unwrap_or_default(),
            targets: targets?,
        })
    });
    join_all(detailed).await.into_iter().collect()
}

/// cloudfront:ListDistributions, each with GetDistributionConfig for its logging.
pub(crate) async fn cloudfront(
    env: &Env,
    cfg: &SdkConfig,
    region: &str,
) -> Collected<Vec<CloudFrontDistribution>> {
    let Some(g) = env.group("cloudfront", region) else {
        return Collected::NotCollected;
    };
    let c = aws_sdk_cloudfront::Client::new(cfg);
    let pages = c.list_distributions().into_paginator().send();
    let listed = match g
        .pages("ListDistributions", pages, |p| {
            p.distribution_list
                .map(|l| l.items.unwrap_or_default())
                .unwrap_or_default()
        })
        .await
    {
        Ok(listed) => listed,
        Err(err) => return err.collected(),
    };
    let detailed = listed.iter().map(|d| {
        let (g, c) = (&g, &c);
        async move {
            let config = g
                .call(
                    "GetDistributionConfig",
                    c.get_distribution_config().id(d.id()).send(),
                )
                .await?;
            let logging = config.distribution_config().and_then(|c| c.logging());
            Ok::<_, CallError>(CloudFrontDistribution {
                id: d.id().to_string(),
                arn: d.arn().to_string(),
                domain_name: d.domain_name().to_string(),
                logging_enabled: logging.is_some_and(|l| l.enabled()),
                logging_bucket: logging
                    .map(|l| l.bucket().to_string())
                    .filter(|b| !b.is_empty()),
            })
        }
    });
    collected(join_all(detailed).await.into_iter().collect())
}
