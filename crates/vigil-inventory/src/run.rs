//! One inventory run: resolve accounts and regions, run the collectors of every account and
//! region as their own tasks, and assemble the snapshot.

use std::collections::BTreeSet;
use std::sync::Arc;

use aws_config::SdkConfig;
use chrono::Utc;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use vigil_aws::AwsContext;
use vigil_posture::snapshot::{AccountSnapshot, RegionSnapshot};
use vigil_posture::Snapshot;

use crate::call::{CallError, Group, Recorder};
use crate::collect as collectors;
use crate::{CollectStats, InventoryError, InventoryOptions, ProgressEvent};

/// The services the inventory can collect, by the name used in `service:Operation` call
/// names and in [`InventoryOptions::services`].
pub const SERVICES: &[&str] = &[
    // Global, once per account.
    "iam",
    "account",
    "s3",
    "s3control",
    "cloudfront",
    "organizations",
    "sso-admin",
    // Regional.
    "ec2",
    "ssm",
    "lambda",
    "eks",
    "cloudtrail",
    "config",
    "logs",
    "cloudwatch",
    "sns",
    "securityhub",
    "guardduty",
    "macie2",
    "access-analyzer",
    "events",
    "rds",
    "efs",
    "kms",
    "secretsmanager",
    "elbv2",
    "elb",
    "apigateway",
];

/// How many of [`SERVICES`] are global (collected once per account in the home region).
const GLOBAL_SERVICES: usize = 7;

/// What every collector of one account needs.
#[derive(Clone)]
pub(crate) struct Env {
    pub recorder: Recorder,
    pub account: String,
    pub partition: String,
    /// S3 against an emulator needs path-style addressing.
    pub emulator: bool,
    selected: Arc<Option<BTreeSet<String>>>,
}

impl Env {
    /// A call group for `service` in `region`, or `None` when the service is not selected.
    pub(crate) fn group(&self, service: &'static str, region: &str) -> Option<Group> {
        let on = match self.selected.as_ref() {
            None => true,
            Some(set) => set.contains(service),
        };
        on.then(|| self.recorder.group(service, &self.account, region))
    }
}

pub(crate) async fn collect(
    ctx: &AwsContext,
    opts: &InventoryOptions,
    progress: &dyn Fn(ProgressEvent),
) -> Result<(Snapshot, CollectStats), InventoryError> {
    let selected = check_options(opts)?;
    let (events, mut received) = mpsc::unbounded_channel();
    let recorder = Recorder::new(opts.concurrency, events);
    let scan = tokio::spawn(scan(ctx.clone(), opts.clone(), recorder, selected));
    // Every sender lives in the scan's recorder clones: the channel closes when it ends.
    while let Some(event) = received.recv().await {
        progress(event);
    }
    scan.await
        .map_err(|err| InventoryError::Task(err.to_string()))?
}

fn check_options(opts: &InventoryOptions) -> Result<Option<BTreeSet<String>>, InventoryError> {
    if opts.concurrency == 0 {
        return Err(InventoryError::InvalidOption(
            "concurrency must be at least 1".into(),
        ));
    }
    for account in &opts.accounts {
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InventoryError::InvalidOption(format!(
                "account id {account:?} must be 12 digits"
            )));
        }
    }
    let Some(services) = &opts.services else {
        return Ok(None);
    };
    let mut set = BTreeSet::new();
    for service in services {
        if !SERVICES.contains(&service.as_str()) {
            return Err(InventoryError::InvalidOption(format!(
                "unknown service {service:?}; known services: {}",
                SERVICES.join(", ")
            )));
        }
        set.insert(service.clone());
    }
    Ok(Some(set))
}

async fn scan(
    ctx: AwsContext,
    opts: InventoryOptions,
    recorder: Recorder,
    selected: Option<BTreeSet<String>>,
) -> Result<(Snapshot, CollectStats), InventoryError> {
    let collected_at = Utc::now();
    let home = ctx.region();
    let mut partition = ctx.options().partition.clone();
    let mut accounts = opts.accounts.clone();
    // The caller's own account when none is named (and for the partition).
    let mut caller = None;
    if accounts.is_empty() && !opts.use_organization {
        let identity = ctx.caller_identity(None).await;
        recorder.count("sts", identity.is_err());
        let identity = identity?;
        if partition.is_none() {
            partition = identity.arn.split(':').nth(1).map(str::to_string);
        }
        accounts.push(identity.account.clone());
        caller = Some(identity.account);
    }
    if opts.use_organization {
        for account in organization_accounts(&ctx, &recorder, &home).await? {
            if !accounts.contains(&account) {
                accounts.push(account);
            }
        }
    }
    let regions = resolve_regions(&ctx, &recorder, &opts, &home, accounts.first()).await?;
    recorder.emit(ProgressEvent::Planned {
        accounts: accounts.clone(),
        regions: regions.clone(),
        groups: planned_groups(&selected, accounts.len(), regions.len()),
    });

    let partition = partition.unwrap_or_else(|| "aws".to_string());
    let selected = Arc::new(selected);
    let tasks: Vec<JoinHandle<AccountSnapshot>> = accounts
        .iter()
        .map(|account| {
            let env = Env {
                recorder: recorder.clone(),
                account: account.clone(),
                partition: partition.clone(),
                emulator: ctx.is_emulator(),
                selected: selected.clone(),
            };
            let verify = caller.as_deref() != Some(account.as_str());
            tokio::spawn(scan_account(
                ctx.clone(),
                env,
                home.clone(),
                regions.clone(),
                verify,
            ))
        })
        .collect();
    let mut snapshot = Snapshot {
        collected_at,
        partition,
        regions: regions.clone(),
        ..Snapshot::default()
    };
    for task in tasks {
        let account = task
            .await
            .map_err(|err| InventoryError::Task(err.to_string()))?;
        snapshot.accounts.push(account);
    }
    let (api_calls, api_errors, per_service) = recorder.totals();
    snapshot.finished_at = Some(Utc::now());
    snapshot.api_calls = api_calls;
    snapshot.api_errors = api_errors;
    let stats = CollectStats {
        api_calls,
        api_errors,
        per_service,
    };
    Ok((snapshot, stats))
}

fn planned_groups(selected: &Option<BTreeSet<String>>, accounts: usize, regions: usize) -> usize {
    let on = |s: &&&str| selected.as_ref().is_none_or(|set| set.contains(**s));
    let global = SERVICES[..GLOBAL_SERVICES].iter().filter(on).count();
    let regional = SERVICES[GLOBAL_SERVICES..].iter().filter(on).count();
    accounts * (global + regional * regions)
}

/// The ACTIVE accounts of the organisation.
async fn organization_accounts(
    ctx: &AwsContext,
    recorder: &Recorder,
    home: &str,
) -> Result<Vec<String>, InventoryError> {
    let cfg = ctx.config_for(None, Some(home)).await?;
    let client = aws_sdk_organizations::Client::new(&cfg);
    let group = recorder.group("organizations", "caller", home);
    let pages = client.list_accounts().into_paginator().send();
    let listed = group
        .pages("ListAccounts", pages, |page| {
            page.accounts.unwrap_or_default()
        })
        .await
        .map_err(|e| InventoryError::Organization {
            call: e.call,
            code: e.code,
            message: e.message,
        })?;
    Ok(listed
        .into_iter()
        .filter(|a| a.state().is_none_or(|s| s.as_str() == "ACTIVE"))
        .filter_map(|a| a.id)
        .collect())
}

async fn resolve_regions(
    ctx: &AwsContext,
    recorder: &Recorder,
    opts: &InventoryOptions,
    home: &str,
    first_account: Option<&String>,
) -> Result<Vec<String>, InventoryError> {
    if opts.regions.is_empty() {
        return Ok(vec![home.to_string()]);
    }
    if !opts.regions.iter().any(|r| r == "all") {
        let mut regions = Vec::new();
        for region in &opts.regions {
            if !regions.contains(region) {
                regions.push(region.clone());
            }
        }
        return Ok(regions);
    }
    let cfg = ctx
        .config_for(first_account.map(String::as_str), Some(home))
        .await?;
    let group = recorder.group("ec2", first_account.map_or("caller", |a| a.as_str()), home);
    let out = group
        .call(
            "DescribeRegions",
            aws_sdk_ec2::Client::new(&cfg).describe_regions().send(),
        )
        .await
        .map_err(|e| InventoryError::Regions {
            call: e.call,
            code: e.code,
            message: e.message,
        })?;
    let mut regions: Vec<String> = out
        .regions()
        .iter()
        .filter_map(|r| r.region_name().map(str::to_string))
        .collect();
    regions.sort();
    Ok(regions)
}

async fn scan_account(
    ctx: AwsContext,
    env: Env,
    home: String,
    regions: Vec<String>,
    verify: bool,
) -> AccountSnapshot {
    let account = env.account.clone();
    let configs = match account_configs(&ctx, &env, &home, &regions, verify).await {
        Ok(configs) => configs,
        Err(err) => {
            env.recorder.emit(ProgressEvent::AccountFailed {
                account: account.clone(),
                reason: format!("{} failed ({}): {}", err.call, err.code, err.message),
            });
            return unreachable_account(&account, &regions, &err);
        }
    };
    let (home_cfg, region_cfgs) = configs;
    let regional: Vec<JoinHandle<RegionSnapshot>> = region_cfgs
        .into_iter()
        .map(|(region, cfg)| tokio::spawn(collectors::region(env.clone(), cfg, region)))
        .collect();
    let mut snapshot = collectors::global(env.clone(), home_cfg, home).await;
    snapshot.account_id = account;
    for (task, region) in regional.into_iter().zip(&regions) {
        // A panicking collector is a bug; keep the rest of the scan and say so in the data.
        let data = task.await.unwrap_or_else(|err| {
            let err = CallError::new("vigil:collect", "InternalError", err.to_string());
            unreachable_region(region, &err)
        });
        snapshot.regions.push(data);
    }
    snapshot
}

type AccountConfigs = (SdkConfig, Vec<(String, SdkConfig)>);

/// The home-region and per-region configurations of an account, after checking (for a
/// named account) that its credentials really act in it.
async fn account_configs(
    ctx: &AwsContext,
    env: &Env,
    home: &str,
    regions: &[String],
    verify: bool,
) -> Result<AccountConfigs, CallError> {
    let account = Some(env.account.as_str());
    let config_error = |e: vigil_aws::AwsError| {
        CallError::new("sts:AssumeRole", "AssumeRoleFailed", e.to_string())
    };
    if verify {
        let identity = ctx.caller_identity(account).await;
        env.recorder.count("sts", identity.is_err());
        let identity = identity.map_err(|e| {
            CallError::new("sts:GetCallerIdentity", "CredentialsError", e.to_string())
        })?;
        if identity.account != env.account {
            return Err(CallError::new(
                "sts:GetCallerIdentity",
                "WrongAccount",
                format!(
                    "the credentials act in account {} ({}), not {}; name a role to assume in each account",
                    identity.account, identity.arn, env.account
                ),
            ));
        }
    }
    let home_cfg = ctx
        .config_for(account, Some(home))
        .await
        .map_err(config_error)?;
    let mut configs = Vec::new();
    for region in regions {
        let cfg = ctx
            .config_for(account, Some(region))
            .await
            .map_err(config_error)?;
        configs.push((region.clone(), cfg));
    }
    Ok((home_cfg, configs))
}

/// An account whose credentials failed: every item carries the error, so every control
/// reports UNKNOWN with it.
fn unreachable_account(account: &str, regions: &[String], err: &CallError) -> AccountSnapshot {
    let snapshot = AccountSnapshot {
        account_id: account.to_string(),
        regions: regions.iter().map(|r| unreachable_region(r, err)).collect(),
        ..AccountSnapshot::default()
    };
    fill_errors(snapshot, err)
}

fn unreachable_region(region: &str, err: &CallError) -> RegionSnapshot {
    let snapshot = RegionSnapshot {
        region: region.to_string(),
        ..RegionSnapshot::default()
    };
    fill_errors(snapshot, err)
}

/// Replaces every `not_collected` item of a default value with the error. Done through the
/// serialised form so that fields the snapshot model gains later are covered too: every
/// `Collected` serialises as the string `"not_collected"` until filled.
fn fill_errors<T>(value: T, err: &CallError) -> T
where
    T: serde::Serialize + serde::de::DeserializeOwned,
{
    fn walk(value: &mut serde_json::Value, with: &serde_json::Value) {
        match value {
            serde_json::Value::String(s) if s == "not_collected" => *value = with.clone(),
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| walk(v, with)),
            serde_json::Value::Object(map) => map.values_mut().for_each(|v| walk(v, with)),
            _ => {}
        }
    }
    let with = serde_json::json!({ "error": { "call": err.call, "code": err.code, "message": err.message } });
    let Ok(mut json) = serde_json::to_value(&value) else {
        return value;
    };
    walk(&mut json, &with);
    serde_json::from_value(json).unwrap_or(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_posture::Collected;

    #[test]
    fn an_unreachable_account_carries_the_error_everywhere() {
        let err = CallError::new("sts:AssumeRole", "AccessDenied", "not trusted");
        let account = unreachable_account("111122223333", &["eu-west-1".into()], &err);
        assert_eq!(account.account_id, "111122223333");
        assert!(account.iam.password_policy.is_error());
        assert!(account.buckets.is_error());
        assert!(account.alternate_contacts.security.is_error());
        let region = &account.regions[0];
        assert_eq!(region.region, "eu-west-1");
        assert_eq!(
            region.compute.instances,
            Collected::error("sts:AssumeRole", "AccessDenied", "not trusted")
        );
        assert!(region.logging.trails.is_error() && region.services.kms_keys.is_error());
    }

    #[test]
    fn options_are_checked() {
        let bad = |opts: InventoryOptions| check_options(&opts).unwrap_err().to_string();
        let text = bad(InventoryOptions {
            services: Some(vec!["iam".into(), "ec3".into()]),
            ..Default::default()
        });
        assert!(
            text.contains("\"ec3\"") && text.contains("cloudtrail"),
            "{text}"
        );
        assert!(bad(InventoryOptions {
            concurrency: 0,
            ..Default::default()
        })
        .contains("at least 1"));
        assert!(bad(InventoryOptions {
            accounts: vec!["12".into()],
            ..Default::default()
        })
        .contains("12 digits"));
        let ok = check_options(&InventoryOptions {
            services: Some(vec!["s3".into()]),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(ok, Some(BTreeSet::from(["s3".to_string()])));
    }

    #[test]
    fn planned_groups_count_global_services_once_per_account() {
        assert_eq!(planned_groups(&None, 1, 1), SERVICES.len());
        assert_eq!(
            planned_groups(&None, 2, 3),
            2 * (GLOBAL_SERVICES + 3 * (SERVICES.len() - GLOBAL_SERVICES))
        );
        let only = Some(BTreeSet::from(["iam".to_string(), "ec2".to_string()]));
        assert_eq!(planned_groups(&only, 1, 4), 1 + 4);
    }
}
