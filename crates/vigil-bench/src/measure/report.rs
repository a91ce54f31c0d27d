//! The benchmark's Markdown report: one table of rates, then the targets checked.

use std::fmt::Write as _;

/// One measured (or not measurable) stage.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub stage: String,
    pub rules: String,
    pub threads: usize,
    pub records: u64,
    pub json_bytes: u64,
    pub seconds: Option<f64>,
    pub peak_rss_kib: Option<u64>,
    /// Lines the detector wrote on stdout (findings, one per line in JSON Lines).
    pub findings: Option<u64>,
    pub note: String,
}

impl Row {
    pub fn measured(
        stage: &str,
        rules: &str,
        threads: usize,
        records: u64,
        json_bytes: u64,
        seconds: f64,
    ) -> Self {
        Row {
            stage: stage.to_string(),
            rules: rules.to_string(),
            threads,
            records,
            json_bytes,
            seconds: Some(seconds),
            peak_rss_kib: None,
            findings: None,
            note: String::new(),
        }
    }

    pub fn missing(stage: &str, rules: &str, records: u64, json_bytes: u64, note: &str) -> Self {
        Row {
            seconds: None,
            note: note.to_string(),
            ..Row::measured(stage, rules, 1, records, json_bytes, 0.0)
        }
    }

    /// Records per second.
    pub fn rate(&self) -> Option<f64> {
        self.seconds
            .filter(|s| *s > 0.0)
            .map(|s| self.records as f64 / s)
    }

    /// Decompressed JSON megabytes (10^6) per second.
    pub fn megabytes_per_sec(&self) -> Option<f64> {
        self.seconds
            .filter(|s| *s > 0.0)
            .map(|s| self.json_bytes as f64 / 1e6 / s)
    }
}

const FLOOR: &str = "gunzip + sonic-rs full parse (floor)";
const RSIGMA_TOTAL: &str = "rsigma 0.23.0 end to end (conversion + eval)";
const VIGIL: &str = "vigil detect";
const PACK: &str = "pack + 57 SigmaHQ";
const PACK_1000: &str = "pack + 57 SigmaHQ + 1,000 generated";
/// The rule label of the flood stress set's rows (see `gen-rules --flood`).
const FLOOD: &str = "flood";

fn find<'a>(rows: &'a [Row], stage: &str, rules: Option<&str>, threads: usize) -> Option<&'a Row> {
    rows.iter().find(|r| {
        r.stage == stage
            && rules.is_none_or(|x| r.rules == x)
            && r.threads == threads
            && r.seconds.is_some()
    })
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

fn cell(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| "—".to_string(), |v| format!("{v:.decimals$}"))
}

fn thousands(value: Option<f64>) -> String {
    let Some(value) = value else {
        return "—".to_string();
    };
    let digits = format!("{:.0}", value);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The whole report.
pub fn markdown(rows: &[Row]) -> String {
    let mut out = String::new();
    let rsigma = find(rows, RSIGMA_TOTAL, None, 1).and_then(Row::rate);
    let _ = writeln!(out, "| Stage | Rules | Threads | Records/s | MB/s | Wall (s) | Peak RSS (MiB) | Output lines | × sonic-rs floor | × rsigma |");
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        let floor = find(rows, FLOOR, None, row.threads).and_then(Row::rate);
        let rate = row.rate();
        let wall = if row.seconds.is_some() {
            cell(row.seconds, 2)
        } else {
            row.note.clone()
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            row.stage,
            row.rules,
            row.threads,
            thousands(rate),
            cell(row.megabytes_per_sec(), 0),
            wall,
            cell(row.peak_rss_kib.map(|k| k as f64 / 1024.0), 0),
            row.findings
                .map_or_else(|| "—".to_string(), |f| f.to_string()),
            cell(ratio(rate, floor), 2),
            cell(ratio(rate, rsigma), 2),
        );
    }
    out.push('\n');
    out.push_str(&targets(rows));
    out
}

/// The targets, each with the figure measured or "not yet measured".
fn targets(rows: &[Row]) -> String {
    let pack_1 = find(rows, VIGIL, Some(PACK), 1);
    let pack_2 = find(rows, VIGIL, Some(PACK), 2);
    let more_1 = find(rows, VIGIL, Some(PACK_1000), 1);
    let rsigma = find(rows, RSIGMA_TOTAL, None, 1);
    let floor = find(rows, FLOOR, None, 1);
    let peak_of = |flood: bool| {
        rows.iter()
            .filter(|r| r.stage == VIGIL && r.rules.contains(FLOOD) == flood)
            .filter_map(|r| r.peak_rss_kib)
            .max()
    };
    let (peak, flood_peak) = (peak_of(false), peak_of(true));
    let checks = [
        (
            "full detection vs rsigma, 1 thread",
            ratio(pack_1.and_then(Row::rate), rsigma.and_then(Row::rate)),
            "≥ 5×",
            5.0,
            true,
        ),
        (
            "full detection vs sonic-rs floor, 1 thread",
            ratio(pack_1.and_then(Row::rate), floor.and_then(Row::rate)),
            "≥ 0.5×",
            0.5,
            true,
        ),
        (
            "time with 1,000 extra rules / time with pack",
            ratio(
                more_1.and_then(|r| r.seconds),
                pack_1.and_then(|r| r.seconds),
            ),
            "≤ 2×",
            2.0,
            false,
        ),
        (
            "2 threads / 1 thread (pack + 57 SigmaHQ)",
            ratio(pack_2.and_then(Row::rate), pack_1.and_then(Row::rate)),
            "≥ 1.7×",
            1.7,
            true,
        ),
        (
            "peak RSS of vigil (MiB)",
            peak.map(|k| k as f64 / 1024.0),
            "< 256",
            256.0,
            false,
        ),
        (
            "peak RSS of vigil, flood stress set (MiB)",
            flood_peak.map(|k| k as f64 / 1024.0),
            "< 256",
            256.0,
            false,
        ),
    ];
    let mut out = String::from("| Target | Measured | Goal | Met |\n|---|---:|---|---|\n");
    for (name, value, goal, bound, at_least) in checks {
        let met = match value {
            None => "not yet measured",
            Some(v) if (at_least && v >= bound) || (!at_least && v <= bound) => "yes",
            Some(_) => "no",
        };
        let _ = writeln!(out, "| {name} | {} | {goal} | {met} |", cell(value, 2));
    }
    out
}

/// The machine the figures were taken on: CPU, cores, memory, and the load average (other
/// work on a shared machine skews every figure, so the report says how busy it was).
pub fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .and_then(|r| r.split_once(':'))
                .map(|(_, m)| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".to_string());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:").map(|m| m.trim().to_string()))
        .unwrap_or_default();
    format!(
        "{model}, {cores} cores, {memory} memory, load average {}",
        load_average()
    )
}

/// The 1-minute load average.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Vec<Row> {
        let mut vigil = Row::measured(VIGIL, PACK, 1, 1000, 1_000_000, 0.5);
        vigil.peak_rss_kib = Some(100 * 1024);
        vec![
            Row::measured(FLOOR, "-", 1, 1000, 1_000_000, 0.25),
            vigil,
            Row::measured(RSIGMA_TOTAL, "57 SigmaHQ", 1, 1000, 1_000_000, 4.0),
            Row::missing(VIGIL, PACK_1000, 1000, 1_000_000, "not yet measured"),
        ]
    }

    #[test]
    fn ratios_are_against_the_floor_and_rsigma() {
        let text = markdown(&rows());
        let vigil_line = text
            .lines()
            .find(|l| l.starts_with("| vigil detect | pack + 57 SigmaHQ |"))
            .unwrap();
        assert!(
            vigil_line.contains("| 2,000 | 2 | 0.50 | 100 | — | 0.50 | 8.00 |"),
            "{vigil_line}"
        );
        assert!(
            text.contains("| full detection vs rsigma, 1 thread | 8.00 | ≥ 5× | yes |"),
            "{text}"
        );
        assert!(
            text.contains("| full detection vs sonic-rs floor, 1 thread | 0.50 | ≥ 0.5× | yes |")
        );
        assert!(text.contains(
            "| time with 1,000 extra rules / time with pack | — | ≤ 2× | not yet measured |"
        ));
        assert!(text.contains("| peak RSS of vigil (MiB) | 100.00 | < 256 | yes |"));
    }

    #[test]
    fn numbers_get_thousands_separators() {
        assert_eq!(thousands(Some(1_234_567.4)), "1,234,567");
        assert_eq!(thousands(Some(999.0)), "999");
        assert_eq!(thousands(None), "—");
    }
}
