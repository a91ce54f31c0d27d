use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where an event came from. Sigma `logsource` blocks are routed to these (see
/// `vigil-sigma`'s logsource mapping), and every finding names the source of its evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum LogSource {
    /// A CloudTrail management or data event record (also when it arrived through
    /// EventBridge or `lookup-events`).
    #[serde(rename = "cloudtrail")]
    CloudTrail,
    /// A CloudTrail Insights event (`eventType: AwsCloudTrailInsight`).
    #[serde(rename = "cloudtrail_insight")]
    CloudTrailInsight,
    /// One VPC Flow Log record.
    #[serde(rename = "vpcflow")]
    VpcFlow,
    /// One S3 server access log record.
    #[serde(rename = "s3_access")]
    S3Access,
    /// One GuardDuty finding.
    #[serde(rename = "guardduty")]
    GuardDuty,
    /// One Security Hub finding in the AWS Security Finding Format.
    #[serde(rename = "securityhub")]
    SecurityHub,
    /// One Trusted Advisor check item (for example "Exposed Access Keys").
    #[serde(rename = "trusted_advisor")]
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

    #[test]
    fn serde_names_are_the_display_names() {
        for source in LogSource::ALL {
            let json = serde_json::to_string(&source).unwrap();
            assert_eq!(json, format!("\"{}\"", source.as_str()));
        }
    }
}
