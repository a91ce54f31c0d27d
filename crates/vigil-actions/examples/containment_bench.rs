//! Times the whole EC2 containment sequence against moto.
//!
//! capture → termination protection → isolate → detach from Auto Scaling → deregister from
//! load balancers → snapshot → tag → remove instance profile → stop, each with `execute`,
//! on a fresh instance per run. Prints the wall time of every step and of each run.
//!
//! ```text
//! cargo run -p vigil-actions --example containment_bench            # starts moto itself
//! VIGIL_BENCH_ENDPOINT=http://127.0.0.1:5000 VIGIL_BENCH_RUNS=10 cargo run ...
//! ```

use std::sync::Mutex;
use std::time::Instant;

use aws_sdk_ec2::types::InstanceType;
use serde_json::json;
use vigil_actions::{catalog, ActionOptions};
use vigil_aws::{AwsContext, AwsOptions};
use vigil_respond::action::{ActionError, EvidenceItem, EvidenceSink, Guard, Params, StepEnv};

struct AllowAll;

impl Guard for AllowAll {
    fn allow_change(&self, _resource: &str, _tags: &[(String, String)]) -> Result<(), ActionError> {
        Ok(())
    }
}

#[derive(Default)]
struct Discard(Mutex<usize>);

impl EvidenceSink for Discard {
    fn put(&self, item: EvidenceItem) -> Result<String, String> {
        *self.0.lock().map_err(|e| e.to_string())? += item.bytes.len();
        Ok(vigil_actions::common::sha256_hex(&item.bytes))
    }
}

type BoxError = Box<dyn std::error::Error>;

/// One instance in an Auto Scaling group, behind a classic load balancer, with a profile.
async fn fixture(
    cfg: &aws_config::SdkConfig,
    run: usize,
    subnet: &str,
    ami: &str,
) -> Result<String, BoxError> {
    let ec2 = aws_sdk_ec2::Client::new(cfg);
    let asg = aws_sdk_autoscaling::Client::new(cfg);
    let elb = aws_sdk_elasticloadbalancing::Client::new(cfg);
    let iam = aws_sdk_iam::Client::new(cfg);
    let name = format!("bench-{run}-{}", std::process::id());
    ec2.create_launch_template()
        .launch_template_name(&name)
        .launch_template_data(
            aws_sdk_ec2::types::RequestLaunchTemplateData::builder()
                .image_id(ami)
                .instance_type(InstanceType::T3Micro)
                .build(),
        )
        .send()
        .await?;
    asg.create_auto_scaling_group()
        .auto_scaling_group_name(&name)
        .launch_template(
            aws_sdk_autoscaling::types::LaunchTemplateSpecification::builder()
                .launch_template_name(&name)
                .build(),
        )
        .min_size(0)
        .max_size(2)
        .desired_capacity(1)
        .vpc_zone_identifier(subnet)
        .send()
        .await?;
    let out = asg
        .describe_auto_scaling_groups()
        .auto_scaling_group_names(&name)
        .send()
        .await?;
    let id = out.auto_scaling_groups()[0].instances()[0]
        .instance_id()
        .unwrap_or_default()
        .to_string();
    elb.create_load_balancer()
        .load_balancer_name(&name)
        .listeners(
            aws_sdk_elasticloadbalancing::types::Listener::builder()
                .protocol("HTTP")
                .load_balancer_port(80)
                .instance_port(80)
                .build()?,
        )
        .availability_zones("us-east-1a")
        .send()
        .await?;
    elb.register_instances_with_load_balancer()
        .load_balancer_name(&name)
        .instances(
            aws_sdk_elasticloadbalancing::types::Instance::builder()
                .instance_id(&id)
                .build(),
        )
        .send()
        .await?;
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    iam.create_role()
        .role_name(&name)
        .assume_role_policy_document(trust)
        .send()
        .await?;
    iam.create_instance_profile()
        .instance_profile_name(&name)
        .send()
        .await?;
    iam.add_role_to_instance_profile()
        .instance_profile_name(&name)
        .role_name(&name)
        .send()
        .await?;
    ec2.associate_iam_instance_profile()
        .instance_id(&id)
        .iam_instance_profile(
            aws_sdk_ec2::types::IamInstanceProfileSpecification::builder()
                .name(&name)
                .build(),
        )
        .send()
        .await?;
    Ok(id)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let runs: usize = std::env::var("VIGIL_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let (_moto, endpoint) = match std::env::var("VIGIL_BENCH_ENDPOINT") {
        Ok(e) => (None, e),
        Err(_) => {
            let moto = vigil_testkit::MotoServer::start()?;
            let e = moto.endpoint();
            (Some(moto), e)
        }
    };
    let ctx = AwsContext::load(AwsOptions::for_emulator(&endpoint)).await?;
    let cfg = ctx.config_for(None, None).await?;
    let ec2 = aws_sdk_ec2::Client::new(&cfg);
    let vpc = ec2.create_vpc().cidr_block("10.0.0.0/16").send().await?;
    let vpc_id = vpc
        .vpc()
        .and_then(|v| v.vpc_id())
        .unwrap_or_default()
        .to_string();
    let subnet = ec2
        .create_subnet()
        .vpc_id(&vpc_id)
        .cidr_block("10.0.1.0/24")
        .availability_zone("us-east-1a")
        .send()
        .await?;
    let subnet_id = subnet
        .subnet()
        .and_then(|s| s.subnet_id())
        .unwrap_or_default()
        .to_string();
    let ami = ec2
        .describe_images()
        .send()
        .await?
        .images()
        .first()
        .and_then(|i| i.image_id())
        .unwrap_or_default()
        .to_string();
    let actions = catalog(ctx.clone(), ActionOptions::default());
    let steps = [
        "ec2.capture_metadata",
        "ec2.enable_termination_protection",
        "ec2.isolate_instance",
        "autoscaling.detach_instance",
        "elb.deregister_instance",
        "ec2.snapshot_volumes",
        "ec2.tag_resource",
        "ec2.remove_instance_profile",
        "ec2.stop_instance",
    ];
    let guard = AllowAll;
    let evidence = Discard::default();
    println!("endpoint {endpoint}, {runs} run(s)");
    let mut totals = Vec::new();
    for run in 0..runs {
        let id = fixture(&cfg, run, &subnet_id, &ami).await?;
        let case = format!("bench-{run}");
        let env = StepEnv {
            run_id: &case,
            case_id: &case,
            responder: "bench",
            account: None,
            region: None,
            execute: true,
            guard: &guard,
            evidence: &evidence,
            now: chrono::Utc::now(),
        };
        let started = Instant::now();
        for name in steps {
            let action = actions
                .get(name)
                .ok_or_else(|| format!("{name} not registered"))?;
            let key = if name == "ec2.tag_resource" {
                "resource_id"
            } else {
                "instance_id"
            };
            let params: Params = serde_json::from_value(json!({ key: id }))?;
            let t = Instant::now();
            let report = action
                .run(&env, &params)
                .await
                .map_err(|e| format!("{name}: {e}"))?;
            println!(
                "  run {run} {name:<36} {:>8.1} ms  {:?}",
                t.elapsed().as_secs_f64() * 1e3,
                report.outcome
            );
        }
        let total = started.elapsed();
        println!(
            "run {run}: containment of {id} took {:.1} ms",
            total.as_secs_f64() * 1e3
        );
        totals.push(total.as_secs_f64() * 1e3);
    }
    totals.sort_by(f64::total_cmp);
    if let (Some(min), Some(max)) = (totals.first(), totals.last()) {
        println!(
            "min {min:.1} ms, median {:.1} ms, max {max:.1} ms",
            totals[totals.len() / 2]
        );
    }
    Ok(())
}
