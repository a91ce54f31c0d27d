//! Logging and detection services, per region.

use aws_config::SdkConfig;
use futures_util::future::join_all;
use vigil_posture::snapshot::{
    AccessAnalyzer, AdvancedEventSelector, ConfigRecorder, ConfigRecorderStatus, DataResource,
    EventRule, EventSelector, FieldSelector, GuardDutyDetector, LoggingData, MacieSession,
    MetricAlarm, MetricFilter, MetricTransformation, SecurityHub, SnsSubscription, Trail,
    TrailSelectors, TrailStatus,
};
use vigil_posture::Collected;

use crate::call::{collected, optional, CallError, Group};
use crate::convert::{opt, opt_time, text};
use crate::run::Env;

/// Every logging and detection service of one region.
pub(crate) async fn collect(env: &Env, cfg: &SdkConfig, region: &str) -> LoggingData {
    let (
        trails,
        (config_recorders, config_recorder_statuses),
        metric_filters,
        metric_alarms,
        sns_subscriptions,
        security_hub,
        guardduty_detectors,
        macie_session,
        access_analyzers,
        eventbridge_rules,
    ) = tokio::join!(
        trails(env, cfg, region),
        config(env, cfg, region),
        metric_filters(env, cfg, region),
        metric_alarms(env, cfg, region),
        sns_subscriptions(env, cfg, region),
        security_hub(env, cfg, region),
        guardduty(env, cfg, region),
        macie(env, cfg, region),
        access_analyzers(env, cfg, region),
        event_rules(env, cfg, region),
    );
    LoggingData {
        trails,
        config_recorders,
        config_recorder_statuses,
        metric_filters,
        metric_alarms,
        sns_subscriptions,
        security_hub,
        guardduty_detectors,
        macie_session,
        access_analyzers,
        eventbridge_rules,
    }
}

async fn trails(env: &Env, cfg: &SdkConfig, region: &str) -> Collected<Vec<Trail>> {
    let Some(g) = env.group("cloudtrail", region) else {
        return Collected::NotCollected;
    };
    let c = aws_sdk_cloudtrail::Client::new(cfg);
    let listed = match g
        .call(
            "DescribeTrails",
            c.describe_trails().include_shadow_trails(true).send(),
        )
        .await
    {
        Ok(out) => out.trail_list.unwrap_or_default(),
        Err(err) => return err.collected(),
    };
    let detailed = listed.iter().map(|t| {
        let (g, c) = (&g, &c);
        async move {
            // Shadow trails (of another home region) are addressed by ARN.
            let arn = text(t.trail_arn());
            let (status, selectors) = tokio::join!(
                g.call("GetTrailStatus", c.get_trail_status().name(&arn).send()),
                g.call(
                    "GetEventSelectors",
                    c.get_event_selectors().trail_name(&arn).send()
                ),
            );
            Trail {
                name: text(t.name()),
                trail_arn: arn,
                home_region: text(t.home_region()),
                s3_bucket_name: opt(t.s3_bucket_name()),
                is_multi_region_trail: t.is_multi_region_trail().unwrap_or(false),
                is_organization_trail: t.is_organization_trail().unwrap_or(false),
                include_global_service_events: t.include_global_service_events().unwrap_or(false),
                log_file_validation_enabled: t.log_file_validation_enabled().unwrap_or(false),
                kms_key_id: opt(t.kms_key_id()),
                cloud_watch_logs_log_group_arn: opt(t.cloud_watch_logs_log_group_arn()),
                sns_topic_arn: opt(t.sns_topic_arn()),
                status: collected(status.map(|s| TrailStatus {
                    is_logging: s.is_logging().unwrap_or(false),
                    latest_delivery_time: opt_time(s.latest_delivery_time()),
                    latest_cloud_watch_logs_delivery_time: opt_time(
                        s.latest_cloud_watch_logs_delivery_time(),
                    ),
                    latest_delivery_error: opt(s.latest_delivery_error()),
                })),
                selectors: collected(selectors.map(|s| trail_selectors(&s))),
            }
        }
    });
    Collected::Ok(join_all(detailed).await)
}

fn trail_selectors(
    s: &aws_sdk_cloudtrail::operation::get_event_selectors::GetEventSelectorsOutput,
) -> TrailSelectors {
    TrailSelectors {
        event_selectors: s
            .event_selectors()
            .iter()
            .map(|e| EventSelector {
                read_write_type: e
                    .read_write_type()
                    .map(|t| t.as_str().to_string())
                    .unwrap_or_else(|| "All".into()),
                include_management_events: e.include_management_events().unwrap_or(true),
                data_resources: e
                    .data_resources()
                    .iter()
                    .map(|d| DataResource {
                        kind: text(d.r#type()),
                        values: d.values().to_vec(),
                    })
                    .collect(),
                exclude_management_event_sources: e.exclude_management_event_sources().to_vec(),
            })
            .collect(),
        advanced_event_selectors: s
            .advanced_event_selectors()
            .iter()
            .map(|a| AdvancedEventSelector {
                name: opt(a.name()),
                field_selectors: a
                    .field_selectors()
                    .iter()
                    .map(|f| FieldSelector {
                        field: f.field().to_string(),
                        equals: f.equals().to_vec(),
                        starts_with: f.starts_with().to_vec(),
                        ends_with: f.ends_with().to_vec(),
                        not_equals: f.not_equals().to_vec(),
                        not_starts_with: f.not_starts_with().to_vec(),
                        not_ends_with: f.not_ends_with().to_vec(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

async fn config(
    env: &Env,
    cfg: &SdkConfig,
    region: &str,
) -> (
    Collected<Vec<ConfigRecorder>>,
    Collected<Vec<ConfigRecorderStatus>>,
) {
    let Some(g) = env.group("config", region) else {
        return (Collected::NotCollected, Collected::NotCollected);
    };
    let c = aws_sdk_config::Client::new(cfg);
    let (recorders, statuses) = tokio::join!(
        g.call(
            "DescribeConfigurationRecorders",
            c.describe_configuration_recorders().send()
        ),
        g.call(
            "DescribeConfigurationRecorderStatus",
            c.describe_configuration_recorder_status().send()
        ),
    );
    let recorders = recorders.map(|out| {
        out.configuration_recorders()
            .iter()
            .map(|r| {
                let group = r.recording_group();
                ConfigRecorder {
                    name: text(r.name()),
                    role_arn: opt(r.role_arn()),
                    all_supported: group.is_some_and(|g| g.all_supported()),
                    include_global_resource_types: group
                        .is_some_and(|g| g.include_global_resource_types()),
                    recording_strategy: group
                        .and_then(|g| g.recording_strategy())
                        .and_then(|s| s.use_only())
                        .map(|u| u.as_str().to_string()),
                }
            })
            .collect()
    });
    let statuses = statuses.map(|out| {
        out.configuration_recorders_status()
            .iter()
            .map(|s| ConfigRecorderStatus {
                name: text(s.name()),
                recording: s.recording(),
                last_status: s.last_status().map(|l| l.as_str().to_string()),
            })
            .collect()
    });
    (collected(recorders), collected(statuses))
}

async fn metric_filters(env: &Env, cfg: &SdkConfig, region: &str) -> Collected<Vec<MetricFilter>> {
    let Some(g) = env.group("logs", region) else {
        return Collected::NotCollected;
    };
    let c = aws_sdk_cloudwatchlogs::Client::new(cfg);
    let pages = c.describe_metric_filters().into_paginator().send();
    collected(
        g.pages("DescribeMetricFilters", pages, |p| {
            p.metric_filters
                .unwrap_or_default()
                .iter()
                .map(|f| MetricFilter {
                    filter_name: text(f.filter_name()),
                    log_group_name: text(f.log_group_name()),
                    filter_pattern: text(f.filter_pattern()),
                    metric_transformations: f
                        .metric_transformations()
                        .iter()
                        .map(|t| MetricTransformation {
                            metric_name: t.metric_name().to_string(),
                            metric_namespace: t.metric_namespace().to_string(),
                        })
                        .collect(),
                })
                .collect()
        })
        .await,
    )
}

async fn metric_alarms(env: &Env, cfg: &SdkConfig, region: &str) -> Collected<Vec<MetricAlarm>> {
    let Some(g) = env.group("cloudwatch", region) else {
        return Collected::NotCollected;
    };
    let c = aws_sdk_cloudwatch::Client::new(cfg);
    let pages = c.describe_alarms().into_paginator().send();
    collected(
        g.pages("DescribeAlarms", pages, |p| {
            p.metric_alarms
                .unwrap_or_default()
                .iter()
                .map(|a| MetricAlarm {
                    alarm_name: text(a.alarm_name()),
                    alarm_arn: text(a.alarm_arn()),
                    metric_name: opt(a.metric_name()),
                    namespace: opt(a.namespace()),
                    actions_enabled: a.actions_enabled().unwrap_or(false),
                    alarm_actions: a.alarm_actions().to_vec(),
                })
                .collect()
        })
        .await,
    )
}

async fn sns_subscriptions(
    env: &Env,
    cfg: &SdkConfig,
    region: &str,
) -> Collected<Vec<SnsSubscription>> {
    let Some(g) = env.group("sns", region) else {
        return Collected::NotCollected;
    };
    let c = aws_sdk_sns::Client::new(cfg);
    let pages = c.list_subscriptions().into_paginator().send();
    collected(
        g.pages("ListSubscriptions", pages, |p| {
            p.subscriptions
                .unwrap_or_default()
                .iter()
                .map(|s| SnsSubscription {
                    topic_arn: text(s.topic_arn()),
                    subscription_arn: text(s.subscription_arn()),
                    protocol: text(s.protocol()),
                    endpoint: text(s.endpoint()),
                })
                .collect()
        })
        .await,
    )
}

async fn security_hub(env: &Env, cfg: &SdkConfig, region: &str) -> Collected<Option<SecurityHub>> {
    let Some(g) = env.group("securityhub", region) else {
        return Collected::NotCollected;
    };
    let c = aws_sdk_securityhub::Client::new(cfg);
    let out = g
        .call("DescribeHub", c.describe_hub().send())
        .await
        .map(|out| SecurityHub {
            hub_arn: text(out.hub_arn()),
            subscribed_at: out
                .subscribed_at()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&chrono::Utc)),
        });
    // "Account is not subscribed to AWS Security Hub" is the answer "off".
    optional(out, &["InvalidAccessException"])
}

async fn guardduty(env: &Env, cfg: &SdkConfig, region: &str) -> Collected<Vec<GuardDutyDetector>> {
    let Some(g) = env.group("guardduty", region) else {
        return Collected::NotCollected;
    };
    let c = aws_sdk_guardduty::Client::new(cfg);
    let pages = c.list_detectors().into_paginator().send();
    let ids = match g
        .pages("ListDetectors", pages, |p| {
            p.detector_ids.unwrap_or_default()
        })
        .await
    {
        Ok(ids) => ids,
        Err(err) => return err.collected(),
    };
    let detectors = ids.into_iter().map(|id| {
        let (g, c) = (&g, &c);
        async move {
            let out = g
                .call("GetDetector", c.get_detector().detector_id(&id).send())
                .await?;
            Ok::<_, CallError>(GuardDutyDetector {
                detector_id: id,
                status: out
                    .status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
            })
        }
    });
    collected(join_all(detectors).await.into_iter().collect())
}

async fn macie(env: &Env, cfg: &SdkConfig, region: &str) -> Collected<Option<MacieSession>> {
    let Some(g) = env.group("macie2", region) else {
        return Collected::NotCollected;
    };
    let c = aws_sdk_macie2::Client::new(cfg);
    let out = g
        .call("GetMacieSession", c.get_macie_session().send())
        .await;
    macie_session(out.map(|s| {
        MacieSession {
            status: s
                .status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            created_at: opt_time(s.created_at()),
        }
    }))
}

/// Macie answers "not enabled" with an AccessDeniedException; only that message is "off",
/// any other denial stays an error.
fn macie_session(out: Result<MacieSession, CallError>) -> Collected<Option<MacieSession>> {
    match out {
        Ok(session) => Collected::Ok(Some(session)),
        Err(err)
            if err.is(&["AccessDeniedException"])
                && err.message.to_ascii_lowercase().contains("not enabled") =>
        {
            Collected::Ok(None)
        }
        Err(err) => err.collected(),
    }
}

async fn access_analyzers(
    env: &Env,
    cfg: &SdkConfig,
    region: &str,
) -> Collected<Vec<AccessAnalyzer>> {
    let Some(g) = env.group("access-analyzer", region) else {
        return Collected::NotCollected;
    };
    let c = aws_sdk_accessanalyzer::Client::new(cfg);
    let pages = c.list_analyzers().into_paginator().send();
    collected(
        g.pages("ListAnalyzers", pages, |p| {
            p.analyzers
                .iter()
                .map(|a| AccessAnalyzer {
                    arn: a.arn().to_string(),
                    name: a.name().to_string(),
                    kind: a.r#type().as_str().to_string(),
                    status: a.status().as_str().to_string(),
                })
                .collect()
        })
        .await,
    )
}

async fn event_rules(env: &Env, cfg: &SdkConfig, region: &str) -> Collected<Vec<EventRule>> {
    let Some(g) = env.group("events", region) else {
        return Collected::NotCollected;
    };
    let c = aws_sdk_eventbridge::Client::new(cfg);
    collected(rules_of_every_bus(&g, &c).await)
}

async fn rules_of_every_bus(
    g: &Group,
    c: &aws_sdk_eventbridge::Client,
) -> Result<Vec<EventRule>, CallError> {
    let buses = g
        .token_pages(
            "ListEventBuses",
            |token| c.list_event_buses().set_next_token(token).send(),
            |p| opt(p.next_token()),
        )
        .await?;
    let names: Vec<String> = buses
        .iter()
        .flat_map(|p| p.event_buses().iter().filter_map(|b| opt(b.name())))
        .collect();
    let mut rules = Vec::new();
    for bus in &names {
        let pages = g
            .token_pages(
                "ListRules",
                |token| {
                    c.list_rules()
                        .event_bus_name(bus)
                        .set_next_token(token)
                        .send()
                },
                |p| opt(p.next_token()),
            )
            .await?;
        rules.extend(pages.iter().flat_map(|p| p.rules().to_vec()));
    }
    let detailed = rules.iter().map(|r| async move {
        let name = text(r.name());
        let bus = r.event_bus_name().unwrap_or("default").to_string();
        let targets = g
            .token_pages(
                "ListTargetsByRule",
                |token| {
                    c.list_targets_by_rule()
                        .rule(&name)
                        .event_bus_name(&bus)
                        .set_next_token(token)
                        .send()
                },
                |p| opt(p.next_token()),
            )
            .await
            .map(|pages| {
                pages
                    .iter()
                    .flat_map(|p| p.targets().iter().map(|t| t.arn().to_string()))
                    .collect()
            });
        EventRule {
            name: name.clone(),
            arn: text(r.arn()),
            event_bus_name: bus.clone(),
            state: r
                .state()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            event_pattern: opt(r.event_pattern()),
            targets: collected(targets),
        }
    });
    Ok(join_all(detailed).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macie_not_enabled_is_data_but_other_denials_are_errors() {
        let off = CallError::new(
            "macie2:GetMacieSession",
            "AccessDeniedException",
            "Macie is not enabled.",
        );
        assert_eq!(macie_session(Err(off)), Collected::Ok(None));
        let denied = CallError::new(
            "macie2:GetMacieSession",
            "AccessDeniedException",
            "User is not authorized",
        );
        assert!(macie_session(Err(denied)).is_error());
    }
}
