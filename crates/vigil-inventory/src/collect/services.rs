//! Data and edge services, per region: RDS, EFS, KMS, Secrets Manager, load balancers and
//! API Gateway.

use aws_config::SdkConfig;
use futures_util::future::join_all;
use vigil_posture::snapshot::{
    ApiGatewayStage, ClassicLoadBalancer, DbInstance, DbSnapshot, EfsFileSystem, KmsKey,
    LoadBalancer, Secret, ServicesData,
};
use vigil_posture::Collected;

use crate::call::{collected, CallError, Group};
use crate::convert::{opt, opt_time, text};
use crate::run::Env;

/// Every data service of one region.
pub(crate) async fn collect(env: &Env, cfg: &SdkConfig, region: &str) -> ServicesData {
    let (
        (db_instances, db_snapshots, db_cluster_snapshots),
        efs_file_systems,
        kms_keys,
        secrets,
        load_balancers,
        classic_load_balancers,
        api_gateway_stages,
    ) = tokio::join!(
        rds(env, cfg, region),
        efs(env, cfg, region),
        kms(env, cfg, region),
        secrets(env, cfg, region),
        load_balancers(env, cfg, region),
        classic_load_balancers(env, cfg, region),
        api_gateway(env, cfg, region),
    );
    ServicesData {
        db_instances,
        db_snapshots,
        db_cluster_snapshots,
        efs_file_systems,
        kms_keys,
        secrets,
        load_balancers,
        classic_load_balancers,
        api_gateway_stages,
    }
}

type RdsData = (
    Collected<Vec<DbInstance>>,
    Collected<Vec<DbSnapshot>>,
    Collected<Vec<DbSnapshot>>,
);

async fn rds(env: &Env, cfg: &SdkConfig, region: &str) -> RdsData {
    let Some(g) = env.group("rds", region) else {
        return Default::default();
    };
    let c = aws_sdk_rds::Client::new(cfg);
    let (instances, snapshots, cluster_snapshots) = tokio::join!(
        g.pages(
            "DescribeDBInstances",
            c.describe_db_instances().into_paginator().send(),
            |p| {
                p.db_instances
                    .unwrap_or_default()
                    .iter()
                    .map(|d| DbInstance {
                        db_instance_identifier: text(d.db_instance_identifier()),
                        db_instance_arn: text(d.db_instance_arn()),
                        engine: text(d.engine()),
                        publicly_accessible: d.publicly_accessible().unwrap_or(false),
                        auto_minor_version_upgrade: d.auto_minor_version_upgrade().unwrap_or(false),
                        storage_encrypted: d.storage_encrypted().unwrap_or(false),
                        kms_key_id: opt(d.kms_key_id()),
                    })
                    .collect()
            }
        ),
        db_snapshots(&g, &c),
        db_cluster_snapshots(&g, &c),
    );
    (collected(instances), snapshots, cluster_snapshots)
}

/// The values of the `restore` attribute (`all` = public).
fn restore_values<'a>(
    attributes: impl Iterator<Item = (Option<&'a str>, &'a [String])>,
) -> Vec<String> {
    attributes
        .filter(|(name, _)| *name == Some("restore"))
        .flat_map(|(_, values)| values.iter().cloned())
        .collect()
}

async fn db_snapshots(g: &Group, c: &aws_sdk_rds::Client) -> Collected<Vec<DbSnapshot>> {
    let pages = c
        .describe_db_snapshots()
        .snapshot_type("manual")
        .into_paginator()
        .send();
    let listed = match g
        .pages("DescribeDBSnapshots", pages, |p| {
            p.db_snapshots.unwrap_or_default()
        })
        .await
    {
        Ok(listed) => listed,
        Err(err) => return err.collected(),
    };
    let detailed = listed.iter().map(|s| async move {
        let id = text(s.db_snapshot_identifier());
        let restore = g
            .call(
                "DescribeDBSnapshotAttributes",
                c.describe_db_snapshot_attributes()
                    .db_snapshot_identifier(&id)
                    .send(),
            )
            .await
            .map(|out| {
                let attributes = out
                    .db_snapshot_attributes_result()
                    .map(|r| r.db_snapshot_attributes())
                    .unwrap_or_default();
                restore_values(
                    attributes
                        .iter()
                        .map(|a| (a.attribute_name(), a.attribute_values())),
                )
            });
        DbSnapshot {
            snapshot_identifier: id,
            snapshot_arn: text(s.db_snapshot_arn()),
            encrypted: s.encrypted().unwrap_or(false),
            restore_attribute: collected(restore),
        }
    });
    Collected::Ok(join_all(detailed).await)
}

async fn db_cluster_snapshots(g: &Group, c: &aws_sdk_rds::Client) -> Collected<Vec<DbSnapshot>> {
    let pages = c
        .describe_db_cluster_snapshots()
        .snapshot_type("manual")
        .into_paginator()
        .send();
    let listed = match g
        .pages("DescribeDBClusterSnapshots", pages, |p| {
            p.db_cluster_snapshots.unwrap_or_default()
        })
        .await
    {
        Ok(listed) => listed,
        Err(err) => return err.collected(),
    };
    let detailed = listed.iter().map(|s| async move {
        let id = text(s.db_cluster_snapshot_identifier());
        let restore = g
            .call(
                "DescribeDBClusterSnapshotAttributes",
                c.describe_db_cluster_snapshot_attributes()
                    .db_cluster_snapshot_identifier(&id)
                    .send(),
            )
            .await
            .map(|out| {
                let attributes = out
                    .db_cluster_snapshot_attributes_result()
                    .map(|r| r.db_cluster_snapshot_attributes())
                    .unwrap_or_default();
                restore_values(
                    attributes
                        .iter()
                        .map(|a| (a.attribute_name(), a.attribute_values())),
                )
            });
        DbSnapshot {
            snapshot_identifier: id,
            snapshot_arn: text(s.db_cluster_snapshot_arn()),
            encrypted: s.storage_encrypted().unwrap_or(false),
            restore_attribute: collected(restore),
        }
    });
    Collected::Ok(join_all(detailed).await)
}

async fn efs(env: &Env, cfg: &SdkConfig, region: &str) -> Collected<Vec<EfsFileSystem>> {
    let Some(g) = env.group("efs", region) else {
        return Collected::NotCollected;
    };
    let c = aws_sdk_efs::Client::new(cfg);
    let pages = c.describe_file_systems().into_paginator().send();
    collected(
        g.pages("DescribeFileSystems", pages, |p| {
            p.file_systems
                .unwrap_or_default()
                .iter()
                .map(|f| EfsFileSystem {
                    file_system_id: f.file_system_id().to_string(),
                    file_system_arn: text(f.file_system_arn()),
                    encrypted: f.encrypted().unwrap_or(false),
                    kms_key_id: opt(f.kms_key_id()),
                })
                .collect()
        })
        .await,
    )
}

async fn kms(env: &Env, cfg: &SdkConfig, region: &str) -> Collected<Vec<KmsKey>> {
    let Some(g) = env.group("kms", region) else {
        return Collected::NotCollected;
    };
    let c = aws_sdk_kms::Client::new(cfg);
    let pages = c.list_keys().into_paginator().send();
    let ids = match g
        .pages("ListKeys", pages, |p| {
            p.keys
                .unwrap_or_default()
                .iter()
                .filter_map(|k| opt(k.key_id()))
                .collect()
        })
        .await
    {
        Ok(ids) => ids,
        Err(err) => return err.collected(),
    };
    let keys = ids.into_iter().map(|id| {
        let (g, c) = (&g, &c);
        async move { key(g, c, id).await }
    });
    collected(join_all(keys).await.into_iter().collect())
}

async fn key(g: &Group, c: &aws_sdk_kms::Client, id: String) -> Result<KmsKey, CallError> {
    let described = g
        .call("DescribeKey", c.describe_key().key_id(&id).send())
        .await?;
    let meta = described.key_metadata();
    let key_spec = meta
        .and_then(|m| m.key_spec())
        .map(|s| s.as_str().to_string())
        .unwrap_or_default();
    let key_manager = meta
        .and_then(|m| m.key_manager())
        .map(|s| s.as_str().to_string())
        .unwrap_or_default();
    let key_state = meta
        .and_then(|m| m.key_state())
        .map(|s| s.as_str().to_string())
        .unwrap_or_default();
    // Rotation applies to symmetric keys only; for others, and for keys pending deletion
    // (whose calls fail with KMSInvalidStateException), it is not asked.
    let rotatable = key_spec == "SYMMETRIC_DEFAULT" && key_state != "PendingDeletion";
    let (rotation, policy) = tokio::join!(
        async {
            if rotatable {
                collected(
                    g.call(
                        "GetKeyRotationStatus",
                        c.get_key_rotation_status().key_id(&id).send(),
                    )
                    .await
                    .map(|o| o.key_rotation_enabled()),
                )
            } else {
                Collected::NotCollected
            }
        },
        g.call(
            "GetKeyPolicy",
            c.get_key_policy().key_id(&id).policy_name("default").send()
        ),
    );
    Ok(KmsKey {
        key_id: id,
        arn: meta.and_then(|m| opt(m.arn())).unwrap_or_default(),
        key_manager,
        key_state,
        key_spec,
        origin: meta
            .and_then(|m| m.origin())
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        deletion_date: meta.and_then(|m| opt_time(m.deletion_date())),
        rotation_enabled: rotation,
        policy: collected(policy.map(|o| text(o.policy()))),
    })
}

async fn secrets(env: &Env, cfg: &SdkConfig, region: &str) -> Collected<Vec<Secret>> {
    let Some(g) = env.group("secretsmanager", region) else {
        return Collected::NotCollected;
    };
    let c = aws_sdk_secretsmanager::Client::new(cfg);
    let pages = c.list_secrets().into_paginator().send();
    collected(
        g.pages("ListSecrets", pages, |p| {
            p.secret_list
                .unwrap_or_default()
                .iter()
                .map(|s| Secret {
                    arn: text(s.arn()),
                    name: text(s.name()),
                    rotation_enabled: s.rotation_enabled().unwrap_or(false),
                    last_rotated_date: opt_time(s.last_rotated_date()),
                })
                .collect()
        })
        .await,
    )
}

async fn load_balancers(env: &Env, cfg: &SdkConfig, region: &str) -> Collected<Vec<LoadBalancer>> {
    let Some(g) = env.group("elbv2", region) else {
        return Collected::NotCollected;
    };
    let c = aws_sdk_elasticloadbalancingv2::Client::new(cfg);
    let pages = c.describe_load_balancers().into_paginator().send();
    let listed = match g
        .pages("DescribeLoadBalancers", pages, |p| {
            p.load_balancers.unwrap_or_default()
        })
        .await
    {
        Ok(listed) => listed,
        Err(err) => return err.collected(),
    };
    let detailed = listed.iter().map(|lb| {
        let (g, c) = (&g, &c);
        async move {
            let arn = text(lb.load_balancer_arn());
            let attributes = g
                .call(
                    "DescribeLoadBalancerAttributes",
                    c.describe_load_balancer_attributes()
                        .load_balancer_arn(&arn)
                        .send(),
                )
                .await
                .map(|out| {
                    out.attributes()
                        .iter()
                        .filter_map(|a| Some((a.key()?.to_string(), text(a.value()))))
                        .collect()
                });
            LoadBalancer {
                load_balancer_arn: arn,
                load_balancer_name: text(lb.load_balancer_name()),
                kind: lb
                    .r#type()
                    .map(|t| t.as_str().to_string())
                    .unwrap_or_default(),
                scheme: lb
                    .scheme()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
                attributes: collected(attributes),
            }
        }
    });
    Collected::Ok(join_all(detailed).await)
}

async fn classic_load_balancers(
    env: &Env,
    cfg: &SdkConfig,
    region: &str,
) -> Collected<Vec<ClassicLoadBalancer>> {
    let Some(g) = env.group("elb", region) else {
        return Collected::NotCollected;
    };
    let c = aws_sdk_elasticloadbalancing::Client::new(cfg);
    let pages = c.describe_load_balancers().into_paginator().send();
    let listed = match g
        .pages("DescribeLoadBalancers", pages, |p| {
            p.load_balancer_descriptions.unwrap_or_default()
        })
        .await
    {
        Ok(listed) => listed,
        Err(err) => return err.collected(),
    };
    let detailed = listed.iter().map(|lb| {
        let (g, c) = (&g, &c);
        async move {
            let name = text(lb.load_balancer_name());
            let access_log = g
                .call(
                    "DescribeLoadBalancerAttributes",
                    c.describe_load_balancer_attributes()
                        .load_balancer_name(&name)
                        .send(),
                )
                .await
                .map(|out| {
                    out.load_balancer_attributes()
                        .and_then(|a| a.access_log())
                        .is_some_and(|l| l.enabled())
                });
            ClassicLoadBalancer {
                load_balancer_name: name,
                scheme: text(lb.scheme()),
                access_log_enabled: collected(access_log),
            }
        }
    });
    Collected::Ok(join_all(detailed).await)
}

async fn api_gateway(env: &Env, cfg: &SdkConfig, region: &str) -> Collected<Vec<ApiGatewayStage>> {
    let Some(g) = env.group("apigateway", region) else {
        return Collected::NotCollected;
    };
    let c = aws_sdk_apigateway::Client::new(cfg);
    let pages = c.get_rest_apis().into_paginator().send();
    let apis = match g
        .pages("GetRestApis", pages, |p| p.items.unwrap_or_default())
        .await
    {
        Ok(apis) => apis,
        Err(err) => return err.collected(),
    };
    let stages = apis.iter().map(|api| {
        let (g, c) = (&g, &c);
        async move {
            let id = text(api.id());
            let out = g
                .call("GetStages", c.get_stages().rest_api_id(&id).send())
                .await?;
            Ok::<_, CallError>(
                out.item()
                    .iter()
                    .map(|s| ApiGatewayStage {
                        rest_api_id: id.clone(),
                        rest_api_name: text(api.name()),
                        stage_name: text(s.stage_name()),
                        logging_level: s
                            .method_settings()
                            .and_then(|m| m.get("*/*"))
                            .and_then(|m| opt(m.logging_level())),
                        access_log_destination_arn: s
                            .access_log_settings()
                            .and_then(|a| opt(a.destination_arn())),
                    })
                    .collect::<Vec<_>>(),
            )
        }
    });
    let stages: Result<Vec<Vec<ApiGatewayStage>>, CallError> =
        join_all(stages).await.into_iter().collect();
    collected(stages.map(|s| s.into_iter().flatten().collect()))
}
