//! The Sigma 1 aggregation part of a condition, after the `|`:
//! `count() > 5`, `count(field) by group > 5`, `near other_selection`.

use vigil_correlation::{CompareOp, LegacyAggregation};

/// What follows the `|` of a legacy condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Aggregation {
    /// `count(...) by ... op N` (and `min`/`max`/`avg`/`sum`, left for the translator to judge).
    Function(LegacyAggregation),
    /// `near a and b`: the selections that must also match within the timeframe.
    Near(Vec<String>),
}

/// Parses the aggregation expression; `timeframe_ms` is the detection's `timeframe`.
pub(crate) fn parse(text: &str, timeframe_ms: Option<i64>) -> Result<Aggregation, String> {
    let text = text.trim();
    if let Some(rest) = strip_word(text, "near") {
        return near(rest);
    }
    let (function, rest) = text
        .split_once('(')
        .ok_or_else(|| format!("`{text}` is not an aggregation (expected e.g. `count() > 5`)"))?;
    let function = function.trim();
    if !["count", "min", "max", "avg", "sum"].contains(&function) {
        return Err(format!("unknown aggregation function `{function}`"));
    }
    let (field, rest) = rest
        .split_once(')')
        .ok_or_else(|| "missing `)` in aggregation".to_string())?;
    let op_at = rest
        .find(['<', '>', '=', '!'])
        .ok_or_else(|| "aggregation needs a comparison such as `> 5`".to_string())?;
    let (group, comparison) = rest.split_at(op_at);
    let group_by = match group.trim() {
        "" => None,
        by => Some(
            strip_word(by, "by")
                .ok_or_else(|| format!("unexpected `{by}` in aggregation (expected `by field`)"))?
                .trim()
                .to_string(),
        ),
    };
    let (op, threshold) = comparison_of(comparison)?;
    Ok(Aggregation::Function(LegacyAggregation {
        function: function.to_string(),
        field: Some(field.trim().to_string()).filter(|f| !f.is_empty()),
        group_by: group_by.filter(|g| !g.is_empty()),
        op,
        threshold,
        timeframe_ms,
    }))
}

fn strip_word<'a>(text: &'a str, word: &str) -> Option<&'a str> {
    let rest = text.strip_prefix(word)?;
    rest.starts_with(char::is_whitespace).then_some(rest)
}

fn near(rest: &str) -> Result<Aggregation, String> {
    let names: Vec<String> = rest.split_whitespace().map(str::to_string).collect();
    let mut selections = Vec::new();
    for (i, word) in names.iter().enumerate() {
        let expect_name = i % 2 == 0;
        match (expect_name, word.as_str()) {
            (true, "not") => return Err("`near ... and not x` is not supported".into()),
            (true, name) if name != "and" => selections.push(name.to_string()),
            (false, "and") => {}
            _ => {
                return Err(format!(
                    "unexpected `{word}` in `near` (expected `near a and b`)"
                ))
            }
        }
    }
    if selections.is_empty() || names.len() % 2 == 0 {
        return Err("`near` needs selection names joined by `and`".into());
    }
    Ok(Aggregation::Near(selections))
}

fn comparison_of(text: &str) -> Result<(CompareOp, u64), String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !matches!(c, '<' | '>' | '=' | '!'))
        .unwrap_or(text.len());
    let (op, number) = text.split_at(split);
    let op = match op {
        ">" => CompareOp::Gt,
        ">=" => CompareOp::Gte,
        "<" => CompareOp::Lt,
        "<=" => CompareOp::Lte,
        "=" | "==" => CompareOp::Eq,
        "!=" => CompareOp::Neq,
        other => return Err(format!("unknown comparison `{other}` in aggregation")),
    };
    let threshold = number
        .trim()
        .parse::<u64>()
        .map_err(|_| format!("`{}` is not a whole number in aggregation", number.trim()))?;
    Ok((op, threshold))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn function(text: &str) -> LegacyAggregation {
        match parse(text, Some(600_000)).unwrap() {
            Aggregation::Function(agg) => agg,
            other => panic!("not a function: {other:?}"),
        }
    }

    #[test]
    fn count_forms_parse() {
        let agg = function("count() > 10");
        assert_eq!(
            (agg.function.as_str(), agg.field, agg.group_by),
            ("count", None, None)
        );
        assert_eq!(
            (agg.op, agg.threshold, agg.timeframe_ms),
            (CompareOp::Gt, 10, Some(600_000))
        );
        let agg = function(" count() by sourceIPAddress > 5");
        assert_eq!(agg.group_by.as_deref(), Some("sourceIPAddress"));
        let agg = function("count(eventName) by userIdentity.arn >= 3");
        assert_eq!(agg.field.as_deref(), Some("eventName"));
        assert_eq!(agg.group_by.as_deref(), Some("userIdentity.arn"));
        assert_eq!(agg.op, CompareOp::Gte);
        assert_eq!(function("count() != 0").op, CompareOp::Neq);
        assert_eq!(function("count()<=2").op, CompareOp::Lte);
    }

    #[test]
    fn near_lists_selections() {
        assert_eq!(
            parse("near selection2", None),
            Ok(Aggregation::Near(vec!["selection2".into()]))
        );
        assert_eq!(
            parse("near a and b", None),
            Ok(Aggregation::Near(vec!["a".into(), "b".into()]))
        );
        assert!(parse("near a and not b", None).is_err());
        assert!(parse("near a and", None).is_err());
    }

    #[test]
    fn malformed_aggregations_are_rejected() {
        for text in [
            "count()",
            "count() > x",
            "count( > 5",
            "median() > 1",
            "count() foo > 1",
            "count() => 2",
        ] {
            assert!(parse(text, None).is_err(), "{text}");
        }
    }
}
