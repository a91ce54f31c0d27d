//! `ec2.capture_metadata`: everything EC2 says about an instance, as one evidence item.

use base64::Engine as _;
use serde_json::{json, Value};
use vigil_aws::AwsContext;
use vigil_respond::action::{
    Action, ActionError, ActionInfo, DryRunMode, Outcome, ParamDoc, Params, StepEnv, StepReport,
};

use super::{client, describe_instance, filter, json as j, object, tags};
use crate::common::{check, made, request_id, resource_id, store_json, tags_json};

static INFO: ActionInfo = ActionInfo {
    name: "ec2.capture_metadata",
    summary: "Capture an instance's metadata (instance, volumes, interfaces, security groups, \
              profile, user data, console output) as one evidence item",
    params: &[ParamDoc {
        name: "instance_id",
        required: true,
        description: "The instance to capture (i-...)",
    }],
    example: "- id: capture\n  action: ec2.capture_metadata\n  params:\n    instance_id: \"{{ inputs.instance_id }}\"\n",
    mutating: false,
    dry_run: DryRunMode::ReadOnly,
    records: "The captured JSON (evidence); outputs tags, vpc_id, subnet_id, az, volume_ids, \
              eni_ids, instance_profile_arn, asg_name, private_ips, public_ip",
};

const PERMISSIONS: &[&str] = &[
    "ec2:DescribeInstances",
    "ec2:DescribeVolumes",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeIamInstanceProfileAssociations",
    "ec2:DescribeInstanceAttribute",
    "ec2:GetConsoleOutput",
];

/// `ec2.capture_metadata`.
pub struct CaptureMetadata {
    ctx: AwsContext,
}

impl CaptureMetadata {
    pub fn new(ctx: AwsContext) -> Self {
        CaptureMetadata { ctx }
    }
}

#[async_trait::async_trait]
impl Action for CaptureMetadata {
    fn info(&self) -> &'static ActionInfo {
        &INFO
    }

    fn permissions(&self, _params: &Params) -> Vec<&'static str> {
        PERMISSIONS.to_vec()
    }

    fn all_permissions(&self) -> Vec<&'static str> {
        PERMISSIONS.to_vec()
    }

    fn cli(&self, params: &Params) -> Vec<String> {
        let id = super::cli_arg(params, "instance_id");
        vec![
            format!("aws ec2 describe-instances --instance-ids {id}"),
            format!("aws ec2 describe-volumes --filters Name=attachment.instance-id,Values={id}"),
            format!(
                "aws ec2 describe-network-interfaces --filters Name=attachment.instance-id,Values={id}"
            ),
            format!(
                "aws ec2 describe-iam-instance-profile-associations --filters Name=instance-id,Values={id}"
            ),
            format!("aws ec2 describe-instance-attribute --instance-id {id} --attribute userData"),
            format!("aws ec2 get-console-output --instance-id {id} --latest --output text"),
        ]
    }

    async fn run(&self, env: &StepEnv<'_>, params: &Params) -> Result<StepReport, ActionError> {
        let id = resource_id(params, "instance_id", "i-")?;
        let ec2 = client(&self.ctx, env).await?;
        let mut calls = Vec::new();
        let state = describe_instance(&ec2, id, &mut calls).await?;
        let by_instance = [filter("attachment.instance-id", &[id])];

        let volumes = check(
            "DescribeVolumes",
            ec2.describe_volumes()
                .set_filters(Some(by_instance.to_vec()))
                .send()
                .await,
        )?;
        calls.push(made(
            "ec2",
            "DescribeVolumes",
            json!({"Filters": {"attachment.instance-id": [id]}}),
            request_id(&volumes),
        ));
        let enis = check(
            "DescribeNetworkInterfaces",
            ec2.describe_network_interfaces()
                .set_filters(Some(by_instance.to_vec()))
                .send()
                .await,
        )?;
        calls.push(made(
            "ec2",
            "DescribeNetworkInterfaces",
            json!({"Filters": {"attachment.instance-id": [id]}}),
            request_id(&enis),
        ));
        let mut group_ids = state.group_ids();
        for n in enis.network_interfaces() {
            for g in n.groups().iter().filter_map(|g| g.group_id()) {
                if !group_ids.iter().any(|x| x == g) {
                    group_ids.push(g.to_string());
                }
            }
        }
        let groups = if group_ids.is_empty() {
            Vec::new()
        } else {
            let out = check(
                "DescribeSecurityGroups",
                ec2.describe_security_groups()
                    .set_group_ids(Some(group_ids.clone()))
                    .send()
                    .await,
            )?;
            calls.push(made(
                "ec2",
                "DescribeSecurityGroups",
                json!({"GroupIds": group_ids}),
                request_id(&out),
            ));
            out.security_groups()
                .iter()
                .map(j::security_group)
                .collect()
        };
        let assoc = check(
            "DescribeIamInstanceProfileAssociations",
            ec2.describe_iam_instance_profile_associations()
                .filters(filter("instance-id", &[id]))
                .send()
                .await,
        )?;
        calls.push(made(
            "ec2",
            "DescribeIamInstanceProfileAssociations",
            json!({"Filters": {"instance-id": [id]}}),
            request_id(&assoc),
        ));
        let associations: Vec<Value> = assoc
            .iam_instance_profile_associations()
            .iter()
            .map(|a| {
                json!({
                    "AssociationId": a.association_id(),
                    "State": a.state().map(|s| s.as_str()),
                    "Arn": a.iam_instance_profile().and_then(|p| p.arn()),
                })
            })
            .collect();
        let user_data = self.user_data(&ec2, id, &mut calls).await?;
        let console = self.console_output(&ec2, id, &mut calls).await?;

        let capture = json!({
            "CapturedAt": env.now.to_rfc3339(),
            "CapturedBy": env.responder,
            "Instance": j::instance(&state.instance),
            "Volumes": volumes.volumes().iter().map(j::volume).collect::<Vec<_>>(),
            "NetworkInterfaces": enis.network_interfaces().iter().map(j::network_interface).collect::<Vec<_>>(),
            "SecurityGroups": groups,
            "IamInstanceProfileAssociations": associations,
            "UserData": user_data,
            "ConsoleOutput": console,
        });
        let hash = store_json(
            env,
            format!("{id}-metadata.json"),
            Some(id.to_string()),
            "ec2:DescribeInstances, DescribeVolumes, DescribeNetworkInterfaces, \
             DescribeSecurityGroups, DescribeIamInstanceProfileAssociations, \
             DescribeInstanceAttribute(userData), GetConsoleOutput by ec2.capture_metadata"
                .to_string(),
            &capture,
        )?;

        let mut report = StepReport::new(Outcome::Done);
        report.calls = calls;
        report.before = capture["Instance"].clone();
        report.after = report.before.clone();
        report.evidence.push(hash);
        let profile = state
            .instance
            .iam_instance_profile()
            .and_then(|p| p.arn())
            .map(str::to_string);
        report.outputs = object(json!({
            "instance_id": id,
            "state": state.state_name(),
            "tags": tags_json(&state.tags),
            "vpc_id": state.vpc_id(),
            "subnet_id": state.instance.subnet_id(),
            "az": state.az(),
            "volume_ids": state.volume_ids(),
            "eni_ids": state.eni_ids(),
            "security_group_ids": state.group_ids(),
            "instance_profile_arn": profile,
            "asg_name": state.tag(tags::ASG),
            "private_ips": state.private_ips(),
            "public_ip": state.instance.public_ip_address(),
            "image_id": state.instance.image_id(),
        }));
        Ok(report)
    }
}

impl CaptureMetadata {
    /// User data, decoded when it is text (attackers often leave their bootstrap there).
    async fn user_data(
        &self,
        ec2: &aws_sdk_ec2::Client,
        id: &str,
        calls: &mut Vec<vigil_respond::action::ApiCall>,
    ) -> Result<Value, ActionError> {
        let out = check(
            "DescribeInstanceAttribute",
            ec2.describe_instance_attribute()
                .instance_id(id)
                .attribute(aws_sdk_ec2::types::InstanceAttributeName::UserData)
                .send()
                .await,
        )?;
        calls.push(made(
            "ec2",
            "DescribeInstanceAttribute",
            json!({"InstanceId": id, "Attribute": "userData"}),
            request_id(&out),
        ));
        Ok(decode_base64_field(out.user_data().and_then(|u| u.value())))
    }

    /// The latest console output (serial log), decoded.
    async fn console_output(
        &self,
        ec2: &aws_sdk_ec2::Client,
        id: &str,
        calls: &mut Vec<vigil_respond::action::ApiCall>,
    ) -> Result<Value, ActionError> {
        let out = check(
            "GetConsoleOutput",
            ec2.get_console_output()
                .instance_id(id)
                .latest(true)
                .send()
                .await,
        )?;
        calls.push(made(
            "ec2",
            "GetConsoleOutput",
            json!({"InstanceId": id, "Latest": true}),
            request_id(&out),
        ));
        Ok(decode_base64_field(out.output()))
    }
}

/// A base64 field as `{"Base64": ..., "Text": ...}` (text when it decodes to UTF-8).
fn decode_base64_field(value: Option<&str>) -> Value {
    let Some(b64) = value.filter(|v| !v.is_empty()) else {
        return Value::Null;
    };
    let text = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok());
    json!({"Base64": b64, "Text": text})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_fields_are_decoded_when_text() {
        assert_eq!(decode_base64_field(None), Value::Null);
        assert_eq!(decode_base64_field(Some("")), Value::Null);
        let v = decode_base64_field(Some("aGVsbG8="));
        assert_eq!(v["Text"], "hello");
        let v = decode_base64_field(Some("//79"));
        assert_eq!(v["Text"], Value::Null);
        assert_eq!(v["Base64"], "//79");
    }
}
