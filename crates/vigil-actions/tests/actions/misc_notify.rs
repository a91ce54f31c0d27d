//! Notifications: the webhook against a local HTTP listener that captures the body, SNS
//! against moto (delivered to a subscribed SQS queue and read back), e-mail against a local
//! fake SMTP server that records the envelope and the DATA.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::thread;

use crate::common::{params, run, TestEnv};
use serde_json::{json, Value};
use vigil_actions::notify;
use vigil_actions::ActionOptions;
use vigil_respond::action::{ActionError, Outcome, Params, StepReport};

/// Runs a notifier that calls no AWS API (webhook, e-mail) without starting moto.
async fn run_offline(name: &str, execute: bool, p: &Params) -> Result<StepReport, ActionError> {
    let ctx =
        vigil_aws::AwsContext::load(vigil_aws::AwsOptions::for_emulator("http://127.0.0.1:9"))
            .await
            .unwrap();
    let action = notify::actions(&ctx, &ActionOptions::default())
        .into_iter()
        .find(|a| a.info().name == name)
        .unwrap_or_else(|| panic!("{name}"));
    let (guard, evidence) = (
        crate::common::LimitGuard::new(10),
        crate::common::MemoryEvidence::default(),
    );
    let env = vigil_respond::action::StepEnv {
        run_id: "run-1",
        case_id: crate::common::CASE,
        responder: crate::common::RESPONDER,
        account: None,
        region: None,
        execute,
        guard: &guard,
        evidence: &evidence,
        now: chrono::Utc::now(),
    };
    action.run(&env, p).await
}

/// A one-request HTTP server answering `status`; sends the request body on the channel.
fn http_listener(status: &'static str) -> (String, mpsc::Receiver<(String, String)>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://127.0.0.1:{}/services/T000/B000/secret-token",
        listener.local_addr().unwrap().port()
    );
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let Ok((stream, _)) = listener.accept() else {
            return;
        };
        let mut reader = BufReader::new(stream);
        let mut head = String::new();
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
            head.push_str(&line);
        }
        let mut body = vec![0u8; length];
        let _ = reader.read_exact(&mut body);
        let reply =
            format!("HTTP/1.1 {status}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        let _ = reader.get_mut().write_all(reply.as_bytes());
        let _ = tx.send((head, String::from_utf8_lossy(&body).to_string()));
    });
    (url, rx)
}

#[tokio::test]
async fn webhook_posts_slack_json_and_hides_the_secret() {
    let (url, rx) = http_listener("200 OK");
    let p = params(
        json!({"url": url, "text": "vigil contained i-0abc (case-42)", "extra": {"channel": "#sec"}}),
    );

    let dry = run_offline("notify.webhook", false, &p).await.unwrap();
    assert_eq!(dry.outcome, Outcome::Planned);
    assert_eq!(
        dry.after["payload"]["text"],
        "vigil contained i-0abc (case-42)"
    );
    assert!(rx.try_recv().is_err(), "dry-run sent nothing");

    let sent = run_offline("notify.webhook", true, &p).await.unwrap();
    assert_eq!(sent.outcome, Outcome::Done);
    assert_eq!(sent.after["status"], 200);
    let (head, body) = rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap();
    assert!(
        head.starts_with("POST /services/T000/B000/secret-token"),
        "{head}"
    );
    assert!(head
        .to_ascii_lowercase()
        .contains("content-type: application/json"));
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        body,
        json!({"text": "vigil contained i-0abc (case-42)", "channel": "#sec"})
    );
    let ledger = serde_json::to_string(&sent).unwrap();
    assert!(
        !ledger.contains("secret-token"),
        "the webhook secret stays out of the report: {ledger}"
    );

    let (url, _rx) = http_listener("500 Internal Server Error");
    let err = run_offline(
        "notify.webhook",
        true,
        &params(json!({"url": url, "text": "x"})),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, ActionError::Transient(m) if m.contains("500") && !m.contains("secret-token")),
        "{err}"
    );
}

#[tokio::test]
async fn sns_publish_is_delivered_to_a_subscribed_queue() {
    let t = TestEnv::start().await;
    let cfg = t.config().await;
    let sns = aws_sdk_sns::Client::new(&cfg);
    let sqs = aws_sdk_sqs::Client::new(&cfg);
    let topic = sns
        .create_topic()
        .name("security-alerts")
        .send()
        .await
        .unwrap()
        .topic_arn()
        .unwrap()
        .to_string();
    let queue = sqs
        .create_queue()
        .queue_name("soc-inbox")
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_string();
    let queue_arn = sqs
        .get_queue_attributes()
        .queue_url(&queue)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes()
        .unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
        .clone();
    sns.subscribe()
        .topic_arn(&topic)
        .protocol("sqs")
        .endpoint(queue_arn)
        .send()
        .await
        .unwrap();
    let p = params(
        json!({"topic_arn": topic, "subject": "vigil: bucket made public\n", "message": "s3.block_public_access applied to loot"}),
    );
    let receive = || async {
        sqs.receive_message()
            .queue_url(&queue)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap()
            .messages()
            .to_vec()
    };

    let dry = run(&t, "notify.sns", false, &p).await.unwrap();
    assert_eq!(dry.outcome, Outcome::Planned);
    assert!(dry.calls.iter().all(|c| !c.made));
    assert!(receive().await.is_empty(), "dry-run published nothing");

    let sent = run(&t, "notify.sns", true, &p).await.unwrap();
    assert_eq!(sent.outcome, Outcome::Done);
    let message_id = sent.outputs["message_id"].as_str().unwrap().to_string();
    let messages = receive().await;
    assert_eq!(messages.len(), 1);
    let envelope: Value = serde_json::from_str(messages[0].body().unwrap()).unwrap();
    assert_eq!(
        envelope["Message"],
        "s3.block_public_access applied to loot"
    );
    assert_eq!(
        envelope["Subject"], "vigil: bucket made public",
        "subject cleaned for SNS"
    );
    assert_eq!(envelope["MessageId"], message_id.as_str());
}

/// What the fake SMTP server saw.
#[derive(Debug, Default)]
struct SmtpSession {
    commands: Vec<String>,
    data: String,
}

/// A one-session SMTP server without STARTTLS; records commands and the DATA.
fn smtp_listener() -> (u16, mpsc::Receiver<SmtpSession>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let Ok((stream, _)) = listener.accept() else {
            return;
        };
        let mut out = stream.try_clone().unwrap();
        let mut reader = BufReader::new(stream);
        let mut session = SmtpSession::default();
        let _ = out.write_all(b"220 fake.test ESMTP\r\n");
        let mut in_data = false;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                break;
            }
            if in_data {
                if line == ".\r\n" {
                    in_data = false;
                    let _ = out.write_all(b"250 2.0.0 queued as 42\r\n");
                } else {
                    session.data.push_str(&line);
                }
                continue;
            }
            let cmd = line.trim_end().to_string();
            let upper = cmd.to_ascii_uppercase();
            session.commands.push(cmd);
            let reply: &[u8] = if upper.starts_with("EHLO") {
                b"250-fake.test\r\n250 8BITMIME\r\n"
            } else if upper.starts_with("DATA") {
                in_data = true;
                b"354 go ahead\r\n"
            } else if upper.starts_with("QUIT") {
                let _ = out.write_all(b"221 bye\r\n");
                break;
            } else {
                b"250 ok\r\n"
            };
            let _ = out.write_all(reply);
        }
        let _ = tx.send(session);
    });
    (port, rx)
}

#[tokio::test]
async fn email_is_framed_for_smtp_and_refuses_a_relay_without_starttls() {
    let (port, rx) = smtp_listener();
    let p = params(json!({
        "smtp_host": "127.0.0.1", "smtp_port": port, "starttls": false,
        "from": "vigil@example.com", "to": "soc@example.com, ir@example.com",
        "subject": "Contained i-0abc", "body": "Isolated i-0abc for case-42.\n.\nSecond paragraph."
    }));

    let dry = run_offline("notify.email", false, &p).await.unwrap();
    assert_eq!(dry.outcome, Outcome::Planned);
    assert_eq!(
        dry.after["to"],
        json!(["soc@example.com", "ir@example.com"])
    );

    let sent = run_offline("notify.email", true, &p).await.unwrap();
    assert_eq!(sent.outcome, Outcome::Done);
    assert_eq!(sent.after["smtp_response"]["code"], "250");
    let session = rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap();
    assert!(
        session
            .commands
            .iter()
            .any(|c| c == "MAIL FROM:<vigil@example.com>"),
        "{:?}",
        session.commands
    );
    assert!(session
        .commands
        .iter()
        .any(|c| c == "RCPT TO:<soc@example.com>"));
    assert!(session
        .commands
        .iter()
        .any(|c| c == "RCPT TO:<ir@example.com>"));
    assert!(
        session.data.contains("Subject: Contained i-0abc\r\n"),
        "{}",
        session.data
    );
    assert!(session.data.contains("From: vigil@example.com\r\n"));
    assert!(session.data.contains("Isolated i-0abc for case-42."));
    // A line holding only "." is dot-stuffed, so it cannot end the DATA early.
    assert!(session.data.contains("\r\n..\r\n"), "{}", session.data);
    assert!(session.data.contains("Second paragraph."));

    // STARTTLS required (the default) against a relay that does not offer it: nothing sent.
    let (port, rx) = smtp_listener();
    let mut tls = p.clone();
    tls.insert("smtp_port".into(), json!(port));
    tls.remove("starttls");
    let err = run_offline("notify.email", true, &tls).await.unwrap_err();
    assert!(err.to_string().contains("SMTP"), "{err}");
    let session = rx
        .recv_timeout(std::time::Duration::from_secs(10))
        .unwrap_or_default();
    assert!(session.data.is_empty(), "no message sent in clear");
    assert!(!session.commands.iter().any(|c| c.starts_with("MAIL")));
}
