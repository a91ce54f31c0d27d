//! EC2 containment actions against moto: each test builds the resources, runs the action
//! under dry-run (nothing changes), with execute (the state read back shows the effect),
//! again (`AlreadyDone`, nothing duplicated), and on a protected resource (refused).

use crate::common::ec2 as fx;
use crate::common::{action, params, TestEnv, CASE};
use aws_sdk_ec2::types::InstanceAttributeName;
use serde_json::json;
use vigil_respond::action::{ActionError, Outcome};

#[tokio::test]
async fn capture_metadata_stores_one_evidence_item_and_outputs() {
    let t = TestEnv::start().await;
    let ec2 = aws_sdk_ec2::Client::new(&t.config().await);
    let net = fx::network(&ec2).await;
    let sg = fx::security_group(&ec2, &net.vpc_id, "web").await;
    let ami = fx::image(&ec2).await;
    let id = fx::instance(&ec2, &net, &ami, &[&sg], &[("env", "prod")]).await;

    let capture = action(&t, "ec2.capture_metadata");
    let report = capture
        .run(&t.env(false), &params(json!({"instance_id": id})))
        .await
        .unwrap();
    assert_eq!(report.outcome, Outcome::Done);
    assert_eq!(report.outputs["vpc_id"], json!(net.vpc_id));
    assert_eq!(report.outputs["subnet_id"], json!(net.subnet_id));
    assert_eq!(report.outputs["az"], json!(net.az));
    assert_eq!(report.outputs["tags"]["env"], "prod");
    assert_eq!(report.outputs["security_group_ids"], json!([sg]));
    assert_eq!(
        report.outputs["volume_ids"].as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(report.outputs["eni_ids"].as_array().map(Vec::len), Some(1));
    assert!(report
        .calls
        .iter()
        .all(|c| c.made && c.request_id.is_some()));

    let items = t.evidence.items();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].name, format!("{id}-metadata.json"));
    assert_eq!(items[0].case_id, CASE);
    let doc: serde_json::Value = serde_json::from_slice(&items[0].bytes).unwrap();
    assert_eq!(doc["Instance"]["InstanceId"], json!(id));
    assert_eq!(
        doc["Volumes"][0]["VolumeId"],
        report.outputs["volume_ids"][0]
    );
    assert_eq!(doc["SecurityGroups"][0]["GroupName"], "web");
    assert!(doc["ConsoleOutput"]["Text"]
        .as_str()
        .is_some_and(|t| !t.is_empty()));
    assert_eq!(
        report.evidence,
        vec![vigil_actions::common::sha256_hex(&items[0].bytes)]
    );

    let err = capture
        .run(
            &t.env(false),
            &params(json!({"instance_id": "i-0000000000000dead"})),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, ActionError::NotFound(_)), "{err:?}");
}

async fn termination_protected(ec2: &aws_sdk_ec2::Client, id: &str) -> bool {
    ec2.describe_instance_attribute()
        .instance_id(id)
        .attribute(InstanceAttributeName::DisableApiTermination)
        .send()
        .await
        .unwrap()
        .disable_api_termination()
        .and_then(|v| v.value())
        .unwrap_or(false)
}

#[tokio::test]
async fn termination_protection_dry_run_execute_idempotent_and_guarded() {
    let t = TestEnv::start().await;
    let ec2 = aws_sdk_ec2::Client::new(&t.config().await);
    let net = fx::network(&ec2).await;
    let ami = fx::image(&ec2).await;
    let id = fx::instance(&ec2, &net, &ami, &[], &[]).await;
    let protected = fx::instance(&ec2, &net, &ami, &[], &[("vigil:protected", "true")]).await;
    let protect = action(&t, "ec2.enable_termination_protection");
    let p = params(json!({"instance_id": id}));

    let plan = protect.run(&t.env(false), &p).await.unwrap();
    assert_eq!(plan.outcome, Outcome::Planned);
    let call = plan
        .calls
        .iter()
        .find(|c| c.operation == "ModifyInstanceAttribute")
        .unwrap();
    assert!(call.dry_run_checked && !call.made);
    assert!(
        !termination_protected(&ec2, &id).await,
        "dry-run changed the instance"
    );

    let done = protect.run(&t.env(true), &p).await.unwrap();
    assert_eq!(done.outcome, Outcome::Changed);
    assert!(termination_protected(&ec2, &id).await);
    assert_eq!(done.before["DisableApiTermination"], false);
    assert_eq!(done.after["DisableApiTermination"], true);
    assert_eq!(done.resources_changed, vec![id.clone()]);

    let again = protect.run(&t.env(true), &p).await.unwrap();
    assert_eq!(again.outcome, Outcome::AlreadyDone);
    assert!(again
        .calls
        .iter()
        .all(|c| c.operation.starts_with("Describe")));

    let err = protect
        .run(&t.env(true), &params(json!({"instance_id": protected})))
        .await
        .unwrap_err();
    assert!(matches!(err, ActionError::Protected(_)), "{err:?}");
    assert!(!termination_protected(&ec2, &protected).await);
}

#[tokio::test]
async fn isolation_moves_to_an_empty_group_once_and_release_restores() {
    let t = TestEnv::start().await;
    let ec2 = aws_sdk_ec2::Client::new(&t.config().await);
    let net = fx::network(&ec2).await;
    let web = fx::security_group(&ec2, &net.vpc_id, "web").await;
    let ssh = fx::security_group(&ec2, &net.vpc_id, "ssh").await;
    let ami = fx::image(&ec2).await;
    let id = fx::instance(&ec2, &net, &ami, &[&web, &ssh], &[]).await;
    let protected = fx::instance(&ec2, &net, &ami, &[&web], &[("vigil:protected", "true")]).await;
    let mut original = vec![web.clone(), ssh.clone()];
    original.sort();
    let isolate = action(&t, "ec2.isolate_instance");
    let release = action(&t, "ec2.release_isolation");
    let p = params(json!({"instance_id": id}));

    // Dry-run: checks the calls, creates nothing, changes nothing.
    let plan = isolate.run(&t.env(false), &p).await.unwrap();
    assert_eq!(plan.outcome, Outcome::Planned);
    assert!(plan
        .calls
        .iter()
        .any(|c| c.operation == "CreateSecurityGroup" && c.dry_run_checked));
    assert!(plan
        .calls
        .iter()
        .all(|c| !c.made || c.operation.starts_with("Describe")));
    assert!(fx::groups_named(&ec2, &net.vpc_id, "vigil-isolation")
        .await
        .is_empty());
    assert_eq!(fx::instance_groups(&ec2, &id).await, original);

    // Execute: the instance ends in the isolation group only.
    let done = isolate.run(&t.env(true), &p).await.unwrap();
    assert_eq!(done.outcome, Outcome::Changed, "{done:?}");
    let iso = fx::groups_named(&ec2, &net.vpc_id, "vigil-isolation").await;
    assert_eq!(iso.len(), 1);
    let iso_id = iso[0].group_id().unwrap().to_string();
    assert!(
        iso[0].ip_permissions().is_empty(),
        "isolation group has ingress rules"
    );
    assert!(
        iso[0].ip_permissions_egress().is_empty(),
        "default egress rule not removed"
    );
    assert_eq!(fx::instance_groups(&ec2, &id).await, vec![iso_id.clone()]);
    let untrack = fx::groups_named(&ec2, &net.vpc_id, "vigil-isolation-untrack").await;
    assert_eq!(untrack.len(), 1);
    let all_in = untrack[0].ip_permissions().iter().any(|p| {
        p.ip_protocol() == Some("-1")
            && p.ip_ranges()
                .iter()
                .any(|r| r.cidr_ip() == Some("0.0.0.0/0"))
    });
    assert!(all_in, "untrack group does not allow all traffic in");
    // The untrack step came before the isolation step.
    let moves: Vec<&serde_json::Value> = done
        .calls
        .iter()
        .filter(|c| c.operation == "ModifyInstanceAttribute")
        .map(|c| &c.params["Groups"][0])
        .collect();
    assert_eq!(
        moves,
        vec![&json!(untrack[0].group_id().unwrap()), &json!(iso_id)]
    );
    // The original groups are recorded for release.
    let eni = fx::describe(&ec2, &id).await.network_interfaces()[0]
        .network_interface_id()
        .unwrap()
        .to_string();
    assert_eq!(
        fx::instance_tag(&ec2, &id, "vigil:original-groups").await,
        Some(format!("{eni}:{}", [web.clone(), ssh.clone()].join(",")))
    );
    assert_eq!(done.outputs["isolation_group_id"], json!(iso_id));
    assert_eq!(t.evidence.items().len(), 1);

    // Again: nothing to do, no second group.
    let again = isolate.run(&t.env(true), &p).await.unwrap();
    assert_eq!(again.outcome, Outcome::AlreadyDone);
    assert_eq!(
        fx::groups_named(&ec2, &net.vpc_id, "vigil-isolation")
            .await
            .len(),
        1
    );
    assert_eq!(again.outputs["original_groups"][&eni], json!([web, ssh]));

    // Protected instances are refused and keep their groups.
    let err = isolate
        .run(&t.env(true), &params(json!({"instance_id": protected})))
        .await
        .unwrap_err();
    assert!(matches!(err, ActionError::Protected(_)), "{err:?}");
    assert_eq!(
        fx::instance_groups(&ec2, &protected).await,
        vec![web.clone()]
    );

    // Release: dry-run changes nothing, execute restores, again is a no-op.
    let plan = release.run(&t.env(false), &p).await.unwrap();
    assert_eq!(plan.outcome, Outcome::Planned);
    assert_eq!(fx::instance_groups(&ec2, &id).await, vec![iso_id.clone()]);
    let released = release.run(&t.env(true), &p).await.unwrap();
    assert_eq!(released.outcome, Outcome::Changed);
    assert_eq!(fx::instance_groups(&ec2, &id).await, original);
    assert_eq!(
        fx::instance_tag(&ec2, &id, "vigil:original-groups").await,
        None
    );
    let again = release.run(&t.env(true), &p).await.unwrap();
    assert_eq!(again.outcome, Outcome::AlreadyDone);
}

#[tokio::test]
async fn autoscaling_detach_and_standby() {
    let t = TestEnv::start().await;
    let cfg = t.config().await;
    let ec2 = aws_sdk_ec2::Client::new(&cfg);
    let asg = aws_sdk_autoscaling::Client::new(&cfg);
    let net = fx::network(&ec2).await;
    let ami = fx::image(&ec2).await;
    ec2.create_launch_template()
        .launch_template_name("web-template")
        .launch_template_data(
            aws_sdk_ec2::types::RequestLaunchTemplateData::builder()
                .image_id(&ami)
                .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
                .build(),
        )
        .send()
        .await
        .unwrap();
    asg.create_auto_scaling_group()
        .auto_scaling_group_name("web")
        .launch_template(
            aws_sdk_autoscaling::types::LaunchTemplateSpecification::builder()
                .launch_template_name("web-template")
                .build(),
        )
        .min_size(0)
        .max_size(4)
        .desired_capacity(3)
        .vpc_zone_identifier(&net.subnet_id)
        .send()
        .await
        .unwrap();
    let members = |asg: aws_sdk_autoscaling::Client| async move {
        let out = asg
            .describe_auto_scaling_groups()
            .auto_scaling_group_names("web")
            .send()
            .await
            .unwrap();
        let g = out.auto_scaling_groups()[0].clone();
        let ids: Vec<(String, String)> = g
            .instances()
            .iter()
            .map(|i| {
                (
                    i.instance_id().unwrap().to_string(),
                    i.lifecycle_state().unwrap().as_str().to_string(),
                )
            })
            .collect();
        (ids, g.desired_capacity().unwrap())
    };
    let (before, desired) = members(asg.clone()).await;
    assert_eq!((before.len(), desired), (3, 3));
    let victim = before[0].0.clone();
    let standby = before[1].0.clone();

    // capture_metadata exposes the group name from the aws:autoscaling:groupName tag.
    let capture = action(&t, "ec2.capture_metadata");
    let meta = capture
        .run(&t.env(false), &params(json!({"instance_id": victim})))
        .await
        .unwrap();
    assert_eq!(meta.outputs["asg_name"], "web");

    let detach = action(&t, "autoscaling.detach_instance");
    let p = params(json!({"instance_id": victim}));
    let plan = detach.run(&t.env(false), &p).await.unwrap();
    assert_eq!(plan.outcome, Outcome::Planned);
    let call = plan.calls.last().unwrap();
    assert_eq!(
        (call.operation.as_str(), call.made),
        ("DetachInstances", false)
    );
    assert_eq!(call.params["ShouldDecrementDesiredCapacity"], true);
    assert_eq!(members(asg.clone()).await.0.len(), 3, "dry-run detached");

    let done = detach.run(&t.env(true), &p).await.unwrap();
    assert_eq!(done.outcome, Outcome::Changed);
    let (after, desired) = members(asg.clone()).await;
    assert!(
        !after.iter().any(|(i, _)| *i == victim),
        "still in the group: {after:?}"
    );
    assert_eq!(desired, 2, "desired capacity not decremented");
    assert_eq!(
        detach.run(&t.env(true), &p).await.unwrap().outcome,
        Outcome::AlreadyDone
    );

    let p = params(json!({"instance_id": standby, "mode": "standby", "replace": true}));
    let done = detach.run(&t.env(true), &p).await.unwrap();
    assert_eq!(done.outcome, Outcome::Changed);
    assert_eq!(
        done.calls.last().map(|c| c.operation.as_str()),
        Some("DescribeAutoScalingInstances")
    );
    let (after, _) = members(asg.clone()).await;
    assert!(
        after.iter().any(|(i, s)| *i == standby && s == "Standby"),
        "{after:?}"
    );
    assert_eq!(
        detach.run(&t.env(true), &p).await.unwrap().outcome,
        Outcome::AlreadyDone
    );

    let err = detach
        .run(
            &t.env(true),
            &params(json!({"instance_id": victim, "mode": "terminate"})),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, ActionError::InvalidParams(_)));
}

#[tokio::test]
async fn deregister_from_classic_and_v2_load_balancers() {
    let t = TestEnv::start().await;
    let cfg = t.config().await;
    let ec2 = aws_sdk_ec2::Client::new(&cfg);
    let elb = aws_sdk_elasticloadbalancing::Client::new(&cfg);
    let elbv2 = aws_sdk_elasticloadbalancingv2::Client::new(&cfg);
    let net = fx::network(&ec2).await;
    let ami = fx::image(&ec2).await;
    let id = fx::instance(&ec2, &net, &ami, &[], &[]).await;
    let other = fx::instance(&ec2, &net, &ami, &[], &[]).await;

    elb.create_load_balancer()
        .load_balancer_name("classic")
        .listeners(
            aws_sdk_elasticloadbalancing::types::Listener::builder()
                .protocol("HTTP")
                .load_balancer_port(80)
                .instance_port(8080)
                .build()
                .unwrap(),
        )
        .availability_zones(&net.az)
        .send()
        .await
        .unwrap();
    for i in [&id, &other] {
        elb.register_instances_with_load_balancer()
            .load_balancer_name("classic")
            .instances(
                aws_sdk_elasticloadbalancing::types::Instance::builder()
                    .instance_id(i)
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }
    let tg = elbv2
        .create_target_group()
        .name("web")
        .protocol(aws_sdk_elasticloadbalancingv2::types::ProtocolEnum::Http)
        .port(8080)
        .vpc_id(&net.vpc_id)
        .target_type(aws_sdk_elasticloadbalancingv2::types::TargetTypeEnum::Instance)
        .send()
        .await
        .unwrap();
    let tg_arn = tg.target_groups()[0]
        .target_group_arn()
        .unwrap()
        .to_string();
    for i in [&id, &other] {
        elbv2
            .register_targets()
            .target_group_arn(&tg_arn)
            .targets(
                aws_sdk_elasticloadbalancingv2::types::TargetDescription::builder()
                    .id(i)
                    .port(8080)
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }
    // An IP target group with the instance's private address.
    let ip = fx::describe(&ec2, &id)
        .await
        .private_ip_address()
        .unwrap()
        .to_string();
    let ip_tg = elbv2
        .create_target_group()
        .name("web-ip")
        .protocol(aws_sdk_elasticloadbalancingv2::types::ProtocolEnum::Http)
        .port(9090)
        .vpc_id(&net.vpc_id)
        .target_type(aws_sdk_elasticloadbalancingv2::types::TargetTypeEnum::Ip)
        .send()
        .await
        .unwrap();
    let ip_tg_arn = ip_tg.target_groups()[0]
        .target_group_arn()
        .unwrap()
        .to_string();
    elbv2
        .register_targets()
        .target_group_arn(&ip_tg_arn)
        .targets(
            aws_sdk_elasticloadbalancingv2::types::TargetDescription::builder()
                .id(&ip)
                .port(9090)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let ip_targets = || async {
        let out = elbv2
            .describe_target_health()
            .target_group_arn(&ip_tg_arn)
            .send()
            .await
            .unwrap();
        out.target_health_descriptions()
            .iter()
            .filter_map(|d| d.target().and_then(|t| t.id()).map(str::to_string))
            .collect::<Vec<_>>()
    };
    let classic_members = || async {
        let out = elb
            .describe_load_balancers()
            .load_balancer_names("classic")
            .send()
            .await
            .unwrap();
        out.load_balancer_descriptions()[0]
            .instances()
            .iter()
            .filter_map(|i| i.instance_id().map(str::to_string))
            .collect::<Vec<_>>()
    };
    let targets = || async {
        let out = elbv2
            .describe_target_health()
            .target_group_arn(&tg_arn)
            .send()
            .await
            .unwrap();
        out.target_health_descriptions()
            .iter()
            .filter_map(|d| d.target().and_then(|t| t.id()).map(str::to_string))
            .collect::<Vec<_>>()
    };

    let deregister = action(&t, "elb.deregister_instance");
    let p = params(json!({"instance_id": id}));
    let plan = deregister.run(&t.env(false), &p).await.unwrap();
    assert_eq!(plan.outcome, Outcome::Planned);
    assert_eq!(plan.before["ClassicLoadBalancers"], json!(["classic"]));
    assert_eq!(plan.before["TargetGroups"][0]["Port"], 8080);
    assert!(classic_members().await.contains(&id));
    assert!(targets().await.contains(&id));
    assert_eq!(ip_targets().await, vec![ip.clone()]);
    assert_eq!(
        plan.before["TargetGroups"].as_array().map(Vec::len),
        Some(2)
    );

    let done = deregister.run(&t.env(true), &p).await.unwrap();
    assert_eq!(done.outcome, Outcome::Changed);
    assert_eq!(classic_members().await, vec![other.clone()]);
    assert_eq!(targets().await, vec![other.clone()]);
    assert!(ip_targets().await.is_empty(), "IP target still registered");
    assert_eq!(done.after["ClassicLoadBalancers"], json!([]));

    let again = deregister.run(&t.env(true), &p).await.unwrap();
    assert_eq!(again.outcome, Outcome::AlreadyDone);
}

#[tokio::test]
async fn snapshots_are_tagged_and_not_duplicated() {
    let t = TestEnv::start_single_ami(fx::TEST_AMI).await;
    let ec2 = aws_sdk_ec2::Client::new(&t.config().await);
    let net = fx::network(&ec2).await;
    let id = fx::instance(&ec2, &net, fx::TEST_AMI, &[], &[]).await;
    let extra = ec2
        .create_volume()
        .availability_zone(&net.az)
        .size(2)
        .send()
        .await
        .unwrap()
        .volume_id()
        .unwrap()
        .to_string();
    ec2.attach_volume()
        .volume_id(&extra)
        .instance_id(&id)
        .device("/dev/sdg")
        .send()
        .await
        .unwrap();
    let case_snapshots = || async {
        ec2.describe_snapshots()
            .owner_ids("self")
            .send()
            .await
            .unwrap()
            .snapshots()
            .iter()
            .filter(|s| {
                s.tags()
                    .iter()
                    .any(|t| t.key() == Some("vigil:case") && t.value() == Some(CASE))
            })
            .cloned()
            .collect::<Vec<_>>()
    };
    let snapshot = action(&t, "ec2.snapshot_volumes");
    let p = params(json!({"instance_id": id}));

    let plan = snapshot.run(&t.env(false), &p).await.unwrap();
    assert_eq!(plan.outcome, Outcome::Planned);
    assert_eq!(
        plan.calls
            .iter()
            .filter(|c| c.operation == "CreateSnapshot" && c.dry_run_checked)
            .count(),
        2
    );
    assert!(case_snapshots().await.is_empty());

    let done = snapshot.run(&t.env(true), &p).await.unwrap();
    assert_eq!(done.outcome, Outcome::Changed);
    let snaps = case_snapshots().await;
    assert_eq!(snaps.len(), 2);
    let mut sources: Vec<String> = snaps
        .iter()
        .map(|s| {
            let tag = |k: &str| {
                s.tags()
                    .iter()
                    .find(|t| t.key() == Some(k))
                    .and_then(|t| t.value())
                    .map(str::to_string)
            };
            assert_eq!(tag("vigil:source-instance").as_deref(), Some(id.as_str()));
            assert!(tag("Name").is_some_and(|n| n.starts_with(CASE)));
            assert!(
                s.description().unwrap().contains("alice"),
                "{:?}",
                s.description()
            );
            tag("vigil:source-volume").unwrap()
        })
        .collect();
    sources.sort();
    let mut volumes = fx::describe(&ec2, &id)
        .await
        .block_device_mappings()
        .iter()
        .map(|b| b.ebs().unwrap().volume_id().unwrap().to_string())
        .collect::<Vec<_>>();
    volumes.sort();
    assert_eq!(sources, volumes);
    assert_eq!(
        done.outputs["snapshot_ids"].as_array().map(Vec::len),
        Some(2)
    );

    let again = snapshot.run(&t.env(true), &p).await.unwrap();
    assert_eq!(again.outcome, Outcome::AlreadyDone);
    assert_eq!(case_snapshots().await.len(), 2, "duplicate snapshots");
    assert_eq!(again.outputs["snapshot_ids"], done.outputs["snapshot_ids"]);
}

#[tokio::test]
async fn tag_resource_sets_quarantine_once_and_respects_protection() {
    let t = TestEnv::start().await;
    let ec2 = aws_sdk_ec2::Client::new(&t.config().await);
    let net = fx::network(&ec2).await;
    let ami = fx::image(&ec2).await;
    let id = fx::instance(&ec2, &net, &ami, &[], &[]).await;
    let protected = fx::instance(&ec2, &net, &ami, &[], &[("vigil:protected", "true")]).await;
    let tag = action(&t, "ec2.tag_resource");
    let p = params(json!({"resource_id": id}));

    let plan = tag.run(&t.env(false), &p).await.unwrap();
    assert_eq!(plan.outcome, Outcome::Planned);
    assert!(plan
        .calls
        .iter()
        .any(|c| c.operation == "CreateTags" && c.dry_run_checked));
    assert_eq!(fx::instance_tag(&ec2, &id, "Quarantine").await, None);

    let done = tag.run(&t.env(true), &p).await.unwrap();
    assert_eq!(done.outcome, Outcome::Changed);
    assert_eq!(
        fx::instance_tag(&ec2, &id, "Quarantine").await.as_deref(),
        Some(CASE)
    );
    assert_eq!(done.before["Tags"]["Quarantine"], serde_json::Value::Null);
    assert_eq!(
        tag.run(&t.env(true), &p).await.unwrap().outcome,
        Outcome::AlreadyDone
    );

    let custom =
        params(json!({"resource_id": id, "tags": {"Quarantine": "case-43", "Owner": "ir"}}));
    let changed = tag.run(&t.env(true), &custom).await.unwrap();
    assert_eq!(changed.before["Tags"]["Quarantine"], CASE);
    assert_eq!(
        fx::instance_tag(&ec2, &id, "Quarantine").await.as_deref(),
        Some("case-43")
    );
    assert_eq!(
        fx::instance_tag(&ec2, &id, "Owner").await.as_deref(),
        Some("ir")
    );

    let err = tag
        .run(&t.env(true), &params(json!({"resource_id": protected})))
        .await
        .unwrap_err();
    assert!(matches!(err, ActionError::Protected(_)), "{err:?}");
    assert_eq!(fx::instance_tag(&ec2, &protected, "Quarantine").await, None);
}

#[tokio::test]
async fn remove_instance_profile_disassociates_and_revokes_sessions() {
    let t = TestEnv::start().await;
    let cfg = t.config().await;
    let ec2 = aws_sdk_ec2::Client::new(&cfg);
    let iam = aws_sdk_iam::Client::new(&cfg);
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    iam.create_role()
        .role_name("web-role")
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap();
    iam.create_instance_profile()
        .instance_profile_name("web-profile")
        .send()
        .await
        .unwrap();
    iam.add_role_to_instance_profile()
        .instance_profile_name("web-profile")
        .role_name("web-role")
        .send()
        .await
        .unwrap();
    let net = fx::network(&ec2).await;
    let ami = fx::image(&ec2).await;
    let id = fx::instance(&ec2, &net, &ami, &[], &[]).await;
    ec2.associate_iam_instance_profile()
        .instance_id(&id)
        .iam_instance_profile(
            aws_sdk_ec2::types::IamInstanceProfileSpecification::builder()
                .name("web-profile")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let associated = || async {
        ec2.describe_iam_instance_profile_associations()
            .send()
            .await
            .unwrap()
            .iam_instance_profile_associations()
            .iter()
            .filter(|a| {
                a.instance_id() == Some(id.as_str())
                    && a.state().map(|s| s.as_str()) == Some("associated")
            })
            .count()
    };
    let revoke_policy = || async {
        iam.get_role_policy()
            .role_name("web-role")
            .policy_name("vigil-revoke-sessions")
            .send()
            .await
            .ok()
            .map(|o| vigil_actions::common::decode_policy_document(o.policy_document()).unwrap())
    };
    let remove = action(&t, "ec2.remove_instance_profile");
    let p = params(json!({"instance_id": id}));

    let plan = remove.run(&t.env(false), &p).await.unwrap();
    assert_eq!(plan.outcome, Outcome::Planned);
    assert_eq!(associated().await, 1);
    assert!(revoke_policy().await.is_none(), "dry-run wrote the policy");
    assert!(plan
        .calls
        .iter()
        .any(|c| c.operation == "PutRolePolicy" && !c.made));

    let done = remove.run(&t.env(true), &p).await.unwrap();
    assert_eq!(done.outcome, Outcome::Changed, "{done:?}");
    assert_eq!(associated().await, 0);
    let policy = revoke_policy().await.expect("revoke policy written");
    let cutoff = t.now.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    assert_eq!(policy["Statement"][0]["Effect"], "Deny");
    assert_eq!(
        policy["Statement"][0]["Condition"]["DateLessThan"]["aws:TokenIssueTime"],
        json!(cutoff)
    );
    assert_eq!(done.outputs["role_names"], json!(["web-role"]));

    let again = remove.run(&t.env(true), &p).await.unwrap();
    assert_eq!(again.outcome, Outcome::AlreadyDone);
}

#[tokio::test]
async fn stop_and_terminate() {
    let t = TestEnv::start().await;
    let ec2 = aws_sdk_ec2::Client::new(&t.config().await);
    let net = fx::network(&ec2).await;
    let ami = fx::image(&ec2).await;
    let id = fx::instance(&ec2, &net, &ami, &[], &[]).await;
    let state = |id: String| {
        let ec2 = ec2.clone();
        async move {
            fx::describe(&ec2, &id)
                .await
                .state()
                .unwrap()
                .name()
                .unwrap()
                .as_str()
                .to_string()
        }
    };
    let stop = action(&t, "ec2.stop_instance");
    let p = params(json!({"instance_id": id}));
    let plan = stop.run(&t.env(false), &p).await.unwrap();
    assert_eq!(plan.outcome, Outcome::Planned);
    assert!(plan
        .calls
        .iter()
        .any(|c| c.operation == "StopInstances" && c.dry_run_checked));
    assert_eq!(state(id.clone()).await, "running");
    assert_eq!(
        stop.run(&t.env(true), &p).await.unwrap().outcome,
        Outcome::Changed
    );
    assert!(matches!(
        state(id.clone()).await.as_str(),
        "stopped" | "stopping"
    ));
    assert_eq!(
        stop.run(&t.env(true), &p).await.unwrap().outcome,
        Outcome::AlreadyDone
    );

    let terminate = action(&t, "ec2.terminate_instance");
    let err = terminate.run(&t.env(true), &p).await.unwrap_err();
    assert!(
        matches!(err, ActionError::InvalidParams(ref m) if m.contains("allow_terminate")),
        "{err:?}"
    );
    // Termination protection blocks it: vigil does not lift it.
    let protect = action(&t, "ec2.enable_termination_protection");
    protect.run(&t.env(true), &p).await.unwrap();
    let allowed = params(json!({"instance_id": id, "allow_terminate": true}));
    let err = terminate.run(&t.env(true), &allowed).await.unwrap_err();
    assert!(
        matches!(err, ActionError::Failed(ref m) if m.contains("termination protection")),
        "{err:?}"
    );
    assert_ne!(state(id.clone()).await, "terminated");

    let other = fx::instance(&ec2, &net, &ami, &[], &[]).await;
    let allowed = params(json!({"instance_id": other, "allow_terminate": "true"}));
    assert_eq!(
        terminate
            .run(&t.env(false), &allowed)
            .await
            .unwrap()
            .outcome,
        Outcome::Planned
    );
    assert_eq!(state(other.clone()).await, "running");
    assert_eq!(
        terminate.run(&t.env(true), &allowed).await.unwrap().outcome,
        Outcome::Changed
    );
    assert!(matches!(
        state(other.clone()).await.as_str(),
        "terminated" | "shutting-down"
    ));
    assert_eq!(
        terminate.run(&t.env(true), &allowed).await.unwrap().outcome,
        Outcome::AlreadyDone
    );
}

/// An instance with two network interfaces is isolated interface by interface: each one goes
/// to the allow-all untracking group, then to the isolation group alone. moto does not model
/// the effect (ModifyNetworkInterfaceAttribute adds the groups to the interface instead of
/// replacing them), so this test checks the requests vigil sent, as the ledger records them,
/// rather than the state moto reads back.
#[tokio::test]
async fn an_instance_with_two_interfaces_is_isolated_interface_by_interface() {
    let t = TestEnv::start().await;
    let ec2 = aws_sdk_ec2::Client::new(&t.config().await);
    let net = fx::network(&ec2).await;
    let web = fx::security_group(&ec2, &net.vpc_id, "web").await;
    let db = fx::security_group(&ec2, &net.vpc_id, "db").await;
    let ami = fx::image(&ec2).await;
    let id = fx::instance(&ec2, &net, &ami, &[&web], &[]).await;
    let second = ec2
        .create_network_interface()
        .subnet_id(&net.subnet_id)
        .groups(&db)
        .send()
        .await
        .unwrap()
        .network_interface()
        .and_then(|n| n.network_interface_id())
        .unwrap()
        .to_string();
    ec2.attach_network_interface()
        .network_interface_id(&second)
        .instance_id(&id)
        .device_index(1)
        .send()
        .await
        .unwrap();

    let done = action(&t, "ec2.isolate_instance")
        .run(&t.env(true), &params(json!({"instance_id": id})))
        .await
        .unwrap();
    assert_eq!(done.outcome, Outcome::Changed, "{done:?}");
    let iso = fx::groups_named(&ec2, &net.vpc_id, "vigil-isolation").await;
    let untrack = fx::groups_named(&ec2, &net.vpc_id, "vigil-isolation-untrack").await;
    let (iso, untrack) = (
        iso[0].group_id().unwrap().to_string(),
        untrack[0].group_id().unwrap().to_string(),
    );
    let modifications: Vec<(String, serde_json::Value)> = done
        .calls
        .iter()
        .filter(|c| c.made && c.operation == "ModifyNetworkInterfaceAttribute")
        .map(|c| {
            (
                c.params["NetworkInterfaceId"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
                c.params["Groups"].clone(),
            )
        })
        .collect();
    assert_eq!(modifications.len(), 4, "{modifications:?}");
    for eni in modifications
        .iter()
        .map(|(eni, _)| eni)
        .collect::<std::collections::BTreeSet<_>>()
    {
        let sent: Vec<&serde_json::Value> = modifications
            .iter()
            .filter(|(e, _)| e == eni)
            .map(|(_, g)| g)
            .collect();
        assert_eq!(sent, vec![&json!([untrack]), &json!([iso])], "{eni}");
    }
    assert!(modifications.iter().any(|(eni, _)| *eni == second));
    // The original groups of both interfaces are remembered for release.
    let original = fx::instance_tag(&ec2, &id, "vigil:original-groups")
        .await
        .unwrap_or_default();
    assert!(
        original.contains(&web) && original.contains(&db) && original.contains(&second),
        "{original}"
    );
}
