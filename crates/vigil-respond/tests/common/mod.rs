//! Fake actions for the executor tests: they record every call, keep a tiny "account"
//! (what has been done to which resource, and each resource's tags) so that running twice
//! converges, honour the guard, and fail on demand.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex};

use serde_json::{json, Map, Value};
use vigil_respond::action::{
    Action, ActionError, ActionInfo, ApiCall, DryRunMode, Outcome, ParamDoc, Params, StepEnv,
    StepReport,
};
use vigil_respond::Catalog;

/// One call an action received.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub action: String,
    pub params: Value,
    pub execute: bool,
}

/// The fake account shared by all fake actions of a catalog.
#[derive(Default)]
pub struct World {
    pub calls: Mutex<Vec<Call>>,
    /// (action, resource) pairs already done.
    pub done: Mutex<BTreeSet<(String, String)>>,
    /// Tags of each resource.
    pub tags: Mutex<BTreeMap<String, Vec<(String, String)>>>,
    /// Errors to return, per action, before succeeding.
    pub failures: Mutex<BTreeMap<String, VecDeque<ActionError>>>,
    /// Outputs each action returns.
    pub outputs: Mutex<BTreeMap<String, Map<String, Value>>>,
}

impl World {
    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    /// Actions called with execute on, in order.
    pub fn executed(&self) -> Vec<String> {
        self.calls()
            .into_iter()
            .filter(|c| c.execute)
            .map(|c| c.action)
            .collect()
    }

    pub fn changes(&self) -> BTreeSet<(String, String)> {
        self.done.lock().unwrap().clone()
    }

    pub fn fail(&self, action: &str, errors: Vec<ActionError>) {
        self.failures
            .lock()
            .unwrap()
            .insert(action.into(), errors.into());
    }

    pub fn tag(&self, resource: &str, key: &str, value: &str) {
        self.tags
            .lock()
            .unwrap()
            .entry(resource.into())
            .or_default()
            .push((key.into(), value.into()));
    }

    pub fn set_outputs(&self, action: &str, outputs: Value) {
        if let Value::Object(map) = outputs {
            self.outputs.lock().unwrap().insert(action.into(), map);
        }
    }
}

/// A fake action.
pub struct Fake {
    info: &'static ActionInfo,
    permissions: Vec<&'static str>,
    world: Arc<World>,
}

/// The resource a step acts on: the first `*_id`, `bucket`, `trail`, `user_name` or
/// `role_name` parameter.
fn resource_of(params: &Params) -> String {
    const KEYS: [&str; 12] = [
        "instance_id",
        "resource_id",
        "access_key_id",
        "user_name",
        "role_name",
        "bucket",
        "trail",
        "group_id",
        "snapshot_id",
        "image_id",
        "db_snapshot_id",
        "key_id",
    ];
    KEYS.iter()
        .find_map(|k| params.get(*k).and_then(Value::as_str))
        .unwrap_or("account")
        .to_string()
}

#[async_trait::async_trait]
impl Action for Fake {
    fn info(&self) -> &'static ActionInfo {
        self.info
    }

    fn permissions(&self, params: &Params) -> Vec<&'static str> {
        // Like ec2.remove_instance_profile: revoking sessions needs one more permission.
        let mut permissions = self.permissions.clone();
        if params.get("revoke_role_sessions") == Some(&Value::Bool(false)) {
            permissions.retain(|p| *p != "iam:PutRolePolicy");
        }
        permissions
    }

    fn all_permissions(&self) -> Vec<&'static str> {
        self.permissions.clone()
    }

    fn cli(&self, params: &Params) -> Vec<String> {
        let args: Vec<String> = params
            .iter()
            .map(|(k, v)| {
                let v = v
                    .as_str()
                    .map(String::from)
                    .unwrap_or_else(|| v.to_string());
                format!("--{} {v}", k.replace('_', "-"))
            })
            .collect();
        let (service, op) = self.info.name.split_once('.').unwrap_or(("x", "y"));
        vec![format!(
            "aws {service} {} {}",
            op.replace('_', "-"),
            args.join(" ")
        )]
    }

    async fn run(&self, env: &StepEnv<'_>, params: &Params) -> Result<StepReport, ActionError> {
        let name = self.info.name.to_string();
        self.world.calls.lock().unwrap().push(Call {
            action: name.clone(),
            params: Value::Object(params.clone()),
            execute: env.execute,
        });
        if let Some(error) = self
            .world
            .failures
            .lock()
            .unwrap()
            .get_mut(&name)
            .and_then(VecDeque::pop_front)
        {
            return Err(error);
        }
        for doc in self.info.params.iter().filter(|p| p.required) {
            if !params.contains_key(doc.name) {
                return Err(ActionError::InvalidParams(format!(
                    "{} is required",
                    doc.name
                )));
            }
        }
        let resource = resource_of(params);
        let mut outputs = self
            .world
            .outputs
            .lock()
            .unwrap()
            .get(&name)
            .cloned()
            .unwrap_or_default();
        let call = |made: bool| ApiCall {
            service: name.split('.').next().unwrap_or("x").into(),
            operation: name.clone(),
            params: Value::Object(params.clone()),
            request_id: made.then(|| format!("req-{name}-{resource}")),
            dry_run_checked: false,
            made,
        };
        if !self.info.mutating {
            let tags = self
                .world
                .tags
                .lock()
                .unwrap()
                .get(&resource)
                .cloned()
                .unwrap_or_default();
            let tag_map: Map<String, Value> =
                tags.into_iter().map(|(k, v)| (k, json!(v))).collect();
            outputs.entry("tags").or_insert(Value::Object(tag_map));
            let mut report = StepReport::new(Outcome::Done);
            report.calls.push(call(true));
            report.outputs = outputs;
            return Ok(report);
        }
        let key = (name.clone(), resource.clone());
        if self.world.done.lock().unwrap().contains(&key) {
            let mut report = StepReport::new(Outcome::AlreadyDone);
            report.outputs = outputs;
            return Ok(report);
        }
        let tags = self
            .world
            .tags
            .lock()
            .unwrap()
            .get(&resource)
            .cloned()
            .unwrap_or_default();
        env.guard.allow_change(&resource, &tags)?;
        if !env.execute {
            let mut report = StepReport::new(Outcome::Planned);
            report.calls.push(call(false));
            return Ok(report);
        }
        self.world.done.lock().unwrap().insert(key);
        let mut report = StepReport::new(Outcome::Changed);
        report.calls.push(call(true));
        report.before = json!({"state": "before"});
        report.after = json!({"state": "after", "resource": resource});
        report.resources_changed.push(resource);
        report.outputs = outputs;
        Ok(report)
    }
}

/// A fake named `name` with parameters `(name, required)` and IAM permissions.
pub fn fake(
    world: &Arc<World>,
    name: &str,
    mutating: bool,
    params: &[(&str, bool)],
    permissions: &[&'static str],
) -> Arc<dyn Action> {
    let docs: Vec<ParamDoc> = params
        .iter()
        .map(|(p, required)| ParamDoc {
            name: Box::leak(p.to_string().into_boxed_str()),
            required: *required,
            description: "a parameter",
        })
        .collect();
    let info = Box::leak(Box::new(ActionInfo {
        name: Box::leak(name.to_string().into_boxed_str()),
        summary: Box::leak(format!("Fake {name}").into_boxed_str()),
        params: Box::leak(docs.into_boxed_slice()),
        example: "",
        mutating,
        dry_run: if mutating {
            DryRunMode::Plan
        } else {
            DryRunMode::ReadOnly
        },
        records: "state",
    }));
    Arc::new(Fake {
        info,
        permissions: permissions.to_vec(),
        world: world.clone(),
    })
}

type Spec = (
    &'static str,
    bool,
    &'static [(&'static str, bool)],
    &'static [&'static str],
);

/// Every real action name (as vigil-actions declares them), faked.
const REAL: &[Spec] = &[
    (
        "ec2.capture_metadata",
        false,
        &[("instance_id", true)],
        &["ec2:DescribeInstances", "ec2:DescribeVolumes"],
    ),
    (
        "ec2.enable_termination_protection",
        true,
        &[("instance_id", true)],
        &[
            "ec2:DescribeInstanceAttribute",
            "ec2:ModifyInstanceAttribute",
        ],
    ),
    (
        "ec2.isolate_instance",
        true,
        &[("instance_id", true), ("isolation_group_name", false)],
        &[
            "ec2:DescribeInstances",
            "ec2:CreateSecurityGroup",
            "ec2:ModifyInstanceAttribute",
            "ec2:RevokeSecurityGroupEgress",
        ],
    ),
    (
        "ec2.release_isolation",
        true,
        &[("instance_id", true)],
        &["ec2:ModifyInstanceAttribute"],
    ),
    (
        "autoscaling.detach_instance",
        true,
        &[("instance_id", true), ("mode", false), ("replace", false)],
        &[
            "autoscaling:DescribeAutoScalingInstances",
            "autoscaling:DetachInstances",
            "autoscaling:EnterStandby",
        ],
    ),
    (
        "elb.deregister_instance",
        true,
        &[("instance_id", true)],
        &[
            "elasticloadbalancing:DescribeLoadBalancers",
            "elasticloadbalancing:DeregisterInstancesFromLoadBalancer",
            "elasticloadbalancing:DeregisterTargets",
        ],
    ),
    (
        "ec2.snapshot_volumes",
        true,
        &[("instance_id", true)],
        &[
            "ec2:DescribeInstances",
            "ec2:CreateSnapshot",
            "ec2:CreateTags",
        ],
    ),
    (
        "ec2.tag_resource",
        true,
        &[("resource_id", true), ("tags", false)],
        &["ec2:CreateTags"],
    ),
    (
        "ec2.remove_instance_profile",
        true,
        &[("instance_id", true), ("revoke_role_sessions", false)],
        &[
            "ec2:DescribeIamInstanceProfileAssociations",
            "ec2:DisassociateIamInstanceProfile",
            "iam:PutRolePolicy",
        ],
    ),
    (
        "ec2.stop_instance",
        true,
        &[("instance_id", true)],
        &["ec2:StopInstances"],
    ),
    (
        "ec2.terminate_instance",
        true,
        &[("instance_id", true), ("allow_terminate", true)],
        &["ec2:TerminateInstances"],
    ),
    (
        "ec2.share_snapshot",
        true,
        &[("snapshot_id", true), ("account_id", true)],
        &["ec2:ModifySnapshotAttribute"],
    ),
    (
        "ec2.launch_forensic_workstation",
        true,
        &[
            ("ami_id", true),
            ("subnet_id", true),
            ("instance_type", false),
            ("key_name", false),
            ("security_group_id", false),
        ],
        &["ec2:RunInstances"],
    ),
    (
        "ec2.attach_snapshot_volume",
        true,
        &[
            ("snapshot_id", true),
            ("instance_id", true),
            ("device", false),
        ],
        &["ec2:CreateVolume", "ec2:AttachVolume"],
    ),
    (
        "ec2.allow_workstation_ingress",
        true,
        &[
            ("group_id", true),
            ("source_group_id", true),
            ("port", false),
        ],
        &["ec2:AuthorizeSecurityGroupIngress"],
    ),
    (
        "ssm.capture_volatile",
        true,
        &[
            ("instance_id", true),
            ("output_bucket", false),
            ("output_prefix", false),
            ("avml_url", false),
            ("url_ttl_secs", false),
        ],
        &["ssm:SendCommand", "ssm:GetCommandInvocation"],
    ),
    (
        "iam.deactivate_access_key",
        true,
        &[("access_key_id", true), ("user_name", false)],
        &["iam:UpdateAccessKey", "iam:ListAccessKeys"],
    ),
    (
        "iam.deny_all_user",
        true,
        &[("user_name", true)],
        &["iam:PutUserPolicy"],
    ),
    (
        "iam.revoke_role_sessions",
        true,
        &[("role_name", true)],
        &["iam:PutRolePolicy"],
    ),
    (
        "iam.delete_login_profile",
        true,
        &[("user_name", true)],
        &["iam:DeleteLoginProfile"],
    ),
    (
        "cloudtrail.collect_activity",
        false,
        &[
            ("principal_arn", false),
            ("access_key_id", false),
            ("resource", false),
            ("source_ip", false),
            ("start", true),
            ("end", false),
            ("max_events", false),
            ("logs_dir", false),
        ],
        &["cloudtrail:LookupEvents"],
    ),
    (
        "cloudtrail.start_logging",
        true,
        &[("trail", true)],
        &["cloudtrail:GetTrailStatus", "cloudtrail:StartLogging"],
    ),
    (
        "guardduty.enable_detector",
        true,
        &[("detector_id", false)],
        &["guardduty:ListDetectors", "guardduty:UpdateDetector"],
    ),
    (
        "config.start_recorder",
        true,
        &[("recorder_name", false)],
        &["config:StartConfigurationRecorder"],
    ),
    (
        "s3.block_public_access",
        true,
        &[("bucket", true)],
        &[
            "s3:GetBucketPublicAccessBlock",
            "s3:PutBucketPublicAccessBlock",
        ],
    ),
    (
        "s3.remove_public_acl",
        true,
        &[("bucket", true)],
        &["s3:GetBucketAcl", "s3:PutBucketAcl"],
    ),
    (
        "s3.remove_public_policy_statements",
        true,
        &[("bucket", true)],
        &[
            "s3:GetBucketPolicy",
            "s3:PutBucketPolicy",
            "s3:DeleteBucketPolicy",
        ],
    ),
    (
        "s3.enable_default_encryption",
        true,
        &[("bucket", true), ("kms_key_id", false)],
        &["s3:PutEncryptionConfiguration"],
    ),
    (
        "ec2.make_snapshot_private",
        true,
        &[("snapshot_id", true)],
        &["ec2:ModifySnapshotAttribute"],
    ),
    (
        "rds.make_snapshot_private",
        true,
        &[("db_snapshot_id", true)],
        &["rds:ModifyDBSnapshotAttribute"],
    ),
    (
        "ec2.make_image_private",
        true,
        &[("image_id", true)],
        &["ec2:ModifyImageAttribute"],
    ),
    (
        "ec2.revoke_ingress_rule",
        true,
        &[
            ("group_id", true),
            ("security_group_rule_id", false),
            ("protocol", false),
            ("from_port", false),
            ("to_port", false),
            ("cidr", false),
        ],
        &[
            "ec2:DescribeSecurityGroupRules",
            "ec2:RevokeSecurityGroupIngress",
        ],
    ),
    (
        "ec2.nacl_deny_ip",
        true,
        &[
            ("network_acl_id", false),
            ("subnet_id", false),
            ("cidr", true),
            ("rule_number", false),
        ],
        &["ec2:DescribeNetworkAcls", "ec2:CreateNetworkAclEntry"],
    ),
    (
        "wafv2.add_ip_to_set",
        true,
        &[
            ("ip_set_name", true),
            ("ip_set_id", true),
            ("scope", true),
            ("cidr", true),
        ],
        &["wafv2:GetIPSet", "wafv2:UpdateIPSet"],
    ),
    (
        "kms.cancel_key_deletion",
        true,
        &[("key_id", true), ("enable", false)],
        &["kms:CancelKeyDeletion", "kms:EnableKey"],
    ),
    (
        "notify.webhook",
        false,
        &[("url", true), ("text", true), ("extra", false)],
        &[],
    ),
    (
        "notify.sns",
        false,
        &[("topic_arn", true), ("subject", false), ("message", true)],
        &["sns:Publish"],
    ),
    (
        "notify.email",
        false,
        &[
            ("smtp_host", true),
            ("smtp_port", false),
            ("starttls", false),
            ("smtp_username", false),
            ("from", true),
            ("to", true),
            ("subject", true),
            ("body", true),
        ],
        &[],
    ),
];

/// A catalog of fakes named and shaped like the real actions.
pub fn real_catalog(world: &Arc<World>) -> Catalog {
    let mut catalog = Catalog::new();
    for (name, mutating, params, permissions) in REAL {
        catalog.register(fake(world, name, *mutating, params, permissions));
    }
    catalog
}

/// A finding as JSON about an EC2 instance.
pub fn ec2_finding(instance: &str, account: &str, severity: &str, score: i64) -> Value {
    json!({
        "id": format!("f-{instance}"),
        "rule_id": "1658854a-2eb3-4201-af65-4ef42588a151",
        "title": "GuardDuty: instance talks to a command and control server",
        "severity": {"label": severity, "score": score},
        "account": account,
        "region": "us-east-1",
        "principal": null,
        "resources": [format!("arn:aws:ec2:us-east-1:{account}:instance/{instance}")],
        "source_ips": ["198.51.100.7"],
        "tags": ["attack.command-and-control"],
        "samples": [{"origin": "gd.json:1", "source": "guardduty", "time_ms": 1,
                     "record": {"type": "Backdoor:EC2/C&CActivity.B!DNS",
                                "resource": {"instanceDetails": {"instanceId": instance}}}}]
    })
}
