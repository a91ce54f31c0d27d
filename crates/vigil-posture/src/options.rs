//! How an evaluation is tuned: thresholds, readiness expectations, which controls run,
//! and which results are muted.

use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::policy::{PolicyVerdicts, VigilPolicyAnalyzer};
use crate::result::{parse_control_number, Area, ControlInfo, ControlResult, Mute};

/// Numeric limits, with the CIS AWS Foundations Benchmark v3.0 values as defaults.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    /// Minimum password length (CIS 1.8: 14).
    pub password_min_length: u32,
    /// Passwords remembered against reuse (CIS 1.9: 24).
    pub password_reuse: u32,
    /// Days after which an unused password or access key must be disabled (CIS 1.12: 45).
    pub credential_unused_days: i64,
    /// Maximum access key age in days (CIS 1.14: 90).
    pub key_rotation_days: i64,
    /// Days within which any root credential use fails "eliminate root use" (CIS 1.7).
    pub root_use_days: i64,
    /// Grace in seconds between user creation and first key rotation for "no access keys at
    /// user setup" (CIS 1.11): a key created this soon after the user and never used fails.
    pub user_setup_key_grace_secs: i64,
    /// Maximum age of the forensic workstation AMI in days (IR Guide: 30).
    pub forensic_ami_max_age_days: i64,
    /// Days a break-glass role may go unused before its last use is *not* day-to-day
    /// (a use within this window fails control 67).
    pub break_glass_recent_use_days: i64,
    /// Maximum days since a secret's last rotation (Security Hub SecretsManager.4: 90).
    pub secret_rotation_days: i64,
    /// Remote administration ports (CIS 5.1–5.3: 22, 3389).
    pub admin_ports: Vec<u16>,
    /// High-risk ports that must not be open to the world (Security Hub EC2.19).
    pub high_risk_ports: Vec<u16>,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            password_min_length: 14,
            password_reuse: 24,
            credential_unused_days: 45,
            key_rotation_days: 90,
            root_use_days: 90,
            user_setup_key_grace_secs: 10,
            forensic_ami_max_age_days: 30,
            break_glass_recent_use_days: 30,
            secret_rotation_days: 90,
            admin_ports: vec![22, 3389],
            high_risk_ports: vec![
                20, 21, 22, 23, 25, 110, 135, 143, 445, 1433, 1434, 3000, 3306, 3389, 4333, 5000,
                5432, 5500, 5601, 8080, 8088, 8888, 9200, 9300,
            ],
        }
    }
}

/// What incident-response readiness expects to find, by name.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Readiness {
    /// The security (tooling / log archive) account; required by controls 66, 68, 70, 74.
    pub security_account: Option<String>,
    /// Further accounts the user trusts (cross-account grants to them are not findings).
    pub trusted_accounts: Vec<String>,
    /// Case-insensitive substrings naming the incident-response role (control 66).
    pub ir_role_names: Vec<String>,
    /// Case-insensitive substrings naming the break-glass role (control 67).
    pub break_glass_role_names: Vec<String>,
    /// Principal ARNs of automation allowed to assume the IR role without MFA.
    pub automation_principals: Vec<String>,
    /// Case-insensitive substrings of an AMI name (or `vigil:role` tag value) marking the
    /// forensic workstation image (control 70).
    pub forensic_ami_names: Vec<String>,
    /// Evidence buckets by name; empty = any bucket with Object Lock in the security
    /// account (control 68).
    pub evidence_buckets: Vec<String>,
}

impl Default for Readiness {
    fn default() -> Self {
        Readiness {
            security_account: None,
            trusted_accounts: Vec::new(),
            ir_role_names: vec!["incident-response".into(), "incidentresponse".into()],
            break_glass_role_names: vec![
                "break-glass".into(),
                "breakglass".into(),
                "emergency-access".into(),
            ],
            automation_principals: Vec::new(),
            forensic_ami_names: vec!["forensic".into()],
            evidence_buckets: Vec::new(),
        }
    }
}

/// A framework a control maps to.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Framework {
    /// CIS AWS Foundations Benchmark v3.0.
    Cis,
    /// AWS Security Hub controls (FSBP / CIS standards).
    SecurityHub,
    /// vigil's incident-response readiness checks.
    IrReadiness,
}

impl Framework {
    fn covers(self, info: &ControlInfo) -> bool {
        match self {
            Framework::Cis => info.cis.is_some(),
            Framework::SecurityHub => !info.security_hub.is_empty(),
            Framework::IrReadiness => info.area == Area::IncidentResponse,
        }
    }
}

/// One way to pick controls on the command line or in configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selector {
    /// One control by number.
    Control(u8),
    /// Every control of an area.
    Area(Area),
    /// Every control mapped to a framework.
    Framework(Framework),
}

impl FromStr for Selector {
    type Err = String;

    /// `VIG-03` / `3`, an area name (`detection`, `data_protection`), or a framework
    /// (`cis`, `security-hub`, `ir-readiness`).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if let Some(number) = parse_control_number(text) {
            return Ok(Selector::Control(number));
        }
        let key = text.trim().to_ascii_lowercase().replace('-', "_");
        match key.as_str() {
            "cis" => return Ok(Selector::Framework(Framework::Cis)),
            "security_hub" | "securityhub" => {
                return Ok(Selector::Framework(Framework::SecurityHub))
            }
            "ir_readiness" | "ir" => return Ok(Selector::Framework(Framework::IrReadiness)),
            _ => {}
        }
        Area::ALL
            .into_iter()
            .find(|area| area.name() == key)
            .map(Selector::Area)
            .ok_or_else(|| {
                format!(
                    "unknown control selector `{text}`: expected a control id (VIG-03), an area \
                     (identity_access, detection, infrastructure_protection, data_protection, \
                     incident_response) or a framework (cis, security-hub, ir-readiness)"
                )
            })
    }
}

/// Which controls run: those matching any selector (all when there is none), minus the
/// excluded ones.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    /// Controls matching any of these run; empty = every control.
    pub include: Vec<Selector>,
    /// Controls matching any of these never run.
    pub exclude: Vec<Selector>,
}

impl Selection {
    /// Parses comma-separated selectors (`cis,VIG-66`) for include and exclude.
    pub fn parse(include: &str, exclude: &str) -> Result<Selection, String> {
        let list = |text: &str| -> Result<Vec<Selector>, String> {
            text.split(',')
                .map(str::trim)
                .filter(|part| !part.is_empty())
                .map(str::parse)
                .collect()
        };
        Ok(Selection {
            include: list(include)?,
            exclude: list(exclude)?,
        })
    }

    /// True when the control runs.
    pub fn selects(&self, info: &ControlInfo) -> bool {
        let matches = |selector: &Selector| match selector {
            Selector::Control(number) => info.number == *number,
            Selector::Area(area) => info.area == *area,
            Selector::Framework(framework) => framework.covers(info),
        };
        (self.include.is_empty() || self.include.iter().any(matches))
            && !self.exclude.iter().any(matches)
    }
}

/// One accepted risk: which results it covers, why, by whom, until when.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MuteRule {
    /// Control id (`VIG-40`) or `*`.
    pub control: String,
    /// Resource id (ARN) pattern; `*` matches any run of characters. Absent = any.
    #[serde(default)]
    pub resource: Option<String>,
    /// Account id. Absent = any.
    #[serde(default)]
    pub account: Option<String>,
    /// Why the risk is accepted (required).
    pub reason: String,
    /// When the mute lapses. Absent = until removed.
    #[serde(default)]
    pub expires: Option<DateTime<Utc>>,
    /// Who accepted it.
    #[serde(default)]
    pub by: Option<String>,
}

impl MuteRule {
    fn applies(&self, result: &ControlResult, now: DateTime<Utc>) -> bool {
        let control_matches = self.control == "*"
            || parse_control_number(&self.control)
                .is_some_and(|n| parse_control_number(&result.control) == Some(n));
        control_matches
            && self.expires.is_none_or(|expires| expires > now)
            && self
                .account
                .as_ref()
                .is_none_or(|account| *account == result.resource.account)
            && self
                .resource
                .as_ref()
                .is_none_or(|pattern| wildcard_match(pattern, &result.resource.id))
    }
}

/// Accepted risks, applied after evaluation.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(transparent)]
pub struct Mutes(pub Vec<MuteRule>);

impl Mutes {
    /// Marks each result covered by an unexpired rule as muted (the first matching rule
    /// wins). Expired rules are ignored.
    pub fn apply(&self, results: &mut [ControlResult], now: DateTime<Utc>) {
        for result in results.iter_mut() {
            if let Some(rule) = self.0.iter().find(|rule| rule.applies(result, now)) {
                result.muted = Some(Mute {
                    reason: rule.reason.clone(),
                    expires: rule.expires,
                    by: rule.by.clone(),
                });
            }
        }
    }
}

/// `*`-only glob match, written here because ARN patterns need nothing more and a glob
/// crate would bring `?`/`[...]` semantics that ARNs do not want. Linear-time greedy
/// matching with backtracking to the last star.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let (pattern, text) = (pattern.as_bytes(), text.as_bytes());
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((star_p, star_t)) = star {
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&b| b == b'*')
}

/// Everything [`crate::evaluate`] takes besides the snapshot.
#[derive(Clone)]
pub struct EvalOptions {
    /// Numeric limits.
    pub thresholds: Thresholds,
    /// Readiness expectations (security account, role names…).
    pub readiness: Readiness,
    /// Which controls run.
    pub selection: Selection,
    /// Accepted risks.
    pub mutes: Mutes,
    /// The clock for mute expiry; `None` = the current time. (Age-based controls measure
    /// from the snapshot's `collected_at` instead.)
    pub now: Option<DateTime<Utc>>,
    /// Resource-policy analysis for the policy controls (default: `vigil-policy`).
    pub policy: Arc<dyn PolicyVerdicts>,
}

impl Default for EvalOptions {
    fn default() -> Self {
        EvalOptions {
            thresholds: Thresholds::default(),
            readiness: Readiness::default(),
            selection: Selection::default(),
            mutes: Mutes::default(),
            now: None,
            policy: Arc::new(VigilPolicyAnalyzer),
        }
    }
}

impl std::fmt::Debug for EvalOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EvalOptions")
            .field("thresholds", &self.thresholds)
            .field("readiness", &self.readiness)
            .field("selection", &self.selection)
            .field("mutes", &self.mutes)
            .field("now", &self.now)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_runs_of_characters() {
        assert!(wildcard_match(
            "arn:aws:s3:::logs-*",
            "arn:aws:s3:::logs-2024"
        ));
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("a*b*c", "aXXbYYbc"));
        assert!(!wildcard_match("a*b*c", "aXXbYYb"));
        assert!(!wildcard_match(
            "arn:aws:s3:::logs",
            "arn:aws:s3:::logs-2024"
        ));
        assert!(wildcard_match("*-prod", "db-prod"));
    }

    #[test]
    fn selectors_parse_ids_areas_and_frameworks() {
        assert_eq!("VIG-07".parse(), Ok(Selector::Control(7)));
        assert_eq!(
            "data-protection".parse(),
            Ok(Selector::Area(Area::DataProtection))
        );
        assert_eq!("CIS".parse(), Ok(Selector::Framework(Framework::Cis)));
        assert_eq!(
            "security-hub".parse(),
            Ok(Selector::Framework(Framework::SecurityHub))
        );
        let err = "pci".parse::<Selector>().unwrap_err();
        assert!(err.contains("unknown control selector `pci`"));
        assert!(Selection::parse("cis,bogus", "").is_err());
    }

    #[test]
    fn thresholds_default_to_cis_and_read_partial_config() {
        let parsed: Thresholds = serde_json::from_str(r#"{"password_min_length": 16}"#).unwrap();
        assert_eq!(parsed.password_min_length, 16);
        assert_eq!(parsed.password_reuse, 24);
        assert_eq!(parsed.key_rotation_days, 90);
        assert!(serde_json::from_str::<Thresholds>(r#"{"pasword_min_length": 16}"#).is_err());
    }
}
