//! Delivering what an input yields: events and rejects go to the sink, counted, each with
//! its position.

use std::sync::Arc;

use vigil_event::{Event, Origin};

use crate::{FileReport, Format, ReadOptions, RecordSink, Reject};

/// Where a record is: what a reject reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Spot {
    pub(crate) record: u64,
    pub(crate) line: Option<u64>,
    pub(crate) byte_offset: Option<u64>,
}

/// The reading of one input in progress: the sink, the options and the counts.
pub(crate) struct Emitter<'s> {
    pub(crate) file: Arc<str>,
    pub(crate) opts: &'s ReadOptions,
    sink: &'s mut dyn RecordSink,
    pub(crate) report: FileReport,
}

impl<'s> Emitter<'s> {
    pub(crate) fn new(file: Arc<str>, opts: &'s ReadOptions, sink: &'s mut dyn RecordSink) -> Self {
        let report = FileReport {
            input: Arc::clone(&file),
            format: Format::Unknown,
            compressed: false,
            records_read: 0,
            events: 0,
            rejected: 0,
            skipped: None,
            error: None,
        };
        Emitter {
            file,
            opts,
            sink,
            report,
        }
    }

    /// The origin of record `record` of this input.
    pub(crate) fn origin(&self, record: u64) -> Origin {
        Origin::new(Arc::clone(&self.file), record)
    }

    /// Delivers an event.
    pub(crate) fn event(&mut self, event: Event) {
        self.report.records_read += 1;
        self.report.events += 1;
        self.sink.event(event);
    }

    /// Whether the sink wants only some records.
    pub(crate) fn is_selective(&self) -> bool {
        self.sink.is_selective()
    }

    /// Whether the sink wants record `record`.
    pub(crate) fn wants(&self, record: u64) -> bool {
        self.sink.wants(record)
    }

    /// The last record the sink wants, if it says.
    pub(crate) fn last_wanted(&self) -> Option<u64> {
        self.sink.last_wanted()
    }

    /// Counts a record the sink did not want as read, without delivering it.
    pub(crate) fn pass(&mut self) {
        self.report.records_read += 1;
        self.report.events += 1;
    }

    /// Delivers a reject of the record at `spot` whose text starts with `raw`.
    pub(crate) fn reject(&mut self, spot: Spot, reason: impl Into<String>, raw: &[u8]) {
        self.report.records_read += 1;
        self.report.rejected += 1;
        self.sink.reject(Reject {
            file: Arc::clone(&self.file),
            record: spot.record,
            line: spot.line,
            byte_offset: spot.byte_offset,
            reason: reason.into(),
            excerpt: excerpt(raw),
        });
    }

    /// Records that reading stopped early, and rejects at `spot` so that it is in the
    /// rejects file too.
    pub(crate) fn fail(&mut self, spot: Spot, reason: String) {
        self.reject(spot, reason.clone(), b"");
        self.report.error = Some(reason);
    }

    /// Notes why (part of) the input was skipped.
    pub(crate) fn skip(&mut self, note: &str) {
        self.report.skipped.get_or_insert_with(|| note.to_string());
    }

    /// The number the next record in a JSON document gets.
    pub(crate) fn next_record(&self) -> u64 {
        self.report.records_read + 1
    }
}

/// At most [`Reject::EXCERPT_BYTES`] bytes of `raw` as valid UTF-8 (invalid bytes replaced).
pub(crate) fn excerpt(raw: &[u8]) -> String {
    let head = raw.get(..Reject::EXCERPT_BYTES).unwrap_or(raw);
    let mut text = String::from_utf8_lossy(head).into_owned();
    let mut cut = text.len().min(Reject::EXCERPT_BYTES);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text.truncate(cut);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_are_short_valid_utf8() {
        let long = "é".repeat(300);
        let cut = excerpt(long.as_bytes());
        assert!(cut.len() <= Reject::EXCERPT_BYTES);
        assert_eq!(cut.len(), 256);
        let invalid = excerpt(b"ab\xffcd");
        assert_eq!(invalid, "ab\u{fffd}cd");
        let replaced = excerpt(&[0xff; 300]);
        assert!(replaced.len() <= Reject::EXCERPT_BYTES && replaced.starts_with('\u{fffd}'));
    }
}
