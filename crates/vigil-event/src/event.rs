use std::ops::ControlFlow;
use std::sync::Arc;

use sonic_rs::Value;

use crate::path::{FieldLookup, FieldPath};
use crate::{time, LogSource};

/// Where a record was read: the input's name and the record's 1-based position in it (for
/// line formats the line number, for JSON documents the index of the record).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Origin {
    /// File path as given (or `-` for standard input).
    pub file: Arc<str>,
    /// 1-based record position within the file.
    pub record: u64,
}

impl Origin {
    /// An origin for record `record` of `file`.
    pub fn new(file: impl Into<Arc<str>>, record: u64) -> Self {
        Origin {
            file: file.into(),
            record,
        }
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.record)
    }
}

/// One normalised event: the original record, where it came from, and its time.
///
/// `doc` is the record itself — for a CloudTrail event delivered through EventBridge it is the
/// CloudTrail record taken out of `detail`, so the same rules match it wherever it came from;
/// the rest of the wrapper is kept in `envelope`. Text records (flow logs, S3 access logs) are
/// turned into a JSON object keyed by the documented field names and keep their line in
/// `text`.
#[derive(Debug, Clone)]
pub struct Event {
    /// Which telemetry this is.
    pub source: LogSource,
    /// The record.
    pub doc: Value,
    /// The wrapper the record arrived in (EventBridge envelope without `detail`, the
    /// `lookup-events` entry without `CloudTrailEvent`), when there was one.
    pub envelope: Option<Box<Value>>,
    /// The original text line, for text formats.
    pub text: Option<Box<str>>,
    /// Event time in milliseconds since the Unix epoch, when the record has one.
    pub time_ms: Option<i64>,
    /// Where the record was read.
    pub origin: Origin,
}

impl Event {
    /// Builds an event and reads its time from the field the source keeps it in.
    pub fn new(source: LogSource, doc: Value, origin: Origin) -> Self {
        let time_ms = time::event_time_ms(source, &doc);
        Event {
            source,
            doc,
            envelope: None,
            text: None,
            time_ms,
            origin,
        }
    }

    /// Builds an event whose time the caller has already read from the record (as
    /// [`Event::new`] would: input validation parses it anyway), to save reading it twice.
    pub fn with_time(source: LogSource, doc: Value, origin: Origin, time_ms: Option<i64>) -> Self {
        Event {
            source,
            doc,
            envelope: None,
            text: None,
            time_ms,
            origin,
        }
    }

    /// Attaches the wrapper the record arrived in; its `time` fills a missing event time.
    pub fn with_envelope(mut self, envelope: Value) -> Self {
        if self.time_ms.is_none() {
            self.time_ms = time::envelope_time_ms(&envelope);
        }
        self.envelope = Some(Box::new(envelope));
        self
    }

    /// Attaches the original text line.
    pub fn with_text(mut self, text: impl Into<Box<str>>) -> Self {
        self.text = Some(text.into());
        self
    }

    /// The original record as JSON text (for evidence samples and rejects).
    pub fn record_json(&self) -> String {
        let mut text = Vec::new();
        match self.write_record_json(&mut text) {
            // sonic-rs writes only UTF-8.
            Ok(()) => String::from_utf8(text).unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// Appends the record as JSON text to `out`: [`Event::record_json`] into a buffer the
    /// caller reuses (the text grows by doubling from nothing otherwise, and
    /// `Value`'s `Display` copies it once more).
    pub fn write_record_json(&self, out: &mut Vec<u8>) -> Result<(), sonic_rs::Error> {
        sonic_rs::to_writer(out, &self.doc)
    }
}

impl FieldLookup for Event {
    fn for_each_value<'a>(
        &'a self,
        path: &FieldPath,
        visit: &mut dyn FnMut(&'a Value) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        self.doc.for_each_value(path, visit)
    }
}
