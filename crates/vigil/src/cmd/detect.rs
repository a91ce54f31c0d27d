//! `vigil detect`: the main job. Load rules, read the inputs, write findings to stdout and
//! the store, rejects to their file, and a summary to stderr.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context};
use vigil_engine::{
    detect, BaselineEntry, BaselineStore, DetectOptions, Detection, MemoryBaselines, Progress,
    RuleSet,
};
use vigil_findings::{Format, SeverityLabel};
use vigil_input::ReadOptions;
use vigil_store::{SqliteStore, Store};

use super::detect_output::{FindingOutput, Shown, Stored};

use crate::cli::DetectArgs;
use crate::cmd::{store_path, EXIT_CLEAN, EXIT_FINDINGS};
use crate::config::Config;
use crate::progress::ProgressDisplay;

pub fn run(args: DetectArgs, config: &Config) -> anyhow::Result<u8> {
    let store_setting = args.store.resolve(config);
    let format = output_format(args.format.as_deref())?;
    let fail_on = args.fail_on.as_deref().map(parse_severity).transpose()?;
    let train_until_ms = args.train_until.as_deref().map(parse_time).transpose()?;
    let started = Instant::now();
    let set = RuleSet::load(&args.rules.options(config)?);
    for problem in &set.problems {
        eprintln!("vigil: rule not loaded: {problem}");
    }
    let inputs = vigil_input::expand(&args.paths).context("reading the input paths")?;
    let mut store = match store_path(&store_setting)? {
        Some(path) => Some(
            SqliteStore::open(&path)
                .with_context(|| format!("opening the store {}", path.display()))?,
        ),
        None => None,
    };
    let options = detect_options(&args, train_until_ms);
    let progress = Arc::new(Progress::default());
    let mut detection = {
        let _display = ProgressDisplay::start(progress.clone(), inputs.len(), !args.no_progress);
        match store.as_mut() {
            Some(store) => detect(
                &set,
                &inputs,
                &options,
                &mut StoreBaselines(store),
                &progress,
            ),
            None => detect(
                &set,
                &inputs,
                &options,
                &mut MemoryBaselines::default(),
                &progress,
            ),
        }
    };
    let rejects_path = write_rejects(&args, &store_setting, &detection)?;
    let findings = std::mem::take(&mut detection.findings);
    let output_started = std::time::Instant::now();
    let mut output = FindingOutput::new(format, store.as_mut(), &inputs);
    for item in findings {
        output.push(item.context("reading the findings back from their temporary files")?)?;
    }
    let (stored, shown) = output.finish()?;
    tracing::debug!(elapsed = ?output_started.elapsed(), "findings written and stored");
    summary(
        &set,
        &detection,
        &shown,
        stored.as_ref(),
        rejects_path.as_deref(),
        started,
    );
    let failing = fail_on.is_some_and(|level| shown.highest.is_some_and(|h| h >= level));
    Ok(if failing { EXIT_FINDINGS } else { EXIT_CLEAN })
}

fn write_rejects(
    args: &DetectArgs,
    store_setting: &str,
    detection: &Detection,
) -> anyhow::Result<Option<PathBuf>> {
    if detection.rejects.is_empty() {
        return Ok(None);
    }
    let path = match &args.rejects {
        Some(path) => path.clone(),
        None => match store_path(store_setting)? {
            Some(store) => store.with_file_name("rejects.jsonl"),
            None => PathBuf::from("vigil-rejects.jsonl"),
        },
    };
    let mut writer = vigil_input::RejectsWriter::create(&path)
        .with_context(|| format!("creating the rejects file {}", path.display()))?;
    for reject in &detection.rejects {
        writer
            .write(reject)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    writer
        .flush()
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(Some(path))
}

fn summary(
    set: &RuleSet,
    detection: &Detection,
    shown: &Shown,
    stored: Option<&Stored>,
    rejects: Option<&Path>,
    started: Instant,
) {
    let t = &detection.totals;
    let seconds = started.elapsed().as_secs_f64().max(1e-6);
    for report in &detection.reports {
        if let Some(note) = &report.skipped {
            eprintln!("vigil: skipped {}: {note}", report.input);
        }
        if let Some(error) = &report.error {
            eprintln!("vigil: {}: {error}", report.input);
        }
    }
    for reject in detection.rejects.iter().take(10) {
        // Parser errors can span lines (a caret under the excerpt): the summary shows the
        // first, the rejects file keeps all of it.
        let reason = reject.reason.lines().next().unwrap_or_default();
        eprintln!(
            "vigil: rejected {}:{}: {reason}",
            reject.file, reject.record
        );
    }
    if detection.rejects.len() > 10 {
        eprintln!(
            "vigil: ... and {} more rejected records",
            detection.rejects.len() - 10
        );
    }
    for error in &detection.baseline_errors {
        eprintln!("vigil: baseline store: {error}");
    }
    for error in detection
        .correlation_errors
        .iter()
        .chain(&detection.draft_errors)
    {
        eprintln!("vigil: {error}");
    }
    eprintln!(
        "vigil: {} rules ({} not loaded); {} files ({} skipped); read {} = evaluated {} + rejected {}; {} matches; {} findings{}; {:.2}s, {:.0} records/s",
        set.len(),
        set.problems.len(),
        t.files,
        t.files_skipped,
        t.records_read,
        t.evaluated,
        t.rejected,
        t.matches,
        shown.count,
        stored
            .map(|s| {
                format!(
                    " ({} new, {} updated, {} unchanged, {} suppressed)",
                    s.created, s.updated, s.unchanged, s.suppressed
                )
            })
            .unwrap_or_default(),
        seconds,
        t.records_read as f64 / seconds,
    );
    if t.spilled_observations > 0 || t.spilled_drafts > 0 || t.spilled_finding_runs > 0 {
        eprintln!(
            "vigil: over the memory budgets, {} correlation observations, {} finding drafts and {} sorted runs of findings were spilled to temporary files and merged back",
            t.spilled_observations, t.spilled_drafts, t.spilled_finding_runs
        );
    }
    if let Some(path) = rejects {
        eprintln!("vigil: rejected records written to {}", path.display());
    }
}

fn output_format(requested: Option<&str>) -> anyhow::Result<Format> {
    match requested {
        Some(name) => name
            .parse::<Format>()
            .map_err(|e| anyhow::anyhow!("--format: {e}")),
        None if std::io::stdout().is_terminal() => Ok(Format::Table),
        None => Ok(Format::Jsonl),
    }
}

fn parse_severity(text: &str) -> anyhow::Result<SeverityLabel> {
    SeverityLabel::ALL
        .into_iter()
        .find(|label| label.as_str().eq_ignore_ascii_case(text))
        .with_context(|| {
            format!("--fail-on `{text}`: expected informational, low, medium, high or critical")
        })
}

fn parse_time(text: &str) -> anyhow::Result<i64> {
    match vigil_event::time::parse_rfc3339_ms(text) {
        Some(ms) => Ok(ms),
        None => bail!("`{text}` is not an RFC 3339 time (e.g. 2026-11-20T00:00:00Z)"),
    }
}

/// First-seen state kept in the SQLite store.
struct StoreBaselines<'a>(&'a mut SqliteStore);

impl BaselineStore for StoreBaselines<'_> {
    fn load(&mut self, rule_id: &str) -> Result<Vec<BaselineEntry>, String> {
        let values = self.0.baseline_load(rule_id).map_err(|e| e.to_string())?;
        Ok(values
            .into_iter()
            .map(|v| BaselineEntry {
                group: v.group,
                value: v.value,
                first_ms: v.first_ms,
            })
            .collect())
    }

    fn insert(&mut self, rule_id: &str, entries: &[BaselineEntry]) -> Result<(), String> {
        let values: Vec<vigil_store::BaselineValue> = entries
            .iter()
            .map(|e| vigil_store::BaselineValue {
                group: e.group.clone(),
                value: e.value.clone(),
                first_ms: e.first_ms,
            })
            .collect();
        self.0
            .baseline_insert_many(rule_id, &values)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

fn detect_options(args: &DetectArgs, train_until_ms: Option<i64>) -> DetectOptions {
    let threads = args
        .threads
        .unwrap_or_else(|| DetectOptions::default().threads)
        .max(1);
    let base = DetectOptions {
        threads,
        read: ReadOptions {
            max_record_bytes: args.max_record_bytes,
            ..ReadOptions::default()
        },
        samples_per_finding: args.samples,
        keys_per_window: args.max_keys_per_window.max(1),
        train_until_ms,
        ..DetectOptions::default()
    }
    .with_memory(mib_to_bytes(args.memory).unwrap_or(vigil_engine::DEFAULT_MEMORY_BYTES));
    DetectOptions {
        correlation_memory_bytes: mib_to_bytes(args.correlation_memory)
            .unwrap_or(base.correlation_memory_bytes),
        finding_memory_bytes: mib_to_bytes(args.finding_memory)
            .unwrap_or(base.finding_memory_bytes),
        output_memory_bytes: mib_to_bytes(args.output_memory).unwrap_or(base.output_memory_bytes),
        ..base
    }
}

/// A `--...memory MIB` option in bytes (saturating on 32-bit targets).
fn mib_to_bytes(mib: Option<u64>) -> Option<usize> {
    mib.map(|mib| usize::try_from(mib.saturating_mul(1 << 20)).unwrap_or(usize::MAX))
}
