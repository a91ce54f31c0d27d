//! The fast path for arrays of plain records (`Records`, `Findings`, arrays of CloudTrail
//! records): sonic-rs splits the array (its SIMD skipping beats vigil's own scanner) and each
//! element is parsed straight into an event. Any element that would not become one event
//! (malformed, too large, of the wrong type, an envelope or a wrapper) stops the fast path;
//! the caller then reads the rest with the careful path, which rejects that element with its
//! position and goes on.

use serde::Deserialize;
use sonic_rs::{JsonValueMutTrait, Value};

use crate::emit::Emitter;
use crate::frame::Frame;
use crate::shape::{classify, Hint, Shape};
use crate::validate;

/// Reads the array at `open` as records of `hint` for as long as every element becomes an
/// event. Returns how many elements did, or `None` when all of them did.
pub(crate) fn read_records(
    frame: &Frame,
    open: usize,
    hint: Hint,
    cx: &mut Emitter,
) -> Option<usize> {
    // Splitting and parsing trust the text to be UTF-8; checking it all at once is nearly free.
    let Ok(text) = simdutf8::basic::from_utf8(frame.bytes.get(open..).unwrap_or_default()) else {
        return Some(0);
    };
    // A selective sink (reading evidence back) wants a few records: skip the others.
    if cx.is_selective() {
        return pick_records(frame, text, hint, cx);
    }
    // When no element can exceed the record limit, parse the array in one pass — the cost of
    // the floor — and move each record out of it, instead of skipping then parsing each one.
    if text.len() <= cx.opts.max_record_bytes {
        if let Some(mut array) = parse_one_value(text) {
            return take_records(frame, &mut array, hint, cx);
        }
    }
    for (accepted, element) in sonic_rs::to_array_iter(text).enumerate() {
        let Ok(element) = element else {
            return Some(accepted);
        };
        let raw = element.as_raw_str();
        if raw.len() > cx.opts.max_record_bytes || !accept(frame, raw, hint, cx) {
            return Some(accepted);
        }
    }
    None
}

/// Splits the array without parsing its elements and parses only those the sink wants.
/// Stops at the last record the sink wants: the rest is not split.
///
/// The split is [`crate::split::elements`], which yields exactly what the careful path's
/// scanner yields (so records are numbered alike whatever the text holds) about three times
/// faster than sonic-rs's checked `to_array_iter`, which validates every record it skips.
/// A record that is not valid JSON is still skipped unparsed unless it is wanted; when a
/// wanted one cannot be delivered, or the structure breaks, the careful path takes over
/// from there, as for the first pass.
fn pick_records(frame: &Frame, text: &str, hint: Hint, cx: &mut Emitter) -> Option<usize> {
    let last = cx.last_wanted();
    let mut elements = crate::split::elements(text.as_bytes(), 0);
    for accepted in 0.. {
        if last.is_some_and(|last| frame.record(cx) > last) {
            return None;
        }
        let element = elements.next()?;
        let Ok(range) = element else {
            return Some(accepted);
        };
        if !cx.wants(frame.record(cx)) {
            cx.pass();
            continue;
        }
        // Elements start and end at ASCII brackets, quotes or value bytes: always char
        // boundaries of `text`.
        let Some(raw) = text.get(range) else {
            return Some(accepted);
        };
        if raw.len() > cx.opts.max_record_bytes || !accept(frame, raw, hint, cx) {
            return Some(accepted);
        }
    }
    None
}

/// The first JSON value of `text`, ignoring what follows it (the rest of the document).
fn parse_one_value(text: &str) -> Option<Value> {
    let mut deserializer = sonic_rs::Deserializer::from_str(text);
    Value::deserialize(&mut deserializer).ok()
}

/// Moves each element of the parsed `array` out as an event while each is a valid record.
fn take_records(frame: &Frame, array: &mut Value, hint: Hint, cx: &mut Emitter) -> Option<usize> {
    let elements = array.as_array_mut()?;
    for (accepted, element) in elements.iter_mut().enumerate() {
        if !deliver(frame, element.take(), hint, cx) {
            return Some(accepted);
        }
    }
    None
}

/// Delivers the record `raw` as an event if it is a valid record; otherwise leaves it.
fn accept(frame: &Frame, raw: &str, hint: Hint, cx: &mut Emitter) -> bool {
    let Ok(value) = sonic_rs::from_str::<Value>(raw) else {
        return false;
    };
    deliver(frame, value, hint, cx)
}

/// Delivers `value` as an event if it is a valid record of `hint`.
fn deliver(frame: &Frame, value: Value, hint: Hint, cx: &mut Emitter) -> bool {
    let Shape::Record(source) = classify(&value, hint) else {
        return false;
    };
    let Ok(checked) = validate::check_record(source, &value) else {
        return false;
    };
    let origin = cx.origin(frame.record(cx));
    cx.event(checked.event(value, origin));
    true
}
