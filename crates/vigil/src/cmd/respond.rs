//! `vigil respond`, `vigil playbooks`, `vigil runbook render` and `vigil iam-policy`: the
//! response engine on the command line.
//!
//! Dry-run is the default everywhere: `plan`, and `run` without `--execute`, only read and
//! make `DryRun=true` calls. Captures go to the case's evidence vault; after each executing
//! command the run's ledger entries are added to the case too, so an exported bundle
//! carries what was done.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use clap::{Args, Subcommand};
use vigil_respond::action::{EvidenceItem, EvidenceSink};
use vigil_respond::{
    builtin_playbooks, iam_policy, render_runbook, Catalog, Executor, Playbook, ResponseStore, Run,
    RunFilter, StartOptions,
};
use vigil_store::{SqliteStore, Store};
use vigil_vault::{Actor, NewItem, SigningKeyPair, Source, Vault, VaultLocation};

use crate::cli::{AwsArgs, StoreArgs};
use crate::config::Config;

#[derive(Debug, Args)]
pub struct RespondArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Output: `table` (default) or `jsonl`.
    #[arg(long, global = true, default_value = "table")]
    pub format: String,
    /// The evidence vault for captures (default: as `vigil evidence`).
    #[arg(long, global = true, env = "VIGIL_VAULT")]
    pub vault: Option<String>,
    /// The vault's signing key (default: as `vigil evidence`).
    #[arg(long, global = true)]
    pub key: Option<PathBuf>,
    /// The operator (default: $USER).
    #[arg(long, global = true)]
    pub responder: Option<String>,
    #[command(subcommand)]
    pub command: RespondCommand,
}

/// Which playbook, for which case.
#[derive(Debug, Args)]
pub struct Target {
    /// The finding to respond to (its id in the store).
    pub finding_id: String,
    /// A built-in playbook id, or a playbook file (default: the first playbook whose
    /// triggers match the finding).
    #[arg(long)]
    pub playbook: Option<String>,
    /// The case (default: `case-<finding id>`).
    #[arg(long)]
    pub case: Option<String>,
    /// Act in this account (default: the finding's).
    #[arg(long)]
    pub account: Option<String>,
    /// Act in this region (default: the finding's).
    #[arg(long = "target-region")]
    pub target_region: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum RespondCommand {
    /// Show the API calls a playbook would make for a finding; changes nothing.
    Plan(Target),
    /// Run a playbook for a finding: without --execute this is a plan.
    Run {
        #[command(flatten)]
        target: Target,
        /// Make the changes.
        #[arg(long)]
        execute: bool,
    },
    /// Each step's state of a run.
    Status { run_id: String },
    /// Continue a stopped run (after a failure, an approval or a crash).
    Resume { run_id: String },
    /// Approve the step a run waits on, and continue.
    Approve {
        run_id: String,
        #[arg(long)]
        by: String,
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Deny the step a run waits on; the run stops.
    Deny {
        run_id: String,
        #[arg(long)]
        by: String,
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// List runs.
    List {
        #[arg(long)]
        case: Option<String>,
        #[arg(long)]
        finding: Option<String>,
    },
    /// Check the action ledger's hash chain; exit 1 when it is broken.
    VerifyLedger,
}

pub fn run(args: RespondArgs, config: &Config) -> anyhow::Result<u8> {
    super::runtime()?.block_on(run_async(args, config))
}

/// The catalog of real actions; building it makes no AWS call.
pub async fn catalog(
    aws: &AwsArgs,
    config: &Config,
    case: Option<&str>,
) -> anyhow::Result<Catalog> {
    let ctx = vigil_aws::AwsContext::load(aws.options(config, case)).await?;
    Ok(vigil_actions::catalog(ctx, config.actions.options()))
}

/// AWS options for commands that only describe actions: a fixed region, so building the
/// catalog never probes instance metadata for one.
fn offline() -> AwsArgs {
    AwsArgs {
        region: Some(vigil_aws::DEFAULT_REGION.to_string()),
        ..AwsArgs::default()
    }
}

/// Built-in playbooks and those of the configuration's `[respond] playbooks` directories.
/// The configured playbooks, then the built-in ones, in the order a finding's playbook is
/// looked for: a configured playbook is preferred to a built-in whose triggers overlap, and
/// one with a built-in's id replaces it (copy a built-in, change it, configure it). Two
/// configured playbooks with one id are an error naming both files.
pub fn playbooks(catalog: &Catalog, config: &Config) -> anyhow::Result<Vec<Playbook>> {
    let mut all: Vec<Playbook> = Vec::new();
    for dir in &config.playbooks {
        for path in yaml_files(dir)? {
            let playbook = load_playbook_file(&path, catalog)?;
            if let Some(first) = all.iter().find(|p| p.id == playbook.id) {
                bail!(
                    "two playbooks have the id `{}`: {} and {}",
                    playbook.id,
                    first.origin,
                    playbook.origin
                );
            }
            all.push(playbook);
        }
    }
    for builtin in builtin_playbooks(catalog).map_err(|e| anyhow!("built-in playbooks:\n{e}"))? {
        match all.iter().find(|p| p.id == builtin.id) {
            Some(replacement) => tracing::info!(
                "playbook {} from {} replaces the built-in one",
                builtin.id,
                replacement.origin
            ),
            None => all.push(builtin),
        }
    }
    Ok(all)
}

fn yaml_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if dir.is_file() {
        return Ok(vec![dir.to_path_buf()]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading the playbook directory {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yml" | "yaml")))
        .collect();
    files.sort();
    Ok(files)
}

fn load_playbook_file(path: &Path, catalog: &Catalog) -> anyhow::Result<Playbook> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Playbook::load(&text, &path.display().to_string(), catalog).map_err(|e| anyhow!("{e}"))
}

/// A playbook by id among `all`, or from a file.
pub fn find_playbook(
    wanted: &str,
    all: &[Playbook],
    catalog: &Catalog,
) -> anyhow::Result<Playbook> {
    if let Some(p) = all.iter().find(|p| p.id == wanted) {
        return Ok(p.clone());
    }
    let path = Path::new(wanted);
    if path.is_file() {
        return load_playbook_file(path, catalog);
    }
    let ids: Vec<&str> = all.iter().map(|p| p.id.as_str()).collect();
    bail!("no playbook `{wanted}`; known: {}", ids.join(", "))
}

async fn run_async(args: RespondArgs, config: &Config) -> anyhow::Result<u8> {
    let store_path = super::store_path(&args.store.resolve(config))?
        .context("`vigil respond` needs a store; --store none cannot hold runs")?;
    let mut store = SqliteStore::open(&store_path)
        .with_context(|| format!("opening the store {}", store_path.display()))?;
    let responder = args
        .responder
        .clone()
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "operator".into());
    let case_hint = match &args.command {
        RespondCommand::Plan(t) | RespondCommand::Run { target: t, .. } => Some(
            t.case
                .clone()
                .unwrap_or_else(|| format!("case-{}", t.finding_id)),
        ),
        _ => None,
    };
    let catalog = catalog(&args.aws, config, case_hint.as_deref()).await?;
    let respond_config = &config.respond;
    let jsonl = match args.format.as_str() {
        "table" => false,
        "jsonl" => true,
        other => bail!("--format {other}: expected table or jsonl"),
    };
    let vault = open_vault(&args, config, &responder).await?;
    let sink = VaultSink {
        vault: &vault,
        responder: responder.clone(),
    };

    let run = match &args.command {
        RespondCommand::Plan(target) | RespondCommand::Run { target, .. } => {
            let execute = matches!(args.command, RespondCommand::Run { execute: true, .. });
            let finding = store
                .get(&target.finding_id)?
                .with_context(|| format!("no finding `{}` in the store", target.finding_id))?;
            let finding_json = serde_json::to_value(&finding)?;
            let all = playbooks(&catalog, config)?;
            let playbook = match &target.playbook {
                Some(wanted) => find_playbook(wanted, &all, &catalog)?,
                None => all
                    .iter()
                    .find(|p| p.matches(&finding_json))
                    .cloned()
                    .with_context(|| {
                        format!(
                            "no playbook's triggers match finding {} (rule {}); choose one with --playbook",
                            finding.id, finding.rule_id
                        )
                    })?,
            };
            let options = StartOptions {
                execute,
                responder: responder.clone(),
                case_id: target.case.clone(),
                run_id: None,
                account: target.account.clone(),
                region: target.target_region.clone(),
            };
            let mut executor = Executor::new(&catalog, &mut store, respond_config, &sink);
            executor.start(&playbook, &finding_json, &options).await?
        }
        RespondCommand::Status { run_id } => {
            Executor::new(&catalog, &mut store, respond_config, &sink).status(run_id)?
        }
        RespondCommand::Resume { run_id } => {
            Executor::new(&catalog, &mut store, respond_config, &sink)
                .resume(run_id, &responder)
                .await?
        }
        RespondCommand::Approve { run_id, by, reason } => {
            Executor::new(&catalog, &mut store, respond_config, &sink)
                .approve(run_id, by, reason)
                .await?
        }
        RespondCommand::Deny { run_id, by, reason } => {
            Executor::new(&catalog, &mut store, respond_config, &sink)
                .deny(run_id, by, reason)
                .await?
        }
        RespondCommand::List { case, finding } => {
            let runs =
                Executor::new(&catalog, &mut store, respond_config, &sink).runs(&RunFilter {
                    case_id: case.clone(),
                    finding_id: finding.clone(),
                    ..RunFilter::default()
                })?;
            for run in &runs {
                if jsonl {
                    println!("{}", serde_json::to_string(run)?);
                } else {
                    println!(
                        "{:<28} {:<18} {:<36} {:<28} {}",
                        run.id,
                        run.status.as_str(),
                        run.playbook_id,
                        run.case_id,
                        run.updated_at
                    );
                }
            }
            return Ok(0);
        }
        RespondCommand::VerifyLedger => {
            let check = vigil_respond::verify_ledger(&store)?;
            println!("{}", serde_json::to_string_pretty(&check)?);
            return Ok(if check.first_broken.is_none() { 0 } else { 1 });
        }
    };
    if run.execute {
        let ledger = record_ledger(&store, &vault, &run, &responder).await?;
        store.link_evidence(
            &run.case_id,
            &ledger,
            &format!("ledger of run {}", run.id),
            Some(&run.id),
        )?;
    }
    link_run_evidence(&mut store, &vault, &run).await?;
    if jsonl {
        println!("{}", serde_json::to_string(&run)?);
    } else {
        print_run(&run);
    }
    // A run that failed or was denied is not a clean outcome.
    Ok(match run.status.as_str() {
        "failed" | "denied" => 1,
        _ => 0,
    })
}

async fn open_vault(args: &RespondArgs, config: &Config, responder: &str) -> anyhow::Result<Vault> {
    open_default_vault(
        args.vault.clone(),
        args.key.clone(),
        &args.store,
        &args.aws,
        config,
        responder,
    )
    .await
}

/// The evidence vault as `vigil evidence` would open it, with its signing key (created, with
/// a note on stderr, when there is none yet).
pub async fn open_default_vault(
    vault: Option<String>,
    key: Option<PathBuf>,
    store: &StoreArgs,
    aws: &AwsArgs,
    config: &Config,
    responder: &str,
) -> anyhow::Result<Vault> {
    let ev = super::evidence::EvidenceArgs {
        vault,
        key,
        store: store.clone(),
        aws: aws.clone(),
        command: super::evidence::EvidenceCommand::List { case: None },
    };
    let location: VaultLocation = super::evidence::vault_location(&ev, config)?.parse()?;
    let aws_ctx = match &location {
        VaultLocation::S3 { .. } => {
            Some(vigil_aws::AwsContext::load(aws.options(config, None)).await?)
        }
        VaultLocation::Local(_) => None,
    };
    let backend =
        vigil_vault::open_backend(&location, aws_ctx.as_ref(), &config.evidence.s3).await?;
    let key_path = super::evidence::key_path(&ev, config)?;
    // Idempotent: uses the key (creating it when missing) and prepares the vault when it is
    // new; refuses a vault that belongs to another key.
    let outcome = Vault::init(backend.as_ref(), &key_path).await?;
    if outcome.created_key || outcome.created_vault {
        eprintln!(
            "vigil: prepared the evidence vault {} with the signing key {}{} (key id {})",
            outcome.location,
            key_path.display(),
            if outcome.created_key { ", created" } else { "" },
            outcome.key_id
        );
    }
    let signer = SigningKeyPair::load(&key_path)?;
    Ok(Vault::open(
        backend,
        Some(signer),
        Actor {
            operator: responder.to_string(),
            principal: None,
        },
    )
    .await?)
}

/// Links every item the run's steps stored in the vault to the run's case in the store.
async fn link_run_evidence(
    store: &mut SqliteStore,
    vault: &Vault,
    run: &Run,
) -> anyhow::Result<()> {
    for step in &run.steps {
        for sha in step.report.iter().flat_map(|r| &r.evidence) {
            let name = match vault.item(&run.case_id, sha).await {
                Ok(item) => item.record.name,
                Err(_) => format!("step {} of run {}", step.id, run.id),
            };
            store.link_evidence(&run.case_id, sha, &name, Some(&run.id))?;
        }
    }
    Ok(())
}

/// Captures go to the vault, with the responder as operator.
pub struct VaultSink<'a> {
    pub vault: &'a Vault,
    pub responder: String,
}

impl EvidenceSink for VaultSink<'_> {
    fn put(&self, item: EvidenceItem) -> Result<String, String> {
        self.vault
            .store_capture_blocking(NewItem {
                case_id: item.case_id,
                name: item.name,
                media_type: item.media_type,
                bytes: item.bytes,
                source: Source {
                    arn: item.source,
                    account: item.account,
                    region: item.region,
                },
                method: item.method,
                collected_by: None,
                operator: Some(self.responder.clone()),
                collected_at: None,
            })
            .map_err(|e| e.to_string())
    }
}

/// Adds the run's ledger entries (JSON Lines) to its case, so the case bundle carries them.
async fn record_ledger(
    store: &SqliteStore,
    vault: &Vault,
    run: &Run,
    responder: &str,
) -> anyhow::Result<String> {
    let entries = store.ledger(Some(&run.id))?;
    let mut bytes = Vec::new();
    for entry in &entries {
        serde_json::to_writer(&mut bytes, entry)?;
        bytes.push(b'\n');
    }
    let added = vault
        .add(NewItem {
            case_id: run.case_id.clone(),
            name: format!("ledger-{}-{}.jsonl", run.id, entries.len()),
            media_type: "application/x-ndjson".into(),
            bytes,
            source: Source::default(),
            method: format!(
                "vigil action ledger of run {} ({})",
                run.id, run.playbook_id
            ),
            collected_by: None,
            operator: Some(responder.to_string()),
            collected_at: None,
        })
        .await?;
    Ok(added.sha256)
}

fn print_run(run: &Run) {
    println!(
        "run {}  {}  playbook {}  case {}  {}",
        run.id,
        run.status.as_str(),
        run.playbook_id,
        run.case_id,
        if run.execute { "EXECUTE" } else { "DRY-RUN" }
    );
    if let Some(error) = &run.error {
        println!("  error: {error}");
    }
    for step in &run.steps {
        let action = step.action.as_deref().unwrap_or("(decision)");
        println!("  {:<16} {:<34} {}", step.status.as_str(), action, step.id);
        if let Some(branch) = &step.branch {
            println!("      branch: {branch}");
        }
        if let Some(error) = &step.error {
            println!("      error: {error}");
        }
        if let Some(report) = &step.report {
            for call in &report.calls {
                let mark = if call.made {
                    "made"
                } else if call.dry_run_checked {
                    "dry-run ok"
                } else {
                    "planned"
                };
                println!(
                    "      {:<10} {}:{} {}{}",
                    mark,
                    call.service,
                    call.operation,
                    call.params,
                    call.request_id
                        .as_deref()
                        .map(|r| format!(" (request {r})"))
                        .unwrap_or_default()
                );
            }
            if let Some(note) = &report.note {
                println!("      note: {note}");
            }
        }
    }
    if let Some(step) = run.awaiting_step() {
        // What the approver is asked to allow: the action and its rendered parameters.
        println!(
            "  waiting for approval of step {} ({}):",
            step.id,
            step.action.as_deref().unwrap_or("?")
        );
        if let Some(serde_json::Value::Object(params)) = &step.params {
            for (name, value) in params {
                println!("      {name}: {value}");
            }
        }
        println!(
            "  approve: vigil respond approve {} --by NAME   (or deny)",
            run.id
        );
    }
}

/// `vigil runbook render` (and, below, `vigil actions`, `vigil iam-policy`, `vigil playbooks`).
#[derive(Debug, Args)]
pub struct RunbookArgs {
    /// A playbook id or file; with --all, every playbook.
    pub playbook: Option<String>,
    /// Render every playbook into this directory, one `<id>.md` each.
    #[arg(long, value_name = "DIR")]
    pub all: Option<PathBuf>,
    /// Output file (default: standard output).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

pub fn runbook(args: RunbookArgs, config: &Config) -> anyhow::Result<u8> {
    let catalog = super::runtime()?.block_on(catalog(&offline(), config, None))?;
    let all = playbooks(&catalog, config)?;
    if let Some(dir) = &args.all {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        for p in &all {
            let path = dir.join(format!("{}.md", p.id));
            std::fs::write(&path, render_runbook(p, &catalog))
                .with_context(|| format!("writing {}", path.display()))?;
            println!("{}", path.display());
        }
        return Ok(0);
    }
    let Some(wanted) = &args.playbook else {
        bail!("name a playbook (id or file), or give --all DIR");
    };
    let playbook = find_playbook(wanted, &all, &catalog)?;
    let text = render_runbook(&playbook, &catalog);
    match &args.output {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?
        }
        None => print!("{text}"),
    }
    Ok(0)
}

#[derive(Debug, Args)]
pub struct IamPolicyArgs {
    /// Only these playbooks (ids or files; repeatable). Default: every playbook.
    #[arg(long = "playbook")]
    pub playbooks: Vec<String>,
}

pub fn iam(args: IamPolicyArgs, config: &Config) -> anyhow::Result<u8> {
    let catalog = super::runtime()?.block_on(catalog(&offline(), config, None))?;
    let all = playbooks(&catalog, config)?;
    let chosen: Vec<Playbook> = if args.playbooks.is_empty() {
        all
    } else {
        args.playbooks
            .iter()
            .map(|w| find_playbook(w, &all, &catalog))
            .collect::<anyhow::Result<_>>()?
    };
    let refs: Vec<&Playbook> = chosen.iter().collect();
    println!(
        "{}",
        serde_json::to_string_pretty(&iam_policy(&catalog, &refs))?
    );
    Ok(0)
}

/// `vigil actions [NAME] [--markdown]`.
#[derive(Debug, Args)]
pub struct ActionsArgs {
    /// One action (e.g. `ec2.isolate_instance`): its parameters, dry-run behaviour, IAM
    /// permissions and a playbook step using it.
    pub name: Option<String>,
    /// The whole catalog as Markdown (docs/actions.md is this output).
    #[arg(long, conflicts_with = "name")]
    pub markdown: bool,
}

pub fn actions(args: ActionsArgs, config: &Config) -> anyhow::Result<u8> {
    let catalog = super::runtime()?.block_on(catalog(&offline(), config, None))?;
    if args.markdown {
        print!("{}", vigil_respond::render_action_reference(&catalog));
        return Ok(0);
    }
    match &args.name {
        None => print!("{}", vigil_respond::render_action_list(&catalog)),
        Some(name) => {
            let action = catalog
                .get(name)
                .with_context(|| format!("no action `{name}`: `vigil actions` lists them"))?;
            print!("{}", vigil_respond::render_action(action.as_ref()));
        }
    }
    Ok(0)
}

pub fn list_playbooks(config: &Config) -> anyhow::Result<u8> {
    let catalog = super::runtime()?.block_on(catalog(&offline(), config, None))?;
    for p in playbooks(&catalog, config)? {
        println!("{:<36} {}", p.id, p.title);
    }
    Ok(0)
}

/// `vigil case CASE`: what the store links to a case — the findings it answers, the response
/// runs, and the evidence items in the vault.
pub fn case(case_id: &str, store: &StoreArgs, config: &Config, json: bool) -> anyhow::Result<u8> {
    let path = super::store_path(&store.resolve(config))?
        .context("`vigil case` reads the store; --store none has nothing to show")?;
    let store = SqliteStore::open(&path)
        .with_context(|| format!("opening the store {}", path.display()))?;
    let runs = store.list_runs(&RunFilter {
        case_id: Some(case_id.to_string()),
        ..RunFilter::default()
    })?;
    let mut finding_ids: Vec<String> = runs.iter().filter_map(|r| r.finding_id.clone()).collect();
    finding_ids.sort();
    finding_ids.dedup();
    let findings: Vec<_> = finding_ids
        .iter()
        .filter_map(|id| store.get(id).ok().flatten())
        .collect();
    let evidence = store.case_evidence(case_id)?;
    if runs.is_empty() && evidence.is_empty() {
        bail!(
            "no runs or evidence for case `{case_id}` in {}",
            path.display()
        );
    }
    if json {
        let value = serde_json::json!({
            "case": case_id,
            "findings": findings.iter().map(|f| serde_json::json!({
                "id": f.id, "rule_id": f.rule_id, "title": f.rule_title,
                "severity": f.severity.label, "status": f.status,
            })).collect::<Vec<_>>(),
            "runs": runs.iter().map(|r| serde_json::json!({
                "id": r.id, "playbook": r.playbook_id, "status": r.status,
                "execute": r.execute, "responder": r.responder,
            })).collect::<Vec<_>>(),
            "evidence": evidence,
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(0);
    }
    println!("case {case_id}");
    println!("  findings:");
    for f in &findings {
        println!(
            "    {}  {:<13} {}  {}",
            f.id,
            format!("{:?}", f.severity.label),
            f.rule_title,
            f.rule_id
        );
    }
    println!("  response runs:");
    for r in &runs {
        println!(
            "    {}  {:<22} {:<32} {}",
            r.id,
            r.status,
            r.playbook_id,
            if r.execute { "execute" } else { "dry run" }
        );
    }
    println!("  evidence (vault items):");
    for e in &evidence {
        println!(
            "    sha256:{}  {}{}",
            e.sha256,
            e.name,
            e.run_id
                .as_deref()
                .map(|r| format!("  (run {r})"))
                .unwrap_or_default()
        );
    }
    Ok(0)
}
