//! `vigil-bench engine`: vigil's detection pipeline in this process, the way `vigil detect
//! --store none` runs it (built-in pack plus `--rules`, findings as JSON Lines), timed, with
//! the peak RSS of this process. For profiling (`perf record`) and before/after comparisons
//! without building the CLI and its AWS SDK dependencies.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use vigil_engine::{detect, DetectOptions, MemoryBaselines, Progress, RuleSet, RuleSetOptions};

#[derive(clap::Args)]
pub struct EngineArgs {
    /// Input files or directories.
    #[arg(required = true)]
    paths: Vec<String>,
    /// Rule files or directories, added to the built-in pack.
    #[arg(long)]
    rules: Vec<PathBuf>,
    /// Worker threads.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Write the findings as JSON Lines to this file.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Memory for the whole run, MiB, split into the budgets below for the thread count;
    /// default as `vigil detect`.
    #[arg(long)]
    memory_mib: Option<usize>,
    /// Memory for correlation observations, MiB (beyond it they are spilled to temporary
    /// files); default as `vigil detect`.
    #[arg(long)]
    correlation_memory_mib: Option<usize>,
    /// Memory for finding drafts, MiB (beyond it they are spilled to temporary files);
    /// default as `vigil detect`.
    #[arg(long)]
    finding_memory_mib: Option<usize>,
    /// Memory for built findings on their way to the output, MiB (beyond it they are sorted
    /// and spilled to temporary files); default as `vigil detect`.
    #[arg(long)]
    output_memory_mib: Option<usize>,
    /// Also time the sonic-rs floor (gunzip + full parse) over the `.json.gz` files of the
    /// first path on the same threads, just before, and print the ratio: a figure that holds
    /// on a machine other work is slowing down.
    #[arg(long)]
    floor: bool,
    /// Instead of detecting, time each rule's evaluation (on 1 thread) and print the rules
    /// that cost the most: where to look when detection is slow.
    #[arg(long)]
    rule_costs: bool,
    /// Instead of detecting, read up to this many records into memory, then evaluate every
    /// candidate rule on each of them `--eval-rounds` times and print the CPU time of
    /// evaluation alone: a steadier before/after figure for the rule engine than a whole run
    /// on a busy machine.
    #[arg(long)]
    eval_only: Option<usize>,
    /// Rounds of `--eval-only`.
    #[arg(long, default_value_t = 5)]
    eval_rounds: usize,
}

pub fn run(args: &EngineArgs) -> Result<()> {
    let floor = match (args.floor, args.paths.first()) {
        (true, Some(first)) => {
            let files = crate::measure::stages::corpus_files(std::path::Path::new(first))?;
            let cpu = cpu_seconds();
            let pass = crate::measure::stages::pass(
                &files,
                args.threads,
                crate::measure::stages::sonic_parse,
            )?;
            let cpu = cpu_seconds() - cpu;
            eprintln!(
                "floor: {} records in {:.2}s ({cpu:.2}s CPU)",
                pass.records, pass.seconds
            );
            Some((pass.seconds, cpu))
        }
        _ => None,
    };
    let started = Instant::now();
    let cpu_started = cpu_seconds();
    let set = RuleSet::load(&RuleSetOptions {
        builtin: true,
        rule_paths: args.rules.clone(),
        ..RuleSetOptions::default()
    });
    let loaded = started.elapsed().as_secs_f64();
    let inputs = vigil_input::expand(&args.paths).context("reading the input paths")?;
    if args.rule_costs {
        rule_costs(&set, &inputs);
        return Ok(());
    }
    if let Some(limit) = args.eval_only {
        eval_only(&set, &inputs, limit, args.eval_rounds);
        return Ok(());
    }
    let defaults = DetectOptions {
        threads: args.threads.max(1),
        ..DetectOptions::default()
    }
    .with_memory(
        args.memory_mib
            .map_or(vigil_engine::DEFAULT_MEMORY_BYTES, |mib| mib << 20),
    );
    let options = DetectOptions {
        correlation_memory_bytes: args
            .correlation_memory_mib
            .map_or(defaults.correlation_memory_bytes, |mib| mib << 20),
        finding_memory_bytes: args
            .finding_memory_mib
            .map_or(defaults.finding_memory_bytes, |mib| mib << 20),
        output_memory_bytes: args
            .output_memory_mib
            .map_or(defaults.output_memory_bytes, |mib| mib << 20),
        ..defaults
    };
    let mut detection = detect(
        &set,
        &inputs,
        &options,
        &mut MemoryBaselines::default(),
        &Progress::default(),
    );
    let output_started = Instant::now();
    let findings = std::mem::take(&mut detection.findings);
    let count = findings.len();
    let mut out = match &args.out {
        Some(path) => Some(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        )),
        None => None,
    };
    // One line per finding, as the findings come out of the sorter (spilled runs merged
    // back): the run's memory stays within its budgets, as in `vigil detect`.
    for item in findings {
        let (finding, _) = item.context("reading spilled findings back")?;
        if let Some(out) = out.as_mut() {
            vigil_findings::write_findings(
                vigil_findings::Format::Jsonl,
                std::slice::from_ref(&finding),
                out,
            )
            .context("writing findings")?;
        }
    }
    if let Some(mut out) = out {
        out.flush().context("writing findings")?;
    }
    let output_seconds = output_started.elapsed().as_secs_f64();
    let detected = started.elapsed().as_secs_f64();
    let detect_cpu = cpu_seconds() - cpu_started;
    let totals = &detection.totals;
    eprintln!(
        "rules {} (load {loaded:.2}s); records {}; matches {}; observations spilled {}; \
         drafts spilled {}; finding runs spilled {}; findings {}; detect {:.2}s ({:.0} records/s); total {:.2}s; peak RSS {} KiB",
        set.len(),
        totals.records_read,
        totals.matches,
        totals.spilled_observations,
        totals.spilled_drafts,
        totals.spilled_finding_runs,
        count,
        detected - loaded,
        totals.records_read as f64 / (detected - loaded).max(1e-9),
        started.elapsed().as_secs_f64(),
        peak_rss_kib()
    );
    let stages = &detection.timings;
    eprintln!(
        "stages: reading {:.2}s; standalone findings {:.2}s, correlation {:.2}s + read-back \
         {:.2}s ({} records from {} files), baselines {:.2}s (side by side); sorting {:.2}s; \
         output {:.2}s",
        stages.reading.as_secs_f64(),
        stages.standalone.as_secs_f64(),
        stages.correlation.as_secs_f64(),
        stages.read_back.as_secs_f64(),
        totals.read_back_records,
        totals.read_back_files,
        stages.baselines.as_secs_f64(),
        stages.sorting.as_secs_f64(),
        output_seconds,
    );
    if let Some((floor, floor_cpu)) = floor {
        eprintln!(
            "detect / floor speed: {:.3} by wall time, {:.3} by CPU time (detect {detect_cpu:.2}s \
             CPU, rules included)",
            floor / (detected - loaded).max(1e-9),
            floor_cpu / detect_cpu.max(1e-9)
        );
    }
    Ok(())
}

/// CPU time (user + system) of this process so far, in seconds.
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage only writes into the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_SELF with a valid pointer.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return 0.0;
    }
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// This process's peak resident set size (`ru_maxrss`), in KiB.
fn peak_rss_kib() -> i64 {
    // SAFETY: getrusage only writes into the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_SELF with a valid pointer.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return -1;
    }
    usage.ru_maxrss
}

/// Per rule: how often it was tried, how often it matched, and the time spent trying it.
struct RuleCosts<'s> {
    set: &'s RuleSet,
    scratch: vigil_engine::index::CandidateScratch,
    tried: Vec<(u64, u64, std::time::Duration)>,
    lookup: std::time::Duration,
}

impl vigil_input::RecordSink for RuleCosts<'_> {
    fn event(&mut self, event: vigil_event::Event) {
        let started = Instant::now();
        let keyed = vigil_event::KeyedEvent::new(&event);
        let candidates = self
            .set
            .index
            .candidates_of(event.source, &keyed, &mut self.scratch)
            .to_vec();
        self.lookup += started.elapsed();
        for index in candidates {
            let started = Instant::now();
            let matched = self.set.rules[index as usize].rule.matches(&keyed);
            let cost = &mut self.tried[index as usize];
            cost.0 += 1;
            cost.1 += u64::from(matched);
            cost.2 += started.elapsed();
        }
    }

    fn reject(&mut self, _reject: vigil_input::Reject) {}
}

fn rule_costs(set: &RuleSet, inputs: &[vigil_input::Input]) {
    let mut costs = RuleCosts {
        set,
        scratch: Default::default(),
        tried: vec![(0, 0, std::time::Duration::ZERO); set.rules.len()],
        lookup: std::time::Duration::ZERO,
    };
    let started = Instant::now();
    for input in inputs {
        vigil_input::read_input(input, &vigil_input::ReadOptions::default(), &mut costs);
    }
    eprintln!(
        "total {:.2}s; keys + index {:.2}s",
        started.elapsed().as_secs_f64(),
        costs.lookup.as_secs_f64()
    );
    let mut order: Vec<usize> = (0..set.rules.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(costs.tried[i].2));
    for i in order.into_iter().take(25) {
        let (tried, matched, time) = costs.tried[i];
        let rule = &set.rules[i];
        eprintln!(
            "{:8.3}s {tried:>9} tried {matched:>9} matched  {}",
            time.as_secs_f64(),
            rule.rule.title
        );
    }
}

/// Events held in memory for `--eval-only`.
struct Held {
    events: Vec<vigil_event::Event>,
    limit: usize,
}

impl vigil_input::RecordSink for Held {
    fn event(&mut self, event: vigil_event::Event) {
        if self.events.len() < self.limit {
            self.events.push(event);
        }
    }

    fn reject(&mut self, _reject: vigil_input::Reject) {}
}

fn eval_only(set: &RuleSet, inputs: &[vigil_input::Input], limit: usize, rounds: usize) {
    let mut held = Held {
        events: Vec::new(),
        limit,
    };
    for input in inputs {
        if held.events.len() >= limit {
            break;
        }
        vigil_input::read_input(input, &vigil_input::ReadOptions::default(), &mut held);
    }
    let mut scratch = vigil_engine::index::CandidateScratch::default();
    let (mut tried, mut matched) = (0u64, 0u64);
    let cpu = cpu_seconds();
    for _ in 0..rounds {
        for event in &held.events {
            let keyed = vigil_event::KeyedEvent::new(event);
            let mut memo = vigil_sigma::EventMemo::new(&keyed);
            for &index in set.index.candidates_of(event.source, &keyed, &mut scratch) {
                tried += 1;
                matched += u64::from(set.rules[index as usize].rule.matches_in(&mut memo));
            }
        }
    }
    let cpu = cpu_seconds() - cpu;
    let evaluations = held.events.len() as u64 * rounds as u64;
    eprintln!(
        "eval-only: {} events x {rounds} rounds; {tried} rules tried, {matched} matched; \
         {cpu:.3}s CPU ({:.0} ns per event)",
        held.events.len(),
        cpu * 1e9 / evaluations.max(1) as f64
    );
}
