//! SSM Run Command actions: volatile-data capture on a running instance.
//!
//! `ssm.capture_volatile` runs `AWS-RunShellScript` on the instance: process, network,
//! login and kernel-module listings go to the command's standard output, which SSM writes
//! to the evidence bucket (`OutputS3BucketName`/`OutputS3KeyPrefix`); memory is captured
//! with AVML and uploaded with an HTTP PUT to a pre-signed S3 URL that vigil makes for one
//! key, so the upload does not depend on the instance's own (possibly removed or
//! compromised) role. Order matters: run it before `ec2.remove_instance_profile` (the SSM
//! agent writes the command output with the instance's role) and after
//! `ec2.snapshot_volumes` (AVML writes the image to local disk before uploading it).
//!
//! The pre-signed URL is part of the command's parameters, which SSM keeps in its command
//! history: it allows one PUT to one key until it expires (`url_ttl_secs`, default 6 h).

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use vigil_aws::AwsContext;
use vigil_respond::action::{
    Action, ActionError, ActionInfo, ApiCall, DryRunMode, Outcome, ParamDoc, Params, StepEnv,
    StepReport,
};

use crate::common::{
    check, cli_value, int_param, made, optional_str, planned, request_id, resource_id, sdk_config,
    shell_quote, store_json,
};
use crate::ActionOptions;

/// Every SSM action, each holding `ctx`.
pub fn actions(ctx: &AwsContext, opts: &ActionOptions) -> Vec<Arc<dyn Action>> {
    vec![Arc::new(CaptureVolatile::new(ctx.clone(), opts.clone()))]
}

static INFO: ActionInfo = ActionInfo {
    name: "ssm.capture_volatile",
    summary: "Capture memory (AVML) and process, network and login listings on a running \
              instance with SSM Run Command; output goes to the S3 evidence location",
    params: &[
        ParamDoc { name: "instance_id", required: true, description: "The instance (i-...), managed by SSM" },
        ParamDoc { name: "output_bucket", required: false, description: "Evidence bucket (default from the deployment)" },
        ParamDoc { name: "output_prefix", required: false, description: "Key prefix (default vigil/<case>/<instance>/)" },
        ParamDoc { name: "avml_url", required: false, description: "Where the instance downloads AVML when it is not installed (https://)" },
        ParamDoc { name: "avml_sha256", required: false, description: "SHA-256 of that AVML binary, required with avml_url: a download that differs is deleted, never run" },
        ParamDoc { name: "url_ttl_secs", required: false, description: "Validity of the memory upload URL (default 21600)" },
    ],
    example: "- id: volatile\n  action: ssm.capture_volatile\n  params:\n    instance_id: \"{{ steps.capture.outputs.instance_id }}\"\n    output_bucket: ir-evidence-123456789012\n",
    mutating: true,
    dry_run: DryRunMode::Plan,
    records: "The command id, the script sent (evidence) and the S3 output location",
};

const PERMISSIONS: &[&str] = &[
    "ec2:DescribeInstances",
    "ssm:ListCommands",
    "ssm:SendCommand",
    "s3:PutObject",
];

/// `ssm.capture_volatile`.
pub struct CaptureVolatile {
    ctx: AwsContext,
    options: ActionOptions,
}

impl CaptureVolatile {
    pub fn new(ctx: AwsContext, options: ActionOptions) -> Self {
        CaptureVolatile { ctx, options }
    }

    fn bucket<'a>(&'a self, params: &'a Params) -> Result<&'a str, ActionError> {
        let bucket = optional_str(params, "output_bucket")?
            .or(self.options.evidence_bucket.as_deref())
            .ok_or_else(|| {
                ActionError::InvalidParams(
                    "output_bucket is required (no evidence bucket is configured)".to_string(),
                )
            })?;
        let ok = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
        if ok {
            Ok(bucket)
        } else {
            Err(ActionError::InvalidParams(format!(
                "{bucket:?} is not an S3 bucket name"
            )))
        }
    }

    fn prefix(&self, params: &Params, case: &str, id: &str) -> Result<String, ActionError> {
        let prefix = match optional_str(params, "output_prefix")? {
            Some(p) => p.to_string(),
            None => {
                let base = self.options.evidence_prefix.as_deref().unwrap_or("vigil");
                format!("{}/{case}/{id}/", base.trim_end_matches('/'))
            }
        };
        if prefix.len() > 500 || prefix.chars().any(|c| c.is_control()) {
            return Err(ActionError::InvalidParams(format!(
                "output_prefix {prefix:?} is not a usable key prefix"
            )));
        }
        Ok(prefix)
    }
}

/// The SSM comment that identifies the capture for a case (SSM allows 100 characters).
fn comment(case: &str) -> String {
    let mut c = format!("vigil {case} ssm.capture_volatile");
    c.truncate(100);
    c
}

/// The shell script run on the instance. Listings go to stdout (SSM sends stdout to S3);
/// the memory image goes to `memory_url` with AVML's `--put`. `avml` is where to download
/// AVML when the instance lacks it, and the SHA-256 the download must have: the script runs
/// as root on a host that may be compromised, so an unpinned binary is never executed.
pub fn capture_script(
    case: &str,
    memory_url: Option<&str>,
    avml: Option<(&str, &str)>,
) -> Vec<String> {
    let mut lines = vec![
        "#!/bin/bash".to_string(),
        "set -u".to_string(),
        format!("echo \"== vigil volatile capture for case {} ==\"", case.replace(['"', '$', '`', '\\'], "_")),
        "section() { echo; echo \"== $1 ==\"; shift; \"$@\" 2>&1; }".to_string(),
        "section date-utc date -u +%Y-%m-%dT%H:%M:%SZ".to_string(),
        "section uname uname -a".to_string(),
        "section uptime uptime".to_string(),
        "section processes ps auxwwf".to_string(),
        "section process-exes bash -c 'for p in /proc/[0-9]*; do echo \"${p#/proc/} $(readlink $p/exe 2>/dev/null) $(tr \"\\0\" \" \" < $p/cmdline 2>/dev/null)\"; done'".to_string(),
        "section deleted-exes bash -c 'ls -l /proc/[0-9]*/exe 2>/dev/null | grep deleted'".to_string(),
        "section tcp bash -c 'ss -tanpe || netstat -tanpe'".to_string(),
        "section udp bash -c 'ss -uanpe || netstat -uanpe'".to_string(),
        "section unix bash -c 'ss -xanp || netstat -xanp'".to_string(),
        "section interfaces bash -c 'ip addr; ip route; ip neigh'".to_string(),
        "section firewall bash -c 'iptables-save || nft list ruleset'".to_string(),
        "section open-files bash -c 'lsof -nP 2>/dev/null | head -n 20000'".to_string(),
        "section logins bash -c 'who -a; w; last -n 50'".to_string(),
        "section kernel-modules lsmod".to_string(),
        "section mounts cat /proc/mounts".to_string(),
        "section crontabs bash -c 'ls -la /etc/cron* /var/spool/cron* 2>/dev/null; cat /etc/crontab'".to_string(),
    ];
    match memory_url {
        Some(url) => {
            lines.push("AVML=$(command -v avml || echo /usr/local/bin/avml)".to_string());
            if let Some((src, sha256)) = avml {
                lines.push(format!(
                    "if [ ! -x \"$AVML\" ]; then AVML=/tmp/vigil-avml; rm -f \"$AVML\"; {{ curl -fsSL -o \"$AVML\" {} && echo {}'  '\"$AVML\" | sha256sum -c --quiet - && chmod 700 \"$AVML\"; }} || {{ echo 'avml download failed or its SHA-256 differs: not run'; rm -f \"$AVML\"; }}; fi",
                    shell_quote(src),
                    shell_quote(sha256)
                ));
            }
            lines.push(format!(
                "if [ -x \"$AVML\" ]; then echo; echo '== memory =='; \"$AVML\" --compress --put {} --delete /tmp/vigil-memory.lime && echo 'memory image uploaded'; else echo 'avml not available: memory not captured'; fi",
                shell_quote(url)
            ));
        }
        None => lines.push("echo 'memory capture skipped'".to_string()),
    }
    lines
}

/// `avml_url` and `avml_sha256`: both or neither; an https URL and 64 hex digits.
fn avml_source(params: &Params) -> Result<Option<(&str, &str)>, ActionError> {
    let url = optional_str(params, "avml_url")?;
    let sha256 = optional_str(params, "avml_sha256")?;
    match (url, sha256) {
        (None, None) => Ok(None),
        (Some(url), Some(sha256)) => {
            if !url.starts_with("https://") {
                return Err(ActionError::InvalidParams(
                    "avml_url must be an https:// URL".to_string(),
                ));
            }
            if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(ActionError::InvalidParams(format!(
                    "avml_sha256 must be 64 hex digits, not {sha256:?}"
                )));
            }
            Ok(Some((url, sha256)))
        }
        (Some(_), None) => Err(ActionError::InvalidParams(
            "avml_url needs avml_sha256: vigil never runs a downloaded binary it cannot check"
                .to_string(),
        )),
        (None, Some(_)) => Err(ActionError::InvalidParams(
            "avml_sha256 without avml_url".to_string(),
        )),
    }
}

async fn existing_command(
    ssm: &aws_sdk_ssm::Client,
    id: &str,
    comment: &str,
    calls: &mut Vec<ApiCall>,
) -> Result<Option<(String, String)>, ActionError> {
    let out = check(
        "ListCommands",
        ssm.list_commands().instance_id(id).send().await,
    )?;
    calls.push(made(
        "ssm",
        "ListCommands",
        json!({"InstanceId": id}),
        request_id(&out),
    ));
    Ok(out
        .commands()
        .iter()
        .filter(|c| c.comment() == Some(comment))
        .filter(|c| {
            !matches!(
                c.status().map(|s| s.as_str()),
                Some("Failed" | "Cancelled" | "Cancelling" | "TimedOut")
            )
        })
        .find_map(|c| {
            Some((
                c.command_id()?.to_string(),
                c.status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
            ))
        }))
}

#[async_trait::async_trait]
impl Action for CaptureVolatile {
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
        let id = cli_value(params, "instance_id");
        let bucket = self
            .bucket(params)
            .map(str::to_string)
            .unwrap_or_else(|_| "<bucket>".to_string());
        vec![
            "aws s3 presign s3://<bucket>/<prefix>memory.lime.compressed   # PUT URL: use an SDK (the CLI presigns GET only)".to_string(),
            format!("aws ssm send-command --instance-ids {id} --document-name AWS-RunShellScript --comment 'vigil <case> ssm.capture_volatile' --output-s3-bucket-name {bucket} --output-s3-key-prefix <prefix> --parameters file://capture.json"),
            format!("aws ssm list-command-invocations --instance-id {id} --details"),
        ]
    }

    async fn run(&self, env: &StepEnv<'_>, params: &Params) -> Result<StepReport, ActionError> {
        let id = resource_id(params, "instance_id", "i-")?;
        let bucket = self.bucket(params)?;
        let prefix = self.prefix(params, env.case_id, id)?;
        let avml = avml_source(params)?;
        let ttl = int_param(params, "url_ttl_secs", 21_600, 300, 604_800)? as u64;
        let cfg = sdk_config(&self.ctx, env).await?;
        let ec2 = aws_sdk_ec2::Client::new(&cfg);
        let ssm = aws_sdk_ssm::Client::new(&cfg);
        let mut calls = Vec::new();
        let state = crate::ec2::describe_instance(&ec2, id, &mut calls).await?;
        if state.state_name() != "running" {
            return Err(ActionError::Failed(format!(
                "instance {id} is {}: volatile data exists only on a running instance",
                state.state_name()
            )));
        }
        let comment = comment(env.case_id);
        let mut report = StepReport::new(Outcome::AlreadyDone);
        let location = format!("s3://{bucket}/{prefix}");
        if let Some((command_id, status)) = existing_command(&ssm, id, &comment, &mut calls).await?
        {
            report.before = json!({"CommandId": command_id, "Status": status});
            report.after = report.before.clone();
            report.outputs = outputs(id, &command_id, &location);
            report.calls = calls;
            return Ok(report);
        }
        report.before = json!({"CommandId": null});
        env.guard.allow_change(id, &state.tags)?;

        let memory_key = format!("{prefix}memory.lime.compressed");
        let memory_url = if env.execute {
            Some(self.presign_put(&cfg, bucket, &memory_key, ttl).await?)
        } else {
            None
        };
        let script = capture_script(
            env.case_id,
            memory_url.as_deref().or(Some("<pre-signed PUT URL>")),
            avml,
        );
        let request = json!({
            "InstanceIds": [id],
            "DocumentName": "AWS-RunShellScript",
            "Comment": comment,
            "OutputS3BucketName": bucket,
            "OutputS3KeyPrefix": prefix,
            "TimeoutSeconds": 600,
            "Parameters": {"commands": script, "executionTimeout": ["7200"]},
        });
        if !env.execute {
            calls.push(planned("ssm", "SendCommand", request));
            report.calls = calls;
            report.outcome = Outcome::Planned;
            return Ok(report);
        }
        let hash = store_json(
            env,
            format!("{id}-volatile-command.json"),
            Some(id.to_string()),
            "ssm:SendCommand request by ssm.capture_volatile".to_string(),
            &json!({"Request": request, "MemoryKey": memory_key, "SentAt": env.now.to_rfc3339()}),
        )?;
        report.evidence.push(hash);
        let script_lines = request["Parameters"]["commands"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        let out = check(
            "SendCommand",
            ssm.send_command()
                .instance_ids(id)
                .document_name("AWS-RunShellScript")
                .comment(&comment)
                .output_s3_bucket_name(bucket)
                .output_s3_key_prefix(&prefix)
                .timeout_seconds(600)
                .parameters("commands", script_lines)
                .parameters("executionTimeout", vec!["7200".to_string()])
                .send()
                .await,
        )?;
        // The ledger keeps the request without the pre-signed URL's signature.
        let mut logged = request.clone();
        logged["Parameters"]["commands"] = json!(capture_script(
            env.case_id,
            Some("<pre-signed PUT URL>"),
            avml
        ));
        calls.push(made("ssm", "SendCommand", logged, request_id(&out)));
        let command_id = out
            .command()
            .and_then(|c| c.command_id())
            .ok_or_else(|| ActionError::Failed("SendCommand returned no command id".to_string()))?
            .to_string();
        let status = out
            .command()
            .and_then(|c| c.status())
            .map(|s| s.as_str().to_string());
        report.after = json!({"CommandId": command_id, "Status": status, "MemoryKey": memory_key});
        report.outputs = outputs(id, &command_id, &location);
        report
            .outputs
            .insert("memory_key".into(), json!(memory_key));
        report.calls = calls;
        report.outcome = Outcome::Changed;
        report.resources_changed.push(id.to_string());
        report.note = Some(format!(
            "follow the command with: aws ssm list-command-invocations --command-id {command_id} --details"
        ));
        Ok(report)
    }
}

impl CaptureVolatile {
    async fn presign_put(
        &self,
        cfg: &aws_config::SdkConfig,
        bucket: &str,
        key: &str,
        ttl_secs: u64,
    ) -> Result<String, ActionError> {
        let conf = aws_sdk_s3::config::Builder::from(cfg)
            .force_path_style(self.ctx.is_emulator())
            .build();
        let s3 = aws_sdk_s3::Client::from_conf(conf);
        let presigning =
            aws_sdk_s3::presigning::PresigningConfig::expires_in(Duration::from_secs(ttl_secs))
                .map_err(|e| ActionError::InvalidParams(format!("url_ttl_secs: {e}")))?;
        let req = s3
            .put_object()
            .bucket(bucket)
            .key(key)
            .presigned(presigning)
            .await
            .map_err(|e| {
                ActionError::Failed(format!(
                    "cannot pre-sign the memory upload: {}",
                    vigil_aws::error_chain(&e)
                ))
            })?;
        Ok(req.uri().to_string())
    }
}

fn outputs(id: &str, command_id: &str, location: &str) -> serde_json::Map<String, Value> {
    crate::ec2::object(json!({
        "instance_id": id,
        "command_id": command_id,
        "output_location": location,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_quotes_the_upload_url_and_captures_listings() {
        let script = capture_script(
            "case-1",
            Some("https://b.s3.amazonaws.com/k?X-Amz-Signature=a&b=c"),
            None,
        );
        let text = script.join("\n");
        assert!(
            text.contains("--put 'https://b.s3.amazonaws.com/k?X-Amz-Signature=a&b=c'"),
            "{text}"
        );
        assert!(text.contains("ps auxwwf"));
        assert!(text.contains("ss -tanpe"));
        let script = capture_script("x\"; rm -rf /", None, None).join("\n");
        assert!(!script.contains("\"; rm"), "{script}");
        assert!(script.contains("memory capture skipped"));
    }

    /// The download lines of the script, run by bash with a stand-in `curl` (a copy) and a
    /// stand-in AVML (a script that says it ran): the pinned hash decides whether it runs.
    #[test]
    fn a_downloaded_avml_runs_only_when_its_sha256_matches() {
        use sha2::{Digest, Sha256};
        let dir = std::env::temp_dir().join(format!("vigil-avml-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fake_avml = dir.join("avml-download");
        let body = "#!/bin/sh\necho \"fake avml ran: $*\"\n";
        std::fs::write(&fake_avml, body).unwrap();
        let curl = dir.join("curl");
        std::fs::write(
            &curl,
            "#!/bin/sh\n# curl -fsSL -o OUT URL\ncp \"$4\" \"$3\"\n",
        )
        .unwrap();
        std::process::Command::new("chmod")
            .arg("755")
            .arg(&curl)
            .status()
            .unwrap();
        let good = hex::encode(Sha256::digest(body.as_bytes()));
        let run = |sha256: &str| {
            let source = fake_avml.to_string_lossy().to_string();
            let lines: Vec<String> =
                capture_script("case-1", Some("https://put"), Some((&source, sha256)))
                    .into_iter()
                    .filter(|l| l.starts_with("AVML=") || l.starts_with("if ["))
                    .collect();
            assert_eq!(lines.len(), 3, "{lines:?}");
            let out = std::process::Command::new("bash")
                .arg("-c")
                .arg(lines.join("\n"))
                .env("PATH", format!("{}:/usr/bin:/bin", dir.display()))
                .output()
                .unwrap();
            String::from_utf8_lossy(&out.stdout).to_string()
        };
        let ran = run(&good);
        assert!(
            ran.contains("fake avml ran: --compress --put https://put"),
            "{ran}"
        );
        let refused = run(&"0".repeat(64));
        assert!(refused.contains("SHA-256 differs: not run"), "{refused}");
        assert!(!refused.contains("fake avml ran"), "{refused}");
        assert!(refused.contains("avml not available"), "{refused}");
        assert!(!std::path::Path::new("/tmp/vigil-avml").exists());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn avml_url_needs_a_pinned_hash() {
        let p = |v: Value| v.as_object().cloned().unwrap();
        assert!(avml_source(&p(json!({}))).unwrap().is_none());
        let sha = "a".repeat(64);
        assert_eq!(
            avml_source(&p(
                json!({"avml_url": "https://x/avml", "avml_sha256": sha})
            ))
            .unwrap(),
            Some(("https://x/avml", sha.as_str()))
        );
        for bad in [
            json!({"avml_url": "https://x/avml"}),
            json!({"avml_sha256": sha}),
            json!({"avml_url": "http://x/avml", "avml_sha256": sha}),
            json!({"avml_url": "https://x/avml", "avml_sha256": "abc"}),
        ] {
            assert!(
                matches!(
                    avml_source(&p(bad.clone())),
                    Err(ActionError::InvalidParams(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn comments_fit_ssm_limit() {
        assert!(comment(&"c".repeat(200)).len() <= 100);
        assert_eq!(comment("case-1"), "vigil case-1 ssm.capture_volatile");
    }
}
