//! What reading one input produces besides events: the per-file report, rejected records,
//! the options, and the sink that receives both.

use std::sync::Arc;

use serde::Serialize;
use vigil_event::Event;

/// Limits applied while reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadOptions {
    /// A record larger than this is rejected without being parsed (default 16 MiB).
    pub max_record_bytes: usize,
    /// A JSON document that is not JSON Lines (a CloudTrail log file, a JSON array, a
    /// `get-findings` response) is held in memory while its records are read; a larger one is
    /// rejected whole (default 1 GiB). JSON Lines and text logs are streamed line by line and
    /// are not limited by this.
    pub max_document_bytes: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            max_record_bytes: 16 << 20,
            max_document_bytes: 1 << 30,
        }
    }
}

/// The shape of an input, detected from its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Not recognised (or empty).
    Unknown,
    /// A CloudTrail log file, `{"Records": [...]}`.
    CloudTrailLogFile,
    /// A CloudTrail digest file (skipped).
    CloudTrailDigest,
    /// `aws cloudtrail lookup-events` output, `{"Events": [...]}`.
    LookupEvents,
    /// A `{"Findings": [...]}` / `{"findings": [...]}` response (GuardDuty or ASFF).
    Findings,
    /// One JSON value per line.
    JsonLines,
    /// A JSON array of records or envelopes.
    JsonArray,
    /// A single EventBridge envelope.
    EventBridge,
    /// A single record object (CloudTrail, finding or Trusted Advisor check item).
    JsonRecord,
    /// VPC Flow Logs, default or custom format.
    VpcFlowLog,
    /// S3 server access logs.
    S3AccessLog,
}

/// The outcome of reading one input. Invariant: `records_read == events + rejected`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileReport {
    /// The input's name, as in every event's origin and every reject (`-` for stdin).
    pub input: Arc<str>,
    /// The detected format.
    pub format: Format,
    /// Whether the input was gzip-compressed.
    pub compressed: bool,
    /// Records seen: every one became an event or a reject.
    pub records_read: u64,
    /// Events delivered to the sink.
    pub events: u64,
    /// Rejects delivered to the sink.
    pub rejected: u64,
    /// Why the input (or part of it) was deliberately not read, such as a digest file.
    pub skipped: Option<String>,
    /// Why reading stopped before the end (I/O error, corrupt gzip, unreadable JSON). The
    /// same problem is also delivered as a reject so that it reaches the rejects file.
    pub error: Option<String>,
}

/// A record that could not become an event, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reject {
    /// The input's name.
    pub file: Arc<str>,
    /// 1-based record position: the line number for line formats, the index of the record
    /// for JSON documents.
    pub record: u64,
    /// 1-based line number of the record's start, when known.
    pub line: Option<u64>,
    /// Byte offset of the record's start in the (decompressed) input, when known.
    pub byte_offset: Option<u64>,
    /// Why the record was rejected.
    pub reason: String,
    /// The start of the record, at most [`Reject::EXCERPT_BYTES`] bytes of valid UTF-8.
    pub excerpt: String,
}

impl Reject {
    /// The longest excerpt kept.
    pub const EXCERPT_BYTES: usize = 256;
}

/// Receives what an input yields, in input order.
pub trait RecordSink {
    /// One event.
    fn event(&mut self, event: Event);
    /// One rejected record.
    fn reject(&mut self, reject: Reject);
    /// Whether the sink wants only some records of an input (see [`RecordSink::wants`]):
    /// reading evidence records back by position. Default: no, every record is delivered.
    fn is_selective(&self) -> bool {
        false
    }
    /// For a selective sink, whether it wants record `record` (1-based, as in
    /// [`vigil_event::Origin`]). Records of a JSON document it does not want are skipped
    /// without being parsed: they are counted in `records_read` and `events` of the report
    /// but neither validated nor delivered. Line formats are always delivered in full.
    fn wants(&self, _record: u64) -> bool {
        true
    }
    /// For a selective sink, the last record of the input it wants, when it knows it: the
    /// rest of a JSON document past that record is not even split (those records are neither
    /// counted nor delivered). Default: no limit.
    fn last_wanted(&self) -> Option<u64> {
        None
    }
}

/// A sink that keeps everything in memory: for tests and small inputs.
#[derive(Debug, Default)]
pub struct Collected {
    /// The events, in input order.
    pub events: Vec<Event>,
    /// The rejects, in input order.
    pub rejects: Vec<Reject>,
}

impl RecordSink for Collected {
    fn event(&mut self, event: Event) {
        self.events.push(event);
    }

    fn reject(&mut self, reject: Reject) {
        self.rejects.push(reject);
    }
}
