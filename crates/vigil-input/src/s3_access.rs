//! S3 server access logs: space-separated fields, the time in `[brackets]`, the request URI,
//! referrer and user agent in quotes. Each record becomes a JSON object keyed by the field
//! names below; numeric fields are JSON numbers and `-` leaves the key out. `time` keeps its
//! text (`06/Feb/2019:00:00:38 +0000`); vigil-event reads it.

use std::fmt::Write;

use vigil_event::time;

use crate::flow::push_json_string;

/// The fields in log order, and whether each is a number. Later fields are optional: older
/// logs stop earlier, and fields AWS adds later are ignored.
const FIELDS: &[(&str, bool)] = &[
    ("bucket_owner", false),
    ("bucket", false),
    ("time", false),
    ("remote_ip", false),
    ("requester", false),
    ("request_id", false),
    ("operation", false),
    ("key", false),
    ("request_uri", false),
    ("http_status", true),
    ("error_code", false),
    ("bytes_sent", true),
    ("object_size", true),
    ("total_time", true),
    ("turn_around_time", true),
    ("referrer", false),
    ("user_agent", false),
    ("version_id", false),
    ("host_id", false),
    ("signature_version", false),
    ("cipher_suite", false),
    ("authentication_type", false),
    ("host_header", false),
    ("tls_version", false),
    ("access_point_arn", false),
    ("acl_required", false),
];

/// Records with fewer fields (up to the user agent) are not S3 access logs.
const REQUIRED_FIELDS: usize = 17;

/// Whether `line` looks like an S3 server access log record.
pub(crate) fn sniff(line: &str) -> bool {
    tokens(line).is_ok_and(|tokens| {
        tokens.len() >= REQUIRED_FIELDS
            && tokens
                .get(2)
                .is_some_and(|time| time::parse_s3_access_ms(time).is_some())
    })
}

/// Writes the record in `line` as a JSON object into `out` (cleared first).
pub(crate) fn to_json(line: &str, out: &mut String) -> Result<(), String> {
    out.clear();
    let values = tokens(line)?;
    if values.len() < REQUIRED_FIELDS {
        return Err(format!(
            "expected at least {REQUIRED_FIELDS} S3 access log fields, found {}",
            values.len()
        ));
    }
    out.push('{');
    for (&(name, numeric), value) in FIELDS.iter().zip(values) {
        if value == "-" {
            continue;
        }
        if name == "time" && time::parse_s3_access_ms(value).is_none() {
            return Err(format!(
                "field time: expected dd/Mon/yyyy:HH:MM:SS +zzzz, found {value:?}"
            ));
        }
        if out.len() > 1 {
            out.push(',');
        }
        let _ = write!(out, "\"{name}\":");
        if numeric {
            let number: u64 = value
                .parse()
                .map_err(|_| format!("field {name}: expected number, found {value:?}"))?;
            let _ = write!(out, "{number}");
        } else {
            push_json_string(out, value);
        }
    }
    out.push('}');
    Ok(())
}

/// Splits a record into its fields, without the brackets and quotes around them.
fn tokens(line: &str) -> Result<Vec<&str>, String> {
    let mut tokens = Vec::with_capacity(FIELDS.len());
    let mut rest = line.trim_start();
    while !rest.is_empty() {
        let (token, after) = match rest.as_bytes().first() {
            Some(b'[') => enclosed(rest, "]")?,
            Some(b'"') => quoted(rest)?,
            _ => rest.split_once(' ').unwrap_or((rest, "")),
        };
        tokens.push(token);
        rest = after.trim_start();
    }
    Ok(tokens)
}

/// The text between the opening byte of `rest` and `close`, and what follows `close`.
fn enclosed<'a>(rest: &'a str, close: &str) -> Result<(&'a str, &'a str), String> {
    let inner = rest.get(1..).unwrap_or_default();
    let (token, after) = inner.split_once(close).ok_or_else(|| {
        format!(
            "unterminated field {:?}",
            crate::emit::excerpt(rest.as_bytes())
        )
    })?;
    Ok((token, after))
}

/// The text of the quoted field that starts `rest`, and what follows it. The field ends at a
/// quote followed by a space or the end of the line; a backslash escapes the next byte.
fn quoted(rest: &str) -> Result<(&str, &str), String> {
    let bytes = rest.as_bytes();
    let mut i = 1;
    while let Some(&byte) = bytes.get(i) {
        match byte {
            b'\\' => i += 2,
            b'"' if matches!(bytes.get(i + 1), None | Some(b' ')) => {
                let token = rest.get(1..i).unwrap_or_default();
                return Ok((token, rest.get(i + 1..).unwrap_or_default()));
            }
            _ => i += 1,
        }
    }
    Err(format!(
        "unterminated quoted field {:?}",
        crate::emit::excerpt(rest.as_bytes())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = r#"79a5 DOC-EXAMPLE-BUCKET1 [06/Feb/2019:00:00:38 +0000] 192.0.2.3 79a5 3E57 REST.GET.VERSIONING - "GET /DOC-EXAMPLE-BUCKET1?versioning HTTP/1.1" 200 - 113 - 7 - "-" "S3Console/0.4 (a \"quoted\" agent)" - s9lz SigV4"#;

    #[test]
    fn fields_are_split_around_brackets_and_quotes() {
        let tokens = tokens(LINE).unwrap();
        assert_eq!(tokens[2], "06/Feb/2019:00:00:38 +0000");
        assert_eq!(tokens[8], "GET /DOC-EXAMPLE-BUCKET1?versioning HTTP/1.1");
        assert_eq!(tokens[16], r#"S3Console/0.4 (a \"quoted\" agent)"#);
        assert_eq!(tokens.len(), 20);
        assert!(sniff(LINE));
        assert!(!sniff(
            "2 123456789010 eni-1 1.2.3.4 5.6.7.8 1 2 6 1 1 1 1 ACCEPT OK"
        ));
    }

    #[test]
    fn records_become_typed_objects() {
        let mut out = String::new();
        to_json(LINE, &mut out).unwrap();
        let doc: sonic_rs::Value = sonic_rs::from_str(&out).unwrap();
        use sonic_rs::JsonValueTrait;
        assert_eq!(doc.get("http_status").and_then(|v| v.as_u64()), Some(200));
        assert_eq!(doc.get("bytes_sent").and_then(|v| v.as_u64()), Some(113));
        assert_eq!(
            doc.get("time").and_then(|v| v.as_str()),
            Some("06/Feb/2019:00:00:38 +0000")
        );
        assert!(doc.get("error_code").is_none());
        assert!(doc.get("referrer").is_none());
        assert_eq!(
            doc.get("signature_version").and_then(|v| v.as_str()),
            Some("SigV4")
        );
    }

    #[test]
    fn wrong_values_are_reasons() {
        let mut out = String::new();
        let bad = LINE.replace(" 113 ", " lots ");
        assert_eq!(
            to_json(&bad, &mut out),
            Err(r#"field bytes_sent: expected number, found "lots""#.into())
        );
        let bad_time = LINE.replace("06/Feb/2019", "yesterday");
        assert!(to_json(&bad_time, &mut out)
            .unwrap_err()
            .starts_with("field time"));
        assert!(to_json("a b c", &mut out)
            .unwrap_err()
            .starts_with("expected at least 17"));
    }
}
