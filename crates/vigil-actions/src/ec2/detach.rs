//! `autoscaling.detach_instance` and `elb.deregister_instance`: take a compromised instance
//! out of service without destroying it.

use serde_json::{json, Value};
use vigil_aws::AwsContext;
use vigil_respond::action::{
    Action, ActionError, ActionInfo, ApiCall, DryRunMode, Outcome, ParamDoc, Params, StepEnv,
    StepReport,
};

use super::{cli_arg, describe_instance, object};
use crate::common::{
    bool_param, check, made, optional_str, planned, request_id, resource_id, sdk_config,
};

// ---------------------------------------------------------------------------------------
// autoscaling.detach_instance
// ---------------------------------------------------------------------------------------

static DETACH_INFO: ActionInfo = ActionInfo {
    name: "autoscaling.detach_instance",
    summary: "Take an instance out of its Auto Scaling group (detach, or enter standby) so \
              the group neither sends it traffic nor terminates it as unhealthy",
    params: &[
        ParamDoc {
            name: "instance_id",
            required: true,
            description: "The instance (i-...)",
        },
        ParamDoc {
            name: "mode",
            required: false,
            description: "`detach` (default) or `standby`",
        },
        ParamDoc {
            name: "replace",
            required: false,
            description: "true: keep the desired capacity so the group launches a replacement \
                          (default false: decrement it)",
        },
    ],
    example: "- id: detach\n  action: autoscaling.detach_instance\n  params:\n    instance_id: \"{{ steps.capture.outputs.instance_id }}\"\n    mode: detach\n    replace: true\n",
    mutating: true,
    dry_run: DryRunMode::Plan,
    records: "The group, its capacity and the instance's lifecycle state before and after",
};

const DETACH_READ: &[&str] = &[
    "ec2:DescribeInstances",
    "autoscaling:DescribeAutoScalingInstances",
    "autoscaling:DescribeAutoScalingGroups",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DetachMode {
    Detach,
    Standby,
}

fn detach_mode(params: &Params) -> Result<DetachMode, ActionError> {
    match optional_str(params, "mode")? {
        None | Some("detach") => Ok(DetachMode::Detach),
        Some("standby") => Ok(DetachMode::Standby),
        Some(other) => Err(ActionError::InvalidParams(format!(
            "mode must be `detach` or `standby`, got {other:?}"
        ))),
    }
}

/// `autoscaling.detach_instance`.
pub struct DetachFromAutoScaling {
    ctx: AwsContext,
}

impl DetachFromAutoScaling {
    pub fn new(ctx: AwsContext) -> Self {
        DetachFromAutoScaling { ctx }
    }
}

/// The instance's group membership, if any.
struct Membership {
    group: String,
    lifecycle: String,
}

async fn membership(
    asg: &aws_sdk_autoscaling::Client,
    id: &str,
    calls: &mut Vec<ApiCall>,
) -> Result<Option<Membership>, ActionError> {
    let out = check(
        "DescribeAutoScalingInstances",
        asg.describe_auto_scaling_instances()
            .instance_ids(id)
            .send()
            .await,
    )?;
    calls.push(made(
        "autoscaling",
        "DescribeAutoScalingInstances",
        json!({"InstanceIds": [id]}),
        request_id(&out),
    ));
    Ok(out
        .auto_scaling_instances()
        .iter()
        .find(|i| i.instance_id() == Some(id))
        .map(|i| Membership {
            group: i.auto_scaling_group_name().unwrap_or_default().to_string(),
            lifecycle: i.lifecycle_state().unwrap_or_default().to_string(),
        }))
}

#[async_trait::async_trait]
impl Action for DetachFromAutoScaling {
    fn info(&self) -> &'static ActionInfo {
        &DETACH_INFO
    }

    fn permissions(&self, params: &Params) -> Vec<&'static str> {
        let mut perms = DETACH_READ.to_vec();
        match detach_mode(params) {
            Ok(DetachMode::Detach) => perms.push("autoscaling:DetachInstances"),
            Ok(DetachMode::Standby) => perms.push("autoscaling:EnterStandby"),
            Err(_) => perms.extend(["autoscaling:DetachInstances", "autoscaling:EnterStandby"]),
        }
        perms
    }

    fn all_permissions(&self) -> Vec<&'static str> {
        let mut perms = DETACH_READ.to_vec();
        perms.extend(["autoscaling:DetachInstances", "autoscaling:EnterStandby"]);
        perms
    }

    fn cli(&self, params: &Params) -> Vec<String> {
        let id = cli_arg(params, "instance_id");
        let decrement = if bool_param(params, "replace", false).unwrap_or(false) {
            "--no-should-decrement-desired-capacity"
        } else {
            "--should-decrement-desired-capacity"
        };
        let verb = match detach_mode(params) {
            Ok(DetachMode::Standby) => "enter-standby",
            _ => "detach-instances",
        };
        vec![
            format!("aws autoscaling describe-auto-scaling-instances --instance-ids {id}"),
            format!("aws autoscaling {verb} --auto-scaling-group-name <group> --instance-ids {id} {decrement}"),
        ]
    }

    async fn run(&self, env: &StepEnv<'_>, params: &Params) -> Result<StepReport, ActionError> {
        let id = resource_id(params, "instance_id", "i-")?;
        let mode = detach_mode(params)?;
        let replace = bool_param(params, "replace", false)?;
        let cfg = sdk_config(&self.ctx, env).await?;
        let ec2 = aws_sdk_ec2::Client::new(&cfg);
        let asg = aws_sdk_autoscaling::Client::new(&cfg);
        let mut calls = Vec::new();
        let state = describe_instance(&ec2, id, &mut calls).await?;
        let before = membership(&asg, id, &mut calls).await?;
        let mut report = StepReport::new(Outcome::AlreadyDone);
        report.before = match &before {
            Some(m) => json!({"AutoScalingGroupName": m.group, "LifecycleState": m.lifecycle}),
            None => json!({"AutoScalingGroupName": null}),
        };
        report.outputs = object(
            json!({"instance_id": id, "asg_name": before.as_ref().map(|m| m.group.clone())}),
        );
        let Some(member) = before else {
            report.note = Some(format!("instance {id} is not in an Auto Scaling group"));
            report.calls = calls;
            report.after = report.before.clone();
            return Ok(report);
        };
        let standing_by = matches!(member.lifecycle.as_str(), "Standby" | "EnteringStandby");
        if mode == DetachMode::Standby && standing_by {
            report.calls = calls;
            report.after = report.before.clone();
            return Ok(report);
        }
        let group = self.group_capacity(&asg, &member.group, &mut calls).await?;
        report.before["Group"] = group.clone();
        if !replace {
            let desired = group["DesiredCapacity"].as_i64().unwrap_or(0);
            let min = group["MinSize"].as_i64().unwrap_or(0);
            if desired - 1 < min {
                return Err(ActionError::Failed(format!(
                    "group {} is at its minimum size ({min}): decrementing the desired capacity \
                     would go below it; set replace: true (a new instance is launched) or lower \
                     the group's minimum size first",
                    member.group
                )));
            }
        }
        env.guard.allow_change(id, &state.tags)?;
        let (operation, call_params) = match mode {
            DetachMode::Detach => (
                "DetachInstances",
                json!({"AutoScalingGroupName": member.group, "InstanceIds": [id], "ShouldDecrementDesiredCapacity": !replace}),
            ),
            DetachMode::Standby => (
                "EnterStandby",
                json!({"AutoScalingGroupName": member.group, "InstanceIds": [id], "ShouldDecrementDesiredCapacity": !replace}),
            ),
        };
        if !env.execute {
            calls.push(planned("autoscaling", operation, call_params));
            report.calls = calls;
            report.outcome = Outcome::Planned;
            return Ok(report);
        }
        let rid = match mode {
            DetachMode::Detach => request_id(&check(
                operation,
                asg.detach_instances()
                    .auto_scaling_group_name(&member.group)
                    .instance_ids(id)
                    .should_decrement_desired_capacity(!replace)
                    .send()
                    .await,
            )?),
            DetachMode::Standby => request_id(&check(
                operation,
                asg.enter_standby()
                    .auto_scaling_group_name(&member.group)
                    .instance_ids(id)
                    .should_decrement_desired_capacity(!replace)
                    .send()
                    .await,
            )?),
        };
        calls.push(made("autoscaling", operation, call_params, rid));
        let after = membership(&asg, id, &mut calls).await?;
        report.after = match after {
            Some(m) => json!({"AutoScalingGroupName": m.group, "LifecycleState": m.lifecycle}),
            None => json!({"AutoScalingGroupName": null}),
        };
        report.calls = calls;
        report.outcome = Outcome::Changed;
        report.resources_changed.push(id.to_string());
        Ok(report)
    }
}

impl DetachFromAutoScaling {
    async fn group_capacity(
        &self,
        asg: &aws_sdk_autoscaling::Client,
        name: &str,
        calls: &mut Vec<ApiCall>,
    ) -> Result<Value, ActionError> {
        let out = check(
            "DescribeAutoScalingGroups",
            asg.describe_auto_scaling_groups()
                .auto_scaling_group_names(name)
                .send()
                .await,
        )?;
        calls.push(made(
            "autoscaling",
            "DescribeAutoScalingGroups",
            json!({"AutoScalingGroupNames": [name]}),
            request_id(&out),
        ));
        let group = out
            .auto_scaling_groups()
            .iter()
            .find(|g| g.auto_scaling_group_name() == Some(name))
            .ok_or_else(|| ActionError::NotFound(format!("Auto Scaling group {name}")))?;
        Ok(json!({
            "AutoScalingGroupName": name,
            "MinSize": group.min_size(),
            "MaxSize": group.max_size(),
            "DesiredCapacity": group.desired_capacity(),
        }))
    }
}

// ---------------------------------------------------------------------------------------
// elb.deregister_instance
// ---------------------------------------------------------------------------------------

static DEREGISTER_INFO: ActionInfo = ActionInfo {
    name: "elb.deregister_instance",
    summary: "Deregister an instance from every Classic Load Balancer and every ELBv2 target \
              group (instance targets, and IP targets at its private addresses)",
    params: &[ParamDoc {
        name: "instance_id",
        required: true,
        description: "The instance (i-...)",
    }],
    example: "- id: deregister\n  action: elb.deregister_instance\n  params:\n    instance_id: \"{{ steps.capture.outputs.instance_id }}\"\n",
    mutating: true,
    dry_run: DryRunMode::Plan,
    records: "The load balancers and target groups (with ports) it was registered in, before \
              and after",
};

const DEREGISTER_PERMISSIONS: &[&str] = &[
    "ec2:DescribeInstances",
    "elasticloadbalancing:DescribeLoadBalancers",
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetHealth",
    "elasticloadbalancing:DeregisterInstancesFromLoadBalancer",
    "elasticloadbalancing:DeregisterTargets",
];

/// `elb.deregister_instance`.
pub struct DeregisterFromLoadBalancers {
    ctx: AwsContext,
}

impl DeregisterFromLoadBalancers {
    pub fn new(ctx: AwsContext) -> Self {
        DeregisterFromLoadBalancers { ctx }
    }
}

/// One ELBv2 registration of the instance.
#[derive(Debug, Clone)]
struct Registration {
    target_group_arn: String,
    target_id: String,
    port: Option<i32>,
    availability_zone: Option<String>,
}

/// Where the instance is registered.
struct Registrations {
    classic: Vec<String>,
    targets: Vec<Registration>,
}

impl Registrations {
    fn is_empty(&self) -> bool {
        self.classic.is_empty() && self.targets.is_empty()
    }

    fn json(&self) -> Value {
        json!({
            "ClassicLoadBalancers": self.classic,
            "TargetGroups": self.targets.iter().map(|t| json!({
                "TargetGroupArn": t.target_group_arn, "Id": t.target_id, "Port": t.port,
            })).collect::<Vec<_>>(),
        })
    }
}

async fn registrations(
    elb: &aws_sdk_elasticloadbalancing::Client,
    elbv2: &aws_sdk_elasticloadbalancingv2::Client,
    id: &str,
    private_ips: &[String],
    calls: &mut Vec<ApiCall>,
) -> Result<Registrations, ActionError> {
    let pages = check(
        "DescribeLoadBalancers",
        elb.describe_load_balancers()
            .into_paginator()
            .send()
            .try_collect()
            .await,
    )?;
    calls.push(made(
        "elasticloadbalancing",
        "DescribeLoadBalancers",
        json!({"Pages": pages.len()}),
        pages.first().and_then(request_id),
    ));
    let classic = pages
        .iter()
        .flat_map(|p| p.load_balancer_descriptions())
        .filter(|lb| lb.instances().iter().any(|i| i.instance_id() == Some(id)))
        .filter_map(|lb| lb.load_balancer_name().map(str::to_string))
        .collect();

    let pages = check(
        "DescribeTargetGroups",
        elbv2
            .describe_target_groups()
            .into_paginator()
            .send()
            .try_collect()
            .await,
    )?;
    calls.push(made(
        "elasticloadbalancing",
        "DescribeTargetGroups",
        json!({"Pages": pages.len()}),
        pages.first().and_then(request_id),
    ));
    let mut targets = Vec::new();
    for tg in pages.iter().flat_map(|p| p.target_groups()) {
        use aws_sdk_elasticloadbalancingv2::types::TargetTypeEnum;
        let Some(arn) = tg.target_group_arn() else {
            continue;
        };
        let wanted: Vec<&str> = match tg.target_type() {
            Some(TargetTypeEnum::Ip) => private_ips.iter().map(String::as_str).collect(),
            Some(TargetTypeEnum::Instance) | None => vec![id],
            Some(_) => continue,
        };
        let health = check(
            "DescribeTargetHealth",
            elbv2
                .describe_target_health()
                .target_group_arn(arn)
                .send()
                .await,
        )?;
        calls.push(made(
            "elasticloadbalancing",
            "DescribeTargetHealth",
            json!({"TargetGroupArn": arn}),
            request_id(&health),
        ));
        for d in health.target_health_descriptions() {
            let draining = d
                .target_health()
                .and_then(|h| h.state())
                .is_some_and(|s| s.as_str() == "draining");
            let Some((target, target_id)) = d.target().and_then(|t| Some((t, t.id()?))) else {
                continue;
            };
            if draining || !wanted.contains(&target_id) {
                continue;
            }
            targets.push(Registration {
                target_group_arn: arn.to_string(),
                target_id: target_id.to_string(),
                port: target.port(),
                availability_zone: target.availability_zone().map(str::to_string),
            });
        }
    }
    Ok(Registrations { classic, targets })
}

#[async_trait::async_trait]
impl Action for DeregisterFromLoadBalancers {
    fn info(&self) -> &'static ActionInfo {
        &DEREGISTER_INFO
    }

    fn permissions(&self, _params: &Params) -> Vec<&'static str> {
        DEREGISTER_PERMISSIONS.to_vec()
    }

    fn all_permissions(&self) -> Vec<&'static str> {
        DEREGISTER_PERMISSIONS.to_vec()
    }

    fn cli(&self, params: &Params) -> Vec<String> {
        let id = cli_arg(params, "instance_id");
        vec![
            format!("aws elb describe-load-balancers --query \"LoadBalancerDescriptions[?Instances[?InstanceId=='{id}']].LoadBalancerName\""),
            format!("aws elb deregister-instances-from-load-balancer --load-balancer-name <name> --instances {id}"),
            "aws elbv2 describe-target-groups --query 'TargetGroups[].TargetGroupArn'".to_string(),
            "aws elbv2 describe-target-health --target-group-arn <arn>".to_string(),
            format!("aws elbv2 deregister-targets --target-group-arn <arn> --targets Id={id},Port=<port>"),
        ]
    }

    async fn run(&self, env: &StepEnv<'_>, params: &Params) -> Result<StepReport, ActionError> {
        let id = resource_id(params, "instance_id", "i-")?;
        let cfg = sdk_config(&self.ctx, env).await?;
        let ec2 = aws_sdk_ec2::Client::new(&cfg);
        let elb = aws_sdk_elasticloadbalancing::Client::new(&cfg);
        let elbv2 = aws_sdk_elasticloadbalancingv2::Client::new(&cfg);
        let mut calls = Vec::new();
        let state = describe_instance(&ec2, id, &mut calls).await?;
        let ips = state.private_ips();
        let before = registrations(&elb, &elbv2, id, &ips, &mut calls).await?;
        let mut report = StepReport::new(Outcome::AlreadyDone);
        report.before = before.json();
        report.outputs = object(json!({"instance_id": id, "deregistered": before.json()}));
        if before.is_empty() {
            report.calls = calls;
            report.after = report.before.clone();
            return Ok(report);
        }
        env.guard.allow_change(id, &state.tags)?;
        for lb in &before.classic {
            let p = json!({"LoadBalancerName": lb, "Instances": [{"InstanceId": id}]});
            if env.execute {
                let out = check(
                    "DeregisterInstancesFromLoadBalancer",
                    elb.deregister_instances_from_load_balancer()
                        .load_balancer_name(lb)
                        .instances(
                            aws_sdk_elasticloadbalancing::types::Instance::builder()
                                .instance_id(id)
                                .build(),
                        )
                        .send()
                        .await,
                )?;
                calls.push(made(
                    "elasticloadbalancing",
                    "DeregisterInstancesFromLoadBalancer",
                    p,
                    request_id(&out),
                ));
            } else {
                calls.push(planned(
                    "elasticloadbalancing",
                    "DeregisterInstancesFromLoadBalancer",
                    p,
                ));
            }
        }
        for t in &before.targets {
            let p = json!({"TargetGroupArn": t.target_group_arn, "Targets": [{"Id": t.target_id, "Port": t.port}]});
            if env.execute {
                let target = aws_sdk_elasticloadbalancingv2::types::TargetDescription::builder()
                    .id(&t.target_id)
                    .set_port(t.port)
                    .set_availability_zone(t.availability_zone.clone())
                    .build();
                let out = check(
                    "DeregisterTargets",
                    elbv2
                        .deregister_targets()
                        .target_group_arn(&t.target_group_arn)
                        .targets(target)
                        .send()
                        .await,
                )?;
                calls.push(made(
                    "elasticloadbalancing",
                    "DeregisterTargets",
                    p,
                    request_id(&out),
                ));
            } else {
                calls.push(planned("elasticloadbalancing", "DeregisterTargets", p));
            }
        }
        if !env.execute {
            report.calls = calls;
            report.outcome = Outcome::Planned;
            return Ok(report);
        }
        report.after = registrations(&elb, &elbv2, id, &ips, &mut calls)
            .await?
            .json();
        report.calls = calls;
        report.outcome = Outcome::Changed;
        report.resources_changed.push(id.to_string());
        Ok(report)
    }
}
