//! The compiled detection: a small tree of enum nodes with pre-resolved field paths, and its
//! evaluation against an event.

use std::ops::ControlFlow;

use sonic_rs::Value;
use vigil_event::{Event, FieldLookup, FieldPath};

use crate::matcher::{any_leaf, Collector, ValueTest};
use crate::memo::Memo;
use crate::modifier::StrKind;
use crate::text::with_text;

/// An event as the matcher sees it: fields by path, and for keyword searches the whole
/// record. Implemented for [`Event`] and for a bare JSON [`Value`].
pub trait SigmaEvent: FieldLookup {
    /// The whole record, searched by keyword selections. `None` means keyword selections
    /// never match.
    fn record(&self) -> Option<&Value>;
}

impl SigmaEvent for Event {
    fn record(&self) -> Option<&Value> {
        Some(&self.doc)
    }
}

impl SigmaEvent for vigil_event::KeyedEvent<'_> {
    fn record(&self) -> Option<&Value> {
        Some(&self.event().doc)
    }
}

impl SigmaEvent for Value {
    fn record(&self) -> Option<&Value> {
        Some(self)
    }
}

impl SigmaEvent for dyn FieldLookup + '_ {
    fn record(&self) -> Option<&Value> {
        None
    }
}

/// A node of the compiled condition.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    And(Box<[Node]>),
    Or(Box<[Node]>),
    Not(Box<Node>),
    /// At least `n` of the children (`2 of selection_*`).
    AtLeast(usize, Box<[Node]>),
    Field(Box<FieldTest>),
    Keywords(Box<KeywordTest>),
    Const(bool),
}

/// A test on one field.
#[derive(Debug, Clone)]
pub(crate) struct FieldTest {
    pub path: FieldPath,
    pub check: FieldCheck,
}

/// What must hold for the values of a field.
#[derive(Debug, Clone)]
pub(crate) enum FieldCheck {
    /// Some value of the field passes one of the tests (a list of values is an OR).
    Any(Box<[ValueTest]>),
    /// `|all`: each group is passed by some value (each group holds the alternatives one
    /// written value compiled to).
    All(Box<[Box<[ValueTest]>]>),
    /// `|neq`: the field is present and no value passes any of the tests.
    NoneOf(Box<[ValueTest]>),
    /// `|exists: true/false`.
    Exists(bool),
    /// `|fieldref`: compared with the values of another field of the same event.
    FieldRef {
        other: FieldPath,
        kind: StrKind,
        cased: bool,
        negate: bool,
    },
}

/// A keyword selection: values searched in every scalar of the record. Each group holds the
/// alternatives one written keyword compiled to.
#[derive(Debug, Clone)]
pub(crate) struct KeywordTest {
    pub groups: Box<[Box<[ValueTest]>]>,
    /// `|all`: every keyword must be found (each somewhere).
    pub all: bool,
}

impl Node {
    /// Whether `event` satisfies the node; `memo` holds what the rules evaluated on this
    /// event share (see [`crate::EventMemo`]).
    pub(crate) fn eval<E: SigmaEvent + ?Sized, C: Collector>(
        &self,
        event: &E,
        out: &mut C,
        memo: &mut Memo,
    ) -> bool {
        match self {
            Node::And(children) => children.iter().all(|c| c.eval(event, out, memo)),
            Node::Or(children) => children.iter().any(|c| c.eval(event, out, memo)),
            // Intel hits under a negation never explain a match.
            Node::Not(child) => !child.eval(event, &mut crate::matcher::Discard, memo),
            Node::AtLeast(n, children) => at_least(*n, children, event, out, memo),
            Node::Field(test) => test.eval(event, out, memo),
            Node::Keywords(test) => event.record().is_some_and(|doc| test.eval(doc)),
            Node::Const(value) => *value,
        }
    }
}

fn at_least<E: SigmaEvent + ?Sized, C: Collector>(
    n: usize,
    children: &[Node],
    event: &E,
    out: &mut C,
    memo: &mut Memo,
) -> bool {
    let mut count = 0;
    for (i, child) in children.iter().enumerate() {
        if child.eval(event, out, memo) {
            count += 1;
            if count >= n {
                return true;
            }
        }
        if count + (children.len() - i - 1) < n {
            return false;
        }
    }
    count >= n
}

impl FieldTest {
    fn eval<E: SigmaEvent + ?Sized, C: Collector>(
        &self,
        event: &E,
        out: &mut C,
        memo: &mut Memo,
    ) -> bool {
        match &self.check {
            FieldCheck::Any(tests) => self.any(event, tests, out, memo),
            FieldCheck::All(groups) => groups.iter().all(|tests| self.any(event, tests, out, memo)),
            FieldCheck::NoneOf(tests) => {
                event.exists(&self.path)
                    && !self.any(event, tests, &mut crate::matcher::Discard, memo)
            }
            FieldCheck::Exists(expected) => event.exists(&self.path) == *expected,
            FieldCheck::FieldRef {
                other,
                kind,
                cased,
                negate,
            } => {
                let same = self.refers(event, other, *kind, *cased);
                if *negate {
                    event.exists(&self.path) && !same
                } else {
                    same
                }
            }
        }
    }

    /// Some value of the field passes one of `tests`; an absent field passes a `null` test.
    fn any<E: SigmaEvent + ?Sized, C: Collector>(
        &self,
        event: &E,
        tests: &[ValueTest],
        out: &mut C,
        memo: &mut Memo,
    ) -> bool {
        let mut present = false;
        let path = &self.path;
        let hit = event.for_each_value(path, &mut |value| {
            present = true;
            if tests.iter().any(|t| t.matches(value, path, out, memo)) {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        hit.is_break() || (!present && tests.iter().any(ValueTest::accepts_absent))
    }

    /// Whether a value of this field relates to a value of `other` as `kind` says.
    fn refers<E: SigmaEvent + ?Sized>(
        &self,
        event: &E,
        other: &FieldPath,
        kind: StrKind,
        cased: bool,
    ) -> bool {
        event.any_value(&self.path, &mut |left| {
            with_text(left, |left| {
                event.any_value(other, &mut |right| {
                    with_text(right, |right| compare_fields(left, right, kind, cased))
                        .unwrap_or(false)
                })
            })
            .unwrap_or(false)
        })
    }
}

fn compare_fields(left: &str, right: &str, kind: StrKind, cased: bool) -> bool {
    if !cased {
        if kind == StrKind::Equals && left.is_ascii() && right.is_ascii() {
            return left.eq_ignore_ascii_case(right);
        }
        return compare_fields(&left.to_lowercase(), &right.to_lowercase(), kind, true);
    }
    match kind {
        StrKind::Equals => left == right,
        StrKind::Contains => left.contains(right),
        StrKind::StartsWith => left.starts_with(right),
        StrKind::EndsWith => left.ends_with(right),
    }
}

impl KeywordTest {
    fn eval(&self, doc: &Value) -> bool {
        let found = |group: &[ValueTest]| {
            group.iter().any(|test| match test {
                ValueTest::Str(m) => any_leaf(doc, &mut |s| m.is_match(s)),
                _ => false,
            })
        };
        if self.all {
            self.groups.iter().all(|g| found(g))
        } else {
            self.groups.iter().any(|g| found(g))
        }
    }
}

impl Node {
    /// Whether any test under this node looks values up in a threat-intel list.
    pub(crate) fn uses_lists(&self) -> bool {
        let any = |tests: &[ValueTest]| tests.iter().any(|t| matches!(t, ValueTest::Intel(_)));
        match self {
            Node::And(children) | Node::Or(children) | Node::AtLeast(_, children) => {
                children.iter().any(Node::uses_lists)
            }
            Node::Not(child) => child.uses_lists(),
            Node::Field(test) => match &test.check {
                FieldCheck::Any(tests) | FieldCheck::NoneOf(tests) => any(tests),
                FieldCheck::All(groups) => groups.iter().any(|g| any(g)),
                FieldCheck::Exists(_) | FieldCheck::FieldRef { .. } => false,
            },
            Node::Keywords(keywords) => keywords.groups.iter().any(|g| any(g)),
            Node::Const(_) => false,
        }
    }
}
