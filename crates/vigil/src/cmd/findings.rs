//! `vigil findings`: list, show, suppress and resolve the findings in the store.
//!
//! Needs `clap` (derive), `anyhow`, `serde_json`, `vigil-event`, `vigil-findings` and
//! `vigil-store` as dependencies of the `vigil` crate.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use vigil_event::time::{format_rfc3339_ms, parse_rfc3339_ms};
use vigil_findings::{
    write_asff_with, write_findings, AsffOptions, Finding, Format, SeverityLabel, Status,
};
use vigil_store::{FindingFilter, SqliteStore, Store, Suppression};

/// `vigil findings ...`
#[derive(Debug, Args)]
pub struct FindingsArgs {
    #[command(subcommand)]
    pub command: FindingsCommand,
}

/// What to do with the stored findings.
#[derive(Debug, Subcommand)]
pub enum FindingsCommand {
    /// List findings, newest first.
    List(ListArgs),
    /// Show every field of one finding, samples pretty-printed.
    Show {
        /// The finding's id.
        id: String,
    },
    /// Mute one finding, or every finding matching rule/principal/account/resource patterns
    /// (`*` wildcards). Suppressed findings are kept, never dropped.
    Suppress(SuppressArgs),
    /// Mark a finding resolved.
    Resolve {
        /// The finding's id.
        id: String,
        /// Why it is resolved.
        #[arg(long)]
        reason: String,
        /// Who resolved it (default: $USER).
        #[arg(long)]
        author: Option<String>,
    },
}

/// Filters and format of `vigil findings list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only findings at least this severe (informational, low, medium, high, critical).
    #[arg(long)]
    pub severity: Option<SeverityLabel>,
    /// Only this rule's findings (the rule's id).
    #[arg(long)]
    pub rule: Option<String>,
    /// Only this AWS account's findings.
    #[arg(long)]
    pub account: Option<String>,
    /// Only findings with this status (new, notified, resolved, suppressed).
    #[arg(long)]
    pub status: Option<Status>,
    /// Only findings last seen since this time: RFC 3339 or relative (`24h`, `7d`).
    #[arg(long)]
    pub since: Option<String>,
    /// Only findings first seen until this time: RFC 3339 or relative (`1h`).
    #[arg(long)]
    pub until: Option<String>,
    /// At most this many findings.
    #[arg(long)]
    pub limit: Option<u64>,
    /// Output format: table, jsonl, asff, ocsf (default: table on a terminal, else jsonl).
    #[arg(long)]
    pub format: Option<Format>,
    /// For ASFF: the account of findings that name none (Security Hub requires one).
    #[arg(long)]
    pub default_account: Option<String>,
}

/// What `vigil findings suppress` mutes, and why.
#[derive(Debug, Args)]
pub struct SuppressArgs {
    /// The finding to suppress; without it, give at least one pattern.
    #[arg(conflicts_with_all = ["rule", "principal", "account", "resource", "expires"])]
    pub id: Option<String>,
    /// Rule id pattern.
    #[arg(long)]
    pub rule: Option<String>,
    /// Principal pattern.
    #[arg(long)]
    pub principal: Option<String>,
    /// Account pattern.
    #[arg(long)]
    pub account: Option<String>,
    /// Resource pattern.
    #[arg(long)]
    pub resource: Option<String>,
    /// Why.
    #[arg(long)]
    pub reason: String,
    /// Who (default: $USER).
    #[arg(long)]
    pub author: Option<String>,
    /// When the suppression ends: relative (`7d`) or RFC 3339. Default: never.
    #[arg(long)]
    pub expires: Option<String>,
}

/// Runs `vigil findings` against the store at `store_path`; returns the exit code.
pub fn run(args: FindingsArgs, store_path: &Path) -> anyhow::Result<i32> {
    let mut store = SqliteStore::open(store_path)
        .with_context(|| format!("cannot open the store {}", store_path.display()))?;
    let now = now_ms();
    match args.command {
        FindingsCommand::List(list) => list_findings(&store, list, now),
        FindingsCommand::Show { id } => show(&store, &id),
        FindingsCommand::Suppress(suppress) => suppress_findings(&mut store, suppress, now),
        FindingsCommand::Resolve { id, reason, author } => {
            let by = author.unwrap_or_else(default_author);
            store
                .set_status(&id, Status::Resolved, &by, &reason)
                .with_context(|| format!("cannot resolve finding {id}"))?;
            eprintln!("finding {id} resolved");
            Ok(0)
        }
    }
}

fn list_findings(store: &SqliteStore, args: ListArgs, now: i64) -> anyhow::Result<i32> {
    let filter = FindingFilter {
        severity_at_least: args.severity,
        rule_id: args.rule,
        account: args.account,
        status: args.status,
        since_ms: args
            .since
            .as_deref()
            .map(|t| parse_time(t, now, -1))
            .transpose()?,
        until_ms: args
            .until
            .as_deref()
            .map(|t| parse_time(t, now, -1))
            .transpose()?,
        limit: args.limit,
    };
    let findings = store.list(&filter).context("cannot list findings")?;
    let stdout = std::io::stdout();
    let format = args.format.unwrap_or(if stdout.is_terminal() {
        Format::Table
    } else {
        Format::Jsonl
    });
    let mut out = stdout.lock();
    let summary = if format == Format::Asff {
        let options = AsffOptions {
            default_account: args.default_account,
            default_region: None,
        };
        write_asff_with(&findings, &options, &mut out)?
    } else {
        write_findings(format, &findings, &mut out)?
    };
    out.flush().context("cannot write findings")?;
    for (id, reason) in &summary.skipped {
        eprintln!("finding {id} left out: {reason} (see --default-account)");
    }
    Ok(0)
}

fn show(store: &SqliteStore, id: &str) -> anyhow::Result<i32> {
    let Some(finding) = store.get(id).context("cannot read the store")? else {
        bail!("no finding with id {id}");
    };
    let mut out = std::io::stdout().lock();
    out.write_all(describe(&finding).as_bytes())
        .and_then(|()| out.flush())
        .context("cannot write the finding")?;
    Ok(0)
}

/// Every field of a finding as text, samples pretty-printed.
fn describe(finding: &Finding) -> String {
    let optional = |value: &Option<String>| value.clone().unwrap_or_else(|| "-".into());
    let list = |items: &[String]| {
        if items.is_empty() {
            "-".to_string()
        } else {
            items.join(", ")
        }
    };
    let sources: Vec<String> = finding.log_sources.iter().map(|s| s.to_string()).collect();
    let mut text = String::new();
    let lines = [
        ("id", finding.id.clone()),
        (
            "rule",
            format!(
                "{} ({}, {})",
                finding.rule_id,
                finding.rule_title,
                finding.rule_kind.as_str()
            ),
        ),
        ("severity", finding.severity.to_string()),
        ("status", finding.status.to_string()),
        ("events", finding.event_count.to_string()),
        ("first seen", format_rfc3339_ms(finding.first_seen_ms)),
        ("last seen", format_rfc3339_ms(finding.last_seen_ms)),
        ("window start", format_rfc3339_ms(finding.window_start_ms)),
        ("dedup key", finding.dedup_key.clone()),
        ("account", optional(&finding.account)),
        ("region", optional(&finding.region)),
        ("principal", optional(&finding.principal)),
        ("resources", list(&finding.resources)),
        ("source IPs", list(&finding.source_ips)),
        ("log sources", list(&sources)),
        ("tags", list(&finding.tags)),
        ("runbook", optional(&finding.runbook)),
        ("description", finding.description.clone()),
    ];
    for (name, value) in lines {
        text.push_str(&format!("{name:>13}: {value}\n"));
    }
    for hit in &finding.intel {
        text.push_str(&format!(
            "{:>13}: {} matched {} in list {}\n",
            "intel", hit.field, hit.entry, hit.list
        ));
    }
    text.push_str("history:\n");
    for change in &finding.history {
        let from = change.from.map_or("-".to_string(), |s| s.to_string());
        let at = format_rfc3339_ms(change.at_ms);
        text.push_str(&format!(
            "  {at}  {from} -> {}  by {}: {}\n",
            change.to, change.by, change.reason
        ));
    }
    for (n, sample) in finding.samples.iter().enumerate() {
        let time = sample.time_ms.map_or("-".to_string(), format_rfc3339_ms);
        text.push_str(&format!(
            "sample {} ({}, {}, {time}):\n",
            n + 1,
            sample.origin,
            sample.source
        ));
        text.push_str(&pretty_json(sample.record.get()));
        text.push('\n');
    }
    text
}

fn pretty_json(raw: &str) -> String {
    serde_json::from_str::<serde_json::Value>(raw)
        .ok()
        .and_then(|value| serde_json::to_string_pretty(&value).ok())
        .unwrap_or_else(|| raw.to_string())
}

fn suppress_findings(store: &mut SqliteStore, args: SuppressArgs, now: i64) -> anyhow::Result<i32> {
    let author = args.author.unwrap_or_else(default_author);
    if let Some(id) = args.id {
        store
            .set_status(&id, Status::Suppressed, &author, &args.reason)
            .with_context(|| format!("cannot suppress finding {id}"))?;
        eprintln!("finding {id} suppressed");
        return Ok(0);
    }
    let mut suppression = Suppression {
        id: String::new(),
        rule_id: args.rule,
        principal: args.principal,
        account: args.account,
        resource: args.resource,
        reason: args.reason,
        author,
        created_ms: now,
        expires_ms: args
            .expires
            .as_deref()
            .map(|t| parse_time(t, now, 1))
            .transpose()?,
    };
    if !suppression.has_criteria() {
        bail!("give a finding id, or at least one of --rule, --principal, --account, --resource");
    }
    suppression.id = suppression.derive_id();
    let muted = store
        .add_suppression(&suppression)
        .context("cannot add the suppression")?;
    eprintln!(
        "suppression {} added; {muted} open finding(s) suppressed",
        suppression.id
    );
    Ok(0)
}

/// An RFC 3339 time, or a duration (`90s`, `30m`, `24h`, `7d`, `2w`) counted from `now` in
/// `direction` (-1: ago, 1: from now).
fn parse_time(text: &str, now: i64, direction: i64) -> anyhow::Result<i64> {
    if let Some(ms) = parse_rfc3339_ms(text) {
        return Ok(ms);
    }
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let unit_ms: i64 = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "w" => 604_800_000,
        _ => bail!("`{text}` is neither an RFC 3339 time nor a duration like 24h or 7d"),
    };
    let count: i64 = number
        .parse()
        .with_context(|| format!("`{text}` has no number before its unit"))?;
    Ok(now.saturating_add(direction.saturating_mul(count.saturating_mul(unit_ms))))
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
        })
}

fn default_author() -> String {
    std::env::var("USER")
        .ok()
        .filter(|user| !user.is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_or_relative() {
        let now = 10 * 86_400_000;
        assert_eq!(
            parse_time("1970-01-01T00:00:01Z", now, -1).ok(),
            Some(1_000)
        );
        assert_eq!(parse_time("24h", now, -1).ok(), Some(now - 86_400_000));
        assert_eq!(parse_time("7d", now, 1).ok(), Some(now + 7 * 86_400_000));
        assert_eq!(parse_time("30m", now, -1).ok(), Some(now - 1_800_000));
        assert!(parse_time("h", now, -1).is_err());
        assert!(parse_time("3 fortnights", now, -1).is_err());
    }

    #[test]
    fn arguments_parse_into_commands() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            findings: FindingsArgs,
        }
        let cli = Cli::try_parse_from([
            "vigil",
            "list",
            "--severity",
            "high",
            "--format",
            "ocsf",
            "--since",
            "24h",
        ]);
        let Ok(Cli {
            findings:
                FindingsArgs {
                    command: FindingsCommand::List(list),
                },
        }) = cli
        else {
            panic!("list parses");
        };
        assert_eq!(
            (list.severity, list.format),
            (Some(SeverityLabel::High), Some(Format::Ocsf))
        );
        let both =
            Cli::try_parse_from(["vigil", "suppress", "abc", "--rule", "r", "--reason", "x"]);
        assert!(both.is_err(), "an id and patterns conflict");
        let status = Cli::try_parse_from(["vigil", "list", "--status", "bogus"]);
        assert!(status.is_err());
    }
}
