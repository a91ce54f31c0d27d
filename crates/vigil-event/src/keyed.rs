//! An event whose top-level keys are hashed once, so that the many field lookups of rule
//! evaluation find their first key with integer compares instead of a string compare per key
//! of the record (`sonic_rs` objects are searched linearly; in profiles, that search was the
//! top symbol of detection).

use std::cell::RefCell;
use std::ops::{ControlFlow, Range};

use sonic_rs::{JsonContainerTrait, Object, Value};

use crate::path::{visit_leaf, walk};
use crate::{Common, Event, FieldLookup, FieldPath, LogSource};

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
    /// (key hash, key, value) of each top-level entry, in document order.
    keys: Vec<(u64, &'e str, &'e Value)>,
    /// Whether the record is an object; when not, lookups go through the event.
    object: bool,
    /// An open-addressing table over `keys`: slot → 1 + position in `keys` (0: empty), so a
    /// lookup probes one or two slots instead of scanning every key (an absent field, which
    /// rules ask for often, would scan them all). Unused (all 0, `hashed` false) for records
    /// with more than [`MAX_SLOTTED`] keys, which are scanned.
    slots: [u8; SLOTS],
    hashed: bool,
    /// Keys looked up inside top-level objects, remembered for the rest of the event.
    nested: RefCell<Nested<'e>>,
}

/// The answers to lookups of a key inside a top-level object (`userIdentity.type`,
/// `requestParameters.bucketName`): rules ask for the same few again and again, and a
/// `sonic_rs` object is searched key by key, unpacking each key on the way (in profiles,
/// that search was a few percent of detection). Building a table of every nested object's
/// keys would cost more than it saves: most are never asked for.
#[derive(Debug, Default)]
struct Nested<'e> {
    /// (address of the object, hash of the key, the key's text in `keys`, what
    /// `Object::get` found under it).
    answers: Vec<(usize, u64, Range<usize>, Option<&'e Value>)>,
    keys: String,
}

/// The most lookups remembered per event (past it, objects are searched again): enough for
/// the fields a large rule set asks for, small enough to scan.
const MAX_NESTED: usize = 48;

/// Slots of the table of top-level keys (a power of two).
const SLOTS: usize = 64;

/// The most keys the slot table takes (at most 5/8 full, so probes stay short and always
/// meet an empty slot); CloudTrail records have 15 to 25.
const MAX_SLOTTED: usize = 40;

/// The first slot of a key hash (high bits, after a multiply to spread them).
fn slot_of(hash: u64) -> usize {
    (hash.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58) as usize
}

/// The storage of a [`KeyedEvent`]'s key table, handed from one event to the next so that
/// building the table of each event does not allocate.
///
/// ```
/// use vigil_event::{Event, FieldLookup, FieldPath, KeyBuffer, KeyedEvent, LogSource, Origin};
///
/// let mut buffer = KeyBuffer::default();
/// for name in ["StopLogging", "DeleteTrail"] {
///     let doc = sonic_rs::from_str(&format!(r#"{{"eventName":"{name}"}}"#)).unwrap();
///     let event = Event::new(LogSource::CloudTrail, doc, Origin::new("t.json", 1));
///     let keyed = KeyedEvent::new_in(&event, buffer);
///     assert_eq!(keyed.first_str(&FieldPath::new("eventName")), Some(name));
///     buffer = keyed.into_buffer();
/// }
/// ```
#[derive(Debug, Default)]
pub struct KeyBuffer {
    /// Always empty: only its allocation is kept.
    keys: Vec<(u64, &'static str, &'static Value)>,
    /// Likewise, the storage of the nested lookups remembered.
    nested: Nested<'static>,
}

/// Empties `keys` and gives its allocation another lifetime. Collecting an empty vector into
/// one of the same layout reuses its allocation (the standard library's in-place collection),
/// so this neither allocates nor needs `unsafe`; if it ever stopped doing so, it would only
/// allocate again.
fn recycle<'a, 'b>(mut keys: Vec<(u64, &'a str, &'a Value)>) -> Vec<(u64, &'b str, &'b Value)> {
    keys.clear();
    // The closure never runs (the vector is empty); `filter_map` only gives the elements
    // their new type, and in-place collection keeps the allocation.
    #[allow(clippy::unnecessary_filter_map)]
    keys.into_iter().filter_map(|_| None).collect()
}

/// Like [`recycle`], for the remembered nested lookups.
fn recycle_nested<'a, 'b>(nested: Nested<'a>) -> Nested<'b> {
    let Nested {
        mut answers,
        mut keys,
    } = nested;
    answers.clear();
    keys.clear();
    #[allow(clippy::unnecessary_filter_map)]
    let answers = answers.into_iter().filter_map(|_| None).collect();
    Nested { answers, keys }
}

impl<'e> KeyedEvent<'e> {
    /// Hashes the top-level keys of `event`.
    pub fn new(event: &'e Event) -> Self {
        Self::new_in(event, KeyBuffer::default())
    }

    /// Like [`KeyedEvent::new`], keeping the table in `buffer` (from
    /// [`KeyedEvent::into_buffer`] of the previous event).
    pub fn new_in(event: &'e Event, buffer: KeyBuffer) -> Self {
        let mut keys = recycle(buffer.keys);
        let nested = RefCell::new(recycle_nested(buffer.nested));
        let object = match event.doc.as_object() {
            Some(object) => {
                keys.reserve(object.len());
                keys.extend(
                    object
                        .iter()
                        .map(|(key, value)| (crate::path::key_hash(key), key, value)),
                );
                true
            }
            None => false,
        };
        let mut keyed = KeyedEvent {
            event,
            keys,
            object,
            slots: [0; SLOTS],
            hashed: false,
            nested,
        };
        keyed.fill_slots();
        keyed
    }

    /// Files each key in the slot table, the first of duplicate keys only (the one
    /// `Object::get` finds).
    fn fill_slots(&mut self) {
        if self.keys.len() > MAX_SLOTTED {
            return;
        }
        for (position, (hash, key, _)) in self.keys.iter().enumerate() {
            let mut slot = slot_of(*hash);
            loop {
                match self.slots.get(slot).copied() {
                    Some(0) => {
                        if let (Some(free), Ok(filed)) =
                            (self.slots.get_mut(slot), u8::try_from(position + 1))
                        {
                            *free = filed;
                        }
                        break;
                    }
                    Some(filed) => {
                        let same = self
                            .keys
                            .get(usize::from(filed) - 1)
                            .is_some_and(|(h, k, _)| h == hash && k == key);
                        if same {
                            break;
                        }
                    }
                    None => break,
                }
                slot = (slot + 1) % SLOTS;
            }
        }
        self.hashed = true;
    }

    /// Gives back the storage of the key table, for the next event.
    pub fn into_buffer(self) -> KeyBuffer {
        KeyBuffer {
            keys: recycle(self.keys),
            nested: recycle_nested(self.nested.into_inner()),
        }
    }

    /// The event's common fields, as [`Event::common`] reads them; for CloudTrail, from the
    /// key table instead of walking the record's keys again.
    pub fn common(&self) -> Common<'e> {
        match self.event.source {
            LogSource::CloudTrail | LogSource::CloudTrailInsight if self.object => {
                let entries = self.keys.iter().map(|(_, key, value)| (*key, *value));
                self.event
                    .finish_common(crate::common::cloudtrail(Some(entries)))
            }
            _ => self.event.common(),
        }
    }

    /// The event.
    pub fn event(&self) -> &'e Event {
        self.event
    }

    /// The first top-level value under `key` (whose hash is `hash`), as `Object::get` finds it.
    fn top(&self, hash: u64, key: &str) -> Option<&'e Value> {
        if !self.hashed {
            return self
                .keys
                .iter()
                .find(|(h, k, _)| *h == hash && *k == key)
                .map(|(_, _, value)| *value);
        }
        let mut slot = slot_of(hash);
        // At most SLOTS probes; the table is never full, so an empty slot ends the search.
        for _ in 0..SLOTS {
            let filed = usize::from(*self.slots.get(slot)?);
            let (h, k, value) = self.keys.get(filed.checked_sub(1)?)?;
            if *h == hash && *k == key {
                return Some(*value);
            }
            slot = (slot + 1) % SLOTS;
        }
        None
    }
}

impl<'e> KeyedEvent<'e> {
    /// Walks `path` from `top`, the top-level value under its first segment, as
    /// [`walk`] does from depth 1, looking the second segment up through [`Self::nested_get`].
    fn walk_below<'a>(
        &'a self,
        top: &'e Value,
        path: &FieldPath,
        visit: &mut dyn FnMut(&'a Value) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        // A path of one segment (most), or a top-level array (fanned out) or scalar: asked
        // in that order, as asking a value for its type is not free.
        let Some(key) = path.segments().get(1) else {
            return visit_leaf(top, visit);
        };
        let Some(object) = top.as_object() else {
            return walk(top, path, 1, visit);
        };
        if let Some(child) = self.nested_get(top, object, key, path.second_hash()) {
            return walk(child, path, 2, visit);
        }
        // The rest of the path may be one key that contains dots, as `walk` tries.
        match path.tail(1).filter(|_| path.segments().len() > 2) {
            Some(joined) => match object.get(&joined) {
                Some(child) => visit_leaf(child, visit),
                None => ControlFlow::Continue(()),
            },
            None => ControlFlow::Continue(()),
        }
    }

    /// `object.get(key)` for the object `top` (`hash` is the key's [`crate::path::key_hash`]),
    /// remembered for the rest of the event.
    fn nested_get(
        &self,
        top: &'e Value,
        object: &'e Object,
        key: &str,
        hash: u64,
    ) -> Option<&'e Value> {
        let address = std::ptr::from_ref(top) as usize;
        let Ok(mut nested) = self.nested.try_borrow_mut() else {
            return object.get(&key);
        };
        let Nested { answers, keys } = &mut *nested;
        let known = answers.iter().find(|(a, h, text, _)| {
            *a == address && *h == hash && keys.get(text.clone()) == Some(key)
        });
        if let Some((_, _, _, answer)) = known {
            return *answer;
        }
        let answer = object.get(&key);
        if answers.len() < MAX_NESTED {
            let start = keys.len();
            keys.push_str(key);
            answers.push((address, hash, start..keys.len(), answer));
        }
        answer
    }
}

impl FieldLookup for KeyedEvent<'_> {
    fn for_each_value<'a>(
        &'a self,
        path: &FieldPath,
        visit: &mut dyn FnMut(&'a Value) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        let (true, Some(head)) = (self.object, path.segments().first()) else {
            return self.event.for_each_value(path, visit);
        };
        if let Some(child) = self.top(path.head_hash(), head) {
            return self.walk_below(child, path, visit);
        }
        if path.segments().len() < 2 {
            return ControlFlow::Continue(());
        }
        // The whole path may be one key that contains dots, as `walk` tries.
        match self.top(path.whole_hash(), path.as_str()) {
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
    fn wide_records_and_duplicate_keys_are_found_as_the_event_finds_them() {
        // Below, at and above the size of the slot table; every key twice, so slots collide
        // and the first of each pair must win.
        for width in [1, 20, MAX_SLOTTED / 2, MAX_SLOTTED, MAX_SLOTTED + 1, 90] {
            let entries: Vec<String> = (0..width)
                .flat_map(|i| [format!(r#""k{i}":{i}"#), format!(r#""k{i}":-{i}"#)])
                .take(width)
                .collect();
            let doc = sonic_rs::from_str(&format!("{{{}}}", entries.join(","))).unwrap();
            let event = Event::new(LogSource::CloudTrail, doc, Origin::new("t", 1));
            let keyed = KeyedEvent::new(&event);
            assert_eq!(keyed.hashed, width <= MAX_SLOTTED, "{width}");
            for i in 0..width + 5 {
                let path = format!("k{i}");
                assert_eq!(
                    values(&keyed, &path),
                    values(&event, &path),
                    "{width} {path}"
                );
            }
        }
    }

    #[test]
    fn common_fields_are_the_events() {
        let docs = [
            (
                LogSource::CloudTrail,
                r#"{"eventSource":"iam.amazonaws.com","eventName":"CreateUser","awsRegion":"us-east-1",
                    "recipientAccountId":"111122223333","sourceIPAddress":"192.0.2.1","userAgent":"cli",
                    "errorCode":"AccessDenied","eventName":"Second",
                    "userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/r/s",
                        "accessKeyId":"ASIA1","accountId":"1",
                        "sessionContext":{"sessionIssuer":{"arn":"arn:aws:iam::1:role/r","userName":"r"}}},
                    "requestParameters":{"userName":"bob","roleName":"r2"}}"#,
            ),
            (
                LogSource::CloudTrailInsight,
                r#"{"eventType":"AwsCloudTrailInsight","resources":[{"ARN":"arn:1"},{"ARN":"arn:2"}],
                    "additionalEventData":{"UserName":"alice"},"userIdentity":{"accountId":"2"}}"#,
            ),
            (LogSource::CloudTrail, r#"[{"eventName":"NotAnObject"}]"#),
            (
                LogSource::GuardDuty,
                r#"{"accountId":"3","region":"eu-west-1","type":"Recon:EC2/PortProbeUnprotectedPort"}"#,
            ),
        ];
        for (source, json) in docs {
            let event = Event::new(
                source,
                sonic_rs::from_str(json).unwrap(),
                Origin::new("t", 1),
            )
            .with_envelope(sonic_rs::from_str(r#"{"account":"9","region":"ap-south-1"}"#).unwrap());
            let keyed = KeyedEvent::new(&event);
            assert_eq!(keyed.common(), event.common(), "{json}");
        }
    }

    #[test]
    fn a_reused_buffer_reads_each_event_as_its_own() {
        let docs = [
            r#"{"eventName":"StopLogging","a":{"b":1},"x":"first"}"#,
            r#"[{"eventName":"InArray"}]"#,
            r#"{"eventName":"DeleteTrail","dotted.key":"d"}"#,
            r#"{"only":true}"#,
        ];
        let paths = ["eventName", "a.b", "x", "dotted.key", "only"];
        let mut buffer = KeyBuffer::default();
        for doc in docs {
            let event = Event::new(
                LogSource::CloudTrail,
                sonic_rs::from_str(doc).unwrap(),
                Origin::new("t", 1),
            );
            let keyed = KeyedEvent::new_in(&event, buffer);
            for path in paths {
                assert_eq!(values(&keyed, path), values(&event, path), "{doc} {path}");
            }
            buffer = keyed.into_buffer();
            assert!(buffer.keys.is_empty());
        }
        // The allocation of the widest table is kept for the next event.
        assert!(buffer.keys.capacity() >= 3, "{}", buffer.keys.capacity());
    }

    #[test]
    fn nested_lookups_asked_again_find_what_the_event_finds() {
        let doc = sonic_rs::from_str(
            r#"{"u":{"type":"Root","arn":"a","dup":1,"dup":2,"x.y":"dotted","x":{"z":3}},
                "list":[{"type":"A"},{"type":"B"}],"s":"scalar","n":null,
                "p":{"bucketName":"b","k.with.dots":"v"},"q":{"type":"other"}}"#,
        )
        .unwrap();
        let event = Event::new(LogSource::CloudTrail, doc, Origin::new("t", 1));
        let keyed = KeyedEvent::new(&event);
        let paths = [
            "u.type",
            "u.arn",
            "u.dup",
            "u.missing",
            "u.x.y",
            "u.x.z",
            "u.x",
            "list.type",
            "s.type",
            "n.type",
            "p.bucketName",
            "p.k.with.dots",
            "p.k",
            "q.type",
            "u.type.deeper",
        ];
        // Three rounds, the second in reverse order: later rounds answer from what the first
        // remembered.
        for round in 0..3 {
            let mut order: Vec<&str> = paths.to_vec();
            if round == 1 {
                order.reverse();
            }
            for path in order {
                assert_eq!(values(&keyed, path), values(&event, path), "{round} {path}");
            }
        }
        assert_eq!(values(&keyed, "u.dup"), vec!["1"]);
        assert_eq!(values(&keyed, "q.type"), vec![r#""other""#]);
    }

    #[test]
    fn nested_lookups_past_the_memory_bound_are_still_right() {
        let fields: Vec<String> = (0..MAX_NESTED * 2)
            .map(|i| format!(r#""k{i}":{i}"#))
            .collect();
        let json = format!(r#"{{"o":{{{}}}}}"#, fields.join(","));
        let event = Event::new(
            LogSource::CloudTrail,
            sonic_rs::from_str(&json).unwrap(),
            Origin::new("t", 1),
        );
        let keyed = KeyedEvent::new(&event);
        for _ in 0..2 {
            for i in 0..MAX_NESTED * 2 + 3 {
                let path = format!("o.k{i}");
                assert_eq!(values(&keyed, &path), values(&event, &path), "{path}");
            }
        }
    }

    /// The remembered lookups belong to one event: a reused buffer must not answer for the
    /// next one (whose objects may sit at the same addresses).
    #[test]
    fn a_reused_buffer_forgets_nested_lookups() {
        let mut buffer = KeyBuffer::default();
        for (doc, expected) in [
            (r#"{"u":{"type":"Root"}}"#, vec![r#""Root""#]),
            (r#"{"u":{"type":"IAMUser"}}"#, vec![r#""IAMUser""#]),
            (r#"{"u":{"arn":"x"}}"#, vec![]),
        ] {
            let event = Event::new(
                LogSource::CloudTrail,
                sonic_rs::from_str(doc).unwrap(),
                Origin::new("t", 1),
            );
            let keyed = KeyedEvent::new_in(&event, buffer);
            assert_eq!(values(&keyed, "u.type"), expected, "{doc}");
            assert_eq!(values(&keyed, "u.type"), expected, "{doc}");
            buffer = keyed.into_buffer();
            assert!(buffer.nested.answers.is_empty() && buffer.nested.keys.is_empty());
        }
    }

    #[test]
    fn records_that_are_not_objects_are_read_through_the_event() {
        let doc = sonic_rs::from_str(r#"[{"a":1},{"a":2}]"#).unwrap();
        let event = Event::new(LogSource::CloudTrail, doc, Origin::new("t", 1));
        let keyed = KeyedEvent::new(&event);
        assert_eq!(values(&keyed, "a"), vec!["1", "2"]);
    }
}
