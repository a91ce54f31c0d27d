//! The known fields of each source and the JSON type each must have. A record whose known
//! field has another type is rejected ("field eventName: expected string, found number"), so
//! that rules and common fields can trust the types. Absent fields are always fine.

use sonic_rs::{JsonContainerTrait, JsonType, JsonValueTrait, Value};
use vigil_event::{time, LogSource};

/// What a known field must hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Str,
    /// A string, or `null`.
    StrOrNull,
    /// An RFC 3339 time string.
    Time,
    Object,
    /// An object, or `null` (CloudTrail writes `"requestParameters": null`).
    ObjectOrNull,
    Array,
    Number,
}

/// CloudTrail records and CloudTrail Insights records, in the order CloudTrail writes the
/// keys (the lookup below starts where the last match was, so that order makes it cheap).
const CLOUDTRAIL: &[(&str, Expect)] = &[
    ("eventVersion", Expect::Str),
    ("userIdentity", Expect::Object),
    ("eventTime", Expect::Time),
    ("eventSource", Expect::Str),
    ("eventName", Expect::Str),
    ("awsRegion", Expect::Str),
    ("sourceIPAddress", Expect::Str),
    ("userAgent", Expect::Str),
    ("errorCode", Expect::StrOrNull),
    ("errorMessage", Expect::StrOrNull),
    ("requestParameters", Expect::ObjectOrNull),
    ("eventID", Expect::Str),
    ("eventType", Expect::Str),
    ("resources", Expect::Array),
    ("recipientAccountId", Expect::Str),
    ("insightDetails", Expect::Object),
];

const GUARDDUTY: &[(&str, Expect)] = &[
    ("schemaVersion", Expect::Str),
    ("accountId", Expect::Str),
    ("region", Expect::Str),
    ("id", Expect::Str),
    ("type", Expect::Str),
    ("severity", Expect::Number),
    ("createdAt", Expect::Time),
    ("updatedAt", Expect::Time),
    ("resource", Expect::Object),
    ("service", Expect::Object),
];

const SECURITY_HUB: &[(&str, Expect)] = &[
    ("SchemaVersion", Expect::Str),
    ("Id", Expect::Str),
    ("AwsAccountId", Expect::Str),
    ("Region", Expect::Str),
    ("Title", Expect::Str),
    ("Types", Expect::Array),
    ("CreatedAt", Expect::Time),
    ("UpdatedAt", Expect::Time),
    ("Resources", Expect::Array),
    ("Severity", Expect::Object),
];

const TRUSTED_ADVISOR: &[(&str, Expect)] = &[
    ("check-name", Expect::Str),
    ("check-item-detail", Expect::Object),
    ("status", Expect::Str),
];

/// Flow-log and S3 access-log records are built by vigil from text, typed as they are
/// parsed (see `flow.rs` and `s3_access.rs`), so they have no table here.
fn table(source: LogSource) -> &'static [(&'static str, Expect)] {
    match source {
        LogSource::CloudTrail | LogSource::CloudTrailInsight => CLOUDTRAIL,
        LogSource::GuardDuty => GUARDDUTY,
        LogSource::SecurityHub => SECURITY_HUB,
        LogSource::TrustedAdvisor => TRUSTED_ADVISOR,
        LogSource::VpcFlow | LogSource::S3Access => &[],
    }
}

/// Checks the known fields of a `source` record; the error is the reject reason. Returns the
/// source, told apart on the way for CloudTrail: a record whose `eventType` is
/// `AwsCloudTrailInsight` is a CloudTrail Insights record.
///
/// One pass over the record's keys, each looked up in the table: cheaper than looking every
/// known field up in the record, which walks the record's keys once per field.
pub(crate) fn check(source: LogSource, doc: &Value) -> Result<LogSource, String> {
    let Some(object) = doc.as_object() else {
        return Err(format!(
            "expected a {source} record (a JSON object), found {}",
            type_name(doc)
        ));
    };
    let table = table(source);
    let mut refined = source;
    let mut cursor = 0;
    for (key, value) in object.iter() {
        let Some(at) = position_from(table, cursor, key) else {
            continue;
        };
        cursor = at + 1;
        let Some(&(field, expect)) = table.get(at) else {
            continue;
        };
        check_field(field, expect, value)?;
        if field == "eventType" && value.as_str() == Some("AwsCloudTrailInsight") {
            refined = LogSource::CloudTrailInsight;
        }
    }
    Ok(refined)
}

/// The index of `key` in `table`, searching from `start` round to the entry before it.
fn position_from(table: &[(&str, Expect)], start: usize, key: &str) -> Option<usize> {
    let start = start.min(table.len());
    let same = |i: &usize| {
        table.get(*i).is_some_and(|(field, _)| {
            // Length and first byte rule out nearly every other key without a memcmp.
            field.len() == key.len()
                && field.as_bytes().first() == key.as_bytes().first()
                && *field == key
        })
    };
    (start..table.len()).chain(0..start).find(same)
}

fn check_field(field: &str, expect: Expect, value: &Value) -> Result<(), String> {
    let fits = match expect {
        Expect::Str => value.is_str(),
        Expect::StrOrNull => value.is_str() || value.is_null(),
        Expect::Time => value.is_str(),
        Expect::Object => value.is_object(),
        Expect::ObjectOrNull => value.is_object() || value.is_null(),
        Expect::Array => value.is_array(),
        Expect::Number => value.is_number(),
    };
    if !fits {
        return Err(format!(
            "field {field}: expected {}, found {}",
            expected_name(expect),
            type_name(value)
        ));
    }
    match (expect, value.as_str()) {
        (Expect::Time, Some(text)) if time::parse_rfc3339_ms(text).is_none() => Err(format!(
            "field {field}: expected an RFC 3339 time, found {:?}",
            crate::emit::excerpt(text.as_bytes())
        )),
        _ => Ok(()),
    }
}

fn expected_name(expect: Expect) -> &'static str {
    match expect {
        Expect::Str | Expect::Time => "string",
        Expect::StrOrNull => "string or null",
        Expect::Object => "object",
        Expect::ObjectOrNull => "object or null",
        Expect::Array => "array",
        Expect::Number => "number",
    }
}

/// The JSON type of `value`, as the reject reasons name it.
pub(crate) fn type_name(value: &Value) -> &'static str {
    match value.get_type() {
        JsonType::Null => "null",
        JsonType::Boolean => "boolean",
        JsonType::Number => "number",
        JsonType::String => "string",
        JsonType::Array => "array",
        JsonType::Object => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_json(source: LogSource, json: &str) -> Result<(), String> {
        check(source, &sonic_rs::from_str(json).unwrap()).map(|_| ())
    }

    #[test]
    fn wrong_types_of_known_fields_are_named() {
        assert_eq!(
            check_json(LogSource::CloudTrail, r#"{"eventName": 5}"#),
            Err("field eventName: expected string, found number".into())
        );
        assert_eq!(
            check_json(LogSource::CloudTrail, r#"{"userIdentity": "root"}"#),
            Err("field userIdentity: expected object, found string".into())
        );
        assert_eq!(
            check_json(LogSource::GuardDuty, r#"{"severity": "high"}"#),
            Err("field severity: expected number, found string".into())
        );
    }

    #[test]
    fn times_must_parse() {
        let err = check_json(LogSource::CloudTrail, r#"{"eventTime": "yesterday"}"#).unwrap_err();
        assert!(
            err.starts_with("field eventTime: expected an RFC 3339 time"),
            "{err}"
        );
        let err = check_json(LogSource::SecurityHub, r#"{"UpdatedAt": 12}"#).unwrap_err();
        assert_eq!(err, "field UpdatedAt: expected string, found number");
    }

    #[test]
    fn absent_and_nullable_fields_pass() {
        let ok = r#"{"eventTime": "2019-02-06T00:00:38Z", "errorCode": null,
                     "requestParameters": null, "userIdentity": {"type": "Root"}}"#;
        assert_eq!(check_json(LogSource::CloudTrail, ok), Ok(()));
        assert_eq!(check_json(LogSource::TrustedAdvisor, "{}"), Ok(()));
        assert!(check_json(LogSource::CloudTrail, "[1]").is_err());
    }

    #[test]
    fn insights_are_told_from_cloudtrail_records() {
        let check_source =
            |json: &str| check(LogSource::CloudTrail, &sonic_rs::from_str(json).unwrap());
        let insight =
            r#"{"eventVersion":"1.07","eventType":"AwsCloudTrailInsight","insightDetails":{}}"#;
        assert_eq!(check_source(insight), Ok(LogSource::CloudTrailInsight));
        let call = r#"{"eventType":"AwsApiCall","eventVersion":"1.08"}"#;
        assert_eq!(check_source(call), Ok(LogSource::CloudTrail));
        let bad = r#"{"eventType":"AwsCloudTrailInsight","insightDetails":[]}"#;
        assert_eq!(
            check_source(bad),
            Err("field insightDetails: expected object, found array".into())
        );
    }
}
