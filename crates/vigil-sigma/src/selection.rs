//! Compiling one selection (search identifier) of a `detection:` block into a [`Node`].
//!
//! A map is an AND of field tests, a list of maps an OR, a list of strings (or a bare string)
//! a keyword search over the whole record.

use vigil_event::FieldPath;

use crate::error::Problem;
use crate::eval::{FieldCheck, FieldTest, KeywordTest, Node};
use crate::matcher::ValueTest;
use crate::modifier::{MatchKind, Modifiers};
use crate::options::LoadOptions;
use crate::pattern;
use crate::value;
use crate::yaml::{self, Scalar};

/// Compiles the selection `name` whose body is `body`; `line` is the line of its key.
pub(crate) fn compile(
    name: &str,
    body: &yaml::Node<'_>,
    line: usize,
    options: &LoadOptions,
) -> Result<Node, Problem> {
    if let Some(entries) = yaml::entries(body) {
        return compile_map(name, &entries, line, options);
    }
    if let Some(items) = yaml::items(body) {
        return compile_list(name, items, line, options);
    }
    match yaml::scalar(body) {
        Some(Scalar::Null) | None => {
            Err(Problem::new(line, format!("selection `{name}` is empty")))
        }
        Some(_) => keywords(&[body], Modifiers::default(), options),
    }
}

fn compile_map(
    name: &str,
    entries: &[(&yaml::Node<'_>, &yaml::Node<'_>)],
    line: usize,
    options: &LoadOptions,
) -> Result<Node, Problem> {
    if entries.is_empty() {
        return Err(Problem::new(line, format!("selection `{name}` is empty")));
    }
    let mut tests = Vec::with_capacity(entries.len());
    for (key, value) in entries {
        tests.push(compile_entry(key, value, options)?);
    }
    Ok(if tests.len() == 1 {
        tests.remove(0)
    } else {
        Node::And(tests.into())
    })
}

fn compile_list(
    name: &str,
    items: &[yaml::Node<'_>],
    line: usize,
    options: &LoadOptions,
) -> Result<Node, Problem> {
    let mut branches = Vec::new();
    let mut words = Vec::new();
    for item in items {
        if let Some(entries) = yaml::entries(item) {
            branches.push(compile_map(name, &entries, yaml::line(item), options)?);
        } else if yaml::items(item).is_some() {
            return Err(Problem::new(
                yaml::line(item),
                format!("selection `{name}`: nested lists are not allowed"),
            ));
        } else {
            words.push(item);
        }
    }
    if !words.is_empty() {
        branches.push(keywords(&words, Modifiers::default(), options)?);
    }
    match branches.len() {
        0 => Err(Problem::new(
            line,
            format!("selection `{name}` is an empty list"),
        )),
        1 => Ok(branches.remove(0)),
        _ => Ok(Node::Or(branches.into())),
    }
}

/// One `field|modifiers: value(s)` entry.
fn compile_entry(
    key: &yaml::Node<'_>,
    value: &yaml::Node<'_>,
    options: &LoadOptions,
) -> Result<Node, Problem> {
    let key_line = yaml::line(key);
    let key_text = yaml::text(key)
        .ok_or_else(|| Problem::new(key_line, "a selection key must be a field name"))?;
    let mut parts = key_text.split('|');
    let field = parts.next().unwrap_or_default();
    let names: Vec<&str> = parts.collect();
    let mods = Modifiers::parse(&names)
        .map_err(|reason| Problem::new(key_line, format!("`{key_text}`: {reason}")))?;
    let values = value_list(value, &key_text)?;
    if field.is_empty() {
        return keywords(&values, mods, options);
    }
    let path = FieldPath::new(field);
    let check = match mods.kind {
        MatchKind::Exists => exists(&values, &key_text)?,
        MatchKind::FieldRef(kind) => {
            return Ok(field_refs(&path, &values, &mods, kind));
        }
        _ => value_check(&values, &mods, options)?,
    };
    Ok(Node::Field(Box::new(FieldTest {
        path,
        check,
        shared: None,
        path_slot: None,
    })))
}

/// The written values of an entry: one scalar or a list of scalars.
fn value_list<'n, 'a>(
    value: &'n yaml::Node<'a>,
    key: &str,
) -> Result<Vec<&'n yaml::Node<'a>>, Problem> {
    let line = yaml::line(value);
    let values: Vec<&yaml::Node<'_>> = match yaml::items(value) {
        Some(items) => items.iter().collect(),
        None => vec![value],
    };
    if values.is_empty() {
        return Err(Problem::new(
            line,
            format!("`{key}` has an empty list of values"),
        ));
    }
    for v in &values {
        if yaml::scalar(v).is_none() {
            return Err(Problem::new(
                yaml::line(v),
                format!("`{key}`: values must be scalars, not maps or lists"),
            ));
        }
    }
    Ok(values)
}

/// Compiles each written value into its group of alternatives.
fn groups(
    values: &[&yaml::Node<'_>],
    mods: &Modifiers,
    options: &LoadOptions,
) -> Result<Vec<Box<[ValueTest]>>, Problem> {
    values
        .iter()
        .map(|v| {
            let raw = yaml::scalar(v).unwrap_or(Scalar::Null);
            value::compile(raw, mods, options)
                .map(Vec::into_boxed_slice)
                .map_err(|reason| Problem::new(yaml::line(v), reason))
        })
        .collect()
}

fn value_check(
    values: &[&yaml::Node<'_>],
    mods: &Modifiers,
    options: &LoadOptions,
) -> Result<FieldCheck, Problem> {
    let groups = groups(values, mods, options)?;
    if mods.all && groups.len() > 1 && !mods.neq {
        return Ok(FieldCheck::All(groups.into()));
    }
    let flat = pattern::merge_exact(groups.into_iter().flat_map(|g| g.into_vec()).collect());
    let flat = flat.into_boxed_slice();
    Ok(if mods.neq {
        FieldCheck::NoneOf(flat)
    } else {
        FieldCheck::Any(flat)
    })
}

fn exists(values: &[&yaml::Node<'_>], key: &str) -> Result<FieldCheck, Problem> {
    match values {
        [single] => match yaml::scalar(single) {
            Some(Scalar::Bool(expected)) => Ok(FieldCheck::Exists(expected)),
            _ => Err(Problem::new(
                yaml::line(single),
                format!("`{key}` needs `true` or `false`"),
            )),
        },
        _ => {
            let line = values.first().map_or(0, |v| yaml::line(v));
            Err(Problem::new(
                line,
                format!("`{key}` takes a single boolean"),
            ))
        }
    }
}

fn field_refs(
    path: &FieldPath,
    values: &[&yaml::Node<'_>],
    mods: &Modifiers,
    kind: crate::modifier::StrKind,
) -> Node {
    let mut tests: Vec<Node> = values
        .iter()
        .filter_map(|v| yaml::text(v))
        .map(|other| {
            Node::Field(Box::new(FieldTest {
                path: path.clone(),
                check: FieldCheck::FieldRef {
                    other: FieldPath::new(&other),
                    kind,
                    cased: mods.cased,
                    negate: mods.neq,
                },
                shared: None,
                path_slot: None,
            }))
        })
        .collect();
    match tests.len() {
        1 => tests.remove(0),
        _ if mods.all || mods.neq => Node::And(tests.into()),
        _ => Node::Or(tests.into()),
    }
}

/// Keywords: searched in every scalar of the record; a plain keyword matches anywhere in a
/// value (full-text semantics), so it is compiled as `contains`.
fn keywords(
    values: &[&yaml::Node<'_>],
    mut mods: Modifiers,
    options: &LoadOptions,
) -> Result<Node, Problem> {
    let line = values.first().map_or(0, |v| yaml::line(v));
    match mods.kind {
        MatchKind::Equals => mods.kind = MatchKind::Contains,
        MatchKind::Contains | MatchKind::StartsWith | MatchKind::EndsWith | MatchKind::Regex => {}
        _ => {
            return Err(Problem::new(
                line,
                "keyword selections support only string modifiers",
            ))
        }
    }
    if values.iter().any(|v| yaml::scalar(v) == Some(Scalar::Null)) {
        return Err(Problem::new(line, "a keyword cannot be null"));
    }
    let groups = groups(values, &mods, options)?;
    Ok(Node::Keywords(Box::new(KeywordTest {
        groups: groups.into(),
        all: mods.all,
    })))
}
