//! The scan as the writers see it: each result joined with its control, counts per area and
//! status, and the small conversions several formats share.

use std::cmp::Ordering;
use std::io;

use chrono::{DateTime, Utc};
use vigil_findings::{Finding, Severity, SeverityLabel};

use crate::result::{control, Area, ControlInfo, ControlResult, ScanReport, Status};

/// One result with its control.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Row<'a> {
    /// Position of the result in `ScanReport::results` (0-based).
    pub index: usize,
    pub result: &'a ControlResult,
    pub control: &'static ControlInfo,
}

impl Row<'_> {
    /// The severity the result is reported with: the control's for FAIL and UNKNOWN,
    /// informational for PASS and NOT_APPLICABLE (as Security Hub does for passed checks).
    pub fn severity(&self) -> Severity {
        match self.result.status {
            Status::Fail | Status::Unknown => self.control.severity,
            Status::Pass | Status::NotApplicable => Severity::from_score(0),
        }
    }

    pub fn is_muted(&self) -> bool {
        self.result.muted.is_some()
    }

    /// A stable id for this control on this resource: the same across scans, so Security
    /// Hub and SIEMs update one finding instead of piling up new ones.
    pub fn finding_id(&self) -> String {
        let resource = &self.result.resource;
        let key = format!("{}|{}|{}", resource.account, resource.region, resource.id);
        // `Finding::stable_id` is vigil's length-prefixed SHA-256 id; window 0 = timeless.
        Finding::stable_id(self.control.id, &key, 0)
    }
}

/// Every result joined with its control, in report order.
pub(crate) fn rows(report: &ScanReport) -> io::Result<Vec<Row<'_>>> {
    report
        .results
        .iter()
        .enumerate()
        .map(|(index, result)| match control(&result.control) {
            Some(control) => Ok(Row {
                index,
                result,
                control,
            }),
            None => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "result {} (on {}) names control `{}`, which this version of vigil does not have",
                    index + 1,
                    result.resource.id,
                    result.control
                ),
            )),
        })
        .collect()
}

/// The results whose control is known, and the positions of those whose is not (for the
/// summary, which shows what it can rather than failing).
pub(crate) fn known_rows(report: &ScanReport) -> (Vec<Row<'_>>, Vec<usize>) {
    let mut rows = Vec::with_capacity(report.results.len());
    let mut unknown = Vec::new();
    for (index, result) in report.results.iter().enumerate() {
        match control(&result.control) {
            Some(control) => rows.push(Row {
                index,
                result,
                control,
            }),
            None => unknown.push(index),
        }
    }
    (rows, unknown)
}

/// Worst first: FAIL, UNKNOWN, PASS, NOT_APPLICABLE (muted after unmuted), then by
/// severity, control number and resource.
pub(crate) fn worst_first(a: &Row<'_>, b: &Row<'_>) -> Ordering {
    let rank = |row: &Row<'_>| (status_rank(row.result.status), row.is_muted());
    rank(a)
        .cmp(&rank(b))
        .then(b.control.severity.score.cmp(&a.control.severity.score))
        .then(a.control.number.cmp(&b.control.number))
        .then(a.result.resource.id.cmp(&b.result.resource.id))
}

fn status_rank(status: Status) -> u8 {
    match status {
        Status::Fail => 0,
        Status::Unknown => 1,
        Status::Pass => 2,
        Status::NotApplicable => 3,
    }
}

/// Counts of results. Muted results count only as muted, whatever their status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Tally {
    pub pass: usize,
    pub fail: usize,
    pub unknown: usize,
    pub not_applicable: usize,
    pub muted: usize,
}

impl Tally {
    pub fn of<'a>(rows: impl IntoIterator<Item = &'a Row<'a>>) -> Tally {
        let mut tally = Tally::default();
        for row in rows {
            tally.add(row);
        }
        tally
    }

    fn add(&mut self, row: &Row<'_>) {
        let count = match (row.is_muted(), row.result.status) {
            (true, _) => &mut self.muted,
            (false, Status::Pass) => &mut self.pass,
            (false, Status::Fail) => &mut self.fail,
            (false, Status::Unknown) => &mut self.unknown,
            (false, Status::NotApplicable) => &mut self.not_applicable,
        };
        *count += 1;
    }

    pub fn total(&self) -> usize {
        self.pass + self.fail + self.unknown + self.not_applicable + self.muted
    }
}

/// The score of an area (or of everything) from the report, `None` when nothing in it was
/// scored, so "100 %" is never shown for an area where nothing passed or failed.
pub(crate) fn score(report: &ScanReport, area: Option<Area>) -> Option<f64> {
    let counts = report.counts(area);
    if counts.pass + counts.fail == 0 {
        return None;
    }
    let score = report.score(area);
    score.is_finite().then_some(score.clamp(0.0, 100.0))
}

/// Failing controls, worst first: each control with its unmuted FAIL rows.
pub(crate) fn failing_controls<'a>(rows: &[Row<'a>]) -> Vec<(&'static ControlInfo, Vec<Row<'a>>)> {
    let mut failing: Vec<Row<'a>> = rows
        .iter()
        .filter(|row| row.result.status == Status::Fail && !row.is_muted())
        .copied()
        .collect();
    failing.sort_by(worst_first);
    let mut groups: Vec<(&'static ControlInfo, Vec<Row<'a>>)> = Vec::new();
    for row in failing {
        match groups
            .iter_mut()
            .find(|(control, _)| control.id == row.control.id)
        {
            Some((_, list)) => list.push(row),
            None => groups.push((row.control, vec![row])),
        }
    }
    groups
}

/// The severity labels, worst first.
pub(crate) const LABELS_WORST_FIRST: [SeverityLabel; 5] = [
    SeverityLabel::Critical,
    SeverityLabel::High,
    SeverityLabel::Medium,
    SeverityLabel::Low,
    SeverityLabel::Informational,
];

/// The label in words (`High`), for humans.
pub(crate) fn label_title(label: SeverityLabel) -> &'static str {
    match label {
        SeverityLabel::Informational => "Informational",
        SeverityLabel::Low => "Low",
        SeverityLabel::Medium => "Medium",
        SeverityLabel::High => "High",
        SeverityLabel::Critical => "Critical",
    }
}

/// `CIS AWS Foundations Benchmark v3.0.0/1.2`, the form Security Hub's
/// `Compliance.RelatedRequirements` uses.
pub(crate) fn cis_requirement(cis: &str) -> String {
    format!("{}/{cis}", super::CIS_BENCHMARK)
}

/// RFC 3339 UTC with milliseconds, as ASFF and SARIF expect (`2024-03-01T10:00:00.000Z`).
pub(crate) fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The partition of a resource: its ARN's (`aws`, `aws-cn`, `aws-us-gov`), else the one its
/// region belongs to (account-level results have no ARN), else `aws`.
pub(crate) fn partition<'a>(id: &'a str, region: &str) -> &'a str {
    let mut parts = id.split(':');
    match (parts.next(), parts.next()) {
        (Some("arn"), Some(partition @ ("aws" | "aws-cn" | "aws-us-gov"))) => partition,
        _ => region_partition(region),
    }
}

/// The partition a region belongs to (`cn-north-1` → `aws-cn`).
pub(crate) fn region_partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// Whether `text` has the shape of an AWS region name (`eu-west-1`, `us-gov-east-1`).
pub(crate) fn is_region(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

/// Whether `text` is a 12-digit AWS account id.
pub(crate) fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

/// The region a result is reported in: its resource's when that is a real region (global
/// resources say `global` or nothing), else the first region scanned, else `us-east-1`.
pub(crate) fn report_region<'a>(report: &'a ScanReport, row: &Row<'a>) -> &'a str {
    let own = row.result.resource.region.as_str();
    if is_region(own) {
        return own;
    }
    report
        .regions
        .iter()
        .map(String::as_str)
        .find(|region| is_region(region))
        .unwrap_or("us-east-1")
}

/// A short display name of a resource: the part of an ARN after its last `/` or `:`.
pub(crate) fn short_name(id: &str) -> &str {
    if !id.starts_with("arn:") {
        return id;
    }
    let resource = id.splitn(6, ':').nth(5).unwrap_or(id);
    let name = resource.rsplit(['/', ':']).next().unwrap_or(resource);
    if name.is_empty() {
        resource
    } else {
        name
    }
}

/// `text` cut to at most `max` characters with control characters (escape sequences, line
/// breaks) shown as spaces: reasons and resource names come from the scanned accounts, and a
/// tag value must not be able to drive the terminal that prints the table or summary.
pub(crate) fn terminal_text(text: &str, max: usize) -> String {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    truncate_chars(&clean, max)
}

/// `text` cut to at most `max` characters, on a character boundary, with `…` marking a cut.
pub(crate) fn truncate_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// `text` cut to at most `max` characters by dropping its middle, for ARNs whose both ends
/// matter (`arn:aws:s3:::very…-bucket-name`).
pub(crate) fn truncate_middle(text: &str, max: usize) -> String {
    let count = text.chars().count();
    if count <= max || max < 3 {
        return truncate_chars(text, max);
    }
    let head = (max - 1) / 2;
    let tail = max - 1 - head;
    let mut cut: String = text.chars().take(head).collect();
    cut.push('…');
    cut.extend(text.chars().skip(count - tail));
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_are_recognised_by_shape() {
        for region in ["us-east-1", "eu-west-3", "us-gov-west-1", "ap-southeast-2"] {
            assert!(is_region(region), "{region}");
        }
        for other in ["global", "", "aws-global", "us-east", "US-EAST-1", "us--1"] {
            assert!(!is_region(other), "{other}");
        }
    }

    #[test]
    fn partitions_come_from_arns_then_regions() {
        assert_eq!(partition("arn:aws-cn:s3:::bucket", "us-east-1"), "aws-cn");
        assert_eq!(
            partition("arn:aws-us-gov:iam::123456789012:root", "global"),
            "aws-us-gov"
        );
        assert_eq!(partition("arn:other:s3:::bucket", "eu-west-1"), "aws");
        assert_eq!(
            partition("AWS::::Account:123456789012", "cn-north-1"),
            "aws-cn"
        );
        assert_eq!(
            partition("AWS::::Account:123456789012", "us-gov-west-1"),
            "aws-us-gov"
        );
        assert_eq!(partition("sg-0123", "global"), "aws");
    }

    #[test]
    fn short_names_take_the_last_path_segment() {
        assert_eq!(short_name("arn:aws:s3:::logs-bucket"), "logs-bucket");
        assert_eq!(
            short_name("arn:aws:ec2:eu-west-1:123456789012:security-group/sg-0abc"),
            "sg-0abc"
        );
        assert_eq!(short_name("arn:aws:iam::123456789012:root"), "root");
        assert_eq!(short_name("vpc-123"), "vpc-123");
    }

    #[test]
    fn truncation_counts_characters() {
        assert_eq!(truncate_chars("short", 10), "short");
        assert_eq!(truncate_chars("ééééé", 3), "éé…");
        assert_eq!(truncate_middle("arn:aws:s3:::bucket", 9), "arn:…cket");
        assert_eq!(truncate_middle("short", 9), "short");
        assert_eq!(terminal_text("a\u{1b}[31mb\nc", 20), "a [31mb c");
    }
}
