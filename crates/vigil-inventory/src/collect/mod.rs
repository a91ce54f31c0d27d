//! The collectors, one module per service family, and the assembly of an account's global
//! data and of each region.

mod account;
mod compute;
mod ec2;
pub(crate) mod iam;
mod logging;
pub(crate) mod s3;
mod services;

use aws_config::SdkConfig;
use vigil_posture::snapshot::{AccountSnapshot, RegionSnapshot};

use crate::run::Env;

/// The account-level (global) data, collected in the home region. `account_id` and
/// `regions` are the caller's to fill.
pub(crate) async fn global(env: Env, cfg: SdkConfig, home: String) -> AccountSnapshot {
    let (
        iam,
        alternate_contacts,
        account_public_access_block,
        buckets,
        cloudfront,
        organization,
        sso_instances,
    ) = tokio::join!(
        iam::collect(&env, &cfg, &home),
        account::alternate_contacts(&env, &cfg, &home),
        account::account_public_access_block(&env, &cfg, &home),
        s3::collect(&env, &cfg, &home),
        account::cloudfront(&env, &cfg, &home),
        account::organization(&env, &cfg, &home),
        account::sso_instances(&env, &cfg, &home),
    );
    let (iam, alias) = iam;
    let (organization, service_control_policies) = organization;
    AccountSnapshot {
        alias,
        alternate_contacts,
        iam,
        account_public_access_block,
        buckets,
        cloudfront_distributions: cloudfront,
        organization,
        service_control_policies,
        sso_instances,
        ..AccountSnapshot::default()
    }
}

/// Everything regional of one account in one region.
pub(crate) async fn region(env: Env, cfg: SdkConfig, region: String) -> RegionSnapshot {
    let ((network, mut compute), ssm, lambda, eks, logging, services) = tokio::join!(
        ec2::collect(&env, &cfg, &region),
        compute::ssm(&env, &cfg, &region),
        compute::lambda(&env, &cfg, &region),
        compute::eks(&env, &cfg, &region),
        logging::collect(&env, &cfg, &region),
        services::collect(&env, &cfg, &region),
    );
    compute.ssm_managed_instances = ssm;
    compute.lambda_functions = lambda;
    compute.eks_clusters = eks;
    RegionSnapshot {
        region,
        network,
        compute,
        logging,
        services,
    }
}
