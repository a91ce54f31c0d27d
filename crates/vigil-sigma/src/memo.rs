//! Work shared by every rule evaluated on one event: a value searched case-insensitively by
//! several rules (a user agent tried by every `userAgent|contains` list) is lower-cased once
//! per event instead of once per test, a value looked up in a threat-intel list by several
//! rules (`sourceIPAddress` in `tor_exit_nodes`) is looked up once, and the tests and field
//! paths several rules of a set have in common (see [`crate::share_tests`]) are evaluated and
//! searched once.

use std::cell::Cell;
use std::ops::{ControlFlow, Deref, DerefMut};
use std::sync::Arc;

use sonic_rs::Value;
use vigil_event::{FieldLookup, FieldPath};

use crate::eval::{Shared, SigmaEvent};

/// What one event shares with all the rules evaluated on it: the reusable [`Buffers`] and the
/// values found at the field paths several rules read (see [`crate::share_tests`]), borrowed
/// from the event `'e`.
#[derive(Debug)]
pub(crate) struct Memo<'e> {
    bufs: Buffers,
    /// The set whose path slots `paths` holds (0: none yet).
    paths_set: u32,
    paths: [Values<'e>; PATH_SLOTS],
}

/// The most field paths whose values a memo keeps (the paths read by the most rules of a set
/// are numbered first).
pub(crate) const PATH_SLOTS: usize = 32;

/// The values of an event at a field path, as a memo knows them.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Values<'e> {
    /// Not looked up yet.
    Unknown,
    /// No value at the path.
    Absent,
    /// Exactly one value (the common case).
    One(&'e Value),
    /// Several values (the path crosses an array), or not kept here: walk the event.
    Walk,
}

impl<'e> Memo<'e> {
    /// A memo that remembers nothing yet (for a single evaluation).
    pub(crate) fn new() -> Memo<'e> {
        Memo::with(Buffers::new())
    }

    fn with(bufs: Buffers) -> Memo<'e> {
        Memo {
            bufs,
            paths_set: 0,
            paths: [Values::Unknown; PATH_SLOTS],
        }
    }

    /// The values of `event` at `path`, whose slot is `at`, looked up the first time only.
    /// [`Values::Walk`] when the path has several values or the memo cannot keep them.
    pub(crate) fn values<E: FieldLookup + ?Sized>(
        &mut self,
        at: Shared,
        event: &'e E,
        path: &FieldPath,
    ) -> Values<'e> {
        if self.paths_set != at.set {
            if self.paths_set != 0 {
                return Values::Walk;
            }
            self.paths_set = at.set;
        }
        let Some(known) = self.paths.get_mut(at.slot as usize) else {
            return Values::Walk;
        };
        if let Values::Unknown = known {
            let (mut first, mut count) = (None, 0);
            let _ = event.for_each_value(path, &mut |value| {
                count += 1;
                first = Some(value);
                if count > 1 {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            });
            *known = match (count, first) {
                (0, _) => Values::Absent,
                (1, Some(value)) => Values::One(value),
                _ => Values::Walk,
            };
        }
        *known
    }
}

impl Deref for Memo<'_> {
    type Target = Buffers;

    fn deref(&self) -> &Buffers {
        &self.bufs
    }
}

impl DerefMut for Memo<'_> {
    fn deref_mut(&mut self) -> &mut Buffers {
        &mut self.bufs
    }
}

/// Lower-cased copies of the values of one event and the intel answers about them, keyed by
/// the address of the value in the event, and the answers of shared tests. Addresses identify
/// values only while the event is borrowed and unchanged, so a memo lives inside an
/// [`EventMemo`], which borrows the event and starts empty; the buffers are reused from event
/// to event.
#[derive(Debug, Default)]
pub(crate) struct Buffers {
    /// (value address, start, end) of each copy in `text`.
    folded: Vec<(usize, usize, usize)>,
    text: String,
    /// Intel lookups made on this event.
    intel: Vec<IntelAnswer>,
    /// The set whose shared tests `answers` holds (0: none yet).
    answers_set: u32,
    /// The answers of the shared tests evaluated on this event, by slot: 0 not evaluated,
    /// 1 false, 2 true.
    answers: Vec<u8>,
}

/// The answer of list `name` of the lookup at address `lists` for the value at `value`.
#[derive(Debug)]
struct IntelAnswer {
    lists: usize,
    name: Arc<str>,
    value: usize,
    entry: Option<String>,
}

impl Buffers {
    /// Buffers holding nothing.
    pub(crate) const fn new() -> Buffers {
        Buffers {
            folded: Vec::new(),
            text: String::new(),
            intel: Vec::new(),
            answers_set: 0,
            answers: Vec::new(),
        }
    }

    fn clear(&mut self) {
        self.folded.clear();
        self.text.clear();
        self.intel.clear();
        self.answers_set = 0;
        self.answers.clear();
    }

    /// The answer of the shared test at `shared` if it was evaluated on this event.
    pub(crate) fn answer(&self, shared: Shared) -> Option<bool> {
        if shared.set != self.answers_set {
            return None;
        }
        match self.answers.get(shared.slot as usize) {
            Some(1) => Some(false),
            Some(2) => Some(true),
            _ => None,
        }
    }

    /// Keeps the answer of the shared test at `shared` for the other rules of its set. A
    /// memo keeps the answers of one set only: the first set it is asked about.
    pub(crate) fn remember(&mut self, shared: Shared, answer: bool) {
        if self.answers_set == 0 {
            self.answers_set = shared.set;
        } else if self.answers_set != shared.set {
            return;
        }
        let slot = shared.slot as usize;
        if self.answers.len() <= slot {
            self.answers.resize(slot + 1, 0);
        }
        self.answers[slot] = 1 + u8::from(answer);
    }

    /// The entry of list `name` (of the lookup at address `lists`) that the value at address
    /// `value` matches, asking `look` the first time only.
    pub(crate) fn intel(
        &mut self,
        lists: usize,
        name: &Arc<str>,
        value: usize,
        look: impl FnOnce() -> Option<String>,
    ) -> Option<&str> {
        let known = self.intel.iter().position(|a| {
            a.value == value
                && a.lists == lists
                && (Arc::ptr_eq(&a.name, name) || *a.name == **name)
        });
        let at = known.unwrap_or_else(|| {
            self.intel.push(IntelAnswer {
                lists,
                name: name.clone(),
                value,
                entry: look(),
            });
            self.intel.len() - 1
        });
        self.intel[at].entry.as_deref()
    }

    /// `hay` lower-cased (ASCII folding for ASCII text, Unicode rules otherwise), made once
    /// per `key` (the address of the value `hay` is the text of).
    pub(crate) fn folded(&mut self, key: usize, hay: &str) -> &str {
        if let Some(&(_, start, end)) = self.folded.iter().find(|(k, _, _)| *k == key) {
            return &self.text[start..end];
        }
        let start = self.text.len();
        if hay.is_ascii() {
            self.text.push_str(hay);
            self.text[start..].make_ascii_lowercase();
        } else {
            self.text.push_str(&hay.to_lowercase());
        }
        let end = self.text.len();
        self.folded.push((key, start, end));
        &self.text[start..end]
    }
}

thread_local! {
    /// The buffers of the last memo dropped on this thread, reused by the next one so that an
    /// event costs no allocation.
    static SPARE: Cell<Buffers> = const { Cell::new(Buffers::new()) };
}

/// An event being evaluated by many rules, with what they share ([`crate::Rule::matches_in`]).
/// Build one per event, evaluate every rule through it, drop it before the next event.
///
/// ```
/// use vigil_event::{Event, KeyedEvent, LogSource, Origin};
/// use vigil_sigma::{load_str, EventMemo, LoadOptions};
///
/// let yaml = "title: t\nlogsource: {product: aws, service: cloudtrail}\n\
///             detection: {sel: {userAgent|contains: kali}, condition: sel}\n";
/// let rule = &load_str(yaml, "t.yml", &LoadOptions::default()).rules[0];
/// let doc = sonic_rs::from_str(r#"{"userAgent":"aws-cli/2 md/distrib#Kali.2024"}"#).unwrap();
/// let event = Event::new(LogSource::CloudTrail, doc, Origin::new("t.json", 1));
/// let keyed = KeyedEvent::new(&event);
/// let mut memo = EventMemo::new(&keyed);
/// assert!(rule.matches_in(&mut memo));
/// ```
#[derive(Debug)]
pub struct EventMemo<'e, E: SigmaEvent + ?Sized> {
    event: &'e E,
    memo: Memo<'e>,
}

impl<'e, E: SigmaEvent + ?Sized> EventMemo<'e, E> {
    /// Starts the evaluation of `event`, with nothing remembered yet.
    pub fn new(event: &'e E) -> Self {
        let mut bufs = SPARE.with(Cell::take);
        bufs.clear();
        EventMemo {
            event,
            memo: Memo::with(bufs),
        }
    }

    /// The event.
    pub fn event(&self) -> &'e E {
        self.event
    }

    pub(crate) fn parts(&mut self) -> (&'e E, &mut Memo<'e>) {
        (self.event, &mut self.memo)
    }
}

impl<E: SigmaEvent + ?Sized> Drop for EventMemo<'_, E> {
    fn drop(&mut self) {
        let bufs = std::mem::take(&mut self.memo.bufs);
        SPARE.with(|spare| spare.set(bufs));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_folded_once_per_key() {
        let mut memo = Memo::new();
        assert_eq!(memo.folded(1, "Aws-CLI Kali"), "aws-cli kali");
        // The same key answers from the memo, whatever text comes with it.
        assert_eq!(memo.folded(1, "ignored"), "aws-cli kali");
        assert_eq!(memo.folded(2, "ÉTÉ"), "été");
        assert_eq!(memo.folded(1, ""), "aws-cli kali");
        memo.clear();
        assert_eq!(memo.folded(1, "Other"), "other");
    }

    #[test]
    fn intel_answers_are_kept_per_list_and_value() {
        let mut memo = Memo::new();
        let tor: Arc<str> = "tor".into();
        let bad: Arc<str> = "bad".into();
        let asked = Cell::new(0);
        let ask = |answer: Option<&str>| {
            asked.set(asked.get() + 1);
            answer.map(str::to_string)
        };
        assert_eq!(
            memo.intel(7, &tor, 1, || ask(Some("1.2.3.4"))),
            Some("1.2.3.4")
        );
        // Another rule's copy of the same list name shares the answer.
        let tor_again: Arc<str> = "tor".into();
        assert_eq!(memo.intel(7, &tor_again, 1, || ask(None)), Some("1.2.3.4"));
        assert_eq!(memo.intel(7, &bad, 1, || ask(None)), None);
        assert_eq!(memo.intel(7, &tor, 2, || ask(None)), None);
        assert_eq!(memo.intel(8, &tor, 1, || ask(None)), None);
        assert_eq!(asked.get(), 4);
        memo.clear();
        assert_eq!(memo.intel(7, &tor, 1, || ask(None)), None);
        assert_eq!(asked.get(), 5);
    }
}
