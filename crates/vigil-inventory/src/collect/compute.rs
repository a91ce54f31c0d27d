//! Compute services besides EC2, per region: Systems Manager, Lambda, EKS.

use aws_config::SdkConfig;
use futures_util::future::join_all;
use vigil_posture::snapshot::{EksCluster, LambdaFunction, ManagedInstance};
use vigil_posture::Collected;

use crate::call::{collected, optional, CallError};
use crate::convert::{opt, opt_time, text};
use crate::run::Env;

/// ssm:DescribeInstanceInformation.
pub(crate) async fn ssm(
    env: &Env,
    cfg: &SdkConfig,
    region: &str,
) -> Collected<Vec<ManagedInstance>> {
    let Some(g) = env.group("ssm", region) else {
        return Collected::NotCollected;
    };
    let c = aws_sdk_ssm::Client::new(cfg);
    let pages = c.describe_instance_information().into_paginator().send();
    collected(
        g.pages("DescribeInstanceInformation", pages, |p| {
            p.instance_information_list
                .unwrap_or_default()
                .iter()
                .map(|i| ManagedInstance {
                    instance_id: text(i.instance_id()),
                    ping_status: i
                        .ping_status()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                    last_ping_date_time: opt_time(i.last_ping_date_time()),
                    agent_version: opt(i.agent_version()),
                    platform_name: opt(i.platform_name()),
                })
                .collect()
        })
        .await,
    )
}

/// lambda:ListFunctions, each with GetPolicy (ResourceNotFoundException = no policy).
pub(crate) async fn lambda(
    env: &Env,
    cfg: &SdkConfig,
    region: &str,
) -> Collected<Vec<LambdaFunction>> {
    let Some(g) = env.group("lambda", region) else {
        return Collected::NotCollected;
    };
    let c = aws_sdk_lambda::Client::new(cfg);
    let pages = c.list_functions().into_paginator().send();
    let listed = match g
        .pages("ListFunctions", pages, |p| p.functions.unwrap_or_default())
        .await
    {
        Ok(listed) => listed,
        Err(err) => return err.collected(),
    };
    let detailed = listed.iter().map(|f| {
        let (g, c) = (&g, &c);
        async move {
            let name = text(f.function_name());
            let policy = g
                .call("GetPolicy", c.get_policy().function_name(&name).send())
                .await
                .map(|out| opt(out.policy()));
            LambdaFunction {
                function_name: name,
                function_arn: text(f.function_arn()),
                runtime: f.runtime().map(|r| r.as_str().to_string()),
                policy: match optional(policy, &["ResourceNotFoundException"]) {
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
                },
            }
        }
    });
    Collected::Ok(join_all(detailed).await)
}

/// eks:ListClusters + DescribeCluster.
pub(crate) async fn eks(env: &Env, cfg: &SdkConfig, region: &str) -> Collected<Vec<EksCluster>> {
    let Some(g) = env.group("eks", region) else {
        return Collected::NotCollected;
    };
    let c = aws_sdk_eks::Client::new(cfg);
    let pages = c.list_clusters().into_paginator().send();
    let names = match g
        .pages("ListClusters", pages, |p| p.clusters.unwrap_or_default())
        .await
    {
        Ok(names) => names,
        Err(err) => return err.collected(),
    };
    let detailed = names.into_iter().map(|name| {
        let (g, c) = (&g, &c);
        async move {
            let out = g
                .call("DescribeCluster", c.describe_cluster().name(&name).send())
                .await?;
            let cluster = out.cluster();
            let vpc = cluster.and_then(|c| c.resources_vpc_config());
            Ok::<_, CallError>(EksCluster {
                arn: cluster.and_then(|c| opt(c.arn())).unwrap_or_default(),
                name,
                endpoint_public_access: vpc.is_some_and(|v| v.endpoint_public_access()),
                endpoint_private_access: vpc.is_some_and(|v| v.endpoint_private_access()),
                public_access_cidrs: vpc
                    .map(|v| v.public_access_cidrs().to_vec())
                    .unwrap_or_default(),
            })
        }
    });
    collected(join_all(detailed).await.into_iter().collect())
}
