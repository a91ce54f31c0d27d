//! One module per subcommand; each returns the process exit code.

pub mod detect;
mod detect_output;
pub mod evidence;
pub mod findings;
pub mod policy;
pub mod respond;
pub mod rules;
pub mod scan;
pub mod trail;

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::{bail, Context};
use vigil_engine::RuleSetOptions;

use crate::cli::{AwsArgs, Cli, Command, RuleArgs, RunbookCommand, StoreArgs};
use crate::config::Config;

/// The store used when neither `--store` nor the configuration names one.
pub const DEFAULT_STORE: &str = "vigil-data/vigil.sqlite";

/// Exit code: nothing at or above `--fail-on`.
pub const EXIT_CLEAN: u8 = 0;
/// Exit code: findings at or above `--fail-on`, failing rule tests, or lint problems.
pub const EXIT_FINDINGS: u8 = 1;

pub fn run(cli: Cli) -> anyhow::Result<u8> {
    let config = Config::discover(cli.config.as_deref())?;
    match cli.command {
        Command::Detect(args) => detect::run(args, &config),
        Command::Rules { command } => rules::run(command, &config),
        Command::Findings { store, command } => {
            let path = store_path(&store.resolve(&config))?
                .context("`vigil findings` needs a store; --store none has nothing to show")?;
            let code = findings::run(command, &path)?;
            Ok(u8::try_from(code).unwrap_or(2))
        }
        Command::Evidence(args) => evidence::run(args, &config),
        Command::Trail(args) => trail::run(args, &config),
        Command::Policy(args) => policy::run(args, &config),
        Command::Respond(args) => respond::run(args, &config),
        Command::Playbooks => respond::list_playbooks(&config),
        Command::Actions(args) => respond::actions(args, &config),
        Command::Runbook {
            command: RunbookCommand::Render(args),
        } => respond::runbook(args, &config),
        Command::IamPolicy(args) => respond::iam(args, &config),
        Command::Scan(args) => scan::run(args, &config),
        Command::Case { case, store, json } => respond::case(&case, &store, &config, json),
    }
}

/// The store file, or `None` for `--store none`.
pub fn store_path(store: &str) -> anyhow::Result<Option<PathBuf>> {
    if store.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    let path = PathBuf::from(store);
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating the store directory {}", parent.display()))?;
    }
    Ok(Some(path))
}

impl StoreArgs {
    /// `--store`, else the configuration's store, else [`DEFAULT_STORE`].
    pub fn resolve(&self, config: &Config) -> String {
        self.store
            .clone()
            .or_else(|| config.store.clone())
            .unwrap_or_else(|| DEFAULT_STORE.to_string())
    }
}

impl RuleArgs {
    /// The rule set options of the configuration with these arguments on top: paths add up,
    /// `--no-builtin` and `--geoip` override, `--placeholder` values add to the file's.
    pub fn options(&self, config: &Config) -> anyhow::Result<RuleSetOptions> {
        let mut placeholders = config.placeholders.clone();
        for (name, values) in parse_placeholders(&self.placeholders)? {
            placeholders.entry(name).or_default().extend(values);
        }
        Ok(RuleSetOptions {
            builtin: !self.no_builtin && config.builtin.unwrap_or(true),
            rule_paths: config.rules.iter().chain(&self.rules).cloned().collect(),
            intel_paths: config.intel.iter().chain(&self.intel).cloned().collect(),
            placeholders,
            geoip: self.geoip.clone().or_else(|| config.geoip.clone()),
        })
    }
}

impl AwsArgs {
    /// The AWS options of the configuration's `[aws]` table with these flags on top.
    pub fn options(&self, config: &Config, case_id: Option<&str>) -> vigil_aws::AwsOptions {
        let aws = &config.aws;
        vigil_aws::AwsOptions {
            profile: self.profile.clone().or_else(|| aws.profile.clone()),
            region: self.region.clone().or_else(|| aws.region.clone()),
            endpoint_url: self
                .endpoint_url
                .clone()
                .or_else(|| aws.endpoint_url.clone()),
            role_name: self.role_name.clone().or_else(|| aws.role_name.clone()),
            external_id: aws.external_id.clone(),
            case_id: case_id.map(str::to_string),
            operator: None,
            static_credentials: None,
            max_attempts: aws.max_attempts,
            partition: aws.partition.clone(),
        }
    }
}

/// A runtime for the commands that call AWS; the detection path stays synchronous.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .context("starting the async runtime")
}

fn parse_placeholders(specs: &[String]) -> anyhow::Result<HashMap<String, Vec<String>>> {
    let mut placeholders: HashMap<String, Vec<String>> = HashMap::new();
    for spec in specs {
        let Some((name, values)) = spec.split_once('=') else {
            bail!("--placeholder `{spec}`: expected NAME=value1,value2");
        };
        let name = name.trim().trim_matches('%').to_string();
        placeholders
            .entry(name)
            .or_default()
            .extend(values.split(',').map(|v| v.trim().to_string()));
    }
    Ok(placeholders)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_parse_and_accumulate() {
        let parsed =
            parse_placeholders(&["%admins%=alice,bob".into(), "admins=carol".into()]).unwrap();
        assert_eq!(parsed["admins"], vec!["alice", "bob", "carol"]);
        assert!(parse_placeholders(&["nothing".into()]).is_err());
    }
}
