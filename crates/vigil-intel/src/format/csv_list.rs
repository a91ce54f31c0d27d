//! CSV lists with a header naming the indicator column; the other columns describe the entry.

use super::{ParsedFile, RawEntry};

/// Header names of the indicator column, in order of preference.
const INDICATOR_COLUMNS: &[&str] = &[
    "indicator",
    "value",
    "ip",
    "cidr",
    "domain",
    "user_agent",
    "access_key",
];

/// Whether `line` is a CSV header with an indicator column (a one-column header is the
/// column name alone: `ip`).
pub(super) fn is_header(line: &str) -> bool {
    indicator_column(&split_header(line)).is_some()
}

fn split_header(line: &str) -> Vec<String> {
    line.split(',')
        .map(|name| name.trim().trim_matches('"').trim().to_ascii_lowercase())
        .collect()
}

fn indicator_column(header: &[String]) -> Option<usize> {
    INDICATOR_COLUMNS
        .iter()
        .find_map(|wanted| header.iter().position(|name| name == wanted))
}

pub(super) fn parse(text: &str) -> ParsedFile {
    let mut reader = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut parsed = ParsedFile::default();
    let header: Vec<String> = match reader.headers() {
        Ok(names) => names.iter().map(|n| n.to_ascii_lowercase()).collect(),
        Err(error) => {
            parsed
                .problems
                .push((error_line(&error), error.to_string()));
            return parsed;
        }
    };
    let Some(column) = indicator_column(&header) else {
        parsed
            .problems
            .push((1, "CSV header has no indicator column".to_string()));
        return parsed;
    };
    for record in reader.records() {
        match record {
            Ok(record) => read_row(&record, &header, column, &mut parsed),
            Err(error) => parsed
                .problems
                .push((error_line(&error), error.to_string())),
        }
    }
    parsed
}

fn read_row(record: &csv::StringRecord, header: &[String], column: usize, parsed: &mut ParsedFile) {
    let line = record.position().map_or(0, |p| p.line() as usize);
    let Some(value) = record.get(column).filter(|v| !v.is_empty()) else {
        let reason = format!(
            "no value in column `{}`",
            header.get(column).map_or("", |h| h)
        );
        parsed.problems.push((line, reason));
        return;
    };
    let description = describe(record, header, column);
    parsed.entries.push(RawEntry {
        value: value.to_string(),
        description,
        line,
    });
}

/// `name=value` pairs of the other non-empty columns, joined with `; `.
fn describe(record: &csv::StringRecord, header: &[String], column: usize) -> Option<String> {
    let parts: Vec<String> = record
        .iter()
        .enumerate()
        .filter(|(index, value)| *index != column && !value.is_empty())
        .map(|(index, value)| match header.get(index) {
            Some(name) => format!("{name}={value}"),
            None => value.to_string(),
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

fn error_line(error: &csv::Error) -> usize {
    error.position().map_or(0, |p| p.line() as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indicator_column_is_found_and_other_columns_describe() {
        let parsed =
            parse("# name: c2\nfirst_seen,IP,comment\n2024-01-01,198.51.100.7,\"c2, cobalt\"\n");
        assert_eq!(parsed.problems, vec![]);
        assert_eq!(parsed.entries.len(), 1);
        let entry = &parsed.entries[0];
        assert_eq!(entry.value, "198.51.100.7");
        assert_eq!(entry.line, 3);
        assert_eq!(
            entry.description.as_deref(),
            Some("first_seen=2024-01-01; comment=c2, cobalt")
        );
    }

    #[test]
    fn preferred_column_wins_and_short_rows_are_errors() {
        let parsed = parse("domain,indicator\nignored.example,keep.example\nonly-one-column\n");
        assert_eq!(parsed.entries[0].value, "keep.example");
        assert_eq!(parsed.problems.len(), 1);
        assert_eq!(parsed.problems[0].0, 3);
        assert!(parsed.problems[0].1.contains("indicator"));
    }

    #[test]
    fn header_detection_needs_a_known_column() {
        assert!(is_header("user_agent, note"));
        assert!(is_header("\"access_key\",owner"));
        assert!(!is_header("a,b,c"));
        assert!(is_header("ip"));
        assert!(!is_header("ip address"));
        assert!(!is_header("198.51.100.7"));
    }
}
