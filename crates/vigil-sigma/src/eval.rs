//! The compiled detection: a small tree of enum nodes with pre-resolved field paths, and its
//! evaluation against an event.

use std::ops::ControlFlow;

use sonic_rs::Value;
use vigil_event::{Event, FieldLookup, FieldPath};

use crate::matcher::{any_leaf, Collector, ValueTest};
use crate::memo::{Memo, Values};
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
    /// Where an event's memo keeps the answer of this test when other rules of the set hold
    /// the same test (set by [`crate::share_tests`]); `None` for a test of one rule only.
    pub shared: Option<Shared>,
    /// Where an event's memo keeps the values at `path` when other tests of the set read the
    /// same path (set by [`crate::share_tests`]).
    pub path_slot: Option<Shared>,
}

/// The place of a test held by several rules of a set: its answer on an event is computed
/// once and kept in the event's memo (see [`crate::share_tests`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shared {
    /// The set the slot was numbered in (numbers of different sets never mix in a memo).
    pub set: u32,
    pub slot: u32,
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
    pub(crate) fn eval<'e, E: SigmaEvent + ?Sized, C: Collector>(
        &self,
        event: &'e E,
        out: &mut C,
        memo: &mut Memo<'e>,
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

fn at_least<'e, E: SigmaEvent + ?Sized, C: Collector>(
    n: usize,
    children: &[Node],
    event: &'e E,
    out: &mut C,
    memo: &mut Memo<'e>,
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
    fn eval<'e, E: SigmaEvent + ?Sized, C: Collector>(
        &self,
        event: &'e E,
        out: &mut C,
        memo: &mut Memo<'e>,
    ) -> bool {
        // Shared tests never look up intel lists (see `share`), so the answer is all that an
        // evaluation yields: nothing goes to `out` that a remembered answer would lose.
        let Some(shared) = self.shared else {
            return self.check(event, out, memo);
        };
        if let Some(answer) = memo.answer(shared) {
            return answer;
        }
        let answer = self.check(event, out, memo);
        memo.remember(shared, answer);
        answer
    }

    fn check<'e, E: SigmaEvent + ?Sized, C: Collector>(
        &self,
        event: &'e E,
        out: &mut C,
        memo: &mut Memo<'e>,
    ) -> bool {
        match &self.check {
            FieldCheck::Any(tests) => self.any(event, tests, out, memo),
            FieldCheck::All(groups) => groups.iter().all(|tests| self.any(event, tests, out, memo)),
            FieldCheck::NoneOf(tests) => {
                self.exists(event, memo)
                    && !self.any(event, tests, &mut crate::matcher::Discard, memo)
            }
            FieldCheck::Exists(expected) => self.exists(event, memo) == *expected,
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

    /// The values at the field's path as the memo knows them ([`Values::Walk`]: walk the
    /// event).
    fn values<'e, E: SigmaEvent + ?Sized>(&self, event: &'e E, memo: &mut Memo<'e>) -> Values<'e> {
        match self.path_slot {
            Some(at) => memo.values(at, event, &self.path),
            None => Values::Walk,
        }
    }

    /// Whether the field has a value (a JSON `null` counts).
    fn exists<'e, E: SigmaEvent + ?Sized>(&self, event: &'e E, memo: &mut Memo<'e>) -> bool {
        match self.values(event, memo) {
            Values::Absent => false,
            Values::One(_) => true,
            Values::Unknown | Values::Walk => event.exists(&self.path),
        }
    }

    /// Some value of the field passes one of `tests`; an absent field passes a `null` test.
    fn any<'e, E: SigmaEvent + ?Sized, C: Collector>(
        &self,
        event: &'e E,
        tests: &[ValueTest],
        out: &mut C,
        memo: &mut Memo<'e>,
    ) -> bool {
        let path = &self.path;
        match self.values(event, memo) {
            Values::Absent => return tests.iter().any(ValueTest::accepts_absent),
            Values::One(value) => return tests.iter().any(|t| t.matches(value, path, out, memo)),
            Values::Unknown | Values::Walk => {}
        }
        let mut present = false;
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
