//! `vigil-bench`: generates a realistic CloudTrail corpus and measures vigil against the
//! floor of decompressing and parsing it, and against rsigma, in one run.
//!
//! ```text
//! vigil-bench gen --records 1000000 --out /tmp/corpus [--seed 1]
//! vigil-bench gen-rules --count 1000 --out /tmp/corpus/selective-rules [--flood]
//! vigil-bench run --corpus /tmp/corpus [--threads 1,2] [--vigil PATH] [--rsigma PATH]
//! vigil-bench engine /tmp/corpus/AWSLogs --rules DIR [--threads 1] [--out findings.jsonl]
//! ```
//!
//! See BENCHMARKS.md for the figures and how they were taken.

mod corpus;
mod engine;
mod measure;
mod rules;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "vigil-bench",
    about = "Corpus generator and throughput benchmark for vigil"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write a CloudTrail corpus (gzip files in the S3 layout) under OUT/AWSLogs.
    Gen {
        #[arg(long, default_value_t = 1_000_000)]
        records: u64,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Threads compressing files (the output does not depend on it).
        #[arg(long, default_value_t = 2)]
        threads: usize,
    },
    /// Write COUNT generated Sigma rules over CloudTrail fields into OUT.
    GenRules {
        #[arg(long, default_value_t = 1000)]
        count: usize,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Write the flood stress set instead: rules that select the corpus's common calls
        /// (about a million findings over the 1,000,000-record corpus). By default the rules
        /// are shaped like real detection content and name calls that are rare or absent.
        #[arg(long, conflicts_with = "selective")]
        flood: bool,
        /// The default (kept so older command lines still work).
        #[arg(long, hide = true)]
        selective: bool,
    },
    /// Measure every stage over a corpus written by `gen` and print a Markdown table.
    Run(RunArgs),
    /// Run vigil's detection pipeline in this process (no CLI, no store) over input paths:
    /// for profiling and quick comparisons; the report's figures come from `run`.
    Engine(engine::EngineArgs),
}

#[derive(clap::Args)]
struct RunArgs {
    /// The directory given to `gen --out`.
    #[arg(long)]
    corpus: PathBuf,
    /// Thread counts to measure, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    threads: Vec<usize>,
    /// Run each stage this many times and keep the fastest.
    #[arg(long, default_value_t = 1)]
    repeat: usize,
    /// The vigil binary (default: `vigil` next to this binary, if built).
    #[arg(long)]
    vigil: Option<PathBuf>,
    /// The vigil command line; {vigil} {corpus} {threads} {rules} are filled in.
    #[arg(long, default_value = measure::VIGIL_TEMPLATE)]
    vigil_command: String,
    /// SigmaHQ's AWS CloudTrail rules.
    #[arg(long, default_value = "crates/vigil-sigma/tests/data/sigma/aws")]
    sigma_rules: PathBuf,
    /// The 1,000 generated (selective) rules; default CORPUS/selective-rules, written there
    /// by `gen-rules` if the directory is missing.
    #[arg(long)]
    extra_rules: Option<PathBuf>,
    /// Also measure the flood stress set (`gen-rules --flood`), from this directory (written
    /// there if missing).
    #[arg(long)]
    flood_rules: Option<PathBuf>,
    /// The rsigma binary (default: `rsigma` on PATH or in ~/.cargo/bin).
    #[arg(long)]
    rsigma: Option<PathBuf>,
    /// The rsigma command line; {rsigma} {rules} {events} are filled in. Events go to stdin.
    #[arg(long, default_value = measure::RSIGMA_TEMPLATE)]
    rsigma_command: String,
    /// Also write the report to this file.
    #[arg(long)]
    report: Option<PathBuf>,
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("vigil-bench: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Gen {
            records,
            out,
            seed,
            threads,
        } => {
            let spec = corpus::CorpusSpec {
                records,
                seed,
                out: out.clone(),
                threads,
            };
            let summary = corpus::generate(&spec)?;
            eprintln!(
                "wrote {} records ({} suspicious) in {} files under {}: {:.1} MB of JSON, {:.1} MB gzipped",
                summary.records,
                summary.suspicious,
                summary.files,
                out.join("AWSLogs").display(),
                summary.json_bytes as f64 / 1e6,
                summary.gzip_bytes as f64 / 1e6
            );
            Ok(())
        }
        Command::GenRules {
            count,
            out,
            seed,
            flood,
            selective: _,
        } => {
            let shape = if flood {
                rules::RuleShape::Flood
            } else {
                rules::RuleShape::Selective
            };
            rules::generate_rules_with(count, seed, &out, shape)
        }
        Command::Run(args) => run_benchmark(args),
        Command::Engine(args) => engine::run(&args),
    }
}

fn run_benchmark(args: RunArgs) -> Result<()> {
    let extra_rules = args
        .extra_rules
        .unwrap_or_else(|| args.corpus.join("selective-rules"));
    if !extra_rules.exists() {
        rules::generate_rules(1000, 1, &extra_rules)?;
    }
    if let Some(flood) = &args.flood_rules {
        if !flood.exists() {
            rules::generate_rules_with(1000, 1, flood, rules::RuleShape::Flood)?;
        }
    }
    let spec = measure::RunSpec {
        corpus: args.corpus,
        threads: args.threads,
        repeat: args.repeat,
        vigil: args.vigil.or_else(|| sibling_binary("vigil")),
        vigil_template: args.vigil_command,
        sigma_rules: args.sigma_rules,
        extra_rules,
        flood_rules: args.flood_rules,
        rsigma: args.rsigma.or_else(find_rsigma),
        rsigma_template: args.rsigma_command,
    };
    let before = measure::report::machine();
    let rows = measure::run(&spec)?;
    let report = format!(
        "Machine: {before}; load average at the end {}.\n\n{}",
        measure::report::load_average(),
        measure::report::markdown(&rows)
    );
    print!("{report}");
    if let Some(path) = args.report {
        std::fs::write(&path, &report).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// A binary built into the same target directory as this one.
fn sibling_binary(name: &str) -> Option<PathBuf> {
    let path = std::env::current_exe().ok()?.parent()?.join(name);
    path.is_file().then_some(path)
}

fn find_rsigma() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join("rsigma"));
    let in_cargo =
        std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo/bin/rsigma"));
    on_path.chain(in_cargo).find(|path| path.is_file())
}
