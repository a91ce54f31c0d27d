//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::cmd::findings::FindingsArgs;

/// vigil: detection and incident response for AWS.
#[derive(Debug, Parser)]
#[command(name = "vigil", version, about, long_about = None)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug). VIGIL_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Configuration file (default: $VIGIL_CONFIG, else ./vigil.toml when present).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Detect threats in AWS logs: CloudTrail, VPC Flow Logs, S3 access logs, GuardDuty,
    /// Security Hub, Trusted Advisor.
    Detect(DetectArgs),
    /// List, lint and test detection rules.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Work with stored findings.
    Findings {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        command: FindingsArgs,
    },
    /// The evidence vault: signed, hash-chained, write-once evidence per case.
    Evidence(crate::cmd::evidence::EvidenceArgs),
    /// CloudTrail log file integrity: validate digests and logs, or copy a trail locally.
    Trail(crate::cmd::trail::TrailArgs),
    /// Resource-policy analysis: who a policy lets in, under which conditions.
    Policy(crate::cmd::policy::PolicyArgs),
    /// Respond to a finding with a playbook: plan, run, approve, resume, status.
    Respond(crate::cmd::respond::RespondArgs),
    /// List the playbooks (built-in and configured).
    Playbooks,
    /// The response actions playbooks are made of: parameters, dry-run, permissions, example.
    Actions(crate::cmd::respond::ActionsArgs),
    /// Render playbooks as Markdown runbooks for humans, with the AWS CLI commands.
    Runbook {
        #[command(subcommand)]
        command: RunbookCommand,
    },
    /// Print the least-privilege IAM policy for the chosen playbooks.
    IamPolicy(crate::cmd::respond::IamPolicyArgs),
    /// Scan accounts against the Security Pillar and incident-response readiness.
    Scan(crate::cmd::scan::ScanArgs),
    /// A case: its findings, response runs and evidence items, as the store links them.
    Case {
        case: String,
        #[command(flatten)]
        store: StoreArgs,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum RunbookCommand {
    /// Write the Markdown runbook of a playbook.
    Render(crate::cmd::respond::RunbookArgs),
}

/// Which rules, lists and enrichment to load.
#[derive(Debug, Clone, Args)]
pub struct RuleArgs {
    /// Add a rule file or directory (repeatable).
    #[arg(long = "rules", value_name = "PATH")]
    pub rules: Vec<PathBuf>,
    /// Leave the built-in rule pack out.
    #[arg(long)]
    pub no_builtin: bool,
    /// Add a threat-intel list file or directory (plain lines, CSV, STIX 2.1; repeatable).
    #[arg(long = "intel", value_name = "PATH")]
    pub intel: Vec<PathBuf>,
    /// IP → country/ASN CSV (`cidr,country,asn,as_org`) for geo enrichment.
    #[arg(long, value_name = "FILE")]
    pub geoip: Option<PathBuf>,
    /// Value for a Sigma `expand` placeholder: `NAME=v1,v2` (repeatable).
    #[arg(long = "placeholder", value_name = "NAME=VALUES")]
    pub placeholders: Vec<String>,
}

/// How vigil reaches AWS; each flag overrides the configuration's `[aws]` table.
#[derive(Debug, Clone, Default, Args)]
pub struct AwsArgs {
    /// Send AWS calls to this endpoint (an emulator such as moto) instead of AWS.
    #[arg(long, global = true, env = "VIGIL_ENDPOINT_URL", value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// AWS region (default: the profile's, else the environment's, else us-east-1).
    #[arg(long, global = true, value_name = "REGION")]
    pub region: Option<String>,
    /// Named profile from the shared AWS config files.
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// Incident-response role to assume in each target account (a role name).
    #[arg(long = "role", global = true, value_name = "NAME")]
    pub role_name: Option<String>,
}

/// Where findings are kept.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// SQLite store file, or `none` to keep nothing
    /// (default: the configuration's `store`, else vigil-data/vigil.sqlite).
    #[arg(long, global = true, env = "VIGIL_STORE")]
    pub store: Option<String>,
}

#[derive(Debug, Args)]
pub struct DetectArgs {
    /// Files, directories (walked recursively), globs, or `-` for standard input.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<String>,
    #[command(flatten)]
    pub rules: RuleArgs,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Output format; default `table` on a terminal, `jsonl` otherwise.
    #[arg(long, value_name = "table|jsonl|asff|ocsf")]
    pub format: Option<String>,
    /// Exit with 1 when a finding is at or above this severity
    /// (informational, low, medium, high, critical).
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<String>,
    /// Write rejected records, with their reasons, to this JSON Lines file
    /// (default: `rejects.jsonl` beside the store, when there are any).
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<PathBuf>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Memory for the whole run, in MiB (default 208). After a fixed part (32 MiB) and each
    /// thread's own (16 MiB), two thirds go to correlation observations, one third to finding
    /// drafts, one sixth to the findings on their way out (used once the observations are
    /// gone); beyond them, data is sorted and spilled to temporary files and merged back
    /// (same output, bounded memory). On one thread: 106, 53 and 26 MiB.
    #[arg(long, value_name = "MIB")]
    pub memory: Option<u64>,
    /// Memory for correlation observations and the strings they share, in MiB, over all
    /// threads (default: from --memory).
    #[arg(long, value_name = "MIB")]
    pub correlation_memory: Option<u64>,
    /// Memory for finding drafts (matches being deduplicated, with their evidence records),
    /// in MiB, over all threads (default: from --memory).
    #[arg(long, value_name = "MIB")]
    pub finding_memory: Option<u64>,
    /// Memory for the built findings on their way to the output and the store, sorted, in
    /// MiB (default: from --memory). Findings are written as they come out of the sort: in
    /// JSON Lines a flood of findings is never all in memory (the table, ASFF and OCSF are
    /// one document each, built at the end).
    #[arg(long, value_name = "MIB")]
    pub output_memory: Option<u64>,
    /// Events before this time (RFC 3339) only train first-seen baselines.
    #[arg(long, value_name = "TIME")]
    pub train_until: Option<String>,
    /// Records larger than this many bytes are rejected.
    #[arg(long, default_value_t = 16 * 1024 * 1024)]
    pub max_record_bytes: usize,
    /// Evidence records kept per finding.
    #[arg(long, default_value_t = 5)]
    pub samples: usize,
    /// Flood guard: at most this many principal/resource keys of one rule in one dedup window
    /// get a finding of their own; the matches of the others are counted in one overflow
    /// finding for that rule and window.
    #[arg(long, default_value_t = vigil_engine::DEFAULT_KEYS_PER_WINDOW)]
    pub max_keys_per_window: usize,
    /// No progress bar, even on a terminal.
    #[arg(long)]
    pub no_progress: bool,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List the loaded rules.
    List {
        #[command(flatten)]
        rules: RuleArgs,
        /// Output as JSON Lines.
        #[arg(long)]
        json: bool,
    },
    /// Load every rule and report what cannot load or lacks required metadata.
    Lint {
        #[command(flatten)]
        rules: RuleArgs,
    },
    /// Run every rule's true-positive and true-negative samples.
    Test {
        #[command(flatten)]
        rules: RuleArgs,
        /// Print every test, not only failures.
        #[arg(long)]
        verbose_tests: bool,
    },
}
