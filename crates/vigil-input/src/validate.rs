//! The known fields of each source and the JSON type each must have. A record whose known
//! field has another type is rejected ("field eventName: expected string, found number"), so
//! that rules and common fields can trust the types. Absent fields are always fine.

use sonic_rs::{JsonContainerTrait, JsonType, JsonValueTrait, Value};
use vigil_event::{time, Event, LogSource, Origin};

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

/// What a known field means beyond its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Plain,
    /// CloudTrail `eventType`: `AwsCloudTrailInsight` marks an Insights record.
    EventType,
    /// CloudTrail `eventTime`: the event's time.
    EventTime,
}

/// What a known field must hold, and what it means.
type Field = (Expect, Role);

/// What a known field of a `source` record must hold; `None` for a field vigil does not type.
///
/// A `match` on the key per source: the compiler turns it into a switch on the length and a
/// few word compares against the constant keys, which costs less per key than hashing it
/// for a table (records put their keys in any order, and most keys of a CloudTrail record
/// are not typed here).
fn field_of(source: LogSource, key: &str) -> Option<Field> {
    let plain = |expect: Option<Expect>| expect.map(|expect| (expect, Role::Plain));
    match source {
        LogSource::CloudTrail | LogSource::CloudTrailInsight => cloudtrail(key),
        LogSource::GuardDuty => plain(guardduty(key)),
        LogSource::SecurityHub => plain(security_hub(key)),
        LogSource::TrustedAdvisor => plain(trusted_advisor(key)),
        // Flow-log and S3 access-log records are built by vigil from text, typed as they are
        // parsed (see `flow.rs` and `s3_access.rs`).
        LogSource::VpcFlow | LogSource::S3Access => None,
    }
}

/// CloudTrail records and CloudTrail Insights records.
fn cloudtrail(key: &str) -> Option<Field> {
    Some(match key {
        "eventType" => (Expect::Str, Role::EventType),
        "eventTime" => (Expect::Time, Role::EventTime),
        "eventVersion" | "eventSource" | "eventName" | "awsRegion" | "sourceIPAddress"
        | "userAgent" | "eventID" | "recipientAccountId" => (Expect::Str, Role::Plain),
        "userIdentity" | "insightDetails" => (Expect::Object, Role::Plain),
        "errorCode" | "errorMessage" => (Expect::StrOrNull, Role::Plain),
        "requestParameters" => (Expect::ObjectOrNull, Role::Plain),
        "resources" => (Expect::Array, Role::Plain),
        _ => return None,
    })
}

fn guardduty(key: &str) -> Option<Expect> {
    Some(match key {
        "schemaVersion" | "accountId" | "region" | "id" | "type" => Expect::Str,
        "severity" => Expect::Number,
        "createdAt" | "updatedAt" => Expect::Time,
        "resource" | "service" => Expect::Object,
        _ => return None,
    })
}

fn security_hub(key: &str) -> Option<Expect> {
    Some(match key {
        "SchemaVersion" | "Id" | "AwsAccountId" | "Region" | "Title" => Expect::Str,
        "Types" | "Resources" => Expect::Array,
        "CreatedAt" | "UpdatedAt" => Expect::Time,
        "Severity" => Expect::Object,
        _ => return None,
    })
}

fn trusted_advisor(key: &str) -> Option<Expect> {
    Some(match key {
        "check-name" | "status" => Expect::Str,
        "check-item-detail" => Expect::Object,
        _ => return None,
    })
}

/// What [`check`] learnt of a valid record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Checked {
    /// The source, told apart on the way for CloudTrail (Insights records).
    pub(crate) source: LogSource,
    /// For CloudTrail, the time of the first `eventTime` (parsed anyway to validate it), so
    /// the event need not look it up again; `None` when it is absent or for other sources.
    pub(crate) cloudtrail_time_ms: Option<i64>,
}

impl Checked {
    /// The event of the checked record `doc`.
    pub(crate) fn event(self, doc: Value, origin: Origin) -> Event {
        match self.source {
            LogSource::CloudTrail | LogSource::CloudTrailInsight => {
                Event::with_time(self.source, doc, origin, self.cloudtrail_time_ms)
            }
            other => Event::new(other, doc, origin),
        }
    }
}

/// Checks the known fields of a `source` record; the error is the reject reason. Returns the
/// source, told apart on the way for CloudTrail: a record whose `eventType` is
/// `AwsCloudTrailInsight` is a CloudTrail Insights record.
#[cfg(test)]
pub(crate) fn check(source: LogSource, doc: &Value) -> Result<LogSource, String> {
    check_record(source, doc).map(|checked| checked.source)
}

/// Like [`check`], also returning the CloudTrail event time read on the way.
///
/// One pass over the record's keys, each looked up by [`field_of`]: cheaper than looking
/// every known field up in the record, which walks the record's keys once per field.
pub(crate) fn check_record(source: LogSource, doc: &Value) -> Result<Checked, String> {
    let Some(object) = doc.as_object() else {
        return Err(format!(
            "expected a {source} record (a JSON object), found {}",
            type_name(doc)
        ));
    };
    let mut checked = Checked {
        source,
        cloudtrail_time_ms: None,
    };
    if matches!(source, LogSource::VpcFlow | LogSource::S3Access) {
        return Ok(checked);
    }
    let mut time_seen = false;
    for (key, value) in object.iter() {
        let Some((expect, role)) = field_of(source, key) else {
            continue;
        };
        let time = check_field(key, expect, value)?;
        match role {
            Role::Plain => {}
            Role::EventType => {
                if value.as_str() == Some("AwsCloudTrailInsight") {
                    checked.source = LogSource::CloudTrailInsight;
                }
            }
            // The first `eventTime` is the one `Object::get` (and `Event::new`) reads.
            Role::EventTime if !time_seen => {
                time_seen = true;
                checked.cloudtrail_time_ms = time;
            }
            Role::EventTime => {}
        }
    }
    Ok(checked)
}

/// Checks one field; returns its time when it is a time field. Each branch asks the value
/// for its type once (every question to a `sonic_rs` value unpacks its node again).
fn check_field(field: &str, expect: Expect, value: &Value) -> Result<Option<i64>, String> {
    let fits = match expect {
        Expect::Time => {
            let Some(text) = value.as_str() else {
                return Err(mismatch(field, expect, value));
            };
            return match time::parse_rfc3339_ms(text) {
                Some(ms) => Ok(Some(ms)),
                None => Err(format!(
                    "field {field}: expected an RFC 3339 time, found {:?}",
                    crate::emit::excerpt(text.as_bytes())
                )),
            };
        }
        Expect::Str => value.is_str(),
        Expect::StrOrNull => matches!(value.get_type(), JsonType::String | JsonType::Null),
        Expect::Object => value.is_object(),
        Expect::ObjectOrNull => matches!(value.get_type(), JsonType::Object | JsonType::Null),
        Expect::Array => value.is_array(),
        Expect::Number => value.is_number(),
    };
    if fits {
        Ok(None)
    } else {
        Err(mismatch(field, expect, value))
    }
}

/// The reject reason of a field of the wrong type.
fn mismatch(field: &str, expect: Expect, value: &Value) -> String {
    format!(
        "field {field}: expected {}, found {}",
        expected_name(expect),
        type_name(value)
    )
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

    /// Every typed field of every source, with a value of the wrong type: the `match`
    /// tables must name each of them.
    #[test]
    fn every_known_field_is_typed() {
        let fields: &[(LogSource, &[&str], &str)] = &[
            (
                LogSource::CloudTrail,
                &[
                    "eventVersion",
                    "eventSource",
                    "eventName",
                    "awsRegion",
                    "sourceIPAddress",
                    "userAgent",
                    "eventID",
                    "eventType",
                    "recipientAccountId",
                    "eventTime",
                ],
                "string",
            ),
            (
                LogSource::CloudTrail,
                &["userIdentity", "insightDetails"],
                "object",
            ),
            (
                LogSource::CloudTrail,
                &["errorCode", "errorMessage"],
                "string or null",
            ),
            (
                LogSource::CloudTrail,
                &["requestParameters"],
                "object or null",
            ),
            (LogSource::CloudTrail, &["resources"], "array"),
            (
                LogSource::GuardDuty,
                &[
                    "schemaVersion",
                    "accountId",
                    "region",
                    "id",
                    "type",
                    "createdAt",
                    "updatedAt",
                ],
                "string",
            ),
            (LogSource::GuardDuty, &["severity"], "number"),
            (LogSource::GuardDuty, &["resource", "service"], "object"),
            (
                LogSource::SecurityHub,
                &[
                    "SchemaVersion",
                    "Id",
                    "AwsAccountId",
                    "Region",
                    "Title",
                    "CreatedAt",
                    "UpdatedAt",
                ],
                "string",
            ),
            (LogSource::SecurityHub, &["Types", "Resources"], "array"),
            (LogSource::SecurityHub, &["Severity"], "object"),
            (
                LogSource::TrustedAdvisor,
                &["check-name", "status"],
                "string",
            ),
            (LogSource::TrustedAdvisor, &["check-item-detail"], "object"),
        ];
        for (source, names, expected) in fields {
            for name in *names {
                // `true` is none of the types a known field may hold.
                let json = format!(r#"{{"other": 1, "{name}": true}}"#);
                assert_eq!(
                    check_json(*source, &json),
                    Err(format!("field {name}: expected {expected}, found boolean")),
                    "{source} {name}"
                );
            }
        }
        // Fields of other sources are not typed.
        assert_eq!(
            check_json(LogSource::CloudTrail, r#"{"severity": true}"#),
            Ok(())
        );
        assert_eq!(
            check_json(LogSource::VpcFlow, r#"{"eventName": true}"#),
            Ok(())
        );
    }

    #[test]
    fn the_cloudtrail_time_is_the_one_the_event_reads() {
        let cases = [
            r#"{"eventTime": "2024-05-01T11:49:47Z", "eventName": "A"}"#,
            r#"{"eventName": "A"}"#,
            r#"{"eventTime": "2024-05-01T11:49:47Z", "eventTime": "2025-01-01T00:00:00.500Z"}"#,
            r#"{"eventTime": "2024-05-01T13:49:47+02:00"}"#,
            r#"{"eventType": "AwsCloudTrailInsight", "eventTime": "2024-05-01T11:49:47.123Z"}"#,
        ];
        for json in cases {
            let doc: Value = sonic_rs::from_str(json).unwrap();
            let checked = check_record(LogSource::CloudTrail, &doc).unwrap();
            let expected = Event::new(checked.source, doc.clone(), Origin::new("t", 1));
            let event = checked.event(doc, Origin::new("t", 1));
            assert_eq!(event.time_ms, expected.time_ms, "{json}");
            assert_eq!(event.source, expected.source, "{json}");
        }
        let doc: Value = sonic_rs::from_str(r#"{"eventTime": "2024-05-01T11:49:47Z"}"#).unwrap();
        assert_eq!(
            check_record(LogSource::CloudTrail, &doc).map(|c| c.cloudtrail_time_ms),
            Ok(Some(1_714_564_187_000))
        );
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
