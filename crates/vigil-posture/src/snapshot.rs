//! The inventory snapshot: exactly the AWS API data the controls read, per account and
//! region, as versioned JSON (`"format": 1`).
//!
//! The collectors (crate `vigil-inventory`) fill it; the controls only read it, so a scan
//! can be re-evaluated offline, diffed, or built by hand in tests. Field names follow the
//! AWS API shapes in snake_case (`minimum_password_length`, `is_multi_region_trail`), and
//! every field documents the call it comes from.
//!
//! Every item that needs its own API call is a [`Collected`]: the data, the error of the
//! call (so the controls that need it report UNKNOWN with the reason — never PASS), or
//! `not_collected`. "The thing does not exist" answers (`NoSuchEntity` for the password
//! policy, `NoSuchBucketPolicy`, `NoSuchPublicAccessBlockConfiguration`, …) are data, not
//! errors: they are `Ok(None)` / an empty list, and the controls judge them.
//!
//! Top level: [`Snapshot`] → [`AccountSnapshot`] (global data: [`IamData`], S3 buckets,
//! account settings, organisation, CloudFront) → [`RegionSnapshot`] (everything regional).

mod compute;
mod iam;
mod logging;
mod network;
mod services;
mod storage;

use std::fmt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use compute::*;
pub use iam::*;
pub use logging::*;
pub use network::*;
pub use services::*;
pub use storage::*;

/// The snapshot format this crate reads and writes.
pub const SNAPSHOT_FORMAT: u32 = 1;

/// The result of one AWS API call (or one family of paginated calls).
///
/// Serialised externally tagged: `{"ok": …}`, `{"error": {"call": …, "code": …,
/// "message": …}}` or `"not_collected"`; a missing field reads as `not_collected`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Collected<T> {
    /// The call answered.
    Ok(T),
    /// The call failed: denied, throttled to the end, unsupported in the region…
    Error {
        /// The API call, `service:Operation` (`iam:GetAccountPasswordPolicy`).
        call: String,
        /// The AWS error code (`AccessDenied`), or a transport error class.
        code: String,
        /// The error message.
        message: String,
    },
    /// The scan did not make the call (service or region not selected).
    #[default]
    NotCollected,
}

/// Why a control could not use a [`Collected`] value: the text of an UNKNOWN result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gap(pub String);

impl fmt::Display for Gap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<T> Collected<T> {
    /// The data, or why it is missing. `call` names the API call for a `not_collected`
    /// value (errors name their own call).
    pub fn get(&self, call: &str) -> Result<&T, Gap> {
        match self {
            Collected::Ok(value) => Ok(value),
            Collected::Error {
                call: failed,
                code,
                message,
            } => Err(Gap(format!("{failed} failed ({code}): {message}"))),
            Collected::NotCollected => Err(Gap(format!("{call} was not collected in this scan"))),
        }
    }

    /// The data when the call succeeded.
    pub fn ok(&self) -> Option<&T> {
        match self {
            Collected::Ok(value) => Some(value),
            _ => None,
        }
    }

    /// A failed call (for building snapshots and tests).
    pub fn error(call: &str, code: &str, message: &str) -> Self {
        Collected::Error {
            call: call.into(),
            code: code.into(),
            message: message.into(),
        }
    }

    /// True for an `Error`.
    pub fn is_error(&self) -> bool {
        matches!(self, Collected::Error { .. })
    }
}

/// One inventory run over one or more accounts.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Snapshot {
    /// Always [`SNAPSHOT_FORMAT`]; `load` refuses other versions.
    pub format: u32,
    /// When collection started; age-based controls (key age, unused credentials) measure
    /// from here, so re-evaluating an old snapshot gives the same answer.
    pub collected_at: DateTime<Utc>,
    /// When collection ended.
    #[serde(default)]
    pub finished_at: Option<DateTime<Utc>>,
    /// AWS partition (`aws`, `aws-us-gov`, `aws-cn`) for building ARNs.
    #[serde(default = "default_partition")]
    pub partition: String,
    /// The regions the scan covered (every account).
    #[serde(default)]
    pub regions: Vec<String>,
    /// One entry per account.
    #[serde(default)]
    pub accounts: Vec<AccountSnapshot>,
    /// API calls made.
    #[serde(default)]
    pub api_calls: u64,
    /// API calls that failed.
    #[serde(default)]
    pub api_errors: u64,
}

fn default_partition() -> String {
    "aws".into()
}

impl Default for Snapshot {
    fn default() -> Self {
        Snapshot {
            format: SNAPSHOT_FORMAT,
            collected_at: DateTime::UNIX_EPOCH,
            finished_at: None,
            partition: default_partition(),
            regions: Vec::new(),
            accounts: Vec::new(),
            api_calls: 0,
            api_errors: 0,
        }
    }
}

/// Everything collected from one account.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct AccountSnapshot {
    /// The 12-digit account id (sts:GetCallerIdentity).
    pub account_id: String,
    /// Account alias (iam:ListAccountAliases), for display.
    pub alias: Option<String>,
    /// Alternate contacts (account:GetAlternateContact, one call per type).
    pub alternate_contacts: AlternateContacts,
    /// IAM: users, roles, policies, credential report, account settings.
    pub iam: IamData,
    /// Account-level S3 Block Public Access (s3control:GetPublicAccessBlock);
    /// `None` = NoSuchPublicAccessBlockConfiguration.
    pub account_public_access_block: Collected<Option<PublicAccessBlock>>,
    /// Buckets owned by the account (s3:ListBuckets), each with its own settings.
    pub buckets: Collected<Vec<Bucket>>,
    /// CloudFront distributions (cloudfront:ListDistributions, GetDistributionConfig).
    pub cloudfront_distributions: Collected<Vec<CloudFrontDistribution>>,
    /// organizations:DescribeOrganization; `None` = AWSOrganizationsNotInUseException.
    pub organization: Collected<Option<Organization>>,
    /// Service control policies (organizations:ListPolicies(SERVICE_CONTROL_POLICY),
    /// DescribePolicy, ListTargetsForPolicy). Readable from the management account or a
    /// delegated administrator only; elsewhere it is an AccessDenied error.
    pub service_control_policies: Collected<Vec<ServiceControlPolicy>>,
    /// IAM Identity Center instances (sso-admin:ListInstances in the home region).
    pub sso_instances: Collected<Vec<SsoInstance>>,
    /// Per-region data, one entry per scanned region.
    pub regions: Vec<RegionSnapshot>,
}

/// Everything collected from one region of one account.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct RegionSnapshot {
    /// Region name (`eu-west-1`).
    pub region: String,
    /// Network: VPCs, subnets, security groups, NACLs, routes, peering, flow logs.
    pub network: NetworkData,
    /// Compute: instances, volumes, snapshots, images, SSM, EKS, Lambda.
    pub compute: ComputeData,
    /// Logging and detection services.
    pub logging: LoggingData,
    /// Data services: RDS, EFS, KMS, Secrets Manager, load balancers, API Gateway.
    pub services: ServicesData,
}

/// Why a snapshot could not be read or written; every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The file could not be opened, read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a valid snapshot document.
    #[error("{path}: line {line}, column {column}: {message}")]
    Json {
        /// The file.
        path: PathBuf,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// The snapshot was written by an incompatible version of vigil.
    #[error("{path}: snapshot format {found} is not supported (this vigil reads format {SNAPSHOT_FORMAT})")]
    Format {
        /// The file.
        path: PathBuf,
        /// The format number found.
        found: u64,
    },
}

impl Snapshot {
    /// Reads a snapshot file, checking its format version first.
    pub fn load(path: impl AsRef<Path>) -> Result<Snapshot, SnapshotError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| SnapshotError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Snapshot::from_json(&text, path)
    }

    /// Parses snapshot JSON; `path` is only used in errors.
    pub fn from_json(text: &str, path: &Path) -> Result<Snapshot, SnapshotError> {
        let json_error = |err: serde_json::Error| SnapshotError::Json {
            path: path.to_path_buf(),
            line: err.line(),
            column: err.column(),
            message: err.to_string(),
        };
        // Check the version before the shape, so an old or future file gets a clear error
        // rather than a complaint about some field.
        #[derive(Deserialize)]
        struct Header {
            format: Option<u64>,
        }
        let header: Header = serde_json::from_str(text).map_err(json_error)?;
        match header.format {
            Some(found) if found == u64::from(SNAPSHOT_FORMAT) => {}
            Some(found) => {
                return Err(SnapshotError::Format {
                    path: path.to_path_buf(),
                    found,
                })
            }
            None => {
                return Err(SnapshotError::Json {
                    path: path.to_path_buf(),
                    line: 1,
                    column: 1,
                    message: "missing field `format` (not a vigil snapshot?)".into(),
                })
            }
        }
        serde_json::from_str(text).map_err(json_error)
    }

    /// Writes the snapshot as pretty JSON.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), SnapshotError> {
        let path = path.as_ref();
        let io = |source| SnapshotError::Io {
            path: path.to_path_buf(),
            source,
        };
        let text = serde_json::to_string_pretty(self).map_err(|err| io(err.into()))?;
        std::fs::write(path, text).map_err(io)
    }

    /// The account with this id.
    pub fn account(&self, account_id: &str) -> Option<&AccountSnapshot> {
        self.accounts.iter().find(|a| a.account_id == account_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Snapshot {
        let mut account = AccountSnapshot {
            account_id: "111122223333".into(),
            ..Default::default()
        };
        account.iam.password_policy = Collected::Ok(None);
        account.iam.account_summary =
            Collected::error("iam:GetAccountSummary", "AccessDenied", "not authorized");
        account.regions.push(RegionSnapshot {
            region: "eu-west-1".into(),
            ..Default::default()
        });
        Snapshot {
            collected_at: "2024-05-01T00:00:00Z".parse().unwrap(),
            regions: vec!["eu-west-1".into()],
            accounts: vec![account],
            ..Default::default()
        }
    }

    #[test]
    fn snapshots_round_trip_through_a_file() {
        let dir = std::env::temp_dir().join(format!("vigil-snap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("snap.json");
        let snapshot = sample();
        snapshot.save(&path).unwrap();
        let back = Snapshot::load(&path).unwrap();
        assert_eq!(back, snapshot);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(r#""password_policy": {"#) && text.contains(r#""ok": null"#));
        assert!(text.contains(r#""code": "AccessDenied""#));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn missing_fields_read_as_not_collected() {
        let text = r#"{"format": 1, "collected_at": "2024-05-01T00:00:00Z",
            "accounts": [{"account_id": "111122223333"}]}"#;
        let snapshot = Snapshot::from_json(text, Path::new("s.json")).unwrap();
        let account = &snapshot.accounts[0];
        assert_eq!(account.iam.password_policy, Collected::NotCollected);
        let gap = account
            .iam
            .password_policy
            .get("iam:GetAccountPasswordPolicy")
            .unwrap_err();
        assert!(gap
            .0
            .contains("iam:GetAccountPasswordPolicy was not collected"));
    }

    #[test]
    fn errors_name_the_file_and_position() {
        let bad = "{\"format\": 1,\n \"collected_at\": 12}";
        let err = Snapshot::from_json(bad, Path::new("snap.json")).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("snap.json: line 2, column"), "{text}");
        let truncated = Snapshot::from_json("{\"format\": 1,", Path::new("t.json")).unwrap_err();
        assert!(matches!(truncated, SnapshotError::Json { line: 1, .. }));
    }

    #[test]
    fn other_format_versions_are_refused() {
        let text = r#"{"format": 2, "collected_at": "2024-05-01T00:00:00Z"}"#;
        let err = Snapshot::from_json(text, Path::new("new.json")).unwrap_err();
        assert!(matches!(err, SnapshotError::Format { found: 2, .. }));
        let none = Snapshot::from_json("{}", Path::new("x.json")).unwrap_err();
        assert!(none.to_string().contains("missing field `format`"));
        let missing = Snapshot::load("/nonexistent/vigil/snap.json").unwrap_err();
        assert!(missing
            .to_string()
            .starts_with("/nonexistent/vigil/snap.json: "));
    }

    #[test]
    fn a_failed_call_explains_itself() {
        let value: Collected<bool> = Collected::error(
            "ec2:GetEbsEncryptionByDefault",
            "UnauthorizedOperation",
            "no",
        );
        let gap = value.get("ec2:GetEbsEncryptionByDefault").unwrap_err();
        assert_eq!(
            gap.to_string(),
            "ec2:GetEbsEncryptionByDefault failed (UnauthorizedOperation): no"
        );
        assert!(value.is_error() && value.ok().is_none());
    }
}
