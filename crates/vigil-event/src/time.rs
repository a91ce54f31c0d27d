//! Reading event times. Every source keeps its time somewhere else and in another shape;
//! this module turns each into milliseconds since the Unix epoch.

use chrono::{DateTime, NaiveDateTime};
use sonic_rs::{JsonValueTrait, Value};

use crate::LogSource;

/// Parses an RFC 3339 timestamp (`2014-03-06T21:22:54Z`, with or without fractions or an
/// offset) into epoch milliseconds.
pub fn parse_rfc3339_ms(text: &str) -> Option<i64> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(time.timestamp_millis());
    }
    // A few AWS services write ISO 8601 without a zone; those times are UTC.
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|naive| naive.and_utc().timestamp_millis())
}

/// Parses the S3 server access log time, `06/Feb/2019:00:00:38 +0000` (brackets optional).
pub fn parse_s3_access_ms(text: &str) -> Option<i64> {
    let text = text.trim_start_matches('[').trim_end_matches(']');
    DateTime::parse_from_str(text, "%d/%b/%Y:%H:%M:%S %z")
        .ok()
        .map(|time| time.timestamp_millis())
}

/// Formats epoch milliseconds as RFC 3339 in UTC with millisecond precision.
pub fn format_rfc3339_ms(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .map(|time| time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_else(|| ms.to_string())
}

/// The event time of a record of `source`, if the record has a readable one.
pub fn event_time_ms(source: LogSource, doc: &Value) -> Option<i64> {
    match source {
        LogSource::CloudTrail | LogSource::CloudTrailInsight => {
            doc.get("eventTime")?.as_str().and_then(parse_rfc3339_ms)
        }
        LogSource::VpcFlow => doc
            .get("start")
            .and_then(|v| v.as_i64())
            .or_else(|| doc.get("end").and_then(|v| v.as_i64()))
            .map(|secs| secs.saturating_mul(1000)),
        LogSource::S3Access => doc.get("time")?.as_str().and_then(parse_s3_access_ms),
        LogSource::GuardDuty => ["updatedAt", "createdAt"]
            .iter()
            .find_map(|key| doc.get(*key)?.as_str().and_then(parse_rfc3339_ms)),
        LogSource::SecurityHub => ["UpdatedAt", "CreatedAt", "LastObservedAt"]
            .iter()
            .find_map(|key| doc.get(*key)?.as_str().and_then(parse_rfc3339_ms)),
        LogSource::TrustedAdvisor => doc
            .get("check-item-detail")
            .and_then(|detail| detail.get("Time Updated"))
            .and_then(|v| v.as_str())
            .and_then(|ms| ms.parse::<i64>().ok()),
    }
}

/// The `time` of an EventBridge envelope.
pub fn envelope_time_ms(envelope: &Value) -> Option<i64> {
    envelope.get("time")?.as_str().and_then(parse_rfc3339_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloudtrail_times_parse_with_and_without_fractions() {
        assert_eq!(parse_rfc3339_ms("1970-01-01T00:00:01Z"), Some(1000));
        assert_eq!(parse_rfc3339_ms("1970-01-01T00:00:01.250Z"), Some(1250));
        assert_eq!(parse_rfc3339_ms("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(parse_rfc3339_ms("1970-01-01T00:00:02"), Some(2000));
        assert_eq!(parse_rfc3339_ms("yesterday"), None);
    }

    #[test]
    fn s3_access_log_time_parses() {
        assert_eq!(
            parse_s3_access_ms("[06/Feb/2019:00:00:38 +0000]"),
            Some(1_549_411_238_000)
        );
        assert_eq!(parse_s3_access_ms("06/Feb/2019"), None);
    }

    #[test]
    fn formatting_round_trips() {
        let ms = 1_549_411_238_123;
        assert_eq!(parse_rfc3339_ms(&format_rfc3339_ms(ms)), Some(ms));
    }
}
