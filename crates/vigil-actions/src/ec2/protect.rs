//! `ec2.enable_termination_protection`, `ec2.stop_instance`, `ec2.terminate_instance`.

use aws_sdk_ec2::types::{AttributeBooleanValue, InstanceAttributeName, InstanceStateName};
use serde_json::json;
use vigil_aws::AwsContext;
use vigil_respond::action::{
    Action, ActionError, ActionInfo, ApiCall, DryRunMode, Outcome, ParamDoc, Params, StepEnv,
    StepReport,
};

use super::{cli_arg, client, describe_instance, ec2_change, object};
use crate::common::{bool_param, check, made, request_id, resource_id};

const INSTANCE_ID: ParamDoc = ParamDoc {
    name: "instance_id",
    required: true,
    description: "The instance (i-...)",
};

// ---------------------------------------------------------------------------------------
// ec2.enable_termination_protection
// ---------------------------------------------------------------------------------------

static PROTECT_INFO: ActionInfo = ActionInfo {
    name: "ec2.enable_termination_protection",
    summary: "Turn on termination protection so the instance (and its evidence) cannot be \
              terminated by API, console or a compromised automation",
    params: &[INSTANCE_ID],
    example: "- id: protect\n  action: ec2.enable_termination_protection\n  params:\n    instance_id: \"{{ steps.capture.outputs.instance_id }}\"\n",
    mutating: true,
    dry_run: DryRunMode::Native,
    records: "disableApiTermination before and after",
};

const PROTECT_PERMISSIONS: &[&str] = &[
    "ec2:DescribeInstances",
    "ec2:DescribeInstanceAttribute",
    "ec2:ModifyInstanceAttribute",
];

/// `ec2.enable_termination_protection`.
pub struct EnableTerminationProtection {
    ctx: AwsContext,
}

impl EnableTerminationProtection {
    pub fn new(ctx: AwsContext) -> Self {
        EnableTerminationProtection { ctx }
    }
}

async fn termination_protected(
    ec2: &aws_sdk_ec2::Client,
    id: &str,
    calls: &mut Vec<ApiCall>,
) -> Result<bool, ActionError> {
    let out = check(
        "DescribeInstanceAttribute",
        ec2.describe_instance_attribute()
            .instance_id(id)
            .attribute(InstanceAttributeName::DisableApiTermination)
            .send()
            .await,
    )?;
    calls.push(made(
        "ec2",
        "DescribeInstanceAttribute",
        json!({"InstanceId": id, "Attribute": "disableApiTermination"}),
        request_id(&out),
    ));
    Ok(out
        .disable_api_termination()
        .and_then(|v| v.value())
        .unwrap_or(false))
}

#[async_trait::async_trait]
impl Action for EnableTerminationProtection {
    fn info(&self) -> &'static ActionInfo {
        &PROTECT_INFO
    }

    fn permissions(&self, _params: &Params) -> Vec<&'static str> {
        PROTECT_PERMISSIONS.to_vec()
    }

    fn all_permissions(&self) -> Vec<&'static str> {
        PROTECT_PERMISSIONS.to_vec()
    }

    fn cli(&self, params: &Params) -> Vec<String> {
        vec![format!(
            "aws ec2 modify-instance-attribute --instance-id {} --disable-api-termination",
            cli_arg(params, "instance_id")
        )]
    }

    async fn run(&self, env: &StepEnv<'_>, params: &Params) -> Result<StepReport, ActionError> {
        let id = resource_id(params, "instance_id", "i-")?;
        let ec2 = client(&self.ctx, env).await?;
        let mut calls = Vec::new();
        let state = describe_instance(&ec2, id, &mut calls).await?;
        let before = termination_protected(&ec2, id, &mut calls).await?;
        let mut report = StepReport::new(Outcome::AlreadyDone);
        report.before = json!({"DisableApiTermination": before});
        report.outputs = object(json!({"instance_id": id}));
        if before {
            report.calls = calls;
            report.after = report.before.clone();
            return Ok(report);
        }
        env.guard.allow_change(id, &state.tags)?;
        let (call, _) = ec2_change(
            env.execute,
            "ModifyInstanceAttribute",
            json!({"InstanceId": id, "DisableApiTermination": {"Value": true}}),
            ec2.modify_instance_attribute()
                .instance_id(id)
                .disable_api_termination(AttributeBooleanValue::builder().value(true).build())
                .dry_run(!env.execute)
                .send()
                .await,
        )?;
        calls.push(call);
        if env.execute {
            let after = termination_protected(&ec2, id, &mut calls).await?;
            report.after = json!({"DisableApiTermination": after});
            report.outcome = Outcome::Changed;
            report.resources_changed.push(id.to_string());
        } else {
            report.outcome = Outcome::Planned;
        }
        report.calls = calls;
        Ok(report)
    }
}

// ---------------------------------------------------------------------------------------
// ec2.stop_instance
// ---------------------------------------------------------------------------------------

static STOP_INFO: ActionInfo = ActionInfo {
    name: "ec2.stop_instance",
    summary: "Stop an instance (memory is lost: capture volatile data first); EBS volumes \
              are kept",
    params: &[INSTANCE_ID],
    example: "- id: stop\n  action: ec2.stop_instance\n  params:\n    instance_id: \"{{ steps.capture.outputs.instance_id }}\"\n",
    mutating: true,
    dry_run: DryRunMode::Native,
    records: "The instance state before and after",
};

const STOP_PERMISSIONS: &[&str] = &["ec2:DescribeInstances", "ec2:StopInstances"];

/// `ec2.stop_instance`.
pub struct StopInstance {
    ctx: AwsContext,
}

impl StopInstance {
    pub fn new(ctx: AwsContext) -> Self {
        StopInstance { ctx }
    }
}

#[async_trait::async_trait]
impl Action for StopInstance {
    fn info(&self) -> &'static ActionInfo {
        &STOP_INFO
    }

    fn permissions(&self, _params: &Params) -> Vec<&'static str> {
        STOP_PERMISSIONS.to_vec()
    }

    fn all_permissions(&self) -> Vec<&'static str> {
        STOP_PERMISSIONS.to_vec()
    }

    fn cli(&self, params: &Params) -> Vec<String> {
        vec![format!(
            "aws ec2 stop-instances --instance-ids {}",
            cli_arg(params, "instance_id")
        )]
    }

    async fn run(&self, env: &StepEnv<'_>, params: &Params) -> Result<StepReport, ActionError> {
        let id = resource_id(params, "instance_id", "i-")?;
        let ec2 = client(&self.ctx, env).await?;
        let mut calls = Vec::new();
        let state = describe_instance(&ec2, id, &mut calls).await?;
        let mut report = StepReport::new(Outcome::AlreadyDone);
        report.before = json!({"State": state.state_name()});
        report.outputs = object(json!({"instance_id": id}));
        match state.state() {
            Some(InstanceStateName::Stopped | InstanceStateName::Stopping) => {
                report.calls = calls;
                report.after = report.before.clone();
                return Ok(report);
            }
            Some(InstanceStateName::Terminated | InstanceStateName::ShuttingDown) => {
                return Err(ActionError::Failed(format!(
                    "instance {id} is {}: it cannot be stopped",
                    state.state_name()
                )))
            }
            _ => {}
        }
        env.guard.allow_change(id, &state.tags)?;
        let (call, out) = ec2_change(
            env.execute,
            "StopInstances",
            json!({"InstanceIds": [id]}),
            ec2.stop_instances()
                .instance_ids(id)
                .dry_run(!env.execute)
                .send()
                .await,
        )?;
        calls.push(call);
        report.calls = calls;
        match out {
            Some(out) => {
                let now = out
                    .stopping_instances()
                    .iter()
                    .find(|c| c.instance_id() == Some(id))
                    .and_then(|c| c.current_state())
                    .and_then(|s| s.name())
                    .map(|s| s.as_str().to_string());
                report.after = json!({"State": now});
                report.outcome = Outcome::Changed;
                report.resources_changed.push(id.to_string());
            }
            None => report.outcome = Outcome::Planned,
        }
        Ok(report)
    }
}

// ---------------------------------------------------------------------------------------
// ec2.terminate_instance
// ---------------------------------------------------------------------------------------

static TERMINATE_INFO: ActionInfo = ActionInfo {
    name: "ec2.terminate_instance",
    summary: "Terminate an instance; refused unless the step sets allow_terminate: true \
              (snapshot the volumes first: evidence on delete-on-termination volumes is lost)",
    params: &[
        INSTANCE_ID,
        ParamDoc {
            name: "allow_terminate",
            required: true,
            description: "Must be true; the playbook's decision tree sets it (e.g. for dev)",
        },
    ],
    example: "- id: terminate\n  action: ec2.terminate_instance\n  when: { var: context.environment, equals: dev }\n  params:\n    instance_id: \"{{ steps.capture.outputs.instance_id }}\"\n    allow_terminate: true\n",
    mutating: true,
    dry_run: DryRunMode::Native,
    records: "The instance state before and after",
};

const TERMINATE_PERMISSIONS: &[&str] = &[
    "ec2:DescribeInstances",
    "ec2:DescribeInstanceAttribute",
    "ec2:TerminateInstances",
];

/// `ec2.terminate_instance`.
pub struct TerminateInstance {
    ctx: AwsContext,
}

impl TerminateInstance {
    pub fn new(ctx: AwsContext) -> Self {
        TerminateInstance { ctx }
    }
}

#[async_trait::async_trait]
impl Action for TerminateInstance {
    fn info(&self) -> &'static ActionInfo {
        &TERMINATE_INFO
    }

    fn permissions(&self, _params: &Params) -> Vec<&'static str> {
        TERMINATE_PERMISSIONS.to_vec()
    }

    fn all_permissions(&self) -> Vec<&'static str> {
        TERMINATE_PERMISSIONS.to_vec()
    }

    fn cli(&self, params: &Params) -> Vec<String> {
        vec![format!(
            "aws ec2 terminate-instances --instance-ids {}",
            cli_arg(params, "instance_id")
        )]
    }

    async fn run(&self, env: &StepEnv<'_>, params: &Params) -> Result<StepReport, ActionError> {
        let id = resource_id(params, "instance_id", "i-")?;
        if !bool_param(params, "allow_terminate", false)? {
            return Err(ActionError::InvalidParams(format!(
                "refusing to terminate {id}: the step must set allow_terminate: true"
            )));
        }
        let ec2 = client(&self.ctx, env).await?;
        let mut calls = Vec::new();
        let state = describe_instance(&ec2, id, &mut calls).await?;
        let mut report = StepReport::new(Outcome::AlreadyDone);
        report.before = json!({"State": state.state_name()});
        report.outputs = object(json!({"instance_id": id}));
        if matches!(
            state.state(),
            Some(InstanceStateName::Terminated | InstanceStateName::ShuttingDown)
        ) {
            report.calls = calls;
            report.after = report.before.clone();
            return Ok(report);
        }
        if termination_protected(&ec2, id, &mut calls).await? {
            return Err(ActionError::Failed(format!(
                "instance {id} has termination protection on; vigil does not turn it off — \
                 a responder must decide to (aws ec2 modify-instance-attribute --instance-id \
                 {id} --no-disable-api-termination)"
            )));
        }
        env.guard.allow_change(id, &state.tags)?;
        let (call, out) = ec2_change(
            env.execute,
            "TerminateInstances",
            json!({"InstanceIds": [id]}),
            ec2.terminate_instances()
                .instance_ids(id)
                .dry_run(!env.execute)
                .send()
                .await,
        )?;
        calls.push(call);
        report.calls = calls;
        match out {
            Some(out) => {
                let now = out
                    .terminating_instances()
                    .iter()
                    .find(|c| c.instance_id() == Some(id))
                    .and_then(|c| c.current_state())
                    .and_then(|s| s.name())
                    .map(|s| s.as_str().to_string());
                report.after = json!({"State": now});
                report.outcome = Outcome::Changed;
                report.resources_changed.push(id.to_string());
            }
            None => report.outcome = Outcome::Planned,
        }
        Ok(report)
    }
}
