//! Index hints: necessary conditions on literal field values, derived soundly from the
//! compiled condition so the engine can skip rules that cannot match an event.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use vigil_event::{FieldLookup, FieldPath};

use crate::eval::{FieldCheck, Node};
use crate::matcher::ValueTest;
use crate::text::with_text;
use sonic_rs::JsonValueTrait;

/// A necessary condition of a rule: an event can only match if some value of `field`, as
/// text and ignoring case, equals one of `values` or starts with one of `prefixes`. Values
/// and prefixes are lower-cased; numbers and booleans are compared by their text (`4624`,
/// `true`). A field that is an object never satisfies a value, but may satisfy a prefix
/// (`startswith` searches the leaves of an object).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndexHint {
    /// Dotted field path (`eventSource`).
    pub field: String,
    /// Accepted values, lower-cased and sorted.
    pub values: Vec<String>,
    /// Accepted prefixes (`startswith`), lower-cased and sorted.
    pub prefixes: Vec<String>,
}

impl IndexHint {
    /// Whether `event` satisfies the hint. The engine may build its own index instead; this
    /// is the reference semantics.
    pub fn admits<E: FieldLookup + ?Sized>(&self, event: &E) -> bool {
        event.any_value(&FieldPath::new(&self.field), &mut |value| {
            if value.is_object() {
                return !self.prefixes.is_empty();
            }
            with_text(value, |text| {
                let lowered = text.to_lowercase();
                self.values.contains(&lowered)
                    || self
                        .prefixes
                        .iter()
                        .any(|p| lowered.starts_with(p.as_str()))
            })
            .unwrap_or(false)
        })
    }
}

/// One accepted value of a field, lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Accept {
    Exact(String),
    Prefix(String),
}

/// Field -> accepted values; an absent field is unconstrained.
type Constraints = BTreeMap<String, BTreeSet<Accept>>;

/// The index hints of a compiled condition.
pub(crate) fn derive(root: &Node) -> Vec<IndexHint> {
    constraints(root)
        .into_iter()
        .map(|(field, accepted)| {
            let (mut values, mut prefixes) = (Vec::new(), Vec::new());
            for accept in accepted {
                match accept {
                    Accept::Exact(value) => values.push(value),
                    Accept::Prefix(prefix) => prefixes.push(prefix),
                }
            }
            IndexHint {
                field,
                values,
                prefixes,
            }
        })
        .collect()
}

/// The CloudTrail fields that hold one string at most (`validate.rs` in vigil-input rejects
/// a record where they hold anything else; the other sources have no such fields): two
/// sets of values required of one of them are intersected. For any other field, `and` keeps
/// the smaller set: each is necessary on its own, but their intersection is not for a field
/// that holds several values (`resources.ARN`): `a: {resources.ARN: arn:a}` and
/// `b: {resources.ARN: arn:b}` both hold for an event with both resources.
const SCALAR_FIELDS: &[&str] = &[
    "eventSource",
    "eventName",
    "eventType",
    "eventVersion",
    "awsRegion",
    "sourceIPAddress",
    "userAgent",
    "eventID",
    "recipientAccountId",
    "errorCode",
];

/// A field that `root` requires to hold values no single CloudTrail record holds at once
/// (two selections joined with `and`, each asking `eventName` for another value): such a
/// condition can never be true.
pub(crate) fn contradiction(root: &Node) -> Option<String> {
    constraints(root)
        .into_iter()
        .find(|(field, accepted)| accepted.is_empty() && SCALAR_FIELDS.contains(&field.as_str()))
        .map(|(field, _)| field)
}

fn constraints(node: &Node) -> Constraints {
    match node {
        Node::And(children) => and(children.iter().map(constraints)),
        Node::Or(children) => or(children.iter().map(constraints)),
        Node::AtLeast(n, children) if *n == children.len() => and(children.iter().map(constraints)),
        Node::AtLeast(1, children) => or(children.iter().map(constraints)),
        Node::Field(test) => field_values(&test.check)
            .map(|values| Constraints::from([(test.path.as_str().to_string(), values)]))
            .unwrap_or_default(),
        // Negations, keywords, constants and partial quantifiers constrain nothing.
        _ => Constraints::new(),
    }
}

/// The values a plain-equality or `startswith` check requires, if it is one.
fn field_values(check: &FieldCheck) -> Option<BTreeSet<Accept>> {
    let tests: Vec<&ValueTest> = match check {
        FieldCheck::Any(tests) => tests.iter().collect(),
        // Each group must be matched, so the first group alone is necessary.
        FieldCheck::All(groups) => groups.first()?.iter().collect(),
        _ => return None,
    };
    let mut accepted = BTreeSet::new();
    for test in tests {
        let ValueTest::Str(m) = test else {
            return None;
        };
        if let Some(set) = m.exact_set() {
            accepted.extend(set.iter().map(|value| Accept::Exact(value.to_lowercase())));
            continue;
        }
        accepted.insert(match (m.exact(), m.prefix()) {
            (Some(exact), _) => Accept::Exact(exact.to_lowercase()),
            (None, Some(prefix)) => Accept::Prefix(prefix.to_lowercase()),
            (None, None) => return None,
        });
    }
    Some(accepted)
}

fn exact_only(accepted: &BTreeSet<Accept>) -> bool {
    accepted.iter().all(|a| matches!(a, Accept::Exact(_)))
}

/// AND: every child's constraints hold; a field constrained by several keeps the common
/// values when it holds one value at most ([`SCALAR_FIELDS`]), else the smaller set.
fn and(children: impl Iterator<Item = Constraints>) -> Constraints {
    let mut merged = Constraints::new();
    for child in children {
        for (field, values) in child {
            match merged.get_mut(&field) {
                Some(existing) if exact_only(existing) && exact_only(&values) => {
                    if SCALAR_FIELDS.contains(&field.as_str()) {
                        existing.retain(|v| values.contains(v));
                    } else if values.len() < existing.len() {
                        *existing = values;
                    }
                }
                // Either alone is necessary too: keep the plain values if one side has them.
                Some(existing) => {
                    if !exact_only(existing) && exact_only(&values) {
                        *existing = values;
                    }
                }
                None => {
                    merged.insert(field, values);
                }
            }
        }
    }
    merged
}

/// OR: a field stays constrained only if every branch constrains it (union of values).
fn or(mut children: impl Iterator<Item = Constraints>) -> Constraints {
    let Some(mut merged) = children.next() else {
        return Constraints::new();
    };
    for child in children {
        merged.retain(|field, _| child.contains_key(field));
        for (field, values) in child {
            if let Some(existing) = merged.get_mut(&field) {
                existing.extend(values);
            }
        }
    }
    merged
}
