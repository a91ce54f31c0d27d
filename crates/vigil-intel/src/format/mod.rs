//! Reading one intel file, whatever its format: plain lines, CSV with a header, or a STIX 2.1
//! bundle. The format is detected from the content, not the file name.

mod csv_list;
mod plain;
mod stix;
mod stix_pattern;

use chrono::{DateTime, Utc};

/// One indicator read from a file, before it is classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawEntry {
    pub value: String,
    pub description: Option<String>,
    pub line: usize,
}

/// What a file yields: an optional list name from its header, its entries, and the problems
/// found on the way (line, reason).
#[derive(Debug, Default)]
pub(crate) struct ParsedFile {
    pub name: Option<String>,
    pub entries: Vec<RawEntry>,
    pub problems: Vec<(usize, String)>,
}

/// The format of a file, detected from its first meaningful bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Stix,
    Csv,
    Plain,
}

/// Parses `bytes` in the format they are in. STIX indicators whose `valid_until` is before
/// `now` are skipped.
pub(crate) fn parse_file(bytes: &[u8], now: DateTime<Utc>) -> ParsedFile {
    let (text, bad_lines) = decode_lines(bytes);
    let mut parsed = match detect(&text) {
        Format::Stix => stix::parse(&text, now),
        Format::Csv => csv_list::parse(&text),
        Format::Plain => plain::parse(&text),
    };
    if parsed.name.is_none() {
        parsed.name = name_header(&text);
    }
    parsed.problems.extend(bad_lines);
    parsed.problems.sort();
    parsed
}

fn detect(text: &str) -> Format {
    if text.trim_start().starts_with('{') {
        return Format::Stix;
    }
    match data_lines(text).next() {
        Some((_, first)) if csv_list::is_header(first) => Format::Csv,
        _ => Format::Plain,
    }
}

/// Lines that carry data: 1-based line number and trimmed text, without blank and `#` lines.
pub(crate) fn data_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(index, line)| (index + 1, line.trim()))
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
}

/// The value of the first `# name: x` comment line.
fn name_header(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let comment = line.trim().strip_prefix('#')?.trim_start();
        let name = comment.strip_prefix("name:")?.trim();
        (!name.is_empty()).then(|| name.to_string())
    })
}

/// The text of `bytes`, with every line that is not valid UTF-8 blanked (keeping the line
/// numbering) and reported.
fn decode_lines(bytes: &[u8]) -> (String, Vec<(usize, String)>) {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return (text.to_string(), Vec::new());
    }
    let mut text = String::with_capacity(bytes.len());
    let mut problems = Vec::new();
    for (index, line) in bytes.split(|b| *b == b'\n').enumerate() {
        match std::str::from_utf8(line) {
            Ok(line) => text.push_str(line),
            Err(_) => problems.push((index + 1, "line is not valid UTF-8".to_string())),
        }
        text.push('\n');
    }
    (text, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_detected_from_content() {
        assert_eq!(detect("  {\"type\":\"bundle\"}"), Format::Stix);
        assert_eq!(detect("# c\n\nip,comment\n1.2.3.4,x"), Format::Csv);
        assert_eq!(detect("1.2.3.4\n5.6.7.8"), Format::Plain);
        // A user agent with commas is not a CSV header.
        assert_eq!(detect("Mozilla/5.0 (X11, Linux)"), Format::Plain);
    }

    #[test]
    fn name_header_names_the_list() {
        let parsed = parse_file(b"# feed from x\n# name: tor_exits\n1.2.3.4\n", Utc::now());
        assert_eq!(parsed.name.as_deref(), Some("tor_exits"));
        assert_eq!(parsed.entries.len(), 1);
    }

    #[test]
    fn invalid_utf8_lines_are_reported_and_the_rest_kept() {
        let parsed = parse_file(b"1.2.3.4\n\xff\xfe\n5.6.7.8\n", Utc::now());
        assert_eq!(
            parsed.problems,
            vec![(2, "line is not valid UTF-8".to_string())]
        );
        let lines: Vec<usize> = parsed.entries.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![1, 3]);
    }
}
