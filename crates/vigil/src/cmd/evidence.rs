//! `vigil evidence`: the signed, hash-chained, write-once evidence vault.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use vigil_vault::{
    open_backend, Actor, NewItem, PublicKey, SigningKeyPair, Source, Vault, VaultLocation,
    VerifyOptions,
};

use crate::cli::{AwsArgs, StoreArgs};
use crate::config::Config;

/// Options shared by every `vigil evidence` command.
#[derive(Debug, Args)]
pub struct EvidenceArgs {
    /// The vault: a directory, or `s3://bucket/prefix` for a bucket with Object Lock
    /// (default: the configuration's `[evidence] vault`, else `evidence/` beside the store).
    #[arg(
        long,
        global = true,
        env = "VIGIL_VAULT",
        value_name = "DIR|s3://BUCKET/PREFIX"
    )]
    pub vault: Option<String>,
    /// The vault's Ed25519 private key (default: the configuration's `[evidence] key`, else
    /// $VIGIL_EVIDENCE_KEY, else ~/.config/vigil/evidence-signing.key). Kept out of the vault.
    #[arg(long, global = true, value_name = "FILE")]
    pub key: Option<PathBuf>,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(subcommand)]
    pub command: EvidenceCommand,
}

#[derive(Debug, Subcommand)]
pub enum EvidenceCommand {
    /// Create the signing key (unless it exists) and prepare the vault.
    Init {
        /// Also write the public key here, to hand to whoever will verify.
        #[arg(long, value_name = "FILE")]
        public_key_out: Option<PathBuf>,
    },
    /// Add a file (or `-` for standard input) to a case.
    Add {
        case: String,
        #[arg(value_name = "FILE|-")]
        file: String,
        /// Item name (default: the file name).
        #[arg(long)]
        name: Option<String>,
        /// Media type (default: guessed from the name).
        #[arg(long)]
        media_type: Option<String>,
        /// ARN (or id) of the resource it came from.
        #[arg(long)]
        source_arn: Option<String>,
        /// AWS account it came from.
        #[arg(long)]
        account: Option<String>,
        /// AWS region it came from.
        #[arg(long = "source-region")]
        source_region: Option<String>,
        /// How it was collected.
        #[arg(long, default_value = "added by hand with vigil evidence add")]
        method: String,
        /// The AWS principal that collected it.
        #[arg(long)]
        collected_by: Option<String>,
    },
    /// List the cases, or the items of one case.
    List { case: Option<String> },
    /// Show a case's manifest and custody, or one item.
    Show { case: String, item: Option<String> },
    /// Write an item's bytes (checked against its hash) to a file or standard output.
    Get {
        case: String,
        item: String,
        /// Output file (default: standard output).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Verify one case, every case, or an exported bundle; exit 1 when anything is wrong.
    Verify {
        case: Option<String>,
        /// Verify this exported bundle offline instead of the vault.
        #[arg(long, value_name = "FILE")]
        bundle: Option<PathBuf>,
        /// Trust this public key instead of the one stored with the vault or bundle.
        #[arg(long, value_name = "FILE")]
        public_key: Option<PathBuf>,
    },
    /// Collect the CloudTrail events of a principal, an access key, a resource or an IP over
    /// a time window into one evidence item (with the query that produced it): from local
    /// log files (--logs), from a CloudTrail S3 bucket's account/region/date layout
    /// (--bucket), or else from CloudTrail LookupEvents.
    Collect {
        case: String,
        /// Events of this principal (user, role or assumed-role ARN).
        #[arg(long)]
        principal: Option<String>,
        /// Events made with this access key.
        #[arg(long)]
        access_key: Option<String>,
        /// Events touching this resource (name or ARN).
        #[arg(long)]
        resource: Option<String>,
        /// Events from this IP address or CIDR.
        #[arg(long)]
        ip: Option<String>,
        /// Start of the window (RFC 3339 or YYYY-MM-DD).
        #[arg(long)]
        start: String,
        /// End of the window (default: now).
        #[arg(long)]
        end: Option<String>,
        /// A directory of CloudTrail log files (plain or .json.gz).
        #[arg(long, value_name = "DIR", conflicts_with = "bucket")]
        logs: Option<PathBuf>,
        /// A CloudTrail S3 bucket: the log files of the window are copied, then filtered.
        #[arg(long)]
        bucket: Option<String>,
        /// The trail's S3 key prefix (with --bucket).
        #[arg(long)]
        prefix: Option<String>,
        /// Organisation id of an organisation trail (with --bucket).
        #[arg(long)]
        org_id: Option<String>,
        /// Only this account's files (with --bucket).
        #[arg(long)]
        account: Option<String>,
        /// Only this region's files (with --bucket).
        #[arg(long = "trail-region")]
        trail_region: Option<String>,
        /// Most events kept (the newest).
        #[arg(long, default_value_t = 10_000)]
        max_events: u64,
    },
    /// Export a case as one archive: items, manifest, chain, signatures, public key.
    Export {
        case: String,
        /// Output archive (default: `<case>.tar.gz`).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
}

pub fn run(args: EvidenceArgs, config: &Config) -> anyhow::Result<u8> {
    // Offline bundle verification needs neither the vault nor AWS.
    if let EvidenceCommand::Verify {
        bundle: Some(bundle),
        public_key,
        ..
    } = &args.command
    {
        let trusted = public_key.as_deref().map(PublicKey::load).transpose()?;
        let report = vigil_vault::verify_bundle(bundle, trusted.as_ref())?;
        print!("{report}");
        return Ok(if report.is_ok() { 0 } else { 1 });
    }
    super::runtime()?.block_on(run_async(args, config))
}

async fn run_async(args: EvidenceArgs, config: &Config) -> anyhow::Result<u8> {
    let location: VaultLocation = vault_location(&args, config)?.parse().context("--vault")?;
    let aws = match &location {
        VaultLocation::S3 { .. } => Some(
            vigil_aws::AwsContext::load(args.aws.options(config, None))
                .await
                .context("AWS access for the S3 vault")?,
        ),
        VaultLocation::Local(_) => None,
    };
    let backend = open_backend(&location, aws.as_ref(), &config.evidence.s3).await?;
    let key_path = key_path(&args, config)?;
    if let EvidenceCommand::Init { public_key_out } = &args.command {
        let outcome = Vault::init(backend.as_ref(), &key_path).await?;
        println!(
            "vault {} ready; signing key {} ({}), key id {}",
            outcome.location,
            key_path.display(),
            if outcome.created_key {
                "created"
            } else {
                "existing"
            },
            outcome.key_id
        );
        if let Some(out) = public_key_out {
            std::fs::write(out, &outcome.public_key_pem)
                .with_context(|| format!("writing the public key to {}", out.display()))?;
            println!("public key written to {}", out.display());
        }
        return Ok(0);
    }
    let signer = if key_path.is_file() {
        Some(SigningKeyPair::load(&key_path)?)
    } else {
        None
    };
    let needs_key = matches!(
        args.command,
        EvidenceCommand::Add { .. } | EvidenceCommand::Collect { .. }
    );
    if needs_key && signer.is_none() {
        bail!(
            "no signing key at {}: run `vigil evidence init` first, or pass --key",
            key_path.display()
        );
    }
    let vault = Vault::open(backend, signer, Actor::from_env()).await?;
    match args.command {
        EvidenceCommand::Init { .. } => unreachable!("handled above"),
        EvidenceCommand::Add {
            case,
            file,
            name,
            media_type,
            source_arn,
            account,
            source_region,
            method,
            collected_by,
        } => {
            let (bytes, default_name) = read_input(&file)?;
            let name = name.unwrap_or(default_name);
            let media_type = media_type.unwrap_or_else(|| guess_media_type(&name).to_string());
            let outcome = vault
                .add(NewItem {
                    case_id: case.clone(),
                    name: name.clone(),
                    media_type,
                    bytes,
                    source: Source {
                        arn: source_arn,
                        account,
                        region: source_region,
                    },
                    method,
                    collected_by,
                    operator: None,
                    collected_at: None,
                })
                .await?;
            link(&args.store, config, &case, &outcome.sha256, &name)?;
            if outcome.duplicate {
                println!(
                    "{case}: {name} already held as sha256:{}; recorded another collection (entry {})",
                    outcome.sha256, outcome.seq
                );
            } else {
                println!(
                    "{case}: added {name} as sha256:{} (entry {})",
                    outcome.sha256, outcome.seq
                );
            }
            Ok(0)
        }
        EvidenceCommand::List { case: None } => {
            let cases = vault.cases().await?;
            if cases.is_empty() {
                println!("no cases in {}", vault.location());
            }
            for c in cases {
                println!(
                    "{:<32} {:>5} items {:>12} bytes {:>6} entries  last {}",
                    c.case.as_str(),
                    c.items,
                    c.bytes,
                    c.entries,
                    c.last_entry_at
                        .map(|t| t.to_rfc3339())
                        .unwrap_or_else(|| "-".into())
                );
            }
            Ok(0)
        }
        EvidenceCommand::List { case: Some(case) } | EvidenceCommand::Show { case, item: None } => {
            print!("{}", vault.manifest(&case).await?);
            Ok(0)
        }
        EvidenceCommand::Show {
            case,
            item: Some(item),
        } => {
            print!("{}", vault.item(&case, &item).await?);
            Ok(0)
        }
        EvidenceCommand::Get { case, item, output } => {
            let got = vault.get(&case, &item).await?;
            match output {
                Some(path) => {
                    std::fs::write(&path, &got.bytes)
                        .with_context(|| format!("writing {}", path.display()))?;
                    eprintln!(
                        "wrote {} ({} bytes, sha256 verified)",
                        path.display(),
                        got.bytes.len()
                    );
                }
                None => std::io::stdout()
                    .write_all(&got.bytes)
                    .context("writing to standard output")?,
            }
            Ok(0)
        }
        EvidenceCommand::Verify {
            case, public_key, ..
        } => {
            let options = VerifyOptions {
                trusted_key: public_key.as_deref().map(PublicKey::load).transpose()?,
                record_custody: vault.can_sign(),
            };
            let ok = match case {
                Some(case) => {
                    let report = vault.verify_case(&case, &options).await?;
                    print!("{report}");
                    report.is_ok()
                }
                None => {
                    let report = vault.verify_all(&options).await?;
                    print!("{report}");
                    report.is_ok()
                }
            };
            Ok(if ok { 0 } else { 1 })
        }
        EvidenceCommand::Collect {
            case,
            principal,
            access_key,
            resource,
            ip,
            start,
            end,
            logs,
            bucket,
            prefix,
            org_id,
            account,
            trail_region,
            max_events,
        } => {
            let time = |t: &str, what: &str| -> anyhow::Result<String> {
                Ok(vigil_trail::parse_time(t)
                    .with_context(|| format!("--{what}"))?
                    .to_rfc3339())
            };
            let mut params = serde_json::Map::new();
            let mut put = |k: &str, v: Option<String>| {
                if let Some(v) = v {
                    params.insert(k.to_string(), serde_json::Value::String(v));
                }
            };
            put("principal_arn", principal);
            put("access_key_id", access_key);
            put("resource", resource);
            put("source_ip", ip);
            put("start", Some(time(&start, "start")?));
            put("end", end.as_deref().map(|e| time(e, "end")).transpose()?);
            // A bucket is copied (with vigil-trail's fetch, which knows the layout) to a
            // temporary directory for the window, then read like local logs.
            let copy = tempfile::tempdir().context("creating a temporary directory")?;
            let logs_dir = match (&logs, &bucket) {
                (Some(dir), _) => Some(dir.clone()),
                (None, Some(bucket)) => {
                    let ctx =
                        vigil_aws::AwsContext::load(args.aws.options(config, Some(&case))).await?;
                    let source = vigil_trail::S3Source::connect(&ctx, bucket).await?;
                    let opts = vigil_trail::VerifyOptions {
                        location: vigil_trail::TrailLocation {
                            prefix: prefix.clone(),
                            org_id: org_id.clone(),
                            account: account.clone(),
                            region: trail_region.clone(),
                            trail_name: None,
                        },
                        start: Some(vigil_trail::parse_time(&start)?),
                        end: end.as_deref().map(vigil_trail::parse_time).transpose()?,
                    }
                    .validated()?;
                    let report = vigil_trail::fetch(&source, &opts, copy.path()).await?;
                    eprintln!("copied {} log files from s3://{bucket}", report.logs);
                    Some(copy.path().to_path_buf())
                }
                (None, None) => None,
            };
            put("logs_dir", logs_dir.map(|d| d.display().to_string()));
            params.insert("max_events".into(), serde_json::Value::from(max_events));
            let ctx = vigil_aws::AwsContext::load(args.aws.options(config, Some(&case))).await?;
            let catalog = vigil_actions::catalog(ctx, config.actions.options());
            let action = catalog
                .get("cloudtrail.collect_activity")
                .context("the catalog has no cloudtrail.collect_activity")?;
            let guard = vigil_respond::RunGuard::new(&config.respond, Default::default());
            let operator = Actor::from_env().operator;
            let sink = super::respond::VaultSink {
                vault: &vault,
                responder: operator.clone(),
            };
            let env = vigil_respond::action::StepEnv {
                run_id: "evidence-collect",
                case_id: &case,
                responder: &operator,
                account: None,
                region: None,
                execute: true,
                guard: &guard,
                evidence: &sink,
                now: chrono::Utc::now(),
            };
            let report = action
                .run(&env, &params)
                .await
                .map_err(|e| anyhow::anyhow!("collecting CloudTrail activity: {e}"))?;
            for sha in &report.evidence {
                link(
                    &args.store,
                    config,
                    &case,
                    sha,
                    "CloudTrail activity (vigil evidence collect)",
                )?;
                println!("{case}: collected sha256:{sha}");
            }
            if let Some(note) = &report.note {
                println!("{note}");
            }
            if report.evidence.is_empty() {
                bail!("nothing was stored");
            }
            Ok(0)
        }
        EvidenceCommand::Export { case, output } => {
            let out = output.unwrap_or_else(|| PathBuf::from(format!("{case}.tar.gz")));
            let outcome = vault.export(&case, &out).await?;
            println!(
                "exported {case}: {} items, {} entries to {}",
                outcome.items,
                outcome.entries,
                outcome.path.display()
            );
            Ok(0)
        }
    }
}

/// Links an item to its case in the store (unless `--store none`).
fn link(
    store: &StoreArgs,
    config: &Config,
    case: &str,
    sha: &str,
    name: &str,
) -> anyhow::Result<()> {
    if let Some(path) = super::store_path(&store.resolve(config))? {
        vigil_store::SqliteStore::open(&path)?.link_evidence(case, sha, name, None)?;
    }
    Ok(())
}

/// `--vault`, else the configuration's, else `evidence/` beside the store.
pub fn vault_location(args: &EvidenceArgs, config: &Config) -> anyhow::Result<String> {
    if let Some(v) = args.vault.clone().or_else(|| config.evidence.vault.clone()) {
        return Ok(v);
    }
    default_vault_dir(&args.store.resolve(config))
}

/// The default vault directory: `evidence/` beside the store file.
pub fn default_vault_dir(store: &str) -> anyhow::Result<String> {
    let store = PathBuf::from(store);
    let dir = store
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    Ok(dir.join("evidence").display().to_string())
}

/// `--key`, else the configuration's, else `$VIGIL_EVIDENCE_KEY`, else the user's config dir.
pub fn key_path(args: &EvidenceArgs, config: &Config) -> anyhow::Result<PathBuf> {
    if let Some(k) = args.key.clone().or_else(|| config.evidence.key.clone()) {
        return Ok(k);
    }
    default_key_path()
}

/// `$VIGIL_EVIDENCE_KEY`, else `$XDG_CONFIG_HOME/vigil/evidence-signing.key`, else
/// `~/.config/vigil/evidence-signing.key`.
pub fn default_key_path() -> anyhow::Result<PathBuf> {
    if let Some(k) = std::env::var_os("VIGIL_EVIDENCE_KEY") {
        return Ok(PathBuf::from(k));
    }
    let base = match std::env::var_os("XDG_CONFIG_HOME") {
        Some(dir) => PathBuf::from(dir),
        None => match std::env::var_os("HOME") {
            Some(home) => PathBuf::from(home).join(".config"),
            None => bail!("no --key given and neither $XDG_CONFIG_HOME nor $HOME is set"),
        },
    };
    Ok(base.join("vigil").join("evidence-signing.key"))
}

fn read_input(file: &str) -> anyhow::Result<(Vec<u8>, String)> {
    if file == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .context("reading standard input")?;
        return Ok((bytes, "stdin".to_string()));
    }
    let path = Path::new(file);
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.to_string());
    Ok((bytes, name))
}

fn guess_media_type(name: &str) -> &'static str {
    let lower = name.to_ascii_lowercase();
    let ext = |e: &str| lower.ends_with(e);
    if ext(".json") {
        "application/json"
    } else if ext(".jsonl") || ext(".ndjson") {
        "application/x-ndjson"
    } else if ext(".gz") {
        "application/gzip"
    } else if ext(".txt") || ext(".log") {
        "text/plain"
    } else if ext(".csv") {
        "text/csv"
    } else if ext(".pcap") {
        "application/vnd.tcpdump.pcap"
    } else if ext(".tar") {
        "application/x-tar"
    } else {
        "application/octet-stream"
    }
}
