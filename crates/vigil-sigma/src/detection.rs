//! Compiling a `detection:` block: its selections, its condition (resolved to selection
//! nodes) and a legacy aggregation after `|`.

use crate::condition::{self, Expr, Quantity, Target};
use crate::duration;
use crate::error::Problem;
use crate::eval::Node;
use crate::legacy::{self, Aggregation};
use crate::options::LoadOptions;
use crate::selection;
use crate::yaml;

/// A compiled selection with its name.
struct Selection {
    name: String,
    node: Node,
}

/// A compiled `detection:` block.
pub(crate) struct Detection {
    pub root: Node,
    pub aggregation: Option<Aggregation>,
    /// `timeframe:` of the block.
    pub timeframe_ms: Option<i64>,
    /// The selections by name, for `near` (each becomes a base rule of its own).
    selections: Vec<Selection>,
}

impl Detection {
    /// The node of a selection, for legacy `near` translation.
    pub(crate) fn selection(&self, name: &str) -> Option<&Node> {
        self.selections
            .iter()
            .find(|s| s.name == name)
            .map(|s| &s.node)
    }
}

/// Compiles the `detection:` mapping; `line` is the line of the `detection` key.
pub(crate) fn compile(
    block: &yaml::Node<'_>,
    line: usize,
    options: &LoadOptions,
) -> Result<Detection, Problem> {
    let entries =
        yaml::entries(block).ok_or_else(|| Problem::new(line, "`detection` must be a mapping"))?;
    let mut selections = Vec::new();
    let mut condition = None;
    let mut timeframe_ms = None;
    for (key, body) in entries {
        let key_line = yaml::line(key);
        let name = yaml::text(key)
            .ok_or_else(|| Problem::new(key_line, "selection names must be strings"))?;
        match name.as_str() {
            "condition" => condition = Some((body, key_line)),
            "timeframe" => timeframe_ms = Some(timeframe(body, key_line)?),
            _ => {
                let node = selection::compile(&name, body, key_line, options)?;
                selections.push(Selection { name, node });
            }
        }
    }
    let (body, key_line) =
        condition.ok_or_else(|| Problem::new(line, "`detection` has no `condition`"))?;
    let (root, aggregation) = compile_condition(body, key_line, &selections, timeframe_ms)?;
    Ok(Detection {
        root,
        aggregation,
        timeframe_ms,
        selections,
    })
}

fn timeframe(body: &yaml::Node<'_>, line: usize) -> Result<i64, Problem> {
    let text = yaml::text(body).unwrap_or_default();
    duration::parse_ms(&text).map_err(|reason| Problem::new(line, format!("timeframe: {reason}")))
}

/// The condition (one string, or a list of strings joined by OR).
fn compile_condition(
    body: &yaml::Node<'_>,
    key_line: usize,
    selections: &[Selection],
    timeframe_ms: Option<i64>,
) -> Result<(Node, Option<Aggregation>), Problem> {
    let texts: Vec<(String, usize)> = match yaml::items(body) {
        Some(items) => items
            .iter()
            .map(|item| (yaml::text(item).unwrap_or_default(), yaml::line(item)))
            .collect(),
        None => vec![(
            yaml::text(body).unwrap_or_default(),
            yaml::line(body).max(key_line),
        )],
    };
    if texts.is_empty() {
        return Err(Problem::new(key_line, "`condition` is empty"));
    }
    let mut roots = Vec::with_capacity(texts.len());
    let mut aggregation = None;
    for (text, line) in &texts {
        let (expression, aggregate) = match text.split_once('|') {
            Some((expression, aggregate)) => (expression, Some(aggregate)),
            None => (text.as_str(), None),
        };
        if let Some(aggregate) = aggregate {
            if texts.len() > 1 {
                return Err(Problem::new(
                    *line,
                    "an aggregation (`|`) needs a single condition",
                ));
            }
            let parsed =
                legacy::parse(aggregate, timeframe_ms).map_err(|r| Problem::new(*line, r))?;
            check_near(&parsed, selections, *line)?;
            aggregation = Some(parsed);
        }
        let expr = condition::parse(expression)
            .map_err(|r| Problem::new(*line, format!("condition `{text}`: {r}")))?;
        roots.push(resolve(&expr, selections).map_err(|r| Problem::new(*line, r))?);
    }
    let root = if roots.len() == 1 {
        roots.remove(0)
    } else {
        Node::Or(roots.into())
    };
    Ok((root, aggregation))
}

fn check_near(
    aggregation: &Aggregation,
    selections: &[Selection],
    line: usize,
) -> Result<(), Problem> {
    if let Aggregation::Near(names) = aggregation {
        if let Some(missing) = names
            .iter()
            .find(|n| !selections.iter().any(|s| &s.name == *n))
        {
            return Err(Problem::new(
                line,
                format!("`near` references undefined selection `{missing}`"),
            ));
        }
    }
    Ok(())
}

/// Resolves selection names to their compiled nodes.
fn resolve(expr: &Expr, selections: &[Selection]) -> Result<Node, String> {
    let all = |exprs: &[Expr]| -> Result<Box<[Node]>, String> {
        exprs.iter().map(|e| resolve(e, selections)).collect()
    };
    Ok(match expr {
        Expr::And(terms) => Node::And(all(terms)?),
        Expr::Or(terms) => Node::Or(all(terms)?),
        Expr::Not(inner) => Node::Not(Box::new(resolve(inner, selections)?)),
        Expr::Selection(name) => selections
            .iter()
            .find(|s| &s.name == name)
            .map(|s| s.node.clone())
            .ok_or_else(|| format!("condition references undefined selection `{name}`"))?,
        Expr::Of(quantity, target) => quantified(*quantity, target, selections)?,
    })
}

fn quantified(
    quantity: Quantity,
    target: &Target,
    selections: &[Selection],
) -> Result<Node, String> {
    let chosen: Vec<Node> = selections
        .iter()
        .filter(|s| match target {
            Target::Them => !s.name.starts_with('_'),
            Target::Pattern(pattern) => condition::name_matches(pattern, &s.name),
        })
        .map(|s| s.node.clone())
        .collect();
    let what = match target {
        Target::Them => "them".to_string(),
        Target::Pattern(p) => format!("`{p}`"),
    };
    if chosen.is_empty() {
        return Err(format!("{what} matches no selection"));
    }
    Ok(match quantity {
        Quantity::All => Node::And(chosen.into()),
        Quantity::AtLeast(0) => Node::Const(true),
        Quantity::AtLeast(1) => Node::Or(chosen.into()),
        Quantity::AtLeast(n) if n > chosen.len() => {
            return Err(format!(
                "`{n} of {what}` but only {} selections match",
                chosen.len()
            ))
        }
        Quantity::AtLeast(n) => Node::AtLeast(n, chosen.into()),
    })
}
