//! EC2 containment and forensics actions (the incident-response guide's appendix B).
//!
//! Containment: [`capture::CaptureMetadata`], [`protect::EnableTerminationProtection`],
//! [`isolate::IsolateInstance`] / [`isolate::ReleaseIsolation`],
//! [`detach::DetachFromAutoScaling`], [`detach::DeregisterFromLoadBalancers`],
//! [`snapshot::SnapshotVolumes`], [`tag::TagResource`], [`profile::RemoveInstanceProfile`],
//! [`protect::StopInstance`], [`protect::TerminateInstance`].
//! Forensics: [`forensics::ShareSnapshot`], [`forensics::LaunchForensicWorkstation`],
//! [`forensics::AttachSnapshotVolume`], [`forensics::AllowWorkstationIngress`].
//!
//! Every action follows one shape: a struct holding the [`AwsContext`], a static
//! [`ActionInfo`], and a `run` that reads the state, decides (`AlreadyDone`?), asks the guard,
//! then changes (with `DryRun=true` under dry-run) and reads the state back.

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_sdk_ec2::types::{Filter, Instance, InstanceStateName};
use aws_sdk_ec2::Client;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response as HttpResponse;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_types::request_id::RequestId;
use serde_json::{json, Map, Value};
use vigil_aws::AwsContext;
use vigil_respond::action::{Action, ActionError, ApiCall, StepEnv};

use crate::common::{check, dry_run_checked, ec2_tags, made, request_id, sdk_config};
use crate::ActionOptions;

pub mod capture;
pub mod detach;
pub mod forensics;
pub mod isolate;
pub mod json;
pub mod profile;
pub mod protect;
pub mod snapshot;
pub mod tag;

/// Every EC2 action, each holding `ctx`.
pub fn actions(ctx: &AwsContext, opts: &ActionOptions) -> Vec<Arc<dyn Action>> {
    vec![
        Arc::new(capture::CaptureMetadata::new(ctx.clone())),
        Arc::new(protect::EnableTerminationProtection::new(ctx.clone())),
        Arc::new(isolate::IsolateInstance::new(
            ctx.clone(),
            opts.isolation_group_name.clone(),
        )),
        Arc::new(isolate::ReleaseIsolation::new(ctx.clone())),
        Arc::new(detach::DetachFromAutoScaling::new(ctx.clone())),
        Arc::new(detach::DeregisterFromLoadBalancers::new(ctx.clone())),
        Arc::new(snapshot::SnapshotVolumes::new(ctx.clone())),
        Arc::new(tag::TagResource::new(ctx.clone())),
        Arc::new(profile::RemoveInstanceProfile::new(ctx.clone())),
        Arc::new(protect::StopInstance::new(ctx.clone())),
        Arc::new(protect::TerminateInstance::new(ctx.clone())),
        Arc::new(forensics::ShareSnapshot::new(ctx.clone())),
        Arc::new(forensics::LaunchForensicWorkstation::new(ctx.clone())),
        Arc::new(forensics::AttachSnapshotVolume::new(ctx.clone())),
        Arc::new(forensics::AllowWorkstationIngress::new(ctx.clone())),
    ]
}

/// Tag keys vigil writes.
pub mod tags {
    pub const CASE: &str = "vigil:case";
    pub const ROLE: &str = "vigil:role";
    pub const SOURCE_VOLUME: &str = "vigil:source-volume";
    pub const SOURCE_INSTANCE: &str = "vigil:source-instance";
    pub const SOURCE_SNAPSHOT: &str = "vigil:source-snapshot";
    pub const ORIGINAL_GROUPS: &str = "vigil:original-groups";
    pub const ISOLATED: &str = "vigil:isolated";
    pub const MANAGED: &str = "vigil:managed";
    pub const ASG: &str = "aws:autoscaling:groupName";
}

/// An EC2 client for the step's account and region.
pub(crate) async fn client(ctx: &AwsContext, env: &StepEnv<'_>) -> Result<Client, ActionError> {
    Ok(Client::new(&sdk_config(ctx, env).await?))
}

/// One instance, read with `DescribeInstances`, and its tags.
pub(crate) struct InstanceState {
    pub instance: Instance,
    pub tags: Vec<(String, String)>,
}

impl InstanceState {
    pub fn id(&self) -> &str {
        self.instance.instance_id().unwrap_or_default()
    }

    pub fn state(&self) -> Option<&InstanceStateName> {
        self.instance.state().and_then(|s| s.name())
    }

    pub fn state_name(&self) -> &str {
        self.state().map(|s| s.as_str()).unwrap_or("unknown")
    }

    pub fn vpc_id(&self) -> Option<&str> {
        self.instance.vpc_id()
    }

    pub fn az(&self) -> Option<&str> {
        self.instance
            .placement()
            .and_then(|p| p.availability_zone())
    }

    /// Ids of the attached network interfaces.
    pub fn eni_ids(&self) -> Vec<String> {
        self.instance
            .network_interfaces()
            .iter()
            .filter_map(|n| n.network_interface_id().map(str::to_string))
            .collect()
    }

    /// Ids of the attached EBS volumes.
    pub fn volume_ids(&self) -> Vec<String> {
        self.instance
            .block_device_mappings()
            .iter()
            .filter_map(|b| b.ebs().and_then(|e| e.volume_id()).map(str::to_string))
            .collect()
    }

    /// Private IPv4 addresses of every interface.
    pub fn private_ips(&self) -> Vec<String> {
        let mut ips: Vec<String> = self
            .instance
            .network_interfaces()
            .iter()
            .flat_map(|n| n.private_ip_addresses())
            .filter_map(|a| a.private_ip_address().map(str::to_string))
            .collect();
        if let Some(ip) = self.instance.private_ip_address() {
            if !ips.iter().any(|i| i == ip) {
                ips.insert(0, ip.to_string());
            }
        }
        ips
    }

    /// Security group ids as the instance lists them.
    pub fn group_ids(&self) -> Vec<String> {
        self.instance
            .security_groups()
            .iter()
            .filter_map(|g| g.group_id().map(str::to_string))
            .collect()
    }

    pub fn tag(&self, key: &str) -> Option<&str> {
        crate::common::tag_value(&self.tags, key)
    }
}

/// Reads one instance (`DescribeInstances`); `NotFound` when it does not exist.
pub(crate) async fn describe_instance(
    ec2: &Client,
    instance_id: &str,
    calls: &mut Vec<ApiCall>,
) -> Result<InstanceState, ActionError> {
    let out = check(
        "DescribeInstances",
        ec2.describe_instances()
            .instance_ids(instance_id)
            .send()
            .await,
    )?;
    calls.push(made(
        "ec2",
        "DescribeInstances",
        json!({"InstanceIds": [instance_id]}),
        request_id(&out),
    ));
    let instance = out
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .find(|i| i.instance_id() == Some(instance_id))
        .cloned()
        .ok_or_else(|| ActionError::NotFound(format!("instance {instance_id}")))?;
    let tags = ec2_tags(instance.tags());
    Ok(InstanceState { instance, tags })
}

/// Security groups per network interface.
///
/// With one interface the instance's own group list is used: `ModifyInstanceAttribute
/// Groups` (what single-interface instances are changed with) keeps it exact, while moto's
/// interface listing keeps old groups after a change. With several interfaces each is read
/// with `DescribeNetworkInterfaces`.
pub(crate) async fn groups_by_eni(
    ec2: &Client,
    state: &InstanceState,
    calls: &mut Vec<ApiCall>,
) -> Result<BTreeMap<String, Vec<String>>, ActionError> {
    let enis = state.eni_ids();
    // One interface: the instance's groups are its groups, unless the instance lists none
    // (moto leaves them off an instance launched without SecurityGroupIds; AWS never does),
    // in which case the interface itself is asked.
    if enis.len() <= 1 && !state.group_ids().is_empty() {
        return Ok(enis
            .into_iter()
            .map(|eni| (eni, state.group_ids()))
            .collect());
    }
    let out = check(
        "DescribeNetworkInterfaces",
        ec2.describe_network_interfaces()
            .set_network_interface_ids(Some(enis.clone()))
            .send()
            .await,
    )?;
    calls.push(made(
        "ec2",
        "DescribeNetworkInterfaces",
        json!({"NetworkInterfaceIds": enis}),
        request_id(&out),
    ));
    Ok(out
        .network_interfaces()
        .iter()
        .filter_map(|n| {
            let id = n.network_interface_id()?.to_string();
            let groups = n
                .groups()
                .iter()
                .filter_map(|g| g.group_id().map(str::to_string))
                .collect();
            Some((id, groups))
        })
        .collect())
}

/// Sends an EC2 change: under `execute` for real (returning the output), otherwise with
/// `DryRun=true` already set on the request by the caller (`.dry_run(!env.execute)`), in
/// which case `DryRunOperation` is success and no output is returned.
pub(crate) fn ec2_change<T, E>(
    execute: bool,
    operation: &str,
    params: Value,
    result: Result<T, SdkError<E, HttpResponse>>,
) -> Result<(ApiCall, Option<T>), ActionError>
where
    T: RequestId,
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    if execute {
        let out = check(operation, result)?;
        Ok((made("ec2", operation, params, request_id(&out)), Some(out)))
    } else {
        Ok((dry_run_checked(operation, params, result)?, None))
    }
}

/// A filter for `Describe*` calls.
pub(crate) fn filter(name: &str, values: &[&str]) -> Filter {
    Filter::builder()
        .name(name)
        .set_values(Some(values.iter().map(|v| v.to_string()).collect()))
        .build()
}

/// A JSON object from a `json!({...})` literal (outputs).
pub(crate) fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// Builds an EC2 tag.
pub(crate) fn ec2_tag(key: &str, value: &str) -> aws_sdk_ec2::types::Tag {
    aws_sdk_ec2::types::Tag::builder()
        .key(key)
        .value(value)
        .build()
}

/// Tag specification for a resource created by vigil for a case.
pub(crate) fn tag_spec(
    resource_type: aws_sdk_ec2::types::ResourceType,
    tags: &[(&str, &str)],
) -> aws_sdk_ec2::types::TagSpecification {
    aws_sdk_ec2::types::TagSpecification::builder()
        .resource_type(resource_type)
        .set_tags(Some(tags.iter().map(|(k, v)| ec2_tag(k, v)).collect()))
        .build()
}

/// The standard `--instance-id`-style CLI argument text.
pub(crate) fn cli_arg(params: &vigil_respond::action::Params, name: &str) -> String {
    crate::common::cli_value(params, name)
}
