//! VPC Flow Logs: the default version 2 format (14 fields, no header) and custom formats
//! named by a header line (the field names of versions 2 to 8, in any order or subset).
//! Each record becomes a JSON object keyed by the AWS field names; numeric fields are JSON
//! numbers and `-` (no value) leaves the key out.

use std::fmt::Write;

/// Every flow-log field AWS documents, and whether its value is a number.
const FIELDS: &[(&str, bool)] = &[
    ("version", true),
    ("account-id", false),
    ("interface-id", false),
    ("srcaddr", false),
    ("dstaddr", false),
    ("srcport", true),
    ("dstport", true),
    ("protocol", true),
    ("packets", true),
    ("bytes", true),
    ("start", true),
    ("end", true),
    ("action", false),
    ("log-status", false),
    ("vpc-id", false),
    ("subnet-id", false),
    ("instance-id", false),
    ("tcp-flags", true),
    ("type", false),
    ("pkt-srcaddr", false),
    ("pkt-dstaddr", false),
    ("region", false),
    ("az-id", false),
    ("sublocation-type", false),
    ("sublocation-id", false),
    ("pkt-src-aws-service", false),
    ("pkt-dst-aws-service", false),
    ("flow-direction", false),
    ("traffic-path", true),
    ("ecs-cluster-arn", false),
    ("ecs-cluster-name", false),
    ("ecs-container-instance-arn", false),
    ("ecs-container-instance-id", false),
    ("ecs-container-id", false),
    ("ecs-second-container-id", false),
    ("ecs-service-name", false),
    ("ecs-task-definition-arn", false),
    ("ecs-task-arn", false),
    ("ecs-task-id", false),
    ("reject-reason", false),
];

/// The first 14 fields: the default (version 2) format.
const DEFAULT_FIELDS: usize = 14;

/// The fields of a flow log, in the order its lines hold them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Layout {
    fields: Vec<(&'static str, bool)>,
    /// The header line, when the log has one (it may repeat where logs were concatenated).
    header: Option<String>,
}

impl Layout {
    /// The layout a log's first line shows: a header of known field names, or a default
    /// format record. `None` when the line is neither.
    pub(crate) fn sniff(first_line: &str) -> Option<Layout> {
        let names: Vec<&str> = first_line.split_ascii_whitespace().collect();
        let known: Option<Vec<_>> = names.iter().map(|name| field(name)).collect();
        if let Some(fields) = known.filter(|fields| !fields.is_empty()) {
            let header = Some(names.join(" "));
            return Some(Layout { fields, header });
        }
        let is_default = names.len() == DEFAULT_FIELDS && names.first() == Some(&"2");
        is_default.then(|| Layout {
            fields: FIELDS.get(..DEFAULT_FIELDS).unwrap_or_default().to_vec(),
            header: None,
        })
    }

    /// Whether `line` is the header line.
    pub(crate) fn is_header(&self, line: &str) -> bool {
        self.header
            .as_deref()
            .is_some_and(|header| line.split_ascii_whitespace().eq(header.split(' ')))
    }

    /// Writes the record in `line` as a JSON object into `out` (cleared first).
    pub(crate) fn to_json(&self, line: &str, out: &mut String) -> Result<(), String> {
        out.clear();
        let values: Vec<&str> = line.split_ascii_whitespace().collect();
        if values.len() != self.fields.len() {
            return Err(format!(
                "expected {} flow-log fields, found {}",
                self.fields.len(),
                values.len()
            ));
        }
        out.push('{');
        for (&(name, numeric), value) in self.fields.iter().zip(values) {
            if value == "-" {
                continue;
            }
            if out.len() > 1 {
                out.push(',');
            }
            let _ = write!(out, "\"{name}\":");
            if numeric {
                let number: u64 = value.parse().map_err(|_| {
                    format!("field {name}: expected number, found {}", quoted(value))
                })?;
                let _ = write!(out, "{number}");
            } else {
                push_json_string(out, value);
            }
        }
        out.push('}');
        Ok(())
    }
}

fn field(name: &str) -> Option<(&'static str, bool)> {
    FIELDS.iter().find(|(known, _)| *known == name).copied()
}

fn quoted(value: &str) -> String {
    format!("{:?}", crate::emit::excerpt(value.as_bytes()))
}

/// Appends `text` as a JSON string.
pub(crate) fn push_json_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(layout: &Layout, line: &str) -> Result<String, String> {
        let mut out = String::new();
        layout.to_json(line, &mut out).map(|_| out)
    }

    #[test]
    fn default_format_records_become_typed_objects() {
        let line =
            "2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA";
        let layout = Layout::sniff(line).unwrap();
        assert_eq!(
            json(&layout, line).unwrap(),
            r#"{"version":2,"account-id":"123456789010","interface-id":"eni-1235b8ca123456789","start":1431280876,"end":1431280934,"log-status":"NODATA"}"#
        );
    }

    #[test]
    fn headers_name_custom_fields_and_are_recognised_again() {
        let header = "instance-id interface-id srcaddr dstaddr pkt-srcaddr pkt-dstaddr";
        let layout = Layout::sniff(header).unwrap();
        assert!(layout.is_header(header));
        assert!(!layout.is_header("i-1 eni-1 10.0.0.1 10.0.0.2 10.0.0.1 10.0.0.2"));
        let record = json(&layout, "- eni-1 10.0.0.1 10.0.0.2 10.0.0.1 10.0.0.2").unwrap();
        assert!(
            record.starts_with(r#"{"interface-id":"eni-1","srcaddr""#),
            "{record}"
        );
    }

    #[test]
    fn wrong_values_and_counts_are_reasons() {
        let layout = Layout::sniff("version srcport").unwrap();
        assert_eq!(
            json(&layout, "2 http"),
            Err(r#"field srcport: expected number, found "http""#.into())
        );
        assert_eq!(
            json(&layout, "2"),
            Err("expected 2 flow-log fields, found 1".into())
        );
        assert_eq!(Layout::sniff("hello world"), None);
        assert_eq!(Layout::sniff("3 a b c d e f g h i j k l m"), None);
    }

    #[test]
    fn json_strings_are_escaped() {
        let mut out = String::new();
        push_json_string(&mut out, "a\"b\\c\u{1}");
        assert_eq!(out, r#""a\"b\\c\u0001""#);
    }
}
