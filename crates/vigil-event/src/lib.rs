//! The bottom of vigil: one normalised [`Event`] for every kind of AWS security telemetry, and
//! the [`FieldLookup`] trait that rule engines read fields through.
//!
//! An event keeps its original record (a parsed JSON document, plus the original text line for
//! text formats such as VPC Flow Logs) and exposes any field by dotted path without copying
//! the document. Common fields — time, account, region, service, action, principal, source IP,
//! user agent, error code, resources — are computed on demand by [`Event::common`], borrowing
//! from the document, so the hot path pays only for what a matched rule or a finding reads.
//!
//! Main types: [`Event`], [`LogSource`], [`FieldPath`], [`FieldLookup`], [`Common`],
//! [`Origin`], and [`KeyedEvent`] (an event with its top-level keys hashed, for evaluating
//! many rules on it; [`KeyBuffer`] keeps its table's storage from one event to the next).
//!
//! ```
//! use vigil_event::{Event, FieldLookup, FieldPath, LogSource, Origin};
//!
//! let doc = sonic_rs::from_str(r#"{"eventSource":"iam.amazonaws.com","eventName":"CreateUser",
//!     "recipientAccountId":"123456789012","userIdentity":{"type":"Root"}}"#).unwrap();
//! let event = Event::new(LogSource::CloudTrail, doc, Origin::new("example.json", 1));
//! let path = FieldPath::new("userIdentity.type");
//! assert_eq!(event.first_str(&path), Some("Root"));
//! assert_eq!(event.common().action, Some("CreateUser"));
//! assert_eq!(event.common().service, Some("iam"));
//! ```
//!
//! The JSON representation is `sonic_rs::Value`: it is the fastest DOM available to Rust on
//! x86-64 and the whole engine is built to stay near the speed of parsing (see
//! BENCHMARKS.md). Rule engines see it only through `&Value` borrowed from an event.

mod common;
mod event;
mod keyed;
mod path;
mod source;
pub mod time;

pub use common::{Common, Principal};
pub use event::{Event, Origin};
pub use keyed::{KeyBuffer, KeyedEvent};
pub use path::{FieldLookup, FieldPath};
pub use source::LogSource;

/// The JSON value type events are made of.
pub use sonic_rs::Value;
