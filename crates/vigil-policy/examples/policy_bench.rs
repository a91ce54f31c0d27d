//! Policies analysed per second over a generated corpus.
//!
//! `cargo run --release -p vigil-policy --example policy_bench -- [N] [SEED]`
//! (N defaults to 10,000). Generation is not timed; parsing and analysis are.

use std::collections::BTreeMap;
use std::time::Instant;

use vigil_policy::bench::generate_corpus;
use vigil_policy::{analyze, AnalysisContext, Policy, ResourceKind};

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = match args.next().map(|a| a.parse()) {
        None => 10_000,
        Some(Ok(n)) => n,
        Some(Err(e)) => {
            eprintln!("policy_bench: N must be a number: {e}");
            std::process::exit(2);
        }
    };
    let seed: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(42);
    let corpus = generate_corpus(n, seed);
    let bytes: usize = corpus.iter().map(String::len).sum();
    let ctx = AnalysisContext::new(ResourceKind::Other, "123456789012");

    let start = Instant::now();
    let mut verdicts: BTreeMap<String, usize> = BTreeMap::new();
    let mut grants = 0usize;
    for text in &corpus {
        match Policy::parse(text) {
            Ok(policy) => {
                let analysis = analyze(&policy, &ctx);
                grants += analysis.grants.len();
                *verdicts
                    .entry(format!("{:?}", analysis.verdict))
                    .or_default() += 1;
            }
            Err(e) => {
                eprintln!("policy_bench: generated policy does not parse: {e}");
                std::process::exit(1);
            }
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    println!(
        "{n} policies ({:.1} MB) parsed and analysed in {elapsed:.3} s: {:.0} policies/s, {grants} grants",
        bytes as f64 / 1e6,
        n as f64 / elapsed
    );
    println!("verdicts: {verdicts:?}");
}
