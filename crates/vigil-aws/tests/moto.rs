//! The client layer against moto: the endpoint override reaches the emulator, and assuming
//! the incident-response role in a target account yields a session whose name names vigil,
//! the case and the operator — what the target account's CloudTrail will show.

use vigil_aws::{AwsContext, AwsOptions};
use vigil_testkit::MotoServer;

#[tokio::test]
async fn assumes_the_incident_response_role_with_a_named_session() {
    let moto = MotoServer::start().expect("moto");
    let base = AwsContext::load(AwsOptions::for_emulator(moto.endpoint()))
        .await
        .unwrap();
    let me = base.caller_identity(None).await.unwrap();
    assert_eq!(me.account, vigil_testkit::MOTO_ACCOUNT);

    // The role the guide's "direct access" pattern expects in the target account.
    let iam = aws_sdk_iam::Client::new(base.base());
    iam.create_role()
        .role_name("IncidentResponse")
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#,
        )
        .send()
        .await
        .unwrap();

    let ctx = AwsContext::load(AwsOptions {
        role_name: Some("IncidentResponse".into()),
        case_id: Some("case-7".into()),
        operator: Some("alice".into()),
        ..AwsOptions::for_emulator(moto.endpoint())
    })
    .await
    .unwrap();
    let acting = ctx
        .caller_identity(Some(vigil_testkit::MOTO_ACCOUNT))
        .await
        .unwrap();
    assert!(
        acting
            .arn
            .ends_with(":assumed-role/IncidentResponse/vigil-case-7-alice"),
        "{}",
        acting.arn
    );
    // Other regions reuse the same role; the configuration carries the region asked for.
    let cfg = ctx
        .config_for(Some(vigil_testkit::MOTO_ACCOUNT), Some("eu-west-1"))
        .await
        .unwrap();
    assert_eq!(cfg.region().unwrap().as_ref(), "eu-west-1");
}
