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
    /// Run each failing control's remediation action through the response engine (guard
    /// rails, approvals for production, the ledger); a dry run unless --execute.
    #[arg(long)]
    pub remediate: bool,
    /// With --remediate: make the changes.
    #[arg(long, requires = "remediate")]
    pub execute: bool,
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
    let store_path = super::store_path(&args.store.resolve(config))?;
    if let Some(path) = &store_path {
        let stored = store_failures(path, &report)?;
        eprintln!(
            "store {}: {} failing results ({} new findings)",
            path.display(),
            stored.0,
            stored.1
        );
    }
    if args.remediate {
        let Some(path) = &store_path else {
            bail!("--remediate records its runs in the store; --store none cannot");
        };
        super::runtime()?.block_on(remediate(&args, config, path, &report))?;
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

/// Plans (or, with --execute, runs) each failing control's remediation action as a
/// one-step playbook for the finding `store_failures` wrote, so it goes through the same
/// executor as every response: dry-run by default, guard rails, production approvals, and
/// the ledger. An action whose parameters cannot all be taken from the resource is listed
/// for a human instead.
async fn remediate(
    args: &ScanArgs,
    config: &Config,
    store_path: &std::path::Path,
    report: &ScanReport,
) -> anyhow::Result<()> {
    use vigil_respond::{Executor, Playbook, StartOptions};
    use vigil_store::{SqliteStore, Store};
    let responder = std::env::var("USER").unwrap_or_else(|_| "operator".into());
    let catalog = super::respond::catalog(&args.aws, config, None).await?;
    let vault = super::respond::open_default_vault(
        None,
        None,
        &StoreArgs {
            store: Some(store_path.display().to_string()),
        },
        &args.aws,
        config,
        &responder,
    )
    .await?;
    let sink = super::respond::VaultSink {
        vault: &vault,
        responder: responder.clone(),
    };
    let mut store = SqliteStore::open(store_path)?;
    for result in &report.results {
        if result.status != Status::Fail || result.muted.is_some() {
            continue;
        }
        let Some(control) = vigil_posture::control(&result.control) else {
            continue;
        };
        let Some(action_name) = control.remediation_action else {
            continue;
        };
        let Some(action) = catalog.get(action_name) else {
            continue;
        };
        let required: Vec<&str> = action
            .info()
            .params
            .iter()
            .filter(|p| p.required)
            .map(|p| p.name)
            .collect();
        let params = match required.as_slice() {
            [] => String::from("{}"),
            [one] => format!(
                "{{ {one}: {} }}",
                serde_json::to_string(&resource_name(&result.resource.id))?
            ),
            _ => {
                println!(
                    "{} {}: {action_name} needs {} — do it by hand: {}",
                    control.id,
                    result.resource.id,
                    required.join(", "),
                    control.remediation
                );
                continue;
            }
        };
        let yaml = format!(
            "id: remediate-{id}\ntitle: {title}\ndescription: Remediation of {id} by vigil scan.\n\
             steps:\n  - id: remediate\n    action: {action_name}\n    params: {params}\n",
            id = control.id.to_lowercase(),
            title = serde_json::to_string(&format!("Remediate {}: {}", control.id, control.title))?,
        );
        let playbook = Playbook::load(&yaml, &format!("remediation of {}", control.id), &catalog)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let finding_id = vigil_findings::Finding::stable_id(control.id, &result.resource.id, 0);
        let finding = store.get(&finding_id)?.with_context(|| {
            format!("finding {finding_id} of {} is not in the store", control.id)
        })?;
        let options = StartOptions {
            execute: args.execute,
            responder: responder.clone(),
            account: Some(result.resource.account.clone()),
            region: Some(result.resource.region.clone()),
            ..StartOptions::default()
        };
        let run = Executor::new(&catalog, &mut store, &config.respond, &sink)
            .start(&playbook, &serde_json::to_value(&finding)?, &options)
            .await?;
        println!(
            "{} {}: {action_name} {} (run {}{})",
            control.id,
            result.resource.id,
            run.status.as_str(),
            run.id,
            if run.execute { "" } else { ", dry run" }
        );
    }
    Ok(())
}

/// The name an action takes for a resource: the bucket of an S3 ARN, the id after the last
/// `/` (snapshot, image, key, trail, user) or `:` (RDS snapshot), or the text itself.
fn resource_name(id: &str) -> String {
    if let Some(bucket) = id.strip_prefix("arn:aws:s3:::") {
        return bucket.split('/').next().unwrap_or(bucket).to_string();
    }
    if !id.starts_with("arn:") {
        return id.to_string();
    }
    let resource = id.splitn(6, ':').nth(5).unwrap_or(id);
    resource
        .rsplit(['/', ':'])
        .next()
        .unwrap_or(resource)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::resource_name;

    #[test]
    fn resource_names_come_from_arns() {
        assert_eq!(resource_name("arn:aws:s3:::logs-bucket"), "logs-bucket");
        assert_eq!(
            resource_name("arn:aws:ec2:us-east-1:111122223333:snapshot/snap-0abc"),
            "snap-0abc"
        );
        assert_eq!(
            resource_name("arn:aws:rds:us-east-1:111122223333:snapshot:nightly"),
            "nightly"
        );
        assert_eq!(
            resource_name("arn:aws:iam::111122223333:user/ops/alice"),
            "alice"
        );
        assert_eq!(resource_name("sg-0123"), "sg-0123");
    }
}
