//! Work shared by every rule evaluated on one event: a value searched case-insensitively by
//! several rules (a user agent tried by every `userAgent|contains` list) is lower-cased once
//! per event instead of once per test, and a value looked up in a threat-intel list by several
//! rules (`sourceIPAddress` in `tor_exit_nodes`) is looked up once.

use std::cell::Cell;
use std::sync::Arc;

use crate::eval::SigmaEvent;

/// Lower-cased copies of the values of one event and the intel answers about them, keyed by
/// the address of the value in the event. Addresses identify values only while the event is borrowed and unchanged, so a
/// memo lives inside an [`EventMemo`], which borrows the event and starts empty.
#[derive(Debug, Default)]
pub(crate) struct Memo {
    /// (value address, start, end) of each copy in `text`.
    folded: Vec<(usize, usize, usize)>,
    text: String,
    /// Intel lookups made on this event.
    intel: Vec<IntelAnswer>,
}

/// The answer of list `name` of the lookup at address `lists` for the value at `value`.
#[derive(Debug)]
struct IntelAnswer {
    lists: usize,
    name: Arc<str>,
    value: usize,
    entry: Option<String>,
}

impl Memo {
    /// A memo that remembers nothing (for a single evaluation, or a value outside the event).
    pub(crate) const fn new() -> Memo {
        Memo {
            folded: Vec::new(),
            text: String::new(),
            intel: Vec::new(),
        }
    }

    fn clear(&mut self) {
        self.folded.clear();
        self.text.clear();
        self.intel.clear();
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
        let known = self
            .intel
            .iter()
            .position(|a| a.value == value && a.lists == lists && *a.name == **name);
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
    static SPARE: Cell<Memo> = const { Cell::new(Memo::new()) };
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
    memo: Memo,
}

impl<'e, E: SigmaEvent + ?Sized> EventMemo<'e, E> {
    /// Starts the evaluation of `event`, with nothing remembered yet.
    pub fn new(event: &'e E) -> Self {
        let mut memo = SPARE.with(Cell::take);
        memo.clear();
        EventMemo { event, memo }
    }

    /// The event.
    pub fn event(&self) -> &'e E {
        self.event
    }

    pub(crate) fn parts(&mut self) -> (&'e E, &mut Memo) {
        (self.event, &mut self.memo)
    }
}

impl<E: SigmaEvent + ?Sized> Drop for EventMemo<'_, E> {
    fn drop(&mut self) {
        let memo = std::mem::take(&mut self.memo);
        SPARE.with(|spare| spare.set(memo));
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
