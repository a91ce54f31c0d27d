//! Small conversions from SDK shapes to snapshot shapes.

use std::borrow::Cow;

use chrono::{DateTime, Utc};

/// An SDK timestamp as a chrono time (`None` if out of chrono's range).
pub(crate) fn time(value: &aws_smithy_types::DateTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(value.secs(), value.subsec_nanos())
}

/// An optional SDK timestamp.
pub(crate) fn opt_time(value: Option<&aws_smithy_types::DateTime>) -> Option<DateTime<Utc>> {
    value.and_then(time)
}

/// IAM hands policy documents back URL-encoded (RFC 3986); the snapshot keeps JSON text.
/// A document that already reads as JSON (some emulators decode it) is kept as is, so a
/// literal `%` in a JSON document is never mangled.
pub(crate) fn policy_document(raw: &str) -> String {
    if raw.trim_start().starts_with('{') {
        return raw.to_string();
    }
    match percent_encoding::percent_decode_str(raw).decode_utf8() {
        Ok(Cow::Borrowed(text)) => text.to_string(),
        Ok(Cow::Owned(text)) => text,
        // Not UTF-8 after decoding: keep the raw text; the policy parser will say why.
        Err(_) => raw.to_string(),
    }
}

/// A string field that the SDK models as optional, as an owned `String` (empty if absent).
pub(crate) fn text(value: Option<&str>) -> String {
    value.unwrap_or_default().to_string()
}

/// An optional string field, owned.
pub(crate) fn opt(value: Option<&str>) -> Option<String> {
    value.map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_documents_are_url_decoded_once() {
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D";
        assert_eq!(
            policy_document(encoded),
            r#"{"Version":"2012-10-17","Statement":[]}"#
        );
        let plain = r#"{"Sid":"100%25 literal"}"#;
        assert_eq!(policy_document(plain), plain);
        assert_eq!(policy_document("%FF%FE"), "%FF%FE");
    }

    #[test]
    fn sdk_times_convert_to_chrono() {
        let t = aws_smithy_types::DateTime::from_secs_and_nanos(1_714_521_600, 5);
        assert_eq!(
            time(&t).map(|t| t.to_rfc3339()),
            Some("2024-05-01T00:00:00.000000005+00:00".to_string())
        );
        assert_eq!(opt_time(None), None);
    }
}
