//! Translation of the Sigma 1 aggregation syntax (`selection | count() by field > N` with a
//! `timeframe`) into a correlation rule, so old rules run on the same evaluator.

use std::path::Path;

use crate::{
    CompareOp, CorrelationError, CorrelationKind, CorrelationRule, ErrorReason, Threshold,
};

/// Window used when a legacy aggregation has no `timeframe:`: one hour, the same as the
/// default deduplication window of findings. (Sigma 1 meant "over the searched time range",
/// which a stream has no notion of.)
pub const DEFAULT_LEGACY_TIMEFRAME_MS: i64 = 60 * 60 * 1000;

/// The aggregation part of a legacy condition, as the Sigma loader parsed it:
/// `selection | count(field) by group_by op threshold` plus the rule's `timeframe`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyAggregation {
    /// The aggregation function (`count`; others are reported as unsupported).
    pub function: String,
    /// The argument of the function: `count(userIdentity.arn)` counts distinct values.
    pub field: Option<String>,
    /// The `by` field; several may be given separated by commas.
    pub group_by: Option<String>,
    /// The comparison after the aggregation.
    pub op: CompareOp,
    /// The number compared against.
    pub threshold: u64,
    /// `timeframe:` of the detection, in milliseconds.
    pub timeframe_ms: Option<i64>,
}

/// Translates a legacy aggregation over the base rule `base_rule_id` into a correlation:
/// `count()` becomes `event_count`, `count(field)` becomes `value_count` of `field`, `by`
/// becomes `group-by`, `timeframe` the timespan ([`DEFAULT_LEGACY_TIMEFRAME_MS`] when absent)
/// and the comparison the condition.
///
/// The correlation takes the legacy rule's id and title, so its findings carry the id the
/// author wrote; reference resolution prefers base rules, so `rules: [id]` still names the
/// base rule. `generate` is false: the selection alone does not produce findings. The caller
/// copies level, tags, description and the rest from the legacy rule.
pub fn from_legacy(
    base_rule_id: &str,
    base_title: &str,
    aggregation: &LegacyAggregation,
    file: &Path,
    line: usize,
) -> Result<CorrelationRule, CorrelationError> {
    if !aggregation.function.eq_ignore_ascii_case("count") {
        return Err(CorrelationError {
            file: file.to_path_buf(),
            line,
            rule: base_rule_id.to_string(),
            reason: ErrorReason::UnsupportedLegacyFunction(aggregation.function.clone()),
        });
    }
    let kind = match aggregation.field.as_deref().map(str::trim) {
        Some(field) if !field.is_empty() => CorrelationKind::ValueCount {
            field: field.to_string(),
        },
        _ => CorrelationKind::EventCount,
    };
    let group_by = aggregation
        .group_by
        .iter()
        .flat_map(|fields| fields.split(','))
        .map(str::trim)
        .filter(|field| !field.is_empty())
        .map(String::from)
        .collect();
    let mut rule = blank_rule(base_rule_id, base_title, file, line);
    rule.kind = kind;
    rule.group_by = group_by;
    rule.timespan_ms = aggregation
        .timeframe_ms
        .unwrap_or(DEFAULT_LEGACY_TIMEFRAME_MS);
    rule.condition = Some(Threshold::single(aggregation.op, aggregation.threshold));
    Ok(rule)
}

/// Translates a legacy `a | near b and c` over base rules (one per selection, made by the
/// loader) into an unordered `temporal` correlation with no group-by.
pub fn from_legacy_near(
    correlation_id: &str,
    title: &str,
    base_rule_ids: &[String],
    timeframe_ms: Option<i64>,
    file: &Path,
    line: usize,
) -> CorrelationRule {
    let mut rule = blank_rule(correlation_id, title, file, line);
    rule.kind = CorrelationKind::Temporal;
    rule.rules = base_rule_ids.to_vec();
    rule.timespan_ms = timeframe_ms.unwrap_or(DEFAULT_LEGACY_TIMEFRAME_MS);
    rule
}

fn blank_rule(id: &str, title: &str, file: &Path, line: usize) -> CorrelationRule {
    CorrelationRule {
        id: Some(id.to_string()),
        name: None,
        title: title.to_string(),
        description: None,
        level: None,
        status: None,
        tags: Vec::new(),
        references: Vec::new(),
        falsepositives: Vec::new(),
        kind: CorrelationKind::EventCount,
        rules: vec![id.to_string()],
        group_by: Vec::new(),
        aliases: Vec::new(),
        timespan_ms: DEFAULT_LEGACY_TIMEFRAME_MS,
        condition: None,
        generate: false,
        file: file.to_path_buf(),
        line,
        vigil: serde_json::Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BaseRuleRef, CorrelationSet};

    /// The shapes of ../shared/data/sigma/aws-legacy-aggregation/*.yml, as the loader parses
    /// them (file: condition, timeframe).
    fn aggregation(
        group_by: Option<&str>,
        threshold: u64,
        minutes: Option<i64>,
    ) -> LegacyAggregation {
        LegacyAggregation {
            function: "count".into(),
            field: None,
            group_by: group_by.map(String::from),
            op: CompareOp::Gt,
            threshold,
            timeframe_ms: minutes.map(|m| m * 60_000),
        }
    }

    fn translate(aggregation: &LegacyAggregation) -> Result<CorrelationRule, CorrelationError> {
        from_legacy(
            "26ff4080",
            "AWS EC2 Download Userdata",
            aggregation,
            Path::new("x.yml"),
            17,
        )
    }

    #[test]
    fn count_without_group_becomes_event_count() {
        // aws_ec2_download_userdata.yml: `selection_source | count() > 10`, timeframe 30m.
        let rule = translate(&aggregation(None, 10, Some(30))).unwrap();
        assert_eq!(rule.kind, CorrelationKind::EventCount);
        assert_eq!(rule.rules, vec!["26ff4080".to_string()]);
        assert_eq!(rule.id.as_deref(), Some("26ff4080"));
        assert_eq!(rule.title, "AWS EC2 Download Userdata");
        assert!(rule.group_by.is_empty());
        assert_eq!(rule.timespan_ms, 30 * 60_000);
        assert_eq!(rule.condition, Some(Threshold::single(CompareOp::Gt, 10)));
        assert!(!rule.generate);
        assert_eq!((rule.file.as_path(), rule.line), (Path::new("x.yml"), 17));
    }

    #[test]
    fn count_by_field_groups_by_it() {
        // aws_macic_evasion.yml: `selection | count() by sourceIPAddress > 5`, timeframe 10m.
        let rule = translate(&aggregation(Some("sourceIPAddress"), 5, Some(10))).unwrap();
        assert_eq!(rule.group_by, vec!["sourceIPAddress".to_string()]);
        assert_eq!(rule.timespan_ms, 10 * 60_000);
        let several = translate(&aggregation(Some("a, b"), 5, Some(10))).unwrap();
        assert_eq!(several.group_by, vec!["a".to_string(), "b".to_string()]);
    }

    #[test]
    fn count_of_a_field_becomes_value_count() {
        let mut distinct = aggregation(Some("sourceIPAddress"), 3, None);
        distinct.field = Some("userIdentity.arn".into());
        let rule = translate(&distinct).unwrap();
        assert_eq!(
            rule.kind,
            CorrelationKind::ValueCount {
                field: "userIdentity.arn".into()
            }
        );
        assert_eq!(
            rule.timespan_ms, DEFAULT_LEGACY_TIMEFRAME_MS,
            "no timeframe: the default"
        );
    }

    #[test]
    fn other_functions_are_reported() {
        let mut sum = aggregation(None, 3, None);
        sum.function = "sum".into();
        let error = translate(&sum).unwrap_err();
        assert_eq!(
            error.reason,
            ErrorReason::UnsupportedLegacyFunction("sum".into())
        );
        assert_eq!((error.line, error.rule.as_str()), (17, "26ff4080"));
    }

    #[test]
    fn translated_rules_build_against_their_own_base_rule() {
        // aws_enum_listing.yml, aws_enum_backup.yml, ...: several legacy rules side by side.
        let base: Vec<BaseRuleRef> = ["e9c14b23", "76255e09"]
            .iter()
            .map(|id| BaseRuleRef {
                id: id.to_string(),
                name: None,
            })
            .collect();
        let rules = vec![
            from_legacy(
                "e9c14b23",
                "Account Enumeration",
                &aggregation(None, 50, Some(10)),
                Path::new("l.yml"),
                1,
            ),
            from_legacy(
                "76255e09",
                "Backup Enumeration",
                &aggregation(None, 5, Some(10)),
                Path::new("b.yml"),
                1,
            ),
        ];
        let rules: Vec<CorrelationRule> = rules.into_iter().collect::<Result<_, _>>().unwrap();
        let (set, errors) = CorrelationSet::build(rules, &base);
        assert!(errors.is_empty(), "{errors:?}");
        assert!(set.wants(0) && set.wants(1));
        assert!(!set.generates(0) && !set.generates(1));
    }

    #[test]
    fn near_becomes_temporal() {
        // aws_lambda_function_created_or_invoked.yml: `selection1 | near selection2`.
        let ids = vec![
            "d914951b/selection1".to_string(),
            "d914951b/selection2".to_string(),
        ];
        let rule = from_legacy_near("d914951b", "Lambda", &ids, None, Path::new("l.yml"), 1);
        assert_eq!(rule.kind, CorrelationKind::Temporal);
        assert_eq!(rule.rules, ids);
        assert_eq!(rule.condition, None);
    }
}
