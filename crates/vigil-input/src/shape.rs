//! What a JSON value is: a CloudTrail record, a CloudTrail Insights record, a GuardDuty or
//! ASFF finding, a Trusted Advisor check item, or a wrapper of records (`Records`, `Events`,
//! `Findings`, an EventBridge envelope, a `lookup-events` entry), told from its keys.

use sonic_rs::{JsonContainerTrait, JsonValueTrait, Value};
use vigil_event::LogSource;

use crate::{validate, Format};

/// What the record in hand is expected to be, from what it was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hint {
    /// Anything: a record, an envelope or a wrapper of records.
    Any,
    /// An element of `Records`.
    CloudTrail,
    /// An element of `Events` (lookup-events).
    LookupEntry,
    /// An element of `Findings`: GuardDuty or ASFF.
    Finding,
    /// A record of a known source (the `detail` of an envelope).
    Source(LogSource),
}

/// The wrappers that hold records in an array under one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wrapper {
    Records,
    Events,
    Findings,
}

impl Wrapper {
    pub(crate) const KEYS: &'static [&'static str] = &["Records", "Events", "Findings", "findings"];

    pub(crate) fn from_key(key: &str) -> Self {
        match key {
            "Records" => Wrapper::Records,
            "Events" => Wrapper::Events,
            _ => Wrapper::Findings,
        }
    }

    pub(crate) fn hint(self) -> Hint {
        match self {
            Wrapper::Records => Hint::CloudTrail,
            Wrapper::Events => Hint::LookupEntry,
            Wrapper::Findings => Hint::Finding,
        }
    }

    pub(crate) fn format(self) -> Format {
        match self {
            Wrapper::Records => Format::CloudTrailLogFile,
            Wrapper::Events => Format::LookupEvents,
            Wrapper::Findings => Format::Findings,
        }
    }
}

/// What a parsed JSON value is.
pub(crate) enum Shape {
    Wrapper(Wrapper),
    Digest,
    Envelope,
    LookupEntry,
    Record(LogSource),
    Unknown(String),
}

fn has(value: &Value, key: &str) -> bool {
    value.get(key).is_some()
}

fn has_array(value: &Value, key: &str) -> bool {
    value.get(key).is_some_and(|v| v.is_array())
}

pub(crate) fn classify(value: &Value, hint: Hint) -> Shape {
    match hint {
        Hint::Source(source) => Shape::Record(source),
        Hint::CloudTrail => Shape::Record(LogSource::CloudTrail),
        Hint::Finding => finding_source(value)
            .map(Shape::Record)
            .unwrap_or_else(|| Shape::Unknown("not a GuardDuty or ASFF finding".into())),
        Hint::LookupEntry if value.get("CloudTrailEvent").is_some_and(|v| v.is_str()) => {
            Shape::LookupEntry
        }
        // An entry without `CloudTrailEvent` is a record itself (Insights lookups).
        Hint::LookupEntry => classify_record(value),
        Hint::Any => classify_any(value),
    }
}

fn classify_any(value: &Value) -> Shape {
    // The common case first: CloudTrail records open with `eventVersion`. (Validation tells
    // CloudTrail Insights records apart.)
    if has(value, "eventVersion") {
        return Shape::Record(LogSource::CloudTrail);
    }
    if let Some(key) = Wrapper::KEYS.iter().find(|key| has_array(value, key)) {
        return Shape::Wrapper(Wrapper::from_key(key));
    }
    if has(value, "digestSignatureAlgorithm")
        || (has(value, "digestStartTime") && has(value, "logFiles"))
    {
        return Shape::Digest;
    }
    if value.get("CloudTrailEvent").is_some_and(|v| v.is_str()) {
        return Shape::LookupEntry;
    }
    classify_record(value)
}

fn classify_record(value: &Value) -> Shape {
    if !value.is_object() {
        let found = validate::type_name(value);
        return Shape::Unknown(format!("expected a JSON object, found {found}"));
    }
    if has(value, "detail-type") && has(value, "detail") {
        return Shape::Envelope;
    }
    if has(value, "check-name") && has(value, "check-item-detail") {
        return Shape::Record(LogSource::TrustedAdvisor);
    }
    if let Some(source) = finding_source(value) {
        return Shape::Record(source);
    }
    let cloudtrail = [
        "eventVersion",
        "eventSource",
        "eventName",
        "eventType",
        "userIdentity",
    ];
    if cloudtrail.iter().any(|key| has(value, key)) {
        return Shape::Record(LogSource::CloudTrail);
    }
    Shape::Unknown(unrecognised(value))
}

fn finding_source(value: &Value) -> Option<LogSource> {
    if has(value, "schemaVersion") && has(value, "type") && has(value, "service") {
        return Some(LogSource::GuardDuty);
    }
    if has(value, "SchemaVersion") && has(value, "AwsAccountId") {
        return Some(LogSource::SecurityHub);
    }
    None
}

fn unrecognised(value: &Value) -> String {
    let keys: Vec<&str> = value
        .as_object()
        .map(|object| object.iter().take(8).map(|(key, _)| key).collect())
        .unwrap_or_default();
    format!(
        "unrecognised record: not CloudTrail, EventBridge, GuardDuty, Security Hub or Trusted Advisor (keys: {})",
        keys.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(json: &str, hint: Hint) -> String {
        let value: Value = sonic_rs::from_str(json).unwrap();
        match classify(&value, hint) {
            Shape::Wrapper(w) => format!("wrapper {w:?}"),
            Shape::Digest => "digest".into(),
            Shape::Envelope => "envelope".into(),
            Shape::LookupEntry => "lookup".into(),
            Shape::Record(source) => format!("record {source}"),
            Shape::Unknown(reason) => format!("unknown: {reason}"),
        }
    }

    #[test]
    fn values_are_told_apart_by_their_keys() {
        let any = Hint::Any;
        assert_eq!(shape(r#"{"Records":[]}"#, any), "wrapper Records");
        assert_eq!(
            shape(r#"{"NextToken":"x","Events":[]}"#, any),
            "wrapper Events"
        );
        assert_eq!(shape(r#"{"findings":[]}"#, any), "wrapper Findings");
        assert_eq!(
            shape(r#"{"digestStartTime":"x","logFiles":[]}"#, any),
            "digest"
        );
        assert_eq!(shape(r#"{"detail-type":"x","detail":{}}"#, any), "envelope");
        assert_eq!(
            shape(r#"{"EventId":"x","CloudTrailEvent":"{}"}"#, any),
            "lookup"
        );
        assert_eq!(
            shape(r#"{"check-name":"x","check-item-detail":{}}"#, any),
            "record trusted_advisor"
        );
        assert_eq!(
            shape(r#"{"schemaVersion":"2.0","type":"x","service":{}}"#, any),
            "record guardduty"
        );
        assert_eq!(
            shape(r#"{"SchemaVersion":"2018-10-08","AwsAccountId":"1"}"#, any),
            "record securityhub"
        );
        assert_eq!(shape(r#"{"eventName":"x"}"#, any), "record cloudtrail");
    }

    #[test]
    fn hints_narrow_what_is_accepted() {
        assert_eq!(shape(r#"{"a":1}"#, Hint::CloudTrail), "record cloudtrail");
        assert!(shape(r#"{"a":1}"#, Hint::Finding).starts_with("unknown: not a GuardDuty"));
        assert_eq!(
            shape(r#"{"Records":[]}"#, Hint::LookupEntry).get(..7),
            Some("unknown")
        );
        let unknown = shape(r#"{"alpha":1,"beta":2}"#, Hint::Any);
        assert!(unknown.ends_with("(keys: alpha, beta)"), "{unknown}");
        assert_eq!(
            shape("[1]", Hint::Any),
            "unknown: expected a JSON object, found array"
        );
    }
}
