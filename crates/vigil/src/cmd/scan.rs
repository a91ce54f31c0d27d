//! `vigil scan`: collect an inventory of AWS accounts (or load a saved snapshot), evaluate
//! the 75 posture controls, and report.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::Args;
use vigil_inventory::{collect, InventoryOptions, ProgressEvent};
use vigil_posture::report::{summary, write_report, ReportFormat};
use vigil_posture::{evaluate, EvalOptions, Mutes, ScanReport, Selection, Snapshot, Status};

use crate::cli::{AwsArgs, StoreArgs};
use crate::config::Config;

#[derive(Debug, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub store: StoreArgs,
    /// More regions to scan (repeatable; `all` for every enabled region). Default: --region.
    #[arg(long = "scan-region", value_name = "REGION")]
    pub regions: Vec<String>,
    /// Accounts to scan through --role (comma-separated or repeatable). Default: the caller's.
    #[arg(long, value_delimiter = ',')]
    pub accounts: Vec<String>,
    /// Also scan every active account of the organisation (organizations:ListAccounts).
    #[arg(long)]
    pub organization: bool,
    /// Evaluate a saved snapshot instead of calling AWS.
    #[arg(long, value_name = "FILE")]
    pub from_snapshot: Option<PathBuf>,
    /// Save the collected snapshot, to evaluate again later with --from-snapshot.
    #[arg(long, value_name = "FILE")]
    pub save_snapshot: Option<PathBuf>,
    /// Only these controls: ids (VIG-03), areas (identity_access...), or frameworks
    /// (cis, security-hub, ir-readiness), comma-separated.
    #[arg(long, default_value = "")]
    pub controls: String,
    /// Never these controls (same syntax).
    #[arg(long, default_value = "")]
    pub exclude: String,
    /// Output format: table, jsonl, asff, ocsf, csv, sarif, html.
    #[arg(long, default_value = "table")]
    pub format: String,
    /// Write the report here (default: standard output).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// At most this many AWS requests in flight.
    #[arg(long)]
    pub concurrency: Option<usize>,
    /// No progress on the terminal.
    #[arg(long)]
    pub no_progress: bool,
}

pub fn run(args: ScanArgs, config: &Config) -> anyhow::Result<u8> {
    let format: ReportFormat = args
        .format
        .parse()
        .map_err(|e: String| anyhow::anyhow!("--format: {e}"))?;
    let started = chrono::Utc::now();
    let snapshot = match &args.from_snapshot {
        Some(path) => Snapshot::load(path)?,
        None => super::runtime()?.block_on(collect_snapshot(&args, config))?,
    };
    if let Some(path) = &args.save_snapshot {
        snapshot.save(path)?;
        eprintln!("snapshot saved to {}", path.display());
    }
    let opts = EvalOptions {
        thresholds: config.scan.thresholds.clone(),
        readiness: config.scan.readiness.clone(),
        selection: Selection::parse(&args.controls, &args.exclude)
            .map_err(|e| anyhow::anyhow!("--controls/--exclude: {e}"))?,
        mutes: Mutes(config.scan.mutes.clone()),
        ..EvalOptions::default()
    };
    let results = evaluate(&snapshot, &opts);
    let report = ScanReport {
        started_at: if args.from_snapshot.is_some() {
            snapshot.collected_at
        } else {
            started
        },
        finished_at: chrono::Utc::now(),
        accounts: snapshot
            .accounts
            .iter()
            .map(|a| a.account_id.clone())
            .collect(),
        regions: snapshot.regions.clone(),
        results,
        api_calls: snapshot.api_calls,
        api_errors: snapshot.api_errors,
    };
    if let Some(path) = super::store_path(&args.store.resolve(config))? {
        let stored = store_failures(&path, &report)?;
        eprintln!(
            "store {}: {} failing results ({} new findings)",
            path.display(),
            stored.0,
            stored.1
        );
    }
    let failing = report
        .results
        .iter()
        .any(|r| r.status == Status::Fail && r.muted.is_none());
    match &args.output {
        Some(path) => {
            let mut file = std::io::BufWriter::new(
                std::fs::File::create(path)
                    .with_context(|| format!("creating {}", path.display()))?,
            );
            write_report(format, &report, &mut file)?;
            file.flush()?;
            eprint!("{}", summary(&report));
            eprintln!("report written to {}", path.display());
        }
        None => {
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            write_report(format, &report, &mut out)?;
            out.flush()?;
            if !matches!(format, ReportFormat::Table) {
                eprint!("{}", summary(&report));
            }
        }
    }
    Ok(if failing { 1 } else { 0 })
}

async fn collect_snapshot(args: &ScanArgs, config: &Config) -> anyhow::Result<Snapshot> {
    if !args.accounts.is_empty() && args.aws.role_name.is_none() && config.aws.role_name.is_none() {
        bail!("--accounts needs --role NAME (the role to assume in each account)");
    }
    let ctx = vigil_aws::AwsContext::load(args.aws.options(config, None)).await?;
    let opts = InventoryOptions {
        regions: args.regions.clone(),
        accounts: args.accounts.clone(),
        use_organization: args.organization,
        concurrency: args
            .concurrency
            .unwrap_or(config.scan.concurrency.unwrap_or(16)),
        services: None,
    };
    let show = !args.no_progress && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let progress = |event: ProgressEvent| {
        if !show {
            return;
        }
        match event {
            ProgressEvent::GroupFinished {
                account,
                region,
                service,
                calls,
                errors,
            } => eprintln!(
                "  {account} {region:<14} {service:<16} {calls:>4} calls {errors:>3} errors"
            ),
            ProgressEvent::AccountFailed { account, reason } => {
                eprintln!("  {account}: {reason}")
            }
            _ => {}
        }
    };
    let (snapshot, stats) = collect(&ctx, &opts, &progress).await?;
    eprintln!(
        "collected: {} API calls, {} errors",
        stats.api_calls, stats.api_errors
    );
    Ok(snapshot)
}

/// Writes every unmuted FAIL as a finding of kind `posture` (rule = control, key = resource),
/// so scan results sit beside detection findings and share their status, suppressions and
/// responses. A resource that fails the same control again maps to the same finding. Returns
/// (failing results, findings created).
fn store_failures(path: &std::path::Path, report: &ScanReport) -> anyhow::Result<(usize, usize)> {
    use vigil_findings::{Finding, RuleKind};
    use vigil_store::{FindingContribution, SqliteStore, Store};
    let at = report.finished_at.timestamp_millis();
    let mut batch = Vec::new();
    for result in &report.results {
        if result.status != Status::Fail || result.muted.is_some() {
            continue;
        }
        let Some(control) = vigil_posture::control(&result.control) else {
            continue;
        };
        let mut tags: Vec<String> = control
            .security_hub
            .iter()
            .map(|id| format!("securityhub.{id}"))
            .collect();
        if let Some(cis) = control.cis {
            tags.push(format!("cis.v3.{cis}"));
        }
        tags.push(format!("posture.{:?}", control.area).to_lowercase());
        let finding = Finding {
            id: Finding::stable_id(control.id, &result.resource.id, 0),
            rule_id: control.id.to_string(),
            rule_title: control.title.to_string(),
            rule_kind: RuleKind::Posture,
            description: format!("{} {}", result.reason, control.remediation),
            severity: control.severity,
            first_seen_ms: at,
            last_seen_ms: at,
            window_start_ms: 0,
            event_count: 1,
            dedup_key: result.resource.id.clone(),
            account: Some(result.resource.account.clone()),
            region: Some(result.resource.region.clone()),
            principal: None,
            resources: vec![result.resource.id.clone()],
            source_ips: Vec::new(),
            log_sources: Vec::new(),
            tags,
            runbook: control.remediation_action.map(str::to_string),
            intel: Vec::new(),
            samples: Vec::new(),
            status: vigil_findings::Status::New,
            history: Vec::new(),
        };
        batch.push(FindingContribution {
            // One input per control and resource: a later scan replaces the earlier one's
            // contribution instead of adding to it.
            input_key: format!("scan:{}:{}", control.id, result.resource.id),
            finding,
        });
    }
    let mut store =
        SqliteStore::open(path).with_context(|| format!("opening the store {}", path.display()))?;
    let upsert = store.upsert_findings(&batch)?;
    Ok((batch.len(), upsert.created))
}
