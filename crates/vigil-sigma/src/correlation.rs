//! Loading a correlation document (Sigma v2.1) into [`CorrelationRule`].

use std::path::Path;

use vigil_correlation::{Alias, CompareOp, CorrelationKind, CorrelationRule, Threshold};

use crate::duration;
use crate::error::Problem;
use crate::ruletest;
use crate::yaml::{self, Scalar};

/// Parses a document that has a `correlation:` block.
pub(crate) fn parse(doc: &yaml::Node<'_>, file: &Path) -> Result<CorrelationRule, Problem> {
    let doc_line = yaml::line(doc);
    let text = |key: &str| yaml::get(doc, key).and_then(|(_, v)| yaml::text(v));
    let list = |key: &str| {
        yaml::get(doc, key)
            .map(|(_, v)| yaml::strings(v))
            .unwrap_or_default()
    };
    let (key, block) = yaml::get(doc, "correlation")
        .ok_or_else(|| Problem::new(doc_line, "missing `correlation`"))?;
    let line = yaml::line(key);
    let field = |name: &str| yaml::get(block, name);
    let kind_text = field("type")
        .and_then(|(_, v)| yaml::text(v))
        .ok_or_else(|| Problem::new(line, "correlation needs a `type`"))?;
    let (condition, counted) = condition(field("condition"), line)?;
    let kind = kind(&kind_text, counted, line)?;
    if condition.is_none()
        && matches!(
            kind,
            CorrelationKind::EventCount | CorrelationKind::ValueCount { .. }
        )
    {
        return Err(Problem::new(
            line,
            format!("`{kind_text}` correlation needs a `condition`"),
        ));
    }
    let rules = field("rules")
        .map(|(_, v)| yaml::strings(v))
        .unwrap_or_default();
    if rules.is_empty() {
        return Err(Problem::new(
            line,
            "correlation needs a non-empty `rules` list",
        ));
    }
    let vigil = yaml::get(doc, "vigil");
    if let Some((_, node)) = vigil {
        ruletest::from_vigil(node)?;
    }
    Ok(CorrelationRule {
        id: text("id"),
        name: text("name"),
        title: text("title").ok_or_else(|| Problem::new(doc_line, "correlation has no `title`"))?,
        description: text("description"),
        level: text("level"),
        status: text("status"),
        tags: list("tags"),
        references: list("references"),
        falsepositives: list("falsepositives"),
        kind,
        rules,
        group_by: field("group-by")
            .map(|(_, v)| yaml::strings(v))
            .unwrap_or_default(),
        aliases: aliases(field("aliases"))?,
        timespan_ms: timespan(field("timespan").or_else(|| field("timeframe")), line)?,
        condition,
        generate: generate(field("generate").or_else(|| yaml::get(doc, "generate")))?,
        file: file.to_path_buf(),
        line: doc_line,
        vigil: vigil.map_or(serde_json::Value::Null, |(_, v)| yaml::to_json(v)),
    })
}

type Entry<'n, 'a> = Option<(&'n yaml::Node<'a>, &'n yaml::Node<'a>)>;

fn kind(text: &str, counted: Option<String>, line: usize) -> Result<CorrelationKind, Problem> {
    Ok(match text {
        "event_count" => CorrelationKind::EventCount,
        "value_count" => CorrelationKind::ValueCount {
            field: counted.ok_or_else(|| {
                Problem::new(line, "`value_count` needs `field` in its condition")
            })?,
        },
        "temporal" => CorrelationKind::Temporal,
        "temporal_ordered" => CorrelationKind::TemporalOrdered,
        other => {
            return Err(Problem::new(
                line,
                format!("unknown correlation type `{other}`"),
            ))
        }
    })
}

/// `condition: {gte: 10, field: x}` -> bounds and the counted field.
fn condition(
    entry: Entry<'_, '_>,
    line: usize,
) -> Result<(Option<Threshold>, Option<String>), Problem> {
    let Some((key, body)) = entry else {
        return Ok((None, None));
    };
    let key_line = yaml::line(key);
    let pairs = yaml::entries(body)
        .ok_or_else(|| Problem::new(key_line, "`condition` must be a mapping such as `gte: 10`"))?;
    let mut bounds = Vec::new();
    let mut field = None;
    for (k, v) in pairs {
        let name = yaml::text(k).unwrap_or_default();
        if name == "field" {
            field = yaml::text(v);
            continue;
        }
        let op = compare_op(&name).ok_or_else(|| {
            Problem::new(
                yaml::line(k),
                format!("unknown condition operator `{name}`"),
            )
        })?;
        let bound = match yaml::scalar(v) {
            Some(Scalar::Int(n)) if n >= 0 => n as u64,
            _ => {
                return Err(Problem::new(
                    yaml::line(v),
                    format!("`{name}` needs a whole number"),
                ))
            }
        };
        bounds.push((op, bound));
    }
    if bounds.is_empty() {
        return Err(Problem::new(
            line.max(key_line),
            "`condition` has no comparison (gt, gte, lt, lte, eq, neq)",
        ));
    }
    Ok((Some(Threshold { bounds }), field))
}

fn compare_op(name: &str) -> Option<CompareOp> {
    Some(match name {
        "gt" => CompareOp::Gt,
        "gte" => CompareOp::Gte,
        "lt" => CompareOp::Lt,
        "lte" => CompareOp::Lte,
        "eq" => CompareOp::Eq,
        "neq" => CompareOp::Neq,
        _ => return None,
    })
}

fn timespan(entry: Entry<'_, '_>, line: usize) -> Result<i64, Problem> {
    let (key, value) = entry.ok_or_else(|| Problem::new(line, "correlation needs a `timespan`"))?;
    let text = yaml::text(value).unwrap_or_default();
    duration::parse_ms(&text).map_err(|r| Problem::new(yaml::line(key), format!("timespan: {r}")))
}

fn aliases(entry: Entry<'_, '_>) -> Result<Vec<Alias>, Problem> {
    let Some((key, body)) = entry else {
        return Ok(Vec::new());
    };
    let bad = |line| Problem::new(line, "`aliases` must map alias -> {rule: field}");
    let entries = yaml::entries(body).ok_or_else(|| bad(yaml::line(key)))?;
    entries
        .into_iter()
        .map(|(name, per_rule)| {
            let pairs = yaml::entries(per_rule).ok_or_else(|| bad(yaml::line(name)))?;
            Ok(Alias {
                name: yaml::text(name).unwrap_or_default(),
                per_rule: pairs
                    .into_iter()
                    .map(|(rule, field)| {
                        (
                            yaml::text(rule).unwrap_or_default(),
                            yaml::text(field).unwrap_or_default(),
                        )
                    })
                    .collect(),
            })
        })
        .collect()
}

fn generate(entry: Entry<'_, '_>) -> Result<bool, Problem> {
    match entry {
        None => Ok(false),
        Some((key, value)) => match yaml::scalar(value) {
            Some(Scalar::Bool(b)) => Ok(b),
            _ => Err(Problem::new(
                yaml::line(key),
                "`generate` must be true or false",
            )),
        },
    }
}
