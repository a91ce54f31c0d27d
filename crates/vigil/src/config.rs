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
//! playbooks = ["playbooks/"]      # added to the built-in playbooks
//!
//! [placeholders]                  # values for Sigma `expand` (%name%)
//! approved_amis = ["ami-0abc", "ami-0def"]
//! trusted_accounts = ["111122223333"]
//!
//! [aws]                           # how vigil reaches AWS (respond, evidence, trail, scan)
//! profile = "security"
//! region = "eu-west-1"
//! endpoint_url = "http://127.0.0.1:5000"   # an emulator such as moto
//! role_name = "IncidentResponse"  # assumed in each target account
//! external_id = "..."
//! max_attempts = 8                # per call, with backoff on throttling
//!
//! [evidence]
//! vault = "s3://evidence-bucket/vigil"     # default: a directory beside the store
//! key = "/etc/vigil/evidence-signing.key"  # the Ed25519 private key, kept out of the vault
//! [evidence.s3]                   # Object Lock settings for an S3 vault
//! mode = "compliance"             # or "governance" (the default)
//! retention_days = 2555
//! legal_hold = false
//! kms_key_id = "alias/evidence"
//! storage_class = "GLACIER_IR"
//! case_retention_days = { "case-42" = 3650 }
//!
//! [respond]                       # the response engine's guard rails
//! environments = { "111122223333" = "prod", "444455556666" = "dev" }
//! default_environment = "prod"
//! production_requires_approval = true
//! max_resources_changed = 25
//! four_eyes = true
//! [respond.vars]                  # read by playbooks as config.<name>
//! sns_topic_arn = "arn:aws:sns:eu-west-1:111122223333:security"
//! forensic_ami_id = "ami-0123456789abcdef0"
//!
//! [actions]
//! isolation_group_name = "vigil-isolation"
//! evidence_bucket = "ir-evidence-111122223333"
//! smtp_password_env = "VIGIL_SMTP_PASSWORD"
//!
//! [scan.thresholds]               # CIS defaults; override what you need
//! password_min_length = 14
//! key_rotation_days = 90
//! [scan.readiness]
//! security_account = "111122223333"
//! ir_role_names = ["IncidentResponse"]
//! [[scan.mutes]]                  # an accepted risk, with a reason and an expiry
//! control = "VIG-40"
//! resource = "arn:aws:ec2:*:*:security-group/sg-0bastion*"
//! reason = "bastion reachable over SSH by design; ticket SEC-123"
//! expires = "2027-06-30T00:00:00Z"
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
    #[serde(default)]
    pub aws: AwsConfig,
    #[serde(default)]
    pub evidence: EvidenceConfig,
    /// Playbook files or directories added to the built-in playbooks.
    #[serde(default)]
    pub playbooks: Vec<PathBuf>,
    #[serde(default)]
    pub respond: vigil_respond::ResponseConfig,
    #[serde(default)]
    pub actions: ActionsConfig,
    #[serde(default)]
    pub scan: ScanConfig,
}

/// The `[scan]` table: thresholds, readiness expectations and accepted risks.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScanConfig {
    #[serde(default)]
    pub thresholds: vigil_posture::Thresholds,
    #[serde(default)]
    pub readiness: vigil_posture::Readiness,
    /// Accepted risks: `[[scan.mutes]]` with control, resource, account, reason, expires, by.
    #[serde(default)]
    pub mutes: Vec<vigil_posture::MuteRule>,
    pub concurrency: Option<usize>,
}

/// The `[actions]` table: per-deployment settings of the response actions.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ActionsConfig {
    /// The isolation security group's name (default `vigil-isolation`).
    pub isolation_group_name: Option<String>,
    /// Bucket for evidence written from instances (SSM output).
    pub evidence_bucket: Option<String>,
    pub evidence_prefix: Option<String>,
    /// Environment variable holding the SMTP password for e-mail notifications.
    pub smtp_password_env: Option<String>,
}

impl ActionsConfig {
    /// The actions' options, defaults filled in.
    pub fn options(&self) -> vigil_actions::ActionOptions {
        let mut o = vigil_actions::ActionOptions::default();
        if let Some(name) = &self.isolation_group_name {
            o.isolation_group_name = name.clone();
        }
        o.evidence_bucket = self.evidence_bucket.clone();
        o.evidence_prefix = self.evidence_prefix.clone();
        o.smtp_password_env = self.smtp_password_env.clone();
        o
    }
}

/// The `[evidence]` table: where the vault is and how S3 objects are locked.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EvidenceConfig {
    /// A directory or `s3://bucket/prefix`.
    pub vault: Option<String>,
    /// The vault's private signing key.
    pub key: Option<PathBuf>,
    #[serde(default)]
    pub s3: vigil_vault::S3Options,
}

/// The `[aws]` table: defaults for `--profile`, `--region`, `--endpoint-url` and the
/// incident-response role.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AwsConfig {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    pub role_name: Option<String>,
    pub external_id: Option<String>,
    pub max_attempts: Option<u32>,
    pub partition: Option<String>,
}

impl Config {
    /// Reads `path`; relative paths inside it are taken from the file's directory.
    pub fn load(path: &Path) -> anyhow::Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the configuration {}", path.display()))?;
        let mut config: Config = toml::from_str(&text)
            .with_context(|| format!("in the configuration {}", path.display()))?;
        let base = path.parent().unwrap_or(Path::new(""));
        for list in [&mut config.rules, &mut config.intel, &mut config.playbooks] {
            for entry in list.iter_mut() {
                *entry = base.join(&*entry);
            }
        }
        if let Some(geoip) = config.geoip.as_mut() {
            *geoip = base.join(&*geoip);
        }
        if let Some(key) = config.evidence.key.as_mut() {
            *key = base.join(&*key);
        }
        if let Some(vault) = config.evidence.vault.as_mut() {
            if !vault.starts_with("s3://") {
                *vault = base.join(&*vault).display().to_string();
            }
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
            "rules = ['r']\nbuiltin = false\nintel = ['i']\ngeoip = 'g.csv'\nstore = 'none'\n[placeholders]\nadmins = ['alice']\n[aws]\nregion = 'eu-west-1'\nrole_name = 'IR'\n",
        )
        .unwrap();
        let config = Config::load(&path).unwrap();
        assert_eq!(config.rules, vec![dir.path().join("r")]);
        assert_eq!(config.builtin, Some(false));
        assert_eq!(config.geoip, Some(dir.path().join("g.csv")));
        assert_eq!(config.placeholders["admins"], vec!["alice"]);
        assert_eq!(config.aws.region.as_deref(), Some("eu-west-1"));
        assert_eq!(config.aws.role_name.as_deref(), Some("IR"));
    }

    #[test]
    fn unknown_keys_are_errors_naming_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vigil.toml");
        std::fs::write(&path, "rulez = []\n").unwrap();
        let error = format!("{:#}", Config::load(&path).unwrap_err());
        assert!(error.contains("rulez"), "{error}");
    }

    /// The example at the top of this file is a file vigil accepts, every table in place.
    #[test]
    fn the_documented_example_parses() {
        let source = include_str!("config.rs");
        let example: String = source
            .lines()
            .skip_while(|l| !l.starts_with("//! ```toml"))
            .skip(1)
            .take_while(|l| !l.starts_with("//! ```"))
            .map(|l| l.strip_prefix("//!").unwrap_or(l).trim_start_matches(' '))
            .map(|l| format!("{l}\n"))
            .collect();
        assert!(example.contains("[respond]"), "{example}");
        let config: Config = toml::from_str(&example).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.playbooks, vec![PathBuf::from("playbooks/")]);
    }
}
