//! Undoing logging and monitoring tamper: restart a stopped CloudTrail trail, re-enable (or
//! create) the region's GuardDuty detector, restart the AWS Config recorder.

use std::sync::Arc;

use aws_sdk_guardduty::types::DetectorStatus;
use serde_json::{json, Value};
use vigil_aws::AwsContext;
use vigil_respond::action::{
    Action, ActionError, ActionInfo, ApiCall, DryRunMode, Outcome, ParamDoc, Params, StepEnv,
    StepReport,
};

use crate::common::{
    check, cli_value, made, optional_str, planned, request_id, required_str, sdk_config,
};
use crate::ActionOptions;

/// Every logging action, each holding `ctx`.
pub fn actions(ctx: &AwsContext, _opts: &ActionOptions) -> Vec<Arc<dyn Action>> {
    vec![
        Arc::new(StartLogging { ctx: ctx.clone() }),
        Arc::new(EnableDetector { ctx: ctx.clone() }),
        Arc::new(StartRecorder { ctx: ctx.clone() }),
    ]
}

/// Report for a step whose target state already holds.
fn already(calls: Vec<ApiCall>, state: Value, note: String) -> StepReport {
    let mut report = StepReport::new(Outcome::AlreadyDone);
    report.calls = calls;
    report.before = state.clone();
    report.after = state;
    report.note = Some(note);
    report
}

// ---------------------------------------------------------------------------------------
// cloudtrail.start_logging
// ---------------------------------------------------------------------------------------

/// `cloudtrail.start_logging`: restarts a trail an attacker stopped (`StopLogging`). The call
/// goes to the trail's home region, wherever the step runs.
pub struct StartLogging {
    ctx: AwsContext,
}

static START_LOGGING: ActionInfo = ActionInfo {
    name: "cloudtrail.start_logging",
    summary: "Restart logging on a stopped CloudTrail trail (in its home region)",
    params: &[ParamDoc {
        name: "trail",
        required: true,
        description: "Trail name or ARN",
    }],
    example: "- id: restart-trail\n  action: cloudtrail.start_logging\n  params:\n    trail: \"{{ inputs.trail }}\"\n",
    mutating: true,
    dry_run: DryRunMode::Plan,
    records: "the trail's configuration and logging status before and after",
};

/// A trail's ARN, home region and tags.
struct TrailFacts {
    name: String,
    arn: String,
    home_region: Option<String>,
    description: Value,
}

impl StartLogging {
    async fn describe(
        client: &aws_sdk_cloudtrail::Client,
        trail: &str,
        calls: &mut Vec<ApiCall>,
    ) -> Result<TrailFacts, ActionError> {
        let out = check(
            "DescribeTrails",
            client
                .describe_trails()
                .trail_name_list(trail)
                .include_shadow_trails(true)
                .send()
                .await,
        )?;
        calls.push(made(
            "cloudtrail",
            "DescribeTrails",
            json!({"trailNameList": [trail], "includeShadowTrails": true}),
            request_id(&out),
        ));
        let found = out
            .trail_list()
            .iter()
            .find(|t| t.name() == Some(trail) || t.trail_arn() == Some(trail))
            .ok_or_else(|| ActionError::NotFound(format!("CloudTrail trail {trail}")))?;
        Ok(TrailFacts {
            name: found.name().unwrap_or(trail).to_string(),
            arn: found.trail_arn().unwrap_or(trail).to_string(),
            home_region: found.home_region().map(str::to_string),
            description: json!({
                "name": found.name(),
                "arn": found.trail_arn(),
                "home_region": found.home_region(),
                "s3_bucket_name": found.s3_bucket_name(),
                "is_multi_region_trail": found.is_multi_region_trail(),
                "is_organization_trail": found.is_organization_trail(),
                "log_file_validation_enabled": found.log_file_validation_enabled(),
            }),
        })
    }

    async fn tags(
        client: &aws_sdk_cloudtrail::Client,
        arn: &str,
        calls: &mut Vec<ApiCall>,
    ) -> Result<Vec<(String, String)>, ActionError> {
        let out = check(
            "ListTags",
            client.list_tags().resource_id_list(arn).send().await,
        )?;
        calls.push(made(
            "cloudtrail",
            "ListTags",
            json!({"ResourceIdList": [arn]}),
            request_id(&out),
        ));
        Ok(out
            .resource_tag_list()
            .iter()
            .flat_map(|r| r.tags_list())
            .map(|t| {
                (
                    t.key().to_string(),
                    t.value().unwrap_or_default().to_string(),
                )
            })
            .collect())
    }

    async fn is_logging(
        client: &aws_sdk_cloudtrail::Client,
        arn: &str,
        calls: &mut Vec<ApiCall>,
    ) -> Result<bool, ActionError> {
        let out = check(
            "GetTrailStatus",
            client.get_trail_status().name(arn).send().await,
        )?;
        calls.push(made(
            "cloudtrail",
            "GetTrailStatus",
            json!({"Name": arn}),
            request_id(&out),
        ));
        Ok(out.is_logging().unwrap_or(false))
    }
}

#[async_trait::async_trait]
impl Action for StartLogging {
    fn info(&self) -> &'static ActionInfo {
        &START_LOGGING
    }

    fn permissions(&self, _params: &Params) -> Vec<&'static str> {
        self.all_permissions()
    }

    fn all_permissions(&self) -> Vec<&'static str> {
        vec![
            "cloudtrail:DescribeTrails",
            "cloudtrail:GetTrailStatus",
            "cloudtrail:ListTags",
            "cloudtrail:StartLogging",
        ]
    }

    fn cli(&self, params: &Params) -> Vec<String> {
        let trail = cli_value(params, "trail");
        vec![
            format!("aws cloudtrail get-trail-status --name {trail}"),
            format!("aws cloudtrail start-logging --name {trail}"),
        ]
    }

    async fn run(&self, env: &StepEnv<'_>, params: &Params) -> Result<StepReport, ActionError> {
        let trail = required_str(params, "trail")?;
        let local = aws_sdk_cloudtrail::Client::new(&sdk_config(&self.ctx, env).await?);
        let mut calls = Vec::new();
        let facts = Self::describe(&local, trail, &mut calls).await?;
        // StartLogging must be sent to the trail's home region.
        let current = env
            .region
            .map(str::to_string)
            .unwrap_or_else(|| self.ctx.region());
        let client = match facts.home_region.as_deref() {
            Some(home) if home != current => {
                let cfg = self
                    .ctx
                    .config_for(env.account, Some(home))
                    .await
                    .map_err(|e| {
                        ActionError::Failed(format!(
                            "cannot reach the trail's home region {home}: {e}"
                        ))
                    })?;
                aws_sdk_cloudtrail::Client::new(&cfg)
            }
            _ => local,
        };
        let logging = Self::is_logging(&client, &facts.arn, &mut calls).await?;
        let state = |on: bool| json!({"trail": facts.description, "is_logging": on});
        if logging {
            return Ok(already(
                calls,
                state(true),
                format!("trail {trail} is logging"),
            ));
        }
        let tags = Self::tags(&client, &facts.arn, &mut calls).await?;
        env.guard.allow_change(&facts.arn, &tags)?;
        let mut report = StepReport::new(Outcome::Planned);
        report.before = state(false);
        report.outputs.insert("trail_arn".into(), json!(facts.arn));
        // By name: the client is in the trail's home region, where the name is unique.
        let start = json!({"Name": facts.name});
        if !env.execute {
            calls.push(planned("cloudtrail", "StartLogging", start));
            report.after = state(false);
        } else {
            let out = check(
                "StartLogging",
                client.start_logging().name(&facts.name).send().await,
            )?;
            calls.push(made("cloudtrail", "StartLogging", start, request_id(&out)));
            let now = Self::is_logging(&client, &facts.arn, &mut calls).await?;
            report.after = state(now);
            report.outcome = Outcome::Changed;
            report.resources_changed.push(facts.arn.clone());
        }
        report.calls = calls;
        Ok(report)
    }
}

// ---------------------------------------------------------------------------------------
// guardduty.enable_detector
// ---------------------------------------------------------------------------------------

/// `guardduty.enable_detector`: re-enables a suspended detector, or creates one when the
/// region has none (an attacker may have deleted it).
pub struct EnableDetector {
    ctx: AwsContext,
}

static ENABLE_DETECTOR: ActionInfo = ActionInfo {
    name: "guardduty.enable_detector",
    summary: "Enable the region's GuardDuty detector (create it when none exists)",
    params: &[ParamDoc {
        name: "detector_id",
        required: false,
        description: "The detector; default the region's (ListDetectors)",
    }],
    example: "- id: guardduty-on\n  action: guardduty.enable_detector\n  params: {}\n",
    mutating: true,
    dry_run: DryRunMode::Plan,
    records: "the detector's id, status and tags before and after",
};

impl EnableDetector {
    async fn detector_id(
        gd: &aws_sdk_guardduty::Client,
        params: &Params,
        calls: &mut Vec<ApiCall>,
    ) -> Result<Option<String>, ActionError> {
        if let Some(id) = optional_str(params, "detector_id")? {
            if !id.bytes().all(|b| b.is_ascii_alphanumeric()) || id.len() > 300 {
                return Err(ActionError::InvalidParams(format!(
                    "parameter `detector_id` = {id:?} is not a detector id"
                )));
            }
            return Ok(Some(id.to_string()));
        }
        let out = check("ListDetectors", gd.list_detectors().send().await)?;
        calls.push(made(
            "guardduty",
            "ListDetectors",
            json!({}),
            request_id(&out),
        ));
        Ok(out.detector_ids().first().cloned())
    }

    async fn state(
        gd: &aws_sdk_guardduty::Client,
        id: &str,
        calls: &mut Vec<ApiCall>,
    ) -> Result<(Value, Vec<(String, String)>), ActionError> {
        let out = check(
            "GetDetector",
            gd.get_detector().detector_id(id).send().await,
        )?;
        calls.push(made(
            "guardduty",
            "GetDetector",
            json!({"DetectorId": id}),
            request_id(&out),
        ));
        let mut tags: Vec<(String, String)> = out
            .tags()
            .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        tags.sort();
        let state = json!({
            "detector_id": id,
            "status": out.status().map(|s| s.as_str()),
            "finding_publishing_frequency": out.finding_publishing_frequency().map(|f| f.as_str()),
            "updated_at": out.updated_at(),
        });
        Ok((state, tags))
    }

    async fn create(
        gd: &aws_sdk_guardduty::Client,
        env: &StepEnv<'_>,
        mut calls: Vec<ApiCall>,
    ) -> Result<StepReport, ActionError> {
        let mut report = StepReport::new(Outcome::Planned);
        report.before = json!({"detector_id": null});
        let create = json!({"Enable": true});
        if !env.execute {
            calls.push(planned("guardduty", "CreateDetector", create));
            report.after = json!({"detector_id": null, "status": "ENABLED (planned)"});
        } else {
            let out = check(
                "CreateDetector",
                gd.create_detector().enable(true).send().await,
            )?;
            calls.push(made(
                "guardduty",
                "CreateDetector",
                create,
                request_id(&out),
            ));
            let id = out
                .detector_id()
                .ok_or_else(|| ActionError::Failed("CreateDetector returned no id".into()))?
                .to_string();
            let (after, _) = Self::state(gd, &id, &mut calls).await?;
            report.after = after;
            report.outcome = Outcome::Changed;
            report.outputs.insert("detector_id".into(), json!(id));
            report.resources_changed.push(id);
        }
        report.calls = calls;
        Ok(report)
    }
}

#[async_trait::async_trait]
impl Action for EnableDetector {
    fn info(&self) -> &'static ActionInfo {
        &ENABLE_DETECTOR
    }

    fn permissions(&self, params: &Params) -> Vec<&'static str> {
        if params.contains_key("detector_id") {
            vec!["guardduty:GetDetector", "guardduty:UpdateDetector"]
        } else {
            self.all_permissions()
        }
    }

    fn all_permissions(&self) -> Vec<&'static str> {
        vec![
            "guardduty:CreateDetector",
            "guardduty:GetDetector",
            "guardduty:ListDetectors",
            "guardduty:UpdateDetector",
        ]
    }

    fn cli(&self, params: &Params) -> Vec<String> {
        let id = if params.contains_key("detector_id") {
            cli_value(params, "detector_id")
        } else {
            "$(aws guardduty list-detectors --query 'DetectorIds[0]' --output text)".into()
        };
        vec![format!(
            "aws guardduty update-detector --detector-id {id} --enable"
        )]
    }

    async fn run(&self, env: &StepEnv<'_>, params: &Params) -> Result<StepReport, ActionError> {
        let gd = aws_sdk_guardduty::Client::new(&sdk_config(&self.ctx, env).await?);
        let mut calls = Vec::new();
        let Some(id) = Self::detector_id(&gd, params, &mut calls).await? else {
            return Self::create(&gd, env, calls).await;
        };
        let (before, tags) = Self::state(&gd, &id, &mut calls).await?;
        if before["status"] == DetectorStatus::Enabled.as_str() {
            return Ok(already(calls, before, format!("detector {id} is enabled")));
        }
        env.guard.allow_change(&id, &tags)?;
        let mut report = StepReport::new(Outcome::Planned);
        report.outputs.insert("detector_id".into(), json!(id));
        let update = json!({"DetectorId": id, "Enable": true});
        if !env.execute {
            calls.push(planned("guardduty", "UpdateDetector", update));
            report.after = before.clone();
        } else {
            let out = check(
                "UpdateDetector",
                gd.update_detector()
                    .detector_id(&id)
                    .enable(true)
                    .send()
                    .await,
            )?;
            calls.push(made(
                "guardduty",
                "UpdateDetector",
                update,
                request_id(&out),
            ));
            report.after = Self::state(&gd, &id, &mut calls).await?.0;
            report.outcome = Outcome::Changed;
            report.resources_changed.push(id.clone());
        }
        report.before = before;
        report.calls = calls;
        Ok(report)
    }
}

// ---------------------------------------------------------------------------------------
// config.start_recorder
// ---------------------------------------------------------------------------------------

/// `config.start_recorder`: restarts the AWS Config recorder an attacker stopped.
pub struct StartRecorder {
    ctx: AwsContext,
}

static START_RECORDER: ActionInfo = ActionInfo {
    name: "config.start_recorder",
    summary: "Start the region's AWS Config configuration recorder",
    params: &[ParamDoc {
        name: "recorder_name",
        required: false,
        description: "The recorder; default the region's (usually `default`)",
    }],
    example: "- id: config-on\n  action: config.start_recorder\n  params: {}\n",
    mutating: true,
    dry_run: DryRunMode::Plan,
    records: "the recorder's status (recording, last status) before and after",
};

impl StartRecorder {
    async fn recorder_name(
        cfg: &aws_sdk_config::Client,
        params: &Params,
        calls: &mut Vec<ApiCall>,
    ) -> Result<String, ActionError> {
        let wanted = optional_str(params, "recorder_name")?;
        let mut req = cfg.describe_configuration_recorders();
        if let Some(name) = wanted {
            req = req.configuration_recorder_names(name);
        }
        let out = check("DescribeConfigurationRecorders", req.send().await)?;
        calls.push(made(
            "config",
            "DescribeConfigurationRecorders",
            json!({"ConfigurationRecorderNames": wanted.map(|n| vec![n])}),
            request_id(&out),
        ));
        let names: Vec<&str> = out
            .configuration_recorders()
            .iter()
            .filter_map(|r| r.name())
            .collect();
        match (wanted, names.as_slice()) {
            (Some(w), found) if found.contains(&w) => Ok(w.to_string()),
            (Some(w), _) => Err(ActionError::NotFound(format!("AWS Config recorder {w}"))),
            (None, [one, ..]) => Ok(one.to_string()),
            (None, []) => Err(ActionError::NotFound(
                "the region has no AWS Config recorder: create one (PutConfigurationRecorder \
                 and PutDeliveryChannel) before starting it"
                    .into(),
            )),
        }
    }

    async fn status(
        cfg: &aws_sdk_config::Client,
        name: &str,
        calls: &mut Vec<ApiCall>,
    ) -> Result<Value, ActionError> {
        let out = check(
            "DescribeConfigurationRecorderStatus",
            cfg.describe_configuration_recorder_status()
                .configuration_recorder_names(name)
                .send()
                .await,
        )?;
        calls.push(made(
            "config",
            "DescribeConfigurationRecorderStatus",
            json!({"ConfigurationRecorderNames": [name]}),
            request_id(&out),
        ));
        let status = out
            .configuration_recorders_status()
            .iter()
            .find(|s| s.name() == Some(name))
            .ok_or_else(|| {
                ActionError::NotFound(format!("status of AWS Config recorder {name}"))
            })?;
        Ok(json!({
            "recorder_name": name,
            "recording": status.recording(),
            "last_status": status.last_status().map(|s| s.as_str()),
            "last_error_code": status.last_error_code(),
        }))
    }
}

#[async_trait::async_trait]
impl Action for StartRecorder {
    fn info(&self) -> &'static ActionInfo {
        &START_RECORDER
    }

    fn permissions(&self, _params: &Params) -> Vec<&'static str> {
        self.all_permissions()
    }

    fn all_permissions(&self) -> Vec<&'static str> {
        vec![
            "config:DescribeConfigurationRecorderStatus",
            "config:DescribeConfigurationRecorders",
            "config:StartConfigurationRecorder",
        ]
    }

    fn cli(&self, params: &Params) -> Vec<String> {
        let name = if params.contains_key("recorder_name") {
            cli_value(params, "recorder_name")
        } else {
            "default".into()
        };
        vec![
            format!("aws configservice describe-configuration-recorder-status --configuration-recorder-names {name}"),
            format!("aws configservice start-configuration-recorder --configuration-recorder-name {name}"),
        ]
    }

    async fn run(&self, env: &StepEnv<'_>, params: &Params) -> Result<StepReport, ActionError> {
        let cfg = aws_sdk_config::Client::new(&sdk_config(&self.ctx, env).await?);
        let mut calls = Vec::new();
        let name = Self::recorder_name(&cfg, params, &mut calls).await?;
        let before = Self::status(&cfg, &name, &mut calls).await?;
        if before["recording"] == true {
            return Ok(already(
                calls,
                before,
                format!("recorder {name} is recording"),
            ));
        }
        // Configuration recorders carry no tags the guard could read.
        env.guard.allow_change(&name, &[])?;
        let mut report = StepReport::new(Outcome::Planned);
        report.outputs.insert("recorder_name".into(), json!(name));
        let start = json!({"ConfigurationRecorderName": name});
        if !env.execute {
            calls.push(planned("config", "StartConfigurationRecorder", start));
            report.after = before.clone();
        } else {
            let out = check(
                "StartConfigurationRecorder",
                cfg.start_configuration_recorder()
                    .configuration_recorder_name(&name)
                    .send()
                    .await,
            )?;
            calls.push(made(
                "config",
                "StartConfigurationRecorder",
                start,
                request_id(&out),
            ));
            report.after = Self::status(&cfg, &name, &mut calls).await?;
            report.outcome = Outcome::Changed;
            report.resources_changed.push(name.clone());
        }
        report.before = before;
        report.calls = calls;
        Ok(report)
    }
}
