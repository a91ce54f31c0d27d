//! Plain lists: one indicator a line, `#` comments (whole-line or after ` #`), blank lines.

use super::{data_lines, ParsedFile, RawEntry};

pub(super) fn parse(text: &str) -> ParsedFile {
    let entries = data_lines(text)
        .map(|(line, content)| {
            let (value, comment) = match content.split_once(" #") {
                Some((value, comment)) => (value.trim(), Some(comment.trim())),
                None => (content, None),
            };
            RawEntry {
                value: value.to_string(),
                description: comment.filter(|c| !c.is_empty()).map(str::to_string),
                line,
            }
        })
        .collect();
    ParsedFile {
        entries,
        ..ParsedFile::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_and_blank_lines_are_skipped() {
        let parsed = parse("# header\n\n198.51.100.7  # seen 2024-01\n  pool.example  \n#x\n");
        let values: Vec<(&str, usize)> = parsed
            .entries
            .iter()
            .map(|e| (e.value.as_str(), e.line))
            .collect();
        assert_eq!(values, vec![("198.51.100.7", 3), ("pool.example", 4)]);
        assert_eq!(
            parsed.entries[0].description.as_deref(),
            Some("seen 2024-01")
        );
        assert_eq!(parsed.entries[1].description, None);
    }
}
