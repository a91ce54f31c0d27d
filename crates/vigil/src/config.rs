//! `vigil.toml`: settings that would otherwise be repeated on every command line. Parsed once,
//! strictly (an unknown key is an error naming it), and merged under the command-line flags:
//! a flag adds to or overrides what the file says.
//!
//! ```toml
//! rules = ["my-rules/"]           # added to the built-in pack
//! builtin = true                  # false: only the rules listed here and with --rules
//! intel = ["intel/"]
//! geoip = "geo/ip-country.csv"
//! store = "vigil-data/vigil.sqlite"
//!
//! [placeholders]                  # values for Sigma `expand` (%name%)
//! approved_amis = ["ami-0abc", "ami-0def"]
//! trusted_accounts = ["111122223333"]
//! ```

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

/// The contents of a `vigil.toml`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub rules: Vec<PathBuf>,
    pub builtin: Option<bool>,
    #[serde(default)]
    pub intel: Vec<PathBuf>,
    pub geoip: Option<PathBuf>,
    pub store: Option<String>,
    #[serde(default)]
    pub placeholders: HashMap<String, Vec<String>>,
}

impl Config {
    /// Reads `path`; relative paths inside it are taken from the file's directory.
    pub fn load(path: &Path) -> anyhow::Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the configuration {}", path.display()))?;
        let mut config: Config = toml::from_str(&text)
            .with_context(|| format!("in the configuration {}", path.display()))?;
        let base = path.parent().unwrap_or(Path::new(""));
        for list in [&mut config.rules, &mut config.intel] {
            for entry in list.iter_mut() {
                *entry = base.join(&*entry);
            }
        }
        if let Some(geoip) = config.geoip.as_mut() {
            *geoip = base.join(&*geoip);
        }
        Ok(config)
    }

    /// `--config FILE`, else `$VIGIL_CONFIG`, else `vigil.toml` in the current directory when
    /// there is one, else the defaults.
    pub fn discover(explicit: Option<&Path>) -> anyhow::Result<Config> {
        if let Some(path) = explicit {
            return Config::load(path);
        }
        if let Some(path) = std::env::var_os("VIGIL_CONFIG") {
            return Config::load(Path::new(&path));
        }
        let local = Path::new("vigil.toml");
        if local.is_file() {
            return Config::load(local);
        }
        Ok(Config::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_file_parses_with_paths_relative_to_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vigil.toml");
        std::fs::write(
            &path,
            "rules = ['r']\nbuiltin = false\nintel = ['i']\ngeoip = 'g.csv'\nstore = 'none'\n[placeholders]\nadmins = ['alice']\n",
        )
        .unwrap();
        let config = Config::load(&path).unwrap();
        assert_eq!(config.rules, vec![dir.path().join("r")]);
        assert_eq!(config.builtin, Some(false));
        assert_eq!(config.geoip, Some(dir.path().join("g.csv")));
        assert_eq!(config.placeholders["admins"], vec!["alice"]);
    }

    #[test]
    fn unknown_keys_are_errors_naming_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vigil.toml");
        std::fs::write(&path, "rulez = []\n").unwrap();
        let error = format!("{:#}", Config::load(&path).unwrap_err());
        assert!(error.contains("rulez"), "{error}");
    }
}
