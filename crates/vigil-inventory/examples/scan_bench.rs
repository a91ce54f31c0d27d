//! Posture-scan benchmark: build the test fixture in moto (plus `VIGIL_BENCH_SCALE` extra
//! users, buckets and security groups), run a full collect + evaluate, and print wall time,
//! API calls and peak RSS.
//!
//! ```text
//! cargo run --release -p vigil-inventory --example scan_bench
//! VIGIL_BENCH_ENDPOINT=http://127.0.0.1:5000 VIGIL_BENCH_SCALE=50 cargo run ... # an already running moto
//! ```
//! With `VIGIL_BENCH_ENDPOINT` the fixture is built only when `VIGIL_BENCH_BUILD=1` (so the
//! same moto can be scanned by other tools afterwards, see `bench/bench-scan.sh`).

#[path = "../tests/fixture/mod.rs"]
mod fixture;

use std::time::Instant;

use vigil_aws::{AwsContext, AwsOptions};
use vigil_inventory::{collect, InventoryOptions};
use vigil_posture::{evaluate, EvalOptions, Status};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let scale: usize = std::env::var("VIGIL_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let (endpoint, _moto, build) = match std::env::var("VIGIL_BENCH_ENDPOINT") {
        Ok(endpoint) => (
            endpoint,
            None,
            std::env::var("VIGIL_BENCH_BUILD").is_ok_and(|v| v == "1"),
        ),
        Err(_) => {
            let moto = vigil_testkit::MotoServer::start_with(vigil_testkit::MotoOptions {
                single_ami: Some((fixture::AMI.into(), "vigil-bench-image".into())),
            })?;
            (moto.endpoint(), Some(moto), true)
        }
    };
    let ctx = AwsContext::load(AwsOptions::for_emulator(endpoint.clone())).await?;
    if build {
        let cfg = ctx.config_for(None, None).await?;
        let started = Instant::now();
        fixture::build(&cfg).await?;
        scale_up(&cfg, scale).await?;
        eprintln!(
            "fixture built in {:.2}s (scale {scale})",
            started.elapsed().as_secs_f64()
        );
    }

    let started = Instant::now();
    let (snapshot, stats) = collect(&ctx, &InventoryOptions::default(), &|_| {}).await?;
    let collected = started.elapsed();
    let results = evaluate(&snapshot, &EvalOptions::default());
    let total = started.elapsed();
    let count = |s: Status| results.iter().filter(|r| r.status == s).count();
    println!("endpoint        {endpoint}");
    println!("collect         {:.3}s", collected.as_secs_f64());
    println!("collect+eval    {:.3}s", total.as_secs_f64());
    println!(
        "api calls       {} ({} failed)",
        stats.api_calls, stats.api_errors
    );
    println!(
        "results         {} (pass {}, fail {}, unknown {}, n/a {})",
        results.len(),
        count(Status::Pass),
        count(Status::Fail),
        count(Status::Unknown),
        count(Status::NotApplicable)
    );
    println!(
        "peak rss        {}",
        peak_rss().unwrap_or_else(|| "unknown".into())
    );
    for (service, (calls, errors)) in &stats.per_service {
        println!("  {service:<16} {calls:>5} calls {errors:>3} failed");
    }
    Ok(())
}

/// Extra resources so the scan has something to page through.
async fn scale_up(
    cfg: &aws_config::SdkConfig,
    scale: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let iam = aws_sdk_iam::Client::new(cfg);
    let s3 = fixture::s3_client(cfg);
    let ec2 = aws_sdk_ec2::Client::new(cfg);
    for n in 0..scale {
        iam.create_user()
            .user_name(format!("bench-user-{n}"))
            .send()
            .await?;
        iam.create_access_key()
            .user_name(format!("bench-user-{n}"))
            .send()
            .await?;
        s3.create_bucket()
            .bucket(format!("bench-bucket-{n}"))
            .send()
            .await?;
        ec2.create_security_group()
            .group_name(format!("bench-sg-{n}"))
            .description("bench")
            .send()
            .await?;
    }
    Ok(())
}

/// VmHWM from /proc/self/status (Linux).
fn peak_rss() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .map(|l| l.trim_start_matches("VmHWM:").trim().to_string())
}
