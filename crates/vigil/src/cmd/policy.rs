//! `vigil policy analyze`: who a resource policy lets in, and under which conditions.

use std::path::Path;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use vigil_policy::{analyze, analyze_s3, Analysis, AnalysisContext, Policy, ResourceKind, Verdict};

use crate::cli::AwsArgs;
use crate::config::Config;

#[derive(Debug, Args)]
pub struct PolicyArgs {
    #[command(subcommand)]
    pub command: PolicyCommand,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Analyse a resource policy from a file (or `-`), or read it from AWS by ARN. Exit 1
    /// when access reaches at least --fail-on.
    Analyze {
        #[arg(value_name = "FILE|ARN")]
        target: String,
        /// The kind of resource (s3, kms, sqs, sns, lambda, iam-role, secretsmanager, ecr,
        /// other); default: from the ARN, else `other`.
        #[arg(long)]
        kind: Option<String>,
        /// The account that owns the resource (default: from the ARN; for a file, unknown
        /// accounts are all outside).
        #[arg(long)]
        owner: Option<String>,
        /// The resource's ARN when analysing a file (statements without Resource apply to it).
        #[arg(long)]
        resource: Option<String>,
        /// An account inside your zone of trust (repeatable).
        #[arg(long = "trusted-account")]
        trusted_accounts: Vec<String>,
        /// An organisation inside your zone of trust (repeatable).
        #[arg(long = "trusted-org")]
        trusted_orgs: Vec<String>,
        /// A VPC, VPC endpoint or CIDR inside your zone of trust (repeatable).
        #[arg(long = "trusted-network")]
        trusted_networks: Vec<String>,
        /// Exit 1 at this exposure or above: public, any-authenticated, cross-account.
        #[arg(long, default_value = "any-authenticated")]
        fail_on: String,
        /// Print the analysis as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        aws: AwsArgs,
    },
}

pub fn run(args: PolicyArgs, config: &Config) -> anyhow::Result<u8> {
    let PolicyCommand::Analyze {
        target,
        kind,
        owner,
        resource,
        trusted_accounts,
        trusted_orgs,
        trusted_networks,
        fail_on,
        json,
        aws,
    } = args.command;
    let fail_on = match fail_on.as_str() {
        "public" => Verdict::Public,
        "any-authenticated" => Verdict::AnyAuthenticated,
        "cross-account" => Verdict::CrossAccount,
        other => bail!("--fail-on {other}: expected public, any-authenticated or cross-account"),
    };
    let is_arn = target.starts_with("arn:");
    let arn = if is_arn {
        Some(target.clone())
    } else {
        resource
    };
    let kind = match kind {
        Some(k) => k
            .parse::<ResourceKind>()
            .map_err(|e| anyhow::anyhow!("--kind {k}: {e}"))?,
        None => arn
            .as_deref()
            .map(ResourceKind::from_arn)
            .unwrap_or(ResourceKind::Other),
    };
    let (text, s3, fetched_owner) = if is_arn {
        let fetched = super::runtime()?.block_on(async {
            let ctx = vigil_aws::AwsContext::load(aws.options(config, None)).await?;
            anyhow::Ok(vigil_inventory::resource_policy::fetch(&ctx, &target).await?)
        })?;
        (fetched.policy, fetched.s3, fetched.owner_account)
    } else {
        let text = if target == "-" {
            std::io::read_to_string(std::io::stdin()).context("reading standard input")?
        } else {
            std::fs::read_to_string(Path::new(&target))
                .with_context(|| format!("reading {target}"))?
        };
        (Some(text), None, None)
    };
    let owner = owner
        .or(fetched_owner)
        .or_else(|| arn.as_deref().and_then(arn_account))
        .unwrap_or_default();
    let mut ctx = AnalysisContext::new(kind, &owner);
    if let Some(arn) = &arn {
        ctx = ctx.with_resource(arn);
    }
    ctx.trusted_accounts = trusted_accounts;
    ctx.trusted_org_ids = trusted_orgs;
    ctx.trusted_networks = trusted_networks;
    let policy = match &text {
        Some(text) => {
            Some(Policy::parse(text).with_context(|| format!("in the policy of {target}"))?)
        }
        None => None,
    };
    let analysis = match (&policy, &s3) {
        (policy, Some((acl, bpa))) => analyze_s3(policy.as_ref(), acl, bpa, &ctx),
        (Some(policy), None) => analyze(policy, &ctx),
        (None, None) => {
            println!("{target}: no resource policy: only identity policies in the owner account grant access");
            return Ok(0);
        }
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&analysis)?);
    } else {
        print_analysis(&target, &analysis);
    }
    Ok(if analysis.verdict >= fail_on { 1 } else { 0 })
}

fn arn_account(arn: &str) -> Option<String> {
    let account = arn.split(':').nth(4)?;
    (account.len() == 12).then(|| account.to_string())
}

fn print_analysis(target: &str, analysis: &Analysis) {
    println!("{target}: {}", analysis.verdict.label());
    if analysis.grants.is_empty() {
        println!("  no statement grants access outside the owner");
    }
    for grant in &analysis.grants {
        println!("  - {}", grant.explanation);
        for why in &grant.non_restricting {
            println!("      does not restrict: {why}");
        }
    }
    for note in &analysis.notes {
        println!("  note: {note}");
    }
}
