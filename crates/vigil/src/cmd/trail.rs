//! `vigil trail`: CloudTrail log file integrity validation (`verify`) and copying a trail with
//! its digest metadata to a local directory (`fetch`).

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use vigil_trail::{
    parse_time, CloudTrailKeys, DirSource, KeyRing, S3Source, TrailLocation, VerifyOptions,
};

use crate::cli::AwsArgs;
use crate::config::Config;

#[derive(Debug, Args)]
pub struct TrailArgs {
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(subcommand)]
    pub command: TrailCommand,
}

/// Which files of a trail: where they are and the time range.
#[derive(Debug, Args)]
pub struct TrailScope {
    /// The trail's S3 bucket (with --dir: the bucket the copy came from, when the copy has
    /// no vigil-trail-source.json).
    #[arg(long)]
    pub bucket: Option<String>,
    /// A local copy of the bucket's layout (from `vigil trail fetch`), instead of S3.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// The trail's S3 key prefix.
    #[arg(long)]
    pub prefix: Option<String>,
    /// Organisation id of an organisation trail (`o-...`).
    #[arg(long)]
    pub org_id: Option<String>,
    /// Only this account's files.
    #[arg(long)]
    pub account: Option<String>,
    /// Only this region's files (the region in the key path).
    #[arg(long = "trail-region", value_name = "REGION")]
    pub trail_region: Option<String>,
    /// Only the digests of this trail name.
    #[arg(long)]
    pub trail: Option<String>,
    /// Start of the range (RFC 3339 or YYYY-MM-DD); default: everything.
    #[arg(long)]
    pub start: Option<String>,
    /// End of the range; default: now.
    #[arg(long)]
    pub end: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum TrailCommand {
    /// Validate digests (RSA signatures, chain) and log files (SHA-256), like
    /// `aws cloudtrail validate-logs` but stricter. Exit 1 when anything is wrong.
    Verify {
        #[command(flatten)]
        scope: TrailScope,
        /// Public keys (DER PKCS#1 or SPKI, PEM, or `aws cloudtrail list-public-keys` JSON);
        /// default: CloudTrail ListPublicKeys.
        #[arg(long, value_name = "FILE")]
        public_key: Option<PathBuf>,
        /// List every valid file too.
        #[arg(long)]
        all: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Copy a trail's digests (with their signature metadata) and logs from S3 to a directory.
    Fetch {
        #[command(flatten)]
        scope: TrailScope,
        /// Destination directory.
        #[arg(long, short)]
        output: PathBuf,
    },
}

pub fn run(args: TrailArgs, config: &Config) -> anyhow::Result<u8> {
    super::runtime()?.block_on(run_async(args, config))
}

fn options(scope: &TrailScope) -> anyhow::Result<VerifyOptions> {
    let time = |t: &Option<String>, what: &str| -> anyhow::Result<_> {
        t.as_deref()
            .map(parse_time)
            .transpose()
            .with_context(|| format!("--{what}"))
    };
    Ok(VerifyOptions {
        location: TrailLocation {
            prefix: scope.prefix.clone(),
            org_id: scope.org_id.clone(),
            account: scope.account.clone(),
            region: scope.trail_region.clone(),
            trail_name: scope.trail.clone(),
        },
        start: time(&scope.start, "start")?,
        end: time(&scope.end, "end")?,
    }
    .validated()?)
}

async fn run_async(args: TrailArgs, config: &Config) -> anyhow::Result<u8> {
    let aws = || async {
        vigil_aws::AwsContext::load(args.aws.options(config, None))
            .await
            .context("AWS access")
    };
    match &args.command {
        TrailCommand::Verify {
            scope,
            public_key,
            all,
            json,
        } => {
            let opts = options(scope)?;
            let report = match (&scope.dir, &scope.bucket) {
                (Some(dir), bucket) => {
                    let source = match bucket {
                        Some(b) => DirSource::new(dir, b),
                        None => DirSource::open(dir)?,
                    };
                    match public_key {
                        Some(file) => {
                            vigil_trail::verify(&source, &KeyRing::from_file(file)?, &opts).await?
                        }
                        None => {
                            let keys = CloudTrailKeys::new(aws().await?);
                            vigil_trail::verify(&source, &keys, &opts).await?
                        }
                    }
                }
                (None, Some(bucket)) => {
                    let ctx = aws().await?;
                    let source = S3Source::connect(&ctx, bucket).await?;
                    match public_key {
                        Some(file) => {
                            vigil_trail::verify(&source, &KeyRing::from_file(file)?, &opts).await?
                        }
                        None => {
                            vigil_trail::verify(&source, &CloudTrailKeys::new(ctx.clone()), &opts)
                                .await?
                        }
                    }
                }
                (None, None) => bail!("say where the trail is: --bucket NAME or --dir DIR"),
            };
            if *json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else if *all {
                print!("{report:#}");
            } else {
                print!("{report}");
            }
            Ok(if report.is_valid() { 0 } else { 1 })
        }
        TrailCommand::Fetch { scope, output } => {
            let Some(bucket) = &scope.bucket else {
                bail!("`vigil trail fetch` copies from S3: give --bucket NAME");
            };
            let opts = options(scope)?;
            let ctx = aws().await?;
            let source = S3Source::connect(&ctx, bucket).await?;
            let report = vigil_trail::fetch(&source, &opts, output).await?;
            print!("{report}");
            Ok(0)
        }
    }
}
