//! Sigma durations: `timespan: 5m` (correlations) and `timeframe: 1h` (legacy aggregations).

const SECOND_MS: i64 = 1000;
const DAY_MS: i64 = 24 * 60 * 60 * SECOND_MS;

/// Parses `<number><unit>` with units `s`, `m`, `h`, `d`, `M` (30 days) and `y` (365 days)
/// into milliseconds.
pub(crate) fn parse_ms(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let bad = || format!("`{text}` is not a duration (use e.g. 30s, 5m, 1h, 7d, 1M, 1y)");
    let unit = text.chars().last().ok_or_else(bad)?;
    let number: i64 = text[..text.len() - unit.len_utf8()]
        .parse()
        .map_err(|_| bad())?;
    let unit_ms = match unit {
        's' => SECOND_MS,
        'm' => 60 * SECOND_MS,
        'h' => 60 * 60 * SECOND_MS,
        'd' => DAY_MS,
        'M' => 30 * DAY_MS,
        'y' => 365 * DAY_MS,
        _ => return Err(bad()),
    };
    if number <= 0 {
        return Err(format!("duration `{text}` must be positive"));
    }
    number.checked_mul(unit_ms).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_convert_to_milliseconds() {
        assert_eq!(parse_ms("30s"), Ok(30_000));
        assert_eq!(parse_ms("5m"), Ok(300_000));
        assert_eq!(parse_ms("1h"), Ok(3_600_000));
        assert_eq!(parse_ms("2d"), Ok(2 * DAY_MS));
        assert_eq!(parse_ms("1M"), Ok(30 * DAY_MS));
        assert_eq!(parse_ms("1y"), Ok(365 * DAY_MS));
    }

    #[test]
    fn bad_durations_are_rejected() {
        for text in [
            "",
            "h",
            "5",
            "5w",
            "-1h",
            "0m",
            "1.5h",
            "99999999999999999y",
        ] {
            assert!(parse_ms(text).is_err(), "{text}");
        }
    }
}
