//! Notifications: a Slack-compatible webhook, an SNS topic, e-mail over SMTP.
//!
//! Under dry-run nothing is sent: the step returns `Planned` with the message it would send.
//! Webhook URLs carry their secret in the path (Slack, Teams), so reports and CLI text show
//! only the scheme and host. The SMTP password is read from the environment variable named in
//! [`ActionOptions::smtp_password_env`], never from the playbook.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Map, Value};
use vigil_aws::AwsContext;
use vigil_respond::action::{
    Action, ActionError, ActionInfo, DryRunMode, Outcome, ParamDoc, Params, StepEnv, StepReport,
};

use crate::common::{
    bool_param, check, cli_value, int_param, made, optional_str, planned, request_id, required_str,
};
use crate::ActionOptions;

/// How long a webhook or SMTP exchange may take.
const SEND_TIMEOUT: Duration = Duration::from_secs(15);

/// SNS limits: subject length, message size.
const SNS_SUBJECT_MAX: usize = 100;
const SNS_MESSAGE_MAX: usize = 256 * 1024;

/// Every notify action.
pub fn actions(ctx: &AwsContext, opts: &ActionOptions) -> Vec<Arc<dyn Action>> {
    vec![
        Arc::new(Webhook),
        Arc::new(SnsPublish { ctx: ctx.clone() }),
        Arc::new(Email {
            password_env: opts.smtp_password_env.clone(),
        }),
    ]
}

/// A report without AWS calls: the message in `after`, `Planned` or `Done`.
fn notify_report(execute: bool, message: Value) -> StepReport {
    let mut report = StepReport::new(if execute {
        Outcome::Done
    } else {
        Outcome::Planned
    });
    report.after = message;
    if !execute {
        report.note = Some("dry-run: nothing was sent".into());
    }
    report
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

// ---------------------------------------------------------------------------------------
// notify.webhook
// ---------------------------------------------------------------------------------------

/// `notify.webhook`: POSTs `{"text": ...}` (plus any `extra` fields: channel, blocks...) as
/// JSON, which Slack, Mattermost, Rocket.Chat and Teams workflows accept.
pub struct Webhook;

static WEBHOOK: ActionInfo = ActionInfo {
    name: "notify.webhook",
    summary: "Post a message to a Slack-compatible webhook ({\"text\": ...})",
    params: &[
        ParamDoc { name: "url", required: true, description: "Webhook URL (https; http only to localhost)" },
        ParamDoc { name: "text", required: true, description: "Message text" },
        ParamDoc { name: "extra", required: false, description: "More top-level JSON fields (e.g. channel, blocks)" },
    ],
    example: "- id: tell-slack\n  action: notify.webhook\n  params:\n    url: \"{{ config.slack_webhook }}\"\n    text: \"vigil contained {{ inputs.instance_id }} ({{ context.case_id }})\"\n",
    mutating: false,
    dry_run: DryRunMode::Plan,
    records: "the payload sent and the HTTP status",
};

/// Checks a webhook URL and returns it with its redacted form (`https://host/…`).
fn webhook_url(params: &Params) -> Result<(reqwest::Url, String), ActionError> {
    let text = required_str(params, "url")?;
    let url = reqwest::Url::parse(text)
        .map_err(|e| ActionError::InvalidParams(format!("parameter `url` is not a URL: {e}")))?;
    let host = url.host_str().unwrap_or_default().to_string();
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&host) => {}
        other => {
            return Err(ActionError::InvalidParams(format!(
                "webhook URL scheme {other}:// refused: use https (http only to localhost)"
            )))
        }
    }
    let redacted = format!(
        "{}://{}{}/…",
        url.scheme(),
        host,
        url.port().map(|p| format!(":{p}")).unwrap_or_default()
    );
    Ok((url, redacted))
}

/// The JSON body: `extra` fields, then `text` (which `extra` cannot override).
fn webhook_payload(params: &Params) -> Result<Value, ActionError> {
    let text = required_str(params, "text")?;
    let mut body = match params.get("extra") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(map)) => map.clone(),
        Some(other) => {
            return Err(ActionError::InvalidParams(format!(
                "parameter `extra` must be a map, got {other}"
            )))
        }
    };
    body.insert("text".into(), json!(text));
    Ok(Value::Object(body))
}

#[async_trait::async_trait]
impl Action for Webhook {
    fn info(&self) -> &'static ActionInfo {
        &WEBHOOK
    }

    fn permissions(&self, _params: &Params) -> Vec<&'static str> {
        Vec::new()
    }

    fn all_permissions(&self) -> Vec<&'static str> {
        Vec::new()
    }

    fn cli(&self, params: &Params) -> Vec<String> {
        let body = webhook_payload(params)
            .map(|b| b.to_string())
            .unwrap_or_else(|_| "{\"text\": \"<text>\"}".into());
        vec![format!(
            "curl -sS -X POST -H 'Content-Type: application/json' --data {} \"$WEBHOOK_URL\"",
            crate::common::shell_quote(&body)
        )]
    }

    async fn run(&self, env: &StepEnv<'_>, params: &Params) -> Result<StepReport, ActionError> {
        let (url, redacted) = webhook_url(params)?;
        let payload = webhook_payload(params)?;
        let mut message = json!({"url": redacted, "payload": payload});
        if !env.execute {
            return Ok(notify_report(false, message));
        }
        let client = reqwest::Client::builder()
            .timeout(SEND_TIMEOUT)
            .build()
            .map_err(|e| ActionError::Failed(format!("cannot build the HTTP client: {e}")))?;
        let response = client.post(url).json(&payload).send().await.map_err(|e| {
            // reqwest's error text includes the URL: keep the secret path out of the ledger.
            ActionError::Transient(format!("webhook {redacted}: {}", e.without_url()))
        })?;
        let status = response.status();
        message["status"] = json!(status.as_u16());
        if status.is_success() {
            return Ok(notify_report(true, message));
        }
        let body: String = response
            .text()
            .await
            .unwrap_or_default()
            .chars()
            .take(200)
            .collect();
        let text = format!("webhook {redacted} answered {status}: {body}");
        if status.is_server_error() || status.as_u16() == 429 {
            Err(ActionError::Transient(text))
        } else if status.as_u16() == 401 || status.as_u16() == 403 {
            Err(ActionError::Denied(text))
        } else {
            Err(ActionError::Failed(text))
        }
    }
}

// ---------------------------------------------------------------------------------------
// notify.sns
// ---------------------------------------------------------------------------------------

/// `notify.sns`: publishes to an SNS topic (in the topic's own region).
pub struct SnsPublish {
    ctx: AwsContext,
}

static SNS_PUBLISH: ActionInfo = ActionInfo {
    name: "notify.sns",
    summary: "Publish a message to an SNS topic",
    params: &[
        ParamDoc { name: "topic_arn", required: true, description: "The topic ARN" },
        ParamDoc { name: "subject", required: false, description: "Subject for e-mail subscribers (ASCII, cut to 100 characters)" },
        ParamDoc { name: "message", required: true, description: "Message body (up to 256 KiB)" },
    ],
    example: "- id: page\n  action: notify.sns\n  params:\n    topic_arn: arn:aws:sns:us-east-1:111122223333:security-alerts\n    subject: \"vigil: {{ finding.title }}\"\n    message: \"{{ finding.description }} (case {{ context.case_id }}, account {{ context.account }})\"\n",
    mutating: false,
    dry_run: DryRunMode::Plan,
    records: "the subject, message and SNS message id",
};

/// SNS subjects are printable ASCII without line breaks, at most 100 characters.
fn sns_subject(subject: &str) -> String {
    subject
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else if c.is_control() {
                ' '
            } else {
                '?'
            }
        })
        .take(SNS_SUBJECT_MAX)
        .collect::<String>()
        .trim()
        .to_string()
}

/// The region of a topic ARN (`arn:aws:sns:<region>:<account>:<name>`).
fn topic_region(arn: &str) -> Result<&str, ActionError> {
    let parts: Vec<&str> = arn.split(':').collect();
    match parts.as_slice() {
        ["arn", _, "sns", region, account, name]
            if !region.is_empty() && !account.is_empty() && !name.is_empty() =>
        {
            Ok(region)
        }
        _ => Err(ActionError::InvalidParams(format!(
            "parameter `topic_arn` = {arn:?} is not an SNS topic ARN"
        ))),
    }
}

#[async_trait::async_trait]
impl Action for SnsPublish {
    fn info(&self) -> &'static ActionInfo {
        &SNS_PUBLISH
    }

    fn permissions(&self, _params: &Params) -> Vec<&'static str> {
        self.all_permissions()
    }

    fn all_permissions(&self) -> Vec<&'static str> {
        vec!["sns:Publish"]
    }

    fn cli(&self, params: &Params) -> Vec<String> {
        vec![format!(
            "aws sns publish --topic-arn {} --subject {} --message {}",
            cli_value(params, "topic_arn"),
            cli_value(params, "subject"),
            cli_value(params, "message")
        )]
    }

    async fn run(&self, env: &StepEnv<'_>, params: &Params) -> Result<StepReport, ActionError> {
        let arn = required_str(params, "topic_arn")?;
        let region = topic_region(arn)?;
        let subject = optional_str(params, "subject")?
            .map(sns_subject)
            .filter(|s| !s.is_empty());
        let message = required_str(params, "message")?;
        if message.len() > SNS_MESSAGE_MAX {
            return Err(ActionError::InvalidParams(format!(
                "message is {} bytes; SNS accepts at most {SNS_MESSAGE_MAX}",
                message.len()
            )));
        }
        let publish = json!({"TopicArn": arn, "Subject": subject, "Message": message});
        if !env.execute {
            let mut report = notify_report(false, publish.clone());
            report.calls.push(planned("sns", "Publish", publish));
            return Ok(report);
        }
        let cfg = self
            .ctx
            .config_for(env.account, Some(region))
            .await
            .map_err(|e| ActionError::Failed(e.to_string()))?;
        let out = check(
            "Publish",
            aws_sdk_sns::Client::new(&cfg)
                .publish()
                .topic_arn(arn)
                .set_subject(subject.clone())
                .message(message)
                .send()
                .await,
        )?;
        let mut report = notify_report(true, publish.clone());
        report
            .calls
            .push(made("sns", "Publish", publish, request_id(&out)));
        report
            .outputs
            .insert("message_id".into(), json!(out.message_id()));
        Ok(report)
    }
}

// ---------------------------------------------------------------------------------------
// notify.email
// ---------------------------------------------------------------------------------------

/// `notify.email`: sends a plain-text e-mail through an SMTP relay (STARTTLS by default).
pub struct Email {
    password_env: Option<String>,
}

static EMAIL: ActionInfo = ActionInfo {
    name: "notify.email",
    summary: "Send a plain-text e-mail through an SMTP relay (STARTTLS by default)",
    params: &[
        ParamDoc { name: "smtp_host", required: true, description: "SMTP relay host" },
        ParamDoc { name: "smtp_port", required: false, description: "Port (default 587 with STARTTLS, else 25)" },
        ParamDoc { name: "starttls", required: false, description: "Require STARTTLS (default true)" },
        ParamDoc { name: "smtp_username", required: false, description: "Login; the password comes from the environment variable named in the deployment's settings" },
        ParamDoc { name: "from", required: true, description: "Sender address" },
        ParamDoc { name: "to", required: true, description: "Recipient address, comma-separated addresses, or a list" },
        ParamDoc { name: "subject", required: true, description: "Subject" },
        ParamDoc { name: "body", required: true, description: "Plain-text body" },
    ],
    example: "- id: mail-soc\n  action: notify.email\n  params:\n    smtp_host: smtp.example.com\n    from: vigil@example.com\n    to: soc@example.com\n    subject: \"vigil: {{ finding.title }}\"\n    body: \"{{ finding.description }} (case {{ context.case_id }})\"\n",
    mutating: false,
    dry_run: DryRunMode::Plan,
    records: "the envelope, subject and body, and the relay's answer",
};

/// Recipients from a string (comma-separated) or a list of strings.
fn recipients(params: &Params) -> Result<Vec<String>, ActionError> {
    let list: Vec<String> = match params.get("to") {
        Some(Value::String(s)) => s
            .split(',')
            .map(|a| a.trim().to_string())
            .filter(|a| !a.is_empty())
            .collect(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str().map(str::to_string).ok_or_else(|| {
                    ActionError::InvalidParams(format!("parameter `to`: {v} is not an address"))
                })
            })
            .collect::<Result<_, _>>()?,
        _ => Vec::new(),
    };
    if list.is_empty() {
        return Err(ActionError::InvalidParams(
            "parameter `to` names no recipient".into(),
        ));
    }
    Ok(list)
}

fn mailbox(text: &str, name: &str) -> Result<lettre::message::Mailbox, ActionError> {
    text.parse().map_err(|e| {
        ActionError::InvalidParams(format!(
            "parameter `{name}` = {text:?} is not an e-mail address: {e}"
        ))
    })
}

impl Email {
    fn message(params: &Params) -> Result<lettre::Message, ActionError> {
        let mut builder = lettre::Message::builder()
            .from(mailbox(required_str(params, "from")?, "from")?)
            .subject(required_str(params, "subject")?)
            .header(lettre::message::header::ContentType::TEXT_PLAIN);
        for to in recipients(params)? {
            builder = builder.to(mailbox(&to, "to")?);
        }
        builder
            .body(required_str(params, "body")?.to_string())
            .map_err(|e| ActionError::InvalidParams(format!("cannot build the e-mail: {e}")))
    }

    fn credentials(
        &self,
        params: &Params,
        host: &str,
        starttls: bool,
    ) -> Result<Option<lettre::transport::smtp::authentication::Credentials>, ActionError> {
        let Some(user) = optional_str(params, "smtp_username")? else {
            return Ok(None);
        };
        if !starttls && !is_loopback(host) {
            return Err(ActionError::InvalidParams(format!(
                "refusing to send SMTP credentials to {host} without STARTTLS"
            )));
        }
        let var = self.password_env.as_deref().ok_or_else(|| {
            ActionError::InvalidParams("smtp_username is set but no SMTP password variable is configured (smtp_password_env)".into())
        })?;
        let password = std::env::var(var).map_err(|_| {
            ActionError::InvalidParams(format!("the SMTP password variable {var} is not set"))
        })?;
        Ok(Some(
            lettre::transport::smtp::authentication::Credentials::new(user.to_string(), password),
        ))
    }

    fn transport(
        &self,
        params: &Params,
    ) -> Result<lettre::AsyncSmtpTransport<lettre::Tokio1Executor>, ActionError> {
        use lettre::{AsyncSmtpTransport, Tokio1Executor};
        let host = required_str(params, "smtp_host")?;
        let starttls = bool_param(params, "starttls", true)?;
        let port = int_param(
            params,
            "smtp_port",
            if starttls { 587 } else { 25 },
            1,
            65535,
        )? as u16;
        let mut builder = if starttls {
            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                .map_err(|e| ActionError::InvalidParams(format!("SMTP host {host}: {e}")))?
        } else {
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        };
        builder = builder.port(port).timeout(Some(SEND_TIMEOUT));
        if let Some(creds) = self.credentials(params, host, starttls)? {
            builder = builder.credentials(creds);
        }
        Ok(builder.build())
    }
}

#[async_trait::async_trait]
impl Action for Email {
    fn info(&self) -> &'static ActionInfo {
        &EMAIL
    }

    fn permissions(&self, _params: &Params) -> Vec<&'static str> {
        Vec::new()
    }

    fn all_permissions(&self) -> Vec<&'static str> {
        Vec::new()
    }

    fn cli(&self, params: &Params) -> Vec<String> {
        vec![format!(
            "printf 'Subject: %s\\n\\n%s\\n' {} {} | curl -sS --ssl-reqd --url smtp://{}:{} --mail-from {} --mail-rcpt {} --upload-file -",
            cli_value(params, "subject"),
            cli_value(params, "body"),
            cli_value(params, "smtp_host"),
            params.get("smtp_port").map(|_| cli_value(params, "smtp_port")).unwrap_or_else(|| "587".into()),
            cli_value(params, "from"),
            cli_value(params, "to")
        )]
    }

    async fn run(&self, env: &StepEnv<'_>, params: &Params) -> Result<StepReport, ActionError> {
        use lettre::AsyncTransport;
        let email = Self::message(params)?;
        let transport = self.transport(params)?;
        let mut message = json!({
            "smtp_host": required_str(params, "smtp_host")?,
            "from": required_str(params, "from")?,
            "to": recipients(params)?,
            "subject": required_str(params, "subject")?,
            "body": required_str(params, "body")?,
        });
        if !env.execute {
            return Ok(notify_report(false, message));
        }
        let response = transport.send(email).await.map_err(|e| {
            let text = format!(
                "SMTP {}: {e}",
                message["smtp_host"].as_str().unwrap_or_default()
            );
            if e.is_transient() || e.is_timeout() {
                ActionError::Transient(text)
            } else {
                ActionError::Failed(text)
            }
        })?;
        message["smtp_response"] = json!({
            "code": response.code().to_string(),
            "message": response.message().collect::<Vec<_>>().join(" "),
        });
        Ok(notify_report(true, message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(v: Value) -> Params {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn webhook_urls_are_redacted_and_schemes_checked() {
        let (_, red) = webhook_url(&params(
            json!({"url": "https://hooks.slack.com/services/T0/B0/secret"}),
        ))
        .unwrap();
        assert_eq!(red, "https://hooks.slack.com/…");
        assert!(!red.contains("secret"));
        assert!(webhook_url(&params(json!({"url": "http://example.com/hook"}))).is_err());
        assert!(webhook_url(&params(json!({"url": "http://127.0.0.1:8080/hook"}))).is_ok());
        assert!(webhook_url(&params(json!({"url": "file:///etc/passwd"}))).is_err());
    }

    #[test]
    fn payload_text_wins_over_extra() {
        let p = params(json!({"text": "hello", "extra": {"channel": "#sec", "text": "spoof"}}));
        assert_eq!(
            webhook_payload(&p).unwrap(),
            json!({"channel": "#sec", "text": "hello"})
        );
        assert!(webhook_payload(&params(json!({"text": "x", "extra": [1]}))).is_err());
    }

    #[test]
    fn sns_subjects_and_arns() {
        assert_eq!(sns_subject("alert\nnow é"), "alert now ?");
        assert_eq!(sns_subject(&"x".repeat(150)).len(), 100);
        assert_eq!(
            topic_region("arn:aws:sns:eu-west-1:111122223333:alerts").unwrap(),
            "eu-west-1"
        );
        assert!(topic_region("arn:aws:sqs:eu-west-1:111122223333:q").is_err());
    }

    #[test]
    fn recipients_and_credentials() {
        assert_eq!(
            recipients(&params(json!({"to": "a@x.org, b@x.org"}))).unwrap(),
            vec!["a@x.org", "b@x.org"]
        );
        assert_eq!(
            recipients(&params(json!({"to": ["a@x.org"]}))).unwrap(),
            vec!["a@x.org"]
        );
        assert!(recipients(&params(json!({"to": ""}))).is_err());
        let email = Email { password_env: None };
        let p = params(json!({"smtp_username": "vigil"}));
        assert!(
            email.credentials(&p, "smtp.example.com", false).is_err(),
            "no credentials in clear"
        );
        assert!(
            email.credentials(&p, "smtp.example.com", true).is_err(),
            "no password variable configured"
        );
    }
}
