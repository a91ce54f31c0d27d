//! Response configuration and the guard rails it sets: which accounts are production, what
//! needs approval, which tag protects a resource, how many resources one run may change.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::action::{ActionError, EvidenceItem, EvidenceSink, Guard};

/// The `[respond]` section of vigil's configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResponseConfig {
    /// Account id to environment (`dev`, `staging`, `prod`), `context.environment` in
    /// playbooks.
    pub environments: BTreeMap<String, String>,
    /// The environment of accounts not listed. Production by default: an account vigil
    /// knows nothing about is treated with the most care.
    pub default_environment: String,
    /// Environments whose runs need approval for every mutating step.
    pub approval_environments: Vec<String>,
    /// Whether production (the environments above, and branches marked `production`) needs
    /// approval for every mutating step. Set false only where a human cannot be reached in
    /// time and the playbooks were rehearsed.
    pub production_requires_approval: bool,
    /// Actions that never wait for the production approval (steps with
    /// `approval: required` still do): ones that restore a security control and cannot
    /// disrupt a workload, such as turning CloudTrail logging back on.
    pub auto_approved_actions: Vec<String>,
    /// The tag that protects a resource from every change.
    pub protected_tag_key: String,
    pub protected_tag_value: String,
    /// The most resources one run may change.
    pub max_resources_changed: usize,
    /// Whether an approver must be someone other than the run's responder.
    pub four_eyes: bool,
    /// How far before a finding's first event activity searches start
    /// (`context.lookback_start`).
    pub lookback_hours: u32,
    /// Values playbooks read as `config.<name>` (notification targets, forensic subnet...).
    pub vars: Map<String, Value>,
}

impl Default for ResponseConfig {
    fn default() -> Self {
        ResponseConfig {
            environments: BTreeMap::new(),
            default_environment: "prod".into(),
            approval_environments: vec!["prod".into(), "production".into()],
            production_requires_approval: true,
            auto_approved_actions: vec![
                "cloudtrail.start_logging".into(),
                "guardduty.enable_detector".into(),
                "config.start_recorder".into(),
            ],
            protected_tag_key: "vigil:protected".into(),
            protected_tag_value: "true".into(),
            max_resources_changed: 25,
            four_eyes: false,
            lookback_hours: 24,
            vars: Map::new(),
        }
    }
}

impl ResponseConfig {
    /// The environment of an account.
    pub fn environment_of(&self, account: Option<&str>) -> String {
        account
            .and_then(|a| self.environments.get(a))
            .cloned()
            .unwrap_or_else(|| self.default_environment.clone())
    }

    /// Whether runs in `environment` need approval for mutating steps.
    pub fn is_production(&self, environment: &str) -> bool {
        self.approval_environments
            .iter()
            .any(|e| e.eq_ignore_ascii_case(environment))
    }
}

/// The guard of one run: refuses protected resources and changes beyond the run's limit.
/// A resource counts once however many steps change it.
#[derive(Debug)]
pub struct RunGuard {
    key: String,
    value: String,
    limit: usize,
    changed: Mutex<BTreeSet<String>>,
}

impl RunGuard {
    /// A guard for a run that has already changed `changed`.
    pub fn new(config: &ResponseConfig, changed: BTreeSet<String>) -> RunGuard {
        RunGuard {
            key: config.protected_tag_key.clone(),
            value: config.protected_tag_value.clone(),
            limit: config.max_resources_changed,
            changed: Mutex::new(changed),
        }
    }

    /// Every resource allowed a change so far.
    pub fn changed(&self) -> BTreeSet<String> {
        self.changed
            .lock()
            .map(|set| set.clone())
            .unwrap_or_default()
    }
}

impl Guard for RunGuard {
    fn allow_change(&self, resource: &str, tags: &[(String, String)]) -> Result<(), ActionError> {
        let protected = tags
            .iter()
            .any(|(k, v)| k == &self.key && v.eq_ignore_ascii_case(&self.value));
        if protected {
            return Err(ActionError::Protected(format!(
                "{resource} is tagged {}={}",
                self.key, self.value
            )));
        }
        let mut changed = self
            .changed
            .lock()
            .map_err(|_| ActionError::Failed("the run's guard is poisoned".into()))?;
        if !changed.contains(resource) && changed.len() >= self.limit {
            return Err(ActionError::LimitReached(format!(
                "{resource} would be resource {} of a run limited to {}",
                changed.len() + 1,
                self.limit
            )));
        }
        changed.insert(resource.to_string());
        Ok(())
    }
}

/// Evidence kept in memory: for plans, tests, and callers without a vault.
#[derive(Debug, Default)]
pub struct MemoryEvidence {
    items: Mutex<Vec<(String, EvidenceItem)>>,
}

impl MemoryEvidence {
    pub fn new() -> MemoryEvidence {
        MemoryEvidence::default()
    }

    /// The items stored, with their SHA-256.
    pub fn items(&self) -> Vec<(String, EvidenceItem)> {
        self.items
            .lock()
            .map(|items| items.clone())
            .unwrap_or_default()
    }
}

impl EvidenceSink for MemoryEvidence {
    fn put(&self, item: EvidenceItem) -> Result<String, String> {
        let digest: String = Sha256::digest(&item.bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        self.items
            .lock()
            .map_err(|_| "the evidence store is poisoned".to_string())?
            .push((digest.clone(), item));
        Ok(digest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn protected_resources_are_refused() {
        let guard = RunGuard::new(&ResponseConfig::default(), BTreeSet::new());
        let refused = guard.allow_change("i-1", &tags(&[("vigil:protected", "TRUE")]));
        assert!(
            matches!(refused, Err(ActionError::Protected(_))),
            "{refused:?}"
        );
        assert!(guard
            .allow_change("i-1", &tags(&[("vigil:protected", "false")]))
            .is_ok());
    }

    #[test]
    fn the_limit_counts_distinct_resources_including_earlier_ones() {
        let config = ResponseConfig {
            max_resources_changed: 2,
            ..ResponseConfig::default()
        };
        let guard = RunGuard::new(&config, BTreeSet::from(["i-1".to_string()]));
        assert!(guard.allow_change("i-2", &[]).is_ok());
        assert!(guard.allow_change("i-1", &[]).is_ok(), "already counted");
        assert!(matches!(
            guard.allow_change("i-3", &[]),
            Err(ActionError::LimitReached(_))
        ));
        assert_eq!(guard.changed().len(), 2);
    }

    #[test]
    fn unknown_accounts_are_production() {
        let mut config = ResponseConfig::default();
        config
            .environments
            .insert("111111111111".into(), "dev".into());
        assert_eq!(config.environment_of(Some("111111111111")), "dev");
        assert_eq!(config.environment_of(Some("222222222222")), "prod");
        assert!(config.is_production(&config.environment_of(None)));
    }
}
