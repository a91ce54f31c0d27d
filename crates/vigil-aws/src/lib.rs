//! The one place where vigil builds AWS SDK configuration.
//!
//! Every part of vigil that calls AWS — response actions, the posture scan's inventory, the
//! evidence vault's S3 backend, `vigil trail verify` — asks an [`AwsContext`] for an
//! [`SdkConfig`] and builds its service client from it (`aws_sdk_ec2::Client::new(&cfg)`).
//! The context resolves, once:
//! - credentials from the default chain (environment, profile files, SSO, web identity,
//!   container and instance metadata), a named profile, or explicit static credentials;
//! - the region (option, profile, environment; `us-east-1` when nothing says);
//! - an endpoint override for emulators such as moto (`--endpoint-url`);
//! - retries with exponential backoff and jitter on throttling and transient errors (the
//!   SDK's standard retry mode, with a configurable number of attempts);
//! - the guide's "direct access" pattern: in each target account, assume a named
//!   incident-response role with a session name that names vigil, the operator and the case,
//!   so the account's CloudTrail shows who acted and why. Assumed sessions are cached per
//!   account and region and refreshed by the SDK as they expire.
//!
//! Main types: [`AwsOptions`], [`AwsContext`], [`CallerIdentity`], [`AwsError`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), vigil_aws::AwsError> {
//! use vigil_aws::{AwsContext, AwsOptions};
//! let ctx = AwsContext::load(AwsOptions {
//!     region: Some("eu-west-1".into()),
//!     role_name: Some("IncidentResponse".into()),
//!     case_id: Some("case-42".into()),
//!     ..AwsOptions::default()
//! })
//! .await?;
//! let cfg = ctx.config_for(Some("210987654321"), None).await?;
//! // let ec2 = aws_sdk_ec2::Client::new(&cfg);
//! # let _ = cfg; Ok(()) }
//! ```

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use tokio::sync::Mutex;

/// The region used when neither the options, the profile nor the environment name one.
pub const DEFAULT_REGION: &str = "us-east-1";

/// Default number of attempts per call (first try included) before a throttled or transient
/// error is returned.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 8;

/// How vigil reaches AWS. Every field is optional; the defaults are the SDK's own chain.
#[derive(Debug, Clone, Default)]
pub struct AwsOptions {
    /// A named profile from the shared config and credentials files.
    pub profile: Option<String>,
    /// The home region (actions and scans may still ask for others).
    pub region: Option<String>,
    /// Send every call to this endpoint instead of AWS (moto, LocalStack).
    pub endpoint_url: Option<String>,
    /// The incident-response role to assume in each target account, by name
    /// (`arn:<partition>:iam::<account>:role/<role_name>`).
    pub role_name: Option<String>,
    /// An external id the role's trust policy requires.
    pub external_id: Option<String>,
    /// The case this session acts for; part of the assumed-role session name.
    pub case_id: Option<String>,
    /// Who runs vigil (defaults to `$USER`); part of the session name.
    pub operator: Option<String>,
    /// Explicit credentials (for emulators and tests); bypasses the default chain.
    pub static_credentials: Option<(String, String)>,
    /// Attempts per call including the first; [`DEFAULT_MAX_ATTEMPTS`] when `None`.
    pub max_attempts: Option<u32>,
    /// Partition for role ARNs (`aws`, `aws-cn`, `aws-us-gov`); `aws` when `None`.
    pub partition: Option<String>,
}

impl AwsOptions {
    /// Options for an emulator at `endpoint`: fixed test credentials, `us-east-1`, and few
    /// retries so a missing emulator feature fails fast.
    pub fn for_emulator(endpoint: impl Into<String>) -> Self {
        AwsOptions {
            region: Some(DEFAULT_REGION.to_string()),
            endpoint_url: Some(endpoint.into()),
            static_credentials: Some(("testing".to_string(), "testing".to_string())),
            max_attempts: Some(2),
            ..AwsOptions::default()
        }
    }
}

/// Errors raised while building configuration or resolving identity.
#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    #[error("invalid AWS option: {0}")]
    InvalidOption(String),
    #[error("cannot resolve the caller identity (sts:GetCallerIdentity): {0}")]
    Identity(String),
    #[error("cannot assume {role_arn}: {reason}")]
    AssumeRole { role_arn: String, reason: String },
}

/// Who a configuration acts as, from `sts:GetCallerIdentity`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerIdentity {
    pub account: String,
    pub arn: String,
    pub user_id: String,
}

/// Resolved AWS access: the base configuration and a cache of assumed-role configurations.
#[derive(Clone)]
pub struct AwsContext {
    base: SdkConfig,
    options: AwsOptions,
    assumed: Arc<Mutex<HashMap<(String, String), SdkConfig>>>,
}

impl std::fmt::Debug for AwsContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsContext")
            .field("region", &self.region())
            .field("endpoint_url", &self.options.endpoint_url)
            .field("profile", &self.options.profile)
            .field("role_name", &self.options.role_name)
            .finish()
    }
}

impl AwsContext {
    /// Loads the base configuration from the options and the environment.
    pub async fn load(options: AwsOptions) -> Result<Self, AwsError> {
        if let Some(role) = &options.role_name {
            if role.is_empty() || role.contains(':') {
                return Err(AwsError::InvalidOption(format!(
                    "role name {role:?} must be a role name, not an ARN"
                )));
            }
        }
        let attempts = options.max_attempts.unwrap_or(DEFAULT_MAX_ATTEMPTS).max(1);
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(attempts)
                    .with_initial_backoff(Duration::from_millis(200))
                    .with_max_backoff(Duration::from_secs(20)),
            )
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(10))
                    .operation_attempt_timeout(Duration::from_secs(60))
                    .build(),
            );
        if let Some(profile) = &options.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(region) = &options.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(url) = &options.endpoint_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(AwsError::InvalidOption(format!(
                    "endpoint URL {url:?} must start with http:// or https://"
                )));
            }
            loader = loader.endpoint_url(url);
        }
        if let Some((key, secret)) = &options.static_credentials {
            loader = loader.credentials_provider(Credentials::from_keys(key, secret, None));
        }
        let mut base = loader.load().await;
        if base.region().is_none() {
            base = base
                .into_builder()
                .region(Region::new(DEFAULT_REGION))
                .build();
        }
        Ok(AwsContext {
            base,
            options,
            assumed: Arc::new(Mutex::new(HashMap::new())),
        })
    }

    /// The base configuration (the caller's own credentials, home region).
    pub fn base(&self) -> &SdkConfig {
        &self.base
    }

    /// The options this context was built from.
    pub fn options(&self) -> &AwsOptions {
        &self.options
    }

    /// The home region.
    pub fn region(&self) -> String {
        self.base
            .region()
            .map(|r| r.to_string())
            .unwrap_or_else(|| DEFAULT_REGION.to_string())
    }

    /// True when calls go to an emulator rather than AWS.
    pub fn is_emulator(&self) -> bool {
        self.options.endpoint_url.is_some()
    }

    /// The configuration to act in `account` (assuming the incident-response role there when
    /// one is configured) and `region` (the home region when `None`).
    ///
    /// Without a role name, or with no account, the base credentials are used: the caller is
    /// already in the account it acts on.
    pub async fn config_for(
        &self,
        account: Option<&str>,
        region: Option<&str>,
    ) -> Result<SdkConfig, AwsError> {
        let region = region.map(str::to_string).unwrap_or_else(|| self.region());
        let (Some(account), Some(role)) = (account, self.options.role_name.as_deref()) else {
            return Ok(self.with_region(&self.base, &region));
        };
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AwsError::InvalidOption(format!(
                "account id {account:?} must be 12 digits"
            )));
        }
        let key = (account.to_string(), region.clone());
        let mut cache = self.assumed.lock().await;
        if let Some(cfg) = cache.get(&key) {
            return Ok(cfg.clone());
        }
        let role_arn = self.role_arn(account, role);
        let mut builder = AssumeRoleProvider::builder(role_arn.clone())
            .configure(&self.base)
            .region(Region::new(region.clone()))
            .session_name(self.session_name());
        if let Some(id) = &self.options.external_id {
            builder = builder.external_id(id);
        }
        let provider = builder.build().await;
        let cfg = self
            .with_region(&self.base, &region)
            .into_builder()
            .credentials_provider(SharedCredentialsProvider::new(provider))
            .build();
        cache.insert(key, cfg.clone());
        Ok(cfg)
    }

    /// The ARN of the incident-response role in `account`.
    pub fn role_arn(&self, account: &str, role: &str) -> String {
        let partition = self.options.partition.as_deref().unwrap_or("aws");
        format!("arn:{partition}:iam::{account}:role/{role}")
    }

    /// The assumed-role session name: `vigil-<case>-<operator>`, restricted to the characters
    /// STS accepts (`[\w+=,.@-]`) and its 64-character limit.
    pub fn session_name(&self) -> String {
        let operator = self
            .options
            .operator
            .clone()
            .or_else(|| std::env::var("USER").ok())
            .unwrap_or_else(|| "operator".to_string());
        session_name(self.options.case_id.as_deref(), &operator)
    }

    /// Asks STS who the base credentials (or the account's assumed role) are.
    pub async fn caller_identity(&self, account: Option<&str>) -> Result<CallerIdentity, AwsError> {
        let cfg = self.config_for(account, None).await?;
        let out = aws_sdk_sts::Client::new(&cfg)
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| AwsError::Identity(error_chain(&e)))?;
        Ok(CallerIdentity {
            account: out.account.unwrap_or_default(),
            arn: out.arn.unwrap_or_default(),
            user_id: out.user_id.unwrap_or_default(),
        })
    }

    fn with_region(&self, cfg: &SdkConfig, region: &str) -> SdkConfig {
        if cfg.region().map(|r| r.as_ref()) == Some(region) {
            return cfg.clone();
        }
        cfg.clone()
            .into_builder()
            .region(Region::new(region.to_string()))
            .build()
    }
}

/// Builds an STS session name from a case id and an operator (see
/// [`AwsContext::session_name`]).
pub fn session_name(case_id: Option<&str>, operator: &str) -> String {
    let raw = match case_id {
        Some(case) => format!("vigil-{case}-{operator}"),
        None => format!("vigil-{operator}"),
    };
    let mut name: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "+=,.@-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    name.truncate(64);
    name
}

/// The whole cause chain of an SDK error in one line: the SDK's `Display` alone often says
/// only "service error".
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_names_are_valid_for_sts() {
        assert_eq!(
            session_name(Some("case-42"), "alice"),
            "vigil-case-42-alice"
        );
        assert_eq!(session_name(None, "bob smith"), "vigil-bob_smith");
        let long = session_name(Some(&"x".repeat(100)), "alice");
        assert_eq!(long.len(), 64);
        assert!(session_name(Some("c/1:ü"), "a")
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@-_".contains(c)));
    }

    #[tokio::test]
    async fn rejects_bad_options() {
        let err = AwsContext::load(AwsOptions {
            role_name: Some("arn:aws:iam::1:role/x".into()),
            ..AwsOptions::default()
        })
        .await
        .unwrap_err();
        assert!(err.to_string().contains("not an ARN"), "{err}");
        let err = AwsContext::load(AwsOptions {
            endpoint_url: Some("localhost:5000".into()),
            ..AwsOptions::default()
        })
        .await
        .unwrap_err();
        assert!(err.to_string().contains("http://"), "{err}");
    }

    #[tokio::test]
    async fn account_ids_are_checked_before_assuming() {
        let ctx = AwsContext::load(AwsOptions {
            role_name: Some("IncidentResponse".into()),
            ..AwsOptions::for_emulator("http://127.0.0.1:9")
        })
        .await
        .unwrap();
        let err = ctx.config_for(Some("12345"), None).await.unwrap_err();
        assert!(err.to_string().contains("12 digits"), "{err}");
        assert_eq!(
            ctx.role_arn("210987654321", "IncidentResponse"),
            "arn:aws:iam::210987654321:role/IncidentResponse"
        );
    }
}
