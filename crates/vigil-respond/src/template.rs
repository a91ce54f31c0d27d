//! `{{ ... }}` templates in step parameters: `{{ inputs.instance_id }}`,
//! `Quarantine={{ context.case_id }}`, `{{ steps.snapshot.outputs.snapshot_ids | join(', ') }}`,
//! `{{ finding.region | default('us-east-1') }}`.
//!
//! A string that is exactly one expression takes the expression's JSON value (a list stays a
//! list, a boolean a boolean); text with expressions in it is a string. Filters: `default(v)`
//! (when missing or null), `join(sep)`, `json`, `lower`, `upper`. Arguments are JSON
//! literals or single-quoted strings. A step parameter that renders to null
//! (`{{ inputs.user | default(null) }}`) is left out of the action's parameters. Written by hand: the grammar is this small, and a
//! template engine would bring control flow that has no place in a step parameter.

use serde_json::{Map, Value};

use crate::path::JsonPath;

/// A template problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// The template does not parse.
    #[error("template `{template}`: {reason}")]
    Syntax { template: String, reason: String },
    /// An expression names nothing, and has no default.
    #[error("`{{{{ {expr} }}}}` has no value")]
    Missing { expr: String },
}

/// A filter after `|`.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Default(Value),
    Join(String),
    Json,
    Lower,
    Upper,
}

/// One `{{ ... }}` expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// The text between the braces, trimmed.
    pub source: String,
    /// The variable's text, before the filters.
    pub variable: String,
    pub path: JsonPath,
    pub filters: Vec<Filter>,
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(String),
    Expr(Expr),
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    parts: Vec<Part>,
}

impl Template {
    /// Parses `text`; text without `{{` is a literal.
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let syntax = |reason: String| TemplateError::Syntax {
            template: text.to_string(),
            reason,
        };
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_string()));
            }
            let after = &rest[open + 2..];
            let close = after
                .find("}}")
                .ok_or_else(|| syntax("`{{` without `}}`".into()))?;
            parts.push(Part::Expr(
                parse_expr(after[..close].trim()).map_err(syntax)?,
            ));
            rest = &after[close + 2..];
        }
        if rest.contains("}}") {
            return Err(syntax("`}}` without `{{`".into()));
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        Ok(Template { parts })
    }

    /// The expressions, in order.
    pub fn exprs(&self) -> impl Iterator<Item = &Expr> {
        self.parts.iter().filter_map(|part| match part {
            Part::Expr(expr) => Some(expr),
            Part::Text(_) => None,
        })
    }

    /// Renders against `root`; `fallback` may supply a value for an expression that finds
    /// nothing (placeholders in a plan or a runbook).
    pub fn render(
        &self,
        root: &Value,
        fallback: &dyn Fn(&Expr) -> Option<Value>,
    ) -> Result<Value, TemplateError> {
        if let [Part::Expr(expr)] = self.parts.as_slice() {
            return eval(expr, root, fallback);
        }
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Expr(expr) => match eval(expr, root, fallback)? {
                    Value::String(s) => out.push_str(&s),
                    Value::Null => {}
                    other => out.push_str(&other.to_string()),
                },
            }
        }
        Ok(Value::String(out))
    }
}

fn parse_expr(source: &str) -> Result<Expr, String> {
    let mut pieces = split_filters(source).into_iter();
    let variable = pieces.next().unwrap_or_default().trim().to_string();
    if variable.is_empty() {
        return Err("empty `{{ }}`".into());
    }
    let path = JsonPath::parse(&variable)?;
    let filters = pieces
        .map(|f| parse_filter(f.trim()))
        .collect::<Result<_, _>>()?;
    Ok(Expr {
        source: source.to_string(),
        variable,
        path,
        filters,
    })
}

/// Splits on `|` outside quotes.
fn split_filters(source: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let (mut start, mut quote) = (0, None);
    for (i, c) in source.char_indices() {
        match (c, quote) {
            ('\'' | '"', None) => quote = Some(c),
            (c, Some(q)) if c == q => quote = None,
            ('|', None) => {
                pieces.push(&source[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    pieces.push(&source[start..]);
    pieces
}

fn parse_filter(text: &str) -> Result<Filter, String> {
    let (name, arg) = match text.split_once('(') {
        Some((name, rest)) => {
            let arg = rest
                .strip_suffix(')')
                .ok_or_else(|| format!("filter `{text}` lacks its `)`"))?;
            (name.trim(), Some(parse_literal(arg.trim())?))
        }
        None => (text, None),
    };
    match (name, arg) {
        ("default", Some(value)) => Ok(Filter::Default(value)),
        ("join", Some(Value::String(sep))) => Ok(Filter::Join(sep)),
        ("join", None) => Ok(Filter::Join(",".into())),
        ("json", None) => Ok(Filter::Json),
        ("lower", None) => Ok(Filter::Lower),
        ("upper", None) => Ok(Filter::Upper),
        _ => Err(format!(
            "unknown filter `{text}` (default(v), join('sep'), json, lower, upper)"
        )),
    }
}

fn parse_literal(text: &str) -> Result<Value, String> {
    if let Some(inner) = text.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')) {
        return Ok(Value::String(inner.to_string()));
    }
    serde_json::from_str(text).map_err(|_| format!("`{text}` is not a literal (use 'text')"))
}

fn eval(
    expr: &Expr,
    root: &Value,
    fallback: &dyn Fn(&Expr) -> Option<Value>,
) -> Result<Value, TemplateError> {
    let found = lookup(&expr.path, root).or_else(|| fallback(expr));
    let mut value = match found {
        Some(Value::Null) | None => expr.filters.iter().find_map(|f| match f {
            Filter::Default(v) => Some(v.clone()),
            _ => None,
        }),
        some => some,
    }
    .ok_or_else(|| TemplateError::Missing {
        expr: expr.source.clone(),
    })?;
    for filter in &expr.filters {
        value = apply(filter, value);
    }
    Ok(value)
}

/// The value at `path`: one match as itself, several as a list, none as `None`.
pub(crate) fn lookup(path: &JsonPath, root: &Value) -> Option<Value> {
    let found = path.select(root);
    match found.as_slice() {
        [] => None,
        [one] => Some((*one).clone()),
        many => Some(Value::Array(many.iter().map(|v| (*v).clone()).collect())),
    }
}

fn apply(filter: &Filter, value: Value) -> Value {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match filter {
        Filter::Default(_) => value,
        Filter::Join(sep) => match &value {
            Value::Array(items) => {
                Value::String(items.iter().map(text).collect::<Vec<_>>().join(sep))
            }
            _ => value,
        },
        Filter::Json => Value::String(value.to_string()),
        Filter::Lower => Value::String(text(&value).to_lowercase()),
        Filter::Upper => Value::String(text(&value).to_uppercase()),
    }
}

/// Renders every string in `value` (recursively) as a template.
pub fn render_value(
    value: &Value,
    root: &Value,
    fallback: &dyn Fn(&Expr) -> Option<Value>,
) -> Result<Value, TemplateError> {
    Ok(match value {
        Value::String(text) => Template::parse(text)?.render(root, fallback)?,
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| render_value(item, root, fallback))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => {
            let mut out = Map::new();
            for (key, item) in map {
                out.insert(key.clone(), render_value(item, root, fallback)?);
            }
            Value::Object(out)
        }
        other => other.clone(),
    })
}

/// Every expression in the strings of `value`, with the path of the string
/// (`params.instance_id`), or the first syntax error.
pub fn exprs_in(value: &Value, path: &str) -> Vec<(String, Result<Template, TemplateError>)> {
    let mut out = Vec::new();
    collect(value, path, &mut out);
    out
}

fn collect(value: &Value, path: &str, out: &mut Vec<(String, Result<Template, TemplateError>)>) {
    match value {
        Value::String(text) if text.contains("{{") || text.contains("}}") => {
            out.push((path.to_string(), Template::parse(text)));
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                collect(item, &format!("{path}[{i}]"), out);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                collect(item, &format!("{path}.{key}"), out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn none(_: &Expr) -> Option<Value> {
        None
    }

    fn render(text: &str, root: &Value) -> Result<Value, TemplateError> {
        Template::parse(text)?.render(root, &none)
    }

    #[test]
    fn a_lone_expression_keeps_its_type_and_text_interpolates() {
        let root = json!({"inputs": {"id": "i-1", "ids": ["a", "b"], "on": true, "n": 3}});
        assert_eq!(render("{{ inputs.ids }}", &root), Ok(json!(["a", "b"])));
        assert_eq!(render("{{inputs.on}}", &root), Ok(json!(true)));
        assert_eq!(
            render("id={{ inputs.id }} n={{ inputs.n }}", &root),
            Ok(json!("id=i-1 n=3"))
        );
        assert_eq!(
            render("{{ inputs.ids | join(', ') }}", &root),
            Ok(json!("a, b"))
        );
        assert_eq!(render("{{ inputs.id | upper }}", &root), Ok(json!("I-1")));
        assert_eq!(
            render("{{ inputs.gone | default('x') }}", &root),
            Ok(json!("x"))
        );
        assert_eq!(
            render("{{ inputs.gone | default(25) }}", &root),
            Ok(json!(25))
        );
        assert_eq!(render("plain", &root), Ok(json!("plain")));
    }

    #[test]
    fn a_missing_value_names_the_expression() {
        let error = render("{{ steps.x.outputs.y }}", &json!({})).unwrap_err();
        assert_eq!(error.to_string(), "`{{ steps.x.outputs.y }}` has no value");
    }

    #[test]
    fn syntax_errors_are_reported() {
        for bad in [
            "{{ a",
            "a }}",
            "{{ }}",
            "{{ a | nope }}",
            "{{ a | default(x) }}",
            "{{ a..b }}",
        ] {
            assert!(
                matches!(Template::parse(bad), Err(TemplateError::Syntax { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn fallbacks_supply_placeholders() {
        let template = Template::parse("snap {{ steps.s.outputs.id }}").unwrap();
        let value = template
            .render(&json!({}), &|e| Some(json!(format!("<{}>", e.variable))))
            .unwrap();
        assert_eq!(value, json!("snap <steps.s.outputs.id>"));
    }

    #[test]
    fn render_value_walks_maps_and_lists() {
        let root = json!({"context": {"case_id": "c-1"}});
        let params = json!({"tags": {"Quarantine": "{{ context.case_id }}"}, "list": ["{{ context.case_id }}", 1]});
        assert_eq!(
            render_value(&params, &root, &none),
            Ok(json!({"tags": {"Quarantine": "c-1"}, "list": ["c-1", 1]}))
        );
        let found = exprs_in(&params, "params");
        let paths: Vec<_> = found.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths, ["params.list[0]", "params.tags.Quarantine"]);
    }
}
