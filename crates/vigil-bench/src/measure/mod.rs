//! `vigil-bench run`: every stage over the same corpus, in one run.

pub mod child;
pub mod report;
pub mod stages;

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use child::{expand_template, run_child, ChildRun};
use report::Row;
use stages::{corpus_files, pass, PassResult};

/// The default `vigil` command line. `{rules}` expands to `--rules DIR` per rule directory.
pub const VIGIL_TEMPLATE: &str =
    "{vigil} detect {corpus} --threads {threads} --format jsonl --store none --no-progress {rules}";
/// The default rsigma command line: its `engine eval` reads JSON Lines events from stdin.
pub const RSIGMA_TEMPLATE: &str = "{rsigma} engine eval -r {rules}";

/// What to measure, and with what.
pub struct RunSpec {
    pub corpus: PathBuf,
    pub threads: Vec<usize>,
    pub repeat: usize,
    pub vigil: Option<PathBuf>,
    pub vigil_template: String,
    pub sigma_rules: PathBuf,
    pub extra_rules: PathBuf,
    /// The flood stress set, measured when given.
    pub flood_rules: Option<PathBuf>,
    pub rsigma: Option<PathBuf>,
    pub rsigma_template: String,
}

/// Runs every stage and returns the rows of the report.
pub fn run(spec: &RunSpec) -> Result<Vec<Row>> {
    let logs = spec.corpus.join("AWSLogs");
    let files = corpus_files(&logs)?;
    if files.is_empty() {
        bail!("no .json.gz files under {}", logs.display());
    }
    eprintln!("corpus: {} files under {}", files.len(), logs.display());
    let warm = pass(&files, 1, stages::sonic_parse)?;
    let (records, json_bytes) = (warm.records, warm.json_bytes);
    let mut rows = Vec::new();
    for &threads in &spec.threads {
        let gunzip = best_pass(spec.repeat, || pass(&files, threads, stages::nothing))?;
        rows.push(Row::measured(
            "gunzip (libdeflate)",
            "-",
            threads,
            records,
            json_bytes,
            gunzip.seconds,
        ));
        let parse = best_pass(spec.repeat, || pass(&files, threads, stages::sonic_parse))?;
        rows.push(Row::measured(
            "gunzip + sonic-rs full parse (floor)",
            "-",
            threads,
            records,
            json_bytes,
            parse.seconds,
        ));
        rows.push(vigil_input_row(
            spec.repeat,
            &files,
            threads,
            records,
            json_bytes,
        )?);
    }
    rows.extend(vigil_rows(spec, &logs, records, json_bytes));
    rows.extend(rsigma_rows(spec, &files, records, json_bytes));
    Ok(rows)
}

fn vigil_input_row(
    repeat: usize,
    files: &[PathBuf],
    threads: usize,
    records: u64,
    bytes: u64,
) -> Result<Row> {
    let mut rejected = 0;
    let result = best_pass(repeat, || {
        let (result, rejects) = stages::vigil_input_pass(files, threads)?;
        rejected = rejects;
        Ok(result)
    })?;
    let mut row = Row::measured(
        "gunzip + vigil-input parse into events",
        "-",
        threads,
        records,
        bytes,
        result.seconds,
    );
    if result.records != records || rejected > 0 {
        row.note = format!("{} records delivered, {rejected} rejected", result.records);
        eprintln!("vigil-input: {}", row.note);
    }
    Ok(row)
}

fn best_pass(repeat: usize, mut measure: impl FnMut() -> Result<PassResult>) -> Result<PassResult> {
    let mut best = measure()?;
    for _ in 1..repeat.max(1) {
        let next = measure()?;
        if next.seconds < best.seconds {
            best = next;
        }
    }
    Ok(best)
}

fn best_child(repeat: usize, words: &[String], stdin: Option<&Path>) -> Result<ChildRun> {
    let mut best = run_child(words, stdin)?;
    for _ in 1..repeat.max(1) {
        let next = run_child(words, stdin)?;
        if next.seconds < best.seconds {
            best = next;
        }
    }
    Ok(best)
}

fn vigil_rows(spec: &RunSpec, logs: &Path, records: u64, bytes: u64) -> Vec<Row> {
    let pack_sigma = "pack + 57 SigmaHQ";
    let Some(vigil) = &spec.vigil else {
        let note = "not yet measured: no vigil binary (build it: cargo build --release -p vigil)";
        return vec![Row::missing(
            "vigil detect",
            pack_sigma,
            records,
            bytes,
            note,
        )];
    };
    let mut rule_sets = vec![
        (pack_sigma, vec![spec.sigma_rules.clone()]),
        (
            "pack + 57 SigmaHQ + 1,000 generated",
            vec![spec.sigma_rules.clone(), spec.extra_rules.clone()],
        ),
    ];
    if let Some(flood) = &spec.flood_rules {
        rule_sets.push((
            "pack + 57 SigmaHQ + 1,000 flood (stress)",
            vec![spec.sigma_rules.clone(), flood.clone()],
        ));
    }
    let mut rows = Vec::new();
    for (label, dirs) in &rule_sets {
        for &threads in &spec.threads {
            let rules = dirs
                .iter()
                .flat_map(|d| ["--rules".to_string(), d.display().to_string()])
                .collect();
            let words = expand_template(
                &spec.vigil_template,
                &[
                    ("vigil", vec![vigil.display().to_string()]),
                    ("corpus", vec![logs.display().to_string()]),
                    ("threads", vec![threads.to_string()]),
                    ("rules", rules),
                ],
            );
            eprintln!("running: {}", words.join(" "));
            rows.push(child_row(
                "vigil detect",
                label,
                threads,
                records,
                bytes,
                best_child(spec.repeat, &words, None),
            ));
        }
    }
    rows
}

fn child_row(
    stage: &str,
    rules: &str,
    threads: usize,
    records: u64,
    bytes: u64,
    run: Result<ChildRun>,
) -> Row {
    match run {
        Ok(run) if run.exit_code.is_some_and(|code| code <= 1) => {
            let mut row = Row::measured(stage, rules, threads, records, bytes, run.seconds);
            row.peak_rss_kib = Some(run.peak_rss_kib);
            row.findings = Some(run.stdout_lines);
            row
        }
        Ok(run) => {
            eprintln!(
                "{stage} ({rules}) failed with {:?}:\n{}",
                run.exit_code, run.stderr_tail
            );
            let mut row = Row::missing(
                stage,
                rules,
                records,
                bytes,
                &format!("not measured: exit {:?}", run.exit_code),
            );
            row.threads = threads;
            row
        }
        Err(error) => {
            let mut row = Row::missing(
                stage,
                rules,
                records,
                bytes,
                &format!("not measured: {error:#}"),
            );
            row.threads = threads;
            row
        }
    }
}

/// rsigma reads JSON Lines, not CloudTrail's gzip documents, so the corpus is converted
/// first; the conversion is timed on its own row and added to rsigma's end-to-end row.
fn rsigma_rows(spec: &RunSpec, files: &[PathBuf], records: u64, bytes: u64) -> Vec<Row> {
    let label = "57 SigmaHQ";
    let Some(rsigma) = &spec.rsigma else {
        return vec![Row::missing(
            "rsigma 0.23.0",
            label,
            records,
            bytes,
            "not measured: no rsigma binary",
        )];
    };
    let jsonl = spec.corpus.join("rsigma-events.jsonl");
    let conversion = match stages::convert_to_jsonl(files, &jsonl) {
        Ok(conversion) => conversion,
        Err(error) => {
            return vec![Row::missing(
                "rsigma 0.23.0",
                label,
                records,
                bytes,
                &format!("not measured: conversion failed: {error:#}"),
            )]
        }
    };
    let words = expand_template(
        &spec.rsigma_template,
        &[
            ("rsigma", vec![rsigma.display().to_string()]),
            ("rules", vec![spec.sigma_rules.display().to_string()]),
            ("events", vec![jsonl.display().to_string()]),
        ],
    );
    eprintln!("running: {} < {}", words.join(" "), jsonl.display());
    let eval = child_row(
        "rsigma 0.23.0 eval (JSON Lines on stdin)",
        label,
        1,
        records,
        bytes,
        best_child(spec.repeat, &words, Some(&jsonl)),
    );
    let mut rows = vec![Row::measured(
        "gunzip + split into JSON Lines (for rsigma)",
        "-",
        1,
        records,
        bytes,
        conversion.seconds,
    )];
    if let Some(seconds) = eval.seconds {
        let mut total = Row::measured(
            "rsigma 0.23.0 end to end (conversion + eval)",
            label,
            1,
            records,
            bytes,
            seconds + conversion.seconds,
        );
        total.peak_rss_kib = eval.peak_rss_kib;
        total.findings = eval.findings;
        rows.push(eval);
        rows.push(total);
    } else {
        rows.push(eval);
    }
    let _ = std::fs::remove_file(&jsonl);
    rows
}
