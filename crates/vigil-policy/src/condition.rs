//! Concrete evaluation of one condition against the values a request carries for its key,
//! following the IAM reference ("Condition operators", "Multivalued context keys"):
//!
//! - a key absent from the request makes a condition false, except that negated operators
//!   (`StringNotEquals`, `NotIpAddress`, `ArnNotLike`...) are then true, `...IfExists` is then
//!   true, and `Null` tests exactly that absence;
//! - several policy values are ORed; a negated operator holds when *no* value matches;
//! - `ForAllValues:` holds when every request value matches (vacuously true when the key is
//!   absent or empty); `ForAnyValue:` holds when at least one does (false when absent);
//! - without a qualifier, a multi-valued key holds (positive operators) when any request
//!   value matches, and (negated operators) when none does.

use std::net::IpAddr;

use base64::Engine as _;
use chrono::{DateTime, NaiveDate, NaiveDateTime};
use ipnet::IpNet;

use crate::evaluate::ContextValue;
use crate::model::{BaseOperator, Condition, Family, PolicyVersion, SetQualifier};
use crate::variables;

/// Does `condition` hold for the request values of its key? `None` when a policy variable
/// in its values cannot be resolved (the statement is then invalid for this request).
pub(crate) fn holds(
    condition: &Condition,
    request_values: Option<&[ContextValue]>,
    version: PolicyVersion,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Option<bool> {
    let op = condition.operator;
    let present: &[ContextValue] = request_values.unwrap_or(&[]);
    if op.base == BaseOperator::Null {
        let absent = present.is_empty();
        return Some(
            condition
                .values
                .iter()
                .any(|v| v.eq_ignore_ascii_case("true") == absent),
        );
    }
    let negated = op.base.is_negated();
    if present.is_empty() {
        // The result for an absent key does not depend on the policy values.
        return Some(match op.qualifier {
            Some(SetQualifier::ForAllValues) => true,
            Some(SetQualifier::ForAnyValue) => op.if_exists,
            None => op.if_exists || negated,
        });
    }
    let policy = resolve_values(condition, version, lookup)?;
    // Per request value: positive operators hold when some policy value matches; negated
    // ones when none does.
    let per_value = |rv: &ContextValue| policy.iter().any(|pv| matches(op.base, rv, pv)) != negated;
    Some(match op.qualifier {
        Some(SetQualifier::ForAllValues) => present.iter().all(per_value),
        Some(SetQualifier::ForAnyValue) => present.iter().any(per_value),
        None if negated => present.iter().all(per_value),
        None => present.iter().any(per_value),
    })
}

/// A policy value after variable substitution, in the form its operator compares.
enum PolicyValue {
    Text(String),
    Pattern(crate::glob::Glob),
    Arn(Vec<crate::glob::Glob>),
}

fn resolve_values(
    condition: &Condition,
    version: PolicyVersion,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Option<Vec<PolicyValue>> {
    let family = condition.operator.base.family();
    let allows = condition.operator.base.allows_variables();
    let version = if allows {
        version
    } else {
        PolicyVersion::Unspecified
    };
    condition
        .values
        .iter()
        .map(|v| match family {
            Family::StringLike => {
                variables::resolve_glob(v, version, false, lookup).map(PolicyValue::Pattern)
            }
            Family::Arn => arn_pattern(v, version, lookup),
            _ => variables::resolve_text(v, version, lookup).map(PolicyValue::Text),
        })
        .collect()
}

/// ARN operators match each of the six colon-separated parts on its own, so `*` never
/// crosses a colon (the IAM reference's `ArnLike` example).
fn arn_pattern(
    value: &str,
    version: PolicyVersion,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Option<PolicyValue> {
    let parts: Vec<&str> = value.splitn(6, ':').collect();
    if parts.len() < 6 {
        return variables::resolve_glob(value, version, false, lookup).map(PolicyValue::Pattern);
    }
    parts
        .iter()
        .map(|p| variables::resolve_glob(p, version, false, lookup))
        .collect::<Option<Vec<_>>>()
        .map(PolicyValue::Arn)
}

fn matches(base: BaseOperator, request: &ContextValue, policy: &PolicyValue) -> bool {
    let rv = request.as_text();
    match policy {
        PolicyValue::Pattern(glob) => glob.matches(&rv),
        PolicyValue::Arn(parts) => {
            let rparts: Vec<&str> = rv.splitn(6, ':').collect();
            rparts.len() == 6 && parts.iter().zip(&rparts).all(|(g, r)| g.matches(r))
        }
        PolicyValue::Text(pv) => compare_text(base, &rv, pv),
    }
}

fn compare_text(base: BaseOperator, rv: &str, pv: &str) -> bool {
    match base.family() {
        Family::String => rv == pv,
        Family::StringIgnoreCase => rv.to_lowercase() == pv.to_lowercase(),
        Family::StringLike | Family::Arn => crate::glob::Glob::new(pv, false).matches(rv),
        Family::Numeric => match (rv.trim().parse::<f64>(), pv.trim().parse::<f64>()) {
            (Ok(r), Ok(p)) => ordered(base, r, p),
            _ => false,
        },
        Family::Date => match (parse_date(rv), parse_date(pv)) {
            (Some(r), Some(p)) => ordered(base, r, p),
            _ => false,
        },
        Family::Bool => parse_bool(rv).is_some() && parse_bool(rv) == parse_bool(pv),
        Family::Binary => match decode_base64(pv) {
            Some(p) => decode_base64(rv).is_some_and(|r| r == p) || rv.as_bytes() == p,
            None => false,
        },
        Family::Ip => match (rv.trim().parse::<IpAddr>(), parse_cidr(pv)) {
            (Ok(addr), Some(net)) => net.contains(&addr),
            _ => false,
        },
        Family::Null => false,
    }
}

/// The comparison of the positive form of a numeric or date operator.
fn ordered<T: PartialOrd>(base: BaseOperator, r: T, p: T) -> bool {
    use BaseOperator::*;
    match base {
        NumericEquals | NumericNotEquals | DateEquals | DateNotEquals => r == p,
        NumericLessThan | DateLessThan => r < p,
        NumericLessThanEquals | DateLessThanEquals => r <= p,
        NumericGreaterThan | DateGreaterThan => r > p,
        NumericGreaterThanEquals | DateGreaterThanEquals => r >= p,
        _ => false,
    }
}

fn parse_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// A date in one of the W3C ISO 8601 forms IAM accepts, or epoch seconds, as seconds since
/// the epoch.
pub(crate) fn parse_date(text: &str) -> Option<f64> {
    let text = text.trim();
    if let Ok(epoch) = text.parse::<f64>() {
        return Some(epoch);
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(text) {
        return Some(dt.timestamp_millis() as f64 / 1000.0);
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.fZ",
        "%Y-%m-%dT%H:%M:%SZ",
        "%Y-%m-%dT%H:%MZ",
        "%Y-%m-%dT%H:%M:%S",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(text, format) {
            return Some(dt.and_utc().timestamp_millis() as f64 / 1000.0);
        }
    }
    for format in ["%Y-%m-%dT%H:%M%:z", "%Y-%m-%dT%H:%M:%S%:z"] {
        if let Ok(dt) = DateTime::parse_from_str(text, format) {
            return Some(dt.timestamp_millis() as f64 / 1000.0);
        }
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp() as f64)
}

/// A CIDR, or a bare address (IAM then uses /32 or /128).
pub(crate) fn parse_cidr(text: &str) -> Option<IpNet> {
    let text = text.trim();
    text.parse::<IpNet>()
        .ok()
        .or_else(|| text.parse::<IpAddr>().ok().map(IpNet::from))
}

pub(crate) fn decode_base64(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ConditionOperator;

    fn cond(op: &str, key: &str, values: &[&str]) -> Condition {
        Condition {
            operator: ConditionOperator::parse(op).unwrap(),
            key: key.into(),
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    fn run(c: &Condition, values: Option<Vec<&str>>) -> bool {
        let vals: Option<Vec<ContextValue>> =
            values.map(|v| v.into_iter().map(ContextValue::from).collect());
        holds(c, vals.as_deref(), PolicyVersion::V2012_10_17, &|_| None).unwrap()
    }

    #[test]
    fn dates_in_iso_and_epoch_forms() {
        assert_eq!(parse_date("2020-01-01T00:00:00Z"), Some(1_577_836_800.0));
        assert_eq!(parse_date("2020-01-01"), Some(1_577_836_800.0));
        assert_eq!(parse_date("1577836800"), Some(1_577_836_800.0));
        assert_eq!(
            parse_date("2020-01-01T01:00:00+01:00"),
            Some(1_577_836_800.0)
        );
        assert_eq!(parse_date("yesterday"), None);
    }

    #[test]
    fn numeric_and_date_ordering() {
        let c = cond("NumericLessThanEquals", "s3:max-keys", &["10"]);
        assert!(run(&c, Some(vec!["10"])));
        assert!(!run(&c, Some(vec!["11"])));
        let d = cond(
            "DateGreaterThan",
            "aws:CurrentTime",
            &["2020-01-01T00:00:00Z"],
        );
        assert!(run(&d, Some(vec!["2021-06-01T00:00:00Z"])));
        assert!(!run(&d, Some(vec!["2019-06-01T00:00:00Z"])));
    }

    #[test]
    fn ip_ranges_and_bare_addresses() {
        let c = cond(
            "IpAddress",
            "aws:SourceIp",
            &["203.0.113.0/24", "2001:db8::1"],
        );
        assert!(run(&c, Some(vec!["203.0.113.9"])));
        assert!(run(&c, Some(vec!["2001:db8::1"])));
        assert!(!run(&c, Some(vec!["198.51.100.1"])));
        let n = cond("NotIpAddress", "aws:SourceIp", &["203.0.113.0/24"]);
        assert!(run(&n, Some(vec!["198.51.100.1"])));
    }

    #[test]
    fn binary_equals_compares_decoded_bytes() {
        let c = cond("BinaryEquals", "k", &["QmluYXJ5"]);
        assert!(run(&c, Some(vec!["QmluYXJ5"])));
        assert!(run(&c, Some(vec!["Binary"])));
        assert!(!run(&c, Some(vec!["Other"])));
    }

    #[test]
    fn arn_like_does_not_cross_colons_but_string_like_does() {
        let value = "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt";
        let pattern = "arn:aws:someservice:*:111122223333:finance/*";
        assert!(run(&cond("StringLike", "k", &[pattern]), Some(vec![value])));
        assert!(!run(&cond("ArnLike", "k", &[pattern]), Some(vec![value])));
    }
}
