//! An event whose top-level keys are hashed once, so that the many field lookups of rule
//! evaluation find their first key with integer compares instead of a string compare per key
//! of the record (`sonic_rs` objects are searched linearly; in profiles, that search was the
//! top symbol of detection).

use std::ops::ControlFlow;

use sonic_rs::{JsonContainerTrait, Value};

use crate::path::{visit_leaf, walk};
use crate::{Event, FieldLookup, FieldPath};

/// A borrowed [`Event`] with a table of its top-level keys. Build one per event, before
/// evaluating rules; it reads exactly what [`Event::for_each_value`] reads.
///
/// ```
/// use vigil_event::{Event, FieldLookup, FieldPath, KeyedEvent, LogSource, Origin};
///
/// let doc = sonic_rs::from_str(r#"{"eventName":"StopLogging","userIdentity":{"type":"Root"}}"#)
///     .unwrap();
/// let event = Event::new(LogSource::CloudTrail, doc, Origin::new("t.json", 1));
/// let keyed = KeyedEvent::new(&event);
/// assert_eq!(keyed.first_str(&FieldPath::new("userIdentity.type")), Some("Root"));
/// assert_eq!(keyed.first_str(&FieldPath::new("errorCode")), None);
/// ```
#[derive(Debug)]
pub struct KeyedEvent<'e> {
    event: &'e Event,
    /// (key hash, key, value) of each top-level entry, in document order; `None` when the
    /// record is not an object (then lookups go through the event).
    keys: Option<Vec<(u64, &'e str, &'e Value)>>,
}

impl<'e> KeyedEvent<'e> {
    /// Hashes the top-level keys of `event`.
    pub fn new(event: &'e Event) -> Self {
        let keys = event.doc.as_object().map(|object| {
            object
                .iter()
                .map(|(key, value)| (crate::path::key_hash(key), key, value))
                .collect()
        });
        KeyedEvent { event, keys }
    }

    /// The event.
    pub fn event(&self) -> &'e Event {
        self.event
    }

    /// The first top-level value under `key` (whose hash is `hash`), as `Object::get` finds it.
    fn top(keys: &[(u64, &'e str, &'e Value)], hash: u64, key: &str) -> Option<&'e Value> {
        keys.iter()
            .find(|(h, k, _)| *h == hash && *k == key)
            .map(|(_, _, value)| *value)
    }
}

impl FieldLookup for KeyedEvent<'_> {
    fn for_each_value<'a>(
        &'a self,
        path: &FieldPath,
        visit: &mut dyn FnMut(&'a Value) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        let (Some(keys), Some(head)) = (&self.keys, path.segments().first()) else {
            return self.event.for_each_value(path, visit);
        };
        if let Some(child) = Self::top(keys, path.head_hash(), head) {
            return walk(child, path, 1, visit);
        }
        if path.segments().len() < 2 {
            return ControlFlow::Continue(());
        }
        // The whole path may be one key that contains dots, as `walk` tries.
        match Self::top(keys, path.whole_hash(), path.as_str()) {
            Some(child) => visit_leaf(child, visit),
            None => ControlFlow::Continue(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{LogSource, Origin};

    fn values(lookup: &dyn FieldLookup, path: &str) -> Vec<String> {
        let mut out = Vec::new();
        let _ = lookup.for_each_value(&FieldPath::new(path), &mut |v| {
            out.push(v.to_string());
            ControlFlow::Continue(())
        });
        out
    }

    #[test]
    fn keyed_lookups_find_what_the_event_finds() {
        let doc = sonic_rs::from_str(
            r#"{"a":{"b":"x"},"resources":[{"ARN":"arn:1"},{"ARN":"arn:2"}],"list":["p","q"],
                "n":null,"dotted.key":7,"dup":1,"dup":2,"nested":{"k.with.dots":"v"},
                "deep":{"er":{"still":[1,{"x":true}]}}}"#,
        )
        .unwrap();
        let event = Event::new(LogSource::CloudTrail, doc, Origin::new("t", 1));
        let keyed = KeyedEvent::new(&event);
        let paths = [
            "a",
            "a.b",
            "a.c",
            "resources.ARN",
            "list",
            "n",
            "missing",
            "dotted.key",
            "dotted",
            "dup",
            "nested.k.with.dots",
            "deep.er.still",
            "deep.er.still.x",
            "",
            "a.b.c",
        ];
        for path in paths {
            assert_eq!(values(&keyed, path), values(&event, path), "{path}");
        }
        assert_eq!(values(&keyed, "dotted.key"), vec!["7"]);
        assert_eq!(values(&keyed, "dup"), values(&event, "dup"));
    }

    #[test]
    fn records_that_are_not_objects_are_read_through_the_event() {
        let doc = sonic_rs::from_str(r#"[{"a":1},{"a":2}]"#).unwrap();
        let event = Event::new(LogSource::CloudTrail, doc, Origin::new("t", 1));
        let keyed = KeyedEvent::new(&event);
        assert_eq!(values(&keyed, "a"), vec!["1", "2"]);
    }
}
