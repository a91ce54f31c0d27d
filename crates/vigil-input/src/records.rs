//! Turning JSON records into events. Every record is parsed on its own from its bytes in the
//! [`Frame`], so a bad record is rejected with its position and the records around it are
//! still read; wrappers are split with the structural scanner, not parsed whole.

use std::ops::Range;

use sonic_rs::{JsonValueTrait, Value};
use vigil_event::LogSource;

use crate::emit::Emitter;
use crate::frame::Frame;
use crate::scan::{self, Elements, Entries, ScanError};
use crate::shape::{classify, Hint, Shape, Wrapper};
use crate::{fast, validate, Format};

/// The note on a skipped digest file.
pub(crate) const DIGEST_NOTE: &str = "CloudTrail digest file; validate with vigil trail verify";

/// The EventBridge detail-types that carry a CloudTrail record in `detail`.
const CLOUDTRAIL_DETAIL_TYPES: &[&str] = &[
    "AWS API Call via CloudTrail",
    "AWS Console Sign In via CloudTrail",
    "AWS Service Event via CloudTrail",
    "AWS Insight via CloudTrail",
];

/// Reads the JSON value at `range` of the frame: checks its size and encoding, parses it, and
/// delivers the events (or the reject) it makes. Returns what the value was.
pub(crate) fn read_value(
    frame: &mut Frame,
    range: Range<usize>,
    hint: Hint,
    envelope: Option<&Value>,
    cx: &mut Emitter,
) -> Format {
    match parse(frame.raw(&range), cx.opts.max_record_bytes) {
        Ok(value) => dispatch(frame, range, value, hint, envelope, cx),
        Err(reason) => {
            frame.reject(&range, reason, cx);
            Format::Unknown
        }
    }
}

fn parse(raw: &[u8], max_bytes: usize) -> Result<Value, String> {
    if raw.len() > max_bytes {
        return Err(format!(
            "record of {} bytes is over the limit of {max_bytes} bytes",
            raw.len()
        ));
    }
    let text = simdutf8::compat::from_utf8(raw)
        .map_err(|e| format!("invalid UTF-8 at byte {} of the record", e.valid_up_to()))?;
    sonic_rs::from_str(text).map_err(|e| format!("malformed JSON: {e}"))
}

fn dispatch(
    frame: &mut Frame,
    range: Range<usize>,
    value: Value,
    hint: Hint,
    envelope: Option<&Value>,
    cx: &mut Emitter,
) -> Format {
    match classify(&value, hint) {
        Shape::Record(source) => {
            record(frame, &range, source, value, envelope, cx);
            Format::JsonRecord
        }
        Shape::Wrapper(wrapper) => {
            read_wrapper(frame, range.start, wrapper, cx);
            wrapper.format()
        }
        Shape::Envelope => {
            eventbridge(frame, &range, &value, cx);
            Format::EventBridge
        }
        Shape::LookupEntry => {
            lookup_entry(frame, &range, &value, cx);
            Format::LookupEvents
        }
        Shape::Digest => {
            cx.skip(DIGEST_NOTE);
            Format::CloudTrailDigest
        }
        Shape::Unknown(reason) => {
            frame.reject(&range, reason, cx);
            Format::Unknown
        }
    }
}

/// Validates a record of `source` and delivers it as an event.
fn record(
    frame: &mut Frame,
    range: &Range<usize>,
    source: LogSource,
    doc: Value,
    envelope: Option<&Value>,
    cx: &mut Emitter,
) {
    let checked = match validate::check_record(source, &doc) {
        Ok(checked) => checked,
        Err(reason) => return frame.reject(range, reason, cx),
    };
    let event = checked.event(doc, cx.origin(frame.record(cx)));
    cx.event(match envelope {
        Some(envelope) => event.with_envelope(envelope.clone()),
        None => event,
    });
}

/// Reads every element of the wrapper array in the object at `open`.
pub(crate) fn read_wrapper(frame: &mut Frame, open: usize, wrapper: Wrapper, cx: &mut Emitter) {
    if let Some((_, array)) = scan::find_key(frame.bytes, open, Wrapper::KEYS) {
        read_array(frame, array, wrapper.hint(), cx);
    }
}

/// Reads every element of the array whose `[` is at `open`, each as a record of `hint`:
/// through the fast path as far as it goes, then split element by element.
pub(crate) fn read_array(frame: &mut Frame, open: usize, hint: Hint, cx: &mut Emitter) {
    let Some(done) = fast::read_records(frame, open, hint, cx) else {
        return;
    };
    for element in Elements::new(frame.bytes, open).skip(done) {
        match element {
            Ok(range) => {
                read_value(frame, range, hint, None, cx);
            }
            Err(error) => return structure_broken(frame, error, cx),
        }
    }
}

/// Reports that the rest of a document cannot be split into records.
fn structure_broken(frame: &mut Frame, error: ScanError, cx: &mut Emitter) {
    let at = match error {
        ScanError::UnexpectedEnd if frame.truncated => return,
        ScanError::UnexpectedEnd => frame.bytes.len(),
        ScanError::Unexpected { at, .. } => at,
    };
    let spot = frame.spot(at, cx);
    let raw = frame.bytes.get(at..).unwrap_or_default();
    let reason = format!("{error}; the rest of the document cannot be read");
    cx.reject(spot, reason.clone(), raw);
    cx.report.error = Some(reason);
}

/// Delivers the record in an EventBridge envelope (or the findings of a Security Hub
/// envelope), keeping the envelope without `detail`.
fn eventbridge(frame: &mut Frame, range: &Range<usize>, value: &Value, cx: &mut Emitter) {
    let detail_type = value
        .get("detail-type")
        .and_then(|v| v.as_str())
        .unwrap_or("");
    let hint = match detail_type {
        t if CLOUDTRAIL_DETAIL_TYPES.contains(&t) => Hint::CloudTrail,
        "GuardDuty Finding" => Hint::Source(LogSource::GuardDuty),
        "Trusted Advisor Check Item Refresh Notification" => {
            Hint::Source(LogSource::TrustedAdvisor)
        }
        "Security Hub Findings - Imported" => Hint::Source(LogSource::SecurityHub),
        other => {
            let reason = format!("unsupported EventBridge detail-type {other:?}");
            return frame.reject(range, reason, cx);
        }
    };
    let (Some((_, detail)), Some(envelope)) = (
        scan::find_key(frame.bytes, range.start, &["detail"]),
        without_key(frame.bytes, range.start, "detail"),
    ) else {
        return frame.reject(range, "malformed EventBridge envelope", cx);
    };
    if hint == Hint::Source(LogSource::SecurityHub) {
        return security_hub_findings(frame, range, detail, &envelope, cx);
    }
    let Ok(end) = scan::value_end(frame.bytes, detail) else {
        return frame.reject(range, "malformed EventBridge envelope", cx);
    };
    read_value(frame, detail..end, hint, Some(&envelope), cx);
}

fn security_hub_findings(
    frame: &mut Frame,
    range: &Range<usize>,
    detail: usize,
    envelope: &Value,
    cx: &mut Emitter,
) {
    let Some((_, findings)) = scan::find_key(frame.bytes, detail, &["findings"]) else {
        return frame.reject(range, "field detail.findings: missing", cx);
    };
    if frame.bytes.get(findings) != Some(&b'[') {
        return frame.reject(range, "field detail.findings: expected array", cx);
    }
    let hint = Hint::Source(LogSource::SecurityHub);
    for element in Elements::new(frame.bytes, findings) {
        match element {
            Ok(finding) => {
                read_value(frame, finding, hint, Some(envelope), cx);
            }
            Err(error) => return frame.reject(range, error.to_string(), cx),
        }
    }
}

/// Delivers the record in the `CloudTrailEvent` string of a `lookup-events` entry, keeping
/// the rest of the entry as the envelope.
fn lookup_entry(frame: &mut Frame, range: &Range<usize>, value: &Value, cx: &mut Emitter) {
    let inner = value
        .get("CloudTrailEvent")
        .and_then(|v| v.as_str())
        .unwrap_or("");
    let doc: Value = match sonic_rs::from_str(inner) {
        Ok(doc) => doc,
        Err(e) => {
            return frame.reject(
                range,
                format!("field CloudTrailEvent: malformed JSON: {e}"),
                cx,
            )
        }
    };
    let Some(envelope) = without_key(frame.bytes, range.start, "CloudTrailEvent") else {
        return frame.reject(range, "malformed lookup-events entry", cx);
    };
    record(
        frame,
        range,
        LogSource::CloudTrail,
        doc,
        Some(&envelope),
        cx,
    );
}

/// The object at `open` without its top-level `key`, parsed: copies the other entries as
/// written, so their order is kept.
fn without_key(bytes: &[u8], open: usize, key: &str) -> Option<Value> {
    let mut text = Vec::with_capacity(256);
    text.push(b'{');
    for entry in Entries::new(bytes, open) {
        let (name, value) = entry.ok()?;
        let raw_name = bytes.get(name.clone())?;
        if raw_name.get(1..raw_name.len() - 1) == Some(key.as_bytes()) {
            continue;
        }
        let end = scan::value_end(bytes, value).ok()?;
        if text.len() > 1 {
            text.push(b',');
        }
        text.extend_from_slice(raw_name);
        text.push(b':');
        text.extend_from_slice(bytes.get(value..end)?);
    }
    text.push(b'}');
    sonic_rs::from_slice(&text).ok()
}
