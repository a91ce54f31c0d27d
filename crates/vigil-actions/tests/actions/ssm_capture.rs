//! `ssm.capture_volatile` against moto.
//!
//! moto limit: `SendCommand` returns a command id and "Success" but runs nothing, and
//! `ListCommandInvocations` is not implemented. The test therefore reads back the request
//! vigil sent (`ListCommands`: document, comment, S3 output location, script) and checks the
//! script itself; what the script does on a real host is not tested here. moto also records
//! a command sent to one instance (without targets) as sent to every instance.

use crate::common::ec2 as fx;
use crate::common::{action, params, TestEnv, CASE};
use serde_json::json;
use vigil_respond::action::{ActionError, Outcome};

#[tokio::test]
async fn capture_volatile_sends_one_command_with_the_evidence_location() {
    let t = TestEnv::start().await;
    let cfg = t.config().await;
    let ec2 = aws_sdk_ec2::Client::new(&cfg);
    let ssm = aws_sdk_ssm::Client::new(&cfg);
    let net = fx::network(&ec2).await;
    let ami = fx::image(&ec2).await;
    let id = fx::instance(&ec2, &net, &ami, &[], &[]).await;
    let protected = fx::instance(&ec2, &net, &ami, &[], &[("vigil:protected", "true")]).await;
    let commands = |instance: String| {
        let ssm = ssm.clone();
        async move {
            ssm.list_commands()
                .instance_id(instance)
                .send()
                .await
                .unwrap()
                .commands()
                .to_vec()
        }
    };
    let capture = action(&t, "ssm.capture_volatile");
    let p = params(json!({"instance_id": id, "output_bucket": "ir-evidence-123456789012"}));

    let plan = capture.run(&t.env(false), &p).await.unwrap();
    assert_eq!(plan.outcome, Outcome::Planned);
    let send = plan
        .calls
        .iter()
        .find(|c| c.operation == "SendCommand")
        .unwrap();
    assert!(!send.made);
    assert!(
        commands(id.clone()).await.is_empty(),
        "dry-run sent a command"
    );

    // Refused before any command exists: moto adds every instance to a command sent without
    // targets, so after the first SendCommand it lists that command for all instances.
    let err = capture
        .run(
            &t.env(true),
            &params(json!({"instance_id": protected, "output_bucket": "ir-evidence-123456789012"})),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, ActionError::Protected(_)), "{err:?}");
    assert!(commands(protected.clone()).await.is_empty());

    let done = capture.run(&t.env(true), &p).await.unwrap();
    assert_eq!(done.outcome, Outcome::Changed);
    let command_id = done.outputs["command_id"].as_str().unwrap().to_string();
    let sent = commands(id.clone()).await;
    assert_eq!(sent.len(), 1);
    let cmd = &sent[0];
    assert_eq!(cmd.command_id(), Some(command_id.as_str()));
    assert_eq!(cmd.document_name(), Some("AWS-RunShellScript"));
    assert_eq!(
        cmd.comment(),
        Some(format!("vigil {CASE} ssm.capture_volatile").as_str())
    );
    assert_eq!(
        cmd.output_s3_bucket_name(),
        Some("ir-evidence-123456789012")
    );
    assert_eq!(
        cmd.output_s3_key_prefix(),
        Some(format!("vigil/{CASE}/{id}/").as_str())
    );
    let script = cmd.parameters().unwrap()["commands"].join("\n");
    assert!(
        script.contains("ps auxwwf") && script.contains("ss -tanpe"),
        "{script}"
    );
    // The memory image goes to a pre-signed PUT URL for the evidence key.
    assert!(script.contains("--put '"), "{script}");
    assert!(
        script.contains(&format!("vigil/{CASE}/{id}/memory.lime.compressed")),
        "{script}"
    );
    assert!(script.contains("X-Amz-Signature"), "{script}");
    // The ledger does not keep the signature; the evidence item keeps the full request.
    let logged = done
        .calls
        .iter()
        .find(|c| c.operation == "SendCommand")
        .unwrap();
    assert!(!logged.params.to_string().contains("X-Amz-Signature"));
    assert_eq!(t.evidence.items().len(), 1);

    let again = capture.run(&t.env(true), &p).await.unwrap();
    assert_eq!(again.outcome, Outcome::AlreadyDone);
    assert_eq!(again.outputs["command_id"], json!(command_id));
    assert_eq!(commands(id.clone()).await.len(), 1, "second command sent");

    let err = capture
        .run(&t.env(true), &params(json!({"instance_id": id})))
        .await
        .unwrap_err();
    assert!(
        matches!(err, ActionError::InvalidParams(ref m) if m.contains("output_bucket")),
        "{err:?}"
    );
}
