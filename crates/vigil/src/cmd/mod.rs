//! One module per subcommand; each returns the process exit code.

pub mod detect;
pub mod findings;
pub mod rules;

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::{bail, Context};
use vigil_engine::RuleSetOptions;

use crate::cli::{Cli, Command, RuleArgs, StoreArgs};
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
