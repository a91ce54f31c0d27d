//! Reading event times. Every source keeps its time somewhere else and in another shape;
//! this module turns each into milliseconds since the Unix epoch.

use chrono::{DateTime, NaiveDateTime};
use sonic_rs::{JsonValueTrait, Value};

use crate::LogSource;

/// Parses an RFC 3339 timestamp (`2014-03-06T21:22:54Z`, with or without fractions or an
/// offset) into epoch milliseconds.
pub fn parse_rfc3339_ms(text: &str) -> Option<i64> {
    if let Some(ms) = parse_utc_fast(text.as_bytes()) {
        return Some(ms);
    }
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(time.timestamp_millis());
    }
    // A few AWS services write ISO 8601 without a zone; those times are UTC.
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|naive| naive.and_utc().timestamp_millis())
}

/// The shape nearly every AWS time has, `2014-03-06T21:22:54Z` or `...54.123Z`, parsed
/// without chrono: every record's time is read, and this is several times faster. Anything
/// else (offsets, other precisions, invalid dates) returns `None` and goes to chrono.
fn parse_utc_fast(b: &[u8]) -> Option<i64> {
    let (body, millis) = match b.len() {
        20 if b[19] == b'Z' => (b, 0),
        24 if b[23] == b'Z' && b[19] == b'.' => (b, digits(&b[20..23])?),
        _ => return None,
    };
    if body[4] != b'-'
        || body[7] != b'-'
        || body[10] != b'T'
        || body[13] != b':'
        || body[16] != b':'
    {
        return None;
    }
    let year = digits(&body[0..4])?;
    let month = digits(&body[5..7])?;
    let day = digits(&body[8..10])?;
    let (hour, minute, second) = (
        digits(&body[11..13])?,
        digits(&body[14..16])?,
        digits(&body[17..19])?,
    );
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some((((days * 24 + hour) * 60 + minute) * 60 + second) * 1000 + millis)
}

fn digits(b: &[u8]) -> Option<i64> {
    b.iter().try_fold(0i64, |n, &c| {
        c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0'))
    })
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
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
    fn the_fast_path_agrees_with_chrono() {
        let cases = [
            "1970-01-01T00:00:00Z",
            "2014-03-06T21:22:54Z",
            "2000-02-29T23:59:59.999Z",
            "2024-12-31T00:00:00.001Z",
            "1969-12-31T23:59:59Z",
            "2100-03-01T12:00:00Z",
            "2026-11-22T16:30:00.500Z",
        ];
        for case in cases {
            let chrono = DateTime::parse_from_rfc3339(case)
                .unwrap()
                .timestamp_millis();
            assert_eq!(parse_utc_fast(case.as_bytes()), Some(chrono), "{case}");
        }
        let invalid = [
            "2023-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-11-22T24:00:00Z",
        ];
        for invalid in invalid {
            assert_eq!(parse_utc_fast(invalid.as_bytes()), None, "{invalid}");
            assert_eq!(parse_rfc3339_ms(invalid), None, "{invalid}");
        }
        // Other shapes are left to chrono, which also accepts a space for the `T`.
        assert_eq!(parse_utc_fast(b"2026-11-22 16:30:00Z"), None);
        assert!(parse_rfc3339_ms("2026-11-22 16:30:00Z").is_some());
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
