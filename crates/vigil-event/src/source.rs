use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where an event came from. Sigma `logsource` blocks are routed to these (see
/// `vigil-sigma`'s logsource mapping), and every finding names the source of its evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogSource {
    /// A CloudTrail management or data event record (also when it arrived through
    /// EventBridge or `lookup-events`).
    CloudTrail,
    /// A CloudTrail Insights event (`eventType: AwsCloudTrailInsight`).
    CloudTrailInsight,
    /// One VPC Flow Log record.
    VpcFlow,
    /// One S3 server access log record.
    S3Access,
    /// One GuardDuty finding.
    GuardDuty,
    /// One Security Hub finding in the AWS Security Finding Format.
    SecurityHub,
    /// One Trusted Advisor check item (for example "Exposed Access Keys").
    TrustedAdvisor,
}

impl LogSource {
    /// Every source, in a fixed order (used to size per-source tables).
    pub const ALL: [LogSource; 7] = [
        LogSource::CloudTrail,
        LogSource::CloudTrailInsight,
        LogSource::VpcFlow,
        LogSource::S3Access,
        LogSource::GuardDuty,
        LogSource::SecurityHub,
        LogSource::TrustedAdvisor,
    ];

    /// The stable snake_case name used in output, configuration and docs.
    pub fn as_str(self) -> &'static str {
        match self {
            LogSource::CloudTrail => "cloudtrail",
            LogSource::CloudTrailInsight => "cloudtrail_insight",
            LogSource::VpcFlow => "vpcflow",
            LogSource::S3Access => "s3_access",
            LogSource::GuardDuty => "guardduty",
            LogSource::SecurityHub => "securityhub",
            LogSource::TrustedAdvisor => "trusted_advisor",
        }
    }

    /// A dense index in `0..LogSource::ALL.len()`.
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for LogSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LogSource {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LogSource::ALL
            .into_iter()
            .find(|source| source.as_str() == s)
            .ok_or_else(|| format!("unknown log source `{s}`"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for source in LogSource::ALL {
            assert_eq!(source.as_str().parse::<LogSource>(), Ok(source));
            assert_eq!(LogSource::ALL[source.index()], source);
        }
        assert!("cloudwatch".parse::<LogSource>().is_err());
    }
}
