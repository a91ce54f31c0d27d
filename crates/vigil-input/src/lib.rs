//! vigil-input reads every AWS log format vigil understands into [`vigil_event::Event`]s,
//! detecting each input's format from its content (never its name), gunzipping on the fly,
//! and rejecting bad records with a reason and a position while the rest is still read.
//!
//! Formats: CloudTrail log files (`{"Records": [...]}`, plain or gzip), CloudTrail digest
//! files (skipped with a note), JSON Lines and JSON arrays of records, single records,
//! `aws cloudtrail lookup-events` output, EventBridge envelopes (CloudTrail, GuardDuty,
//! Security Hub, Trusted Advisor), Trusted Advisor check items, GuardDuty `get-findings`
//! output, ASFF findings, CloudTrail Insights, VPC Flow Logs (default and custom formats) and
//! S3 server access logs.
//!
//! Main items: [`expand`] turns command-line paths into [`Input`]s; [`read_input`] (or
//! [`read_bytes`]) streams one input into a [`RecordSink`] and returns its [`FileReport`],
//! in which `records_read == events + rejected`; a [`Reject`] says where and why a record was
//! refused, and [`RejectsWriter`] keeps them in a JSON Lines file. [`ReadOptions`] bounds
//! record and document sizes.
//!
//! ```
//! use vigil_input::{read_bytes, Collected, Format, ReadOptions};
//!
//! let jsonl = br#"{"eventVersion":"1.08","eventSource":"iam.amazonaws.com","eventName":"CreateUser","eventTime":"2024-01-01T00:00:00Z"}
//! {"eventVersion":"1.08","eventName":5}
//! "#;
//! let mut sink = Collected::default();
//! let report = read_bytes("example.jsonl", jsonl, &ReadOptions::default(), &mut sink);
//! assert_eq!(report.format, Format::JsonLines);
//! assert_eq!((report.records_read, report.events, report.rejected), (2, 1, 1));
//! assert_eq!(sink.events[0].common().action, Some("CreateUser"));
//! assert_eq!(sink.rejects[0].line, Some(2));
//! assert_eq!(sink.rejects[0].reason, "field eventName: expected string, found number");
//! ```
//!
//! Memory does not grow with the input: JSON Lines and text logs are read line by line; a
//! JSON document is held once (up to [`ReadOptions::max_document_bytes`]) and its records
//! are parsed one at a time from it.

mod emit;
mod error;
mod expand;
mod fast;
mod flow;
mod frame;
mod gunzip;
mod json;
mod read;
mod records;
mod rejects;
mod report;
mod s3_access;
mod scan;
mod shape;
mod source;
mod split;
mod text;
mod validate;

pub use error::InputError;
pub use expand::{expand, Input, REJECTS_FILE_SUFFIX};
pub use gunzip::inflate;
pub use read::{read_bytes, read_input};
pub use rejects::RejectsWriter;
pub use report::{Collected, FileReport, Format, ReadOptions, RecordSink, Reject};
